//! Signing in: the password, the code or passkey that follows it (or a passkey alone),
//! re-authentication and sign-out.

use axum::Router;
use axum::routing::{get, post};

use crate::AppState;

pub(crate) mod api;
pub(crate) mod pages;
pub(crate) mod passkeys;

/// Its JSON API, under `/api/v1`.
pub(crate) fn api_routes() -> Router<AppState> {
    Router::new()
        .route("/session", post(api::sign_in).delete(api::sign_out))
        .route("/session/reauthenticate", post(api::reauthenticate))
        .route("/session/verify", post(api::verify))
        .route("/session/resend", post(api::resend))
        .route("/session/passkey/options", post(api::passkey_options))
        .route("/session/passkey", post(api::passkey_sign_in))
}

/// Its pages.
pub(crate) fn page_routes() -> Router<AppState> {
    Router::new()
        .route(
            "/sign-in",
            get(pages::show_sign_in).post(pages::submit_sign_in),
        )
        .route(
            "/sign-out",
            get(pages::show_sign_out).post(pages::submit_sign_out),
        )
        .route(
            "/sign-in/code",
            get(pages::show_code).post(pages::submit_code),
        )
        .route("/sign-in/code/resend", post(pages::submit_code_resend))
        .route("/sign-in/passkey", post(passkeys::submit_passkey))
}
