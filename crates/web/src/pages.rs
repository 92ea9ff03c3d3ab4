//! The server-rendered pages: first run, sign-in, dashboards, My Profile, Team and Practice
//! Settings. Each handler calls the same use case as its API twin.

use askama::Template;
use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use latch_app::records::{Account, PeopleFilter};
use latch_app::setup::PracticeInput;
use latch_app::sign_in::Authenticated;
use latch_app::team::PersonInput;
use latch_app::{AppError, Field, Secret};
use latch_domain::country::Country;
use latch_domain::device::BrowserDevices;
use latch_domain::phone::PhoneNumber;
use latch_domain::{Permission, Role};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::AppState;
use crate::api::SessionView;
use crate::api_two_factor::DeviceView;
use crate::cookies::{self, with_cookie};
use crate::error::{HtmlError, message_page};
use crate::extract::{AnySession, Browser, Client, PageSession, Session};
use crate::guard::FormToken;

/// A form whose fields are all text, with the hidden `csrf` field every form carries.
macro_rules! csrf_form {
    ($name:ident { $($field:ident),* $(,)? }) => {
        #[derive(Deserialize, Default)]
        pub struct $name {
            #[serde(default)]
            csrf: String,
            $(#[serde(default)] pub(crate) $field: String,)*
        }

        impl HasCsrf for $name {
            fn csrf(&self) -> &str {
                &self.csrf
            }
        }
    };
}
pub(crate) use csrf_form;

// ----- plumbing -----------------------------------------------------------------------------

pub(crate) fn render(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => HtmlError(AppError::Internal(format!("template: {e}"))).into_response(),
    }
}

pub(crate) fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// A form whose hidden `csrf` field matched this browser's CSRF cookie.
pub struct CsrfForm<T>(pub T);

pub trait HasCsrf {
    fn csrf(&self) -> &str;
}

impl<T: DeserializeOwned + HasCsrf> FromRequest<AppState> for CsrfForm<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let expected = req.extensions().get::<FormToken>().cloned();
        let axum::Form(form) = axum::Form::<T>::from_request(req, state)
            .await
            .map_err(|_| {
                message_page(
                    StatusCode::BAD_REQUEST,
                    "That didn't work",
                    "The form was incomplete. Please go back and try again.",
                    "/",
                    "Go to the start",
                )
            })?;
        // SECURITY: the token is an HMAC of this browser's CSRF cookie; another site can
        // neither read the cookie nor forge the token.
        match expected {
            Some(FormToken(token)) if latch_app::crypto::constant_time_eq(&token, form.csrf()) => {
                Ok(CsrfForm(form))
            }
            _ => Err(message_page(
                StatusCode::FORBIDDEN,
                "Please try again",
                "This form has expired. Go back, reload the page, and send it again.",
                "/",
                "Go to the start",
            )),
        }
    }
}

/// The form token the CSRF middleware prepared for this request.
pub struct Csrf(pub String);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Csrf {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(Csrf(
            parts
                .extensions
                .get::<FormToken>()
                .map(|t| t.0.clone())
                .unwrap_or_default(),
        ))
    }
}

/// What every signed-in page shows around its content.
pub struct Chrome {
    pub csrf: String,
    pub person_name: String,
    pub practice_name: String,
    pub role_label: &'static str,
    pub admin: bool,
    pub active: &'static str,
    pub notice: Option<&'static str>,
}

impl Chrome {
    pub(crate) fn new(who: &Authenticated, csrf: String, active: &'static str) -> Self {
        let Account { person, practice } = &who.account;
        Chrome {
            csrf,
            person_name: person.name.clone(),
            practice_name: practice.name.clone(),
            role_label: person.role.label(),
            admin: person.role.allows(Permission::ViewTeam),
            active,
            notice: None,
        }
    }
}

#[derive(Deserialize)]
pub struct NoticeQuery {
    pub(crate) done: Option<String>,
}

pub(crate) fn notice_for(done: Option<&str>) -> Option<&'static str> {
    match done? {
        "password" => Some("Your password was changed. You were signed out everywhere else."),
        "session" => Some("That session was ended."),
        "added" => Some("The person was added. They can sign in now."),
        "welcome" => Some("Your practice is ready. Welcome to latch!"),
        "two-factor-off" => {
            Some("Two-factor authentication is off. We texted your phone to let you know.")
        }
        "device" => Some("That browser was forgotten. It will ask for a code next time."),
        "devices" => Some("Every remembered browser was forgotten."),
        "settings" => Some("The security settings were saved."),
        "reset" => Some(
            "Their two-factor was reset. They were signed out everywhere and set it up again at their next sign-in.",
        ),
        "unlock" => Some("Their two-factor step was unlocked."),
        _ => None,
    }
}

// ----- home, first run, sign-in -------------------------------------------------------------

pub async fn show_home(
    State(state): State<AppState>,
    session: Option<PageSession>,
) -> Result<Response, HtmlError> {
    if session.is_some() {
        return Ok(see_other("/dashboard"));
    }
    if state.latch.setup.needs_first_run().await? {
        return Ok(see_other("/setup"));
    }
    Ok(see_other("/sign-in"))
}

csrf_form!(SetupForm {
    setup_token,
    practice_name,
    country,
    name,
    email,
    password
});

#[derive(Default)]
pub struct SetupErrors {
    general: Option<String>,
    setup_token: Option<String>,
    practice_name: Option<String>,
    country: Option<String>,
    name: Option<String>,
    email: Option<String>,
    password: Option<String>,
}

#[derive(Template)]
#[template(path = "setup.html")]
pub struct SetupPage {
    csrf: String,
    needs_token: bool,
    form: SetupForm,
    errors: SetupErrors,
    countries: Vec<(&'static str, &'static str)>,
}

fn setup_page(state: &AppState, csrf: String, form: SetupForm, errors: SetupErrors) -> SetupPage {
    SetupPage {
        csrf,
        needs_token: state.config.production,
        form,
        errors,
        countries: Country::all().map(|c| (c.code(), c.name())).collect(),
    }
}

pub async fn show_setup(
    State(state): State<AppState>,
    Csrf(csrf): Csrf,
) -> Result<Response, HtmlError> {
    if !state.latch.setup.needs_first_run().await? {
        return Ok(see_other("/sign-in"));
    }
    let form = SetupForm {
        country: "US".into(),
        ..SetupForm::default()
    };
    Ok(render(
        StatusCode::OK,
        &setup_page(&state, csrf, form, SetupErrors::default()),
    ))
}

pub async fn submit_setup(
    State(state): State<AppState>,
    Client(client): Client,
    Csrf(csrf): Csrf,
    CsrfForm(mut form): CsrfForm<SetupForm>,
) -> Result<Response, HtmlError> {
    let input = PracticeInput {
        practice_name: form.practice_name.clone(),
        country: Some(form.country.clone()),
        owner_email: form.email.clone(),
        owner_name: form.name.clone(),
        owner_password: Secret::new(std::mem::take(&mut form.password)),
    };
    let token = Secret::new(std::mem::take(&mut form.setup_token));
    match state
        .latch
        .setup
        .create_first_practice(input, Some(&token), &client)
        .await
    {
        Ok(signed_in) => Ok(with_cookie(
            see_other("/dashboard?done=welcome"),
            cookies::session(&state.config, signed_in.token.expose()),
        )),
        Err(AppError::AlreadySetUp) => Ok(see_other("/sign-in")),
        Err(e) => {
            let mut errors = SetupErrors::default();
            let message = e.to_string();
            match &e {
                AppError::Forbidden => {
                    errors.setup_token =
                        Some("The setup token is not correct. Copy it from latch's console.".into())
                }
                AppError::InvalidEmail(_) | AppError::EmailTaken => errors.email = Some(message),
                AppError::WeakPassword(_) => errors.password = Some(message),
                AppError::InvalidRequest(_) => match e.field() {
                    Some(Field::PracticeName) => errors.practice_name = Some(message),
                    Some(Field::Country) => errors.country = Some(message),
                    _ => errors.name = Some(message),
                },
                _ => return Err(HtmlError(e)),
            }
            let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
            Ok(render(status, &setup_page(&state, csrf, form, errors)))
        }
    }
}

#[derive(Template)]
#[template(path = "sign_in.html")]
pub struct SignInPage {
    csrf: String,
    email: String,
    error: Option<String>,
}

csrf_form!(SignInForm { email, password });

pub async fn show_sign_in(
    State(state): State<AppState>,
    session: Option<PageSession>,
    Csrf(csrf): Csrf,
) -> Result<Response, HtmlError> {
    if session.is_some() {
        return Ok(see_other("/dashboard"));
    }
    if state.latch.setup.needs_first_run().await? {
        return Ok(see_other("/setup"));
    }
    Ok(render(
        StatusCode::OK,
        &SignInPage {
            csrf,
            email: String::new(),
            error: None,
        },
    ))
}

pub async fn submit_sign_in(
    State(state): State<AppState>,
    Client(client): Client,
    AnySession(previous): AnySession,
    Browser(browser): Browser,
    Csrf(csrf): Csrf,
    CsrfForm(mut form): CsrfForm<SignInForm>,
) -> Result<Response, HtmlError> {
    let password = Secret::new(std::mem::take(&mut form.password));
    match state
        .latch
        .sign_in
        .sign_in(&form.email, &password, &client, &browser)
        .await
    {
        Ok(signed_in) => {
            if let Some(previous) = previous {
                state.latch.sign_in.sign_out(&previous, &client).await?;
            }
            let next = match (&signed_in.code, &signed_in.delivery_failed) {
                (None, None) => "/dashboard".to_owned(),
                (Some(code), _) => format!("/sign-in/code?sent={}", code.channel.as_str()),
                (
                    None,
                    Some(AppError::DeliveryFailed {
                        try_instead: Some(other),
                        ..
                    }),
                ) => {
                    format!("/sign-in/code?failed={}", other.as_str())
                }
                (None, Some(_)) => "/sign-in/code?failed=1".to_owned(),
            };
            Ok(with_cookie(
                see_other(&next),
                cookies::session(&state.config, signed_in.token.expose()),
            ))
        }
        Err(e @ (AppError::InvalidCredentials | AppError::RateLimited { .. })) => {
            let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::UNAUTHORIZED);
            let mut response = render(
                status,
                &SignInPage {
                    csrf,
                    email: form.email,
                    error: Some(e.to_string()),
                },
            );
            if let Some(seconds) = e.retry_after() {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            }
            Ok(response)
        }
        Err(e) => Err(HtmlError(e)),
    }
}

csrf_form!(CsrfOnlyForm {});

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
        see_other("/sign-in"),
        cookies::clear_session(&state.config),
    ))
}

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
    let mut chrome = Chrome::new(&who, csrf, "dashboard");
    chrome.notice = notice_for(q.done.as_deref());
    let person = &who.account.person;
    // Browsers remembered at or since the previous sign-in, other than this one, are news:
    // that sign-in may not have been the person.
    let since = person.previous_sign_in_at.unwrap_or(person.created_at);
    let new_devices = if person.two_factor.is_some() {
        let (devices, current) = state.latch.devices.devices(&who, &browser).await?;
        devices
            .into_iter()
            .filter(|d| d.created_at >= since && current.as_deref() != Some(d.id.as_str()))
            .map(|d| (d.label, d.created_at.to_rfc3339()))
            .collect()
    } else {
        Vec::new()
    };
    let page = DashboardPage {
        new_devices,
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
            let phone = PhoneNumber::from_stored(&s.phone).map_or_else(String::new, |p| p.masked());
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
        email: who.account.person.email.clone(),
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
    let mut chrome = Chrome::new(&who, csrf, "profile");
    chrome.notice = notice_for(q.done.as_deref());
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
    match state
        .latch
        .account
        .change_password(&who, &current, &new, &client)
        .await
    {
        Ok(token) => Ok(with_cookie(
            see_other("/profile?done=password"),
            cookies::session(&state.config, token.expose()),
        )),
        Err(e) => {
            let mut errors = PasswordErrors::default();
            match &e {
                AppError::InvalidCredentials => {
                    errors.current = Some("Your current password is not correct.".into())
                }
                AppError::WeakPassword(m) => errors.new = Some(m.clone()),
                AppError::RateLimited { .. } => errors.general = Some(e.to_string()),
                _ => return Err(HtmlError(e)),
            }
            let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
            let page = profile_page(
                &state,
                &who,
                &browser,
                Chrome::new(&who, csrf, "profile"),
                errors,
            )
            .await?;
            Ok(render(status, &page))
        }
    }
}

pub async fn submit_end_session(
    State(state): State<AppState>,
    Client(client): Client,
    Session(who, _): PageSession,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<CsrfOnlyForm>,
) -> Result<Response, HtmlError> {
    state.latch.account.end_session(&who, &id, &client).await?;
    if id == who.session.id {
        return Ok(with_cookie(
            see_other("/sign-in"),
            cookies::clear_session(&state.config),
        ));
    }
    Ok(see_other("/profile?done=session"))
}

pub struct PersonRow {
    id: String,
    name: String,
    email: String,
    role: &'static str,
    two_factor: String,
    devices: i64,
    status: &'static str,
    last_sign_in: String,
}

/// How a person's two-factor reads on the Team pages.
pub(crate) fn two_factor_text(person: &latch_app::Person) -> String {
    match &person.two_factor {
        Some(s) => {
            let phone = PhoneNumber::from_stored(&s.phone).map_or_else(String::new, |p| p.masked());
            format!("On: {} to {phone}", s.channel.label())
        }
        None => "Off".to_owned(),
    }
}

pub(crate) fn status_text(
    person: &latch_app::Person,
    now: latch_domain::Timestamp,
) -> &'static str {
    match person.lock.at(now.seconds()) {
        latch_domain::two_factor::Locked::No => "Active",
        latch_domain::two_factor::Locked::For { .. } => "Locked for a while",
        latch_domain::two_factor::Locked::UntilUnlocked => "Locked until unlocked",
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
    role: Option<String>,
    two_factor: Option<String>,
}

csrf_form!(AddPersonForm {
    role,
    name,
    email,
    password
});

#[derive(Default)]
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
    chrome: Chrome,
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
    let now = state.latch.now();
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
            two_factor: two_factor_text(&p),
            devices: counts.get(&p.id).copied().unwrap_or(0),
            status: status_text(&p, now),
            last_sign_in: p
                .last_sign_in_at
                .map_or_else(|| "Never".to_owned(), |t| t.to_rfc3339()),
            id: p.id,
            name: p.name,
            email: p.email,
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
) -> Result<Response, HtmlError> {
    let mut chrome = Chrome::new(&who, csrf, "team");
    chrome.notice = notice_for(q.done.as_deref());
    let form = AddPersonForm {
        role: "staff".into(),
        ..AddPersonForm::default()
    };
    let page = team_page(&state, &who, chrome, &q, form, AddPersonErrors::default()).await?;
    Ok(render(StatusCode::OK, &page))
}

pub async fn submit_add_person(
    State(state): State<AppState>,
    Client(client): Client,
    Session(who, _): PageSession,
    Csrf(csrf): Csrf,
    CsrfForm(mut form): CsrfForm<AddPersonForm>,
) -> Result<Response, HtmlError> {
    let input = PersonInput {
        email: form.email.clone(),
        name: form.name.clone(),
        role: form.role.clone(),
        password: Secret::new(std::mem::take(&mut form.password)),
    };
    match state
        .latch
        .team
        .add_person(&who.account, input, &client)
        .await
    {
        Ok(_) => Ok(see_other("/team?done=added")),
        Err(e) => {
            let mut errors = AddPersonErrors::default();
            let message = e.to_string();
            match &e {
                AppError::InvalidRole(_) => errors.role = Some(message),
                // Someone who may not see the Team page at all gets the refusal page.
                AppError::Forbidden if !who.account.person.role.allows(Permission::ViewTeam) => {
                    return Err(HtmlError(e));
                }
                AppError::Forbidden => {
                    errors.role = Some("Only an owner can add owners or managers.".into())
                }
                AppError::InvalidEmail(_) | AppError::EmailTaken => errors.email = Some(message),
                AppError::WeakPassword(_) => errors.password = Some(message),
                AppError::InvalidRequest(_) => errors.name = Some(message),
                AppError::RateLimited { .. } => errors.general = Some(message),
                _ => return Err(HtmlError(e)),
            }
            let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
            let page = team_page(
                &state,
                &who,
                Chrome::new(&who, csrf, "team"),
                &TeamQuery::default(),
                form,
                errors,
            )
            .await?;
            Ok(render(status, &page))
        }
    }
}

pub async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../static/latch.css"),
    )
        .into_response()
}

pub async fn not_found() -> Response {
    message_page(
        StatusCode::NOT_FOUND,
        "Page not found",
        "There is no page at this address.",
        "/",
        "Go to the start",
    )
}
