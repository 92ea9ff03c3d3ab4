//! Signing in to other applications (OpenID Connect): the endpoints relying parties call. So
//! far the keys they check latch's signatures with (`/oidc/jwks`).

use axum::Router;
use axum::routing::get;

use crate::AppState;

mod keys;

pub fn routes() -> Router<AppState> {
    Router::new().route("/oidc/jwks", get(keys::jwks))
}
