//! The development outbox's page: texts and calls, and emails, each newest first.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use crate::AppState;
use crate::http::error::HtmlError;
use crate::http::extract::DirectLoopback;
use crate::http::layout::render;
use crate::words::times::When;
use latch_domain::zone::PracticeZone;

// ----- the development outbox ------------------------------------------------------------

pub struct OutboxRow {
    id: i64,
    to: String,
    channel: &'static str,
    body: String,
    code: Option<String>,
    sent_at: When,
}

pub struct EmailRow {
    id: i64,
    to: String,
    subject: String,
    text: String,
    link: Option<String>,
    sent_at: When,
}

#[derive(Template)]
#[template(path = "outbox.html")]
pub struct OutboxPage {
    messages: Vec<OutboxRow>,
    emails: Vec<EmailRow>,
}

pub async fn show_outbox(
    State(state): State<AppState>,
    DirectLoopback(loopback): DirectLoopback,
) -> Result<Response, HtmlError> {
    if !loopback {
        return Ok(crate::http::layout::not_found().await);
    }
    let messages = state.latch.outbox_messages(None, 100).await?;
    let emails = state.latch.mail.outbox(None, 100).await?;
    if messages.is_none() && emails.is_none() {
        return Ok(crate::http::layout::not_found().await);
    }
    // The outbox belongs to no one practice: how long ago, and UTC on hover.
    let (utc, now) = (PracticeZone::utc(), state.latch.now());
    let page = OutboxPage {
        emails: emails
            .unwrap_or_default()
            .into_iter()
            .map(|m| EmailRow {
                id: m.id,
                to: m.to,
                subject: m.subject,
                text: m.text,
                link: m.link,
                sent_at: When::ago(m.sent_at, &utc, now),
            })
            .collect(),
        messages: messages
            .unwrap_or_default()
            .into_iter()
            .map(|m| OutboxRow {
                id: m.id,
                to: m.to,
                channel: m.channel.label(),
                body: m.body,
                code: m.code,
                sent_at: When::ago(m.sent_at, &utc, now),
            })
            .collect(),
    };
    Ok(render(StatusCode::OK, &page))
}
