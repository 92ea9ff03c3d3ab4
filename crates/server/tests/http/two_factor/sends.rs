//! The send limits: the resend wait, sends per sign-in, person and day, unverified sends per
//! address and number range, and the practice's budget.

use reqwest::StatusCode;
use serde_json::json;

use super::{OWNER, PHONE, owner_with_two_factor, pending_sign_in, verify};
use crate::support::{Client, Dialect, PASSWORD, TestApp, code};

crate::on_both_databases!(
    a_resend_waits_thirty_seconds_and_ends_the_older_code,
    a_sign_in_sends_at_most_five_times,
    a_person_gets_at_most_ten_codes_an_hour,
    a_person_gets_at_most_ten_sign_in_codes_a_day_of_their_own,
    one_address_gets_at_most_sixty_unverified_sends_an_hour,
    a_send_refused_for_the_person_takes_nothing_from_the_address,
    a_number_range_gets_at_most_twenty_unverified_sends_a_day,
    the_practices_daily_budget_stops_sends_with_a_clear_message,
);

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
