//! A person's own account: the dashboard, My Profile, the email and password, sessions and
//! remembered devices.

use axum::Router;
use axum::routing::{delete, get, post, put};

use crate::AppState;

pub(crate) mod api;
pub(crate) mod pages;

/// Its JSON API, under `/api/v1`.
pub(crate) fn api_routes() -> Router<AppState> {
    Router::new()
        .route("/me", get(api::me))
        .route("/me/password", put(api::change_password))
        .route("/me/email", put(api::change_email))
        .route("/me/email/confirm", post(api::confirm_email))
        .route("/me/sessions", get(api::my_sessions))
        .route("/me/sessions/{id}", delete(api::end_my_session))
        .route(
            "/me/devices",
            get(api::devices).delete(api::forget_all_devices),
        )
        .route("/me/devices/{id}", delete(api::forget_device))
}

/// Its pages.
pub(crate) fn page_routes() -> Router<AppState> {
    Router::new()
        .route("/dashboard", get(pages::show_dashboard))
        .route("/profile", get(pages::show_profile))
        .route("/profile/password", post(pages::submit_password))
        .route("/profile/email", post(pages::submit_email))
        .route(
            "/email/confirm/{token}",
            get(pages::show_confirm_email).post(pages::submit_confirm_email),
        )
        .route(
            "/profile/sessions/{id}/end",
            post(pages::submit_end_session),
        )
        .route(
            "/profile/devices/{id}/forget",
            post(pages::submit_forget_device),
        )
        .route(
            "/profile/devices/forget-all",
            post(pages::submit_forget_all_devices),
        )
}
