//! Two-factor through the API, by flow: turning it on and off, signing in with a code,
//! remembered browsers and the send limits, on SQLite and PostgreSQL; with the helpers they
//! share.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::{Client, PASSWORD, TestApp};

mod code_page;
mod methods;
pub(crate) mod passkeys;
mod remembered;
mod sends;
mod setup;
mod sign_in_code;

pub const PHONE: &str = "+14155552671";
pub const OWNER: &str = "owner@harbor.test";

/// A practice whose owner has two-factor on with `PHONE`; answers the owner's client.
pub async fn owner_with_two_factor(app: &TestApp) -> Client {
    let owner = app.with_practice().await;
    app.turn_on_two_factor(&owner, PHONE).await;
    owner
}

/// Signs in with the password from a fresh browser: the code is sent.
pub async fn pending_sign_in(app: &TestApp) -> Client {
    let c = app.client();
    let (status, body) = c.sign_in(OWNER, PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["state"], "two_factor_required", "{body}");
    c
}

pub async fn verify(c: &Client, code: &str, remember: bool) -> (StatusCode, serde_json::Value) {
    c.post(
        "/api/v1/session/verify",
        json!({"code": code, "remember_device": remember}),
    )
    .await
}

pub fn wrong(code: &str) -> String {
    let last = code.as_bytes()[7] - b'0';
    format!("{}{}", &code[..7], (last + 1) % 10)
}
