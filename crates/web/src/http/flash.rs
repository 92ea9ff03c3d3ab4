//! The flash: what a refused form post leaves for the page it redirects to (each refusal
//! beside its field, the values typed, or an error page's words), sealed in a cookie for a
//! minute. Every form post answers with a redirect, so a refresh never sends a form again.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::http::cookies;
use crate::http::error::{MessageSaid, message_page};
use crate::http::guard::FormToken;

/// Long enough to follow a redirect on a slow phone; short enough that nothing typed lingers.
const LIFETIME_SECONDS: i64 = 60;

/// Where a refused post's error page is shown.
const MESSAGE_PATH: &str = "/message";

/// What a refused form post left for one page.
#[derive(Serialize, Deserialize, Clone, Default)]
pub struct Flash {
    /// The page it is for: no other page reads it.
    to: String,
    /// When it goes stale, in Unix seconds.
    #[serde(default)]
    until: i64,
    /// The page's errors, each beside its field.
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    errors: serde_json::Value,
    /// The values typed, to fill the form again; a form's secrets are never in it.
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    form: serde_json::Value,
    /// An error page's words, for `/message`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    page: Option<MessageSaid>,
}

impl Flash {
    /// The errors the page shows beside its fields (none when it left none).
    pub fn errors<T: DeserializeOwned + Default>(&self) -> T {
        serde_json::from_value(self.errors.clone()).unwrap_or_default()
    }

    /// The form as it was sent, its secrets left empty.
    pub fn form<T: DeserializeOwned>(&self) -> Option<T> {
        serde_json::from_value(self.form.clone()).ok()
    }
}

/// The form and its errors as a refused post left them for this page; else `fresh()` and no
/// errors.
pub fn refill<F: DeserializeOwned, E: DeserializeOwned + Default>(
    flash: Option<&Flash>,
    fresh: impl FnOnce() -> F,
) -> (F, E) {
    match flash {
        Some(flash) => (flash.form().unwrap_or_else(fresh), flash.errors()),
        None => (fresh(), E::default()),
    }
}

/// The one refusal of a form that has one place for it.
#[derive(Serialize, Deserialize, Default)]
pub struct OneError {
    pub error: Option<String>,
}

impl OneError {
    pub fn of(error: String) -> Self {
        OneError { error: Some(error) }
    }
}

/// The answer to a refused form: back to `to`, whose page shows `errors` beside their fields and
/// the values of `form` again. Only what serializes goes: a form's secrets never do.
pub fn back(to: &str, errors: &impl Serialize, form: &impl Serialize) -> Response {
    let flash = Flash {
        to: page_path(to).to_owned(),
        errors: serde_json::to_value(errors).unwrap_or_default(),
        form: serde_json::to_value(form).unwrap_or_default(),
        ..Flash::default()
    };
    let mut response = Redirect::to(to).into_response();
    response.extensions_mut().insert(flash);
    response
}

fn page_path(to: &str) -> &str {
    to.split(['?', '#']).next().unwrap_or(to)
}

/// The flash this page was left, if any.
pub struct Flashed(pub Option<Flash>);

impl<S: Send + Sync> FromRequestParts<S> for Flashed {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let flash = parts.extensions.get::<Flash>();
        Ok(Flashed(flash.filter(|f| f.to == parts.uri.path()).cloned()))
    }
}

/// Opens the flash a request brings and seals the one its answer leaves. A post answered with
/// an error page is sent on to `/message` instead, which shows it.
pub async fn carry(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let keys = state.latch.keys();
    let now = state.latch.now().seconds();
    // SECURITY: sealed to this browser's CSRF cookie, so it opens in no other browser.
    let browser = request.extensions().get::<FormToken>().map(|t| t.0.clone());
    let method = request.method().clone();
    let arrived = browser
        .as_deref()
        .zip(cookies::read_flash(&state.config, request.headers()))
        .and_then(|(browser, sealed)| keys.open_flash(browser, &sealed))
        .and_then(|plain| serde_json::from_slice::<Flash>(&plain).ok())
        .filter(|flash| flash.until >= now);
    // The page it was for has read it; an error page is kept, so a refresh shows it again.
    let mut read = false;
    if let Some(flash) = arrived {
        read =
            method == Method::GET && flash.to == request.uri().path() && flash.to != MESSAGE_PATH;
        request.extensions_mut().insert(flash);
    }
    let mut response = next.run(request).await;
    if method == Method::POST
        && !response.status().is_redirection()
        && let Some(said) = response.extensions_mut().remove::<MessageSaid>()
    {
        response = to_message_page(response, said);
    }
    let left = response.extensions_mut().remove::<Flash>();
    let cookie = match (left, browser) {
        (Some(mut flash), Some(browser)) => {
            flash.until = now + LIFETIME_SECONDS;
            Some(sealed_cookie(&state, &browser, flash))
        }
        _ if read => Some(cookies::clear_flash(&state.config)),
        _ => None,
    };
    if let Some(cookie) = cookie {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// The flash as a cookie; one too large for a browser leaves out the values typed, then the
/// errors, so the page still loads.
fn sealed_cookie(state: &AppState, browser: &str, mut flash: Flash) -> axum::http::HeaderValue {
    let keys = state.latch.keys();
    loop {
        let plain = serde_json::to_vec(&flash).expect("a flash serializes");
        let sealed = keys.seal_flash(browser, &plain);
        if sealed.len() < cookies::FLASH_MAX {
            return cookies::flash(&state.config, &sealed, LIFETIME_SECONDS);
        }
        if !flash.form.is_null() {
            flash.form = serde_json::Value::Null;
        } else if !flash.errors.is_null() {
            flash.errors = serde_json::Value::Null;
        } else {
            return cookies::clear_flash(&state.config);
        }
    }
}

/// A post's error page as a redirect to `/message`, keeping the cookies the answer set (a
/// session ended, say).
fn to_message_page(answer: Response, said: MessageSaid) -> Response {
    let mut response = Redirect::to(MESSAGE_PATH).into_response();
    for cookie in answer.headers().get_all(header::SET_COOKIE) {
        response
            .headers_mut()
            .append(header::SET_COOKIE, cookie.clone());
    }
    response.extensions_mut().insert(Flash {
        to: MESSAGE_PATH.to_owned(),
        page: Some(said),
        ..Flash::default()
    });
    response
}

/// `/message`: the error page a refused post was sent on to; the start when there is none.
pub async fn show_message(Flashed(flash): Flashed) -> Response {
    match flash.and_then(|f| f.page) {
        Some(said) => message_page(
            StatusCode::from_u16(said.status).unwrap_or(StatusCode::BAD_REQUEST),
            &said.heading,
            &said.message,
            &said.link_href,
            &said.link_text,
        ),
        None => Redirect::to("/").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flash_is_for_the_page_without_its_query() {
        assert_eq!(page_path("/team?done=added"), "/team");
        assert_eq!(page_path("/sign-in/code"), "/sign-in/code");
    }

    #[test]
    fn a_forms_values_come_back_and_missing_errors_are_none() {
        #[derive(Serialize, Deserialize, Default, PartialEq, Debug)]
        struct Errors {
            email: Option<String>,
        }
        let answer = back("/team", &Errors::default(), &[("email", "sam@example.com")]);
        assert_eq!(answer.status(), StatusCode::SEE_OTHER);
        let flash = answer.extensions().get::<Flash>().unwrap();
        assert_eq!(flash.to, "/team");
        assert_eq!(flash.errors::<Errors>(), Errors { email: None });
        let form: Vec<(String, String)> = flash.form().unwrap();
        assert_eq!(form, [("email".to_owned(), "sam@example.com".to_owned())]);
    }
}
