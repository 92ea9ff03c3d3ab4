//! The page that adds a passkey: the password again (unless this is the practice's required
//! setup), a name for it, and the browser's ceremony (`/static/passkey.js`).

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use latch_app::AppError;
use latch_domain::method::MethodKind;
use latch_domain::session::SessionState;
use serde::Deserialize;

use super::methods::method_added;
use super::pages::password_step;
use crate::AppState;
use crate::http::error::HtmlError;
use crate::http::extract::{Client, PageSetupSession, Session};
use crate::http::flash::{self, Flash, Flashed, OneError};
use crate::http::forms::{Csrf, CsrfForm, csrf_form};
use crate::http::layout::{Chrome, render, see_other};
use crate::words::refusal;

csrf_form!(PasskeyForm { label } secret { credential });

#[derive(Template)]
#[template(path = "two_factor_passkey.html")]
pub struct PasskeyPage {
    chrome: Chrome,
    label: String,
    error: Option<String>,
}

pub async fn show_passkey(
    State(state): State<AppState>,
    Session(who, _): PageSetupSession,
    Csrf(csrf): Csrf,
    Flashed(flash): Flashed,
) -> Result<Response, HtmlError> {
    let OneError { error } = flash.as_ref().map(Flash::errors).unwrap_or_default();
    let required_setup = who.session.state == SessionState::TwoFactorSetupRequired;
    if !required_setup && !who.is_reauthenticated(state.latch.now()) {
        let page = password_step(&who, csrf, "passkey", error);
        return Ok(render(StatusCode::OK, &page));
    }
    if !state.latch.passkeys.available() {
        return Err(HtmlError(AppError::PasskeysUnavailable));
    }
    if !who.account.practice.security.allows(MethodKind::Passkey) {
        return Err(HtmlError(AppError::MethodNotAllowed));
    }
    let form: PasskeyForm = flash.as_ref().and_then(Flash::form).unwrap_or_default();
    let page = PasskeyPage {
        chrome: Chrome::new(&who, csrf, "profile"),
        label: form.label,
        error,
    };
    Ok(render(StatusCode::OK, &page))
}

/// The browser's new passkey: it is the person's. A first method shows the recovery codes at
/// once, in this answer alone.
pub async fn submit_passkey(
    State(state): State<AppState>,
    Client(client): Client,
    Session(who, _): PageSetupSession,
    Csrf(csrf): Csrf,
    CsrfForm(form): CsrfForm<PasskeyForm>,
) -> Result<Response, HtmlError> {
    let credential = serde_json::from_str(&form.credential).unwrap_or_default();
    let passkeys = &state.latch.passkeys;
    match passkeys
        .register(&who, &form.label, &credential, &client)
        .await
    {
        Ok(added) => Ok(method_added(&state, &who, csrf, added.confirmed, "passkey")),
        Err(AppError::ReauthenticationRequired) => Ok(see_other("/profile/two-factor/passkey")),
        Err(e @ (AppError::InvalidCredential | AppError::InvalidRequest(_))) => {
            let refused = OneError::of(refusal(&e));
            Ok(flash::back("/profile/two-factor/passkey", &refused, &form))
        }
        Err(e) => Err(HtmlError(e)),
    }
}
