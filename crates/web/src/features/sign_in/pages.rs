//! The sign-in page and the code page, with their views and forms.

use crate::AppState;
use crate::features::oidc::{Continuing, landing};
use crate::http::cookies::{self, with_cookie, with_session};
use crate::http::error::HtmlError;
use crate::http::extract::{AnySession, Browser, Client, PagePending, PageSession, Session};
use crate::http::flash::{self, Flash, Flashed, OneError};
use crate::http::forms::{Csrf, CsrfForm, CsrfOnlyForm, csrf_form};
use crate::http::json::remember_cookie;
use crate::http::layout::{NoticeQuery, notice_for, render, see_other};
use crate::words::{code_refusal, delivery_failure};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use latch_app::records::Purpose;
use latch_app::sign_in::{Authenticated, SignedIn};
use latch_app::{AppError, Secret};
use latch_domain::method::Answer;
use latch_domain::two_factor::{Channel, Locked};
use serde::{Deserialize, Serialize};

#[derive(Template)]
#[template(path = "sign_in.html")]
pub struct SignInPage {
    csrf: String,
    email: String,
    error: Option<String>,
    notice: Option<&'static str>,
    /// The application a waiting request came from.
    application_name: Option<String>,
    /// Passkeys work at this address: "Sign in with a passkey" is offered.
    passkeys: bool,
}

csrf_form!(SignInForm { email } secret { password });

pub async fn show_sign_in(
    State(state): State<AppState>,
    session: Option<PageSession>,
    Csrf(csrf): Csrf,
    Query(q): Query<NoticeQuery>,
    Flashed(flash): Flashed,
    continuing: Continuing,
) -> Result<Response, HtmlError> {
    if session.is_some() {
        return Ok(see_other(landing(&continuing)));
    }
    if state.latch.setup.needs_first_run().await? {
        return Ok(see_other("/setup"));
    }
    let waiting = continuing.0.as_deref();
    let hint = || SignInForm {
        email: waiting
            .and_then(|w| w.login_hint.clone())
            .unwrap_or_default(),
        ..SignInForm::default()
    };
    let form: SignInForm = flash.as_ref().and_then(Flash::form).unwrap_or_else(hint);
    let OneError { error } = flash.as_ref().map(Flash::errors).unwrap_or_default();
    Ok(render(
        StatusCode::OK,
        &SignInPage {
            csrf,
            email: form.email,
            error,
            notice: notice_for(q.done.as_deref()),
            application_name: waiting.map(|w| w.application_name.clone()),
            passkeys: state.latch.passkeys.available(),
        },
    ))
}

pub async fn submit_sign_in(
    State(state): State<AppState>,
    Client(client): Client,
    AnySession(previous): AnySession,
    Browser(browser): Browser,
    continuing: Continuing,
    CsrfForm(mut form): CsrfForm<SignInForm>,
) -> Result<Response, HtmlError> {
    let password = Secret::new(std::mem::take(&mut form.password));
    let sign_in = &state.latch.sign_in;
    match sign_in
        .sign_in(&form.email, &password, &client, &browser)
        .await
    {
        Ok(signed_in) => {
            if let Some(previous) = previous {
                sign_in.sign_out(&previous, &client).await?;
            }
            let next = see_other(&next_after_password(&signed_in, &continuing));
            let seen = cookies::seen_by(&state, &browser, &signed_in.account.person.id);
            let next = with_cookie(next, seen);
            Ok(with_session(next, &state.config, Some(&signed_in.token)))
        }
        Err(
            e @ (AppError::InvalidCredentials
            | AppError::RateLimited { .. }
            | AppError::AccountDeactivated),
        ) => {
            let error = OneError::of(crate::words::refusal(&e));
            Ok(flash::back("/sign-in", &error, &form))
        }
        Err(e) => Err(HtmlError(e)),
    }
}

/// Where a right password leads: the dashboard (or the application waiting), or the code page
/// (saying how the code went).
fn next_after_password(signed_in: &SignedIn, continuing: &Continuing) -> String {
    match (&signed_in.code, &signed_in.delivery_failed) {
        (None, None) => landing(continuing).to_owned(),
        (Some(code), _) => format!("/sign-in/code?sent={}", code.channel.as_str()),
        (None, Some(AppError::DeliveryFailed(failure))) => match failure.try_instead() {
            Some(other) => format!("/sign-in/code?failed={}", other.as_str()),
            None => "/sign-in/code?failed=1".to_owned(),
        },
        (None, Some(_)) => "/sign-in/code?failed=1".to_owned(),
    }
}

#[derive(Template)]
#[template(path = "sign_out.html")]
pub struct SignOutPage {
    csrf: String,
    person_name: String,
    email: String,
}

/// `/sign-out`: an application asked to sign the person out without its ID token, so the
/// person says whether to.
pub async fn show_sign_out(AnySession(session): AnySession, Csrf(csrf): Csrf) -> Response {
    let Some(who) = session else {
        return see_other("/sign-in?done=signed-out");
    };
    let person = &who.account.person;
    render(
        StatusCode::OK,
        &SignOutPage {
            csrf,
            person_name: person.name.clone(),
            email: person.email.as_str().to_owned(),
        },
    )
}

pub async fn submit_sign_out(
    State(state): State<AppState>,
    Client(client): Client,
    // Any session signs out, a sign-in waiting for its code included.
    AnySession(session): AnySession,
    CsrfForm(_): CsrfForm<CsrfOnlyForm>,
) -> Result<Response, HtmlError> {
    if let Some(who) = session {
        state.latch.sign_in.sign_out(&who, &client).await?;
    }
    Ok(with_cookie(
        see_other("/sign-in?done=signed-out"),
        cookies::clear_session(&state.config),
    ))
}

csrf_form!(CodeForm { remember, method } secret { code });

csrf_form!(ChannelForm { channel });

/// "Call me instead" / "Text me instead", when the other method is available.
pub(crate) fn other_channel(
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
pub(crate) fn shown_beside_code_form(e: &AppError) -> bool {
    matches!(
        e,
        AppError::InvalidCode { .. }
            | AppError::CodeExpired
            | AppError::RateLimited { .. }
            | AppError::TwoFactorLocked
            | AppError::DeliveryFailed(_)
            | AppError::InvalidRequest(_)
            | AppError::InvalidPhone(_)
    )
}

// ----- the code step of a sign-in ---------------------------------------------------------

pub struct Sent {
    channel_label: &'static str,
    phone: String,
}

/// Another way to answer the second step, as the code page offers it.
pub struct OtherMethod {
    /// A channel to send a code by, posted to the resend; none for a link.
    send_by: Option<&'static str>,
    /// This page for another method.
    href: String,
    words: &'static str,
}

#[derive(Template)]
#[template(path = "enter_code.html")]
pub struct EnterCodePage {
    csrf: String,
    sent: Option<Sent>,
    /// After a resend that worked: when, and that older codes no longer work.
    resent: Option<String>,
    channel: &'static str,
    /// The other method, offered first when it is the one that may work, else after a resend.
    other_before: Option<(&'static str, &'static str)>,
    other_after: Option<(&'static str, &'static str)>,
    /// What this page asks for: a code sent to the phone (`sms` or `voice`), the app's
    /// (`totp`) or a recovery code (`recovery_code`).
    method: &'static str,
    /// A code was (or was meant to be) sent to the phone: its resends are offered.
    by_phone: bool,
    /// The person's other ways to answer ("Use another method"): a resend by a channel, or a
    /// link to this page for another method; each with its words.
    others: Vec<OtherMethod>,
    remember_days: u32,
    error: Option<String>,
    /// While the two-factor step is locked: until when, and who can unlock it. The form and
    /// the resend buttons, which cannot work then, are not shown.
    locked: Option<String>,
}

/// What a code page says above its form, beside the code that is pending.
#[derive(Default)]
pub(crate) struct CodeSaid {
    pub(crate) error: Option<String>,
    pub(crate) delivery_failed: bool,
    /// The method that may work, after a failed delivery.
    pub(crate) prefer: Option<Channel>,
    pub(crate) resent: bool,
    /// The method chosen under "Use another method".
    pub(crate) method: Option<Answer>,
}

/// The lock on the person's two-factor step, in words ("locked until 7:08 PM"), or none. The
/// page is shown after the post that locked it, so the person read for it knows the lock.
pub(crate) fn lock_notice(state: &AppState, who: &Authenticated) -> Option<String> {
    let now = state.latch.now();
    let zone = &who.account.practice.security.time_zone;
    let until = match who.account.person.lock.at(now.seconds()) {
        Locked::No => return None,
        Locked::For { retry_after } => Some(retry_after),
        Locked::UntilUnlocked => None,
    };
    Some(match until {
        Some(seconds) => {
            let at = crate::words::times::clock(now.plus(seconds), zone);
            crate::words::code_locked(&format!("until {at}"))
        }
        None => crate::words::refusal(&AppError::TwoFactorLocked),
    })
}

/// "We sent a new code at 6:33 PM. Older codes no longer work."
pub(crate) fn resent_notice(who: &Authenticated, sent_at: latch_domain::Timestamp) -> String {
    let zone = &who.account.practice.security.time_zone;
    crate::words::code_resent(&crate::words::times::clock(sent_at, zone))
}

/// The code page. After a failed delivery it does not claim a code was sent, and it puts the
/// method that may work (`prefer`) first.
async fn code_page(
    state: &AppState,
    who: &Authenticated,
    csrf: String,
    said: CodeSaid,
) -> Result<Response, AppError> {
    let pending = state
        .latch
        .two_factor
        .pending_code(who, Purpose::SignIn)
        .await?;
    let answers = state.latch.sign_in.answers(&who.account.person);
    let setting = who.account.person.two_factor.as_ref();
    let channel = pending
        .as_ref()
        .map(|p| p.channel)
        .or(setting.map(|s| s.channel))
        .unwrap_or(Channel::Sms);
    // A code that went out leads; else the method chosen, or the one asked for first.
    let method = match (&pending, said.method) {
        (_, Some(chosen)) if answers.contains(&chosen) => chosen,
        (Some(_), _) => Answer::of_channel(channel),
        (None, _) => answers.first().copied().unwrap_or(Answer::Sms),
    };
    let has_extension = setting.is_some_and(|s| s.extension.is_some());
    let delivered = said.prefer.is_none() && !said.delivery_failed;
    let locked = lock_notice(state, who);
    let prefer = said.prefer;
    let by_phone = matches!(method, Answer::Sms | Answer::Voice) && pending.is_some();
    let page = EnterCodePage {
        csrf,
        resent: pending
            .as_ref()
            .filter(|_| said.resent && delivered && by_phone)
            .map(|p| resent_notice(who, p.sent_at)),
        sent: pending.filter(|_| delivered && by_phone).map(|p| Sent {
            channel_label: p.channel.label(),
            phone: p.phone,
        }),
        channel: channel.as_str(),
        other_before: other_channel(state, channel, has_extension)
            .filter(|_| by_phone && prefer == Some(channel.other())),
        other_after: other_channel(state, channel, has_extension)
            .filter(|_| by_phone && prefer != Some(channel.other())),
        method: method.as_str(),
        by_phone,
        others: other_methods(&answers, method, by_phone),
        remember_days: who.account.practice.security.remember_device_days,
        // The lock says it all: the refusal that found it would say it twice.
        error: said.error.filter(|_| locked.is_none()),
        locked,
    };
    Ok(render(StatusCode::OK, &page))
}

/// "Use another method": every answer but the one on the page. While a code sent to the phone
/// is on the page, its channels are offered beside it ("Send it again", "Call me instead").
fn other_methods(answers: &[Answer], on_page: Answer, by_phone: bool) -> Vec<OtherMethod> {
    answers
        .iter()
        .filter(|a| **a != on_page)
        .filter(|a| !(by_phone && matches!(a, Answer::Sms | Answer::Voice)))
        .map(|a| {
            let link = |words| OtherMethod {
                send_by: None,
                href: format!("/sign-in/code?method={}", a.as_str()),
                words,
            };
            let send = |channel, words| OtherMethod {
                send_by: Some(channel),
                href: String::new(),
                words,
            };
            match a {
                Answer::Sms => send("sms", "Text me a code"),
                Answer::Voice => send("voice", "Call me with a code"),
                Answer::Totp => link("Use your authenticator app"),
                Answer::RecoveryCode => link("Use a recovery code"),
                Answer::Passkey => link("Use your passkey"),
            }
        })
        .collect()
}

#[derive(Deserialize)]
pub struct CodeQuery {
    pub(crate) failed: Option<String>,
    pub(crate) resent: Option<String>,
    /// The method chosen under "Use another method"; else the one asked for first.
    pub(crate) method: Option<String>,
}

/// What a refused code or resend leaves for the code page.
#[derive(Serialize, Deserialize, Default)]
pub(crate) struct CodeRefused {
    pub(crate) error: Option<String>,
    /// The resend found no way to deliver: the page claims no code was sent.
    #[serde(default)]
    pub(crate) delivery_failed: bool,
}

impl CodeRefused {
    /// The words beside a code form for `e`, and whether it was a failed delivery.
    pub(crate) fn of(e: &AppError, error: String) -> Self {
        CodeRefused {
            error: Some(error),
            delivery_failed: matches!(e, AppError::DeliveryFailed(_)),
        }
    }
}

impl CodeQuery {
    /// What the code page says, from its address and what a refused post left it.
    pub(crate) fn said(&self, flash: Option<&Flash>) -> CodeSaid {
        let refused: CodeRefused = flash.map(Flash::errors).unwrap_or_default();
        let (failed, prefer) = delivery_failure(self.failed.as_deref());
        CodeSaid {
            error: refused.error.or(failed),
            delivery_failed: self.failed.is_some() || refused.delivery_failed,
            prefer,
            resent: self.resent.is_some(),
            method: self.method.as_deref().and_then(Answer::parse),
        }
    }
}

pub async fn show_code(
    State(state): State<AppState>,
    Session(who, _): PagePending,
    Csrf(csrf): Csrf,
    Query(q): Query<CodeQuery>,
    Flashed(flash): Flashed,
) -> Result<Response, HtmlError> {
    let said = q.said(flash.as_ref());
    Ok(code_page(&state, &who, csrf, said).await?)
}

pub async fn submit_code(
    State(state): State<AppState>,
    Client(client): Client,
    Session(who, _): PagePending,
    Browser(browser): Browser,
    continuing: Continuing,
    CsrfForm(form): CsrfForm<CodeForm>,
) -> Result<Response, HtmlError> {
    let remember = form.remember == "yes";
    let method = Some(form.method.as_str()).filter(|m| !m.is_empty());
    let verified = state
        .latch
        .sign_in
        .verify_code(&who, &form.code, method, remember, &client);
    match verified.await {
        Ok(accepted) => {
            let session = cookies::session(&state.config, accepted.token.expose());
            let mut response = with_cookie(see_other(landing(&continuing)), session);
            if let Some(cookie) =
                remember_cookie(&state.config, browser, accepted.remembered.as_ref())
            {
                response = with_cookie(response, cookie);
            }
            Ok(response)
        }
        Err(e) if shown_beside_code_form(&e) => {
            let refused = CodeRefused::of(&e, code_refusal(&e));
            let back = match method.and_then(Answer::parse) {
                Some(method) => format!("/sign-in/code?method={}", method.as_str()),
                None => "/sign-in/code".to_owned(),
            };
            Ok(flash::back(&back, &refused, &form))
        }
        Err(e) => Err(HtmlError(e)),
    }
}

pub async fn submit_code_resend(
    State(state): State<AppState>,
    Client(client): Client,
    Session(who, _): PagePending,
    CsrfForm(form): CsrfForm<ChannelForm>,
) -> Result<Response, HtmlError> {
    let channel = Some(form.channel.as_str()).filter(|c| !c.is_empty());
    let resent = state
        .latch
        .two_factor
        .resend_sign_in(&who, channel, &client);
    match resent.await {
        Ok(_) => Ok(see_other("/sign-in/code?resent=1")),
        Err(e) if shown_beside_code_form(&e) => {
            let refused = CodeRefused::of(&e, crate::words::refusal(&e));
            Ok(flash::back("/sign-in/code", &refused, &()))
        }
        Err(e) => Err(HtmlError(e)),
    }
}
