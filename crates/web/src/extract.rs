//! Extractors: who is asking (address and browser), their session, and JSON bodies whose
//! rejections answer in the API's error shape.

use std::net::SocketAddr;

use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use latch_app::AppError;
use latch_app::records::ClientInfo;
use latch_app::sign_in::Authenticated;
use latch_domain::device::BrowserDevices;
use latch_domain::session::SessionState;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, HtmlError, api_error_response};
use crate::{AppState, cookies};

/// The client's address (the TCP peer; trusted proxies come later) and its User-Agent.
pub struct Client(pub ClientInfo);

impl FromRequestParts<AppState> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Client(client_info(parts, state)))
    }
}

pub fn client_info(parts: &Parts, state: &AppState) -> ClientInfo {
    let ip = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(
            || "unknown".to_owned(),
            |c| {
                state
                    .config
                    .trusted_proxies
                    .client_ip(c.0.ip(), &parts.headers)
                    .to_string()
            },
        );
    let user_agent: String = parts
        .headers
        .get(axum::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .chars()
        .take(512)
        .collect();
    ClientInfo { ip, user_agent }
}

/// Looks up the request's session once, caching the answer for other extractors.
async fn lookup(parts: &mut Parts, state: &AppState) -> Result<Option<Authenticated>, AppError> {
    #[derive(Clone)]
    struct Looked(Option<Authenticated>);
    if let Some(Looked(found)) = parts.extensions.get::<Looked>() {
        return Ok(found.clone());
    }
    let found = match cookies::read_session(&state.config, &parts.headers) {
        Some(token) => state.latch.sign_in.authenticate(&token).await?,
        None => None,
    };
    parts.extensions.insert(Looked(found.clone()));
    Ok(found)
}

/// A fully signed-in session, for the API: anything else answers `401 not_signed_in`.
pub struct ApiSession(pub Authenticated);

impl FromRequestParts<AppState> for ApiSession {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match lookup(parts, state).await? {
            Some(auth) if auth.session.state == SessionState::SignedIn => Ok(ApiSession(auth)),
            _ => Err(ApiError(AppError::NotSignedIn)),
        }
    }
}

/// Any session, whatever its state (sign-out works from every state).
pub struct AnySession(pub Option<Authenticated>);

impl FromRequestParts<AppState> for AnySession {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(AnySession(lookup(parts, state).await?))
    }
}

/// A sign-in waiting for its code, for the API's verify and resend: anything else answers
/// `401 not_signed_in`.
pub struct ApiPending(pub Authenticated);

impl FromRequestParts<AppState> for ApiPending {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match lookup(parts, state).await? {
            Some(auth) if auth.session.state == SessionState::TwoFactorRequired => {
                Ok(ApiPending(auth))
            }
            _ => Err(ApiError(AppError::NotSignedIn)),
        }
    }
}

/// A fully signed-in session, for pages. A sign-in waiting for its code leads to the code
/// page; no session leads to the sign-in page.
pub struct PageSession(pub Authenticated);

fn page_rejection(found: Option<&Authenticated>) -> Response {
    match found.map(|auth| auth.session.state) {
        Some(SessionState::TwoFactorRequired) => Redirect::to("/sign-in/code").into_response(),
        Some(SessionState::TwoFactorSetupRequired) => {
            Redirect::to("/profile/two-factor").into_response()
        }
        _ => HtmlError(AppError::NotSignedIn).into_response(),
    }
}

/// A session that may use the two-factor setup: signed in, or made to set two-factor up by
/// the practice's rule (API).
pub struct ApiSetupSession(pub Authenticated);

impl FromRequestParts<AppState> for ApiSetupSession {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match lookup(parts, state).await? {
            Some(auth)
                if matches!(
                    auth.session.state,
                    SessionState::SignedIn | SessionState::TwoFactorSetupRequired
                ) =>
            {
                Ok(ApiSetupSession(auth))
            }
            _ => Err(ApiError(AppError::NotSignedIn)),
        }
    }
}

/// The same, for the setup wizard's pages.
pub struct PageSetupSession(pub Authenticated);

impl FromRequestParts<AppState> for PageSetupSession {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match lookup(parts, state)
            .await
            .map_err(|e| HtmlError(e).into_response())?
        {
            Some(auth)
                if matches!(
                    auth.session.state,
                    SessionState::SignedIn | SessionState::TwoFactorSetupRequired
                ) =>
            {
                Ok(PageSetupSession(auth))
            }
            other => Err(page_rejection(other.as_ref())),
        }
    }
}

impl FromRequestParts<AppState> for PageSession {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match lookup(parts, state)
            .await
            .map_err(|e| HtmlError(e).into_response())?
        {
            Some(auth) if auth.session.state == SessionState::SignedIn => Ok(PageSession(auth)),
            other => Err(page_rejection(other.as_ref())),
        }
    }
}

impl axum::extract::OptionalFromRequestParts<AppState> for PageSession {
    type Rejection = Response;

    /// None without a session; a sign-in waiting for its code still leads to the code page.
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, Self::Rejection> {
        match lookup(parts, state)
            .await
            .map_err(|e| HtmlError(e).into_response())?
        {
            Some(auth) if auth.session.state == SessionState::SignedIn => {
                Ok(Some(PageSession(auth)))
            }
            Some(auth) => Err(page_rejection(Some(&auth))),
            None => Ok(None),
        }
    }
}

/// A sign-in waiting for its code, for the code page: a signed-in session goes to the
/// dashboard, none to the sign-in page.
pub struct PagePending(pub Authenticated);

impl FromRequestParts<AppState> for PagePending {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match lookup(parts, state)
            .await
            .map_err(|e| HtmlError(e).into_response())?
        {
            Some(auth) if auth.session.state == SessionState::TwoFactorRequired => {
                Ok(PagePending(auth))
            }
            Some(_) => Err(Redirect::to("/dashboard").into_response()),
            None => Err(Redirect::to("/sign-in").into_response()),
        }
    }
}

/// The browser's remembered-device cookie.
pub struct Browser(pub BrowserDevices);

impl FromRequestParts<AppState> for Browser {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Browser(cookies::read_devices(
            &state.config,
            &parts.headers,
        )))
    }
}

/// SECURITY: the development outbox answers only a direct caller on a loopback address, with
/// no forwarded header (a proxy on the same machine would otherwise pass the world through).
pub struct DirectLoopback(pub bool);

impl FromRequestParts<AppState> for DirectLoopback {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Self::Rejection> {
        let loopback = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .is_some_and(|c| c.0.ip().to_canonical().is_loopback());
        let forwarded = ["forwarded", "x-forwarded-for", "x-real-ip"]
            .iter()
            .any(|h| parts.headers.contains_key(*h));
        Ok(DirectLoopback(loopback && !forwarded))
    }
}

/// A query string: `400 invalid_request` in the API's shape when it does not fit (a parameter
/// given twice, say), and a parameter given empty is refused like any value out of its range:
/// the API has no "empty means absent" (the pages' filter forms do, and parse apart).
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned> FromRequestParts<AppState> for ApiQuery<T> {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let refused =
            |message: &str| api_error_response(StatusCode::BAD_REQUEST, "invalid_request", message);
        let raw = parts.uri.query().unwrap_or("");
        if let Some((name, _)) = url_pairs(raw).find(|(_, value)| value.is_empty()) {
            return Err(refused(&format!("{name} is empty; leave it out instead.")));
        }
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(ApiQuery(value)),
            Err(rejection) => Err(refused(&format!(
                "The query is not valid: {}",
                rejection
                    .body_text()
                    .trim_start_matches("Failed to deserialize query string: ")
            ))),
        }
    }
}

/// The `name=value` pairs of a query string, names decoded only as far as their message needs.
fn url_pairs(raw: &str) -> impl Iterator<Item = (&str, &str)> {
    raw.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| pair.split_once('=').unwrap_or((pair, "")))
}

/// A JSON body: `415` without `Content-Type: application/json`, `413` over 64 KiB, `400
/// invalid_request` when malformed, missing a field or of a wrong type.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for ApiJson<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(json_rejection(&rejection)),
        }
    }
}

fn json_rejection(rejection: &JsonRejection) -> Response {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => api_error_response(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Send the body as JSON with Content-Type: application/json.",
        ),
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => api_error_response(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "The request body is larger than 64 KiB.",
        ),
        JsonRejection::JsonDataError(e) => api_error_response(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            &format!(
                "The request body is not valid: {}",
                e.body_text().trim_start_matches(
                    "Failed to deserialize the JSON body into the target type: "
                )
            ),
        ),
        _ => api_error_response(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The request body is not valid JSON.",
        ),
    }
}
