//! Signing in through the JSON API: the password, the code, a passkey, a resend,
//! re-authentication and sign-out.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use latch_app::Secret;
use latch_app::records::Account;
use latch_app::sign_in::RememberedDevice;
use latch_domain::device::BrowserDevices;
use latch_domain::session::SessionState;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::http::cookies::{self, with_cookie, with_session};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{AnySession, ApiJson, ApiPending, ApiSession, Browser, Client, Session};
use crate::http::json::{
    CodeSentResponse, SessionResponse, SignedInResponse, User, remember_cookie,
};
use crate::http::schema::ChannelName;

#[derive(Deserialize, ToSchema)]
pub struct SignInRequest {
    #[schema(max_length = 254)]
    pub email: String,
    pub password: String,
}

/// Signs in with email and password.
#[utoipa::path(post, path = "/api/v1/session", request_body = SignInRequest, tag = "session",
    responses((status = 200, body = SessionResponse), (status = 401, description = "invalid_credentials", body = ErrorBody),
              (status = 429, description = "rate_limited", body = ErrorBody)))]
pub async fn sign_in(
    State(state): State<AppState>,
    Client(client): Client,
    AnySession(previous): AnySession,
    Browser(browser): Browser,
    ApiJson(body): ApiJson<SignInRequest>,
) -> Result<Response, ApiError> {
    let password = Secret::new(body.password);
    let sign_in = &state.latch.sign_in;
    let signed_in = sign_in
        .sign_in(&body.email, &password, &client, &browser)
        .await?;
    if let Some(previous) = previous {
        // A browser holds one session: the one it had before ends here.
        sign_in.sign_out(&previous, &client).await?;
    }
    let cookie = cookies::session(&state.config, signed_in.token.expose());
    let seen = cookies::seen_by(&state, &browser, &signed_in.account.person.id);
    let response = match signed_in.delivery_failed {
        // The sign-in waits for a code that could not go out: the session stays, so a resend
        // (perhaps by the other method) can follow.
        Some(failed) => ApiError::from(failed).into_response(),
        None => Json(SessionResponse::of(&signed_in)).into_response(),
    };
    Ok(with_cookie(with_cookie(response, cookie), seen))
}

/// Signs out: ends this session, whatever its state.
#[utoipa::path(delete, path = "/api/v1/session", tag = "session", responses((status = 204)))]
pub async fn sign_out(
    State(state): State<AppState>,
    Client(client): Client,
    AnySession(session): AnySession,
) -> Result<Response, ApiError> {
    if let Some(session) = session {
        state.latch.sign_in.sign_out(&session, &client).await?;
    }
    Ok(with_cookie(
        StatusCode::NO_CONTENT.into_response(),
        cookies::clear_session(&state.config),
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct ReauthenticateRequest {
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct ReauthenticateResponse {
    #[schema(format = DateTime)]
    pub reauthenticated_until: String,
}

/// Re-enters the password; it counts for 10 minutes in this session.
#[utoipa::path(post, path = "/api/v1/session/reauthenticate", request_body = ReauthenticateRequest, tag = "session",
    responses((status = 200, body = ReauthenticateResponse), (status = 401, description = "invalid_credentials or not_signed_in", body = ErrorBody),
              (status = 429, description = "rate_limited", body = ErrorBody)))]
pub async fn reauthenticate(
    State(state): State<AppState>,
    Client(client): Client,
    Session(who, _): ApiSession,
    ApiJson(body): ApiJson<ReauthenticateRequest>,
) -> Result<Response, ApiError> {
    let (token, until) = state
        .latch
        .sign_in
        .reauthenticate(&who, &Secret::new(body.password), &client)
        .await?;
    let body = ReauthenticateResponse {
        reauthenticated_until: until.to_rfc3339(),
    };
    Ok(with_session(
        Json(body).into_response(),
        &state.config,
        Some(&token),
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct VerifyCodeRequest {
    /// The code: 8 digits sent by text or call, an app's 6 digits, or a recovery code
    /// (`xxxxx-xxxxx`); spaces and dashes are ignored.
    pub code: String,
    /// Which method the code is from; without it, the code's shape says.
    #[serde(default)]
    #[schema(value_type = Option<crate::http::schema::AnswerName>)]
    pub method: Option<String>,
    /// Remember this browser for the practice's limit (ignored when the limit is 0).
    #[serde(default)]
    pub remember_device: bool,
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
        .verify_code(
            &who,
            &body.code,
            body.method.as_deref(),
            body.remember_device,
            &client,
        )
        .await?;
    let response = signed_in(&who.account, &state, accepted.token.expose());
    Ok(remembering(
        response,
        &state,
        browser,
        accepted.remembered.as_ref(),
    ))
}

#[derive(Deserialize, ToSchema, Default)]
pub struct ResendRequest {
    /// The last method when left out.
    #[schema(value_type = Option<ChannelName>)]
    pub channel: Option<String>,
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

/// Begins a passkey sign-in: in a session waiting for its second step, for that person's
/// passkeys; otherwise for a discoverable passkey that signs its person in alone (its ceremony
/// is tied to this browser by a cookie of five minutes).
#[utoipa::path(post, path = "/api/v1/session/passkey/options", tag = "session",
    responses((status = 200, body = crate::features::two_factor::api::PasskeyOptions),
              (status = 400, description = "method_not_allowed (no passkeys at this address) or invalid_request (none held)", body = ErrorBody)))]
pub async fn passkey_options(
    State(state): State<AppState>,
    AnySession(who): AnySession,
) -> Result<Response, ApiError> {
    let begun = state.latch.passkeys.sign_in_options(who.as_ref()).await?;
    let response = Json(begun.options).into_response();
    Ok(match begun.browser_token {
        Some(token) => with_cookie(
            response,
            cookies::passkey_sign_in(&state.config, token.expose()),
        ),
        None => response,
    })
}

#[derive(Deserialize, ToSchema)]
pub struct PasskeySignInRequest {
    /// The `AuthenticationResponseJSON` of the ceremony just begun.
    #[schema(value_type = Object)]
    pub credential: serde_json::Value,
    /// Remember this browser for the practice's limit (ignored when the limit is 0).
    #[serde(default)]
    pub remember_device: bool,
}

/// Answers a passkey sign-in: the second step of a waiting session, or a sign-in with the
/// passkey alone.
#[utoipa::path(post, path = "/api/v1/session/passkey", request_body = PasskeySignInRequest, tag = "session",
    responses((status = 200, body = SignedInResponse), (status = 400, description = "invalid_credential", body = ErrorBody),
              (status = 403, description = "two_factor_locked or account_deactivated", body = ErrorBody),
              (status = 429, description = "rate_limited", body = ErrorBody)))]
pub async fn passkey_sign_in(
    State(state): State<AppState>,
    Client(client): Client,
    AnySession(previous): AnySession,
    Browser(browser): Browser,
    headers: HeaderMap,
    ApiJson(body): ApiJson<PasskeySignInRequest>,
) -> Result<Response, ApiError> {
    let passkeys = &state.latch.passkeys;
    let remember = body.remember_device;
    if let Some(who) = previous
        .as_ref()
        .filter(|w| w.session.state == SessionState::TwoFactorRequired)
    {
        let accepted = passkeys
            .second_step(who, &body.credential, remember, &client)
            .await?;
        let response = signed_in(&who.account, &state, accepted.token.expose());
        return Ok(remembering(
            response,
            &state,
            browser,
            accepted.remembered.as_ref(),
        ));
    }
    let token = cookies::read_passkey_sign_in(&state.config, &headers);
    let signed_in_alone = passkeys
        .alone(
            token.as_deref(),
            &body.credential,
            remember,
            &client,
            &browser,
        )
        .await?;
    if let Some(previous) = previous {
        // A browser holds one session: the one it had before ends here.
        state.latch.sign_in.sign_out(&previous, &client).await?;
    }
    let account = &signed_in_alone.account;
    let seen = cookies::seen_by(&state, &browser, &account.person.id);
    let response = signed_in(account, &state, signed_in_alone.token.expose());
    let response = with_cookie(
        with_cookie(response, seen),
        cookies::clear_passkey_sign_in(&state.config),
    );
    Ok(remembering(
        response,
        &state,
        browser,
        signed_in_alone.remembered.as_ref(),
    ))
}

/// The answer of a finished sign-in, with the session's cookie.
fn signed_in(account: &Account, state: &AppState, token: &str) -> Response {
    with_cookie(
        Json(SignedInResponse {
            state: "signed_in".into(),
            user: User::of(&account.person, &account.practice),
        })
        .into_response(),
        cookies::session(&state.config, token),
    )
}

/// The response, with the browser's remembered-device cookie when it was just remembered.
pub(crate) fn remembering(
    response: Response,
    state: &AppState,
    browser: BrowserDevices,
    remembered: Option<&RememberedDevice>,
) -> Response {
    match remember_cookie(&state.config, browser, remembered) {
        Some(cookie) => with_cookie(response, cookie),
        None => response,
    }
}
