//! The first run: the installation's first practice and its owner.

use axum::Router;
use axum::routing::{get, post};

use crate::AppState;

pub(crate) mod api;
pub(crate) mod pages;

/// Its JSON API, under `/api/v1`.
pub(crate) fn api_routes() -> Router<AppState> {
    Router::new().route("/setup", post(api::setup))
}

/// Its pages.
pub(crate) fn page_routes() -> Router<AppState> {
    Router::new()
        .route("/", get(pages::show_home))
        .route("/setup", get(pages::show_setup).post(pages::submit_setup))
}
