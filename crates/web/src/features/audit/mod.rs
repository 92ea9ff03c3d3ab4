//! The practice's audit trail: read, filtered and exported.

use axum::Router;
use axum::routing::get;

use crate::AppState;

pub(crate) mod api;
pub(crate) mod pages;

/// Its JSON API, under `/api/v1`.
pub(crate) fn api_routes() -> Router<AppState> {
    Router::new()
        .route("/practice/audit", get(api::audit))
        .route("/practice/audit.csv", get(api::audit_csv))
}

/// Its pages.
pub(crate) fn page_routes() -> Router<AppState> {
    Router::new().route("/practice/audit", get(pages::show_audit))
}
