//! The practice's people through the API, with every role against every action.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::{Dialect, PASSWORD, TestApp, code, refused_fields};

crate::on_both_databases!(
    owners_add_every_role_and_managers_only_staff_and_clients,
    staff_and_clients_cannot_see_or_add_people,
    an_email_in_use_anywhere_is_taken_whatever_its_case,
    bad_people_are_refused_with_their_own_codes,
    a_person_refused_for_several_values_is_told_every_one,
    people_are_listed_and_filtered,
    another_practices_people_do_not_exist,
    two_concurrent_adds_of_one_email_make_one_person,
);

fn person(email: &str, role: &str) -> serde_json::Value {
    json!({"email": email, "name": "New Person", "role": role, "password": PASSWORD})
}

async fn owners_add_every_role_and_managers_only_staff_and_clients(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    for (i, role) in ["owner", "manager", "staff", "client"]
        .into_iter()
        .enumerate()
    {
        let (status, body) = owner
            .post(
                "/api/v1/practice/users",
                person(&format!("o{i}@harbor.test"), role),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{role}: {body}");
        assert_eq!(body["user"]["role"], role);
    }
    let (manager, _) = app.person(&owner, "manager", "morgan@harbor.test").await;
    for (i, role) in ["staff", "client"].into_iter().enumerate() {
        assert_eq!(
            manager
                .post(
                    "/api/v1/practice/users",
                    person(&format!("m{i}@harbor.test"), role)
                )
                .await
                .0,
            StatusCode::CREATED
        );
    }
    for role in ["owner", "manager"] {
        let (status, body) = manager
            .post("/api/v1/practice/users", person("mx@harbor.test", role))
            .await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::FORBIDDEN, "forbidden"),
            "a manager adding {role}"
        );
    }
}

async fn staff_and_clients_cannot_see_or_add_people(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    let (staff, owner_id) = {
        let (_, me) = owner.get("/api/v1/me").await;
        (
            app.person(&owner, "staff", "sam@harbor.test").await.0,
            me["user"]["id"].as_str().unwrap().to_owned(),
        )
    };
    let (client, _) = app.person(&owner, "client", "casey@harbor.test").await;
    for who in [&staff, &client] {
        assert_eq!(
            code(&who.get("/api/v1/practice/users").await.1),
            "forbidden"
        );
        assert_eq!(
            code(
                &who.get(&format!("/api/v1/practice/users/{owner_id}"))
                    .await
                    .1
            ),
            "forbidden"
        );
        let (status, body) = who
            .post("/api/v1/practice/users", person("x@harbor.test", "client"))
            .await;
        assert_eq!((status, code(&body)), (StatusCode::FORBIDDEN, "forbidden"));
    }
    assert_eq!(
        app.client().get("/api/v1/practice/users").await.0,
        StatusCode::UNAUTHORIZED
    );
}

async fn an_email_in_use_anywhere_is_taken_whatever_its_case(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    let (status, body) = owner
        .post(
            "/api/v1/practice/users",
            person("OWNER@Harbor.test", "staff"),
        )
        .await;
    assert_eq!((status, code(&body)), (StatusCode::CONFLICT, "email_taken"));
}

async fn bad_people_are_refused_with_their_own_codes(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    let cases = [
        (person("a@harbor.test", "admin"), "invalid_role"),
        (person("not-an-email", "staff"), "invalid_email"),
        (
            json!({"email": "a@harbor.test", "name": "A", "role": "staff", "password": "short"}),
            "weak_password",
        ),
        (
            json!({"email": "a@harbor.test", "name": "", "role": "staff", "password": PASSWORD}),
            "invalid_request",
        ),
        (
            json!({"email": "a@harbor.test", "role": "staff", "password": PASSWORD}),
            "invalid_request",
        ),
    ];
    for (body, expected) in cases {
        let (status, answer) = owner.post("/api/v1/practice/users", body.clone()).await;
        assert_eq!(
            (status, code(&answer)),
            (StatusCode::BAD_REQUEST, expected),
            "{body}"
        );
    }
    let (_, list) = owner.get("/api/v1/practice/users").await;
    assert_eq!(
        list["users"].as_array().unwrap().len(),
        1,
        "nobody was added"
    );
}

async fn people_are_listed_and_filtered(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    let (_, staff_id) = app.person(&owner, "staff", "sam@harbor.test").await;
    app.person(&owner, "client", "casey@harbor.test").await;

    let (status, body) = owner.get("/api/v1/practice/users").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["users"].as_array().unwrap().len(), 3);
    let (_, clients) = owner.get("/api/v1/practice/users?role=client").await;
    assert_eq!(clients["users"].as_array().unwrap().len(), 1);
    assert_eq!(clients["users"][0]["email"], "casey@harbor.test");
    let (_, off) = owner.get("/api/v1/practice/users?two_factor=off").await;
    assert_eq!(off["users"].as_array().unwrap().len(), 3);
    let (status, body) = owner.get("/api/v1/practice/users?role=boss").await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "invalid_role")
    );

    let (status, sam) = owner
        .get(&format!("/api/v1/practice/users/{staff_id}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(sam["role"], "staff");
    assert_eq!(sam["status"], "active");
    assert_eq!(sam["remembered_devices"], 0);
    assert!(
        sam["last_sign_in_at"].is_string(),
        "sam signed in when added: {sam}"
    );
    assert!(sam.get("password_hash").is_none());
}

async fn another_practices_people_do_not_exist(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    let other = app
        .latch()
        .setup
        .create_practice(latch_app::setup::PracticeInput {
            practice_name: "Other Practice".into(),
            country: Some("CA".into()),
            time_zone: None,
            owner_email: "owner@other.test".into(),
            owner_name: "Other Owner".into(),
            owner_password: latch_app::Secret::new(PASSWORD),
        })
        .await
        .unwrap();
    let (status, body) = owner
        .get(&format!("/api/v1/practice/users/{}", other.person.id))
        .await;
    assert_eq!((status, code(&body)), (StatusCode::NOT_FOUND, "not_found"));
    let (_, list) = owner.get("/api/v1/practice/users").await;
    assert!(
        list["users"]
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u["email"] != "owner@other.test")
    );
}

async fn two_concurrent_adds_of_one_email_make_one_person(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    let ((a, _), (b, _)) = tokio::join!(
        owner.post(
            "/api/v1/practice/users",
            person("twin@harbor.test", "staff")
        ),
        owner.post(
            "/api/v1/practice/users",
            person("TWIN@harbor.test", "client")
        ),
    );
    let mut statuses = [a.as_u16(), b.as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 409]);
}

/// An email in use, an unknown role and a weak password at once: each refusal comes back with
/// its field, the first one's code leads, and nobody is added.
async fn a_person_refused_for_several_values_is_told_every_one(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    let (status, answer) = owner
        .post(
            "/api/v1/practice/users",
            json!({"email": "owner@harbor.test", "name": "A", "role": "admin", "password": "password123"}),
        )
        .await;
    assert_eq!(
        (status, code(&answer)),
        (StatusCode::BAD_REQUEST, "invalid_role"),
        "{answer}"
    );
    assert_eq!(refused_fields(&answer), ["role", "email", "password"]);
    let (_, list) = owner.get("/api/v1/practice/users").await;
    assert_eq!(
        list["users"].as_array().unwrap().len(),
        1,
        "nobody was added"
    );
}
