//! The first run through the API.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::{Dialect, PASSWORD, TestApp, code, refused_fields};

crate::on_both_databases!(
    the_first_run_creates_the_practice_and_signs_the_owner_in,
    the_first_run_happens_once,
    two_concurrent_first_runs_make_one_practice,
    bad_first_run_input_changes_nothing,
    a_first_run_refused_for_several_values_names_every_one,
);

async fn the_first_run_creates_the_practice_and_signs_the_owner_in(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    let (status, me) = owner.get("/api/v1/me").await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["user"]["role"], "owner");
    assert_eq!(me["user"]["email"], "owner@harbor.test");
    assert_eq!(me["user"]["practice"]["name"], "Harbor Counseling");
    assert_eq!(
        me["two_factor"],
        json!({"enabled": false, "channel": null, "phone": null, "required": false,
               "methods": [], "preferred": null, "recovery_codes_left": 0})
    );
}

async fn the_first_run_happens_once(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    app.with_practice().await;
    let (status, body) = app
        .client()
        .post(
            "/api/v1/setup",
            json!({"practice_name": "Other", "owner": {"email": "x@other.test", "name": "X", "password": PASSWORD}}),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::CONFLICT, "already_set_up")
    );
}

async fn two_concurrent_first_runs_make_one_practice(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let body = |n: u32| {
        json!({"practice_name": format!("Practice {n}"),
               "owner": {"email": format!("owner{n}@x.test"), "name": "Owner", "password": PASSWORD}})
    };
    let (a, b) = (app.client(), app.client());
    let ((sa, _), (sb, _)) = tokio::join!(
        a.post("/api/v1/setup", body(1)),
        b.post("/api/v1/setup", body(2))
    );
    let mut statuses = [sa.as_u16(), sb.as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 409]);
}

async fn bad_first_run_input_changes_nothing(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let c = app.client();
    let cases = [
        (
            json!({"practice_name": "P", "owner": {"email": "nope", "name": "N", "password": PASSWORD}}),
            "invalid_email",
        ),
        (
            json!({"practice_name": "P", "owner": {"email": "a@b.test", "name": "N", "password": "password123"}}),
            "weak_password",
        ),
        (
            json!({"practice_name": "", "owner": {"email": "a@b.test", "name": "N", "password": PASSWORD}}),
            "invalid_request",
        ),
        (
            json!({"practice_name": "P", "country": "ZZ", "owner": {"email": "a@b.test", "name": "N", "password": PASSWORD}}),
            "invalid_request",
        ),
        (json!({"practice_name": "P"}), "invalid_request"),
        (
            json!({"practice_name": 7, "owner": {"email": "a@b.test", "name": "N", "password": PASSWORD}}),
            "invalid_request",
        ),
    ];
    for (body, expected) in cases {
        let (status, answer) = c.post("/api/v1/setup", body.clone()).await;
        assert_eq!(
            (status, code(&answer)),
            (StatusCode::BAD_REQUEST, expected),
            "{body}"
        );
        assert!(
            answer["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }
    assert!(
        app.latch().setup.needs_first_run().await.unwrap(),
        "nothing was created"
    );
}

/// Every value refused at once, each with its field and sentence, in the body's order; the code
/// and status are the first one's.
async fn a_first_run_refused_for_several_values_names_every_one(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let (status, answer) = app
        .client()
        .post(
            "/api/v1/setup",
            json!({"practice_name": "", "country": "ZZ",
                   "owner": {"email": "nope", "name": " ", "password": "password123"}}),
        )
        .await;
    assert_eq!(
        (status, code(&answer)),
        (StatusCode::BAD_REQUEST, "invalid_request"),
        "{answer}"
    );
    assert_eq!(
        refused_fields(&answer),
        [
            "practice_name",
            "country",
            "owner.email",
            "owner.name",
            "owner.password"
        ]
    );
    let message = answer["error"]["message"].as_str().unwrap();
    for f in answer["error"]["fields"].as_array().unwrap() {
        let sentence = f["message"].as_str().unwrap();
        assert!(
            !sentence.is_empty() && message.contains(sentence),
            "{answer}"
        );
    }
    assert!(app.latch().setup.needs_first_run().await.unwrap());

    // A single refusal keeps its own code, and names its field too.
    let (status, answer) = app
        .client()
        .post(
            "/api/v1/setup",
            json!({"practice_name": "P", "owner": {"email": "nope", "name": "N", "password": PASSWORD}}),
        )
        .await;
    assert_eq!(
        (status, code(&answer)),
        (StatusCode::BAD_REQUEST, "invalid_email")
    );
    assert_eq!(answer["error"]["fields"][0]["field"], "owner.email");
}
