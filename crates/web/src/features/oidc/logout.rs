//! The end-session endpoint (RP-Initiated Logout 1.0): an application that sends its ID token
//! ends the latch session behind it and gets the browser back; without one, the person is
//! asked first, on `/sign-out`.

use axum::extract::{RawForm, State};
use axum::http::StatusCode;
use axum::response::Response;
use latch_app::logouts::LogoutRequest;
use latch_domain::authorization::redirect_with;

use super::authorize::issuer;
use crate::AppState;
use crate::http::cookies::{self, with_cookie};
use crate::http::error::{HtmlError, message_page};
use crate::http::extract::{AnySession, Client};
use crate::http::layout::see_other;

/// `GET` and `POST /oidc/logout`.
pub async fn logout(
    State(state): State<AppState>,
    Client(client): Client,
    AnySession(session): AnySession,
    // The query of a GET, the form of a POST.
    RawForm(raw): RawForm,
) -> Result<Response, HtmlError> {
    let params: Vec<(String, String)> = form_urlencoded::parse(&raw).into_owned().collect();
    let one = |name: &str| {
        params
            .iter()
            .find(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    };
    let logouts = &state.latch.logouts;
    let issuer = issuer(&state);
    let request = logouts.read_request(
        one("id_token_hint"),
        one("client_id"),
        one("post_logout_redirect_uri"),
        &issuer,
    );
    let (application, session_id, person_id, back_to) = match request.await? {
        LogoutRequest::Hinted {
            application,
            session_id,
            person_id,
            back_to,
        } => (application, session_id, person_id, back_to),
        LogoutRequest::Unhinted => return Ok(see_other("/sign-out")),
        // SECURITY: like an unregistered redirect_uri, never followed.
        LogoutRequest::UnregisteredRedirect => {
            return Ok(message_page(
                StatusCode::BAD_REQUEST,
                "This sign-out link does not work",
                "The application that sent you here asked to return to an address it has not \
                 registered with latch (post_logout_redirect_uri).",
                "/",
                "Go to latch",
            ));
        }
    };
    let end = logouts.end_hinted_session(&application, &session_id, &person_id, &client);
    end.await?;
    let to = match (&back_to, one("state")) {
        (Some(uri), Some(sent)) => redirect_with(uri.as_str(), &[("state", sent)]),
        (Some(uri), None) => uri.as_str().to_owned(),
        (None, _) => "/sign-in?done=signed-out".to_owned(),
    };
    let ended_here = session.is_some_and(|who| who.session.id == session_id);
    Ok(if ended_here {
        with_cookie(see_other(&to), cookies::clear_session(&state.config))
    } else {
        see_other(&to)
    })
}
