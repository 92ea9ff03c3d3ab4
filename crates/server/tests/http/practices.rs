//! One installation, many practices: whatever is addressed by id (a person, a session, a
//! remembered device) does not exist for another practice's people, in the API and the pages,
//! and never shows in their lists, filters or audit trail.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{Client, Dialect, PASSWORD, TestApp, code, csrf_of};

crate::on_both_databases!(another_practices_ids_are_not_found_anywhere);

const THEIR_PHONE: &str = "+14155552688";

fn ids(list: &Value, field: &str) -> Vec<String> {
    list[field]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_owned())
        .collect()
}

/// A form post's answer, after its redirect: every form post answers with one.
async fn form_post(c: &Client, path: &str, form: &[(&str, &str)]) -> StatusCode {
    c.submit_and_follow(path, form).await.1
}

async fn another_practices_ids_are_not_found_anywhere(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    // The other practice: its owner with two-factor, a remembered browser and two sessions.
    let theirs = app.other_practice().await;
    app.turn_on_two_factor(&theirs, THEIR_PHONE).await;
    let desk = app.client();
    desk.sign_in("owner@other.test", PASSWORD).await;
    let (status, _) = desk
        .post(
            "/api/v1/session/verify",
            json!({"code": app.last_code_to(THEIR_PHONE).await, "remember_device": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, me) = theirs.get("/api/v1/me").await;
    let their_id = me["user"]["id"].as_str().unwrap().to_owned();
    let session_ids = ids(&theirs.get("/api/v1/me/sessions").await.1, "sessions");
    let device_ids = ids(&theirs.get("/api/v1/me/devices").await.1, "devices");
    assert_eq!((session_ids.len(), device_ids.len()), (2, 1));
    let (_, their_trail) = theirs.get("/api/v1/practice/audit?limit=500").await;
    let their_event = their_trail["events"][0]["id"].clone();

    owner
        .post(
            "/api/v1/session/reauthenticate",
            json!({"password": PASSWORD}),
        )
        .await;
    let person = format!("/api/v1/practice/users/{their_id}");
    let not_found = [
        owner.get(&person).await,
        owner.delete(&format!("{person}/two-factor")).await,
        owner.post(&format!("{person}/unlock"), json!({})).await,
        owner
            .delete(&format!("/api/v1/me/sessions/{}", session_ids[0]))
            .await,
        owner
            .delete(&format!("/api/v1/me/devices/{}", device_ids[0]))
            .await,
    ];
    for (status, body) in &not_found {
        assert_eq!(
            (*status, code(body)),
            (StatusCode::NOT_FOUND, "not_found"),
            "{body}"
        );
    }

    let (_, html) = owner.send(owner.http.get(owner.url("/team"))).await;
    let csrf = csrf_of(html.as_str().unwrap());
    let page = owner
        .http
        .get(owner.url(&format!("/team/{their_id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
    for (path, form) in [
        (
            format!("/team/{their_id}/help"),
            vec![
                ("csrf", csrf.as_str()),
                ("action", "reset"),
                ("password", PASSWORD),
            ],
        ),
        (
            format!("/profile/sessions/{}/end", session_ids[1]),
            vec![("csrf", csrf.as_str())],
        ),
        (
            format!("/profile/devices/{}/forget", device_ids[0]),
            vec![("csrf", csrf.as_str())],
        ),
    ] {
        assert_eq!(
            form_post(&owner, &path, &form).await,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }

    // Nothing of theirs in our lists, filters or trail, and nothing of theirs was touched.
    let (_, people) = owner.get("/api/v1/practice/users").await;
    assert!(!ids(&people, "users").contains(&their_id));
    let (_, filtered) = owner
        .get(&format!("/api/v1/practice/audit?subject={their_id}"))
        .await;
    assert_eq!(filtered["events"], json!([]));
    let (_, ours) = owner.get("/api/v1/practice/audit?limit=500").await;
    for event in ours["events"].as_array().unwrap() {
        assert_ne!(event["subject"], their_id.as_str(), "{event}");
        assert_ne!(event["actor"], their_id.as_str(), "{event}");
        assert_ne!(event["id"], their_event);
    }
    assert_eq!(theirs.get("/api/v1/me").await.0, StatusCode::OK);
    assert_eq!(desk.get("/api/v1/me").await.0, StatusCode::OK);
    assert_eq!(
        ids(&theirs.get("/api/v1/me/devices").await.1, "devices"),
        device_ids
    );
    let (_, them) = theirs.get("/api/v1/me").await;
    assert_eq!(them["two_factor"]["enabled"], true);
}
