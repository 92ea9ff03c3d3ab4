//! The audit trail's JSON API and its CSV export.

use std::collections::HashMap;

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use latch_app::records::{AuditEvent, AuditQuery};
use latch_app::{AppError, Reason};
use latch_app::{Person, PersonId};
use latch_domain::Timestamp;
use latch_domain::zone::PracticeZone;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiQuery, ApiSession, Session};
use crate::http::schema::AuditKindName;
use crate::words::{self, times};

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

/// The same events as CSV: every one the query finds unless a `limit` is given, streamed a
/// batch at a time, with the names and emails of actor and subject and the time on the
/// practice's clock beside UTC.
#[utoipa::path(get, path = "/api/v1/practice/audit.csv", tag = "practice", params(AuditParams),
    responses((status = 200, description = "text/csv", content_type = "text/csv"), (status = 403, description = "forbidden", body = ErrorBody)))]
pub async fn audit_csv(
    State(state): State<AppState>,
    Session(who, _): ApiSession,
    ApiQuery(params): ApiQuery<AuditParams>,
) -> Result<Response, ApiError> {
    let query = params.query()?;
    let limit = params.limit.is_some().then_some(query.limit);
    let export = state.latch.audit.export(&who.account, query, limit).await?;
    let zone = who.account.practice.security.time_zone.clone();
    let rows = futures_util::stream::unfold((Export::Header, export), move |(step, mut export)| {
        let zone = zone.clone();
        async move {
            match step {
                Export::Header => Some((Ok(CSV_HEADER.to_owned()), (Export::Rows, export))),
                Export::Rows => match export.next_batch().await {
                    Ok(Some(batch)) => {
                        let rows = csv_rows(&batch, &export.people, &zone);
                        Some((Ok(rows), (Export::Rows, export)))
                    }
                    Ok(None) => None,
                    Err(e) => {
                        // The answer is already under way: cutting it short is how the
                        // client learns it is not whole.
                        tracing::error!(error = %e, "the audit export stopped");
                        let cut = std::io::Error::other("the audit export stopped");
                        Some((Err(cut), (Export::Over, export)))
                    }
                },
                Export::Over => None,
            }
        }
    });
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"latch-audit.csv\"",
            ),
        ],
        Body::from_stream(rows),
    )
        .into_response())
}

/// Where a streamed export is.
enum Export {
    Header,
    Rows,
    Over,
}

const CSV_HEADER: &str = "id,at,local_time,kind,event,actor,actor_name,actor_email,subject,\
    subject_name,subject_email,ip,detail\r\n";

/// A batch of events as CSV lines.
fn csv_rows(events: &[AuditEvent], people: &[Person], zone: &PracticeZone) -> String {
    let by_id: HashMap<&str, &Person> = people.iter().map(|p| (p.id.as_str(), p)).collect();
    let person = |id: &Option<PersonId>| {
        let found = id.as_ref().and_then(|id| by_id.get(id.as_str()).copied());
        (
            id.as_ref().map(ToString::to_string).unwrap_or_default(),
            found.map(|p| p.name.clone()).unwrap_or_default(),
            found.map(|p| p.email.to_string()).unwrap_or_default(),
        )
    };
    let mut out = String::new();
    for e in events {
        let (actor, actor_name, actor_email) = person(&e.actor_id);
        let (subject, subject_name, subject_email) = person(&e.subject_id);
        let (what, _) = words::audit::event(&e.kind, &e.detail);
        let row = [
            e.id.to_string(),
            e.at.to_rfc3339(),
            times::export(e.at, zone),
            e.kind.clone(),
            what,
            actor,
            actor_name,
            actor_email,
            subject,
            subject_name,
            subject_email,
            e.ip.clone().unwrap_or_default(),
            e.detail.clone(),
        ];
        out.push_str(
            &row.iter()
                .map(|c| csv_cell(c))
                .collect::<Vec<_>>()
                .join(","),
        );
        out.push_str("\r\n");
    }
    out
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
