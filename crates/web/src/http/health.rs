//! Health: `/healthz`, `/readyz`, and the JSON answer for a path the API does not have.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::http::error::{ApiError, ErrorBody, api_error_response};

#[derive(Serialize, ToSchema)]
pub struct Health {
    pub status: String,
}

/// 200 while the process runs.
#[utoipa::path(get, path = "/healthz", tag = "health", responses((status = 200, body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
    })
}

/// 200 only while the database answers and its migrations are applied.
#[utoipa::path(get, path = "/readyz", tag = "health", responses((status = 200, body = Health), (status = 503, body = ErrorBody)))]
pub async fn readyz(State(state): State<AppState>) -> Response {
    match state.latch.ready().await {
        Ok(()) => Json(Health {
            status: "ready".into(),
        })
        .into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}

pub async fn not_found() -> Response {
    api_error_response(
        StatusCode::NOT_FOUND,
        "not_found",
        "There is no such endpoint.",
    )
}
