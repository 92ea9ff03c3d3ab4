//! The dashboard and My Profile, with their views and forms.

use crate::AppState;
use crate::http::cookies::{self, with_cookie, with_session};
use crate::http::error::HtmlError;
use crate::http::extract::{Browser, Client, PageSession, Session};
use crate::http::forms::{Csrf, CsrfForm, CsrfOnlyForm, csrf_form};
use crate::http::json::{DeviceView, SessionView};
use crate::http::layout::{Chrome, NoticeQuery, render, see_other, with_status};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use latch_app::SessionId;
use latch_app::sign_in::Authenticated;
use latch_app::{AppError, Secret};
use latch_domain::Role;
use latch_domain::device::BrowserDevices;
use serde::Deserialize;

// ----- signed-in pages ----------------------------------------------------------------------

#[derive(Template)]
#[template(path = "dashboard.html")]
pub struct DashboardPage {
    chrome: Chrome,
    is_client: bool,
    two_factor_status: String,
    two_factor_on: bool,
    last_sign_in: Option<String>,
    /// Browser and when, for each browser remembered since the previous sign-in.
    new_devices: Vec<(String, String)>,
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
    let page = DashboardPage {
        new_devices: news
            .into_iter()
            .map(|d| (d.label, d.created_at.to_rfc3339()))
            .collect(),
        chrome,
        is_client: person.role == Role::Client,
        two_factor_status: match &person.two_factor {
            Some(s) => format!("On: codes go by {}", s.channel.label()),
            None => "Not set up yet".to_owned(),
        },
        two_factor_on: person.two_factor.is_some(),
        last_sign_in: person.previous_sign_in_at.map(|t| t.to_rfc3339()),
    };
    Ok(render(StatusCode::OK, &page))
}

#[derive(Default)]
pub struct PasswordErrors {
    general: Option<String>,
    current: Option<String>,
    new: Option<String>,
}

#[derive(Template)]
#[template(path = "profile.html")]
pub struct ProfilePage {
    chrome: Chrome,
    name: String,
    email: String,
    sessions: Vec<SessionView>,
    password_errors: PasswordErrors,
    is_client: bool,
    /// Method and masked phone, when two-factor is on.
    two_factor: Option<(&'static str, String)>,
    required: bool,
    devices: Vec<DeviceView>,
}

async fn profile_page(
    state: &AppState,
    who: &Authenticated,
    browser: &BrowserDevices,
    chrome: Chrome,
    password_errors: PasswordErrors,
) -> Result<ProfilePage, AppError> {
    let sessions = state.latch.account.sessions(who).await?;
    let person = &who.account.person;
    let (devices, current) = state.latch.devices.devices(who, browser).await?;
    Ok(ProfilePage {
        is_client: person.role == Role::Client,
        two_factor: person.two_factor.as_ref().map(|s| {
            let phone = s.phone.masked();
            (s.channel.label(), phone)
        }),
        required: who
            .account
            .practice
            .security
            .require_two_factor
            .covers(person.role),
        devices: DeviceView::list(devices, current.as_deref()),
        chrome,
        name: who.account.person.name.clone(),
        email: who.account.person.email.to_string(),
        sessions: SessionView::list(sessions, &who.session.id),
        password_errors,
    })
}

pub async fn show_profile(
    State(state): State<AppState>,
    Session(who, _): PageSession,
    Browser(browser): Browser,
    Csrf(csrf): Csrf,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, HtmlError> {
    let chrome = Chrome::new(&who, csrf, "profile").noting(q.done.as_deref());
    let page = profile_page(&state, &who, &browser, chrome, PasswordErrors::default()).await?;
    Ok(render(StatusCode::OK, &page))
}

csrf_form!(PasswordForm {
    current_password,
    new_password
});

pub async fn submit_password(
    State(state): State<AppState>,
    Client(client): Client,
    Session(who, _): PageSession,
    Browser(browser): Browser,
    Csrf(csrf): Csrf,
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
            let chrome = Chrome::new(&who, csrf, "profile");
            let page = profile_page(&state, &who, &browser, chrome, errors).await?;
            Ok(with_status(render(StatusCode::OK, &page), &e))
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
