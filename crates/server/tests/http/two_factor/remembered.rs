//! Remembered browsers: skipping the code (never the password), their cookie, their list, and what
//! ends them.

use latch_app::ports::{PersonStore, PracticeStore};
use reqwest::StatusCode;
use serde_json::json;

use super::{OWNER, PHONE, owner_with_two_factor, pending_sign_in, verify};
use crate::support::{Dialect, PASSWORD, TestApp, code};

crate::on_both_databases!(
    a_remembered_browser_skips_the_code_but_never_the_password,
    a_remembered_browser_is_exempt_from_the_password_delays,
    remembering_is_not_offered_when_asked_not_to,
    a_password_change_forgets_remembered_devices,
    remembered_devices_are_listed_and_forgotten,
    a_locked_step_is_not_skipped_by_a_remembered_browser,
    the_remembered_device_cookie_lasts_the_practices_limit_and_none_at_zero,
    the_dashboard_tells_of_a_browser_remembered_by_the_previous_sign_in,
    each_session_keeps_what_stood_beside_the_password,
);

async fn a_remembered_browser_skips_the_code_but_never_the_password(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    owner_with_two_factor(&app).await;
    let c = pending_sign_in(&app).await;
    let (status, _) = verify(&c, &app.last_code_to(PHONE).await, true).await;
    assert_eq!(status, StatusCode::OK);
    assert!(c.cookies().contains("latch_device="), "{}", c.cookies());
    c.delete("/api/v1/session").await;
    let sent_before = app.outbox_to(PHONE).await.len();

    let (status, body) = c.sign_in(OWNER, PASSWORD).await;
    assert_eq!(
        (status, &body["state"]),
        (StatusCode::OK, &json!("signed_in")),
        "{body}"
    );
    assert_eq!(
        app.outbox_to(PHONE).await.len(),
        sent_before,
        "no code was sent"
    );
    c.delete("/api/v1/session").await;
    assert_eq!(
        c.sign_in(OWNER, "not the password").await.0,
        StatusCode::UNAUTHORIZED
    );

    let other = app.client();
    assert_eq!(
        other.sign_in(OWNER, PASSWORD).await.1["state"],
        "two_factor_required",
        "another browser still needs a code"
    );
}

async fn a_remembered_browser_is_exempt_from_the_password_delays(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    owner_with_two_factor(&app).await;
    let desk = pending_sign_in(&app).await;
    verify(&desk, &app.last_code_to(PHONE).await, true).await;
    desk.delete("/api/v1/session").await;
    // Someone guesses: the person's delay starts, and this address reaches its hundred failures.
    let guesser = app.client();
    for i in 0..100 {
        guesser
            .sign_in(&format!("guess{i}@harbor.test"), "wrong password!")
            .await;
    }
    for _ in 0..5 {
        guesser.sign_in(OWNER, "wrong password!").await;
    }
    assert_eq!(
        app.client().sign_in(OWNER, PASSWORD).await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
    let (status, body) = desk.sign_in(OWNER, PASSWORD).await;
    assert_eq!(
        (status, &body["state"]),
        (StatusCode::OK, &json!("signed_in")),
        "{body}"
    );
}

async fn remembering_is_not_offered_when_asked_not_to(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    owner_with_two_factor(&app).await;
    let c = pending_sign_in(&app).await;
    verify(&c, &app.last_code_to(PHONE).await, false).await;
    assert!(!c.cookies().contains("latch_device="));
    c.delete("/api/v1/session").await;
    assert_eq!(
        c.sign_in(OWNER, PASSWORD).await.1["state"],
        "two_factor_required"
    );
}

async fn a_password_change_forgets_remembered_devices(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    owner_with_two_factor(&app).await;
    let c = pending_sign_in(&app).await;
    verify(&c, &app.last_code_to(PHONE).await, true).await;
    let (status, _) = c
        .put(
            "/api/v1/me/password",
            json!({"current_password": PASSWORD, "new_password": "violet tractor sandwich"}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(
        app.outbox_to(PHONE).await[0]["body"]
            .as_str()
            .unwrap()
            .contains("password was just changed")
    );
    c.delete("/api/v1/session").await;
    let (_, body) = c.sign_in(OWNER, "violet tractor sandwich").await;
    assert_eq!(
        body["state"], "two_factor_required",
        "the browser is no longer remembered"
    );
}

async fn remembered_devices_are_listed_and_forgotten(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    owner_with_two_factor(&app).await;
    let a = pending_sign_in(&app).await;
    verify(&a, &app.last_code_to(PHONE).await, true).await;
    app.clock.advance(31);
    let b = pending_sign_in(&app).await;
    verify(&b, &app.last_code_to(PHONE).await, true).await;

    let (status, body) = a.get("/api/v1/me/devices").await;
    assert_eq!(status, StatusCode::OK);
    let devices = body["devices"].as_array().unwrap();
    assert_eq!(devices.len(), 2);
    assert_eq!(devices.iter().filter(|d| d["current"] == true).count(), 1);
    let expires =
        latch_domain::Timestamp::parse_rfc3339(devices[0]["expires_at"].as_str().unwrap()).unwrap();
    let created =
        latch_domain::Timestamp::parse_rfc3339(devices[0]["created_at"].as_str().unwrap()).unwrap();
    assert_eq!(
        expires.seconds() - created.seconds(),
        365 * 86_400,
        "the practice's limit"
    );
    let b_device = devices.iter().find(|d| d["current"] == false).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    assert_eq!(
        a.delete(&format!("/api/v1/me/devices/{b_device}")).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        code(&a.delete(&format!("/api/v1/me/devices/{b_device}")).await.1),
        "not_found"
    );
    b.delete("/api/v1/session").await;
    assert_eq!(
        b.sign_in(OWNER, PASSWORD).await.1["state"],
        "two_factor_required",
        "b was forgotten"
    );

    assert_eq!(
        a.delete("/api/v1/me/devices").await.0,
        StatusCode::NO_CONTENT
    );
    assert!(
        a.get("/api/v1/me/devices").await.1["devices"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

async fn a_locked_step_is_not_skipped_by_a_remembered_browser(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    owner_with_two_factor(&app).await;
    let desk = pending_sign_in(&app).await;
    verify(&desk, &app.last_code_to(PHONE).await, true).await;
    desk.delete("/api/v1/session").await;
    let account = app.db.account_by_email(OWNER).await.unwrap().unwrap();
    app.db
        .set_two_factor_lock(&account.person.id, Some(app.latch().now().plus(900)), false)
        .await
        .unwrap();
    let (status, body) = desk.sign_in(OWNER, PASSWORD).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::TOO_MANY_REQUESTS, "rate_limited")
    );
}

async fn the_remembered_device_cookie_lasts_the_practices_limit_and_none_at_zero(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    owner_with_two_factor(&app).await;
    let c = pending_sign_in(&app).await;
    let response = c
        .http
        .post(c.url("/api/v1/session/verify"))
        .json(&json!({"code": app.last_code_to(PHONE).await, "remember_device": true}))
        .send()
        .await
        .unwrap();
    let device_cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|v| v.starts_with("latch_device="))
        .expect("a remembered-device cookie");
    assert!(
        device_cookie.contains("Max-Age=31536000") && device_cookie.contains("HttpOnly"),
        "{device_cookie}"
    );

    let account = app.db.account_by_email(OWNER).await.unwrap().unwrap();
    let mut security = account.practice.security.clone();
    security.remember_device_days = 0;
    app.db
        .update_security(&account.practice.id, &security)
        .await
        .unwrap();
    app.clock.advance(31);
    let other = pending_sign_in(&app).await;
    let page = other
        .http
        .get(other.url("/sign-in/code"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!page.contains("Remember this browser"), "not offered at 0");
    verify(&other, &app.last_code_to(PHONE).await, true).await;
    assert!(
        !other.cookies().contains("latch_device="),
        "nothing is remembered at 0"
    );
}

async fn the_dashboard_tells_of_a_browser_remembered_by_the_previous_sign_in(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    owner_with_two_factor(&app).await;
    let stranger = app.client();
    stranger
        .http
        .post(stranger.url("/api/v1/session"))
        .header(
            "user-agent",
            "Mozilla/5.0 (Windows NT 10.0) Chrome/120.0 Safari/537.36",
        )
        .json(&json!({"email": OWNER, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    stranger
        .http
        .post(stranger.url("/api/v1/session/verify"))
        .header(
            "user-agent",
            "Mozilla/5.0 (Windows NT 10.0) Chrome/120.0 Safari/537.36",
        )
        .json(&json!({"code": app.last_code_to(PHONE).await, "remember_device": true}))
        .send()
        .await
        .unwrap();
    app.clock.advance(3600);
    let own = pending_sign_in(&app).await;
    verify(&own, &app.last_code_to(PHONE).await, false).await;
    let html = own
        .http
        .get(own.url("/dashboard"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("A new browser was remembered") && html.contains("Chrome on Windows"),
        "{html}"
    );
    assert!(html.contains("Your previous sign-in"));
    let theirs = stranger
        .http
        .get(stranger.url("/dashboard"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !theirs.contains("A new browser was remembered"),
        "not about the browser itself"
    );
}

/// A session keeps what stood beside the password when it was signed in (what an application's
/// ID token will say of it), and My Profile's list says it.
async fn each_session_keeps_what_stood_beside_the_password(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = owner_with_two_factor(&app).await;
    let (_, before) = owner.page("/profile").await;
    assert!(
        before.contains("with your password"),
        "signed in before two-factor"
    );

    let c = pending_sign_in(&app).await;
    let (status, _) = verify(&c, &app.last_code_to(PHONE).await, true).await;
    assert_eq!(status, StatusCode::OK);
    let (_, html) = c.page("/profile").await;
    assert!(html.contains("with a texted code"), "{html}");
    c.reauthenticate().await;
    let (_, html) = c.page("/profile").await;
    assert!(
        html.contains("with a texted code"),
        "a password again keeps it"
    );

    c.delete("/api/v1/session").await;
    let (_, body) = c.sign_in(OWNER, PASSWORD).await;
    assert_eq!(body["state"], "signed_in");
    let (_, html) = c.page("/profile").await;
    assert!(html.contains("with a remembered browser"), "{html}");

    let account = app.db.account_by_email(OWNER).await.unwrap().unwrap();
    let kept: Vec<_> = latch_app::ports::SessionStore::sessions_of(&app.db, &account.person.id)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.second_factor)
        .collect();
    use latch_domain::session::SecondFactor;
    assert!(kept.contains(&Some(SecondFactor::RememberedBrowser)));
    assert!(kept.contains(&None), "the owner's first session");
}
