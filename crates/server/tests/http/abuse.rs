//! What someone without the password can make latch write: at most one audit event per delay
//! for a throttled address, nothing at all for an "email" no email can be, and an audit event
//! for every failed re-entry of a signed-in person's password.

use latch_app::ports::ThrottleStore;
use reqwest::StatusCode;
use serde_json::json;

use crate::support::{Dialect, PASSWORD, TestApp, code, post_at_once};

const OWNER: &str = "owner@harbor.test";

crate::on_both_databases!(
    a_throttled_sign_in_is_audited_once_per_delay,
    an_email_longer_than_any_email_is_refused_before_anything_is_stored,
    failed_password_reentries_are_audited,
);

async fn a_throttled_sign_in_is_audited_once_per_delay(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    let guesser = app.client();
    for _ in 0..5 {
        let (status, _) = guesser.sign_in(OWNER, "not the password").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(owner.audited("sign_in.failed").await, 5);
    // The fifth failure started a delay: a script hammering it gets 429s and writes one event.
    let hammering = (0..40)
        .map(|_| {
            (
                guesser.clone(),
                "/api/v1/session",
                json!({"email": OWNER, "password": "not the password"}),
            )
        })
        .collect();
    for (status, body) in post_at_once(hammering).await {
        assert_eq!(
            (status, code(&body)),
            (StatusCode::TOO_MANY_REQUESTS, "rate_limited")
        );
    }
    assert_eq!(owner.audited("sign_in.failed").await, 6);

    // After the delay, a wrong password is audited again, and so is the next delay's first
    // refusal.
    app.clock.advance(2);
    assert_eq!(
        guesser.sign_in(OWNER, "not the password").await.0,
        StatusCode::UNAUTHORIZED
    );
    for _ in 0..10 {
        assert_eq!(
            guesser.sign_in(OWNER, PASSWORD).await.0,
            StatusCode::TOO_MANY_REQUESTS
        );
    }
    assert_eq!(owner.audited("sign_in.failed").await, 8);
}

async fn an_email_longer_than_any_email_is_refused_before_anything_is_stored(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    app.with_practice().await;
    let long = format!("{}@harbor.test", "a".repeat(60_000));
    let (status, body) = app.client().sign_in(&long, "whatever it is").await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "invalid_request"),
        "{body}"
    );
    assert!(
        app.db.password_failures(&long).await.unwrap().is_none(),
        "no throttle row for it"
    );
    // 254 characters is still an email's length: an ordinary wrong sign-in.
    let longest = format!("{}@harbor.test", "a".repeat(254 - 12));
    assert_eq!(longest.len(), 254);
    let (status, _) = app.client().sign_in(&longest, "whatever it is").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

async fn failed_password_reentries_are_audited(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    let (status, _) = owner
        .post(
            "/api/v1/session/reauthenticate",
            json!({"password": "not the password"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = owner
        .put(
            "/api/v1/me/password",
            json!({"current_password": "not the password", "new_password": "a much longer new password 7"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (_, body) = owner
        .get("/api/v1/practice/audit?kind=password.reentry_failed")
        .await;
    let details: Vec<_> = body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["detail"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        details,
        [
            "password change: wrong password",
            "re-authentication: wrong password"
        ]
    );
    // The right password re-entered is not an event of its own.
    let (status, _) = owner
        .post(
            "/api/v1/session/reauthenticate",
            json!({"password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(owner.audited("password.reentry_failed").await, 2);
}
