//! Callbacks from the delivery provider: delivery reports (telemetry only) and the key press of
//! a code call. The provider's adapter checks each one's signature; nothing is read from a
//! callback that fails it.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use latch_app::delivery::{Callback, CallbackAnswer};

use crate::AppState;
use crate::http::error::{ApiError, api_error_response};

/// The provider's callbacks.
pub(crate) fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route(
            "/webhooks/twilio/status",
            axum::routing::post(twilio_status),
        )
        .route(
            "/webhooks/twilio/voice/{token}",
            axum::routing::post(twilio_voice),
        )
}

/// `POST /webhooks/twilio/status`: 403 unless the provider's signature holds; 204 for every
/// genuine report, known message or not. A report never verifies anything.
pub async fn twilio_status(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(params): Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let callback = callback("/webhooks/twilio/status", &params, &headers);
    let answer = state.latch.two_factor.delivery_report(callback).await?;
    Ok(respond(answer))
}

/// `POST /webhooks/twilio/voice/{token}`: the person pressed a key on a code call; answers the
/// markup that says the code, once. The token is one-time and only its hash is stored.
pub async fn twilio_voice(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    Form(params): Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let path = format!("/webhooks/twilio/voice/{token}");
    let callback = callback(&path, &params, &headers);
    let answer = state.latch.two_factor.key_press(&token, callback).await?;
    Ok(respond(answer))
}

fn callback<'a>(
    path: &'a str,
    params: &'a [(String, String)],
    headers: &'a HeaderMap,
) -> Callback<'a> {
    let signature = headers
        .get("x-twilio-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    Callback {
        path,
        params,
        signature,
    }
}

fn respond(answer: CallbackAnswer) -> Response {
    match answer {
        CallbackAnswer::NotTaken => api_error_response(
            StatusCode::NOT_FOUND,
            "not_found",
            "There is no such endpoint.",
        ),
        CallbackAnswer::NotGenuine => api_error_response(
            StatusCode::FORBIDDEN,
            "forbidden",
            "The request signature does not match.",
        ),
        CallbackAnswer::Taken(None) => StatusCode::NO_CONTENT.into_response(),
        CallbackAnswer::Taken(Some((content_type, body))) => {
            ([(header::CONTENT_TYPE, content_type)], body).into_response()
        }
    }
}
