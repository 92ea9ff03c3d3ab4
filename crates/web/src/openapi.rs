//! The OpenAPI document, generated from the handlers' annotations and the shapes they use.

use axum::Json;
use utoipa::OpenApi;

use crate::error::{ErrorBody, ErrorDetail};
use crate::{api, api_practice, api_two_factor};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "latch",
        description = "Sign-in and two-factor authentication for therapy practices."
    ),
    paths(
        api::setup,
        api::sign_in,
        api::sign_out,
        api::reauthenticate,
        api::me,
        api::change_password,
        api::my_sessions,
        api::end_my_session,
        api::list_people,
        api::show_person,
        api::add_person,
        api::healthz,
        api::readyz,
        api_two_factor::verify,
        api_two_factor::resend,
        api_two_factor::start_setup,
        api_two_factor::resend_setup,
        api_two_factor::confirm_setup,
        api_two_factor::turn_off,
        api_two_factor::devices,
        api_two_factor::forget_device,
        api_two_factor::forget_all_devices,
        api_two_factor::outbox,
        api_practice::security,
        api_practice::update_security,
        api_practice::reset_two_factor,
        api_practice::unlock,
        api_practice::audit,
        api_practice::audit_csv,
    ),
    components(schemas(ErrorBody, ErrorDetail))
)]
pub struct ApiDoc;

pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
