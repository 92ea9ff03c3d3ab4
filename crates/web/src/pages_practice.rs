//! The administration pages of owners and managers: Security Settings, a person's security
//! state with reset and unlock, and the audit trail.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use latch_app::practice::SecurityUpdate;
use latch_app::records::PeopleFilter;
use latch_app::sign_in::Authenticated;
use latch_app::team::Help;
use latch_app::{AppError, Field, Secret};
use latch_domain::Permission;
use latch_domain::audit::AuditKind;
use serde::Deserialize;

use crate::AppState;
use crate::api_practice::AuditParams;
use crate::cookies::{self, with_cookie};
use crate::error::HtmlError;
use crate::extract::{Client, PageSession, Session};
use crate::pages::{
    Chrome, Csrf, CsrfForm, HasCsrf, NoticeQuery, csrf_form, notice_for, render, see_other,
    status_text, two_factor_text,
};

csrf_form!(SettingsForm {
    require_two_factor,
    remember_device_days,
    sign_out_after_idle_minutes,
    allowed_countries,
    daily_send_budget,
    password
});

#[derive(Default)]
pub struct SettingsErrors {
    general: Option<String>,
    idle: Option<String>,
    countries: Option<String>,
    budget: Option<String>,
    password: Option<String>,
}

#[derive(Template)]
#[template(path = "settings.html")]
pub struct SettingsPage {
    chrome: Chrome,
    form: SettingsForm,
    errors: SettingsErrors,
    rule_options: Vec<(&'static str, &'static str)>,
    remember_options: Vec<(String, String)>,
}

fn settings_page(
    who: &Authenticated,
    chrome: Chrome,
    form: SettingsForm,
    errors: SettingsErrors,
) -> SettingsPage {
    let current = who.account.practice.security.remember_device_days;
    let mut remember_options: Vec<(String, String)> = [
        (0, "Never"),
        (30, "30 days"),
        (90, "90 days"),
        (365, "365 days"),
    ]
    .into_iter()
    .map(|(days, label)| (days.to_string(), label.to_owned()))
    .collect();
    if ![0, 30, 90, 365].contains(&current) {
        remember_options.push((current.to_string(), format!("{current} days")));
    }
    SettingsPage {
        chrome,
        form,
        errors,
        rule_options: vec![
            ("off", "No"),
            ("staff", "All staff"),
            ("staff_and_clients", "All staff and clients"),
        ],
        remember_options,
    }
}

fn current_form(who: &Authenticated) -> SettingsForm {
    let s = &who.account.practice.security;
    SettingsForm {
        require_two_factor: s.require_two_factor.as_str().to_owned(),
        remember_device_days: s.remember_device_days.to_string(),
        sign_out_after_idle_minutes: s.sign_out_after_idle_minutes.to_string(),
        allowed_countries: s
            .allowed_countries
            .iter()
            .map(|c| c.code())
            .collect::<Vec<_>>()
            .join(", "),
        daily_send_budget: s.daily_send_budget.to_string(),
        ..SettingsForm::default()
    }
}

fn require_admin(who: &Authenticated, permission: Permission) -> Result<(), HtmlError> {
    if who.account.person.role.allows(permission) {
        Ok(())
    } else {
        Err(HtmlError(AppError::Forbidden))
    }
}

pub async fn show_settings(
    State(state): State<AppState>,
    Session(who, _): PageSession,
    Csrf(csrf): Csrf,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, HtmlError> {
    // The settings are app's to show: it says who may see them.
    state.latch.practice.security(&who.account)?;
    let mut chrome = Chrome::new(&who, csrf, "settings");
    chrome.notice = notice_for(q.done.as_deref());
    Ok(render(
        StatusCode::OK,
        &settings_page(&who, chrome, current_form(&who), SettingsErrors::default()),
    ))
}

pub async fn submit_settings(
    State(state): State<AppState>,
    Client(client): Client,
    Session(who, _): PageSession,
    Csrf(csrf): Csrf,
    CsrfForm(mut form): CsrfForm<SettingsForm>,
) -> Result<Response, HtmlError> {
    // Who may change the settings is app's to say, before the form is read at all.
    state.latch.practice.security(&who.account)?;
    let mut errors = SettingsErrors::default();
    let number = |raw: &str| raw.trim().replace(',', "").parse::<i64>().ok();
    let idle = number(&form.sign_out_after_idle_minutes);
    let budget = number(&form.daily_send_budget);
    if idle.is_none() {
        errors.idle = Some("Enter a number of minutes from 5 to 120.".into());
    }
    if budget.is_none() {
        errors.budget = Some("Enter a number from 1 to 100,000.".into());
    }
    let update = SecurityUpdate {
        require_two_factor: Some(form.require_two_factor.clone()),
        remember_device_days: number(&form.remember_device_days),
        sign_out_after_idle_minutes: idle,
        allowed_countries: Some(
            form.allowed_countries
                .split([',', ' '])
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_owned)
                .collect(),
        ),
        daily_send_budget: budget,
    };
    let password = Secret::new(std::mem::take(&mut form.password));
    let outcome = if errors.idle.is_some() || errors.budget.is_some() {
        None
    } else {
        Some(
            state
                .latch
                .practice
                .update_security_with_password(&who, &update, &password, &client)
                .await,
        )
    };
    let refused = match outcome {
        None => None,
        Some(Err(e @ (AppError::InvalidCredentials | AppError::RateLimited { .. }))) => {
            errors.password = Some(match e {
                AppError::InvalidCredentials => "That password is not correct.".to_owned(),
                other => other.to_string(),
            });
            None
        }
        Some(Err(e)) => return Err(HtmlError(e)),
        Some(Ok((token, Ok(_)))) => {
            return Ok(with_cookie(
                see_other("/practice/settings?done=settings"),
                cookies::session(&state.config, token.expose()),
            ));
        }
        Some(Ok((token, Err(AppError::InvalidSetting(refusal))))) => Some((token, refusal)),
        Some(Ok((_, Err(e)))) => return Err(HtmlError(e)),
    };
    if let Some((_, refusal)) = &refused {
        let message = Some(refusal.message.clone());
        match refusal.field {
            Some(Field::AllowedCountries) => errors.countries = message,
            Some(Field::IdleMinutes) => errors.idle = message,
            Some(Field::DailySendBudget) => errors.budget = message,
            _ => errors.general = message,
        }
    }
    let page = settings_page(&who, Chrome::new(&who, csrf, "settings"), form, errors);
    let response = render(StatusCode::BAD_REQUEST, &page);
    // The password was right even if a setting was not: keep the new session id.
    Ok(match refused {
        Some((token, _)) => with_cookie(response, cookies::session(&state.config, token.expose())),
        None => response,
    })
}

#[derive(Template)]
#[template(path = "person.html")]
pub struct PersonPage {
    chrome: Chrome,
    id: String,
    name: String,
    email: String,
    role: &'static str,
    two_factor: String,
    devices: i64,
    status: &'static str,
    last_sign_in: String,
    locked: bool,
    can_act: bool,
    error: Option<String>,
}

async fn person_page(
    state: &AppState,
    who: &Authenticated,
    chrome: Chrome,
    id: &str,
    error: Option<String>,
) -> Result<PersonPage, AppError> {
    let person = state.latch.team.person(&who.account, id).await?;
    let devices = state.latch.team.device_counts(&who.account).await?;
    let now = state.latch.now();
    let actor = &who.account.person;
    Ok(PersonPage {
        chrome,
        can_act: person.id != actor.id
            && actor.role.allows(Permission::ActOnPerson {
                target: person.role,
            }),
        locked: person.lock.at(now.seconds()) != latch_domain::two_factor::Locked::No,
        two_factor: two_factor_text(&person),
        devices: devices.get(&person.id).copied().unwrap_or(0),
        status: status_text(&person, now),
        last_sign_in: person
            .last_sign_in_at
            .map_or_else(|| "Never".to_owned(), |t| t.to_rfc3339()),
        id: person.id,
        name: person.name,
        email: person.email,
        role: person.role.label(),
        error,
    })
}

pub async fn show_person(
    State(state): State<AppState>,
    Session(who, _): PageSession,
    Csrf(csrf): Csrf,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, HtmlError> {
    let mut chrome = Chrome::new(&who, csrf, "team");
    chrome.notice = notice_for(q.done.as_deref());
    Ok(render(
        StatusCode::OK,
        &person_page(&state, &who, chrome, &id, None).await?,
    ))
}

csrf_form!(HelpForm { action, password });

/// Reset or unlock, with the password re-entered in the same form.
pub async fn submit_person_help(
    State(state): State<AppState>,
    Client(client): Client,
    Session(who, _): PageSession,
    Csrf(csrf): Csrf,
    Path(id): Path<String>,
    CsrfForm(mut form): CsrfForm<HelpForm>,
) -> Result<Response, HtmlError> {
    let password = Secret::new(std::mem::take(&mut form.password));
    let (help, done) = match form.action.as_str() {
        "unlock" => (Help::Unlock, "unlock"),
        _ => (Help::ResetTwoFactor, "reset"),
    };
    match state
        .latch
        .team
        .help_with_password(&who, &id, help, &password, &client)
        .await
    {
        Ok(token) => Ok(with_cookie(
            see_other(&format!("/team/{id}?done={done}")),
            cookies::session(&state.config, token.expose()),
        )),
        Err(e @ (AppError::InvalidCredentials | AppError::RateLimited { .. })) => {
            let message = match e {
                AppError::InvalidCredentials => "Your password is not correct.".to_owned(),
                other => other.to_string(),
            };
            let chrome = Chrome::new(&who, csrf, "team");
            let page = person_page(&state, &who, chrome, &id, Some(message)).await?;
            Ok(render(StatusCode::UNAUTHORIZED, &page))
        }
        Err(e) => Err(HtmlError(e)),
    }
}

pub struct EventRow {
    at: String,
    kind: String,
    actor: String,
    subject: String,
    ip: String,
    detail: String,
}

#[derive(Default)]
pub struct AuditFilter {
    subject: String,
    kind: String,
    from: String,
    to: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
pub struct AuditPage {
    chrome: Chrome,
    people: Vec<(String, String)>,
    kinds: Vec<&'static str>,
    filter: AuditFilter,
    events: Vec<EventRow>,
    csv_query: String,
    older: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct AuditPageQuery {
    subject: Option<String>,
    kind: Option<String>,
    /// `YYYY-MM-DD`, from the date inputs.
    from: Option<String>,
    to: Option<String>,
    before: Option<String>,
}

fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub async fn show_audit(
    State(state): State<AppState>,
    Session(who, _): PageSession,
    Csrf(csrf): Csrf,
    Query(q): Query<AuditPageQuery>,
) -> Result<Response, HtmlError> {
    require_admin(&who, Permission::ViewAudit)?;
    let day = |raw: &Option<String>, end: bool| {
        raw.as_deref()
            .filter(|d| !d.is_empty())
            .map(|d| format!("{d}T{}Z", if end { "23:59:59" } else { "00:00:00" }))
    };
    let params = AuditParams {
        limit: Some("50".into()),
        before: q.before.clone(),
        subject: q.subject.clone(),
        kind: q.kind.clone(),
        from: day(&q.from, false),
        to: day(&q.to, true),
    };
    let (events, error) = match params.query() {
        Ok(query) => (state.latch.audit.events(&who.account, query).await?, None),
        Err(e) => (Vec::new(), Some(e.to_string())),
    };
    let people = state
        .latch
        .team
        .people(&who.account, &PeopleFilter::default())
        .await?;
    let name_of = |id: &Option<String>| match id {
        None => "—".to_owned(),
        Some(id) => people
            .iter()
            .find(|p| &p.id == id)
            .map_or_else(|| id.clone(), |p| p.name.clone()),
    };
    let mut csv_query = Vec::new();
    for (key, value) in [
        ("subject", &params.subject),
        ("kind", &params.kind),
        ("from", &params.from),
        ("to", &params.to),
    ] {
        if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
            csv_query.push(format!("{key}={}", encode(v)));
        }
    }
    let older = (events.len() == 50).then(|| {
        let mut q2 = Vec::new();
        for (key, value) in [
            ("subject", &q.subject),
            ("kind", &q.kind),
            ("from", &q.from),
            ("to", &q.to),
        ] {
            if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
                q2.push(format!("{key}={}", encode(v)));
            }
        }
        q2.push(format!("before={}", events.last().map_or(0, |e| e.id)));
        q2.join("&")
    });
    let page = AuditPage {
        chrome: Chrome::new(&who, csrf, "audit"),
        kinds: AuditKind::ALL.iter().map(|k| k.as_str()).collect(),
        filter: AuditFilter {
            subject: q.subject.clone().unwrap_or_default(),
            kind: q.kind.clone().unwrap_or_default(),
            from: q.from.clone().unwrap_or_default(),
            to: q.to.clone().unwrap_or_default(),
        },
        events: events
            .into_iter()
            .map(|e| EventRow {
                at: e.at.to_rfc3339(),
                actor: name_of(&e.actor_id),
                subject: name_of(&e.subject_id),
                kind: e.kind,
                ip: e.ip.unwrap_or_default(),
                detail: e.detail,
            })
            .collect(),
        people: people.into_iter().map(|p| (p.id, p.name)).collect(),
        csv_query: csv_query.join("&"),
        older,
        error,
    };
    Ok(render(StatusCode::OK, &page))
}
