//! The two-factor wizard (password, phone, code, done) and the turn-off page, with their views and
//! forms.

use crate::AppState;
use crate::features::oidc::Continuing;
use crate::features::sign_in::pages::{
    ChannelForm, CodeQuery, CodeRefused, CodeSaid, lock_notice, other_channel, resent_notice,
    shown_beside_code_form,
};
use crate::http::cookies::with_session;
use crate::http::error::HtmlError;
use crate::http::extract::{Client, PageSession, PageSetupSession, Session};
use crate::http::flash::{self, Flash, Flashed, OneError};
use crate::http::forms::{Csrf, CsrfForm, CsrfOnlyForm, FieldErrors, csrf_form};
use crate::http::layout::{Chrome, render, see_other};
use crate::http::pickers;
use crate::words::password_refusal;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use latch_app::records::Purpose;
use latch_app::records::TwoFactorSetting;
use latch_app::sign_in::Authenticated;
use latch_app::two_factor::SetupInput;
use latch_app::{AppError, Field, Secret};
use latch_domain::method::MethodKind;
use latch_domain::session::SessionState;
use latch_domain::two_factor::Channel;
use serde::{Deserialize, Serialize};

csrf_form!(PasswordStepForm { next } secret { password });

csrf_form!(PhoneForm {
    // "current" keeps the person's number; anything else reads `country` and `phone`.
    number,
    country,
    phone,
    channel,
    extension
});

csrf_form!(ConfirmForm {
    // The method to keep, offered after a code came by the other one.
    channel
} secret { code });

// ----- the setup wizard -------------------------------------------------------------------

fn wizard_heading(who: &Authenticated) -> &'static str {
    if who.account.person.has_two_factor() {
        "Change two-factor authentication"
    } else {
        "Turn on two-factor authentication"
    }
}

#[derive(Template)]
#[template(path = "two_factor_password.html")]
pub struct PasswordStepPage {
    chrome: Chrome,
    heading: &'static str,
    next: String,
    error: Option<String>,
}

#[derive(Default, Serialize, Deserialize)]
pub struct PhoneErrors {
    general: Option<String>,
    phone: Option<String>,
    extension: Option<String>,
}

#[derive(Template)]
#[template(path = "two_factor_phone.html")]
pub struct PhoneStepPage {
    chrome: Chrome,
    heading: &'static str,
    form: PhoneForm,
    errors: PhoneErrors,
    countries: Vec<(&'static str, &'static str)>,
    voice_available: bool,
    /// A change: the number two-factor uses now (masked), which the person may keep.
    current_phone: Option<String>,
    /// An app may be added instead: the practice allows them.
    app_offered: bool,
    /// A passkey may be added instead: they work here and the practice allows them.
    passkey_offered: bool,
}

/// The wizard's frame; a sign-in held for the practice's rule says why.
fn wizard_chrome(who: &Authenticated, csrf: String) -> Chrome {
    let mut chrome = Chrome::new(who, csrf, "profile");
    if who.session.state == SessionState::TwoFactorSetupRequired {
        chrome.info = Some(
            "Your practice requires two-factor authentication. Set it up to finish signing in.",
        );
    }
    chrome
}

fn phone_page(
    state: &AppState,
    who: &Authenticated,
    csrf: String,
    form: PhoneForm,
    errors: PhoneErrors,
) -> PhoneStepPage {
    PhoneStepPage {
        chrome: wizard_chrome(who, csrf),
        heading: wizard_heading(who),
        form,
        errors,
        // A number from any other country would be refused: the list offers only these.
        countries: pickers::countries_among(&who.account.practice.security.allowed_countries),
        voice_available: state.latch.two_factor.voice_available(),
        current_phone: who
            .account
            .person
            .two_factor
            .as_ref()
            .map(|s| s.phone.masked()),
        app_offered: who.account.practice.security.allows(MethodKind::Totp),
        passkey_offered: passkey_offered(state, who),
    }
}

/// Whether a passkey may be added: they work at this address and the practice allows them.
pub(crate) fn passkey_offered(state: &AppState, who: &Authenticated) -> bool {
    let allowed = who.account.practice.security.allows(MethodKind::Passkey);
    allowed && state.latch.passkeys.available()
}

pub(crate) fn password_step(
    who: &Authenticated,
    csrf: String,
    next: &str,
    error: Option<String>,
) -> PasswordStepPage {
    PasswordStepPage {
        chrome: Chrome::new(who, csrf, "profile"),
        heading: match next {
            "off" => "Turn off two-factor authentication",
            "recovery" => "Recovery codes",
            "app" => "Add an authenticator app",
            "passkey" => "Add a passkey",
            _ if next.starts_with("remove:") => "Remove a two-factor method",
            _ => wizard_heading(who),
        },
        next: next.to_owned(),
        error,
    }
}

/// The wizard's start: the password again, then the phone and method.
pub async fn show_setup(
    State(state): State<AppState>,
    Session(who, _): PageSetupSession,
    Csrf(csrf): Csrf,
    Flashed(flash): Flashed,
) -> Response {
    let required_setup = who.session.state == SessionState::TwoFactorSetupRequired;
    // A refused password step comes back to it, whatever re-authentication the session holds.
    let OneError { error } = flash.as_ref().map(Flash::errors).unwrap_or_default();
    if error.is_some() || !required_setup && !who.is_reauthenticated(state.latch.now()) {
        return render(StatusCode::OK, &password_step(&who, csrf, "setup", error));
    }
    let (form, errors): (_, PhoneErrors) =
        flash::refill(flash.as_ref(), || PhoneForm::starting(&who));
    render(
        StatusCode::OK,
        &phone_page(&state, &who, csrf, form, errors),
    )
}

pub async fn submit_password_step(
    State(state): State<AppState>,
    Client(client): Client,
    Session(who, _): PageSession,
    CsrfForm(mut form): CsrfForm<PasswordStepForm>,
) -> Result<Response, HtmlError> {
    let removing = form
        .next
        .strip_prefix("remove:")
        .filter(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric()));
    let next_url = match (form.next.as_str(), removing) {
        (_, Some(id)) => &format!("/profile/two-factor/methods/{id}/remove"),
        ("off", _) => "/profile/two-factor/off",
        ("app", _) => "/profile/two-factor/app",
        ("passkey", _) => "/profile/two-factor/passkey",
        ("recovery", _) => "/profile/two-factor/recovery-codes",
        _ => "/profile/two-factor",
    };
    let password = Secret::new(std::mem::take(&mut form.password));
    match state
        .latch
        .sign_in
        .reauthenticate(&who, &password, &client)
        .await
    {
        Ok((token, _)) => Ok(with_session(
            see_other(next_url),
            &state.config,
            Some(&token),
        )),
        Err(e @ (AppError::InvalidCredentials | AppError::RateLimited { .. })) => {
            let message = password_refusal(&e, "That password is not correct.");
            Ok(flash::back(next_url, &OneError::of(message), &()))
        }
        Err(e) => Err(HtmlError(e)),
    }
}

pub async fn submit_setup(
    State(state): State<AppState>,
    Client(client): Client,
    Session(who, _): PageSetupSession,
    CsrfForm(form): CsrfForm<PhoneForm>,
) -> Result<Response, HtmlError> {
    let current = who.account.person.two_factor.as_ref();
    let started = state
        .latch
        .two_factor
        .start_setup(&who, form.input(current), &client);
    match started.await {
        Ok(_) => Ok(see_other("/profile/two-factor/confirm")),
        Err(AppError::ReauthenticationRequired) => Ok(see_other("/profile/two-factor")),
        Err(AppError::DeliveryFailed(_)) => Ok(see_other("/profile/two-factor/confirm?failed=1")),
        Err(e) => {
            let Some(errors) = PhoneErrors::of(&e) else {
                return Err(HtmlError(e));
            };
            Ok(flash::back("/profile/two-factor", &errors, &form))
        }
    }
}

impl PhoneForm {
    /// The phone step's start: a change starts from the number and method two-factor uses
    /// now, a first setup from a text to a number in the practice's country.
    fn starting(who: &Authenticated) -> PhoneForm {
        let practice_country = &who.account.practice.country;
        match &who.account.person.two_factor {
            Some(now) => PhoneForm {
                number: "current".into(),
                country: now.phone.region().unwrap_or(practice_country).to_owned(),
                channel: now.channel.as_str().into(),
                extension: now.extension.clone().unwrap_or_default(),
                ..PhoneForm::default()
            },
            None => PhoneForm {
                country: practice_country.clone(),
                channel: "sms".into(),
                ..PhoneForm::default()
            },
        }
    }

    /// What the form asks to set up; "Keep this number" sets up the number in use now.
    fn input(&self, current: Option<&TwoFactorSetting>) -> SetupInput {
        let kept = current.filter(|_| self.number == "current");
        SetupInput {
            phone: kept.map_or_else(|| self.phone.clone(), |now| now.phone.e164().to_owned()),
            country: Some(self.country.clone()),
            extension: Some(self.extension.clone()),
            channel: if self.channel.is_empty() {
                "sms".into()
            } else {
                self.channel.clone()
            },
        }
    }
}

impl PhoneErrors {
    /// A refusal the phone step shows beside its field; none for what is an error page.
    fn of(e: &AppError) -> Option<PhoneErrors> {
        let mut errors = PhoneErrors::default();
        if matches!(e, AppError::RateLimited { .. } | AppError::TwoFactorLocked) {
            errors.general = Some(crate::words::refusal(e));
            return Some(errors);
        }
        PhoneErrors::placing(e)
    }
}

impl FieldErrors for PhoneErrors {
    fn beside(&mut self, field: Option<Field>) -> &mut Option<String> {
        match field {
            Some(Field::Phone) => &mut self.phone,
            Some(Field::Extension) => &mut self.extension,
            _ => &mut self.general,
        }
    }
}

#[derive(Template)]
#[template(path = "two_factor_confirm.html")]
pub struct ConfirmStepPage {
    chrome: Chrome,
    heading: &'static str,
    channel: &'static str,
    channel_label: &'static str,
    /// The method the latest code came by, as a choice to keep.
    channel_choice: &'static str,
    /// After a code came by the other method ("Call me instead"): the method chosen, which
    /// stays unless the person keeps the one that worked.
    chosen: Option<(&'static str, &'static str)>,
    phone: String,
    other_channel: Option<(&'static str, &'static str)>,
    error: Option<String>,
    resent: Option<String>,
    /// While the two-factor step is locked: the form and the resend buttons are not shown.
    locked: Option<String>,
    /// A sign-in held for the practice's rule: signing out is the way on.
    held: bool,
}

async fn confirm_page(
    state: &AppState,
    who: &Authenticated,
    csrf: String,
    said: CodeSaid,
) -> Result<Response, AppError> {
    let Some(pending) = state
        .latch
        .two_factor
        .pending_code(who, Purpose::Setup)
        .await?
    else {
        return Ok(see_other("/profile/two-factor"));
    };
    let locked = lock_notice(state, who);
    let page = ConfirmStepPage {
        chrome: wizard_chrome(who, csrf),
        heading: wizard_heading(who),
        channel: pending.channel.as_str(),
        channel_label: pending.channel.label(),
        channel_choice: method_choice(pending.channel),
        chosen: (pending.method != pending.channel)
            .then(|| (pending.method.as_str(), method_choice(pending.method))),
        other_channel: other_channel(state, pending.channel, pending.has_extension),
        resent: said.resent.then(|| resent_notice(who, pending.sent_at)),
        phone: pending.phone,
        error: said.error.filter(|_| locked.is_none()),
        locked,
        held: who.session.state == SessionState::TwoFactorSetupRequired,
    };
    Ok(render(StatusCode::OK, &page))
}

/// A method as the confirm step offers to keep it.
fn method_choice(channel: Channel) -> &'static str {
    match channel {
        Channel::Sms => "Text message (SMS)",
        Channel::Voice => "Voice call",
    }
}

pub async fn show_confirm(
    State(state): State<AppState>,
    Session(who, _): PageSetupSession,
    Csrf(csrf): Csrf,
    Query(q): Query<CodeQuery>,
    Flashed(flash): Flashed,
) -> Result<Response, HtmlError> {
    let said = q.said(flash.as_ref());
    Ok(confirm_page(&state, &who, csrf, said).await?)
}

pub async fn submit_confirm(
    State(state): State<AppState>,
    Client(client): Client,
    Session(who, _): PageSetupSession,
    Csrf(csrf): Csrf,
    CsrfForm(form): CsrfForm<ConfirmForm>,
) -> Result<Response, HtmlError> {
    // The method to keep, when the page asked (after a code came by the other one).
    let keep = Some(form.channel.as_str()).filter(|c| !c.is_empty());
    let confirmed = state
        .latch
        .two_factor
        .confirm_setup(&who, &form.code, keep, &client);
    match confirmed.await {
        Ok(confirmed) => {
            // A sign-in held for the practice's rule goes on to the dashboard from here.
            let next = if confirmed.signed_in.is_some() {
                "/profile/two-factor/done?next=dashboard"
            } else if confirmed.changed {
                "/profile/two-factor/done?changed=1"
            } else {
                "/profile/two-factor/done"
            };
            // A first method's recovery codes are shown in this answer alone, before the rest.
            let done = match &confirmed.recovery_codes {
                Some(codes) => super::methods::recovery_codes_page(&who, csrf, codes, true, next),
                None => see_other(next),
            };
            Ok(with_session(
                done,
                &state.config,
                confirmed.signed_in.as_ref(),
            ))
        }
        Err(AppError::NoSetupInProgress) => Ok(see_other("/profile/two-factor")),
        Err(e) if shown_beside_code_form(&e) => {
            let refused = CodeRefused::of(&e, crate::words::code_refusal(&e));
            Ok(flash::back("/profile/two-factor/confirm", &refused, &form))
        }
        Err(e) => Err(HtmlError(e)),
    }
}

pub async fn submit_setup_resend(
    State(state): State<AppState>,
    Client(client): Client,
    Session(who, _): PageSetupSession,
    CsrfForm(form): CsrfForm<ChannelForm>,
) -> Result<Response, HtmlError> {
    let channel = Some(form.channel.as_str()).filter(|c| !c.is_empty());
    match state
        .latch
        .two_factor
        .resend_setup(&who, channel, &client)
        .await
    {
        Ok(_) => Ok(see_other("/profile/two-factor/confirm?resent=1")),
        Err(AppError::NoSetupInProgress) => Ok(see_other("/profile/two-factor")),
        Err(e) if shown_beside_code_form(&e) => {
            let refused = CodeRefused::of(&e, crate::words::refusal(&e));
            Ok(flash::back("/profile/two-factor/confirm", &refused, &()))
        }
        Err(e) => Err(HtmlError(e)),
    }
}

#[derive(Template)]
#[template(path = "two_factor_done.html")]
pub struct DonePage {
    chrome: Chrome,
    /// After the practice's required setup: on to the dashboard, not back to My Profile.
    to_dashboard: bool,
    /// The application a sign-in waits for, which the setup goes on to.
    application_name: Option<String>,
    /// A change of phone or method, not a first setup.
    changed: bool,
    channel_label: &'static str,
    phone: String,
}

#[derive(Deserialize)]
pub struct DoneQuery {
    next: Option<String>,
    changed: Option<String>,
}

pub async fn show_done(
    Session(who, _): PageSession,
    Csrf(csrf): Csrf,
    Query(q): Query<DoneQuery>,
    Continuing(waiting): Continuing,
) -> Response {
    let Some(setting) = who.account.person.two_factor.as_ref() else {
        return see_other("/profile");
    };
    let phone = setting.phone.masked();
    let page = DonePage {
        channel_label: setting.channel.label(),
        phone,
        chrome: Chrome::new(&who, csrf, "profile"),
        to_dashboard: q.next.as_deref() == Some("dashboard"),
        application_name: waiting.map(|w| w.application_name.clone()),
        changed: q.changed.is_some(),
    };
    render(StatusCode::OK, &page)
}

// ----- turning off ------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "two_factor_off.html")]
pub struct TurnOffPage {
    chrome: Chrome,
}

pub async fn show_turn_off(
    State(state): State<AppState>,
    Session(who, _): PageSession,
    Csrf(csrf): Csrf,
    Flashed(flash): Flashed,
) -> Response {
    let person = &who.account.person;
    if !person.has_two_factor() {
        return see_other("/profile");
    }
    if who
        .account
        .practice
        .security
        .require_two_factor
        .covers(person.role)
    {
        return HtmlError(AppError::TwoFactorRequiredByPractice).into_response();
    }
    let OneError { error } = flash.as_ref().map(Flash::errors).unwrap_or_default();
    if error.is_some() || !who.is_reauthenticated(state.latch.now()) {
        return render(StatusCode::OK, &password_step(&who, csrf, "off", error));
    }
    render(
        StatusCode::OK,
        &TurnOffPage {
            chrome: Chrome::new(&who, csrf, "profile"),
        },
    )
}

pub async fn submit_turn_off(
    State(state): State<AppState>,
    Client(client): Client,
    Session(who, _): PageSession,
    CsrfForm(_): CsrfForm<CsrfOnlyForm>,
) -> Result<Response, HtmlError> {
    match state.latch.two_factor.turn_off(&who, &client).await {
        Ok(()) => Ok(see_other("/profile?done=two-factor-off")),
        Err(AppError::ReauthenticationRequired) => Ok(see_other("/profile/two-factor/off")),
        Err(e) => Err(HtmlError(e)),
    }
}
