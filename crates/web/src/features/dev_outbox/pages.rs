//! The development outbox's page.

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

#[derive(Template)]
#[template(path = "outbox.html")]
pub struct OutboxPage {
    messages: Vec<OutboxRow>,
}

pub async fn show_outbox(
    State(state): State<AppState>,
    DirectLoopback(loopback): DirectLoopback,
) -> Result<Response, HtmlError> {
    let messages = match state.latch.outbox_messages(None, 100).await? {
        Some(messages) if loopback => messages,
        _ => return Ok(crate::http::layout::not_found().await),
    };
    // The outbox belongs to no one practice: how long ago, and UTC on hover.
    let (utc, now) = (PracticeZone::utc(), state.latch.now());
    let page = OutboxPage {
        messages: messages
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
