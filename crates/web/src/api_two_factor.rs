//! The JSON API of two-factor: the code step of a sign-in, setup, change and turn-off,
//! remembered devices, and the development outbox.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use latch_app::records::Person;
use latch_app::sign_in::CodeAccepted;
use latch_app::two_factor::{CodeSent, SetupInput};
use latch_domain::device::BrowserDevices;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::{TwoFactor, User};
use crate::cookies::{self, with_cookie};
use crate::error::{ApiError, ErrorBody, api_error_response};
use crate::extract::{
    ApiJson, ApiPending, ApiQuery, ApiSession, ApiSetupSession, Browser, Client, DirectLoopback,
    Session,
};
use crate::schema::{ChannelName, SessionStateName};
use crate::{AppState, WebConfig};

#[derive(Deserialize, ToSchema)]
pub struct VerifyCodeRequest {
    /// 8 digits; spaces and dashes are ignored.
    pub code: String,
    /// Remember this browser for the practice's limit (ignored when the limit is 0).
    #[serde(default)]
    pub remember_device: bool,
}

#[derive(Serialize, ToSchema)]
pub struct SignedInResponse {
    #[schema(value_type = SessionStateName)]
    pub state: String,
    pub user: User,
}

#[derive(Deserialize, ToSchema, Default)]
pub struct ResendRequest {
    /// The last method when left out.
    #[schema(value_type = Option<ChannelName>)]
    pub channel: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct CodeSentResponse {
    #[schema(value_type = ChannelName)]
    pub channel: String,
    /// Masked.
    pub phone: String,
    pub code_expires_in: i64,
}

impl From<CodeSent> for CodeSentResponse {
    fn from(c: CodeSent) -> Self {
        CodeSentResponse {
            channel: c.channel.as_str().to_owned(),
            phone: c.phone,
            code_expires_in: c.expires_in,
        }
    }
}

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

#[derive(Deserialize, ToSchema)]
pub struct ConfirmRequest {
    pub code: String,
}

#[derive(Serialize, ToSchema)]
pub struct ConfirmResponse {
    pub two_factor: TwoFactor,
    /// `signed_in` when the setup was the practice's requirement at sign-in.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<SessionStateName>)]
    pub state: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct DeviceView {
    pub id: String,
    /// Browser and system, such as "Chrome on macOS".
    pub label: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub last_used_at: String,
    #[schema(format = DateTime)]
    pub expires_at: String,
    /// Whether this is the browser asking.
    pub current: bool,
}

impl DeviceView {
    /// The person's devices for a page or an answer, marking this browser's.
    pub fn list(
        devices: Vec<latch_app::records::Device>,
        current: Option<&str>,
    ) -> Vec<DeviceView> {
        devices
            .into_iter()
            .map(|d| DeviceView {
                current: current == Some(d.id.as_str()),
                id: d.id,
                label: d.label,
                created_at: d.created_at.to_rfc3339(),
                last_used_at: d.last_used_at.to_rfc3339(),
                expires_at: d.expires_at.to_rfc3339(),
            })
            .collect()
    }
}

#[derive(Serialize, ToSchema)]
pub struct DevicesResponse {
    pub devices: Vec<DeviceView>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OutboxQuery {
    /// Only messages to this number (E.164).
    pub to: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct OutboxMessageView {
    /// Increases with every message.
    pub id: i64,
    /// E.164, whole: the outbox stands in for the phone.
    pub to: String,
    #[schema(value_type = ChannelName)]
    pub channel: String,
    pub body: String,
    /// The code inside, or null for a notice.
    pub code: Option<String>,
    #[schema(format = DateTime)]
    pub sent_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct OutboxResponse {
    pub messages: Vec<OutboxMessageView>,
}

/// Adds the new remembered device to the browser's cookie.
pub fn remember_cookie(
    config: &WebConfig,
    browser: BrowserDevices,
    accepted: &CodeAccepted,
) -> Option<axum::http::HeaderValue> {
    let device = accepted.remembered.as_ref()?;
    let browser = browser.with(&device.tag, device.token.expose());
    Some(cookies::devices(config, &browser, device.max_age_seconds))
}

/// Enters the code of a sign-in; with `remember_device`, the browser is remembered.
#[utoipa::path(post, path = "/api/v1/session/verify", request_body = VerifyCodeRequest, tag = "session",
    responses((status = 200, body = SignedInResponse), (status = 400, description = "invalid_code (with attempts_left) or code_expired", body = ErrorBody),
              (status = 401, description = "not_signed_in", body = ErrorBody), (status = 403, description = "two_factor_locked", body = ErrorBody),
              (status = 429, description = "rate_limited", body = ErrorBody)))]
pub async fn verify(
    State(state): State<AppState>,
    Client(client): Client,
    Session(who, _): ApiPending,
    Browser(browser): Browser,
    ApiJson(body): ApiJson<VerifyCodeRequest>,
) -> Result<Response, ApiError> {
    let accepted = state
        .latch
        .sign_in
        .verify_code(&who, &body.code, body.remember_device, &client)
        .await?;
    let account = &who.account;
    let mut response = with_cookie(
        Json(SignedInResponse {
            state: "signed_in".into(),
            user: User::of(&account.person, &account.practice),
        })
        .into_response(),
        cookies::session(&state.config, accepted.token.expose()),
    );
    if let Some(cookie) = remember_cookie(&state.config, browser, &accepted) {
        response = with_cookie(response, cookie);
    }
    Ok(response)
}

/// Sends the sign-in's code again, possibly by the other method.
#[utoipa::path(post, path = "/api/v1/session/resend", request_body = ResendRequest, tag = "session",
    responses((status = 202, body = CodeSentResponse), (status = 401, description = "not_signed_in", body = ErrorBody),
              (status = 429, description = "rate_limited", body = ErrorBody), (status = 502, description = "delivery_failed", body = ErrorBody)))]
pub async fn resend(
    State(state): State<AppState>,
    Client(client): Client,
    Session(who, _): ApiPending,
    ApiJson(body): ApiJson<ResendRequest>,
) -> Result<Response, ApiError> {
    let sent = state
        .latch
        .two_factor
        .resend_sign_in(&who, body.channel.as_deref(), &client)
        .await?;
    Ok((StatusCode::ACCEPTED, Json(CodeSentResponse::from(sent))).into_response())
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
        .confirm_setup(&who, &body.code, &client)
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
    Ok(match confirmed.signed_in {
        Some(token) => with_cookie(response, cookies::session(&state.config, token.expose())),
        None => response,
    })
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

/// The person's remembered devices.
#[utoipa::path(get, path = "/api/v1/me/devices", tag = "two-factor",
    responses((status = 200, body = DevicesResponse), (status = 401, description = "not_signed_in", body = ErrorBody)))]
pub async fn devices(
    State(state): State<AppState>,
    Session(who, _): ApiSession,
    Browser(browser): Browser,
) -> Result<Json<DevicesResponse>, ApiError> {
    let (devices, current) = state.latch.devices.devices(&who, &browser).await?;
    Ok(Json(DevicesResponse {
        devices: DeviceView::list(devices, current.as_deref()),
    }))
}

/// Forgets one remembered device.
#[utoipa::path(delete, path = "/api/v1/me/devices/{id}", tag = "two-factor", params(("id" = String, Path, description = "A device id")),
    responses((status = 204), (status = 404, description = "not_found", body = ErrorBody)))]
pub async fn forget_device(
    State(state): State<AppState>,
    Client(client): Client,
    Session(who, _): ApiSession,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    state.latch.devices.forget(&who, &id, &client).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Forgets every remembered device.
#[utoipa::path(delete, path = "/api/v1/me/devices", tag = "two-factor", responses((status = 204)))]
pub async fn forget_all_devices(
    State(state): State<AppState>,
    Client(client): Client,
    Session(who, _): ApiSession,
    Browser(browser): Browser,
) -> Result<Response, ApiError> {
    state.latch.devices.forget_all(&who, &client).await?;
    let tag = state.latch.devices.tag_for(&who.account.person.id);
    let days = i64::from(who.account.practice.security.remember_device_days.max(1)) * 86_400;
    Ok(with_cookie(
        StatusCode::NO_CONTENT.into_response(),
        cookies::devices(&state.config, &browser.without(&tag), days),
    ))
}

/// Development only: every text and call the outbox kept, newest first. Answers only direct
/// loopback callers, and 404 with any real provider.
#[utoipa::path(get, path = "/api/v1/dev/outbox", tag = "development", params(OutboxQuery),
    responses((status = 200, body = OutboxResponse), (status = 404, description = "not_found", body = ErrorBody)))]
pub async fn outbox(
    State(state): State<AppState>,
    DirectLoopback(loopback): DirectLoopback,
    ApiQuery(query): ApiQuery<OutboxQuery>,
) -> Result<Response, ApiError> {
    let messages = match state
        .latch
        .outbox_messages(query.to.as_deref(), 200)
        .await?
    {
        Some(messages) if loopback => messages,
        _ => {
            return Ok(api_error_response(
                StatusCode::NOT_FOUND,
                "not_found",
                "There is no such endpoint.",
            ));
        }
    };
    Ok(Json(OutboxResponse {
        messages: messages
            .into_iter()
            .map(|m| OutboxMessageView {
                id: m.id,
                to: m.to,
                channel: m.channel.as_str().to_owned(),
                body: m.body,
                code: m.code,
                sent_at: m.sent_at.to_rfc3339(),
            })
            .collect(),
    })
    .into_response())
}
