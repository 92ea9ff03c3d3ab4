//! Signing in with a code: who is asked, what a waiting sign-in reaches, a code used once, wrong
//! codes and the lock.

use latch_app::ports::PersonStore;
use reqwest::StatusCode;
use serde_json::json;

use super::{OWNER, PHONE, owner_with_two_factor, pending_sign_in, verify, wrong};
use crate::support::{Dialect, PASSWORD, TestApp, code};

crate::on_both_databases!(
    a_sign_in_from_an_unrecognised_browser_needs_the_code,
    a_waiting_sign_in_reaches_only_verify_resend_and_sign_out,
    a_code_is_used_once,
    someone_elses_code_is_just_wrong,
    five_wrong_tries_end_a_code,
    twenty_concurrent_correct_codes_let_exactly_one_in,
    ten_wrong_codes_lock_the_step_and_a_right_password_then_sends_nothing,
    a_right_code_starts_the_count_of_wrong_codes_again,
    fifty_wrong_codes_lock_until_someone_unlocks,
    voice_calls_say_the_digits_and_texts_bind_the_code_to_the_host,
    a_waiting_sign_in_lives_ten_minutes_from_its_last_send,
    the_code_page_signs_out_a_waiting_sign_in,
    the_outbox_answers_only_direct_loopback_callers,
);

async fn a_sign_in_from_an_unrecognised_browser_needs_the_code(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    owner_with_two_factor(&app).await;
    let c = app.client();
    let (status, body) = c.sign_in(OWNER, PASSWORD).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"state": "two_factor_required", "channel": "sms", "phone": "+1 ••• ••• ••71", "code_expires_in": 600,
               "method": "sms", "methods": ["sms", "voice", "recovery_code"]})
    );
    let before = c.session_cookie().unwrap();
    let (status, body) = verify(&c, &app.last_code_to(PHONE).await, false).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["state"], "signed_in");
    assert_eq!(body["user"]["email"], OWNER);
    assert_ne!(
        c.session_cookie().unwrap(),
        before,
        "the session id changed after the code"
    );
    assert_eq!(c.get("/api/v1/me").await.0, StatusCode::OK);
}

async fn a_waiting_sign_in_reaches_only_verify_resend_and_sign_out(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    owner_with_two_factor(&app).await;
    let c = pending_sign_in(&app).await;
    for path in [
        "/api/v1/me",
        "/api/v1/me/sessions",
        "/api/v1/me/devices",
        "/api/v1/practice/users",
    ] {
        assert_eq!(code(&c.get(path).await.1), "not_signed_in", "{path}");
    }
    let (status, _) = c
        .post(
            "/api/v1/session/reauthenticate",
            json!({"password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let page = c.http.get(c.url("/dashboard")).send().await.unwrap();
    assert_eq!(
        page.headers()["location"],
        "/sign-in/code",
        "pages lead to the code page"
    );
    let page = c.http.get(c.url("/")).send().await.unwrap();
    assert_eq!(page.headers()["location"], "/sign-in/code");
    app.clock.advance(10 * 60);
    assert_eq!(
        verify(&c, "12345678", false).await.0,
        StatusCode::UNAUTHORIZED,
        "it lives ten minutes"
    );
    assert_eq!(c.delete("/api/v1/session").await.0, StatusCode::NO_CONTENT);
}

async fn a_code_is_used_once(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    owner_with_two_factor(&app).await;
    let c = pending_sign_in(&app).await;
    let used = app.last_code_to(PHONE).await;
    assert_eq!(verify(&c, &used, false).await.0, StatusCode::OK);
    app.clock.advance(60);
    let again = pending_sign_in(&app).await;
    let (status, body) = verify(&again, &used, false).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "invalid_code")
    );
}

async fn someone_elses_code_is_just_wrong(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = owner_with_two_factor(&app).await;
    let (staff, _) = app.person(&owner, "staff", "sam@harbor.test").await;
    app.turn_on_two_factor(&staff, "+14155552672").await;
    let sam = app.client();
    assert_eq!(
        sam.sign_in("sam@harbor.test", PASSWORD).await.1["state"],
        "two_factor_required"
    );
    let olivia = pending_sign_in(&app).await;
    let sams_code = app.last_code_to("+14155552672").await;
    let (status, body) = verify(&olivia, &sams_code, false).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "invalid_code")
    );
    assert_eq!(
        verify(&sam, &sams_code, false).await.0,
        StatusCode::OK,
        "it still works for its own sign-in"
    );
}

async fn five_wrong_tries_end_a_code(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    owner_with_two_factor(&app).await;
    let c = pending_sign_in(&app).await;
    let right = app.last_code_to(PHONE).await;
    for left in (0..5).rev() {
        let (status, body) = verify(&c, &wrong(&right), false).await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::BAD_REQUEST, "invalid_code")
        );
        assert_eq!(body["error"]["attempts_left"], left);
    }
    let (status, body) = verify(&c, &right, false).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "code_expired"),
        "the right code is dead now"
    );
}

async fn twenty_concurrent_correct_codes_let_exactly_one_in(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    owner_with_two_factor(&app).await;
    let c = pending_sign_in(&app).await;
    let right = app.last_code_to(PHONE).await;
    let attempts = (0..20).map(|_| {
        let c = c.clone();
        let right = right.clone();
        tokio::spawn(async move { verify(&c, &right, false).await.0 })
    });
    let mut won = 0;
    for a in attempts.collect::<Vec<_>>() {
        let status = a.await.unwrap();
        if status == StatusCode::OK {
            won += 1;
        } else {
            assert!(
                status == StatusCode::BAD_REQUEST || status == StatusCode::UNAUTHORIZED,
                "{status}"
            );
        }
    }
    assert_eq!(won, 1);
}

async fn ten_wrong_codes_lock_the_step_and_a_right_password_then_sends_nothing(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    owner_with_two_factor(&app).await;
    // Failures count across codes and browsers.
    for round in 0..2 {
        let c = pending_sign_in(&app).await;
        let right = app.last_code_to(PHONE).await;
        for i in 0..5 {
            let (status, body) = verify(&c, &wrong(&right), false).await;
            if round == 1 && i == 4 {
                assert_eq!(
                    (status, code(&body)),
                    (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
                    "the 10th locks"
                );
                assert_eq!(body["error"]["retry_after_seconds"], 900);
            } else {
                assert_eq!(status, StatusCode::BAD_REQUEST);
            }
        }
    }
    let notices = app.outbox_to(PHONE).await;
    assert!(
        notices[0]["code"].is_null() && notices[0]["body"].as_str().unwrap().contains("change it"),
        "{:?}",
        notices[0]
    );

    let sent = app.outbox_to(PHONE).await.len();
    let (status, body) = app.client().sign_in(OWNER, PASSWORD).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::TOO_MANY_REQUESTS, "rate_limited")
    );
    assert_eq!(
        app.outbox_to(PHONE).await.len(),
        sent,
        "a locked step sends nothing"
    );

    app.clock.advance(15 * 60);
    let c = pending_sign_in(&app).await;
    let right = app.last_code_to(PHONE).await;
    let (status, body) = verify(&c, &wrong(&right), false).await;
    assert_eq!(
        status,
        StatusCode::TOO_MANY_REQUESTS,
        "each later failure locks again"
    );
    assert_eq!(
        body["error"]["retry_after_seconds"], 1800,
        "for double the time"
    );
}

async fn a_right_code_starts_the_count_of_wrong_codes_again(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    owner_with_two_factor(&app).await;
    for round in 0..2 {
        // Nine wrong codes in a row, one short of the lock: five end the first code, four more
        // go to the next sign-in, whose right code then lets the person in.
        let c = pending_sign_in(&app).await;
        let right = app.last_code_to(PHONE).await;
        for _ in 0..5 {
            let (status, _) = verify(&c, &wrong(&right), false).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "round {round}");
        }
        let c = pending_sign_in(&app).await;
        let right = app.last_code_to(PHONE).await;
        for _ in 0..4 {
            let (status, body) = verify(&c, &wrong(&right), false).await;
            assert_eq!(
                status,
                StatusCode::BAD_REQUEST,
                "round {round}: the count started again after the right code: {body}"
            );
        }
        let (status, body) = verify(&c, &right, false).await;
        assert_eq!(status, StatusCode::OK, "round {round}: {body}");
    }
}

async fn fifty_wrong_codes_lock_until_someone_unlocks(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    owner_with_two_factor(&app).await;
    let c = pending_sign_in(&app).await;
    let account = app.db.account_by_email(OWNER).await.unwrap().unwrap();
    latch_store::testing::set_code_failures(&app.db, &account.person.id, 49).await;
    let right = app.last_code_to(PHONE).await;
    let (status, body) = verify(&c, &wrong(&right), false).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, "two_factor_locked")
    );
    app.clock.advance(7 * 24 * 3600);
    let (status, body) = app.client().sign_in(OWNER, PASSWORD).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, "two_factor_locked"),
        "time does not unlock it"
    );
}

async fn voice_calls_say_the_digits_and_texts_bind_the_code_to_the_host(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    owner.begin_setup(PHONE, "sms").await;
    let text = &app.outbox_to(PHONE).await[0];
    let digits = text["code"].as_str().unwrap();
    let body = text["body"].as_str().unwrap();
    let host = app.base.trim_start_matches("http://");
    assert!(body.starts_with("latch sign-in code: "), "{body}");
    assert!(body.ends_with(&format!("@{host} #{digits}")), "{body}");
    assert!(
        !body.contains("Harbor") && !body.contains("Olivia"),
        "texts never name the practice or person"
    );

    app.clock.advance(30);
    owner
        .post(
            "/api/v1/me/two-factor/setup/resend",
            json!({"channel": "voice"}),
        )
        .await;
    let call = &app.outbox_to(PHONE).await[0];
    assert_eq!(call["channel"], "voice");
    let script = call["body"].as_str().unwrap();
    let spoken = call["code"]
        .as_str()
        .unwrap()
        .chars()
        .map(String::from)
        .collect::<Vec<_>>()
        .join(", ");
    assert_eq!(script.matches(&spoken).count(), 2, "{script}");
    assert!(!script.contains(call["code"].as_str().unwrap()));
}

async fn a_waiting_sign_in_lives_ten_minutes_from_its_last_send(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    owner_with_two_factor(&app).await;
    let c = pending_sign_in(&app).await;
    app.clock.advance(9 * 60);
    assert_eq!(
        c.post("/api/v1/session/resend", json!({})).await.0,
        StatusCode::ACCEPTED
    );
    app.clock.advance(9 * 60);
    let (status, body) = verify(&c, &app.last_code_to(PHONE).await, false).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn the_code_page_signs_out_a_waiting_sign_in(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    owner_with_two_factor(&app).await;
    let c = pending_sign_in(&app).await;
    let html = c
        .http
        .get(c.url("/sign-in/code"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let start = html.find(r#"name="csrf" value=""#).unwrap() + r#"name="csrf" value=""#.len();
    let token = &html[start..start + 64];
    let response = c
        .http
        .post(c.url("/sign-out"))
        .form(&[("csrf", token)])
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers()["location"],
        "/sign-in?done=signed-out",
        "Cancel and sign out signs out"
    );
    let page = c.http.get(c.url("/sign-in")).send().await.unwrap();
    assert_eq!(
        page.status(),
        StatusCode::OK,
        "the sign-in page, not the code page"
    );
}

async fn the_outbox_answers_only_direct_loopback_callers(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let c = app.client();
    let (status, _) = c
        .send(
            c.http
                .get(c.url("/api/v1/dev/outbox"))
                .header("x-forwarded-for", "203.0.113.9"),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let page = c
        .http
        .get(c.url("/dev/outbox"))
        .header("forwarded", "for=203.0.113.9")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
    assert_eq!(c.get("/api/v1/dev/outbox").await.0, StatusCode::OK);
    assert_eq!(
        c.http
            .get(c.url("/dev/outbox"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
}
