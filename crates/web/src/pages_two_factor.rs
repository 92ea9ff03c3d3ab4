//! The two-factor pages: the code step of a sign-in, the setup wizard (password, phone and
//! method, code, congratulations), turning off, remembered devices, and the dev outbox.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use latch_app::records::Purpose;
use latch_app::sign_in::Authenticated;
use latch_app::two_factor::SetupInput;
use latch_app::{AppError, Field, Secret};
use latch_domain::country::Country;
use latch_domain::session::SessionState;
use latch_domain::two_factor::Channel;
use serde::Deserialize;

use crate::AppState;
use crate::api_two_factor::remember_cookie;
use crate::cookies::{self, with_cookie};
use crate::error::HtmlError;
use crate::extract::{
    Browser, Client, DirectLoopback, PagePending, PageSession, PageSetupSession, Session,
};
use crate::pages::{Chrome, Csrf, CsrfForm, CsrfOnlyForm, HasCsrf, csrf_form, render, see_other};

csrf_form!(CodeForm { code, remember });
csrf_form!(ChannelForm { channel });
csrf_form!(PasswordStepForm { next, password });
csrf_form!(PhoneForm {
    country,
    phone,
    channel,
    extension
});
csrf_form!(ConfirmForm { code });

/// "Call me instead" / "Text me instead", when the other method is available.
fn other_channel(
    state: &AppState,
    channel: Channel,
    has_extension: bool,
) -> Option<(&'static str, &'static str)> {
    match channel.other() {
        Channel::Voice if state.latch.two_factor.voice_available() => {
            Some(("voice", "Call me instead"))
        }
        Channel::Sms if !has_extension => Some(("sms", "Text me instead")),
        _ => None,
    }
}

/// Refusals a code or resend form shows beside itself; anything else is an error page.
fn shown_beside_code_form(e: &AppError) -> bool {
    matches!(
        e,
        AppError::InvalidCode { .. }
            | AppError::CodeExpired
            | AppError::RateLimited { .. }
            | AppError::TwoFactorLocked
            | AppError::DeliveryFailed { .. }
            | AppError::InvalidRequest(_)
            | AppError::InvalidPhone(_)
    )
}

/// A refusal on a page that shows it beside the form, with `Retry-After` on throttles.
fn with_status(mut response: Response, e: &AppError) -> Response {
    *response.status_mut() = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
    if let Some(seconds) = e.retry_after() {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

// ----- the code step of a sign-in ---------------------------------------------------------

pub struct Sent {
    channel_label: &'static str,
    phone: String,
}

#[derive(Template)]
#[template(path = "enter_code.html")]
pub struct EnterCodePage {
    csrf: String,
    sent: Option<Sent>,
    channel: &'static str,
    /// The other method, offered first when it is the one that may work, else after a resend.
    other_before: Option<(&'static str, &'static str)>,
    other_after: Option<(&'static str, &'static str)>,
    remember_days: u32,
    error: Option<String>,
}

/// The code page. After a failed delivery it does not claim a code was sent, and it puts the
/// method that may work (`prefer`) first.
async fn code_page(
    state: &AppState,
    who: &Authenticated,
    csrf: String,
    error: Option<String>,
    delivery_failed: bool,
    prefer: Option<Channel>,
) -> Result<Response, AppError> {
    let pending = state
        .latch
        .two_factor
        .pending_code(who, Purpose::SignIn)
        .await?;
    let setting = who.account.person.two_factor.as_ref();
    let channel = pending
        .as_ref()
        .map(|p| p.channel)
        .or(setting.map(|s| s.channel))
        .unwrap_or(Channel::Sms);
    let has_extension = setting.is_some_and(|s| s.extension.is_some());
    let delivered = prefer.is_none() && !delivery_failed;
    let page = EnterCodePage {
        csrf,
        sent: pending.filter(|_| delivered).map(|p| Sent {
            channel_label: p.channel.label(),
            phone: p.phone,
        }),
        channel: channel.as_str(),
        other_before: other_channel(state, channel, has_extension)
            .filter(|_| prefer == Some(channel.other())),
        other_after: other_channel(state, channel, has_extension)
            .filter(|_| prefer != Some(channel.other())),
        remember_days: who.account.practice.security.remember_device_days,
        error,
    };
    Ok(render(StatusCode::OK, &page))
}

#[derive(Deserialize)]
pub struct CodeQuery {
    failed: Option<String>,
}

pub async fn show_code(
    State(state): State<AppState>,
    Session(who, _): PagePending,
    Csrf(csrf): Csrf,
    Query(q): Query<CodeQuery>,
) -> Result<Response, HtmlError> {
    let (error, prefer) = match q.failed.as_deref() {
        None => (None, None),
        // After STOP or a number that can't take texts, a call is the first choice.
        Some("voice") => (
            Some("We couldn't text your phone. We can call it instead: choose Call me instead below.".to_owned()),
            Some(Channel::Voice),
        ),
        Some("sms") => (
            Some("We couldn't call your phone. We can text it instead: choose Text me instead below.".to_owned()),
            Some(Channel::Sms),
        ),
        Some(_) => (
            Some("We couldn't send your code just now. Try again, or choose the other method below.".to_owned()),
            None,
        ),
    };
    let failed = q.failed.is_some();
    let mut response = code_page(&state, &who, csrf, error, failed, prefer).await?;
    if prefer.is_some() {
        *response.status_mut() = StatusCode::OK;
    }
    Ok(response)
}

pub async fn submit_code(
    State(state): State<AppState>,
    Client(client): Client,
    Session(who, _): PagePending,
    Browser(browser): Browser,
    Csrf(csrf): Csrf,
    CsrfForm(form): CsrfForm<CodeForm>,
) -> Result<Response, HtmlError> {
    let remember = form.remember == "yes";
    match state
        .latch
        .sign_in
        .verify_code(&who, &form.code, remember, &client)
        .await
    {
        Ok(accepted) => {
            let mut response = with_cookie(
                see_other("/dashboard"),
                cookies::session(&state.config, accepted.token.expose()),
            );
            if let Some(cookie) = remember_cookie(&state.config, browser, &accepted) {
                response = with_cookie(response, cookie);
            }
            Ok(response)
        }
        Err(e) if shown_beside_code_form(&e) => {
            let message = match &e {
                AppError::InvalidCode {
                    malformed: true, ..
                } => e.to_string(),
                AppError::InvalidCode { attempts_left, .. } if *attempts_left > 0 => {
                    format!("{e} You can try {attempts_left} more time{}.", if *attempts_left == 1 { "" } else { "s" })
                }
                AppError::InvalidCode { .. } => "That code is not correct, and it can't be tried again. Ask for a new code below.".to_owned(),
                _ => e.to_string(),
            };
            Ok(with_status(
                code_page(&state, &who, csrf, Some(message), false, None).await?,
                &e,
            ))
        }
        Err(e) => Err(HtmlError(e)),
    }
}

pub async fn submit_code_resend(
    State(state): State<AppState>,
    Client(client): Client,
    Session(who, _): PagePending,
    Csrf(csrf): Csrf,
    CsrfForm(form): CsrfForm<ChannelForm>,
) -> Result<Response, HtmlError> {
    let channel = Some(form.channel.as_str()).filter(|c| !c.is_empty());
    match state
        .latch
        .two_factor
        .resend_sign_in(&who, channel, &client)
        .await
    {
        Ok(_) => Ok(see_other("/sign-in/code")),
        Err(e) if shown_beside_code_form(&e) => Ok(with_status(
            code_page(
                &state,
                &who,
                csrf,
                Some(e.to_string()),
                matches!(e, AppError::DeliveryFailed { .. }),
                None,
            )
            .await?,
            &e,
        )),
        Err(e) => Err(HtmlError(e)),
    }
}

// ----- the setup wizard -------------------------------------------------------------------

fn wizard_heading(who: &Authenticated) -> &'static str {
    if who.account.person.two_factor.is_some() {
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
    next: &'static str,
    error: Option<String>,
}

#[derive(Default)]
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
}

/// The wizard's frame; a sign-in held for the practice's rule says why.
fn wizard_chrome(who: &Authenticated, csrf: String) -> Chrome {
    let mut chrome = Chrome::new(who, csrf, "profile");
    if who.session.state == SessionState::TwoFactorSetupRequired {
        chrome.notice = Some(
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
        countries: Country::all().map(|c| (c.code(), c.name())).collect(),
        voice_available: state.latch.two_factor.voice_available(),
    }
}

fn password_step(
    who: &Authenticated,
    csrf: String,
    next: &'static str,
    error: Option<String>,
) -> PasswordStepPage {
    PasswordStepPage {
        chrome: Chrome::new(who, csrf, "profile"),
        heading: if next == "off" {
            "Turn off two-factor authentication"
        } else {
            wizard_heading(who)
        },
        next,
        error,
    }
}

/// The wizard's start: the password again, then the phone and method.
pub async fn show_setup(
    State(state): State<AppState>,
    Session(who, _): PageSetupSession,
    Csrf(csrf): Csrf,
) -> Response {
    let required_setup = who.session.state == SessionState::TwoFactorSetupRequired;
    if !required_setup && !who.is_reauthenticated(state.latch.now()) {
        return render(StatusCode::OK, &password_step(&who, csrf, "setup", None));
    }
    let country = who.account.practice.country.clone();
    let form = PhoneForm {
        country,
        channel: "sms".into(),
        ..PhoneForm::default()
    };
    render(
        StatusCode::OK,
        &phone_page(&state, &who, csrf, form, PhoneErrors::default()),
    )
}

pub async fn submit_password_step(
    State(state): State<AppState>,
    Client(client): Client,
    Session(who, _): PageSession,
    Csrf(csrf): Csrf,
    CsrfForm(mut form): CsrfForm<PasswordStepForm>,
) -> Result<Response, HtmlError> {
    let (next, next_url) = match form.next.as_str() {
        "off" => ("off", "/profile/two-factor/off"),
        _ => ("setup", "/profile/two-factor"),
    };
    let password = Secret::new(std::mem::take(&mut form.password));
    match state
        .latch
        .sign_in
        .reauthenticate(&who, &password, &client)
        .await
    {
        Ok((token, _)) => Ok(with_cookie(
            see_other(next_url),
            cookies::session(&state.config, token.expose()),
        )),
        Err(e @ (AppError::InvalidCredentials | AppError::RateLimited { .. })) => {
            let message = match e {
                AppError::InvalidCredentials => "That password is not correct.".to_owned(),
                ref other => other.to_string(),
            };
            Ok(with_status(
                render(
                    StatusCode::OK,
                    &password_step(&who, csrf, next, Some(message)),
                ),
                &e,
            ))
        }
        Err(e) => Err(HtmlError(e)),
    }
}

pub async fn submit_setup(
    State(state): State<AppState>,
    Client(client): Client,
    Session(who, _): PageSetupSession,
    Csrf(csrf): Csrf,
    CsrfForm(form): CsrfForm<PhoneForm>,
) -> Result<Response, HtmlError> {
    let input = SetupInput {
        phone: form.phone.clone(),
        country: Some(form.country.clone()),
        extension: Some(form.extension.clone()),
        channel: if form.channel.is_empty() {
            "sms".into()
        } else {
            form.channel.clone()
        },
    };
    match state
        .latch
        .two_factor
        .start_setup(&who, input, &client)
        .await
    {
        Ok(_) => Ok(see_other("/profile/two-factor/confirm")),
        Err(AppError::ReauthenticationRequired) => Ok(see_other("/profile/two-factor")),
        Err(AppError::DeliveryFailed { .. }) => {
            Ok(see_other("/profile/two-factor/confirm?failed=1"))
        }
        Err(e) => {
            let mut errors = PhoneErrors::default();
            let message = e.to_string();
            match &e {
                AppError::InvalidPhone(_) | AppError::PhoneNotAllowed(_)
                    if e.field() == Some(Field::Extension) =>
                {
                    errors.extension = Some(message)
                }
                AppError::InvalidPhone(_) | AppError::PhoneNotAllowed(_) => {
                    errors.phone = Some(message)
                }
                AppError::InvalidRequest(_)
                | AppError::RateLimited { .. }
                | AppError::TwoFactorLocked => errors.general = Some(message),
                _ => return Err(HtmlError(e)),
            }
            Ok(with_status(
                render(
                    StatusCode::OK,
                    &phone_page(&state, &who, csrf, form, errors),
                ),
                &e,
            ))
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
    phone: String,
    other_channel: Option<(&'static str, &'static str)>,
    error: Option<String>,
}

async fn confirm_page(
    state: &AppState,
    who: &Authenticated,
    csrf: String,
    error: Option<String>,
) -> Result<Response, AppError> {
    let Some(pending) = state
        .latch
        .two_factor
        .pending_code(who, Purpose::Setup)
        .await?
    else {
        return Ok(see_other("/profile/two-factor"));
    };
    let page = ConfirmStepPage {
        chrome: wizard_chrome(who, csrf),
        heading: wizard_heading(who),
        channel: pending.channel.as_str(),
        channel_label: pending.channel.label(),
        other_channel: other_channel(state, pending.channel, pending.has_extension),
        phone: pending.phone,
        error,
    };
    Ok(render(StatusCode::OK, &page))
}

pub async fn show_confirm(
    State(state): State<AppState>,
    Session(who, _): PageSetupSession,
    Csrf(csrf): Csrf,
    Query(q): Query<CodeQuery>,
) -> Result<Response, HtmlError> {
    let error = q.failed.map(|_| {
        "We couldn't send your code just now. Try again, or choose the other method below."
            .to_owned()
    });
    Ok(confirm_page(&state, &who, csrf, error).await?)
}

pub async fn submit_confirm(
    State(state): State<AppState>,
    Client(client): Client,
    Session(who, _): PageSetupSession,
    Csrf(csrf): Csrf,
    CsrfForm(form): CsrfForm<ConfirmForm>,
) -> Result<Response, HtmlError> {
    match state
        .latch
        .two_factor
        .confirm_setup(&who, &form.code, &client)
        .await
    {
        Ok(confirmed) => Ok(match confirmed.signed_in {
            Some(token) => with_cookie(
                see_other("/profile/two-factor/done"),
                cookies::session(&state.config, token.expose()),
            ),
            None => see_other("/profile/two-factor/done"),
        }),
        Err(AppError::NoSetupInProgress) => Ok(see_other("/profile/two-factor")),
        Err(e) if shown_beside_code_form(&e) => Ok(with_status(
            confirm_page(&state, &who, csrf, Some(e.to_string())).await?,
            &e,
        )),
        Err(e) => Err(HtmlError(e)),
    }
}

pub async fn submit_setup_resend(
    State(state): State<AppState>,
    Client(client): Client,
    Session(who, _): PageSetupSession,
    Csrf(csrf): Csrf,
    CsrfForm(form): CsrfForm<ChannelForm>,
) -> Result<Response, HtmlError> {
    let channel = Some(form.channel.as_str()).filter(|c| !c.is_empty());
    match state
        .latch
        .two_factor
        .resend_setup(&who, channel, &client)
        .await
    {
        Ok(_) => Ok(see_other("/profile/two-factor/confirm")),
        Err(AppError::NoSetupInProgress) => Ok(see_other("/profile/two-factor")),
        Err(e) if shown_beside_code_form(&e) => Ok(with_status(
            confirm_page(&state, &who, csrf, Some(e.to_string())).await?,
            &e,
        )),
        Err(e) => Err(HtmlError(e)),
    }
}

#[derive(Template)]
#[template(path = "two_factor_done.html")]
pub struct DonePage {
    chrome: Chrome,
    channel_label: &'static str,
    phone: String,
}

pub async fn show_done(Session(who, _): PageSession, Csrf(csrf): Csrf) -> Response {
    let Some(setting) = who.account.person.two_factor.as_ref() else {
        return see_other("/profile");
    };
    let phone = latch_domain::phone::PhoneNumber::from_stored(&setting.phone)
        .map_or_else(String::new, |p| p.masked());
    let page = DonePage {
        channel_label: setting.channel.label(),
        phone,
        chrome: Chrome::new(&who, csrf, "profile"),
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
) -> Response {
    let person = &who.account.person;
    if person.two_factor.is_none() {
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
    if !who.is_reauthenticated(state.latch.now()) {
        return render(StatusCode::OK, &password_step(&who, csrf, "off", None));
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

// ----- remembered devices -----------------------------------------------------------------

pub async fn submit_forget_device(
    State(state): State<AppState>,
    Client(client): Client,
    Session(who, _): PageSession,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<CsrfOnlyForm>,
) -> Result<Response, HtmlError> {
    state.latch.devices.forget(&who, &id, &client).await?;
    Ok(see_other("/profile?done=device"))
}

pub async fn submit_forget_all_devices(
    State(state): State<AppState>,
    Client(client): Client,
    Session(who, _): PageSession,
    Browser(browser): Browser,
    CsrfForm(_): CsrfForm<CsrfOnlyForm>,
) -> Result<Response, HtmlError> {
    state.latch.devices.forget_all(&who, &client).await?;
    let tag = state.latch.devices.tag_for(&who.account.person.id);
    let days = i64::from(who.account.practice.security.remember_device_days.max(1)) * 86_400;
    Ok(with_cookie(
        see_other("/profile?done=devices"),
        cookies::devices(&state.config, &browser.without(&tag), days),
    ))
}

// ----- the development outbox ------------------------------------------------------------

pub struct OutboxRow {
    id: i64,
    to: String,
    channel: &'static str,
    body: String,
    code: Option<String>,
    sent_at: String,
}

#[derive(Template)]
#[template(path = "outbox.html")]
pub struct OutboxPage {
    messages: Vec<OutboxRow>,
}

pub async fn show_outbox(
    State(state): State<AppState>,
    DirectLoopback(loopback): DirectLoopback,
) -> Result<Response, HtmlError> {
    let messages = match state.latch.outbox_messages(None, 100).await? {
        Some(messages) if loopback => messages,
        _ => return Ok(crate::pages::not_found().await),
    };
    let page = OutboxPage {
        messages: messages
            .into_iter()
            .map(|m| OutboxRow {
                id: m.id,
                to: m.to,
                channel: m.channel.label(),
                body: m.body,
                code: m.code,
                sent_at: m.sent_at.to_rfc3339(),
            })
            .collect(),
    };
    Ok(render(StatusCode::OK, &page))
}
