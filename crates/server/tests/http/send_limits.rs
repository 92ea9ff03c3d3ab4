//! Send limits that other accounts cannot turn against a person: their own sign-in codes to
//! their own confirmed phone have a budget of their own, and setups by other people reach a
//! number someone has confirmed only a few times a day.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::{Client, Dialect, PASSWORD, TestApp, code};

const PHONE: &str = "+14155552671";
const OWNER: &str = "owner@harbor.test";

crate::on_both_databases!(
    setups_by_another_practice_cannot_block_a_persons_own_sign_in_codes,
    setups_to_neighbouring_numbers_cannot_block_a_persons_sign_in,
);

async fn sign_in_sends_a_code(app: &TestApp) {
    let (status, body) = app.client().sign_in(OWNER, PASSWORD).await;
    assert_eq!(
        (status, body["state"].as_str()),
        (StatusCode::OK, Some("two_factor_required")),
        "{body}"
    );
}

async fn setups_by_another_practice_cannot_block_a_persons_own_sign_in_codes(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    app.turn_on_two_factor(&owner, PHONE).await;
    let stranger = app.other_practice().await;
    let mut answers = Vec::new();
    for _ in 0..9 {
        let (status, body) = stranger.begin_setup(PHONE, "sms").await;
        answers.push((status, code(&body).to_owned()));
    }
    let reached = answers
        .iter()
        .filter(|(s, _)| *s == StatusCode::ACCEPTED)
        .count();
    assert_eq!(
        reached, 3,
        "a confirmed number takes 3 setups a day from others: {answers:?}"
    );
    assert!(
        answers[3..]
            .iter()
            .all(|(s, c)| *s == StatusCode::TOO_MANY_REQUESTS && c == "rate_limited")
    );
    for _ in 0..5 {
        sign_in_sends_a_code(&app).await;
    }
}

async fn setups_to_neighbouring_numbers_cannot_block_a_persons_sign_in(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    app.turn_on_two_factor(&owner, PHONE).await;
    let stranger = app.other_practice().await;
    let (helper, _) = app.person(&stranger, "staff", "helper@other.test").await;
    // Twenty setups to numbers beside the person's, none ever confirmed: the range is full.
    let mut sent = 0;
    for (i, c) in [&stranger, &helper]
        .iter()
        .flat_map(|c| std::iter::repeat_n(*c, 10))
        .enumerate()
    {
        let (status, body) = setup_to(c, &format!("+1415555{:04}", 2700 + i)).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{i}: {body}");
        sent += 1;
    }
    assert_eq!(sent, 20);
    let (status, body) = setup_to(&stranger, "+14155552699").await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
        "the range takes no more unverified setups"
    );
    sign_in_sends_a_code(&app).await;
}

async fn setup_to(c: &Client, phone: &str) -> (StatusCode, serde_json::Value) {
    c.post(
        "/api/v1/session/reauthenticate",
        json!({"password": PASSWORD}),
    )
    .await;
    c.post(
        "/api/v1/me/two-factor/setup",
        json!({"phone": phone, "channel": "sms"}),
    )
    .await
}
