//! The audit trail's JSON API and its CSV export.

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use latch_app::PersonId;
use latch_app::records::{AuditEvent, AuditQuery};
use latch_app::{AppError, Reason};
use latch_domain::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiQuery, ApiSession, Session};
use crate::http::schema::AuditKindName;

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// How many events, newest first; 50 when left out.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 500)]
    pub limit: Option<String>,
    /// Only events older than this event id (the next page).
    #[param(pattern = "^[0-9]{1,18}$")]
    pub before: Option<String>,
    /// Only events about this person.
    pub subject: Option<String>,
    /// Only events of this kind.
    #[param(value_type = Option<AuditKindName>)]
    pub kind: Option<String>,
    /// Only events at or after this time.
    #[param(format = DateTime)]
    pub from: Option<String>,
    /// Only events at or before this time.
    #[param(format = DateTime)]
    pub to: Option<String>,
}

impl AuditParams {
    /// The query, or the reason it is not one.
    pub fn query(&self) -> Result<AuditQuery, AppError> {
        let bad = |name| AppError::InvalidRequest(Reason::Parameter(name).into());
        let limit = match self.limit.as_deref().filter(|s| !s.is_empty()) {
            None => 50,
            Some(raw) => raw
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=500).contains(n))
                .ok_or_else(|| bad("limit"))?,
        };
        let time = |raw: &Option<String>, name| -> Result<Option<Timestamp>, AppError> {
            match raw.as_deref().filter(|s| !s.is_empty()) {
                None => Ok(None),
                Some(t) => Timestamp::parse_rfc3339(t)
                    .map(Some)
                    .ok_or_else(|| bad(name)),
            }
        };
        Ok(AuditQuery {
            limit,
            before_id: match self.before.as_deref().filter(|s| !s.is_empty()) {
                None => None,
                Some(raw) => Some(raw.parse().map_err(|_| bad("before"))?),
            },
            subject_id: self
                .subject
                .as_deref()
                .filter(|s| !s.is_empty())
                .map(PersonId::from_stored),
            kind: match self.kind.as_deref().filter(|s| !s.is_empty()) {
                None => None,
                Some(raw) => Some(
                    latch_domain::audit::AuditKind::parse(raw)
                        .ok_or_else(|| bad("kind"))?
                        .as_str()
                        .to_owned(),
                ),
            },
            from: time(&self.from, "from")?,
            to: time(&self.to, "to")?,
        })
    }
}

#[derive(Serialize, ToSchema)]
pub struct AuditEventView {
    pub id: String,
    #[schema(format = DateTime)]
    pub at: String,
    #[schema(value_type = AuditKindName)]
    pub kind: String,
    /// The person who acted, or null (the operator's console, or someone not signed in).
    pub actor: Option<String>,
    /// The person it was about.
    pub subject: Option<String>,
    pub ip: Option<String>,
    /// A short, masked description.
    pub detail: String,
}

impl From<AuditEvent> for AuditEventView {
    fn from(e: AuditEvent) -> Self {
        AuditEventView {
            id: e.id.to_string(),
            at: e.at.to_rfc3339(),
            kind: e.kind,
            actor: e.actor_id.map(|id| id.to_string()),
            subject: e.subject_id.map(|id| id.to_string()),
            ip: e.ip,
            detail: e.detail,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct AuditResponse {
    pub events: Vec<AuditEventView>,
}

/// The practice's security events, newest first (owners and managers).
#[utoipa::path(get, path = "/api/v1/practice/audit", tag = "practice", params(AuditParams),
    responses((status = 200, body = AuditResponse), (status = 400, description = "invalid_request", body = ErrorBody),
              (status = 403, description = "forbidden", body = ErrorBody)))]
pub async fn audit(
    State(state): State<AppState>,
    Session(who, _): ApiSession,
    ApiQuery(params): ApiQuery<AuditParams>,
) -> Result<Json<AuditResponse>, ApiError> {
    let events = state
        .latch
        .audit
        .events(&who.account, params.query()?)
        .await?;
    Ok(Json(AuditResponse {
        events: events.into_iter().map(AuditEventView::from).collect(),
    }))
}

/// The same events as CSV.
#[utoipa::path(get, path = "/api/v1/practice/audit.csv", tag = "practice", params(AuditParams),
    responses((status = 200, description = "text/csv", content_type = "text/csv"), (status = 403, description = "forbidden", body = ErrorBody)))]
pub async fn audit_csv(
    State(state): State<AppState>,
    Session(who, _): ApiSession,
    ApiQuery(params): ApiQuery<AuditParams>,
) -> Result<Response, ApiError> {
    let events = state
        .latch
        .audit
        .events(&who.account, params.query()?)
        .await?;
    Ok(csv_response(events))
}

pub fn csv_response(events: Vec<AuditEvent>) -> Response {
    let mut out = String::from("id,at,kind,actor,subject,ip,detail\r\n");
    for e in events {
        let row = [
            e.id.to_string(),
            e.at.to_rfc3339(),
            e.kind,
            e.actor_id.map(|id| id.to_string()).unwrap_or_default(),
            e.subject_id.map(|id| id.to_string()).unwrap_or_default(),
            e.ip.unwrap_or_default(),
            e.detail,
        ];
        out.push_str(
            &row.iter()
                .map(|c| csv_cell(c))
                .collect::<Vec<_>>()
                .join(","),
        );
        out.push_str("\r\n");
    }
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"latch-audit.csv\"",
            ),
        ],
        out,
    )
        .into_response()
}

/// One CSV cell, quoted when needed. SECURITY: a cell a spreadsheet would read as a formula
/// gets a leading apostrophe.
fn csv_cell(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::csv_cell;

    #[test]
    fn csv_cells_are_quoted_and_never_formulas() {
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(
            csv_cell("remember_device_days: 365 → 30"),
            "remember_device_days: 365 → 30"
        );
    }
}
