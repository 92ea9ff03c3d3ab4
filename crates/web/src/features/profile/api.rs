//! A person's own account in the JSON API: who they are, the password, sessions and remembered
//! devices.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use latch_app::Secret;
use latch_app::SessionId;
use latch_app::records::Account;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::http::cookies::{self, with_cookie, with_session};
use crate::http::error::{ApiError, ErrorBody, NEW_PASSWORD};
use crate::http::extract::{ApiJson, ApiSession, Browser, Client, Session};
use crate::http::json::{DeviceView, SessionView, TwoFactor, User};

#[derive(Serialize, ToSchema)]
pub struct MeResponse {
    pub user: User,
    pub two_factor: TwoFactor,
}

/// The signed-in person and their two-factor state.
#[utoipa::path(get, path = "/api/v1/me", tag = "me",
    responses((status = 200, body = MeResponse), (status = 401, description = "not_signed_in", body = ErrorBody)))]
pub async fn me(
    State(state): State<AppState>,
    Session(who, _): ApiSession,
) -> Result<Json<MeResponse>, ApiError> {
    let Account { person, practice } = &who.account;
    let methods = state.latch.methods.methods(person).await?;
    Ok(Json(MeResponse {
        user: User::of(person, practice),
        two_factor: TwoFactor::of(person, practice, &methods),
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct ChangePasswordRequest {
    pub current_password: String,
    /// 10 to 128 characters, and not easy to guess.
    #[schema(min_length = 10, max_length = 128)]
    pub new_password: String,
}

/// Changes the password; every other session of the person ends.
#[utoipa::path(put, path = "/api/v1/me/password", request_body = ChangePasswordRequest, tag = "me",
    responses((status = 204), (status = 400, description = "weak_password", body = ErrorBody),
              (status = 401, description = "invalid_credentials", body = ErrorBody), (status = 429, description = "rate_limited", body = ErrorBody)))]
pub async fn change_password(
    State(state): State<AppState>,
    Client(client): Client,
    Session(who, _): ApiSession,
    ApiJson(body): ApiJson<ChangePasswordRequest>,
) -> Result<Response, ApiError> {
    let token = state
        .latch
        .account
        .change_password(
            &who,
            &Secret::new(body.current_password),
            &Secret::new(body.new_password),
            &client,
        )
        .await
        .map_err(|e| ApiError::placed(e, NEW_PASSWORD))?;
    Ok(with_session(
        StatusCode::NO_CONTENT.into_response(),
        &state.config,
        Some(&token),
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct ChangeEmailRequest {
    #[schema(max_length = 254)]
    pub email: String,
}

/// Asks to sign in with another address (re-authentication required): a link valid a day goes
/// to the new address and a notice to the old one; the address changes once the link is used.
#[utoipa::path(put, path = "/api/v1/me/email", request_body = ChangeEmailRequest, tag = "me",
    responses((status = 202), (status = 400, description = "invalid_email", body = ErrorBody),
              (status = 403, description = "reauthentication_required", body = ErrorBody),
              (status = 409, description = "email_taken", body = ErrorBody)))]
pub async fn change_email(
    State(state): State<AppState>,
    Session(who, _): ApiSession,
    ApiJson(body): ApiJson<ChangeEmailRequest>,
) -> Result<Response, ApiError> {
    state.latch.account.change_email(&who, &body.email).await?;
    Ok(StatusCode::ACCEPTED.into_response())
}

#[derive(Deserialize, ToSchema)]
pub struct ConfirmEmailRequest {
    /// The token of the link sent to the new address.
    #[schema(max_length = 200)]
    pub token: String,
}

#[derive(Serialize, ToSchema)]
pub struct ConfirmedEmailResponse {
    pub user: User,
}

/// Follows an email change's link: the address changes and counts as verified. The link's
/// token is the proof; no session is needed, so it works from any device.
#[utoipa::path(post, path = "/api/v1/me/email/confirm", request_body = ConfirmEmailRequest, tag = "me",
    responses((status = 200, body = ConfirmedEmailResponse), (status = 400, description = "invalid_token", body = ErrorBody),
              (status = 409, description = "email_taken", body = ErrorBody)))]
pub async fn confirm_email(
    State(state): State<AppState>,
    Client(client): Client,
    ApiJson(body): ApiJson<ConfirmEmailRequest>,
) -> Result<Json<ConfirmedEmailResponse>, ApiError> {
    let account = state
        .latch
        .account
        .confirm_email(&body.token, &client)
        .await?;
    let user = User::of(&account.person, &account.practice);
    Ok(Json(ConfirmedEmailResponse { user }))
}

#[derive(Serialize, ToSchema)]
pub struct SessionsResponse {
    pub sessions: Vec<SessionView>,
}

/// The person's open sessions.
#[utoipa::path(get, path = "/api/v1/me/sessions", tag = "me",
    responses((status = 200, body = SessionsResponse), (status = 401, description = "not_signed_in", body = ErrorBody)))]
pub async fn my_sessions(
    State(state): State<AppState>,
    Session(who, _): ApiSession,
) -> Result<Json<SessionsResponse>, ApiError> {
    let sessions = state.latch.account.sessions(&who).await?;
    Ok(Json(SessionsResponse {
        sessions: SessionView::list(sessions, &who.session.id),
    }))
}

/// Ends one of the person's sessions.
#[utoipa::path(delete, path = "/api/v1/me/sessions/{id}", tag = "me", params(("id" = String, Path, description = "A session id")),
    responses((status = 204), (status = 404, description = "not_found", body = ErrorBody)))]
pub async fn end_my_session(
    State(state): State<AppState>,
    Client(client): Client,
    Session(who, _): ApiSession,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = SessionId::from_stored(id);
    state.latch.account.end_session(&who, &id, &client).await?;
    let response = StatusCode::NO_CONTENT.into_response();
    Ok(if id == who.session.id {
        with_cookie(response, cookies::clear_session(&state.config))
    } else {
        response
    })
}

#[derive(Serialize, ToSchema)]
pub struct DevicesResponse {
    pub devices: Vec<DeviceView>,
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
