//! Two-factor of one's own in the JSON API: setup, its resend and confirmation, and turning it
//! off.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use latch_app::records::Person;
use latch_app::two_factor::SetupInput;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::features::sign_in::api::ResendRequest;
use crate::http::cookies::with_session;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiJson, ApiSession, ApiSetupSession, Client, Session};
use crate::http::json::{CodeSentResponse, TwoFactor};
use crate::http::schema::{ChannelName, SessionStateName};

#[derive(Deserialize, ToSchema)]
pub struct TwoFactorSetupRequest {
    /// E.164, or a national format with `country` beside it.
    pub phone: String,
    /// ISO 3166-1 alpha-2, for a national format.
    #[schema(pattern = "^[A-Za-z]{2}$")]
    pub country: Option<String>,
    /// An office extension, dialled on voice calls.
    pub extension: Option<String>,
    #[schema(value_type = ChannelName)]
    pub channel: String,
}

/// Starts turning two-factor on, or changing its phone or method: sends a code to the phone.
#[utoipa::path(post, path = "/api/v1/me/two-factor/setup", request_body = TwoFactorSetupRequest, tag = "two-factor",
    responses((status = 202, body = CodeSentResponse), (status = 400, description = "invalid_phone, phone_not_allowed or invalid_request", body = ErrorBody),
              (status = 403, description = "reauthentication_required", body = ErrorBody), (status = 429, description = "rate_limited", body = ErrorBody),
              (status = 502, description = "delivery_failed", body = ErrorBody)))]
pub async fn start_setup(
    State(state): State<AppState>,
    Client(client): Client,
    Session(who, _): ApiSetupSession,
    ApiJson(body): ApiJson<TwoFactorSetupRequest>,
) -> Result<Response, ApiError> {
    let input = SetupInput {
        phone: body.phone,
        country: body.country,
        extension: body.extension,
        channel: body.channel,
    };
    let sent = state
        .latch
        .two_factor
        .start_setup(&who, input, &client)
        .await?;
    Ok((StatusCode::ACCEPTED, Json(CodeSentResponse::from(sent))).into_response())
}

/// Sends the setup's code again; no new password needed.
#[utoipa::path(post, path = "/api/v1/me/two-factor/setup/resend", request_body = ResendRequest, tag = "two-factor",
    responses((status = 202, body = CodeSentResponse), (status = 409, description = "no_setup_in_progress", body = ErrorBody),
              (status = 429, description = "rate_limited", body = ErrorBody), (status = 502, description = "delivery_failed", body = ErrorBody)))]
pub async fn resend_setup(
    State(state): State<AppState>,
    Client(client): Client,
    Session(who, _): ApiSetupSession,
    ApiJson(body): ApiJson<ResendRequest>,
) -> Result<Response, ApiError> {
    let sent = state
        .latch
        .two_factor
        .resend_setup(&who, body.channel.as_deref(), &client)
        .await?;
    Ok((StatusCode::ACCEPTED, Json(CodeSentResponse::from(sent))).into_response())
}

#[derive(Deserialize, ToSchema)]
pub struct ConfirmRequest {
    pub code: String,
    /// The method to keep: the one chosen at the setup's start unless given. After a resend
    /// by the other method, that one may be kept instead.
    #[schema(value_type = Option<ChannelName>)]
    pub channel: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ConfirmResponse {
    pub two_factor: TwoFactor,
    /// `signed_in` when the setup was the practice's requirement at sign-in.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<SessionStateName>)]
    pub state: Option<String>,
}

/// Confirms the setup with the code sent to the new phone.
#[utoipa::path(post, path = "/api/v1/me/two-factor/setup/confirm", request_body = ConfirmRequest, tag = "two-factor",
    responses((status = 200, body = ConfirmResponse), (status = 400, description = "invalid_code or code_expired", body = ErrorBody),
              (status = 409, description = "no_setup_in_progress", body = ErrorBody), (status = 403, description = "two_factor_locked", body = ErrorBody),
              (status = 429, description = "rate_limited", body = ErrorBody)))]
pub async fn confirm_setup(
    State(state): State<AppState>,
    Client(client): Client,
    Session(who, _): ApiSetupSession,
    ApiJson(body): ApiJson<ConfirmRequest>,
) -> Result<Response, ApiError> {
    let confirmed = state
        .latch
        .two_factor
        .confirm_setup(&who, &body.code, body.channel.as_deref(), &client)
        .await?;
    let person = Person {
        two_factor: Some(confirmed.setting),
        ..who.account.person.clone()
    };
    let body = ConfirmResponse {
        two_factor: TwoFactor::of(&person, &who.account.practice),
        state: confirmed.signed_in.as_ref().map(|_| "signed_in".to_owned()),
    };
    let response = Json(body).into_response();
    Ok(with_session(
        response,
        &state.config,
        confirmed.signed_in.as_ref(),
    ))
}

/// Turns two-factor off.
#[utoipa::path(delete, path = "/api/v1/me/two-factor", tag = "two-factor",
    responses((status = 204), (status = 403, description = "reauthentication_required", body = ErrorBody),
              (status = 409, description = "two_factor_required_by_practice", body = ErrorBody)))]
pub async fn turn_off(
    State(state): State<AppState>,
    Client(client): Client,
    Session(who, _): ApiSession,
) -> Result<Response, ApiError> {
    state.latch.two_factor.turn_off(&who, &client).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
