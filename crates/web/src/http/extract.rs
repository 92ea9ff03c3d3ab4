//! Extractors: who is asking (address and browser), their session, and JSON bodies whose
//! rejections answer in the API's error shape.

use std::marker::PhantomData;
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

use crate::AppState;
use crate::http::cookies;
use crate::http::error::{ApiError, HtmlError, api_error_response};

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

/// The session a route admits, by the states it lets through: one gate for every route,
/// parameterised by a policy. `Session(who, _): ApiSession` in a handler's arguments.
pub struct Session<P>(pub Authenticated, pub PhantomData<P>);

/// Which session states a route admits, and what it answers anything else.
pub trait Admits: Send + Sync + 'static {
    const STATES: &'static [SessionState];
    type Rejection: IntoResponse;
    fn refuse(found: Option<&Authenticated>) -> Self::Rejection;
    fn failed(e: AppError) -> Self::Rejection;
}

impl<P: Admits> FromRequestParts<AppState> for Session<P> {
    type Rejection = P::Rejection;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match lookup(parts, state).await.map_err(P::failed)? {
            Some(auth) if P::STATES.contains(&auth.session.state) => Ok(Session(auth, PhantomData)),
            other => Err(P::refuse(other.as_ref())),
        }
    }
}

/// The API: anything not admitted answers `401 not_signed_in`.
macro_rules! api_policy {
    ($(#[$doc:meta])* $name:ident, $($state:ident)|+) => {
        $(#[$doc])*
        pub struct $name;

        impl Admits for $name {
            const STATES: &'static [SessionState] = &[$(SessionState::$state),+];
            type Rejection = ApiError;

            fn refuse(_: Option<&Authenticated>) -> ApiError {
                ApiError::from(AppError::NotSignedIn)
            }

            fn failed(e: AppError) -> ApiError {
                ApiError::from(e)
            }
        }
    };
}

api_policy!(
    /// Fully signed in.
    SignedInApi,
    SignedIn
);
api_policy!(
    /// A sign-in waiting for its code: only verify and resend.
    PendingApi,
    TwoFactorRequired
);
api_policy!(
    /// Signed in, or held by the practice's rule to set two-factor up: the setup endpoints.
    SetupApi,
    SignedIn | TwoFactorSetupRequired
);

/// Pages lead a held sign-in to its one next step, and anyone else to the sign-in page.
fn page_rejection(found: Option<&Authenticated>) -> Response {
    match found.map(|auth| auth.session.state) {
        Some(SessionState::TwoFactorRequired) => Redirect::to("/sign-in/code").into_response(),
        Some(SessionState::TwoFactorSetupRequired) => {
            Redirect::to("/profile/two-factor").into_response()
        }
        _ => HtmlError(AppError::NotSignedIn).into_response(),
    }
}

macro_rules! page_policy {
    ($(#[$doc:meta])* $name:ident, [$($state:ident)|+], $refuse:expr) => {
        $(#[$doc])*
        pub struct $name;

        impl Admits for $name {
            const STATES: &'static [SessionState] = &[$(SessionState::$state),+];
            type Rejection = Response;

            fn refuse(found: Option<&Authenticated>) -> Response {
                $refuse(found)
            }

            fn failed(e: AppError) -> Response {
                HtmlError(e).into_response()
            }
        }
    };
}

page_policy!(
    /// Fully signed in.
    SignedInPage,
    [SignedIn],
    page_rejection
);
page_policy!(
    /// The setup wizard: signed in, or held by the practice's rule.
    SetupPage,
    [SignedIn | TwoFactorSetupRequired],
    page_rejection
);
page_policy!(
    /// The code page: a signed-in session goes to the dashboard, none to the sign-in page.
    PendingPage,
    [TwoFactorRequired],
    |found: Option<&Authenticated>| match found {
        Some(_) => Redirect::to("/dashboard").into_response(),
        None => Redirect::to("/sign-in").into_response(),
    }
);

pub type ApiSession = Session<SignedInApi>;
pub type ApiPending = Session<PendingApi>;
pub type ApiSetupSession = Session<SetupApi>;
pub type PageSession = Session<SignedInPage>;
pub type PageSetupSession = Session<SetupPage>;
pub type PagePending = Session<PendingPage>;

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
                Ok(Some(Session(auth, PhantomData)))
            }
            Some(auth) => Err(page_rejection(Some(&auth))),
            None => Ok(None),
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
