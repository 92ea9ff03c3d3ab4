//! The practice's people: the list, inviting people, changing and deactivating them, and an
//! owner's or manager's help (a reset, an unlock, a reset link).

use axum::Router;
use axum::routing::{delete, get, post};

use crate::AppState;

pub(crate) mod api;
pub(crate) mod pages;

/// Its JSON API, under `/api/v1`.
pub(crate) fn api_routes() -> Router<AppState> {
    Router::new()
        .route(
            "/practice/users",
            get(api::list_people).post(api::add_person),
        )
        .route(
            "/practice/users/{id}",
            get(api::show_person).patch(api::change_person),
        )
        .route("/practice/users/{id}/deactivate", post(api::deactivate))
        .route("/practice/users/{id}/reactivate", post(api::reactivate))
        .route(
            "/practice/users/{id}/two-factor",
            delete(api::reset_two_factor),
        )
        .route("/practice/users/{id}/unlock", post(api::unlock))
        .route(
            "/practice/users/{id}/password-reset",
            post(api::send_password_reset),
        )
}

/// Its pages.
pub(crate) fn page_routes() -> Router<AppState> {
    Router::new()
        .route("/team", get(pages::show_team).post(pages::submit_invite))
        .route("/team/{id}", get(pages::show_person))
        .route("/team/{id}/help", post(pages::submit_person_help))
        .route(
            "/team/{id}/password-reset",
            post(pages::submit_password_reset),
        )
        .route("/team/{id}/edit", post(pages::submit_change_person))
        .route("/team/{id}/reactivate", post(pages::submit_reactivate))
        .route(
            "/team/invitations/{id}/resend",
            post(pages::submit_resend_invitation),
        )
        .route(
            "/team/invitations/{id}/revoke",
            post(pages::submit_revoke_invitation),
        )
}
