//! The development outboxes' JSON API.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use latch_app::records::{EmailOutboxMessage, OutboxMessage};
use latch_domain::Email;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::http::error::{ApiError, ErrorBody, api_error_response};
use crate::http::extract::{ApiQuery, DirectLoopback};
use crate::http::schema::ChannelName;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OutboxQuery {
    /// Only messages to this number (E.164).
    pub to: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct OutboxMessageView {
    /// Increases with every message.
    pub id: i64,
    /// E.164, whole: the outbox stands in for the phone.
    pub to: String,
    #[schema(value_type = ChannelName)]
    pub channel: String,
    pub body: String,
    /// The code inside, or null for a notice.
    pub code: Option<String>,
    #[schema(format = DateTime)]
    pub sent_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct OutboxResponse {
    pub messages: Vec<OutboxMessageView>,
}

/// Development only: every text and call the outbox kept, newest first. Answers only direct
/// loopback callers, and 404 with any real provider.
#[utoipa::path(get, path = "/api/v1/dev/outbox", tag = "development", params(OutboxQuery),
    responses((status = 200, body = OutboxResponse), (status = 404, description = "not_found", body = ErrorBody)))]
pub async fn outbox(
    State(state): State<AppState>,
    DirectLoopback(loopback): DirectLoopback,
    ApiQuery(query): ApiQuery<OutboxQuery>,
) -> Result<Response, ApiError> {
    let kept = state
        .latch
        .outbox_messages(query.to.as_deref(), 200)
        .await?;
    let Some(messages) = kept.filter(|_| loopback) else {
        return Ok(no_such_endpoint());
    };
    let messages = messages.into_iter().map(OutboxMessageView::from).collect();
    Ok(Json(OutboxResponse { messages }).into_response())
}

/// What an outbox answers with a real provider, or to a caller that is not the developer's.
fn no_such_endpoint() -> Response {
    let nothing_here = "There is no such endpoint.";
    api_error_response(StatusCode::NOT_FOUND, "not_found", nothing_here)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EmailOutboxQuery {
    /// Only emails to this address (compared case-insensitively).
    pub to: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct EmailOutboxMessageView {
    /// Increases with every email.
    pub id: i64,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// The first link to latch in the email, or null.
    pub link: Option<String>,
    #[schema(format = DateTime)]
    pub sent_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct EmailOutboxResponse {
    pub messages: Vec<EmailOutboxMessageView>,
}

/// Development only: every email the email outbox kept, newest first. Answers only direct
/// loopback callers, and 404 when email goes out by SMTP.
#[utoipa::path(get, path = "/api/v1/dev/email-outbox", tag = "development", params(EmailOutboxQuery),
    responses((status = 200, body = EmailOutboxResponse), (status = 400, description = "invalid_email", body = ErrorBody),
              (status = 404, description = "not_found", body = ErrorBody)))]
pub async fn email_outbox(
    State(state): State<AppState>,
    DirectLoopback(loopback): DirectLoopback,
    ApiQuery(query): ApiQuery<EmailOutboxQuery>,
) -> Result<Response, ApiError> {
    let to = query.to.as_deref().map(Email::parse).transpose();
    let to = to.map_err(|_| ApiError::from(latch_app::AppError::InvalidEmail))?;
    let kept = state.latch.mail.outbox(to.as_ref(), 200).await?;
    let Some(messages) = kept.filter(|_| loopback) else {
        return Ok(no_such_endpoint());
    };
    let messages = messages
        .into_iter()
        .map(EmailOutboxMessageView::from)
        .collect();
    Ok(Json(EmailOutboxResponse { messages }).into_response())
}

impl From<EmailOutboxMessage> for EmailOutboxMessageView {
    fn from(m: EmailOutboxMessage) -> Self {
        EmailOutboxMessageView {
            id: m.id,
            to: m.to,
            subject: m.subject,
            text: m.text,
            html: m.html,
            link: m.link,
            sent_at: m.sent_at.to_rfc3339(),
        }
    }
}

impl From<OutboxMessage> for OutboxMessageView {
    fn from(m: OutboxMessage) -> Self {
        OutboxMessageView {
            id: m.id,
            to: m.to,
            channel: m.channel.as_str().to_owned(),
            body: m.body,
            code: m.code,
            sent_at: m.sent_at.to_rfc3339(),
        }
    }
}
