//! Forms: the hidden CSRF field every form carries, checked before a handler sees the form.

use std::collections::HashMap;

use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::Response;
use latch_app::{AppError, Field};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde::de::value::MapDeserializer;

use crate::AppState;
use crate::http::error::message_page;
use crate::http::guard::FormToken;

/// A form's errors, one place for the refusal of each field it has, so every problem shows at
/// once beside its field.
pub trait FieldErrors: Default {
    /// Where the refusal of `field` shows (a general place for one the form has no field for).
    fn beside(&mut self, field: Option<Field>) -> &mut Option<String>;

    /// Each value `e` refuses, beside its field (the first refusal of a field shows); none when
    /// `e` refuses no value.
    fn placing(e: &AppError) -> Option<Self> {
        let refusals = crate::words::field_refusals(e);
        if refusals.is_empty() {
            return None;
        }
        let mut errors = Self::default();
        for (field, message) in refusals {
            errors.beside(field).get_or_insert(message);
        }
        Some(errors)
    }
}

/// A form's fields; a field given several times (the checked boxes of one list) is one field
/// of its values joined by commas, in the order sent.
fn merged_fields(body: &[u8]) -> Vec<(String, String)> {
    let mut fields: Vec<(String, String)> = Vec::new();
    // By name, so a body of many fields costs one lookup each, not a scan.
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (name, value) in form_urlencoded::parse(body) {
        match seen.get(name.as_ref()) {
            Some(&at) => {
                let values = &mut fields[at].1;
                values.push(',');
                values.push_str(&value);
            }
            None => {
                seen.insert(name.to_string(), fields.len());
                fields.push((name.into_owned(), value.into_owned()));
            }
        }
    }
    fields
}

/// A form whose fields are all text, with the hidden `csrf` field every form carries. The
/// fields after `secret` (a password, a code) are read but never written out: a refused form's
/// flash carries the others back to its page, never these.
macro_rules! csrf_form {
    ($name:ident { $($field:ident),* $(,)? } $(secret { $($secret:ident),* $(,)? })?) => {
        #[derive(Deserialize, serde::Serialize, Default)]
        pub struct $name {
            #[serde(default, skip_serializing)]
            csrf: String,
            $(#[serde(default)] pub(crate) $field: String,)*
            $($(#[serde(default, skip_serializing)] pub(crate) $secret: String,)*)?
        }

        impl $crate::http::forms::HasCsrf for $name {
            fn csrf(&self) -> &str {
                &self.csrf
            }
        }
    };
}
pub(crate) use csrf_form;

pub trait HasCsrf {
    fn csrf(&self) -> &str;
}

/// A form whose hidden `csrf` field matched this browser's CSRF cookie.
pub struct CsrfForm<T>(pub T);

impl<T: DeserializeOwned + HasCsrf> FromRequest<AppState> for CsrfForm<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let expected = req.extensions().get::<FormToken>().cloned();
        let incomplete = || {
            message_page(
                StatusCode::BAD_REQUEST,
                "That didn't work",
                "The form was incomplete. Please go back and try again.",
                "/",
                "Go to the start",
            )
        };
        let body = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|_| incomplete())?;
        let form = T::deserialize(MapDeserializer::<_, serde::de::value::Error>::new(
            merged_fields(&body).into_iter(),
        ))
        .map_err(|_| incomplete())?;
        // SECURITY: the token is an HMAC of this browser's CSRF cookie; another site can
        // neither read the cookie nor forge the token.
        match expected {
            Some(FormToken(token)) if latch_app::crypto::constant_time_eq(&token, form.csrf()) => {
                Ok(CsrfForm(form))
            }
            _ => Err(message_page(
                StatusCode::FORBIDDEN,
                "Please try again",
                "This form has expired. Go back, reload the page, and send it again.",
                "/",
                "Go to the start",
            )),
        }
    }
}

/// The form token the CSRF middleware prepared for this request.
pub struct Csrf(pub String);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Csrf {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(Csrf(
            parts
                .extensions
                .get::<FormToken>()
                .map(|t| t.0.clone())
                .unwrap_or_default(),
        ))
    }
}

csrf_form!(CsrfOnlyForm {});

#[cfg(test)]
mod tests {
    use super::merged_fields;
    use serde::Deserialize;

    csrf_form!(Example { email } secret { password });

    /// What a refused form's flash carries: its fields, never its secrets or its token.
    #[test]
    fn a_forms_secrets_are_never_written_out() {
        let form: Example = serde_json::from_value(serde_json::json!({
            "csrf": "token", "email": "sam@harbor.test", "password": "correct horse"
        }))
        .unwrap();
        assert_eq!(form.password, "correct horse", "read from the form");
        assert_eq!(
            serde_json::to_value(&form).unwrap(),
            serde_json::json!({"email": "sam@harbor.test"})
        );
    }

    #[test]
    fn a_field_sent_several_times_is_its_values_joined() {
        let fields = merged_fields(b"csrf=t&allowed_countries=US&name=A+B&allowed_countries=CA");
        assert_eq!(
            fields,
            [
                ("csrf".to_owned(), "t".to_owned()),
                ("allowed_countries".to_owned(), "US,CA".to_owned()),
                ("name".to_owned(), "A B".to_owned()),
            ]
        );
    }
}
