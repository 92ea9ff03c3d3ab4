//! The development outbox: the texts and calls latch kept instead of sending.

use axum::Router;
use axum::routing::get;

use crate::AppState;

pub(crate) mod api;
pub(crate) mod pages;

/// Its JSON API, under `/api/v1`.
pub(crate) fn api_routes() -> Router<AppState> {
    Router::new().route("/dev/outbox", get(api::outbox))
}

/// Its pages.
pub(crate) fn page_routes() -> Router<AppState> {
    Router::new().route("/dev/outbox", get(pages::show_outbox))
}
