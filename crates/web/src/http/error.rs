//! The two renderings of an `AppError`: the API's JSON error shape and the pages' HTML.

use askama::Template;
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use latch_app::{AppError, Field};
use serde::Serialize;

/// `{"error": {"code", "message", ...}}`, with `Retry-After` on throttles.
#[derive(Debug)]
pub struct ApiError {
    error: AppError,
    /// Where in this request's body a refused field sits, when not at the top under its own
    /// name.
    places: FieldPlaces,
}

/// Fields that a body holds under another name: a refusal of each is named by its place.
pub type FieldPlaces = &'static [(Field, &'static str)];

/// The first run's body holds the owner's fields in `owner`.
pub const OWNER_FIELDS: FieldPlaces = &[
    (Field::Email, "owner.email"),
    (Field::Name, "owner.name"),
    (Field::Password, "owner.password"),
];

/// A password change names the password it refuses `new_password`.
pub const NEW_PASSWORD: FieldPlaces = &[(Field::Password, "new_password")];

/// Every place a refused field may be named by beside the fields' own names, for the OpenAPI
/// document.
pub const PLACES: [FieldPlaces; 2] = [OWNER_FIELDS, NEW_PASSWORD];

impl ApiError {
    /// A refusal of a body whose fields sit at `places`.
    pub fn placed(error: AppError, places: FieldPlaces) -> Self {
        ApiError { error, places }
    }

    fn name_of(&self, field: Field) -> &'static str {
        let placed = self.places.iter().find(|(f, _)| *f == field);
        placed.map_or(field.name(), |(_, name)| name)
    }
}

impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        ApiError::placed(error, &[])
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// A stable code from the API contract, such as `invalid_credentials`.
    pub code: String,
    /// A sentence a person can act on.
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after_seconds: Option<i64>,
    /// With `invalid_code`: wrong tries this code still takes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempts_left: Option<i64>,
    /// With refused values: each field refused, with its own sentence, so a form can show
    /// every problem at once (`message` reads them all; `code` and the status are the first
    /// one's).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldRefusal>,
}

/// One field a request was refused for.
#[derive(Serialize, utoipa::ToSchema)]
pub struct FieldRefusal {
    #[schema(value_type = crate::http::schema::FieldName)]
    pub field: String,
    pub message: String,
}

/// An error outside `AppError`'s codes (the request's own shape: 415, 413, 403 cross-site).
pub fn api_error_response(status: StatusCode, code: &str, message: &str) -> Response {
    let body = ErrorBody {
        error: ErrorDetail {
            code: code.to_owned(),
            message: message.to_owned(),
            retry_after_seconds: None,
            attempts_left: None,
            fields: Vec::new(),
        },
    };
    (status, Json(body)).into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let e = &self.error;
        log_if_internal(e);
        let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let retry_after = e.retry_after();
        let body = ErrorBody {
            error: ErrorDetail {
                code: e.code().to_owned(),
                message: crate::words::refusal(e),
                retry_after_seconds: retry_after,
                attempts_left: match e {
                    AppError::InvalidCode { attempts_left, .. } => Some(*attempts_left),
                    _ => None,
                },
                fields: crate::words::field_refusals(e)
                    .into_iter()
                    .filter_map(|(field, message)| {
                        Some(FieldRefusal {
                            field: self.name_of(field?).to_owned(),
                            message,
                        })
                    })
                    .collect(),
            },
        };
        let mut response = (status, Json(body)).into_response();
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// An error on a page: the sign-in page for a missing session, else a calm page that says what
/// happened and where to go.
#[derive(Debug)]
pub struct HtmlError(pub AppError);

impl From<AppError> for HtmlError {
    fn from(e: AppError) -> Self {
        HtmlError(e)
    }
}

#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage<'a> {
    pub heading: &'a str,
    pub message: &'a str,
    pub link_href: &'a str,
    pub link_text: &'a str,
}

impl IntoResponse for HtmlError {
    fn into_response(self) -> Response {
        let e = self.0;
        if matches!(e, AppError::NotSignedIn) {
            return Redirect::to("/sign-in").into_response();
        }
        log_if_internal(&e);
        let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let heading = match status.as_u16() {
            403 => "Not allowed",
            404 => "Not found",
            429 => "Please wait",
            503 => "Temporarily unavailable",
            500..=599 => "Something went wrong",
            _ => "That didn't work",
        };
        let message = crate::words::refusal(&e);
        let mut response = message_page(status, heading, &message, "/", "Go to the start");
        if let Some(seconds) = e.retry_after() {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// An error page's words, kept on its answer so that a form post's error page can be shown
/// after a redirect instead (`crate::http::flash`).
#[derive(Clone, Serialize, serde::Deserialize)]
pub struct MessageSaid {
    pub status: u16,
    pub heading: String,
    pub message: String,
    pub link_href: String,
    pub link_text: String,
}

pub fn message_page(
    status: StatusCode,
    heading: &str,
    message: &str,
    link_href: &str,
    link_text: &str,
) -> Response {
    let page = MessagePage {
        heading,
        message,
        link_href,
        link_text,
    };
    let mut response = match page.render() {
        Ok(html) => (status, axum::response::Html(html)).into_response(),
        Err(_) => (status, message.to_owned()).into_response(),
    };
    response.extensions_mut().insert(MessageSaid {
        status: status.as_u16(),
        heading: heading.to_owned(),
        message: message.to_owned(),
        link_href: link_href.to_owned(),
        link_text: link_text.to_owned(),
    });
    response
}

fn log_if_internal(e: &AppError) {
    match e {
        AppError::Internal(cause) => {
            tracing::error!(error = %causes(cause.as_ref()), "request failed")
        }
        AppError::Unavailable(why) => tracing::warn!(why = %causes(why), "database unavailable"),
        _ => {}
    }
}

/// An error with each cause beneath it, for the log: `what: why: why beneath`.
fn causes(e: &dyn std::error::Error) -> String {
    let mut words = e.to_string();
    let mut cause = e.source();
    while let Some(next) = cause {
        words.push_str(": ");
        words.push_str(&next.to_string());
        cause = next.source();
    }
    words
}

/// A panic becomes a plain 500 in the error shape, never a stack trace.
pub fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    api_error_response(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "Something went wrong on our side. Please try again.",
    )
}
