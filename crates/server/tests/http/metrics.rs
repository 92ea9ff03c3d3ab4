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

/// A request refused for its values is answered before any password is hashed: hashing is
/// what a flood of bad requests would otherwise cost the machine.
#[tokio::test]
async fn refused_requests_cost_no_password_hash() {
    let app = TestApp::new(Dialect::Sqlite).await;
    let c = app.client();
    let hashes = |text: &str| sample(text, "latch_password_hashes ");
    let before = hashes(&scrape(&c).await.1);
    let (status, _) = c
        .post(
            "/api/v1/setup",
            json!({"practice_name": "", "country": "ZZ",
                   "owner": {"email": "nope", "name": "Olive", "password": PASSWORD}}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(hashes(&scrape(&c).await.1), before, "refused: no hash");

    let owner = app.with_practice().await;
    let after_setup = hashes(&scrape(&c).await.1);
    assert!(
        after_setup > before,
        "a first run hashes the owner's password"
    );
    for (email, role) in [("nope", "staff"), ("sam@harbor.test", "boss")] {
        let person = json!({"email": email, "name": "Sam", "role": role, "password": PASSWORD});
        let (status, _) = owner.post("/api/v1/practice/users", person).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{email} {role}");
    }
    assert_eq!(hashes(&scrape(&c).await.1), after_setup, "refused: no hash");
    let (status, _) = owner
        .post(
            "/api/v1/practice/users",
            json!({"email": "sam@harbor.test", "name": "Sam", "role": "staff", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(hashes(&scrape(&c).await.1), after_setup + 1.0);
}

#[tokio::test]
async fn addresses_outside_the_allow_list_are_refused() {
    let app = TestApp::with_args(Dialect::Sqlite, &["--metrics-allow", "10.0.0.0/8"]).await;
    let (status, _) = scrape(&app.client()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}
