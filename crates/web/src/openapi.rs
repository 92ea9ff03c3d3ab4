//! The OpenAPI document, generated from the handlers' annotations and the shapes they use.

use axum::Json;
use utoipa::OpenApi;

use crate::api;
use crate::error::{ErrorBody, ErrorDetail};

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
    ),
    components(schemas(ErrorBody, ErrorDetail))
)]
pub struct ApiDoc;

pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
