//! The demo practice and an owner's first dashboard: who the demo makes, the story its audit
//! trail tells, and the next steps an owner is shown until they are done.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::{Client, Dialect, TestApp};

crate::on_both_databases!(
    the_demo_has_its_people_someone_enrolled_and_a_story_in_the_trail,
    an_owner_is_shown_next_steps_until_each_is_done,
);

async fn dashboard(c: &Client) -> String {
    let response = c.http.get(c.url("/dashboard")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.text().await.unwrap()
}

async fn the_demo_has_its_people_someone_enrolled_and_a_story_in_the_trail(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let demo = latch::demo::seed(app.latch()).await.unwrap();
    let roles: Vec<&str> = demo.people.iter().map(|p| p.role).collect();
    assert_eq!(roles, ["owner", "manager", "staff", "client"]);
    let enrolled: Vec<&str> = demo
        .people
        .iter()
        .filter(|p| p.enrolled)
        .map(|p| p.role)
        .collect();
    assert_eq!(enrolled, ["staff"]);

    let owner = &demo.people[0];
    let c = app.client();
    let (status, body) = c.sign_in(owner.email, owner.password.expose()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, people) = c.get("/api/v1/practice/users").await;
    let staff = people["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["email"] == "staff@demo.latch.test")
        .unwrap();
    assert_eq!(staff["two_factor"]["enabled"], true, "{staff}");
    let (_, audit) = c.get("/api/v1/practice/audit?limit=100").await;
    let kinds: Vec<&str> = audit["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    for kind in [
        "practice.created",
        "person.added",
        "code.sent",
        "code.verified",
        "two_factor.enabled",
        "sign_in.failed",
    ] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }
    // The staff member signs in from a new browser with a code, as the demo says.
    let staff = &demo.people[2];
    let (status, body) = app
        .client()
        .sign_in(staff.email, staff.password.expose())
        .await;
    assert_eq!(
        (status, body["state"].as_str()),
        (StatusCode::OK, Some("two_factor_required"))
    );
}

async fn an_owner_is_shown_next_steps_until_each_is_done(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    let html = dashboard(&owner).await;
    assert!(html.contains("Next steps for your practice"), "{html}");
    for (step, href) in [
        ("Add your team", "/team"),
        ("Require two-factor", "/practice/settings"),
        ("Turn on your own two-factor", "/profile/two-factor"),
    ] {
        assert!(
            html.contains(&format!(r#"<a class="row-link" href="{href}">"#)) && html.contains(step),
            "{step} is open"
        );
    }
    let (staff, _) = app.person(&owner, "staff", "sam@harbor.test").await;
    assert!(
        !dashboard(&staff).await.contains("Next steps"),
        "only an owner is shown them"
    );
    let html = dashboard(&owner).await;
    assert!(
        !html.contains(r#"<a class="row-link" href="/team">"#),
        "the team is added"
    );
    let (status, body) = owner
        .change_security(json!({"require_two_factor": "staff"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.turn_on_two_factor(&owner, "+14155552671").await;
    let html = dashboard(&owner).await;
    assert!(!html.contains("Next steps"), "all three done: {html}");
}
