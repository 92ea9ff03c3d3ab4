//! `/metrics`: Prometheus text for the allowed addresses only, with counters that move as
//! people sign in, and no person, phone or code in any label.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::{Client, Dialect, PASSWORD, TestApp};

async fn scrape(c: &Client) -> (StatusCode, String) {
    let response = c.http.get(c.url("/metrics")).send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

/// The value of the first sample line starting with `prefix`, or 0.
fn sample(text: &str, prefix: &str) -> f64 {
    text.lines()
        .find(|l| l.starts_with(prefix))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test]
async fn counters_move_as_people_sign_in_and_name_nobody() {
    let app = TestApp::new(Dialect::Sqlite).await;
    let owner = app.with_practice().await;
    app.turn_on_two_factor(&owner, "+14155552671").await;
    let c = app.client();
    c.sign_in("owner@harbor.test", "wrong password!").await;
    c.sign_in("owner@harbor.test", PASSWORD).await;
    let code = app.last_code_to("+14155552671").await;
    c.post("/api/v1/session/verify", json!({"code": "00000000"}))
        .await;
    c.post("/api/v1/session/verify", json!({"code": code}))
        .await;
    c.get("/api/v1/me").await;

    let (status, text) = scrape(&c).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        sample(&text, r#"latch_sign_ins_total{outcome="wrong_password"}"#),
        1.0,
        "{text}"
    );
    assert_eq!(
        sample(&text, r#"latch_sign_ins_total{outcome="code_required"}"#),
        1.0
    );
    assert_eq!(
        sample(
            &text,
            r#"latch_codes_sent_total{channel="sms",outcome="sent"}"#
        ),
        2.0,
        "setup and sign-in"
    );
    assert_eq!(
        sample(&text, r#"latch_verifications_total{outcome="accepted"}"#),
        2.0
    );
    assert!(
        sample(&text, r#"latch_verifications_total{outcome="wrong"}"#)
            + sample(&text, r#"latch_verifications_total{outcome="expired"}"#)
            >= 1.0
    );
    assert!(
        text.contains(r#"latch_request_seconds_count{route="/api/v1/me",status="200"}"#),
        "{text}"
    );
    assert!(
        text.contains("latch_password_hash_queue_depth")
            && text.contains("latch_db_pool_connections")
    );
    for private in ["owner@harbor.test", "4155552671", code.as_str(), "Harbor"] {
        assert!(!text.contains(private), "{private} is in the metrics");
    }
    // Random paths share one label.
    c.get("/nope/0123").await;
    let (_, text) = scrape(&c).await;
    assert!(text.contains(r#"route="unmatched""#) && !text.contains("/nope"));
}

#[tokio::test]
async fn addresses_outside_the_allow_list_are_refused() {
    let app = TestApp::with_args(Dialect::Sqlite, &["--metrics-allow", "10.0.0.0/8"]).await;
    let (status, _) = scrape(&app.client()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}
