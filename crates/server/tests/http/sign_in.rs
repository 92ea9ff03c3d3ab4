//! Signing in and out, the password delay, sessions' lifetimes and re-authentication.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::{Dialect, PASSWORD, TestApp, code};

crate::on_both_databases!(
    a_person_signs_in_and_out,
    a_wrong_password_and_an_unknown_email_get_the_same_answer,
    five_wrong_passwords_start_a_doubling_delay,
    a_correct_password_clears_the_delay,
    a_hundred_failures_from_one_address_close_it_for_the_window,
    an_ipv6_client_is_one_address_across_its_whole_slash_64,
    a_session_ends_after_the_practices_idle_minutes,
    a_busy_session_still_ends_after_twelve_hours,
    reauthentication_needs_the_password_and_rotates_the_session,
    a_session_survives_a_restart_of_latch,
    signing_in_again_ends_the_browsers_previous_session,
);

async fn a_person_signs_in_and_out(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    app.with_practice().await;
    let c = app.client();
    let (status, body) = c.sign_in("OWNER@harbor.test", PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["state"], "signed_in");
    assert_eq!(body["user"]["email"], "owner@harbor.test");
    assert_eq!(c.get("/api/v1/me").await.0, StatusCode::OK);
    let (status, _) = c.delete("/api/v1/session").await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = c.get("/api/v1/me").await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNAUTHORIZED, "not_signed_in")
    );
}

async fn a_wrong_password_and_an_unknown_email_get_the_same_answer(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    app.with_practice().await;
    let c = app.client();
    let (s1, wrong) = c.sign_in("owner@harbor.test", "not the password").await;
    let (s2, unknown) = c.sign_in("nobody@harbor.test", "not the password").await;
    assert_eq!(
        (s1, s2),
        (StatusCode::UNAUTHORIZED, StatusCode::UNAUTHORIZED)
    );
    assert_eq!(wrong, unknown);
    assert_eq!(code(&wrong), "invalid_credentials");
}

async fn five_wrong_passwords_start_a_doubling_delay(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    app.with_practice().await;
    let c = app.client();
    for _ in 0..5 {
        assert_eq!(
            c.sign_in("owner@harbor.test", "wrong password!").await.0,
            StatusCode::UNAUTHORIZED
        );
    }
    let response = c
        .http
        .post(c.url("/api/v1/session"))
        .json(&json!({"email": "owner@harbor.test", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password waits"
    );
    assert_eq!(response.headers()["retry-after"], "1");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        (code(&body), body["error"]["retry_after_seconds"].as_i64()),
        ("rate_limited", Some(1))
    );

    app.clock.advance(1);
    assert_eq!(
        c.sign_in("owner@harbor.test", "wrong password!").await.0,
        StatusCode::UNAUTHORIZED
    );
    let (status, body) = c.sign_in("owner@harbor.test", PASSWORD).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(body["error"]["retry_after_seconds"], 2, "the delay doubled");

    // The delay is the person's, not the browser's.
    let (status, _) = app.client().sign_in("owner@harbor.test", PASSWORD).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
}

async fn a_correct_password_clears_the_delay(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    app.with_practice().await;
    let c = app.client();
    for _ in 0..5 {
        c.sign_in("owner@harbor.test", "wrong password!").await;
    }
    app.clock.advance(1);
    assert_eq!(
        c.sign_in("owner@harbor.test", PASSWORD).await.0,
        StatusCode::OK
    );
    for _ in 0..4 {
        assert_eq!(
            c.sign_in("owner@harbor.test", "wrong password!").await.0,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        c.sign_in("owner@harbor.test", PASSWORD).await.0,
        StatusCode::OK,
        "the count started again"
    );
}

async fn a_hundred_failures_from_one_address_close_it_for_the_window(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    app.with_practice().await;
    let c = app.client();
    // Different (unknown) emails, so no person's own delay is what stops them.
    for i in 0..100 {
        let (status, _) = c
            .sign_in(&format!("guess{i}@harbor.test"), "wrong password!")
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    let (status, body) = c.sign_in("owner@harbor.test", PASSWORD).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::TOO_MANY_REQUESTS, "rate_limited")
    );
    app.clock.advance(15 * 60);
    assert_eq!(
        c.sign_in("owner@harbor.test", PASSWORD).await.0,
        StatusCode::OK
    );
}

async fn an_ipv6_client_is_one_address_across_its_whole_slash_64(dialect: Dialect) {
    let app = TestApp::with_args(dialect, &["--trusted-proxies", "127.0.0.1"]).await;
    app.with_practice().await;
    let c = app.client();
    let from = |ip: String, email: String, password: &'static str| {
        c.http
            .post(c.url("/api/v1/session"))
            .header("x-forwarded-for", ip)
            .json(&json!({"email": email, "password": password}))
    };
    // Each failure from another address of one network: a client picks any of its 2^64.
    for i in 0..100 {
        let (status, _) = c
            .send(from(
                format!("2001:db8:1:2::{:x}", i + 1),
                format!("guess{i}@harbor.test"),
                "wrong password!",
            ))
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    let (status, body) = c
        .send(from(
            "2001:db8:1:2:ffff:ffff:ffff:ffff".into(),
            "owner@harbor.test".into(),
            PASSWORD,
        ))
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::TOO_MANY_REQUESTS, "rate_limited")
    );
    let (status, body) = c
        .send(from(
            "2001:db8:1:3::1".into(),
            "owner@harbor.test".into(),
            PASSWORD,
        ))
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the next network is another client: {body}"
    );
}

async fn a_session_ends_after_the_practices_idle_minutes(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    app.clock.advance(14 * 60 + 59);
    assert_eq!(
        owner.get("/api/v1/me").await.0,
        StatusCode::OK,
        "still within 15 minutes"
    );
    app.clock.advance(15 * 60);
    let (status, body) = owner.get("/api/v1/me").await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNAUTHORIZED, "not_signed_in")
    );
}

async fn a_busy_session_still_ends_after_twelve_hours(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    for _ in 0..(12 * 6 - 1) {
        app.clock.advance(10 * 60);
        assert_eq!(owner.get("/api/v1/me").await.0, StatusCode::OK);
    }
    app.clock.advance(10 * 60);
    assert_eq!(owner.get("/api/v1/me").await.0, StatusCode::UNAUTHORIZED);
}

async fn reauthentication_needs_the_password_and_rotates_the_session(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    let (status, body) = owner
        .post(
            "/api/v1/session/reauthenticate",
            json!({"password": "wrong password!"}),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNAUTHORIZED, "invalid_credentials")
    );

    let before = owner.session_cookie().unwrap();
    let (status, body) = owner
        .post(
            "/api/v1/session/reauthenticate",
            json!({"password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let until =
        latch_domain::Timestamp::parse_rfc3339(body["reauthenticated_until"].as_str().unwrap())
            .unwrap();
    assert_eq!(until, app.latch().now().plus(600));
    let after = owner.session_cookie().unwrap();
    assert_ne!(before, after, "the session got a new id");
    assert_eq!(owner.get("/api/v1/me").await.0, StatusCode::OK);

    let stale = app.client();
    stale.jar.add_cookie_str(
        &format!("latch_session={before}"),
        &reqwest::Url::parse(&app.base).unwrap(),
    );
    assert_eq!(
        stale.get("/api/v1/me").await.0,
        StatusCode::UNAUTHORIZED,
        "the old id is dead"
    );
}

async fn a_session_survives_a_restart_of_latch(dialect: Dialect) {
    let mut app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    app.restart().await;
    assert_eq!(owner.get("/api/v1/me").await.0, StatusCode::OK);
}

async fn signing_in_again_ends_the_browsers_previous_session(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    assert_eq!(
        owner.sign_in("owner@harbor.test", PASSWORD).await.0,
        StatusCode::OK
    );
    let (_, body) = owner.get("/api/v1/me/sessions").await;
    assert_eq!(body["sessions"].as_array().unwrap().len(), 1);
}
