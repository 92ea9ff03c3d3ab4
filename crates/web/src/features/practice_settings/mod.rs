//! The practice's Security Settings.

use axum::Router;
use axum::routing::get;

use crate::AppState;

pub(crate) mod api;
pub(crate) mod pages;

/// Its JSON API, under `/api/v1`.
pub(crate) fn api_routes() -> Router<AppState> {
    Router::new().route(
        "/practice/security",
        get(api::security).put(api::update_security),
    )
}

/// Its pages.
pub(crate) fn page_routes() -> Router<AppState> {
    Router::new().route(
        "/practice/settings",
        get(pages::show_settings).post(pages::submit_settings),
    )
}
