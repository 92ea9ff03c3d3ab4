//! Two-factor of one's own in the JSON API: the phone's setup, its resend and confirmation, an
//! authenticator app, the preferred method, removing one, recovery codes, and turning it off.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use latch_app::AppError;
use latch_app::two_factor::SetupInput;
use latch_domain::method::RecoveryCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::features::sign_in::api::ResendRequest;
use crate::http::cookies::with_session;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiJson, ApiSession, ApiSetupSession, Client, Session};
use crate::http::json::{CodeSentResponse, Method, TwoFactor};
use crate::http::schema::{ChannelName, MethodKindName, SessionStateName};

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
    /// With the person's first method: their first ten recovery codes, shown this once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovery_codes: Option<Vec<String>>,
}

/// Recovery codes as they are shown, once.
pub(crate) fn written(codes: Option<&[RecoveryCode]>) -> Option<Vec<String>> {
    codes.map(|codes| codes.iter().map(|c| c.expose().to_owned()).collect())
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
    let (person, methods) = state.latch.methods.person_now(&who.account.person).await?;
    let body = ConfirmResponse {
        two_factor: TwoFactor::of(&person, &who.account.practice, &methods),
        state: confirmed.signed_in.as_ref().map(|_| "signed_in".to_owned()),
        recovery_codes: written(confirmed.recovery_codes.as_deref()),
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

#[derive(Serialize, ToSchema)]
pub struct AppBegunResponse {
    /// The 160-bit secret in base32, for typing into the app.
    pub secret: String,
    /// The `otpauth://` address the QR code carries.
    pub otpauth_uri: String,
    /// The QR code, an SVG document drawn by latch.
    pub qr_svg: String,
}

/// Begins an authenticator app: a secret to scan or type; nothing changes until a code from
/// the app confirms it.
#[utoipa::path(post, path = "/api/v1/me/two-factor/totp", tag = "two-factor",
    responses((status = 201, body = AppBegunResponse), (status = 403, description = "reauthentication_required", body = ErrorBody),
              (status = 400, description = "method_not_allowed", body = ErrorBody)))]
pub async fn begin_app(
    State(state): State<AppState>,
    Session(who, _): ApiSetupSession,
) -> Result<Response, ApiError> {
    let begun = state.latch.methods.begin_app(&who).await?;
    let body = AppBegunResponse {
        secret: begun.secret.base32(),
        qr_svg: qr_svg(&begun.uri)?,
        otpauth_uri: begun.uri,
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// An `otpauth://` address as a QR code in SVG: black on white, with its quiet zone, so every
/// phone's camera reads it.
pub(crate) fn qr_svg(uri: &str) -> Result<String, ApiError> {
    let code = qrcode::QrCode::new(uri.as_bytes())
        .map_err(|e| AppError::Internal(format!("a QR code for an app: {e}").into()))?;
    Ok(code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .dark_color(qrcode::render::svg::Color("#000000"))
        .light_color(qrcode::render::svg::Color("#ffffff"))
        .quiet_zone(true)
        .build())
}

#[derive(Deserialize, ToSchema)]
pub struct ConfirmAppRequest {
    /// The 6 digits the app shows now.
    pub code: String,
}

/// Confirms the app begun in this session with a code it shows.
#[utoipa::path(post, path = "/api/v1/me/two-factor/totp/confirm", request_body = ConfirmAppRequest, tag = "two-factor",
    responses((status = 200, body = ConfirmResponse), (status = 400, description = "invalid_code", body = ErrorBody),
              (status = 409, description = "no_setup_in_progress", body = ErrorBody), (status = 403, description = "two_factor_locked", body = ErrorBody),
              (status = 429, description = "rate_limited", body = ErrorBody)))]
pub async fn confirm_app(
    State(state): State<AppState>,
    Client(client): Client,
    Session(who, _): ApiSetupSession,
    ApiJson(body): ApiJson<ConfirmAppRequest>,
) -> Result<Response, ApiError> {
    let methods = &state.latch.methods;
    let confirmed = methods.confirm_app(&who, &body.code, &client).await?;
    let (person, held) = methods.person_now(&who.account.person).await?;
    let body = ConfirmResponse {
        two_factor: TwoFactor::of(&person, &who.account.practice, &held),
        state: confirmed.signed_in.as_ref().map(|_| "signed_in".to_owned()),
        recovery_codes: written(confirmed.recovery_codes.as_deref()),
    };
    Ok(with_session(
        Json(body).into_response(),
        &state.config,
        confirmed.signed_in.as_ref(),
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct PreferredRequest {
    #[schema(value_type = MethodKindName)]
    pub kind: String,
}

#[derive(Serialize, ToSchema)]
pub struct TwoFactorResponse {
    pub two_factor: TwoFactor,
}

/// Chooses the method a sign-in asks for first.
#[utoipa::path(put, path = "/api/v1/me/two-factor/preferred", request_body = PreferredRequest, tag = "two-factor",
    responses((status = 200, body = TwoFactorResponse), (status = 400, description = "invalid_request: a method this person does not have", body = ErrorBody)))]
pub async fn set_preferred(
    State(state): State<AppState>,
    Session(who, _): ApiSession,
    ApiJson(body): ApiJson<PreferredRequest>,
) -> Result<Json<TwoFactorResponse>, ApiError> {
    let methods = &state.latch.methods;
    methods.set_preferred(&who, &body.kind).await?;
    let (person, held) = methods.person_now(&who.account.person).await?;
    Ok(Json(TwoFactorResponse {
        two_factor: TwoFactor::of(&person, &who.account.practice, &held),
    }))
}

/// Removes one of the person's methods; removing the last turns two-factor off.
#[utoipa::path(delete, path = "/api/v1/me/two-factor/methods/{id}", tag = "two-factor", params(("id" = String, Path, description = "A method id")),
    responses((status = 204), (status = 403, description = "reauthentication_required", body = ErrorBody),
              (status = 404, description = "not_found", body = ErrorBody),
              (status = 409, description = "two_factor_required_by_practice", body = ErrorBody)))]
pub async fn remove_method(
    State(state): State<AppState>,
    Client(client): Client,
    Session(who, _): ApiSession,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    state.latch.methods.remove(&who, &id, &client).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Serialize, ToSchema)]
pub struct RecoveryCodesResponse {
    /// Ten codes, each usable once, shown this once.
    pub codes: Vec<String>,
}

/// Makes a new set of recovery codes, replacing the old.
#[utoipa::path(post, path = "/api/v1/me/recovery-codes", tag = "two-factor",
    responses((status = 201, body = RecoveryCodesResponse), (status = 403, description = "reauthentication_required", body = ErrorBody),
              (status = 400, description = "invalid_request: two-factor is off", body = ErrorBody)))]
pub async fn new_recovery_codes(
    State(state): State<AppState>,
    Client(client): Client,
    Session(who, _): ApiSession,
) -> Result<Response, ApiError> {
    let codes = state
        .latch
        .methods
        .new_recovery_codes(&who, &client)
        .await?;
    let body = RecoveryCodesResponse {
        codes: written(Some(&codes)).unwrap_or_default(),
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// WebAuthn options in their JSON form, as the browser's `navigator.credentials` reads them
/// (`PublicKeyCredential.parseCreationOptionsFromJSON` and its sibling).
#[derive(Serialize, ToSchema)]
pub struct PasskeyOptions {
    #[serde(rename = "publicKey")]
    #[schema(value_type = Object)]
    pub public_key: serde_json::Value,
}

/// Begins registering a passkey: the options for `navigator.credentials.create`.
#[utoipa::path(post, path = "/api/v1/me/passkeys/options", tag = "two-factor",
    responses((status = 200, body = PasskeyOptions), (status = 403, description = "reauthentication_required", body = ErrorBody),
              (status = 400, description = "method_not_allowed", body = ErrorBody)))]
pub async fn begin_passkey(
    State(state): State<AppState>,
    Session(who, _): ApiSetupSession,
) -> Result<Json<serde_json::Value>, ApiError> {
    Ok(Json(state.latch.passkeys.registration_options(&who).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct AddPasskeyRequest {
    /// A name for the passkey, 64 characters at most; "Passkey" when left out.
    #[serde(default)]
    #[schema(max_length = 64)]
    pub label: String,
    /// The `RegistrationResponseJSON` of the ceremony just begun.
    #[schema(value_type = Object)]
    pub credential: serde_json::Value,
}

#[derive(Serialize, ToSchema)]
pub struct PasskeyAddedResponse {
    pub method: Method,
    #[serde(flatten)]
    pub confirmed: ConfirmResponse,
}

/// Registers the passkey of the ceremony just begun.
#[utoipa::path(post, path = "/api/v1/me/passkeys", request_body = AddPasskeyRequest, tag = "two-factor",
    responses((status = 201, body = PasskeyAddedResponse), (status = 400, description = "invalid_credential or invalid_request", body = ErrorBody),
              (status = 403, description = "reauthentication_required", body = ErrorBody)))]
pub async fn add_passkey(
    State(state): State<AppState>,
    Client(client): Client,
    Session(who, _): ApiSetupSession,
    ApiJson(body): ApiJson<AddPasskeyRequest>,
) -> Result<Response, ApiError> {
    let added = state
        .latch
        .passkeys
        .register(&who, &body.label, &body.credential, &client)
        .await?;
    let (person, held) = state.latch.methods.person_now(&who.account.person).await?;
    let confirmed = added.confirmed;
    let body = PasskeyAddedResponse {
        method: Method::of(&added.method),
        confirmed: ConfirmResponse {
            two_factor: TwoFactor::of(&person, &who.account.practice, &held),
            state: confirmed.signed_in.as_ref().map(|_| "signed_in".to_owned()),
            recovery_codes: written(confirmed.recovery_codes.as_deref()),
        },
    };
    let response = (StatusCode::CREATED, Json(body)).into_response();
    Ok(with_session(
        response,
        &state.config,
        confirmed.signed_in.as_ref(),
    ))
}
