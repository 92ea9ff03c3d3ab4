//! A forgotten password: asking for a reset link by email, and choosing the new password with it.

use axum::Router;
use axum::routing::{get, post};

use crate::AppState;

pub(crate) mod api;
pub(crate) mod pages;

/// Its JSON API, under `/api/v1`.
pub(crate) fn api_routes() -> Router<AppState> {
    Router::new()
        .route("/password-reset", post(api::request_reset))
        .route("/password-reset/confirm", post(api::confirm_reset))
}

/// Its pages.
pub(crate) fn page_routes() -> Router<AppState> {
    Router::new()
        .route(
            "/password-reset",
            get(pages::show_forgot).post(pages::submit_forgot),
        )
        .route(
            "/password-reset/{token}",
            get(pages::show_reset).post(pages::submit_reset),
        )
}
