//! The dashboard and My Profile, with their views and forms.

use crate::AppState;
use crate::features::two_factor::methods::method_words;
use crate::http::cookies::{self, with_cookie, with_session};
use crate::http::error::{HtmlError, message_page};
use crate::http::extract::{Browser, Client, PageSession, Session};
use crate::http::flash::{self, Flash, Flashed};
use crate::http::forms::{Csrf, CsrfForm, CsrfOnlyForm, csrf_form};
use crate::http::layout::{Chrome, NoticeQuery, render, see_other};
use crate::words::password_refusal;
use crate::words::times::When;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use latch_app::SessionId;
use latch_app::sign_in::Authenticated;
use latch_app::{AppError, Secret};
use latch_domain::Role;
use latch_domain::device::BrowserDevices;
use latch_domain::method::FEW_RECOVERY_CODES;
use latch_domain::practice::RequireTwoFactor;
use serde::{Deserialize, Serialize};

// ----- signed-in pages ----------------------------------------------------------------------

#[derive(Template)]
#[template(path = "dashboard.html")]
pub struct DashboardPage {
    chrome: Chrome,
    is_client: bool,
    two_factor_status: String,
    two_factor_on: bool,
    last_sign_in: Option<When>,
    /// Browser and when, for each browser remembered since the previous sign-in.
    new_devices: Vec<(String, When)>,
    /// An owner's first steps, while one is left.
    next_steps: Vec<NextStep>,
}

pub struct NextStep {
    label: &'static str,
    hint: &'static str,
    href: &'static str,
    done: bool,
}

/// What an owner does first: add the team, require two-factor, turn on their own; none once
/// all three are done, or for anyone else.
async fn next_steps(state: &AppState, who: &Authenticated) -> Result<Vec<NextStep>, AppError> {
    let account = &who.account;
    if account.person.role != Role::Owner {
        return Ok(Vec::new());
    }
    let headcount = state.latch.team.headcount(account).await?;
    let steps = vec![
        NextStep {
            label: "Add your team",
            hint: "Staff, managers and clients sign in with their own accounts.",
            href: "/team",
            done: headcount > 1,
        },
        NextStep {
            label: "Require two-factor",
            hint: "Choose who must use a code from their phone to sign in.",
            href: "/practice/settings",
            done: account.practice.security.require_two_factor != RequireTwoFactor::Off,
        },
        NextStep {
            label: "Turn on your own two-factor",
            hint: "Your account can change everyone's security: protect it first.",
            href: "/profile/two-factor",
            done: account.person.has_two_factor(),
        },
    ];
    Ok(if steps.iter().all(|s| s.done) {
        Vec::new()
    } else {
        steps
    })
}

pub async fn show_dashboard(
    State(state): State<AppState>,
    Session(who, _): PageSession,
    Browser(browser): Browser,
    Csrf(csrf): Csrf,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, HtmlError> {
    let chrome = Chrome::new(&who, csrf, "dashboard").noting(q.done.as_deref());
    let devices = &state.latch.devices;
    let news = devices
        .remembered_since_last_sign_in(&who, &browser)
        .await?;
    let person = &who.account.person;
    let (zone, now) = (&who.account.practice.security.time_zone, state.latch.now());
    let page = DashboardPage {
        next_steps: next_steps(&state, &who).await?,
        new_devices: news
            .into_iter()
            .map(|d| (d.label, When::at(d.created_at, zone, now)))
            .collect(),
        chrome,
        is_client: person.role == Role::Client,
        two_factor_status: match &person.two_factor {
            Some(s) => format!("On: codes go by {}", s.channel.label()),
            None if person.other_methods.totp => "On: with your authenticator app".to_owned(),
            None if person.other_methods.passkey => "On: with your passkey".to_owned(),
            None => "Not set up yet".to_owned(),
        },
        two_factor_on: person.has_two_factor(),
        last_sign_in: person.previous_sign_in_at.map(|t| When::ago(t, zone, now)),
    };
    Ok(render(StatusCode::OK, &page))
}

#[derive(Default, Serialize, Deserialize)]
pub struct PasswordErrors {
    general: Option<String>,
    current: Option<String>,
    new: Option<String>,
}

/// What the email form shows beside its fields (names of their own: one flash carries them).
#[derive(Default, Serialize, Deserialize)]
pub struct EmailErrors {
    new_email: Option<String>,
    email_password: Option<String>,
}

#[derive(Template)]
#[template(path = "profile.html")]
pub struct ProfilePage {
    chrome: Chrome,
    name: String,
    email: String,
    sessions: Vec<SessionRow>,
    password_errors: PasswordErrors,
    email_errors: EmailErrors,
    email_verified: bool,
    is_client: bool,
    /// Method and masked phone, when two-factor is on.
    two_factor: Option<(&'static str, String)>,
    required: bool,
    devices: Vec<DeviceRow>,
    /// Every method the person holds.
    methods: Vec<MethodRow>,
    recovery_codes_left: i64,
    /// An authenticator app is among them.
    has_app: bool,
    /// An app may be added: the practice allows them.
    app_offered: bool,
    /// A passkey may be added: they work here and the practice allows them.
    passkey_offered: bool,
    /// Few recovery codes are left: My Profile warns.
    few_recovery_codes: bool,
}

/// A two-factor method as My Profile lists it.
pub struct MethodRow {
    id: String,
    kind: &'static str,
    words: String,
    added: Option<When>,
    last_used: Option<When>,
    preferred: bool,
}

/// A session as My Profile lists it.
pub struct SessionRow {
    id: String,
    label: String,
    ip: String,
    signed_in: When,
    /// "with a texted code", "with a remembered browser", "with your password".
    proved: &'static str,
    last_seen: When,
    current: bool,
    /// "Harbor Practice and Harbor Billing", when it signed in to any.
    applications: Option<String>,
}

/// A remembered browser as My Profile lists it.
pub struct DeviceRow {
    id: String,
    label: String,
    remembered: When,
    last_used: When,
    until: When,
    current: bool,
}

async fn profile_page(
    state: &AppState,
    who: &Authenticated,
    browser: &BrowserDevices,
    chrome: Chrome,
    (password_errors, email_errors): (PasswordErrors, EmailErrors),
) -> Result<ProfilePage, AppError> {
    let sessions = state.latch.account.sessions(who).await?;
    let person = &who.account.person;
    let (devices, current) = state.latch.devices.devices(who, browser).await?;
    let (zone, now) = (&who.account.practice.security.time_zone, state.latch.now());
    let held = state.latch.methods.methods(person).await?;
    Ok(ProfilePage {
        methods: held
            .methods
            .iter()
            .map(|m| MethodRow {
                id: m.id.clone(),
                kind: m.kind.as_str(),
                words: method_words(m),
                added: m.created_at.map(|t| When::at(t, zone, now)),
                last_used: m.last_used_at.map(|t| When::ago(t, zone, now)),
                preferred: held.preferred == Some(m.kind),
            })
            .collect(),
        recovery_codes_left: held.recovery_codes_left,
        has_app: person.other_methods.totp,
        app_offered: who
            .account
            .practice
            .security
            .allows(latch_domain::method::MethodKind::Totp),
        passkey_offered: crate::features::two_factor::pages::passkey_offered(state, who),
        few_recovery_codes: person.has_two_factor()
            && held.recovery_codes_left <= FEW_RECOVERY_CODES,
        is_client: person.role == Role::Client,
        two_factor: person.has_two_factor().then(|| match &person.two_factor {
            Some(s) => (s.channel.label(), s.phone.masked()),
            None => ("authenticator app", String::new()),
        }),
        required: who
            .account
            .practice
            .security
            .require_two_factor
            .covers(person.role),
        devices: devices
            .into_iter()
            .map(|d| DeviceRow {
                current: current.as_deref() == Some(d.id.as_str()),
                remembered: When::at(d.created_at, zone, now),
                last_used: When::ago(d.last_used_at, zone, now),
                until: When::at(d.expires_at, zone, now),
                id: d.id,
                label: d.label,
            })
            .collect(),
        chrome,
        name: who.account.person.name.clone(),
        email: who.account.person.email.to_string(),
        sessions: sessions
            .into_iter()
            .map(|open| (crate::words::and_list(&open.applications), open.session))
            .map(|(applications, s)| SessionRow {
                applications,
                current: s.id == who.session.id,
                signed_in: When::at(s.created_at, zone, now),
                last_seen: When::ago(s.last_seen_at, zone, now),
                id: s.id.to_string(),
                proved: crate::words::second_factor(s.second_factor),
                label: s.label,
                ip: s.ip,
            })
            .collect(),
        password_errors,
        email_errors,
        email_verified: person.email_verified,
    })
}

pub async fn show_profile(
    State(state): State<AppState>,
    Session(who, _): PageSession,
    Browser(browser): Browser,
    Csrf(csrf): Csrf,
    Query(q): Query<NoticeQuery>,
    Flashed(flash): Flashed,
) -> Result<Response, HtmlError> {
    let chrome = Chrome::new(&who, csrf, "profile").noting(q.done.as_deref());
    let password_errors = flash.as_ref().map(Flash::errors).unwrap_or_default();
    let email_errors = flash.as_ref().map(Flash::errors).unwrap_or_default();
    let errors = (password_errors, email_errors);
    let page = profile_page(&state, &who, &browser, chrome, errors).await?;
    Ok(render(StatusCode::OK, &page))
}

csrf_form!(EmailForm { email } secret { password });

/// Asks to sign in with another address, the password re-entered in the same form.
pub async fn submit_email(
    State(state): State<AppState>,
    Client(client): Client,
    Session(who, _): PageSession,
    CsrfForm(mut form): CsrfForm<EmailForm>,
) -> Result<Response, HtmlError> {
    let password = Secret::new(std::mem::take(&mut form.password));
    let account = &state.latch.account;
    let asked = account.change_email_with_password(&who, &form.email, &password, &client);
    let mut errors = EmailErrors::default();
    match asked.await {
        Ok(token) => {
            let next = see_other("/profile?done=email");
            return Ok(with_session(next, &state.config, Some(&token)));
        }
        Err(e @ (AppError::InvalidEmail | AppError::EmailTaken)) => {
            errors.new_email = Some(crate::words::refusal(&e));
        }
        Err(e @ (AppError::InvalidCredentials | AppError::RateLimited { .. })) => {
            errors.email_password = Some(password_refusal(&e, "Your password is not correct."));
        }
        Err(e) => return Err(HtmlError(e)),
    }
    Ok(flash::back("/profile#email-heading", &errors, &()))
}

#[derive(Template)]
#[template(path = "confirm_email.html")]
pub struct ConfirmEmailPage {
    csrf: String,
    action: String,
}

/// The page an email change's link opens: following it takes a press of a button, so a mail
/// scanner that opens links uses nothing up.
pub async fn show_confirm_email(Path(token): Path<String>, Csrf(csrf): Csrf) -> Response {
    let action = format!("/email/confirm/{token}");
    render(StatusCode::OK, &ConfirmEmailPage { csrf, action })
}

pub async fn submit_confirm_email(
    State(state): State<AppState>,
    Client(client): Client,
    session: Option<PageSession>,
    Path(token): Path<String>,
    CsrfForm(_): CsrfForm<CsrfOnlyForm>,
) -> Result<Response, HtmlError> {
    match state.latch.account.confirm_email(&token, &client).await {
        Ok(_) if session.is_some() => Ok(see_other("/profile?done=email-changed")),
        Ok(_) => Ok(see_other("/sign-in?done=email-changed")),
        Err(e @ (AppError::InvalidToken | AppError::EmailTaken)) => Ok(message_page(
            StatusCode::BAD_REQUEST,
            "This link no longer works",
            &crate::words::refusal(&e),
            "/profile#email-heading",
            "Go to My Profile",
        )),
        Err(e) => Err(HtmlError(e)),
    }
}

csrf_form!(PasswordForm {} secret { current_password, new_password });

pub async fn submit_password(
    State(state): State<AppState>,
    Client(client): Client,
    Session(who, _): PageSession,
    CsrfForm(mut form): CsrfForm<PasswordForm>,
) -> Result<Response, HtmlError> {
    let current = Secret::new(std::mem::take(&mut form.current_password));
    let new = Secret::new(std::mem::take(&mut form.new_password));
    let changed = state
        .latch
        .account
        .change_password(&who, &current, &new, &client);
    match changed.await {
        Ok(token) => {
            let next = see_other("/profile?done=password");
            Ok(with_session(next, &state.config, Some(&token)))
        }
        Err(e) => {
            let Some(errors) = PasswordErrors::of(&e) else {
                return Err(HtmlError(e));
            };
            Ok(flash::back("/profile#password-heading", &errors, &()))
        }
    }
}

impl PasswordErrors {
    /// A refusal the password form shows beside its field; none for what is an error page.
    fn of(e: &AppError) -> Option<PasswordErrors> {
        let mut errors = PasswordErrors::default();
        match e {
            AppError::InvalidCredentials => {
                errors.current = Some("Your current password is not correct.".into())
            }
            AppError::WeakPassword(_) => errors.new = Some(crate::words::refusal(e)),
            AppError::RateLimited { .. } => errors.general = Some(crate::words::refusal(e)),
            _ => return None,
        }
        Some(errors)
    }
}

pub async fn submit_end_session(
    State(state): State<AppState>,
    Client(client): Client,
    Session(who, _): PageSession,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<CsrfOnlyForm>,
) -> Result<Response, HtmlError> {
    let id = SessionId::from_stored(id);
    state.latch.account.end_session(&who, &id, &client).await?;
    if id == who.session.id {
        return Ok(with_cookie(
            see_other("/sign-in"),
            cookies::clear_session(&state.config),
        ));
    }
    Ok(see_other("/profile?done=session"))
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
