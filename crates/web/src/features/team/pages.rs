//! The Team page and a person's page, with their views and forms.

use crate::AppState;
use crate::http::cookies::with_session;
use crate::http::error::HtmlError;
use crate::http::extract::{Client, PageSession, Session};
use crate::http::flash::{self, Flash, Flashed, OneError};
use crate::http::forms::{Csrf, CsrfForm, CsrfOnlyForm, FieldErrors, csrf_form};
use crate::http::layout::{Chrome, NoticeQuery, render, see_other};
use crate::words::password_refusal;
use crate::words::times::{self, When};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use latch_app::records::PeopleFilter;
use latch_app::sign_in::Authenticated;
use latch_app::team::{Help, PersonInput};
use latch_app::{AppError, Field, PersonId, Secret};
use latch_domain::practice::RequireTwoFactor;
use latch_domain::two_factor::Locked;
use latch_domain::zone::PracticeZone;
use latch_domain::{Permission, Role};
use serde::{Deserialize, Serialize};

pub struct PersonRow {
    id: String,
    name: String,
    email: String,
    role: &'static str,
    two_factor: String,
    devices: i64,
    status: String,
    last_sign_in: Option<When>,
}

/// How a person's two-factor reads on the Team pages.
/// Where the practice's rule covers the person and they have none yet, it says so.
pub(crate) fn two_factor_text(person: &latch_app::Person, rule: RequireTwoFactor) -> String {
    match &person.two_factor {
        Some(s) => {
            let phone = s.phone.masked();
            format!("On: {} to {phone}", s.channel.label())
        }
        None if rule.covers(person.role) => "Required, not set up yet".to_owned(),
        None => "Off".to_owned(),
    }
}

/// "Active", "Locked until 7:08 PM" or "Locked until unlocked".
pub(crate) fn status_text(
    person: &latch_app::Person,
    zone: &PracticeZone,
    now: latch_domain::Timestamp,
) -> String {
    match person.lock.at(now.seconds()) {
        Locked::No => "Active".to_owned(),
        Locked::For { retry_after } => {
            format!("Locked until {}", times::clock(now.plus(retry_after), zone))
        }
        Locked::UntilUnlocked => "Locked until unlocked".to_owned(),
    }
}

/// A role's share of people with two-factor on.
pub struct Coverage {
    role: &'static str,
    label: &'static str,
    on: usize,
    total: usize,
}

#[derive(Deserialize, Default)]
pub struct TeamQuery {
    done: Option<String>,
    /// The person just added.
    person: Option<String>,
    role: Option<String>,
    two_factor: Option<String>,
}

csrf_form!(AddPersonForm { role, name, email } secret { password });

#[derive(Default, Serialize, Deserialize)]
pub struct AddPersonErrors {
    general: Option<String>,
    role: Option<String>,
    name: Option<String>,
    email: Option<String>,
    password: Option<String>,
}

#[derive(Template)]
#[template(path = "team.html")]
pub struct TeamPage {
    chrome: Chrome,
    rule_text: &'static str,
    coverage: Vec<Coverage>,
    role_filters: Vec<(&'static str, &'static str)>,
    filter_role: String,
    filter_two_factor: String,
    people: Vec<PersonRow>,
    roles: Vec<(&'static str, &'static str)>,
    form: AddPersonForm,
    errors: AddPersonErrors,
}

async fn team_page(
    state: &AppState,
    who: &Authenticated,
    mut chrome: Chrome,
    query: &TeamQuery,
    form: AddPersonForm,
    errors: AddPersonErrors,
) -> Result<TeamPage, AppError> {
    let everyone = state
        .latch
        .team
        .people(&who.account, &PeopleFilter::default())
        .await?;
    let counts = state.latch.team.device_counts(&who.account).await?;
    let rule = who.account.practice.security.require_two_factor;
    // "Sam Lee was added": who, by the id the add answered with, never a name in the address.
    if query.done.as_deref() == Some("added")
        && let Some(added) = everyone
            .iter()
            .find(|p| Some(p.id.as_str()) == query.person.as_deref())
    {
        chrome.notice = Some(format!("{} was added. They can sign in now.", added.name).into());
    }
    let now = state.latch.now();
    let zone = &who.account.practice.security.time_zone;
    let covered_roles: Vec<Role> = Role::ALL.into_iter().filter(|r| rule.covers(*r)).collect();
    let shown_roles = if covered_roles.is_empty() {
        Role::ALL.to_vec()
    } else {
        covered_roles
    };
    let coverage = shown_roles
        .into_iter()
        .map(|role| {
            let of_role: Vec<_> = everyone.iter().filter(|p| p.role == role).collect();
            Coverage {
                role: role.as_str(),
                label: role.label(),
                on: of_role.iter().filter(|p| p.two_factor.is_some()).count(),
                total: of_role.len(),
            }
        })
        .collect();
    let role = query.role.as_deref().and_then(|r| Role::parse(r).ok());
    let two_factor = query
        .two_factor
        .as_deref()
        .filter(|v| matches!(*v, "on" | "off"));
    let people = everyone
        .into_iter()
        .filter(|p| role.is_none_or(|r| p.role == r))
        .filter(|p| two_factor.is_none_or(|v| (v == "on") == p.two_factor.is_some()))
        .map(|p| PersonRow {
            two_factor: two_factor_text(&p, rule),
            devices: counts.get(p.id.as_str()).copied().unwrap_or(0),
            status: status_text(&p, zone, now),
            last_sign_in: p.last_sign_in_at.map(|t| When::ago(t, zone, now)),
            id: p.id.to_string(),
            name: p.name,
            email: p.email.to_string(),
            role: p.role.label(),
        })
        .collect();
    let actor = who.account.person.role;
    Ok(TeamPage {
        chrome,
        rule_text: match rule {
            latch_domain::practice::RequireTwoFactor::Off => {
                "Your practice does not require two-factor yet. Set the rule in Practice Settings."
            }
            latch_domain::practice::RequireTwoFactor::Staff => {
                "Your practice requires two-factor for owners, managers and staff."
            }
            latch_domain::practice::RequireTwoFactor::StaffAndClients => {
                "Your practice requires two-factor for everyone, clients included."
            }
        },
        coverage,
        role_filters: Role::ALL.iter().map(|r| (r.as_str(), r.label())).collect(),
        filter_role: role.map_or("", |r| r.as_str()).to_owned(),
        filter_two_factor: two_factor.unwrap_or("").to_owned(),
        people,
        roles: [Role::Staff, Role::Client, Role::Manager, Role::Owner]
            .into_iter()
            .filter(|r| actor.allows(Permission::AddPerson { role: *r }))
            .map(|r| (r.as_str(), r.label()))
            .collect(),
        form,
        errors,
    })
}

pub async fn show_team(
    State(state): State<AppState>,
    Session(who, _): PageSession,
    Csrf(csrf): Csrf,
    Query(q): Query<TeamQuery>,
    Flashed(flash): Flashed,
) -> Result<Response, HtmlError> {
    let chrome = Chrome::new(&who, csrf, "team").noting(q.done.as_deref());
    let fresh = || AddPersonForm {
        role: "staff".into(),
        ..AddPersonForm::default()
    };
    let (form, errors) = flash::refill(flash.as_ref(), fresh);
    let page = team_page(&state, &who, chrome, &q, form, errors).await?;
    Ok(render(StatusCode::OK, &page))
}

pub async fn submit_add_person(
    State(state): State<AppState>,
    Client(client): Client,
    Session(who, _): PageSession,
    CsrfForm(mut form): CsrfForm<AddPersonForm>,
) -> Result<Response, HtmlError> {
    // Someone who may not see the Team page at all gets the refusal page, not the form.
    state.latch.team.may_see(&who.account)?;
    let added = state
        .latch
        .team
        .add_person(&who.account, form.input(), &client);
    match added.await {
        Ok(added) => Ok(see_other(&format!("/team?done=added&person={}", added.id))),
        Err(e) => {
            let Some(errors) = AddPersonErrors::of(&e) else {
                return Err(HtmlError(e));
            };
            Ok(flash::back("/team", &errors, &form))
        }
    }
}

impl AddPersonForm {
    /// The new person, taking the password out of the form so it is never shown again.
    fn input(&mut self) -> PersonInput {
        PersonInput {
            email: self.email.clone(),
            name: self.name.clone(),
            role: self.role.clone(),
            password: Secret::new(std::mem::take(&mut self.password)),
        }
    }
}

impl AddPersonErrors {
    /// A refusal the form shows beside its field; none for what is an error page.
    fn of(e: &AppError) -> Option<AddPersonErrors> {
        let mut errors = AddPersonErrors::default();
        match e {
            AppError::Forbidden => {
                errors.role = Some("Only an owner can add owners or managers.".into());
                return Some(errors);
            }
            AppError::RateLimited { .. } => {
                errors.general = Some(crate::words::refusal(e));
                return Some(errors);
            }
            _ => {}
        }
        AddPersonErrors::placing(e)
    }
}

impl FieldErrors for AddPersonErrors {
    fn beside(&mut self, field: Option<Field>) -> &mut Option<String> {
        match field {
            Some(Field::Role) => &mut self.role,
            Some(Field::Email) => &mut self.email,
            Some(Field::Password) => &mut self.password,
            _ => &mut self.name,
        }
    }
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
    status: String,
    last_sign_in: Option<When>,
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
    let person = state
        .latch
        .team
        .person(&who.account, &PersonId::from_stored(id))
        .await?;
    let devices = state.latch.team.device_counts(&who.account).await?;
    let now = state.latch.now();
    let zone = &who.account.practice.security.time_zone;
    let actor = &who.account.person;
    Ok(PersonPage {
        chrome,
        can_act: person.id != actor.id
            && actor.role.allows(Permission::ActOnPerson {
                target: person.role,
            }),
        locked: person.lock.at(now.seconds()) != Locked::No,
        two_factor: two_factor_text(&person, who.account.practice.security.require_two_factor),
        devices: devices.get(person.id.as_str()).copied().unwrap_or(0),
        status: status_text(&person, zone, now),
        last_sign_in: person.last_sign_in_at.map(|t| When::ago(t, zone, now)),
        id: person.id.to_string(),
        name: person.name,
        email: person.email.to_string(),
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
    Flashed(flash): Flashed,
) -> Result<Response, HtmlError> {
    let chrome = Chrome::new(&who, csrf, "team").noting(q.done.as_deref());
    let OneError { error } = flash.as_ref().map(Flash::errors).unwrap_or_default();
    Ok(render(
        StatusCode::OK,
        &person_page(&state, &who, chrome, &id, error).await?,
    ))
}

csrf_form!(HelpForm { action } secret { password });

impl HelpForm {
    /// The help asked for, and the word the person page's notice is chosen by.
    fn help(&self) -> (Help, &'static str) {
        match self.action.as_str() {
            "unlock" => (Help::Unlock, "unlock"),
            _ => (Help::ResetTwoFactor, "reset"),
        }
    }
}

/// Emails the person a link to choose a new password.
pub async fn submit_password_reset(
    State(state): State<AppState>,
    Client(client): Client,
    Session(who, _): PageSession,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<CsrfOnlyForm>,
) -> Result<Response, HtmlError> {
    let person_id = PersonId::from_stored(id.as_str());
    let team = &state.latch.team;
    team.send_password_reset(&who, &person_id, &client).await?;
    Ok(see_other(&format!("/team/{id}?done=reset-link")))
}

/// Reset or unlock, with the password re-entered in the same form.
pub async fn submit_person_help(
    State(state): State<AppState>,
    Client(client): Client,
    Session(who, _): PageSession,
    Path(id): Path<String>,
    CsrfForm(mut form): CsrfForm<HelpForm>,
) -> Result<Response, HtmlError> {
    let password = Secret::new(std::mem::take(&mut form.password));
    let (help, done) = form.help();
    let person_id = PersonId::from_stored(id.as_str());
    let helped = state
        .latch
        .team
        .help_with_password(&who, &person_id, help, &password, &client);
    match helped.await {
        Ok(token) => {
            let next = see_other(&format!("/team/{id}?done={done}"));
            Ok(with_session(next, &state.config, Some(&token)))
        }
        Err(e @ (AppError::InvalidCredentials | AppError::RateLimited { .. })) => {
            let message = password_refusal(&e, "Your password is not correct.");
            Ok(flash::back(
                &format!("/team/{id}"),
                &OneError::of(message),
                &(),
            ))
        }
        Err(e) => Err(HtmlError(e)),
    }
}
