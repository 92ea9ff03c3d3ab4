//! The development outboxes: the texts, calls and emails latch kept instead of sending.

use axum::Router;
use axum::routing::get;

use crate::AppState;

pub(crate) mod api;
pub(crate) mod pages;

/// Its JSON API, under `/api/v1`.
pub(crate) fn api_routes() -> Router<AppState> {
    Router::new()
        .route("/dev/outbox", get(api::outbox))
        .route("/dev/email-outbox", get(api::email_outbox))
}

/// Its pages.
pub(crate) fn page_routes() -> Router<AppState> {
    Router::new().route("/dev/outbox", get(pages::show_outbox))
}
