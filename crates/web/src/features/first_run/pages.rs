//! The home page (where to go first) and the first-run page, with its view and form.

use crate::AppState;
use crate::http::cookies::with_session;
use crate::http::error::HtmlError;
use crate::http::extract::{Client, PageSession};
use crate::http::flash::{self, Flashed};
use crate::http::forms::{Csrf, CsrfForm, FieldErrors, csrf_form};
use crate::http::layout::{render, see_other};
use crate::http::pickers::{self, ZoneGroup};
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use latch_app::setup::PracticeInput;
use latch_app::{AppError, Field, Secret};
use serde::{Deserialize, Serialize};

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
    practice_name,
    country,
    time_zone,
    name,
    email
} secret { setup_token, password });

#[derive(Default, Serialize, Deserialize)]
pub struct SetupErrors {
    general: Option<String>,
    setup_token: Option<String>,
    practice_name: Option<String>,
    country: Option<String>,
    time_zone: Option<String>,
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
    time_zones: Vec<ZoneGroup>,
    zone_prompt: bool,
}

fn setup_page(state: &AppState, csrf: String, form: SetupForm, errors: SetupErrors) -> SetupPage {
    SetupPage {
        csrf,
        needs_token: state.config.production,
        errors,
        countries: pickers::countries(),
        time_zones: pickers::time_zones(&form.time_zone),
        zone_prompt: true,
        form,
    }
}

pub async fn show_setup(
    State(state): State<AppState>,
    Csrf(csrf): Csrf,
    Flashed(flash): Flashed,
) -> Result<Response, HtmlError> {
    if !state.latch.setup.needs_first_run().await? {
        return Ok(see_other("/sign-in"));
    }
    let fresh = || SetupForm {
        country: "US".into(),
        ..SetupForm::default()
    };
    let (form, errors) = flash::refill(flash.as_ref(), fresh);
    Ok(render(
        StatusCode::OK,
        &setup_page(&state, csrf, form, errors),
    ))
}

pub async fn submit_setup(
    State(state): State<AppState>,
    Client(client): Client,
    CsrfForm(mut form): CsrfForm<SetupForm>,
) -> Result<Response, HtmlError> {
    let (input, token) = form.input();
    let created = state
        .latch
        .setup
        .create_first_practice(input, Some(&token), &client);
    match created.await {
        Ok(signed_in) => {
            let next = see_other("/dashboard?done=welcome");
            Ok(with_session(next, &state.config, Some(&signed_in.token)))
        }
        Err(AppError::AlreadySetUp) => Ok(see_other("/sign-in")),
        Err(e) => {
            let Some(errors) = SetupErrors::of(&e) else {
                return Err(HtmlError(e));
            };
            Ok(flash::back("/setup", &errors, &form))
        }
    }
}

impl SetupForm {
    /// The practice and its owner, and the setup token, taken out of the form so neither
    /// secret is shown again.
    fn input(&mut self) -> (PracticeInput, Secret) {
        let input = PracticeInput {
            practice_name: self.practice_name.clone(),
            country: Some(self.country.clone()),
            time_zone: Some(self.time_zone.clone()),
            owner_email: self.email.clone(),
            owner_name: self.name.clone(),
            owner_password: Secret::new(std::mem::take(&mut self.password)),
        };
        (input, Secret::new(std::mem::take(&mut self.setup_token)))
    }
}

impl SetupErrors {
    /// A refusal the form shows beside its field; none for what is an error page.
    fn of(e: &AppError) -> Option<SetupErrors> {
        let mut errors = SetupErrors::default();
        if matches!(e, AppError::Forbidden) {
            errors.setup_token =
                Some("The setup token is not correct. Copy it from latch's console.".into());
            return Some(errors);
        }
        SetupErrors::placing(e)
    }
}

impl FieldErrors for SetupErrors {
    fn beside(&mut self, field: Option<Field>) -> &mut Option<String> {
        match field {
            Some(Field::PracticeName) => &mut self.practice_name,
            Some(Field::Country) => &mut self.country,
            Some(Field::TimeZone) => &mut self.time_zone,
            Some(Field::Email) => &mut self.email,
            Some(Field::Password) => &mut self.password,
            _ => &mut self.name,
        }
    }
}
