//! Invitations: the practice's side (inviting, the open invitations, resend and revoke) and the
//! invitee's (the link's page, choosing a password to join).

use axum::Router;
use axum::routing::{get, post};

use crate::AppState;

pub(crate) mod api;
pub(crate) mod pages;

/// Its JSON API, under `/api/v1`.
pub(crate) fn api_routes() -> Router<AppState> {
    Router::new()
        .route("/practice/invitations", get(api::list).post(api::invite))
        .route(
            "/practice/invitations/{id}",
            axum::routing::delete(api::revoke),
        )
        .route("/practice/invitations/{id}/resend", post(api::resend))
        .route("/invitations/{token}", get(api::show))
        .route("/invitations/{token}/accept", post(api::accept))
}

/// Its pages.
pub(crate) fn page_routes() -> Router<AppState> {
    Router::new().route(
        "/invitations/{token}",
        get(pages::show_join).post(pages::submit_join),
    )
}
