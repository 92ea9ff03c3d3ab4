//! A forgotten password through the JSON API.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use latch_app::Secret;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiJson, Client};

#[derive(Deserialize, ToSchema)]
pub struct PasswordResetRequest {
    #[schema(max_length = 254)]
    pub email: String,
}

#[derive(Serialize, ToSchema)]
pub struct PasswordResetAsked {
    /// The same sentence whether or not the address is anyone's.
    pub message: String,
}

/// Asks for a password reset link. The answer, and the time it takes, are the same whether or
/// not the address belongs to anyone; a known one is emailed a link that works once, for an
/// hour.
#[utoipa::path(post, path = "/api/v1/password-reset", request_body = PasswordResetRequest, tag = "password reset",
    responses((status = 202, body = PasswordResetAsked), (status = 400, description = "invalid_email", body = ErrorBody)))]
pub async fn request_reset(
    State(state): State<AppState>,
    Client(client): Client,
    ApiJson(body): ApiJson<PasswordResetRequest>,
) -> Result<Response, ApiError> {
    state.latch.recovery.request(&body.email, &client).await?;
    let message = crate::words::RESET_ASKED.to_owned();
    Ok((StatusCode::ACCEPTED, Json(PasswordResetAsked { message })).into_response())
}

#[derive(Deserialize, ToSchema)]
pub struct PasswordResetConfirm {
    /// The token of the emailed link.
    #[schema(max_length = 200)]
    pub token: String,
    pub new_password: String,
}

/// Sets a new password with a reset link's token: every session, remembered browser and
/// application token of the person ends, and a notice goes out. Nobody is signed in by it.
#[utoipa::path(post, path = "/api/v1/password-reset/confirm", request_body = PasswordResetConfirm, tag = "password reset",
    responses((status = 204), (status = 400, description = "invalid_token or weak_password", body = ErrorBody)))]
pub async fn confirm_reset(
    State(state): State<AppState>,
    Client(client): Client,
    ApiJson(body): ApiJson<PasswordResetConfirm>,
) -> Result<Response, ApiError> {
    let password = Secret::new(body.new_password);
    state
        .latch
        .recovery
        .confirm(&body.token, &password, &client)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
