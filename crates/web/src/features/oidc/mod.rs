//! Signing in to other applications (OpenID Connect): discovery, the authorization endpoint
//! and the request that waits while its person signs in, the token, userinfo, revocation and
//! introspection endpoints, logout, and the keys relying parties check latch's signatures with.

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::AppState;

mod again;
pub(crate) mod authorize;
mod discovery;
mod keys;
mod logout;
mod revocation;
mod token;
mod userinfo;

pub(crate) use authorize::{Continuing, FormActionToo, landing};

/// What relying parties call: no latch cookie is needed, and other sites may call them.
pub fn routes() -> Router<AppState> {
    let called_by_applications = Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(discovery::openid_configuration),
        )
        .route("/oidc/jwks", get(keys::jwks))
        .route("/oidc/token", post(token::token))
        .route("/oidc/revoke", post(revocation::revoke))
        .route("/oidc/introspect", post(revocation::introspect))
        .route(
            "/oidc/userinfo",
            get(userinfo::userinfo).post(userinfo::userinfo),
        )
        .layer(axum::middleware::from_fn(open_to_other_sites));
    Router::new()
        .route(
            "/oidc/authorize",
            get(authorize::authorize).post(authorize::authorize),
        )
        .route(authorize::CONTINUE_PATH, get(authorize::resume))
        .route("/oidc/logout", get(logout::logout).post(logout::logout))
        .merge(called_by_applications)
}

/// The pages of a sign-in an application waits for.
pub(crate) fn page_routes() -> Router<AppState> {
    Router::new().route("/sign-in/again", get(again::show).post(again::submit))
}

/// A single-page application calls these from its own origin. They read no cookie, so any
/// origin may (CORS without credentials); a preflight is answered here.
async fn open_to_other_sites(request: Request, next: Next) -> Response {
    let preflight = request.method() == Method::OPTIONS;
    let mut response = if preflight {
        StatusCode::NO_CONTENT.into_response()
    } else {
        next.run(request).await
    };
    let h = response.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    if preflight {
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("Authorization, Content-Type"),
        );
        h.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        );
    }
    response
}
