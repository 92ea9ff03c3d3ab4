//! The audit trail page, with its filters.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use latch_app::Person;
use latch_app::PersonId;
use latch_app::records::AuditEvent;
use latch_domain::Timestamp;
use latch_domain::audit::AuditKind;
use latch_domain::zone::PracticeZone;
use serde::Deserialize;

use crate::AppState;
use crate::features::audit::api::AuditParams;
use crate::http::error::HtmlError;
use crate::http::extract::{PageSession, Session};
use crate::http::forms::Csrf;
use crate::http::layout::{Chrome, render};
use crate::words::{self, times::When};

pub struct EventRow {
    at: When,
    /// What happened, in words.
    what: String,
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
    /// Each kind's stored name and its name in words.
    kinds: Vec<(&'static str, &'static str)>,
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

/// A query string of the filters that are set, in the order given.
fn query_string(pairs: &[(&str, &Option<String>)]) -> Vec<String> {
    pairs
        .iter()
        .filter_map(|(key, value)| {
            let value = value.as_deref().filter(|v| !v.is_empty())?;
            let encoded: String = value
                .bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                        (b as char).to_string()
                    }
                    _ => format!("%{b:02X}"),
                })
                .collect();
            Some(format!("{key}={encoded}"))
        })
        .collect()
}

impl AuditPageQuery {
    /// The filters as the API reads them: the start of each date's day, or its last second,
    /// on the practice's clock; 50 at a time. A date that is not one goes on as typed, for the
    /// API to refuse.
    fn params(&self, zone: &PracticeZone) -> AuditParams {
        let day = |raw: &Option<String>, end: bool| {
            let raw = raw.as_deref().filter(|d| !d.is_empty())?;
            let Some(start) = zone.start_of_day(raw) else {
                return Some(raw.to_owned());
            };
            let at = if end {
                zone.start_of_next_day(raw)
                    .map_or(start, |next| next.minus(1))
            } else {
                start
            };
            Some(at.to_rfc3339())
        };
        AuditParams {
            limit: Some(PAGE_SIZE.to_string()),
            before: self.before.clone(),
            subject: self.subject.clone(),
            kind: self.kind.clone(),
            from: day(&self.from, false),
            to: day(&self.to, true),
        }
    }

    /// The link to the next page of older events, after the oldest shown.
    fn older(&self, oldest_id: i64) -> String {
        let mut pairs = query_string(&[
            ("subject", &self.subject),
            ("kind", &self.kind),
            ("from", &self.from),
            ("to", &self.to),
        ]);
        pairs.push(format!("before={oldest_id}"));
        pairs.join("&")
    }
}

/// Events a page of the trail shows.
const PAGE_SIZE: usize = 50;

pub async fn show_audit(
    State(state): State<AppState>,
    Session(who, _): PageSession,
    Csrf(csrf): Csrf,
    Query(q): Query<AuditPageQuery>,
) -> Result<Response, HtmlError> {
    let zone = &who.account.practice.security.time_zone;
    let params = q.params(zone);
    let (query, error) = match params.query() {
        Ok(query) => (Some(query), None),
        Err(e) => (None, Some(crate::words::refusal(&e))),
    };
    let trail = state.latch.audit.trail(&who.account, query).await?;
    let chrome = Chrome::new(&who, csrf, "audit");
    let now = state.latch.now();
    let page = AuditPage::new(chrome, (zone, now), &q, &params, trail, error);
    Ok(render(StatusCode::OK, &page))
}

impl AuditPage {
    fn new(
        chrome: Chrome,
        (zone, now): (&PracticeZone, Timestamp),
        q: &AuditPageQuery,
        params: &AuditParams,
        (events, people): (Vec<AuditEvent>, Vec<Person>),
        error: Option<String>,
    ) -> AuditPage {
        let name_of = |id: &Option<PersonId>| match id {
            None => "—".to_owned(),
            Some(id) => people
                .iter()
                .find(|p| &p.id == id)
                .map_or_else(|| id.to_string(), |p| p.name.clone()),
        };
        let csv_query = query_string(&[
            ("subject", &params.subject),
            ("kind", &params.kind),
            ("from", &params.from),
            ("to", &params.to),
        ]);
        let older = (events.len() == PAGE_SIZE).then(|| q.older(events.last().map_or(0, |e| e.id)));
        AuditPage {
            chrome,
            kinds: AuditKind::ALL
                .iter()
                .map(|k| (k.as_str(), words::audit::kind(*k)))
                .collect(),
            filter: AuditFilter {
                subject: q.subject.clone().unwrap_or_default(),
                kind: q.kind.clone().unwrap_or_default(),
                from: q.from.clone().unwrap_or_default(),
                to: q.to.clone().unwrap_or_default(),
            },
            events: events
                .into_iter()
                .map(|e| {
                    let (what, detail) = words::audit::event(&e.kind, &e.detail);
                    EventRow {
                        at: When::at(e.at, zone, now),
                        actor: name_of(&e.actor_id),
                        subject: name_of(&e.subject_id),
                        what,
                        ip: e.ip.unwrap_or_default(),
                        detail,
                    }
                })
                .collect(),
            people: people
                .iter()
                .map(|p| (p.id.to_string(), p.name.clone()))
                .collect(),
            csv_query: csv_query.join("&"),
            older,
            error,
        }
    }
}
