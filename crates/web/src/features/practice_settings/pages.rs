//! The Security Settings page, with its view and form.

use crate::AppState;
use crate::http::cookies::with_session;
use crate::http::error::HtmlError;
use crate::http::extract::{Client, PageSession, Session};
use crate::http::flash::{self, Flashed};
use crate::http::forms::{Csrf, CsrfForm, FieldErrors, csrf_form};
use crate::http::layout::{Chrome, NoticeQuery, render, see_other};
use crate::http::pickers::{self, ZoneGroup};
use crate::words::{self, password_refusal};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use latch_app::practice::SecurityUpdate;
use latch_app::sign_in::Authenticated;
use latch_app::{AppError, Field, Secret};
use latch_domain::method::MethodKind;
use latch_domain::practice::{RequireTwoFactor, SecuritySettings};
use serde::{Deserialize, Serialize};

csrf_form!(SettingsForm {
    require_two_factor,
    remember_device_days,
    sign_out_after_idle_minutes,
    allowed_countries,
    daily_send_budget,
    time_zone,
    // The method boxes were on the form: none checked then means none, not "keep".
    methods_shown,
    methods_allowed
} secret { password });

#[derive(Default, Serialize, Deserialize)]
pub struct SettingsErrors {
    general: Option<String>,
    idle: Option<String>,
    countries: Option<String>,
    budget: Option<String>,
    time_zone: Option<String>,
    methods: Option<String>,
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
    time_zones: Vec<ZoneGroup>,
    zone_prompt: bool,
    /// Every country as a box to check, the ones the form allows first.
    countries: Vec<CountryBox>,
    /// Each two-factor method as a box to check: its value, its words, and whether checked.
    methods: Vec<(&'static str, &'static str, bool)>,
}

pub struct CountryBox {
    code: &'static str,
    name: &'static str,
    checked: bool,
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
    let allowed: Vec<&str> = form.allowed_countries.split(',').map(str::trim).collect();
    let (mut countries, others): (Vec<CountryBox>, Vec<CountryBox>) = pickers::countries()
        .into_iter()
        .map(|(code, name)| CountryBox {
            code,
            name,
            checked: allowed.iter().any(|a| a.eq_ignore_ascii_case(code)),
        })
        .partition(|c| c.checked);
    countries.extend(others);
    let allowed_methods: Vec<&str> = form.methods_allowed.split(',').map(str::trim).collect();
    let methods = MethodKind::ALL
        .into_iter()
        .map(|k| {
            let words = match k {
                MethodKind::Passkey => "Passkeys (a fingerprint, face or device PIN)",
                MethodKind::Totp => "Authenticator apps",
                MethodKind::Sms => "Codes by text message",
                MethodKind::Voice => "Codes by voice call",
            };
            (k.as_str(), words, allowed_methods.contains(&k.as_str()))
        })
        .collect();
    SettingsPage {
        chrome,
        countries,
        methods,
        time_zones: pickers::time_zones(&form.time_zone),
        zone_prompt: false,
        form,
        errors,
        rule_options: RequireTwoFactor::ALL
            .map(|r| (r.as_str(), words::audit::rule(r)))
            .into(),
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
            .join(","),
        daily_send_budget: s.daily_send_budget.to_string(),
        time_zone: s.time_zone.name().to_owned(),
        methods_shown: "1".to_owned(),
        methods_allowed: s.methods_allowed_text(),
        ..SettingsForm::default()
    }
}

pub async fn show_settings(
    State(state): State<AppState>,
    Session(who, _): PageSession,
    Csrf(csrf): Csrf,
    Query(q): Query<NoticeQuery>,
    Flashed(flash): Flashed,
) -> Result<Response, HtmlError> {
    // The settings are app's to show: it says who may see them.
    state.latch.practice.security(&who.account)?;
    let chrome = Chrome::new(&who, csrf, "settings").noting(q.done.as_deref());
    let (form, errors) = flash::refill(flash.as_ref(), || current_form(&who));
    Ok(render(
        StatusCode::OK,
        &settings_page(&who, chrome, form, errors),
    ))
}

impl SettingsForm {
    /// The change the form asks for, or why its numbers are not numbers (both at once).
    fn update(&self) -> Result<SecurityUpdate, Box<SettingsErrors>> {
        let number = |raw: &str| raw.trim().replace(',', "").parse::<i64>().ok();
        let idle = number(&self.sign_out_after_idle_minutes);
        let budget = number(&self.daily_send_budget);
        if idle.is_none() || budget.is_none() {
            return Err(Box::new(SettingsErrors {
                idle: idle
                    .is_none()
                    .then(|| "Enter a number of minutes from 5 to 120.".into()),
                budget: budget
                    .is_none()
                    .then(|| "Enter a number from 1 to 100,000.".into()),
                ..SettingsErrors::default()
            }));
        }
        Ok(SecurityUpdate {
            require_two_factor: Some(self.require_two_factor.clone()),
            remember_device_days: number(&self.remember_device_days),
            sign_out_after_idle_minutes: idle,
            allowed_countries: Some(
                self.allowed_countries
                    .split([',', ' '])
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .map(str::to_owned)
                    .collect(),
            ),
            daily_send_budget: budget,
            // A form without the picker keeps the zone.
            time_zone: Some(self.time_zone.clone()).filter(|z| !z.trim().is_empty()),
            methods_allowed: (!self.methods_shown.is_empty()).then(|| {
                self.methods_allowed
                    .split(',')
                    .map(str::trim)
                    .filter(|k| !k.is_empty())
                    .map(str::to_owned)
                    .collect()
            }),
        })
    }
}

impl FieldErrors for SettingsErrors {
    fn beside(&mut self, field: Option<Field>) -> &mut Option<String> {
        match field {
            Some(Field::AllowedCountries) => &mut self.countries,
            Some(Field::IdleMinutes) => &mut self.idle,
            Some(Field::DailySendBudget) => &mut self.budget,
            Some(Field::TimeZone) => &mut self.time_zone,
            Some(Field::MethodsAllowed) => &mut self.methods,
            _ => &mut self.general,
        }
    }
}

impl SettingsErrors {
    /// What saving the settings came to: the session's new token when they were saved, else
    /// what the form shows (with the new token when the password was right); an error page
    /// for anything else.
    fn of_saving(
        saving: Result<(Secret, Result<SecuritySettings, AppError>), AppError>,
    ) -> Result<Saving, HtmlError> {
        match saving {
            Ok((token, Ok(_))) => Ok(Saving::Saved(token)),
            Ok((token, Err(e @ AppError::InvalidSetting(_)))) => Ok(Saving::Refused(
                SettingsErrors::placing(&e).unwrap_or_default(),
                Some(token),
            )),
            Err(e @ (AppError::InvalidCredentials | AppError::RateLimited { .. })) => {
                Ok(Saving::Refused(SettingsErrors::password(&e), None))
            }
            Ok((_, Err(e))) | Err(e) => Err(HtmlError(e)),
        }
    }

    /// A password that was wrong, or refused under its delay.
    fn password(e: &AppError) -> Self {
        SettingsErrors {
            password: Some(password_refusal(e, "That password is not correct.")),
            ..SettingsErrors::default()
        }
    }
}

pub async fn submit_settings(
    State(state): State<AppState>,
    Client(client): Client,
    Session(who, _): PageSession,
    CsrfForm(mut form): CsrfForm<SettingsForm>,
) -> Result<Response, HtmlError> {
    // Who may change the settings is app's to say, before the form is read at all.
    state.latch.practice.security(&who.account)?;
    let password = Secret::new(std::mem::take(&mut form.password));
    let (errors, token) = match form.update() {
        Err(errors) => (*errors, None),
        Ok(update) => {
            let practice = &state.latch.practice;
            let saving = practice.update_security_with_password(&who, &update, &password, &client);
            match SettingsErrors::of_saving(saving.await)? {
                Saving::Saved(token) => {
                    let saved = see_other("/practice/settings?done=settings");
                    return Ok(with_session(saved, &state.config, Some(&token)));
                }
                Saving::Refused(errors, token) => (errors, token),
            }
        }
    };
    let response = flash::back("/practice/settings", &errors, &form);
    // The password was right even if a setting was not: keep the new session id.
    Ok(with_session(response, &state.config, token.as_ref()))
}

/// Settings saved, with the session's new token; or refused, with what the form shows and the
/// new token when the password was right.
enum Saving {
    Saved(Secret),
    Refused(SettingsErrors, Option<Secret>),
}
