//! Two-factor of one's own: turning it on, changing its phone or method, an authenticator app,
//! a passkey, recovery codes, the preferred method, removing one, turning it off.

use axum::Router;
use axum::routing::{delete, get, post, put};

use crate::AppState;

pub(crate) mod api;
pub(crate) mod methods;
pub(crate) mod pages;
pub(crate) mod passkeys;

/// Its JSON API, under `/api/v1`.
pub(crate) fn api_routes() -> Router<AppState> {
    Router::new()
        .route("/me/two-factor", delete(api::turn_off))
        .route("/me/two-factor/setup", post(api::start_setup))
        .route("/me/two-factor/setup/resend", post(api::resend_setup))
        .route("/me/two-factor/setup/confirm", post(api::confirm_setup))
        .route("/me/two-factor/totp", post(api::begin_app))
        .route("/me/two-factor/totp/confirm", post(api::confirm_app))
        .route("/me/passkeys/options", post(api::begin_passkey))
        .route("/me/passkeys", post(api::add_passkey))
        .route("/me/two-factor/preferred", put(api::set_preferred))
        .route("/me/two-factor/methods/{id}", delete(api::remove_method))
        .route("/me/recovery-codes", post(api::new_recovery_codes))
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
            "/profile/two-factor/app",
            get(methods::show_app).post(methods::submit_app),
        )
        .route(
            "/profile/two-factor/passkey",
            get(passkeys::show_passkey).post(passkeys::submit_passkey),
        )
        .route(
            "/profile/two-factor/recovery-codes",
            get(methods::show_recovery_codes).post(methods::submit_recovery_codes),
        )
        .route(
            "/profile/two-factor/preferred",
            post(methods::submit_preferred),
        )
        .route(
            "/profile/two-factor/methods/{id}/remove",
            get(methods::show_remove).post(methods::submit_remove),
        )
        .route(
            "/profile/two-factor/off",
            get(pages::show_turn_off).post(pages::submit_turn_off),
        )
}
