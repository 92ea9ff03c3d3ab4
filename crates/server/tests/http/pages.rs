//! The HTML pages over HTTP: forms carry a CSRF token, pages need a session, roles see their menu.

use reqwest::StatusCode;

use crate::support::{Client, Dialect, PASSWORD, TestApp, csrf_of};

crate::on_both_databases!(
    a_form_without_its_token_is_refused,
    a_person_signs_in_through_the_page_and_sees_their_dashboard,
    staff_and_clients_see_no_administration,
    a_wrong_password_on_the_page_says_so_next_to_the_form,
    the_first_run_form_shows_every_refused_field_at_once,
    the_invite_form_shows_every_refused_field_at_once,
    the_phone_step_offers_only_the_countries_the_practice_allows,
    team_says_who_the_rule_covers_and_has_not_set_it_up,
    every_page_goes_by_the_products_name,
    every_refused_form_post_answers_with_a_redirect,
    a_flash_opens_only_in_its_browser_and_for_a_minute,
);

/// Opens the sign-in page and sends its form with the page's own token.
async fn sign_in_on_page(c: &Client, email: &str, password: &str) -> reqwest::Response {
    let (_, html) = c.page("/sign-in").await;
    let csrf = csrf_of(&html);
    let form = [
        ("csrf", csrf.as_str()),
        ("email", email),
        ("password", password),
    ];
    c.submit("/sign-in", &form).await
}

async fn a_form_without_its_token_is_refused(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    app.with_practice().await;
    let c = app.client();
    let (_, html) = c.page("/sign-in").await;
    let token = csrf_of(&html);
    let refused = c
        .submit_and_follow(
            "/sign-in",
            &[("email", "owner@harbor.test"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(
        (refused.0.as_str(), refused.1),
        ("/message", StatusCode::FORBIDDEN)
    );
    assert!(
        refused.2.contains("This form has expired."),
        "{}",
        refused.2
    );
    let forged = "0".repeat(64);
    let refused = c
        .submit_and_follow(
            "/sign-in",
            &[
                ("csrf", &forged),
                ("email", "owner@harbor.test"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(
        (refused.0.as_str(), refused.1),
        ("/message", StatusCode::FORBIDDEN)
    );
    assert!(c.session_cookie().is_none(), "no session was opened");
    // A refresh shows the same page; nothing is sent again.
    assert_eq!(c.page("/message").await, (refused.1, refused.2));

    let stranger = app.client();
    let refused = stranger
        .submit_and_follow(
            "/sign-in",
            &[
                ("csrf", &token),
                ("email", "owner@harbor.test"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(
        refused.1,
        StatusCode::FORBIDDEN,
        "a token belongs to its own browser"
    );
    // An error page left for one browser is nothing in another.
    let (status, _) = app.client().page("/message").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
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
    let (status, html) = c.page("/dashboard").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("Olivia Owner")
            && html.contains("Practice Settings")
            && html.contains("Team")
    );

    for path in ["/profile", "/team", "/practice/settings"] {
        assert_eq!(c.page(path).await.0, StatusCode::OK, "{path}");
    }
    let (_, html) = c.page("/profile").await;
    let response = c.submit("/sign-out", &[("csrf", &csrf_of(&html))]).await;
    assert_eq!(response.headers()["location"], "/sign-in?done=signed-out");
    assert_eq!(c.get("/api/v1/me").await.0, StatusCode::UNAUTHORIZED);
    let (_, html) = c.page("/sign-in?done=signed-out").await;
    assert!(html.contains("You’re signed out."), "{html}");
    let (_, html) = c.page("/sign-in").await;
    assert!(!html.contains("You’re signed out."));
}

async fn staff_and_clients_see_no_administration(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    let (client, _) = app.person(&owner, "client", "casey@harbor.test").await;
    let (status, html) = client.page("/dashboard").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Account Set Up") && html.contains("Enable Two-Factor Auth"));
    assert!(!html.contains("Practice Settings") && !html.contains(">Team<"));
    assert_eq!(client.page("/team").await.0, StatusCode::FORBIDDEN);
    let (staff, _) = app.person(&owner, "staff", "sam@harbor.test").await;
    assert_eq!(
        staff.page("/practice/settings").await.0,
        StatusCode::FORBIDDEN
    );
}

async fn a_wrong_password_on_the_page_says_so_next_to_the_form(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    app.with_practice().await;
    let c = app.client();
    let (to, status, html) = c
        .fill_in(
            "/sign-in",
            "/sign-in",
            &[
                ("email", "owner@harbor.test"),
                ("password", "nope nope nope"),
            ],
        )
        .await;
    assert_eq!((to.as_str(), status), ("/sign-in", StatusCode::OK));
    assert!(html.contains("The email or password is not correct."));
    assert!(
        html.contains(r#"value="owner@harbor.test""#),
        "the email is kept"
    );
    assert!(!html.contains("nope nope nope"), "the password is not");
    assert!(
        !c.cookies().contains("nope"),
        "nor is it in a cookie: {}",
        c.cookies()
    );
    // Read once: a refresh shows the page as new.
    let (_, again) = c.page("/sign-in").await;
    assert!(!again.contains("not correct") && !again.contains("owner@harbor.test"));
}

/// A first run with a bad name, a bad email and a weak password: one answer shows all three,
/// each beside its own field, and keeps what was typed.
async fn the_first_run_form_shows_every_refused_field_at_once(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let c = app.client();
    let (to, status, html) = c
        .fill_in(
            "/setup",
            "/setup",
            &[
                ("setup_token", ""),
                ("practice_name", "Harbor Counseling"),
                ("country", "US"),
                ("name", " "),
                ("email", "owner-at-harbor"),
                ("password", "short"),
            ],
        )
        .await;
    assert_eq!((to.as_str(), status), ("/setup", StatusCode::OK));
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

/// Inviting a person with an email in use and no name: both are shown, each beside its field,
/// and nobody is invited. The form asks for no password: nobody sets another's.
async fn the_invite_form_shows_every_refused_field_at_once(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    let c = app.client();
    sign_in_on_page(&c, "owner@harbor.test", PASSWORD).await;
    let (to, status, html) = c
        .fill_in(
            "/team",
            "/team",
            &[
                ("role", "staff"),
                ("name", " "),
                ("email", "OWNER@harbor.test"),
            ],
        )
        .await;
    assert_eq!((to.as_str(), status), ("/team", StatusCode::OK));
    assert!(
        html.contains(r#"value="OWNER@harbor.test""#),
        "what was typed stays"
    );
    assert!(!html.contains(r#"name="password""#), "{html}");
    for field in ["email", "name"] {
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
    let (_, open) = owner.get("/api/v1/practice/invitations").await;
    assert_eq!(open["invitations"], serde_json::json!([]), "nor invited");
}

async fn the_phone_step_offers_only_the_countries_the_practice_allows(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    let (status, body) = owner
        .change_security(serde_json::json!({"allowed_countries": ["US", "CA"]}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, html) = owner.page("/profile/two-factor").await;
    let step = owner
        .submit(
            "/profile/two-factor/password",
            &[("csrf", &csrf_of(&html)), ("password", PASSWORD)],
        )
        .await;
    assert!(step.status().is_redirection() || step.status().is_success());
    let (_, html) = owner.page("/profile/two-factor").await;
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
    let (_, before) = owner.page("/team").await;
    assert!(!before.contains("Required, not set up yet"));
    let (status, body) = owner
        .change_security(serde_json::json!({"require_two_factor": "staff"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, html) = owner.page("/team").await;
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
    let (_, html) = c.page("/sign-in").await;
    assert!(
        html.contains("<title>Sign in · Harbor Portal</title>")
            && html.contains(r#"aria-hidden="true">◆</span> Harbor Portal</div>"#),
        "{html}"
    );
    // A page an extractor refuses with carries it too.
    let (_, status, html) = c
        .submit_and_follow("/sign-in", &[("csrf", "forged"), ("email", "x@y.test")])
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        html.contains("Harbor Portal") && !html.contains("· latch"),
        "{html}"
    );
}

/// Post, then redirect: every form answers a refused post with a redirect to a page that shows
/// why, so a refresh sends nothing again. Each refusal here is one the page used to answer
/// with itself.
async fn every_refused_form_post_answers_with_a_redirect(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = crate::two_factor::owner_with_two_factor(&app).await;
    let nobody = "0123456789abcdef0123456789abcdef";
    let wrong = [("password", "not my password")];
    let (_, team) = owner.page("/team").await;
    assert!(team.contains("Team"));
    // The form's path and fields; where it leads, that page's status, and what it says.
    type Case<'a> = (
        String,
        Vec<(&'a str, &'a str)>,
        &'a str,
        StatusCode,
        &'a str,
    );
    let cases: Vec<Case> = vec![
        (
            "/profile/password".into(),
            vec![("current_password", "not it"), ("new_password", "short")],
            "/profile#password-heading",
            StatusCode::OK,
            "Your current password is not correct.",
        ),
        (
            "/team".into(),
            vec![("role", "staff"), ("name", "Sam"), ("email", "sam@")],
            "/team",
            StatusCode::OK,
            r#"id="email-error""#,
        ),
        (
            format!("/team/{nobody}/help"),
            vec![("action", "unlock"), wrong[0]],
            "/message",
            StatusCode::NOT_FOUND,
            "Not found",
        ),
        (
            format!("/profile/sessions/{nobody}/end"),
            vec![],
            "/message",
            StatusCode::NOT_FOUND,
            "Not found",
        ),
        (
            "/profile/two-factor/password".into(),
            wrong.to_vec(),
            "/profile/two-factor",
            StatusCode::OK,
            "That password is not correct.",
        ),
        (
            "/practice/settings".into(),
            wrong.to_vec(),
            "/practice/settings",
            StatusCode::OK,
            "Enter a number of minutes from 5 to 120.",
        ),
    ];
    for (path, form, to, status, says) in cases {
        let (led_to, got, html) = owner.fill_in("/profile", &path, &form).await;
        assert_eq!((led_to.as_str(), got), (to, status), "{path}");
        assert!(html.contains(says), "{path}: {html}");
    }

    // A sign-in waiting for its code: a wrong code, and a resend too soon.
    let waiting = crate::two_factor::pending_sign_in(&app).await;
    let (to, _, html) = waiting
        .fill_in("/sign-in/code", "/sign-in/code", &[("code", "00000000")])
        .await;
    assert_eq!(to, "/sign-in/code");
    assert!(html.contains("That code is not correct"), "{html}");
    let sent = app.outbox_to(crate::two_factor::PHONE).await.len();
    let (to, _, html) = waiting
        .fill_in(
            "/sign-in/code",
            "/sign-in/code/resend",
            &[("channel", "sms")],
        )
        .await;
    assert_eq!(to, "/sign-in/code");
    assert!(html.contains("We just sent a code."), "{html}");
    for _ in 0..2 {
        let (status, again) = waiting.page(&to).await;
        assert_eq!(status, StatusCode::OK);
        assert!(!again.contains("We just sent a code."), "said once");
    }
    assert_eq!(
        app.outbox_to(crate::two_factor::PHONE).await.len(),
        sent,
        "a refresh sends nothing"
    );
}

/// The flash of a refused form is sealed to its browser and lasts a minute: copied into
/// another browser, or read late, it says nothing.
async fn a_flash_opens_only_in_its_browser_and_for_a_minute(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    app.with_practice().await;
    let refused = "The email or password is not correct.";
    let wrong = [
        ("email", "owner@harbor.test"),
        ("password", "nope nope nope"),
    ];
    let c = app.client();
    let (_, html) = c.page("/sign-in").await;
    let csrf = csrf_of(&html);
    let form = [("csrf", csrf.as_str()), wrong[0], wrong[1]];
    let flash = || {
        c.cookies()
            .split("; ")
            .find_map(|kv| kv.strip_prefix("latch_flash=").map(str::to_owned))
            .expect("a flash cookie")
    };

    assert_eq!(
        c.submit("/sign-in", &form).await.status(),
        StatusCode::SEE_OTHER
    );
    let other = app.client();
    other.page("/sign-in").await;
    let url = reqwest::Url::parse(&app.base).unwrap();
    other
        .jar
        .add_cookie_str(&format!("latch_flash={}", flash()), &url);
    let (_, theirs) = other.page("/sign-in").await;
    assert!(!theirs.contains(refused), "another browser opens nothing");
    assert!(
        c.page("/sign-in").await.1.contains(refused),
        "its own browser reads it"
    );

    assert_eq!(
        c.submit("/sign-in", &form).await.status(),
        StatusCode::SEE_OTHER
    );
    app.clock.advance(61);
    assert!(
        !c.page("/sign-in").await.1.contains(refused),
        "a minute and no more"
    );
}
