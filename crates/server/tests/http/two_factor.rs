//! Two-factor through the API: turning it on, signing in with a code, remembered browsers,
//! and every security rule of the design, on SQLite and PostgreSQL.

use latch_app::ports::{PersonStore, PracticeStore};
use reqwest::StatusCode;
use serde_json::json;

use crate::support::{Client, Dialect, PASSWORD, TestApp, code};

const PHONE: &str = "+14155552671";
const OWNER: &str = "owner@harbor.test";

crate::on_both_databases!(
    turning_on_takes_the_password_again_and_a_code_sent_to_the_new_phone,
    turning_on_for_the_first_time_ends_no_session,
    a_sign_in_from_an_unrecognised_browser_needs_the_code,
    a_waiting_sign_in_reaches_only_verify_resend_and_sign_out,
    a_remembered_browser_skips_the_code_but_never_the_password,
    remembering_is_not_offered_when_asked_not_to,
    a_remembered_browser_is_exempt_from_the_password_delays,
    a_code_is_used_once,
    someone_elses_code_is_just_wrong,
    five_wrong_tries_end_a_code,
    a_setup_code_expires_after_ten_minutes,
    twenty_concurrent_correct_codes_let_exactly_one_in,
    a_resend_waits_thirty_seconds_and_ends_the_older_code,
    a_sign_in_sends_at_most_five_times,
    a_person_gets_at_most_ten_codes_an_hour,
    a_person_gets_at_most_ten_sign_in_codes_a_day_of_their_own,
    ten_wrong_codes_lock_the_step_and_a_right_password_then_sends_nothing,
    a_right_code_starts_the_count_of_wrong_codes_again,
    fifty_wrong_codes_lock_until_someone_unlocks,
    changing_the_phone_holds_the_old_one_until_the_new_one_is_confirmed,
    turning_off_notifies_the_old_phone_and_ends_devices_and_sessions,
    a_password_change_forgets_remembered_devices,
    remembered_devices_are_listed_and_forgotten,
    bad_phone_numbers_are_refused_before_anything_is_sent,
    voice_calls_say_the_digits_and_texts_bind_the_code_to_the_host,
    the_outbox_answers_only_direct_loopback_callers,
    a_waiting_sign_in_lives_ten_minutes_from_its_last_send,
    a_locked_step_is_not_skipped_by_a_remembered_browser,
    the_remembered_device_cookie_lasts_the_practices_limit_and_none_at_zero,
    a_practice_that_requires_two_factor_keeps_it_from_being_turned_off,
    owners_see_each_persons_two_factor_devices_and_lock,
    the_code_page_signs_out_a_waiting_sign_in,
    the_dashboard_tells_of_a_browser_remembered_by_the_previous_sign_in,
    one_address_gets_at_most_sixty_unverified_sends_an_hour,
    a_send_refused_for_the_person_takes_nothing_from_the_address,
    a_number_range_gets_at_most_twenty_unverified_sends_a_day,
    the_practices_daily_budget_stops_sends_with_a_clear_message,
);

/// A practice whose owner has two-factor on with `PHONE`; answers the owner's client.
async fn owner_with_two_factor(app: &TestApp) -> Client {
    let owner = app.with_practice().await;
    app.turn_on_two_factor(&owner, PHONE).await;
    owner
}

/// Signs in with the password from a fresh browser: the code is sent.
async fn pending_sign_in(app: &TestApp) -> Client {
    let c = app.client();
    let (status, body) = c.sign_in(OWNER, PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["state"], "two_factor_required", "{body}");
    c
}

async fn verify(c: &Client, code: &str, remember: bool) -> (StatusCode, serde_json::Value) {
    c.post(
        "/api/v1/session/verify",
        json!({"code": code, "remember_device": remember}),
    )
    .await
}

fn wrong(code: &str) -> String {
    let last = code.as_bytes()[7] - b'0';
    format!("{}{}", &code[..7], (last + 1) % 10)
}

async fn turning_on_takes_the_password_again_and_a_code_sent_to_the_new_phone(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    let (status, body) = owner
        .post(
            "/api/v1/me/two-factor/setup",
            json!({"phone": PHONE, "channel": "sms"}),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, "reauthentication_required")
    );
    assert!(app.outbox_to(PHONE).await.is_empty(), "nothing was sent");

    owner
        .post(
            "/api/v1/session/reauthenticate",
            json!({"password": PASSWORD}),
        )
        .await;
    let (status, body) = owner
        .post(
            "/api/v1/me/two-factor/setup",
            json!({"phone": "(415) 555-2671", "country": "US", "channel": "sms"}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(
        body,
        json!({"phone": "+1 ••• ••• ••71", "channel": "sms", "code_expires_in": 600})
    );
    let sent = app.last_code_to(PHONE).await;
    assert_eq!(sent.len(), 8);

    let (status, body) = owner
        .post(
            "/api/v1/me/two-factor/setup/confirm",
            json!({"code": wrong(&sent)}),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "invalid_code")
    );
    assert_eq!(body["error"]["attempts_left"], 4);
    assert_eq!(
        owner.get("/api/v1/me").await.1["two_factor"]["enabled"],
        false,
        "not on before the code"
    );

    // Spaces and dashes are fine.
    let typed = format!("{}-{}", &sent[..4], &sent[4..]);
    let (status, body) = owner
        .post(
            "/api/v1/me/two-factor/setup/confirm",
            json!({"code": typed}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["two_factor"],
        json!({"enabled": true, "channel": "sms", "phone": "+1 ••• ••• ••71", "required": false})
    );
    let (_, me) = owner.get("/api/v1/me").await;
    assert_eq!(me["two_factor"]["enabled"], true);

    let (status, body) = owner
        .post("/api/v1/me/two-factor/setup/confirm", json!({"code": sent}))
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::CONFLICT, "no_setup_in_progress")
    );
}

async fn turning_on_for_the_first_time_ends_no_session(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    let laptop = app.client();
    laptop.sign_in(OWNER, PASSWORD).await;
    app.turn_on_two_factor(&owner, PHONE).await;
    assert_eq!(laptop.get("/api/v1/me").await.0, StatusCode::OK);
}

async fn a_sign_in_from_an_unrecognised_browser_needs_the_code(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    owner_with_two_factor(&app).await;
    let c = app.client();
    let (status, body) = c.sign_in(OWNER, PASSWORD).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"state": "two_factor_required", "channel": "sms", "phone": "+1 ••• ••• ••71", "code_expires_in": 600})
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

async fn a_setup_code_expires_after_ten_minutes(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    owner.begin_setup(PHONE, "sms").await;
    let sent = app.last_code_to(PHONE).await;
    app.clock.advance(10 * 60);
    owner.get("/api/v1/me").await;
    let (status, body) = owner
        .post("/api/v1/me/two-factor/setup/confirm", json!({"code": sent}))
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "code_expired")
    );
    // Once started, a setup's resend needs no new password.
    app.clock.advance(1);
    let (status, body) = owner
        .post("/api/v1/me/two-factor/setup/resend", json!({}))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let fresh = app.last_code_to(PHONE).await;
    assert_eq!(
        owner
            .post(
                "/api/v1/me/two-factor/setup/confirm",
                json!({"code": fresh})
            )
            .await
            .0,
        StatusCode::OK
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

async fn a_resend_waits_thirty_seconds_and_ends_the_older_code(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    owner_with_two_factor(&app).await;
    let c = pending_sign_in(&app).await;
    let first = app.last_code_to(PHONE).await;
    let response = c
        .http
        .post(c.url("/api/v1/session/resend"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.headers()["retry-after"], "30");
    app.clock.advance(30);
    let (status, body) = c
        .post("/api/v1/session/resend", json!({"channel": "voice"}))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["channel"], "voice");
    let second = app.last_code_to(PHONE).await;
    assert_eq!(
        code(&verify(&c, &first, false).await.1),
        "invalid_code",
        "the older code ended"
    );
    assert_eq!(verify(&c, &second, false).await.0, StatusCode::OK);
}

async fn a_sign_in_sends_at_most_five_times(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    owner_with_two_factor(&app).await;
    let c = pending_sign_in(&app).await;
    for _ in 0..4 {
        app.clock.advance(30);
        assert_eq!(
            c.post("/api/v1/session/resend", json!({})).await.0,
            StatusCode::ACCEPTED
        );
    }
    let before = app.outbox_to(PHONE).await.len();
    app.clock.advance(30);
    let (status, body) = c.post("/api/v1/session/resend", json!({})).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::TOO_MANY_REQUESTS, "rate_limited")
    );
    assert_eq!(app.outbox_to(PHONE).await.len(), before, "nothing was sent");
}

async fn a_person_gets_at_most_ten_codes_an_hour(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = owner_with_two_factor(&app).await; // send 1, to PHONE
    for _ in 0..5 {
        pending_sign_in(&app).await; // sends 2-6, to PHONE
    }
    app.turn_on_two_factor(&owner, "+14155552699").await; // send 7, to the new phone
    for _ in 0..3 {
        pending_sign_in(&app).await; // sends 8-10, to the new phone
    }
    let (status, body) = app.client().sign_in(OWNER, PASSWORD).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
        "no number had ten"
    );
    assert_eq!(
        app.outbox_to("+14155552699").await.len(),
        4,
        "nothing more was sent"
    );
    app.clock.advance(3600);
    pending_sign_in(&app).await;
}

async fn a_person_gets_at_most_ten_sign_in_codes_a_day_of_their_own(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = owner_with_two_factor(&app).await;
    let (staff, _) = app.person(&owner, "staff", "sam@harbor.test").await;
    app.turn_on_two_factor(&staff, PHONE).await; // one phone shared by two people
    for _hour in 0..2 {
        for _ in 0..5 {
            pending_sign_in(&app).await;
        }
        app.clock.advance(3600);
    }
    let (status, body) = app.client().sign_in(OWNER, PASSWORD).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
        "ten of the owner's own a day: {body}"
    );
    assert_eq!(
        app.client().sign_in("sam@harbor.test", PASSWORD).await.1["state"],
        "two_factor_required",
        "the owner's codes took nothing from the other person on the same phone"
    );
    app.clock.advance(22 * 3600);
    pending_sign_in(&app).await;
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

async fn changing_the_phone_holds_the_old_one_until_the_new_one_is_confirmed(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = owner_with_two_factor(&app).await;
    let laptop = pending_sign_in(&app).await;
    verify(&laptop, &app.last_code_to(PHONE).await, true).await;

    let (status, _) = owner.begin_setup("+14155552699", "voice").await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(
        owner.get("/api/v1/me").await.1["two_factor"]["phone"],
        "+1 ••• ••• ••71",
        "the old phone holds"
    );
    assert_eq!(laptop.get("/api/v1/me").await.0, StatusCode::OK);

    let new_code = app.last_code_to("+14155552699").await;
    let (status, body) = owner
        .post(
            "/api/v1/me/two-factor/setup/confirm",
            json!({"code": new_code}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["two_factor"]["channel"], "voice");
    assert_eq!(body["two_factor"]["phone"], "+1 ••• ••• ••99");
    let notice = &app.outbox_to(PHONE).await[0];
    assert!(
        notice["code"].is_null()
            && notice["body"]
                .as_str()
                .unwrap()
                .contains("different phone number"),
        "{notice}"
    );
    assert_eq!(
        laptop.get("/api/v1/me").await.0,
        StatusCode::UNAUTHORIZED,
        "other sessions end"
    );
    assert_eq!(owner.get("/api/v1/me").await.0, StatusCode::OK);
    assert!(
        owner.get("/api/v1/me/devices").await.1["devices"]
            .as_array()
            .unwrap()
            .is_empty(),
        "devices end"
    );
}

async fn turning_off_notifies_the_old_phone_and_ends_devices_and_sessions(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = owner_with_two_factor(&app).await;
    let laptop = pending_sign_in(&app).await;
    verify(&laptop, &app.last_code_to(PHONE).await, true).await;
    app.clock.advance(11 * 60);
    owner.get("/api/v1/me").await;
    let (status, body) = owner.delete("/api/v1/me/two-factor").await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, "reauthentication_required"),
        "the sign-in's re-entry has run out"
    );
    owner
        .post(
            "/api/v1/session/reauthenticate",
            json!({"password": PASSWORD}),
        )
        .await;
    assert_eq!(
        owner.delete("/api/v1/me/two-factor").await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        owner.get("/api/v1/me").await.1["two_factor"]["enabled"],
        false
    );
    assert!(
        app.outbox_to(PHONE).await[0]["body"]
            .as_str()
            .unwrap()
            .contains("turned off")
    );
    assert_eq!(laptop.get("/api/v1/me").await.0, StatusCode::UNAUTHORIZED);
    let (status, body) = app.client().sign_in(OWNER, PASSWORD).await;
    assert_eq!(
        (status, &body["state"]),
        (StatusCode::OK, &json!("signed_in")),
        "no code any more"
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

async fn bad_phone_numbers_are_refused_before_anything_is_sent(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    owner
        .post(
            "/api/v1/session/reauthenticate",
            json!({"password": PASSWORD}),
        )
        .await;
    let cases = [
        (json!({"phone": "12345", "channel": "sms"}), "invalid_phone"),
        (
            json!({"phone": "415 555 2671", "channel": "sms"}),
            "invalid_phone",
        ),
        (
            json!({"phone": "+1 900 555 0123", "channel": "sms"}),
            "phone_not_allowed",
        ),
        (
            json!({"phone": "+1 800 555 0123", "channel": "sms"}),
            "phone_not_allowed",
        ),
        (
            json!({"phone": "+44 7400 123456", "channel": "sms"}),
            "phone_not_allowed",
        ),
        (
            json!({"phone": PHONE, "extension": "204", "channel": "sms"}),
            "invalid_phone",
        ),
        (
            json!({"phone": PHONE, "channel": "pigeon"}),
            "invalid_request",
        ),
    ];
    for (body, expected) in cases {
        let (status, answer) = owner
            .post("/api/v1/me/two-factor/setup", body.clone())
            .await;
        assert_eq!(
            (status, code(&answer)),
            (StatusCode::BAD_REQUEST, expected),
            "{body}"
        );
    }
    let c = app.client();
    let (_, all) = c.send(c.http.get(c.url("/api/v1/dev/outbox"))).await;
    assert!(
        all["messages"].as_array().unwrap().is_empty(),
        "nothing was sent"
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
    assert!(!page.contains("Remember this device"), "not offered at 0");
    verify(&other, &app.last_code_to(PHONE).await, true).await;
    assert!(
        !other.cookies().contains("latch_device="),
        "nothing is remembered at 0"
    );
}

async fn a_practice_that_requires_two_factor_keeps_it_from_being_turned_off(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = owner_with_two_factor(&app).await;
    let account = app.db.account_by_email(OWNER).await.unwrap().unwrap();
    let mut security = account.practice.security.clone();
    security.require_two_factor = latch_domain::practice::RequireTwoFactor::Staff;
    app.db
        .update_security(&account.practice.id, &security)
        .await
        .unwrap();
    owner
        .post(
            "/api/v1/session/reauthenticate",
            json!({"password": PASSWORD}),
        )
        .await;
    let (status, body) = owner.delete("/api/v1/me/two-factor").await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::CONFLICT, "two_factor_required_by_practice")
    );
    assert_eq!(
        owner.get("/api/v1/me").await.1["two_factor"]["required"],
        true
    );
    assert_eq!(
        owner.get("/api/v1/me").await.1["two_factor"]["enabled"],
        true
    );
}

async fn owners_see_each_persons_two_factor_devices_and_lock(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    let (staff, sam_id) = app.person(&owner, "staff", "sam@harbor.test").await;
    app.turn_on_two_factor(&staff, "+14155552672").await;
    let desk = app.client();
    desk.sign_in("sam@harbor.test", PASSWORD).await;
    verify(&desk, &app.last_code_to("+14155552672").await, true).await;

    let (_, sam) = owner.get(&format!("/api/v1/practice/users/{sam_id}")).await;
    assert_eq!(
        sam["two_factor"],
        json!({"enabled": true, "channel": "sms", "phone": "+1 ••• ••• ••72", "required": false})
    );
    assert_eq!(
        (sam["remembered_devices"].as_i64(), sam["status"].as_str()),
        (Some(1), Some("active"))
    );
    let (_, on) = owner.get("/api/v1/practice/users?two_factor=on").await;
    assert_eq!(on["users"].as_array().unwrap().len(), 1);
    assert_eq!(on["users"][0]["remembered_devices"], 1);

    app.db
        .set_two_factor_lock(&sam_id, Some(app.latch().now().plus(900)), false)
        .await
        .unwrap();
    assert_eq!(
        owner
            .get(&format!("/api/v1/practice/users/{sam_id}"))
            .await
            .1["status"],
        "locked"
    );
    app.db
        .set_two_factor_lock(&sam_id, None, true)
        .await
        .unwrap();
    assert_eq!(
        owner
            .get(&format!("/api/v1/practice/users/{sam_id}"))
            .await
            .1["status"],
        "locked_until_unlocked"
    );
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
        "/sign-in",
        "Cancel and sign out signs out"
    );
    let page = c.http.get(c.url("/sign-in")).send().await.unwrap();
    assert_eq!(
        page.status(),
        StatusCode::OK,
        "the sign-in page, not the code page"
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

/// Sends `count` codes for `client`'s setups, by starting and resending setups to numbers
/// +1 415 `exchange` 1000, 1001, ... (each number gets at most five). A number's range is
/// its exchange.
async fn setup_sends(app: &TestApp, client: &Client, exchange: u32, count: u32) {
    let mut sent = 0;
    let mut number = 1000;
    while sent < count {
        let phone = format!("+1415{exchange:03}{number:04}");
        let (status, body) = client.begin_setup(&phone, "sms").await;
        assert_eq!(status, StatusCode::ACCEPTED, "{phone}: {body}");
        sent += 1;
        while sent < count && sent % 5 != 0 {
            app.clock.advance(30);
            let (status, body) = client
                .post("/api/v1/me/two-factor/setup/resend", json!({}))
                .await;
            assert_eq!(status, StatusCode::ACCEPTED, "{body}");
            sent += 1;
        }
        number += 1;
    }
}

/// Ten unverified sends (their own hourly limit) by each of `people` new staff, each to a
/// number range of their own; each signs in just before, so no session idles out while the
/// clock moves. Answers the last of them.
async fn ten_sends_each(app: &TestApp, owner: &Client, people: u32) -> Client {
    let mut last = None;
    for i in 0..people {
        let (person, _) = app
            .person(owner, "staff", &format!("s{i}@harbor.test"))
            .await;
        setup_sends(app, &person, 220 + 10 * i, 10).await;
        last = Some(person);
    }
    last.expect("at least one person")
}

async fn one_address_gets_at_most_sixty_unverified_sends_an_hour(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    let last = ten_sends_each(&app, &owner, 6).await;
    owner.sign_in("owner@harbor.test", PASSWORD).await;
    let (seventh, _) = app.person(&owner, "staff", "s6@harbor.test").await;
    let (status, body) = seventh.begin_setup("+14159001000", "sms").await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
        "the 61st unverified send"
    );
    assert!(app.outbox_to("+14159001000").await.is_empty());

    // A code entered makes its sends verified: they free their places.
    let code_sent = app.last_code_to("+14152701001").await;
    let (status, body) = last
        .post(
            "/api/v1/me/two-factor/setup/confirm",
            json!({"code": code_sent}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = seventh.begin_setup("+14159001000", "sms").await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
}

async fn a_send_refused_for_the_person_takes_nothing_from_the_address(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    // Fifty unverified sends from this address, then twenty more that the last person's own
    // hourly limit refuses before anything is sent...
    let last = ten_sends_each(&app, &owner, 5).await;
    for n in 0..20 {
        let (status, body) = last
            .begin_setup(&format!("+1415290{:04}", 1000 + n), "sms")
            .await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::TOO_MANY_REQUESTS, "rate_limited")
        );
    }
    // ...leave the address its sixty: the sixth person's ten all go.
    owner.sign_in("owner@harbor.test", PASSWORD).await;
    let (sixth, _) = app.person(&owner, "staff", "s5@harbor.test").await;
    setup_sends(&app, &sixth, 280, 10).await;
}

async fn a_number_range_gets_at_most_twenty_unverified_sends_a_day(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    let mut people = Vec::new();
    for i in 0..3 {
        people.push(
            app.person(&owner, "staff", &format!("s{i}@harbor.test"))
                .await
                .0,
        );
    }
    // +1 415 555 ....: one range; two people with ten sends each, to numbers 1000 and 1001.
    setup_sends(&app, &people[0], 555, 10).await;
    setup_sends(&app, &people[1], 555, 10).await;
    let (status, body) = people[2].begin_setup("+14155557077", "sms").await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
        "the 21st to the range"
    );
    let (status, body) = people[2].begin_setup("+14152221077", "sms").await;
    assert_eq!(
        status,
        StatusCode::ACCEPTED,
        "another range is fine: {body}"
    );
}

async fn the_practices_daily_budget_stops_sends_with_a_clear_message(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    let (owner_status, _) = owner
        .post(
            "/api/v1/session/reauthenticate",
            json!({"password": PASSWORD}),
        )
        .await;
    assert_eq!(owner_status, StatusCode::OK);
    owner
        .put("/api/v1/practice/security", json!({"daily_send_budget": 3}))
        .await;
    let (sam, _) = app.person(&owner, "staff", "sam@harbor.test").await;
    setup_sends(&app, &sam, 222, 3).await;
    let (status, body) = sam.begin_setup("+14155550200", "sms").await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::TOO_MANY_REQUESTS, "rate_limited")
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("daily limit of texts and calls"),
        "{body}"
    );
    assert!(app.outbox_to("+14155550200").await.is_empty());
    let (_, audit) = owner
        .get("/api/v1/practice/audit?kind=practice.send_budget_reached")
        .await;
    assert_eq!(audit["events"].as_array().unwrap().len(), 1);
    app.clock.advance(86_400);
    sam.sign_in("sam@harbor.test", PASSWORD).await;
    assert_eq!(
        sam.begin_setup("+14155550200", "sms").await.0,
        StatusCode::ACCEPTED,
        "a new day"
    );
}
