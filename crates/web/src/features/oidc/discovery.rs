//! Discovery (OpenID Connect Discovery 1.0 §3): where a relying party finds every endpoint and
//! what latch supports, from the issuer alone.

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use latch_domain::authorization::SCOPES;
use serde_json::json;

use super::authorize::issuer;
use crate::AppState;

pub async fn openid_configuration(State(state): State<AppState>) -> Response {
    let issuer = issuer(&state);
    let at = |path: &str| format!("{issuer}{path}");
    let document = json!({
        "issuer": issuer,
        "authorization_endpoint": at("/oidc/authorize"),
        "token_endpoint": at("/oidc/token"),
        "userinfo_endpoint": at("/oidc/userinfo"),
        "jwks_uri": at("/oidc/jwks"),
        "end_session_endpoint": at("/oidc/logout"),
        "revocation_endpoint": at("/oidc/revoke"),
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "introspection_endpoint": at("/oidc/introspect"),
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "scopes_supported": SCOPES,
        "claims_supported": [
            "sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "azp", "sid", "amr", "acr",
            "name", "role", "practice", "email", "email_verified",
        ],
        "prompt_values_supported": ["none", "login"],
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "authorization_response_iss_parameter_supported": true,
        "backchannel_logout_supported": true,
        "backchannel_logout_session_supported": true,
    });
    // Relying parties read it once at start; an hour keeps a change quick to reach them.
    (
        [(header::CACHE_CONTROL, "public, max-age=3600")],
        Json(document),
    )
        .into_response()
}
