//! The HTML pages over HTTP: forms carry a CSRF token, pages need a session, roles see their menu.

use reqwest::StatusCode;

use crate::support::{Client, Dialect, PASSWORD, TestApp};

crate::on_both_databases!(
    a_form_without_its_token_is_refused,
    a_person_signs_in_through_the_page_and_sees_their_dashboard,
    staff_and_clients_see_no_administration,
    a_wrong_password_on_the_page_says_so_next_to_the_form,
    the_first_run_form_shows_every_refused_field_at_once,
    the_add_a_person_form_shows_every_refused_field_at_once,
    the_phone_step_offers_only_the_countries_the_practice_allows,
    team_says_who_the_rule_covers_and_has_not_set_it_up,
    every_page_goes_by_the_products_name,
);

async fn page(c: &Client, path: &str) -> (StatusCode, String) {
    let response = c.http.get(c.url(path)).send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

fn csrf_of(html: &str) -> String {
    let start =
        html.find(r#"name="csrf" value=""#).expect("a csrf field") + r#"name="csrf" value=""#.len();
    html[start..start + 64].to_owned()
}

async fn submit(c: &Client, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
    c.http.post(c.url(path)).form(form).send().await.unwrap()
}

/// Opens the sign-in page and sends its form with the page's own token.
async fn sign_in_on_page(c: &Client, email: &str, password: &str) -> reqwest::Response {
    let (_, html) = page(c, "/sign-in").await;
    submit(
        c,
        "/sign-in",
        &[
            ("csrf", &csrf_of(&html)),
            ("email", email),
            ("password", password),
        ],
    )
    .await
}

async fn a_form_without_its_token_is_refused(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    app.with_practice().await;
    let c = app.client();
    let (_, html) = page(&c, "/sign-in").await;
    let token = csrf_of(&html);
    let response = submit(
        &c,
        "/sign-in",
        &[("email", "owner@harbor.test"), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let forged = "0".repeat(64);
    let response = submit(
        &c,
        "/sign-in",
        &[
            ("csrf", &forged),
            ("email", "owner@harbor.test"),
            ("password", PASSWORD),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(c.session_cookie().is_none(), "no session was opened");

    let stranger = app.client();
    let response = submit(
        &stranger,
        "/sign-in",
        &[
            ("csrf", &token),
            ("email", "owner@harbor.test"),
            ("password", PASSWORD),
        ],
    )
    .await;
    assert_eq!(
        response.status(),
        StatusCode::FORBIDDEN,
        "a token belongs to its own browser"
    );
}

async fn a_person_signs_in_through_the_page_and_sees_their_dashboard(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    app.with_practice().await;
    let c = app.client();
    let response = c.http.get(c.url("/dashboard")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()["location"], "/sign-in");

    let response = sign_in_on_page(&c, "owner@harbor.test", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()["location"], "/dashboard");
    let (status, html) = page(&c, "/dashboard").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("Olivia Owner")
            && html.contains("Practice Settings")
            && html.contains("Team")
    );

    for path in ["/profile", "/team", "/practice/settings"] {
        assert_eq!(page(&c, path).await.0, StatusCode::OK, "{path}");
    }
    let (_, html) = page(&c, "/profile").await;
    let response = submit(&c, "/sign-out", &[("csrf", &csrf_of(&html))]).await;
    assert_eq!(response.headers()["location"], "/sign-in?done=signed-out");
    assert_eq!(c.get("/api/v1/me").await.0, StatusCode::UNAUTHORIZED);
    let (_, html) = page(&c, "/sign-in?done=signed-out").await;
    assert!(html.contains("You’re signed out."), "{html}");
    let (_, html) = page(&c, "/sign-in").await;
    assert!(!html.contains("You’re signed out."));
}

async fn staff_and_clients_see_no_administration(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    let (client, _) = app.person(&owner, "client", "casey@harbor.test").await;
    let (status, html) = page(&client, "/dashboard").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Account Set Up") && html.contains("Enable Two-Factor Auth"));
    assert!(!html.contains("Practice Settings") && !html.contains(">Team<"));
    assert_eq!(page(&client, "/team").await.0, StatusCode::FORBIDDEN);
    let (staff, _) = app.person(&owner, "staff", "sam@harbor.test").await;
    assert_eq!(
        page(&staff, "/practice/settings").await.0,
        StatusCode::FORBIDDEN
    );
}

async fn a_wrong_password_on_the_page_says_so_next_to_the_form(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    app.with_practice().await;
    let c = app.client();
    let response = sign_in_on_page(&c, "owner@harbor.test", "nope nope nope").await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let html = response.text().await.unwrap();
    assert!(html.contains("The email or password is not correct."));
    assert!(
        html.contains(r#"value="owner@harbor.test""#),
        "the email is kept"
    );
    assert!(!html.contains("nope nope nope"), "the password is not");
}

/// A first run with a bad name, a bad email and a weak password: one answer shows all three,
/// each beside its own field, and keeps what was typed.
async fn the_first_run_form_shows_every_refused_field_at_once(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let c = app.client();
    let (_, html) = page(&c, "/setup").await;
    let response = submit(
        &c,
        "/setup",
        &[
            ("csrf", &csrf_of(&html)),
            ("setup_token", ""),
            ("practice_name", "Harbor Counseling"),
            ("country", "US"),
            ("name", " "),
            ("email", "owner-at-harbor"),
            ("password", "short"),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let html = response.text().await.unwrap();
    for field in ["name", "email", "password"] {
        assert!(
            html.contains(&format!(r#"<p class="field-error" id="{field}-error">"#)),
            "{field} is refused beside it: {html}"
        );
    }
    assert!(!html.contains(r#"id="practice_name-error""#));
    assert!(
        html.contains(r#"value="Harbor Counseling""#),
        "what was typed stays"
    );
    assert!(app.latch().setup.needs_first_run().await.unwrap());
}

/// Adding a person with an email in use and a weak password: both are shown, each beside its
/// field, and nobody is added.
async fn the_add_a_person_form_shows_every_refused_field_at_once(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    let c = app.client();
    sign_in_on_page(&c, "owner@harbor.test", PASSWORD).await;
    let (_, html) = page(&c, "/team").await;
    let response = submit(
        &c,
        "/team",
        &[
            ("csrf", &csrf_of(&html)),
            ("role", "staff"),
            ("name", "Sam Staff"),
            ("email", "OWNER@harbor.test"),
            ("password", "short"),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let html = response.text().await.unwrap();
    for field in ["email", "password"] {
        assert!(
            html.contains(&format!(r#"<p class="field-error" id="{field}-error">"#)),
            "{field} is refused beside it: {html}"
        );
    }
    assert!(html.contains("already in use"), "{html}");
    let (_, list) = owner.get("/api/v1/practice/users").await;
    assert_eq!(
        list["users"].as_array().map(Vec::len),
        Some(1),
        "nobody was added"
    );
}

async fn the_phone_step_offers_only_the_countries_the_practice_allows(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    let (status, body) = owner
        .change_security(serde_json::json!({"allowed_countries": ["US", "CA"]}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, html) = page(&owner, "/profile/two-factor").await;
    let step = submit(
        &owner,
        "/profile/two-factor/password",
        &[("csrf", &csrf_of(&html)), ("password", PASSWORD)],
    )
    .await;
    assert!(step.status().is_redirection() || step.status().is_success());
    let (_, html) = page(&owner, "/profile/two-factor").await;
    let offered: Vec<&str> = html
        .split(r#"<option value=""#)
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .collect();
    assert_eq!(offered, ["CA", "US"], "by name: Canada, United States");
}

async fn team_says_who_the_rule_covers_and_has_not_set_it_up(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    app.person(&owner, "staff", "sam@harbor.test").await;
    app.person(&owner, "client", "casey@harbor.test").await;
    let (_, before) = page(&owner, "/team").await;
    assert!(!before.contains("Required, not set up yet"));
    let (status, body) = owner
        .change_security(serde_json::json!({"require_two_factor": "staff"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, html) = page(&owner, "/team").await;
    // The owner and Sam are covered and have none; Casey, a client, is not covered.
    assert_eq!(
        html.matches("Required, not set up yet").count(),
        2,
        "{html}"
    );
    assert_eq!(html.matches(r#"data-label="Two-factor">Off<"#).count(), 1);
}

async fn every_page_goes_by_the_products_name(dialect: Dialect) {
    let app = TestApp::with_args(dialect, &["--product-name", "Harbor Portal"]).await;
    app.with_practice().await;
    let c = app.client();
    let (_, html) = page(&c, "/sign-in").await;
    assert!(
        html.contains("<title>Sign in · Harbor Portal</title>")
            && html.contains(r#"aria-hidden="true">◆</span> Harbor Portal</div>"#),
        "{html}"
    );
    // A page an extractor refuses with carries it too.
    let refused = submit(&c, "/sign-in", &[("csrf", "forged"), ("email", "x@y.test")]).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let html = refused.text().await.unwrap();
    assert!(
        html.contains("Harbor Portal") && !html.contains("· latch"),
        "{html}"
    );
}
