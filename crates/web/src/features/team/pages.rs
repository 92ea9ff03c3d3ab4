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
use latch_app::invitations::InvitationInput;
use latch_app::records::PeopleFilter;
use latch_app::sign_in::Authenticated;
use latch_app::team::{Help, PersonChange};
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
/// Each method they hold is named, so the Team page shows who uses which.
pub(crate) fn two_factor_text(person: &latch_app::Person, rule: RequireTwoFactor) -> String {
    let mut methods = Vec::new();
    if let Some(s) = &person.two_factor {
        methods.push(format!("{} to {}", s.channel.label(), s.phone.masked()));
    }
    if person.other_methods.totp {
        methods.push("authenticator app".to_owned());
    }
    if person.other_methods.passkey {
        methods.push("passkey".to_owned());
    }
    match methods.is_empty() {
        false => format!("On: {}", methods.join(", ")),
        true if rule.covers(person.role) => "Required, not set up yet".to_owned(),
        true => "Off".to_owned(),
    }
}

/// "Active", "Deactivated", "Locked until 7:08 PM" or "Locked until unlocked".
pub(crate) fn status_text(
    person: &latch_app::Person,
    zone: &PracticeZone,
    now: latch_domain::Timestamp,
) -> String {
    if person.deactivated_at.is_some() {
        return "Deactivated".to_owned();
    }
    match person.lock.at(now.seconds()) {
        Locked::No => "Active".to_owned(),
        Locked::For { retry_after } => {
            format!("Locked until {}", times::clock(now.plus(retry_after), zone))
        }
        Locked::UntilUnlocked => "Locked until unlocked".to_owned(),
    }
}

/// The status a filter picks people by: their lock taken together, whatever its end.
fn status_word(person: &latch_app::Person, now: latch_domain::Timestamp) -> &'static str {
    match crate::http::json::person_status(person, now) {
        "locked_until_unlocked" => "locked",
        word => word,
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
    /// The invitation just sent.
    invitation: Option<String>,
    role: Option<String>,
    two_factor: Option<String>,
    status: Option<String>,
}

csrf_form!(InviteForm { role, name, email });

#[derive(Default, Serialize, Deserialize)]
pub struct InviteErrors {
    general: Option<String>,
    role: Option<String>,
    name: Option<String>,
    email: Option<String>,
}

/// An open invitation as the Team page lists it.
pub struct InvitationRow {
    id: String,
    name: String,
    email: String,
    role: &'static str,
    invited_by: String,
    expires: When,
    /// Whether this owner or manager may resend or revoke it.
    can_act: bool,
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
    filter_status: String,
    people: Vec<PersonRow>,
    invitations: Vec<InvitationRow>,
    roles: Vec<(&'static str, &'static str)>,
    form: InviteForm,
    errors: InviteErrors,
}

async fn team_page(
    state: &AppState,
    who: &Authenticated,
    mut chrome: Chrome,
    query: &TeamQuery,
    form: InviteForm,
    errors: InviteErrors,
) -> Result<TeamPage, AppError> {
    let everyone = state
        .latch
        .team
        .people(&who.account, &PeopleFilter::default())
        .await?;
    let counts = state.latch.team.device_counts(&who.account).await?;
    let open = state.latch.invitations.open(&who.account).await?;
    let rule = who.account.practice.security.require_two_factor;
    // "An invitation is on its way to Sam Lee": who, by the id the invitation answered with,
    // never a name in the address.
    if query.done.as_deref() == Some("invited")
        && let Some(sent) = open
            .iter()
            .find(|i| Some(i.id.as_str()) == query.invitation.as_deref())
    {
        chrome.notice = Some(
            format!(
                "An invitation is on its way to {}. Its link works for 7 days.",
                sent.name
            )
            .into(),
        );
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
                on: of_role.iter().filter(|p| p.has_two_factor()).count(),
                total: of_role.len(),
            }
        })
        .collect();
    let role = query.role.as_deref().and_then(|r| Role::parse(r).ok());
    let two_factor = query
        .two_factor
        .as_deref()
        .filter(|v| matches!(*v, "on" | "off"));
    let status = query
        .status
        .as_deref()
        .filter(|v| matches!(*v, "active" | "locked" | "deactivated"));
    let people = everyone
        .into_iter()
        .filter(|p| role.is_none_or(|r| p.role == r))
        .filter(|p| two_factor.is_none_or(|v| (v == "on") == p.has_two_factor()))
        .filter(|p| status.is_none_or(|v| status_word(p, now) == v))
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
    let invitations = open
        .into_iter()
        .map(|i| InvitationRow {
            can_act: actor.allows(Permission::AddPerson { role: i.role }),
            invited_by: i.invited_by.map(|(_, name)| name).unwrap_or_default(),
            expires: When::at(i.expires_at, zone, now),
            id: i.id,
            name: i.name,
            email: i.email.to_string(),
            role: i.role.label(),
        })
        .collect();
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
        filter_status: status.unwrap_or("").to_owned(),
        people,
        invitations,
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
    let fresh = || InviteForm {
        role: "staff".into(),
        ..InviteForm::default()
    };
    let (form, errors) = flash::refill(flash.as_ref(), fresh);
    let page = team_page(&state, &who, chrome, &q, form, errors).await?;
    Ok(render(StatusCode::OK, &page))
}

/// Invites a person: the pages never ask for someone else's password.
pub async fn submit_invite(
    State(state): State<AppState>,
    Client(client): Client,
    Session(who, _): PageSession,
    CsrfForm(form): CsrfForm<InviteForm>,
) -> Result<Response, HtmlError> {
    // Someone who may not see the Team page at all gets the refusal page, not the form.
    state.latch.team.may_see(&who.account)?;
    let input = InvitationInput {
        email: form.email.clone(),
        name: form.name.clone(),
        role: form.role.clone(),
    };
    match state.latch.invitations.invite(&who, &input, &client).await {
        Ok(sent) => Ok(see_other(&format!(
            "/team?done=invited&invitation={}#invitations-heading",
            sent.id
        ))),
        Err(e) => {
            let Some(errors) = InviteErrors::of(&e) else {
                return Err(HtmlError(e));
            };
            Ok(flash::back("/team", &errors, &form))
        }
    }
}

/// Sends an open invitation again, with a new link.
pub async fn submit_resend_invitation(
    State(state): State<AppState>,
    Client(client): Client,
    Session(who, _): PageSession,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<CsrfOnlyForm>,
) -> Result<Response, HtmlError> {
    state.latch.invitations.resend(&who, &id, &client).await?;
    Ok(see_other(
        "/team?done=invitation-resent#invitations-heading",
    ))
}

/// Revokes an open invitation: its link stops working.
pub async fn submit_revoke_invitation(
    State(state): State<AppState>,
    Client(client): Client,
    Session(who, _): PageSession,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<CsrfOnlyForm>,
) -> Result<Response, HtmlError> {
    state.latch.invitations.revoke(&who, &id, &client).await?;
    Ok(see_other(
        "/team?done=invitation-revoked#invitations-heading",
    ))
}

impl InviteErrors {
    /// A refusal the form shows beside its field; none for what is an error page.
    fn of(e: &AppError) -> Option<InviteErrors> {
        let mut errors = InviteErrors::default();
        match e {
            AppError::Forbidden => {
                errors.role = Some("Only an owner can invite owners or managers.".into());
                return Some(errors);
            }
            AppError::RateLimited { .. } => {
                errors.general = Some(crate::words::refusal(e));
                return Some(errors);
            }
            _ => {}
        }
        InviteErrors::placing(e)
    }
}

impl FieldErrors for InviteErrors {
    fn beside(&mut self, field: Option<Field>) -> &mut Option<String> {
        match field {
            Some(Field::Role) => &mut self.role,
            Some(Field::Email) => &mut self.email,
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
    deactivated: bool,
    can_act: bool,
    /// The value of the person's role, and the roles the actor may give.
    role_value: &'static str,
    roles: Vec<(&'static str, &'static str)>,
    error: Option<String>,
    change_errors: ChangeErrors,
}

async fn person_page(
    state: &AppState,
    who: &Authenticated,
    chrome: Chrome,
    id: &str,
    (error, change_errors): (Option<String>, ChangeErrors),
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
        deactivated: person.deactivated_at.is_some(),
        role_value: person.role.as_str(),
        roles: Role::ALL
            .into_iter()
            .filter(|r| *r == person.role || actor.role.allows(Permission::AddPerson { role: *r }))
            .map(|r| (r.as_str(), r.label()))
            .collect(),
        two_factor: two_factor_text(&person, who.account.practice.security.require_two_factor),
        devices: devices.get(person.id.as_str()).copied().unwrap_or(0),
        status: status_text(&person, zone, now),
        last_sign_in: person.last_sign_in_at.map(|t| When::ago(t, zone, now)),
        id: person.id.to_string(),
        name: person.name,
        email: person.email.to_string(),
        role: person.role.label(),
        error,
        change_errors,
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
    let change_errors = flash.as_ref().map(Flash::errors).unwrap_or_default();
    let errors = (error, change_errors);
    Ok(render(
        StatusCode::OK,
        &person_page(&state, &who, chrome, &id, errors).await?,
    ))
}

csrf_form!(HelpForm { action } secret { password });

impl HelpForm {
    /// The help asked for, and the word the person page's notice is chosen by.
    fn help(&self) -> (Help, &'static str) {
        match self.action.as_str() {
            "unlock" => (Help::Unlock, "unlock"),
            "deactivate" => (Help::Deactivate, "deactivated"),
            _ => (Help::ResetTwoFactor, "reset"),
        }
    }
}

csrf_form!(ChangePersonForm { name, role });

/// Changes a person's name or role.
pub async fn submit_change_person(
    State(state): State<AppState>,
    Client(client): Client,
    Session(who, _): PageSession,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<ChangePersonForm>,
) -> Result<Response, HtmlError> {
    let person_id = PersonId::from_stored(id.as_str());
    let change = PersonChange {
        name: Some(form.name.clone()),
        role: Some(form.role.clone()),
    };
    let team = &state.latch.team;
    match team.change_person(&who, &person_id, &change, &client).await {
        Ok(_) => Ok(see_other(&format!("/team/{id}?done=changed"))),
        Err(e @ (AppError::LastOwner | AppError::InvalidRole)) => Ok(flash::back(
            &format!("/team/{id}"),
            &ChangeErrors {
                change: Some(crate::words::refusal(&e)),
                ..ChangeErrors::default()
            },
            &form,
        )),
        Err(e @ AppError::InvalidRequest(_)) => Ok(flash::back(
            &format!("/team/{id}"),
            &ChangeErrors {
                name: Some(crate::words::refusal(&e)),
                ..ChangeErrors::default()
            },
            &form,
        )),
        Err(e) => Err(HtmlError(e)),
    }
}

/// What the name-and-role form shows beside its fields.
#[derive(Default, Serialize, Deserialize)]
pub struct ChangeErrors {
    name: Option<String>,
    change: Option<String>,
}

/// Lets a deactivated person sign in again.
pub async fn submit_reactivate(
    State(state): State<AppState>,
    Client(client): Client,
    Session(who, _): PageSession,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<CsrfOnlyForm>,
) -> Result<Response, HtmlError> {
    let person_id = PersonId::from_stored(id.as_str());
    state
        .latch
        .team
        .reactivate(&who, &person_id, &client)
        .await?;
    Ok(see_other(&format!("/team/{id}?done=reactivated")))
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
