//! `/sign-in/again`: the password once more for an application that asked for a recent one
//! (`prompt=login`, `max_age`), in the latch session the person already has.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use latch_app::{AppError, Secret};
use serde::Deserialize;

use super::authorize::{CONTINUE_PATH, Continuing};
use crate::AppState;
use crate::http::cookies::with_session;
use crate::http::error::HtmlError;
use crate::http::extract::{Client, PageSession, Session};
use crate::http::flash::{self, Flash, Flashed, OneError};
use crate::http::forms::{Csrf, CsrfForm, csrf_form};
use crate::http::layout::{render, see_other};
use crate::words::password_refusal;

#[derive(Template)]
#[template(path = "password_again.html")]
pub struct PasswordAgainPage {
    csrf: String,
    application_name: String,
    person_name: String,
    email: String,
    error: Option<String>,
}

csrf_form!(PasswordAgainForm {} secret { password });

pub async fn show(
    Session(who, _): PageSession,
    Continuing(waiting): Continuing,
    Csrf(csrf): Csrf,
    Flashed(flash): Flashed,
) -> Response {
    let Some(waiting) = waiting else {
        return see_other("/dashboard");
    };
    let OneError { error } = flash.as_ref().map(Flash::errors).unwrap_or_default();
    let person = &who.account.person;
    render(
        StatusCode::OK,
        &PasswordAgainPage {
            csrf,
            application_name: waiting.application_name.clone(),
            person_name: person.name.clone(),
            email: person.email.as_str().to_owned(),
            error,
        },
    )
}

pub async fn submit(
    State(state): State<AppState>,
    Client(client): Client,
    Session(who, _): PageSession,
    CsrfForm(mut form): CsrfForm<PasswordAgainForm>,
) -> Result<Response, HtmlError> {
    let password = Secret::new(std::mem::take(&mut form.password));
    let again = state.latch.sign_in.reauthenticate(&who, &password, &client);
    match again.await {
        Ok((token, _)) => Ok(with_session(
            see_other(CONTINUE_PATH),
            &state.config,
            Some(&token),
        )),
        Err(e @ (AppError::InvalidCredentials | AppError::RateLimited { .. })) => {
            let message = password_refusal(&e, "That password is not correct.");
            Ok(flash::back("/sign-in/again", &OneError::of(message), &()))
        }
        Err(e) => Err(HtmlError(e)),
    }
}
