//! The practice's security settings in the JSON API.

use axum::Json;
use axum::extract::State;
use latch_app::practice::SecurityUpdate;
use latch_domain::practice::SecuritySettings;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiJson, ApiSession, Client, Session};
use crate::http::schema::{CountryCode, MethodKindName, RequireTwoFactorName};

#[derive(Serialize, ToSchema)]
pub struct Security {
    #[schema(value_type = RequireTwoFactorName)]
    pub require_two_factor: String,
    /// 0 means browsers are never remembered.
    #[schema(minimum = 0, maximum = 365)]
    pub remember_device_days: u32,
    #[schema(minimum = 5, maximum = 120)]
    pub sign_out_after_idle_minutes: u32,
    /// The countries whose phone numbers may receive codes.
    #[schema(value_type = Vec<CountryCode>, min_items = 1)]
    pub allowed_countries: Vec<String>,
    /// Texts and calls a day.
    #[schema(minimum = 1, maximum = 100_000)]
    pub daily_send_budget: u32,
    /// The IANA name of the zone pages, emails and the CSV show times in; the API stays UTC.
    #[schema(example = "America/Los_Angeles")]
    pub time_zone: String,
    /// The two-factor methods people of the practice may add; one already in use stays.
    #[schema(value_type = Vec<MethodKindName>, min_items = 1)]
    pub methods_allowed: Vec<&'static str>,
}

impl From<&SecuritySettings> for Security {
    fn from(s: &SecuritySettings) -> Self {
        Security {
            require_two_factor: s.require_two_factor.as_str().to_owned(),
            remember_device_days: s.remember_device_days,
            sign_out_after_idle_minutes: s.sign_out_after_idle_minutes,
            allowed_countries: s
                .allowed_countries
                .iter()
                .map(|c| c.code().to_owned())
                .collect(),
            daily_send_budget: s.daily_send_budget,
            time_zone: s.time_zone.name().to_owned(),
            methods_allowed: s.methods_allowed.iter().map(|k| k.as_str()).collect(),
        }
    }
}

/// A part of `Security`; fields left out stay as they are.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct SecurityRequest {
    #[schema(value_type = Option<RequireTwoFactorName>)]
    pub require_two_factor: Option<String>,
    #[schema(minimum = 0, maximum = 365)]
    #[serde(default, deserialize_with = "whole_number")]
    pub remember_device_days: Option<i64>,
    #[schema(minimum = 5, maximum = 120)]
    #[serde(default, deserialize_with = "whole_number")]
    pub sign_out_after_idle_minutes: Option<i64>,
    /// ISO 3166-1 alpha-2 codes.
    #[schema(value_type = Option<Vec<CountryCode>>, min_items = 1)]
    pub allowed_countries: Option<Vec<String>>,
    #[schema(minimum = 1, maximum = 100_000)]
    #[serde(default, deserialize_with = "whole_number")]
    pub daily_send_budget: Option<i64>,
    /// An IANA time-zone name.
    #[schema(example = "America/Los_Angeles", pattern = "^[A-Za-z0-9/_+-]{1,64}$")]
    pub time_zone: Option<String>,
    #[schema(value_type = Option<Vec<MethodKindName>>, min_items = 1)]
    pub methods_allowed: Option<Vec<String>>,
}

/// A whole number, written `117` or `117.0`: JSON Schema counts both as an integer, and so
/// does latch.
fn whole_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    let Some(n) = Option::<serde_json::Number>::deserialize(d)? else {
        return Ok(None);
    };
    n.as_i64()
        .or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 1e15)
                .map(|f| f as i64)
        })
        .map(Some)
        .ok_or_else(|| serde::de::Error::custom("expected a whole number"))
}

impl From<SecurityRequest> for SecurityUpdate {
    fn from(r: SecurityRequest) -> Self {
        SecurityUpdate {
            require_two_factor: r.require_two_factor,
            remember_device_days: r.remember_device_days,
            sign_out_after_idle_minutes: r.sign_out_after_idle_minutes,
            allowed_countries: r.allowed_countries,
            daily_send_budget: r.daily_send_budget,
            time_zone: r.time_zone,
            methods_allowed: r.methods_allowed,
        }
    }
}

/// The practice's security settings (owners and managers).
#[utoipa::path(get, path = "/api/v1/practice/security", tag = "practice",
    responses((status = 200, body = Security), (status = 403, description = "forbidden", body = ErrorBody)))]
pub async fn security(
    Session(who, _): ApiSession,
    State(state): State<AppState>,
) -> Result<Json<Security>, ApiError> {
    Ok(Json(Security::from(
        &state.latch.practice.security(&who.account)?,
    )))
}

/// Changes some security settings; needs the password re-entered within 10 minutes.
#[utoipa::path(put, path = "/api/v1/practice/security", request_body = SecurityRequest, tag = "practice",
    responses((status = 200, body = Security), (status = 400, description = "invalid_setting", body = ErrorBody),
              (status = 403, description = "forbidden or reauthentication_required", body = ErrorBody)))]
pub async fn update_security(
    State(state): State<AppState>,
    Client(client): Client,
    Session(who, _): ApiSession,
    ApiJson(body): ApiJson<SecurityRequest>,
) -> Result<Json<Security>, ApiError> {
    let settings = state
        .latch
        .practice
        .update_security(&who, &body.into(), &client)
        .await?;
    Ok(Json(Security::from(&settings)))
}
