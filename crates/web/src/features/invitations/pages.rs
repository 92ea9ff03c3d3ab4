//! The page an invitation's link opens: who is invited to which practice, and the password
//! they choose to join.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use latch_app::{AppError, Secret};
use serde::Deserialize;

use crate::AppState;
use crate::http::cookies::{self, with_cookie, with_session};
use crate::http::error::{HtmlError, message_page};
use crate::http::extract::{AnySession, Browser, Client};
use crate::http::flash::{self, Flash, Flashed, OneError};
use crate::http::forms::{Csrf, CsrfForm, csrf_form};
use crate::http::layout::{render, see_other};
use crate::words::refusal;

#[derive(Template)]
#[template(path = "join.html")]
pub struct JoinPage {
    csrf: String,
    action: String,
    practice_name: String,
    name: String,
    email: String,
    role: &'static str,
    error: Option<String>,
}

csrf_form!(JoinForm {} secret { password });

pub async fn show_join(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Csrf(csrf): Csrf,
    Flashed(flash): Flashed,
) -> Result<Response, HtmlError> {
    let link = match state.latch.invitations.link(&token).await {
        Ok(link) => link,
        Err(AppError::NotFound) => return Ok(used_up()),
        Err(e) => return Err(HtmlError(e)),
    };
    let OneError { error } = flash.as_ref().map(Flash::errors).unwrap_or_default();
    let invitation = link.invitation;
    let page = JoinPage {
        csrf,
        action: format!("/invitations/{token}"),
        practice_name: link.practice.name,
        name: invitation.name,
        email: invitation.email.to_string(),
        role: invitation.role.label(),
        error,
    };
    Ok(render(StatusCode::OK, &page))
}

pub async fn submit_join(
    State(state): State<AppState>,
    Client(client): Client,
    AnySession(previous): AnySession,
    Browser(browser): Browser,
    Path(token): Path<String>,
    CsrfForm(mut form): CsrfForm<JoinForm>,
) -> Result<Response, HtmlError> {
    let password = Secret::new(std::mem::take(&mut form.password));
    let joined = state.latch.invitations.accept(&token, &password, &client);
    match joined.await {
        Ok(joined) => {
            if let Some(previous) = previous {
                state.latch.sign_in.sign_out(&previous, &client).await?;
            }
            let seen = cookies::seen_by(&state, &browser, &joined.account.person.id);
            // The dashboard, or first the two-factor setup the practice requires.
            let next = with_cookie(see_other("/dashboard"), seen);
            Ok(with_session(next, &state.config, Some(&joined.token)))
        }
        Err(AppError::NotFound) => Ok(used_up()),
        Err(e @ AppError::WeakPassword(_)) => Ok(flash::back(
            &format!("/invitations/{token}"),
            &OneError::of(refusal(&e)),
            &(),
        )),
        Err(e) => Err(HtmlError(e)),
    }
}

/// A link unknown, used, revoked or expired: all alike.
fn used_up() -> Response {
    message_page(
        StatusCode::NOT_FOUND,
        "This invitation no longer works",
        "It was already used, revoked, or it expired. Ask the practice to send you a new one.",
        "/sign-in",
        "Go to sign in",
    )
}
