//! Two latch nodes on one database: any node answers any request of any sign-in, because
//! every piece of state that matters lives in the database.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::{Client, Dialect, PASSWORD, TestApp, code};

const PHONE: &str = "+14155552671";
const OWNER: &str = "owner@harbor.test";

crate::on_both_databases!(
    a_sign_in_begun_on_one_node_finishes_on_the_other,
    a_resend_on_b_within_the_wait_of_a_send_on_a_is_refused,
    wrong_codes_split_across_nodes_lock_after_ten,
    twenty_right_codes_split_across_nodes_let_exactly_one_in,
    a_device_remembered_through_a_is_recognised_by_b,
);

async fn owner_with_two_factor(app: &TestApp) {
    let owner = app.with_practice().await;
    app.turn_on_two_factor(&owner, PHONE).await;
}

async fn pending(app: &TestApp) -> Client {
    let c = app.client();
    assert_eq!(
        c.sign_in(OWNER, PASSWORD).await.1["state"],
        "two_factor_required"
    );
    c
}

fn verify_body(code: &str, remember: bool) -> serde_json::Value {
    json!({"code": code, "remember_device": remember})
}

async fn a_sign_in_begun_on_one_node_finishes_on_the_other(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    owner_with_two_factor(&app).await;
    let (b, _node) = app.second_node().await;
    let on_a = pending(&app).await;
    let on_b = on_a.on(&b);
    let (status, body) = on_b
        .post(
            "/api/v1/session/verify",
            verify_body(&app.last_code_to(PHONE).await, false),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        on_a.get("/api/v1/me").await.0,
        StatusCode::OK,
        "and node A knows it"
    );
}

async fn a_resend_on_b_within_the_wait_of_a_send_on_a_is_refused(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    owner_with_two_factor(&app).await;
    let (b, _node) = app.second_node().await;
    let on_a = pending(&app).await;
    let (status, body) = on_a.on(&b).post("/api/v1/session/resend", json!({})).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::TOO_MANY_REQUESTS, "rate_limited")
    );
}

async fn wrong_codes_split_across_nodes_lock_after_ten(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    owner_with_two_factor(&app).await;
    let (b, _node) = app.second_node().await;
    let mut last = (StatusCode::OK, json!(null));
    for round in 0..2 {
        let on_a = pending(&app).await;
        let right = app.last_code_to(PHONE).await;
        let wrong = format!("{}{}", &right[..7], (right.as_bytes()[7] - b'0' + 1) % 10);
        for i in 0..5 {
            let node = if (round + i) % 2 == 0 {
                on_a.clone()
            } else {
                on_a.on(&b)
            };
            last = node
                .post("/api/v1/session/verify", verify_body(&wrong, false))
                .await;
        }
    }
    assert_eq!(
        (last.0, code(&last.1)),
        (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
        "locked after ten"
    );
}

async fn twenty_right_codes_split_across_nodes_let_exactly_one_in(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    owner_with_two_factor(&app).await;
    let (b, _node) = app.second_node().await;
    let on_a = pending(&app).await;
    let right = app.last_code_to(PHONE).await;
    let attempts: Vec<_> = (0..20)
        .map(|i| {
            let c = if i % 2 == 0 {
                on_a.clone()
            } else {
                on_a.on(&b)
            };
            let right = right.clone();
            tokio::spawn(async move {
                c.post("/api/v1/session/verify", verify_body(&right, false))
                    .await
                    .0
            })
        })
        .collect();
    let mut won = 0;
    for a in attempts {
        if a.await.unwrap() == StatusCode::OK {
            won += 1;
        }
    }
    assert_eq!(won, 1);
}

async fn a_device_remembered_through_a_is_recognised_by_b(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    owner_with_two_factor(&app).await;
    let (b, _node) = app.second_node().await;
    let on_a = pending(&app).await;
    on_a.post(
        "/api/v1/session/verify",
        verify_body(&app.last_code_to(PHONE).await, true),
    )
    .await;
    on_a.delete("/api/v1/session").await;
    let (status, body) = on_a.on(&b).sign_in(OWNER, PASSWORD).await;
    assert_eq!(
        (status, &body["state"]),
        (StatusCode::OK, &json!("signed_in")),
        "{body}"
    );
}

/// A load balancer of the test's own: each request goes to the first node that answers.
async fn through_balancer(
    nodes: &std::sync::Mutex<Vec<String>>,
    client: &Client,
    email: &str,
) -> StatusCode {
    let list = nodes.lock().unwrap().clone();
    for base in list.iter().cycle().take(list.len() * 20) {
        let attempt = client
            .http
            .post(format!("{base}/api/v1/session"))
            .json(&json!({"email": email, "password": PASSWORD}))
            .send()
            .await;
        match attempt {
            Ok(response) => return response.status(),
            // This node is going away: the balancer tries the next.
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
        }
    }
    panic!("no node answered");
}

#[tokio::test]
async fn a_rolling_restart_of_two_nodes_under_load_loses_no_sign_in() {
    let mut app = TestApp::new(Dialect::Sqlite).await;
    let owner = app.with_practice().await;
    for i in 0..4 {
        app.person(&owner, "staff", &format!("s{i}@harbor.test"))
            .await;
    }
    let (b, node_b) = app.second_node().await;
    let nodes = std::sync::Arc::new(std::sync::Mutex::new(vec![app.base.clone(), b.clone()]));
    let load = {
        let nodes = nodes.clone();
        let client = app.client();
        tokio::spawn(async move {
            let mut statuses = Vec::new();
            for _ in 0..15 {
                let signings: Vec<_> = (0..4)
                    .map(|i| {
                        let (nodes, client) = (nodes.clone(), client.clone());
                        tokio::spawn(async move {
                            through_balancer(&nodes, &client, &format!("s{i}@harbor.test")).await
                        })
                    })
                    .collect();
                for s in signings {
                    statuses.push(s.await.unwrap());
                }
                tokio::time::sleep(std::time::Duration::from_millis(30)).await;
            }
            statuses
        })
    };
    // Node A restarts (graceful stop, then up again on its port), then node B goes away and a
    // new B joins.
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    app.restart().await;
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    node_b.stop().await;
    let (b2, _node_b2) = app.second_node().await;
    nodes.lock().unwrap().retain(|n| n != &b);
    nodes.lock().unwrap().push(b2);
    let statuses = load.await.unwrap();
    assert_eq!(statuses.len(), 60);
    assert!(
        statuses.iter().all(|s| *s == StatusCode::OK),
        "{statuses:?}"
    );
}
