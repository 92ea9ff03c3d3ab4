//! The userinfo endpoint (OpenID Connect Core §5.3): the person's claims for a Bearer access
//! token, by `GET` or `POST`; a token that does not work answers as RFC 6750 §3 says.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::AppState;
use crate::http::error::ApiError;

pub async fn userinfo(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let Some(token) = token else {
        // RFC 6750 §3.1: a request without a token gets the challenge alone.
        return Ok(challenge("Bearer realm=\"latch\""));
    };
    Ok(match state.latch.grants.userinfo(token).await? {
        Some(claims) => Json(claims).into_response(),
        None => challenge(
            "Bearer realm=\"latch\", error=\"invalid_token\", \
             error_description=\"The access token is unknown, expired or ended.\"",
        ),
    })
}

fn challenge(value: &'static str) -> Response {
    let mut response = StatusCode::UNAUTHORIZED.into_response();
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(value));
    response
}
