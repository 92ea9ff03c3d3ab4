//! A request whose client goes away before the answer still finishes: its use case is not cut
//! off at whatever statement it was awaiting.

use std::time::Duration;

use latch_app::PersonId;
use latch_app::clock::Clock;
use latch_app::ports::Store;
use reqwest::StatusCode;
use serde_json::json;

use crate::support::{Dialect, PASSWORD, TestApp};

crate::on_both_databases!(a_sign_in_whose_client_went_away_still_finishes);

async fn a_sign_in_whose_client_went_away_still_finishes(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    let (_, me) = owner.get("/api/v1/me").await;
    let owner_id = PersonId::from_stored(me["user"]["id"].as_str().unwrap());
    let signed_in = |events: &serde_json::Value| events["events"].as_array().unwrap().len();
    let audit = "/api/v1/practice/audit?kind=sign_in.succeeded";
    let before = signed_in(&owner.get(audit).await.1);

    // A unit of the test's own holds what the sign-in must write next (SQLite's writer, the
    // owner's row on PostgreSQL), so the sign-in waits there while its client gives up.
    let holding = app.db.begin().await.unwrap();
    holding
        .record_sign_in(&owner_id, app.clock.now())
        .await
        .unwrap();
    let abandoned = app.client();
    let gave_up = tokio::time::timeout(
        Duration::from_millis(300),
        abandoned.post(
            "/api/v1/session",
            json!({"email": "owner@harbor.test", "password": PASSWORD}),
        ),
    )
    .await;
    assert!(gave_up.is_err(), "the client gave up before the answer");
    drop(abandoned);
    tokio::time::sleep(Duration::from_millis(200)).await;
    drop(holding);

    // The sign-in went on without its client, to its end.
    let mut after = before;
    for _ in 0..50 {
        after = signed_in(&owner.get(audit).await.1);
        if after > before {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(after, before + 1, "the abandoned sign-in was recorded");
    let (status, _) = owner.get("/api/v1/me").await;
    assert_eq!(status, StatusCode::OK);
}
