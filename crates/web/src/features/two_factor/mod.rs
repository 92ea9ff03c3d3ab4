//! Two-factor of one's own: turning it on, changing its phone or method, turning it off.

use axum::Router;
use axum::routing::{delete, get, post};

use crate::AppState;

pub(crate) mod api;
pub(crate) mod pages;

/// Its JSON API, under `/api/v1`.
pub(crate) fn api_routes() -> Router<AppState> {
    Router::new()
        .route("/me/two-factor", delete(api::turn_off))
        .route("/me/two-factor/setup", post(api::start_setup))
        .route("/me/two-factor/setup/resend", post(api::resend_setup))
        .route("/me/two-factor/setup/confirm", post(api::confirm_setup))
}

/// Its pages.
pub(crate) fn page_routes() -> Router<AppState> {
    Router::new()
        .route("/profile/two-factor", get(pages::show_setup))
        .route(
            "/profile/two-factor/password",
            post(pages::submit_password_step),
        )
        .route("/profile/two-factor/setup", post(pages::submit_setup))
        .route(
            "/profile/two-factor/confirm",
            get(pages::show_confirm).post(pages::submit_confirm),
        )
        .route(
            "/profile/two-factor/resend",
            post(pages::submit_setup_resend),
        )
        .route("/profile/two-factor/done", get(pages::show_done))
        .route(
            "/profile/two-factor/off",
            get(pages::show_turn_off).post(pages::submit_turn_off),
        )
}
