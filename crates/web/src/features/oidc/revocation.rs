//! Revocation (RFC 7009) and introspection (RFC 7662): an application with a secret ends a
//! token it holds, or asks whether one is active, authenticating as at the token endpoint.

use axum::Json;
use axum::extract::rejection::RawFormRejection;
use axum::extract::{RawForm, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use latch_app::records::TokenKind;
use serde_json::json;

use super::token::{ApplicationForm, Refusal, no_store};
use crate::AppState;
use crate::http::error::ApiError;
use crate::http::extract::Client;

/// `POST /oidc/revoke`: `200` whether or not the token was known (RFC 7009 §2.2).
pub async fn revoke(
    State(state): State<AppState>,
    Client(client): Client,
    headers: HeaderMap,
    body: Result<RawForm, RawFormRejection>,
) -> Result<Response, ApiError> {
    let (form, credentials, token) = match read(&headers, body) {
        Ok(read) => read,
        Err(refusal) => return Ok(refusal.into_response()),
    };
    Ok(
        match state
            .latch
            .grants
            .revoke(&credentials, &token, &client)
            .await?
        {
            Ok(()) => no_store(StatusCode::OK, ().into_response()),
            Err(why) => form.refused(why).into_response(),
        },
    )
}

/// `POST /oidc/introspect`: `{"active": false}` alone for a token that is not active, or
/// not this application's (RFC 7662 §2.2).
pub async fn introspect(
    State(state): State<AppState>,
    Client(client): Client,
    headers: HeaderMap,
    body: Result<RawForm, RawFormRejection>,
) -> Result<Response, ApiError> {
    let (form, credentials, token) = match read(&headers, body) {
        Ok(read) => read,
        Err(refusal) => return Ok(refusal.into_response()),
    };
    let found = state.latch.grants.introspect(&credentials, &token, &client);
    let body = match found.await? {
        Ok(Some(active)) => json!({
            "active": true,
            "sub": active.person_id,
            "client_id": active.application_id,
            "scope": active.scope,
            "token_type": match active.kind {
                TokenKind::Access => "Bearer",
                TokenKind::Refresh => "refresh_token",
            },
            "iat": active.issued_at.seconds(),
            "exp": active.expires_at.seconds(),
            "sid": active.session_id,
        }),
        Ok(None) => json!({"active": false}),
        Err(why) => return Ok(form.refused(why).into_response()),
    };
    Ok(no_store(StatusCode::OK, Json(body).into_response()))
}

type Read = (
    ApplicationForm,
    latch_app::grants::ClientCredentials,
    String,
);

fn read(headers: &HeaderMap, body: Result<RawForm, RawFormRejection>) -> Result<Read, Refusal> {
    let form = ApplicationForm::read(body, headers)?;
    let credentials = form.credentials(headers)?;
    // token_type_hint is only a hint (RFC 7009 §2.1): every kind is looked for.
    let token = form.required("token")?.to_owned();
    Ok((form, credentials, token))
}
