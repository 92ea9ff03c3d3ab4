//! The authorization endpoint and the request that waits, sealed in a cookie, while its person
//! signs in: the sign-in page names the application, and the last step of the sign-in goes on
//! to `/oidc/authorize/continue`, which answers the application.

use std::sync::Arc;

use axum::extract::{FromRequestParts, RawForm, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use latch_app::authorize::{Asked, Authorized, Waiting};
use latch_domain::Timestamp;
use latch_domain::authorization::PageProblem;
use latch_domain::session::SessionState;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::http::cookies::{self, with_cookie};
use crate::http::error::{HtmlError, message_page};
use crate::http::extract::{AnySession, Client};
use crate::http::layout::see_other;

/// Long enough to sign in and, when the practice requires it, set two-factor up.
const WAITING_SECONDS: i64 = 30 * 60;

/// Where every finished sign-in goes while a request waits.
pub(crate) const CONTINUE_PATH: &str = "/oidc/authorize/continue";

/// An application's request, waiting for its person to sign in.
#[derive(Serialize, Deserialize, Clone)]
pub(crate) struct WaitingRequest {
    params: Vec<(String, String)>,
    /// When it first arrived, in Unix seconds: `prompt=login` asks for a password since.
    asked_at: i64,
    /// When it goes stale, in Unix seconds.
    until: i64,
    pub(crate) application_name: String,
    /// The application's origin, where the last form of the sign-in leads.
    pub(crate) redirect_origin: String,
    pub(crate) login_hint: Option<String>,
}

/// The request waiting in this browser, if any (an extractor for the sign-in pages).
#[derive(Clone)]
pub(crate) struct Continuing(pub(crate) Option<Arc<WaitingRequest>>);

impl<S: Send + Sync> FromRequestParts<S> for Continuing {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<Continuing>()
            .cloned()
            .unwrap_or(Continuing(None)))
    }
}

/// Where a finished sign-in goes: on to the waiting request, or to the dashboard.
pub(crate) fn landing(continuing: &Continuing) -> &'static str {
    match continuing.0 {
        Some(_) => CONTINUE_PATH,
        None => "/dashboard",
    }
}

/// An origin the pages' forms may also lead to: the CSP's `form-action` names it, since a
/// browser checks every redirect after a form against it.
#[derive(Clone)]
pub(crate) struct FormActionToo(pub(crate) String);

/// Opens the waiting request for the pages, and lets their forms lead to its application.
pub(crate) async fn carry(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let waiting = read(&state, request.headers()).map(Arc::new);
    let origin = waiting.as_ref().map(|w| w.redirect_origin.clone());
    request.extensions_mut().insert(Continuing(waiting));
    let mut response = next.run(request).await;
    if let Some(origin) = origin {
        response.extensions_mut().insert(FormActionToo(origin));
    }
    response
}

fn read(state: &AppState, headers: &HeaderMap) -> Option<WaitingRequest> {
    let sealed = cookies::read_waiting_request(&state.config, headers)?;
    let plain = state.latch.keys().open_waiting_request(&sealed)?;
    serde_json::from_slice::<WaitingRequest>(&plain)
        .ok()
        .filter(|w| w.until >= state.latch.now().seconds())
}

/// `GET` and `POST /oidc/authorize` (OpenID Connect Core §3.1.2.1: both are supported).
pub async fn authorize(
    State(state): State<AppState>,
    Client(client): Client,
    AnySession(session): AnySession,
    // The query of a GET, the form of a POST.
    RawForm(raw): RawForm,
) -> Result<Response, HtmlError> {
    let params: Vec<(String, String)> = form_urlencoded::parse(&raw).into_owned().collect();
    let signed_in = session.filter(|who| who.session.state == SessionState::SignedIn);
    let issuer = issuer(&state);
    let grants = &state.latch.grants;
    let answer = grants.authorize(&params, signed_in.as_ref(), Asked::Now, &issuer, &client);
    Ok(match answer.await? {
        Authorized::SignIn(waiting) => {
            let now = state.latch.now().seconds();
            let to = sign_in_page(&waiting);
            let cookie = seal(&state, params, now, waiting);
            with_cookie(see_other(to), cookie)
        }
        other => finish(other),
    })
}

/// `GET /oidc/authorize/continue`: a sign-in finished while a request waited.
pub async fn resume(
    State(state): State<AppState>,
    Client(client): Client,
    AnySession(session): AnySession,
    headers: HeaderMap,
) -> Result<Response, HtmlError> {
    let Some(waiting) = read(&state, &headers) else {
        return Ok(see_other("/dashboard"));
    };
    if let Some(who) = &session
        && who.session.state != SessionState::SignedIn
    {
        // Still on the way: the sign-in pages lead it to its next step.
        return Ok(see_other("/sign-in"));
    }
    let asked = Asked::At(Timestamp(waiting.asked_at));
    let issuer = issuer(&state);
    let grants = &state.latch.grants;
    let answer = grants.authorize(&waiting.params, session.as_ref(), asked, &issuer, &client);
    Ok(match answer.await? {
        Authorized::SignIn(again) => see_other(sign_in_page(&again)),
        other => with_cookie(finish(other), cookies::clear_waiting_request(&state.config)),
    })
}

fn finish(answer: Authorized) -> Response {
    match answer {
        Authorized::Redirect(to) => see_other(&to),
        Authorized::Page(problem) => refused_page(problem),
        Authorized::SignIn(waiting) => see_other(sign_in_page(&waiting)),
    }
}

fn sign_in_page(waiting: &Waiting) -> &'static str {
    if waiting.password_again {
        "/sign-in/again"
    } else {
        "/sign-in"
    }
}

fn seal(
    state: &AppState,
    params: Vec<(String, String)>,
    now: i64,
    waiting: Waiting,
) -> axum::http::HeaderValue {
    let request = WaitingRequest {
        params,
        asked_at: now,
        until: now + WAITING_SECONDS,
        application_name: waiting.application_name,
        redirect_origin: waiting.redirect_origin,
        login_hint: waiting.login_hint,
    };
    let plain = serde_json::to_vec(&request).expect("a waiting request serializes");
    let sealed = state.latch.keys().seal_waiting_request(&plain);
    cookies::waiting_request(&state.config, &sealed, WAITING_SECONDS)
}

/// The issuer: the public URL, as discovery names it.
pub(crate) fn issuer(state: &AppState) -> String {
    state.config.public_url.trim_end_matches('/').to_owned()
}

/// SECURITY: an unknown application or an address it did not register is never redirected
/// to (RFC 6749 §4.1.2.1); the page says what the application's developer must fix.
fn refused_page(problem: PageProblem) -> Response {
    let message = match problem {
        PageProblem::NoApplication => {
            "The application that sent you here did not say who it is (client_id)."
        }
        PageProblem::UnknownApplication => {
            "The application that sent you here is not registered with latch."
        }
        PageProblem::UnregisteredRedirect => {
            "The application that sent you here asked to return to an address it has not \
             registered with latch (redirect_uri)."
        }
    };
    message_page(
        StatusCode::BAD_REQUEST,
        "This sign-in link does not work",
        message,
        "/",
        "Go to latch",
    )
}
