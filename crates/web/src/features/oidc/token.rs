//! The token endpoint (RFC 6749 §3.2): a form-encoded POST that exchanges a code (§4.1.3) or
//! a refresh token (§6) for tokens, the application proving itself by `client_secret_basic`,
//! `client_secret_post`, or, for a public one, PKCE alone. Its errors are §5.2's.

use std::borrow::Cow;

use axum::Json;
use axum::extract::rejection::RawFormRejection;
use axum::extract::{RawForm, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use latch_app::grants::{ClientCredentials, TokenRefused, Tokens};
use latch_app::{AppError, Secret};
use serde_json::json;

use super::authorize::issuer;
use crate::AppState;
use crate::http::error::ApiError;
use crate::http::extract::Client;

/// An RFC 6749 §5.2 refusal (and RFC 7009's and RFC 7662's, which borrow it).
pub(crate) struct Refusal {
    status: StatusCode,
    error: &'static str,
    description: Cow<'static, str>,
    /// Sent with `invalid_client` when the application tried HTTP Basic (§5.2).
    basic_challenge: bool,
    retry_after: Option<i64>,
}

impl Refusal {
    pub(crate) fn new(error: &'static str, description: impl Into<Cow<'static, str>>) -> Self {
        Refusal {
            status: StatusCode::BAD_REQUEST,
            error,
            description: description.into(),
            basic_challenge: false,
            retry_after: None,
        }
    }

    fn of(why: TokenRefused, sent_basic: bool) -> Self {
        match why {
            TokenRefused::InvalidClient => Refusal {
                status: StatusCode::UNAUTHORIZED,
                basic_challenge: sent_basic,
                ..Refusal::new(
                    "invalid_client",
                    "The application could not be authenticated.",
                )
            },
            TokenRefused::TooManyFailures { retry_after } => Refusal {
                status: StatusCode::TOO_MANY_REQUESTS,
                retry_after: Some(retry_after),
                ..Refusal::new(
                    "invalid_client",
                    format!(
                        "Too many failed attempts to authenticate; try again in {retry_after} \
                         seconds."
                    ),
                )
            },
            TokenRefused::InvalidGrant => Refusal::new(
                "invalid_grant",
                "The code or refresh token is not valid: unknown, expired, used, or not this \
                 application's.",
            ),
            TokenRefused::InvalidScope => Refusal::new(
                "invalid_scope",
                "A refresh can only keep or narrow the scopes granted.",
            ),
        }
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let body = json!({"error": self.error, "error_description": self.description});
        let mut response = no_store(self.status, Json(body).into_response());
        let headers = response.headers_mut();
        if self.basic_challenge {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"latch\""),
            );
        }
        if let Some(value) = self
            .retry_after
            .and_then(|s| HeaderValue::from_str(&s.to_string()).ok())
        {
            headers.insert(header::RETRY_AFTER, value);
        }
        response
    }
}

/// A form-encoded request of an application: its fields, each at most once (RFC 6749 §3.2).
pub(crate) struct ApplicationForm {
    fields: Vec<(String, String)>,
    /// Whether the application sent an `Authorization: Basic` header.
    sent_basic: bool,
}

impl ApplicationForm {
    pub(crate) fn read(
        body: Result<RawForm, RawFormRejection>,
        headers: &HeaderMap,
    ) -> Result<Self, Refusal> {
        let RawForm(body) = body.map_err(|_| {
            Refusal::new(
                "invalid_request",
                "Send the request form-encoded (application/x-www-form-urlencoded).",
            )
        })?;
        Ok(ApplicationForm {
            fields: form_urlencoded::parse(&body).into_owned().collect(),
            sent_basic: basic(headers).is_some(),
        })
    }

    pub(crate) fn one(&self, name: &str) -> Result<Option<&str>, Refusal> {
        let mut values = self.fields.iter().filter(|(k, _)| k == name);
        let first = values.next().map(|(_, v)| v.as_str());
        if values.next().is_some() {
            return Err(Refusal::new(
                "invalid_request",
                format!("{name} was sent more than once."),
            ));
        }
        Ok(first.filter(|v| !v.is_empty()))
    }

    pub(crate) fn required(&self, name: &str) -> Result<&str, Refusal> {
        self.one(name)?
            .ok_or_else(|| Refusal::new("invalid_request", format!("{name} is required.")))
    }

    /// How the application proved itself: HTTP Basic with the form-encoded id and secret
    /// (RFC 6749 §2.3.1), or `client_id` and `client_secret` in the form; one way only.
    pub(crate) fn credentials(&self, headers: &HeaderMap) -> Result<ClientCredentials, Refusal> {
        let (form_id, form_secret) = (self.one("client_id")?, self.one("client_secret")?);
        match (basic(headers), form_secret) {
            (Some(_), Some(_)) => Err(Refusal::new(
                "invalid_request",
                "Send the client secret one way: the Authorization header or the form.",
            )),
            (Some(encoded), None) => {
                let (id, secret) = read_basic(encoded)
                    .ok_or_else(|| Refusal::of(TokenRefused::InvalidClient, true))?;
                if form_id.is_some_and(|sent| sent != id) {
                    return Err(Refusal::new(
                        "invalid_request",
                        "client_id in the form is not the one in the Authorization header.",
                    ));
                }
                Ok(ClientCredentials {
                    client_id: id,
                    secret: Some(Secret::new(secret)),
                })
            }
            (None, secret) => match form_id {
                Some(id) => Ok(ClientCredentials {
                    client_id: id.to_owned(),
                    secret: secret.map(|s| Secret::new(s.to_owned())),
                }),
                None => Err(Refusal::of(TokenRefused::InvalidClient, false)),
            },
        }
    }

    /// The refusal of a use case, as this application reads it.
    pub(crate) fn refused(&self, why: TokenRefused) -> Refusal {
        Refusal::of(why, self.sent_basic)
    }
}

fn basic(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
}

fn read_basic(encoded: &str) -> Option<(String, String)> {
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    // RFC 6749 §2.3.1: each part is form-encoded before it is joined.
    let unescape = |part: &str| -> String {
        form_urlencoded::parse(format!("v={part}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Some((unescape(id), unescape(secret)))
}

pub async fn token(
    State(state): State<AppState>,
    Client(client): Client,
    headers: HeaderMap,
    body: Result<RawForm, RawFormRejection>,
) -> Result<Response, ApiError> {
    match exchange(&state, &client, &headers, body).await {
        Ok(exchanged) => Ok(issued(exchanged)),
        Err(Exchange::Refused(refusal)) => Ok(refusal.into_response()),
        Err(Exchange::Failed(e)) => Err(e.into()),
    }
}

enum Exchange {
    Refused(Refusal),
    Failed(AppError),
}

impl From<Refusal> for Exchange {
    fn from(refusal: Refusal) -> Self {
        Exchange::Refused(refusal)
    }
}

impl From<AppError> for Exchange {
    fn from(e: AppError) -> Self {
        Exchange::Failed(e)
    }
}

async fn exchange(
    state: &AppState,
    client: &latch_app::ClientInfo,
    headers: &HeaderMap,
    body: Result<RawForm, RawFormRejection>,
) -> Result<Tokens, Exchange> {
    let form = ApplicationForm::read(body, headers)?;
    let credentials = form.credentials(headers)?;
    let issuer = issuer(state);
    let grants = &state.latch.grants;
    let given = match form.one("grant_type")? {
        Some("authorization_code") => {
            let code = form.required("code")?;
            let redirect_uri = form.required("redirect_uri")?;
            let verifier = form.one("code_verifier")?;
            let exchange =
                grants.exchange_code(&credentials, code, redirect_uri, verifier, &issuer, client);
            exchange.await?
        }
        Some("refresh_token") => {
            let refresh_token = form.required("refresh_token")?;
            let scope = form.one("scope")?;
            let refresh = grants.refresh(&credentials, refresh_token, scope, &issuer, client);
            refresh.await?
        }
        None => return Err(Refusal::new("invalid_request", "grant_type is required.").into()),
        Some(_) => {
            return Err(Refusal::new(
                "unsupported_grant_type",
                "grant_type must be authorization_code or refresh_token.",
            )
            .into());
        }
    };
    given.map_err(|why| form.refused(why).into())
}

fn issued(tokens: Tokens) -> Response {
    let mut body = json!({
        "access_token": tokens.access_token.expose(),
        "token_type": "Bearer",
        "expires_in": tokens.expires_in,
        "id_token": tokens.id_token,
        "scope": tokens.scope,
    });
    if let Some(refresh) = &tokens.refresh_token {
        body["refresh_token"] = json!(refresh.expose());
    }
    no_store(StatusCode::OK, Json(body).into_response())
}

/// RFC 6749 §5.1: tokens, and refusals alike, are never cached.
pub(crate) fn no_store(status: StatusCode, mut response: Response) -> Response {
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}
