//! A person's own account: password change and open sessions.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::{Dialect, PASSWORD, TestApp, code, refused_fields};

crate::on_both_databases!(
    changing_the_password_ends_every_other_session,
    a_password_change_needs_the_current_password_and_a_strong_new_one,
    a_person_sees_and_ends_their_own_sessions_only,
);

async fn changing_the_password_ends_every_other_session(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    let other = app.client();
    assert_eq!(
        other.sign_in("owner@harbor.test", PASSWORD).await.0,
        StatusCode::OK
    );

    let (status, body) = owner
        .put(
            "/api/v1/me/password",
            json!({"current_password": PASSWORD, "new_password": "violet tractor sandwich"}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(
        owner.get("/api/v1/me").await.0,
        StatusCode::OK,
        "this session goes on"
    );
    assert_eq!(
        other.get("/api/v1/me").await.0,
        StatusCode::UNAUTHORIZED,
        "the other one ended"
    );
    assert_eq!(
        app.client().sign_in("owner@harbor.test", PASSWORD).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.client()
            .sign_in("owner@harbor.test", "violet tractor sandwich")
            .await
            .0,
        StatusCode::OK
    );
}

async fn a_password_change_needs_the_current_password_and_a_strong_new_one(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    let (status, body) = owner
        .put("/api/v1/me/password", json!({"current_password": "wrong password!", "new_password": "violet tractor sandwich"}))
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNAUTHORIZED, "invalid_credentials"),
        "{body}"
    );
    let (status, body) = owner
        .put(
            "/api/v1/me/password",
            json!({"current_password": PASSWORD, "new_password": "harborcounseling"}),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "weak_password"),
        "{body}"
    );
    assert_eq!(
        refused_fields(&body),
        ["new_password"],
        "the field of this body: {body}"
    );
    let (status, body) = app.client().sign_in("owner@harbor.test", PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "unchanged: {body}");
}

async fn a_person_sees_and_ends_their_own_sessions_only(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    let laptop = app.client();
    laptop.sign_in("owner@harbor.test", PASSWORD).await;
    let (staff, _) = app.person(&owner, "staff", "sam@harbor.test").await;

    let (status, body) = owner.get("/api/v1/me/sessions").await;
    assert_eq!(status, StatusCode::OK);
    let sessions = body["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2);
    assert_eq!(sessions.iter().filter(|s| s["current"] == true).count(), 1);
    assert!(
        sessions
            .iter()
            .all(|s| s["ip"] == "127.0.0.1" && s["label"].is_string())
    );
    let other_id = sessions.iter().find(|s| s["current"] == false).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let (_, staff_sessions) = staff.get("/api/v1/me/sessions").await;
    let staff_session = staff_sessions["sessions"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, body) = owner
        .delete(&format!("/api/v1/me/sessions/{staff_session}"))
        .await;
    assert_eq!((status, code(&body)), (StatusCode::NOT_FOUND, "not_found"));
    assert_eq!(
        staff.get("/api/v1/me").await.0,
        StatusCode::OK,
        "someone else's session stays"
    );

    assert_eq!(
        owner
            .delete(&format!("/api/v1/me/sessions/{other_id}"))
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(laptop.get("/api/v1/me").await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(owner.get("/api/v1/me").await.0, StatusCode::OK);
}
