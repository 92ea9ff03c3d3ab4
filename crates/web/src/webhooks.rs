//! Webhooks from the delivery provider: Twilio's delivery reports, checked against its
//! signature, recorded as telemetry only.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::AppState;
use crate::error::{ApiError, api_error_response};

/// `POST /webhooks/twilio/status`: 403 unless `X-Twilio-Signature` matches the auth token and
/// the public URL; 204 for every correctly signed report, known message or not. A report never
/// verifies anything.
pub async fn twilio_status(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(params): Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let Some(token) = &state.config.twilio_auth_token else {
        return Ok(api_error_response(
            StatusCode::NOT_FOUND,
            "not_found",
            "There is no such endpoint.",
        ));
    };
    let url = format!("{}/webhooks/twilio/status", state.config.public_url);
    let expected = latch_messaging::twilio_signature(token.expose(), &url, &params);
    let given = headers
        .get("x-twilio-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    // SECURITY: constant-time, and nothing is read from an unsigned report.
    if !latch_app::crypto::constant_time_eq(given, &expected) {
        return Ok(api_error_response(
            StatusCode::FORBIDDEN,
            "forbidden",
            "The request signature does not match.",
        ));
    }
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let sid = get("MessageSid").or_else(|| get("CallSid"));
    let status = get("MessageStatus").or_else(|| get("CallStatus"));
    if let (Some(sid), Some(status)) = (sid, status) {
        state
            .latch
            .two_factor
            .delivery_status(sid, status, get("ErrorCode"))
            .await?;
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /webhooks/twilio/voice/{token}`: the person pressed a key on a code call; answers the
/// TwiML that says the code, once. The token is one-time and only its hash is stored.
pub async fn twilio_voice(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    Form(params): Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let Some(auth_token) = &state.config.twilio_auth_token else {
        return Ok(api_error_response(
            StatusCode::NOT_FOUND,
            "not_found",
            "There is no such endpoint.",
        ));
    };
    let url = format!("{}/webhooks/twilio/voice/{token}", state.config.public_url);
    let expected = latch_messaging::twilio_signature(auth_token.expose(), &url, &params);
    let given = headers
        .get("x-twilio-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !latch_app::crypto::constant_time_eq(given, &expected) {
        return Ok(api_error_response(
            StatusCode::FORBIDDEN,
            "forbidden",
            "The request signature does not match.",
        ));
    }
    let script = state.latch.two_factor.call_script(&token).await?;
    let twiml = match script {
        Some(script) => latch_messaging::twiml_for_call(&script),
        None => latch_messaging::twiml_for_call(
            "This code is no longer available. Please ask for a new one on the sign-in page. Goodbye.",
        ),
    };
    Ok(([(header::CONTENT_TYPE, "text/xml; charset=utf-8")], twiml).into_response())
}
