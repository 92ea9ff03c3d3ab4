//! The pages of a forgotten password: asking for the link, and choosing the new password.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use latch_app::{AppError, Secret};
use serde::Deserialize;

use crate::AppState;
use crate::http::error::{HtmlError, message_page};
use crate::http::extract::Client;
use crate::http::flash::{self, Flash, Flashed, OneError};
use crate::http::forms::{Csrf, CsrfForm, csrf_form};
use crate::http::layout::{render, see_other};
use crate::words::{RESET_ASKED, refusal};

#[derive(Template)]
#[template(path = "forgot_password.html")]
pub struct ForgotPage {
    csrf: String,
    email: String,
    error: Option<String>,
    sent: Option<&'static str>,
}

#[derive(Deserialize)]
pub struct SentQuery {
    sent: Option<String>,
}

csrf_form!(ForgotForm { email });

pub async fn show_forgot(
    Csrf(csrf): Csrf,
    Query(q): Query<SentQuery>,
    Flashed(flash): Flashed,
) -> Response {
    let form: ForgotForm = flash.as_ref().and_then(Flash::form).unwrap_or_default();
    let OneError { error } = flash.as_ref().map(Flash::errors).unwrap_or_default();
    let page = ForgotPage {
        csrf,
        email: form.email,
        error,
        sent: q.sent.is_some().then_some(RESET_ASKED),
    };
    render(StatusCode::OK, &page)
}

pub async fn submit_forgot(
    State(state): State<AppState>,
    Client(client): Client,
    CsrfForm(form): CsrfForm<ForgotForm>,
) -> Result<Response, HtmlError> {
    match state.latch.recovery.request(&form.email, &client).await {
        Ok(()) => Ok(see_other("/password-reset?sent=1")),
        Err(e @ (AppError::InvalidEmail | AppError::RateLimited { .. })) => Ok(flash::back(
            "/password-reset",
            &OneError::of(refusal(&e)),
            &form,
        )),
        Err(e) => Err(HtmlError(e)),
    }
}

#[derive(Template)]
#[template(path = "reset_password.html")]
pub struct ResetPage {
    csrf: String,
    action: String,
    email: String,
    error: Option<String>,
}

csrf_form!(ResetForm {} secret { new_password });

pub async fn show_reset(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Csrf(csrf): Csrf,
    Flashed(flash): Flashed,
) -> Result<Response, HtmlError> {
    let link = match state.latch.recovery.link(&token).await {
        Ok(link) => link,
        Err(AppError::InvalidToken) => return Ok(used_up()),
        Err(e) => return Err(HtmlError(e)),
    };
    let OneError { error } = flash.as_ref().map(Flash::errors).unwrap_or_default();
    let page = ResetPage {
        csrf,
        action: format!("/password-reset/{token}"),
        email: link.account.person.email.as_str().to_owned(),
        error,
    };
    Ok(render(StatusCode::OK, &page))
}

pub async fn submit_reset(
    State(state): State<AppState>,
    Client(client): Client,
    Path(token): Path<String>,
    CsrfForm(mut form): CsrfForm<ResetForm>,
) -> Result<Response, HtmlError> {
    let password = Secret::new(std::mem::take(&mut form.new_password));
    let confirmed = state.latch.recovery.confirm(&token, &password, &client);
    match confirmed.await {
        Ok(()) => Ok(see_other("/sign-in?done=password-reset")),
        Err(AppError::InvalidToken) => Ok(used_up()),
        Err(e @ AppError::WeakPassword(_)) => Ok(flash::back(
            &format!("/password-reset/{token}"),
            &OneError::of(refusal(&e)),
            &(),
        )),
        Err(e) => Err(HtmlError(e)),
    }
}

/// A link unknown, used or expired: all alike, with the way to a new one.
fn used_up() -> Response {
    message_page(
        StatusCode::BAD_REQUEST,
        "This link no longer works",
        &refusal(&AppError::InvalidToken),
        "/password-reset",
        "Send a new link",
    )
}
