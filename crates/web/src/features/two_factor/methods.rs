//! The pages of the methods beside the phone: adding an authenticator app, recovery codes made
//! and shown once, the method a sign-in asks for first, and removing one; with their views.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use latch_app::AppError;
use latch_app::methods::{AppBegun, MethodConfirmed, MethodView};
use latch_app::sign_in::Authenticated;
use latch_domain::method::{MethodKind, RecoveryCode};
use latch_domain::session::SessionState;
use serde::Deserialize;

use super::api::qr_svg;
use super::pages::password_step;
use crate::AppState;
use crate::features::sign_in::pages::shown_beside_code_form;
use crate::http::cookies::with_session;
use crate::http::error::HtmlError;
use crate::http::extract::{Client, PageSession, PageSetupSession, Session};
use crate::http::flash::{self, Flash, Flashed, OneError};
use crate::http::forms::{Csrf, CsrfForm, CsrfOnlyForm, csrf_form};
use crate::http::layout::{Chrome, render, see_other};
use crate::words::code_refusal;

csrf_form!(AppCodeForm {} secret { code });
csrf_form!(PreferredForm { kind });

#[derive(Template)]
#[template(path = "two_factor_app.html")]
pub struct AppPage {
    chrome: Chrome,
    /// The QR code, an SVG drawn by latch from the secret's `otpauth://` address.
    qr_svg: String,
    /// The secret in groups of four, for typing.
    secret: String,
    error: Option<String>,
}

/// Adding an authenticator app: the password again (unless this is the practice's required
/// setup), then the QR code and the secret, and the app's first code.
pub async fn show_app(
    State(state): State<AppState>,
    Session(who, _): PageSetupSession,
    Csrf(csrf): Csrf,
    Flashed(flash): Flashed,
) -> Result<Response, HtmlError> {
    let OneError { error } = flash.as_ref().map(Flash::errors).unwrap_or_default();
    let required_setup = who.session.state == SessionState::TwoFactorSetupRequired;
    if !required_setup && !who.is_reauthenticated(state.latch.now()) {
        return Ok(render(
            StatusCode::OK,
            &password_step(&who, csrf, "app", error),
        ));
    }
    let methods = &state.latch.methods;
    let begun: AppBegun = match methods.pending_app(&who).await? {
        Some(begun) => begun,
        None => methods.begin_app(&who).await?,
    };
    let page = AppPage {
        chrome: Chrome::new(&who, csrf, "profile"),
        qr_svg: inline_svg(qr_svg(&begun.uri).map_err(|_| AppError::Internal("a QR code".into()))?),
        secret: begun.secret.grouped(),
        error,
    };
    Ok(render(StatusCode::OK, &page))
}

/// An SVG document as it stands inside a page: without its XML declaration.
fn inline_svg(document: String) -> String {
    match document.find("<svg") {
        Some(at) => document[at..].to_owned(),
        None => document,
    }
}

/// The app's first code: the app is on. A first method shows the recovery codes at once, in
/// this answer alone.
pub async fn submit_app(
    State(state): State<AppState>,
    Client(client): Client,
    Session(who, _): PageSetupSession,
    Csrf(csrf): Csrf,
    CsrfForm(form): CsrfForm<AppCodeForm>,
) -> Result<Response, HtmlError> {
    let confirmed = state
        .latch
        .methods
        .confirm_app(&who, &form.code, &client)
        .await;
    match confirmed {
        Ok(confirmed) => Ok(method_added(&state, &who, csrf, confirmed, "app")),
        Err(AppError::NoSetupInProgress) => Ok(see_other("/profile/two-factor/app")),
        Err(e) if shown_beside_code_form(&e) => Ok(flash::back(
            "/profile/two-factor/app",
            &OneError::of(code_refusal(&e)),
            &(),
        )),
        Err(e) => Err(HtmlError(e)),
    }
}

/// Where a method just added leads: its first recovery codes, shown once, when it was the
/// first; else My Profile, saying it was `done`.
pub(crate) fn method_added(
    state: &AppState,
    who: &Authenticated,
    csrf: String,
    confirmed: MethodConfirmed,
    done: &str,
) -> Response {
    let profile = format!("/profile?done={done}");
    let response = match confirmed.recovery_codes {
        Some(codes) => {
            let next = match who.session.state {
                SessionState::TwoFactorSetupRequired => "/dashboard",
                _ => &profile,
            };
            recovery_codes_page(who, csrf, &codes, true, next)
        }
        None => see_other(&profile),
    };
    with_session(response, &state.config, confirmed.signed_in.as_ref())
}

#[derive(Template)]
#[template(path = "recovery_codes.html")]
pub struct RecoveryCodesPage {
    chrome: Chrome,
    /// Shown this once; none on the page that offers a new set.
    codes: Vec<String>,
    /// They came with the first method.
    first: bool,
    next: String,
    left: i64,
}

pub(crate) fn recovery_codes_page(
    who: &Authenticated,
    csrf: String,
    codes: &[RecoveryCode],
    first: bool,
    next: &str,
) -> Response {
    let page = RecoveryCodesPage {
        chrome: Chrome::new(who, csrf, "profile"),
        codes: codes.iter().map(|c| c.expose().to_owned()).collect(),
        first,
        next: next.to_owned(),
        left: 0,
    };
    render(StatusCode::OK, &page)
}

/// Recovery codes: the password again, then a new set on request.
pub async fn show_recovery_codes(
    State(state): State<AppState>,
    Session(who, _): PageSession,
    Csrf(csrf): Csrf,
    Flashed(flash): Flashed,
) -> Result<Response, HtmlError> {
    let OneError { error } = flash.as_ref().map(Flash::errors).unwrap_or_default();
    if !who.account.person.has_two_factor() {
        return Ok(see_other("/profile"));
    }
    if error.is_some() || !who.is_reauthenticated(state.latch.now()) {
        let page = password_step(&who, csrf, "recovery", error);
        return Ok(render(StatusCode::OK, &page));
    }
    let methods = state.latch.methods.methods(&who.account.person).await?;
    let page = RecoveryCodesPage {
        chrome: Chrome::new(&who, csrf, "profile"),
        codes: Vec::new(),
        first: false,
        next: "/profile".to_owned(),
        left: methods.recovery_codes_left,
    };
    Ok(render(StatusCode::OK, &page))
}

pub async fn submit_recovery_codes(
    State(state): State<AppState>,
    Client(client): Client,
    Session(who, _): PageSession,
    Csrf(csrf): Csrf,
    CsrfForm(_): CsrfForm<CsrfOnlyForm>,
) -> Result<Response, HtmlError> {
    let made = state.latch.methods.new_recovery_codes(&who, &client).await;
    match made {
        Ok(codes) => Ok(recovery_codes_page(&who, csrf, &codes, false, "/profile")),
        Err(AppError::ReauthenticationRequired) => {
            Ok(see_other("/profile/two-factor/recovery-codes"))
        }
        Err(e) => Err(HtmlError(e)),
    }
}

/// Chooses the method a sign-in asks for first.
pub async fn submit_preferred(
    State(state): State<AppState>,
    Session(who, _): PageSession,
    CsrfForm(form): CsrfForm<PreferredForm>,
) -> Result<Response, HtmlError> {
    state.latch.methods.set_preferred(&who, &form.kind).await?;
    Ok(see_other("/profile?done=preferred#two-factor"))
}

#[derive(Template)]
#[template(path = "two_factor_remove.html")]
pub struct RemovePage {
    chrome: Chrome,
    id: String,
    /// "your authenticator app", "texts to +1 ••• ••• ••23".
    what: String,
    /// It is the last: two-factor goes off with it.
    last: bool,
}

/// Removing a method: the password again, then what goes with it, then the button.
pub async fn show_remove(
    State(state): State<AppState>,
    Session(who, _): PageSession,
    Csrf(csrf): Csrf,
    Path(id): Path<String>,
    Flashed(flash): Flashed,
) -> Result<Response, HtmlError> {
    let methods = state.latch.methods.methods(&who.account.person).await?;
    let Some(method) = methods.methods.iter().find(|m| m.id == id) else {
        return Err(HtmlError(AppError::NotFound));
    };
    let OneError { error } = flash.as_ref().map(Flash::errors).unwrap_or_default();
    if error.is_some() || !who.is_reauthenticated(state.latch.now()) {
        let next = format!("remove:{}", method.id);
        return Ok(render(
            StatusCode::OK,
            &password_step(&who, csrf, &next, error),
        ));
    }
    let page = RemovePage {
        chrome: Chrome::new(&who, csrf, "profile"),
        what: method_words(method),
        id: method.id.clone(),
        last: methods.methods.len() == 1,
    };
    Ok(render(StatusCode::OK, &page))
}

pub async fn submit_remove(
    State(state): State<AppState>,
    Client(client): Client,
    Session(who, _): PageSession,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<CsrfOnlyForm>,
) -> Result<Response, HtmlError> {
    match state.latch.methods.remove(&who, &id, &client).await {
        Ok(()) => Ok(see_other("/profile?done=method-removed#two-factor")),
        // The re-entered password ran out on the way: from My Profile, Remove asks again.
        Err(AppError::ReauthenticationRequired) => Ok(see_other("/profile#two-factor")),
        Err(e) => Err(HtmlError(e)),
    }
}

/// A method as My Profile and its pages name it.
pub(crate) fn method_words(method: &MethodView) -> String {
    match method.kind {
        MethodKind::Sms => format!("Text messages to {}", method.label),
        MethodKind::Voice => format!("Voice calls to {}", method.label),
        MethodKind::Totp => method.label.clone(),
        MethodKind::Passkey => format!("Passkey: {}", method.label),
    }
}
