//! Every page of latch checked with axe-core in Chromium, at a phone width and a desktop
//! width: no serious or critical violation. axe-core comes from npm (`npm install --prefix
//! target/axe axe-core@4`, or `LATCH_AXE_JS` naming axe.min.js); without it the check skips
//! loudly, and fails when `LATCH_REQUIRE_BROWSER=1`.

use fantoccini::{Client, Locator};
use serde_json::Value;

use crate::browser::{browser, fill, password_only, submit};
use crate::support::{Dialect, PASSWORD, TestApp};

fn axe_source() -> Option<String> {
    let path = std::env::var("LATCH_AXE_JS").ok().unwrap_or_else(|| {
        format!(
            "{}/../../target/axe/node_modules/axe-core/axe.min.js",
            env!("CARGO_MANIFEST_DIR")
        )
    });
    match std::fs::read_to_string(&path) {
        Ok(source) => Some(source),
        Err(_) => {
            assert!(
                std::env::var("LATCH_REQUIRE_BROWSER").as_deref() != Ok("1"),
                "LATCH_REQUIRE_BROWSER=1 but axe-core is missing at {path} (npm install --prefix target/axe axe-core@4)"
            );
            latch_store::testing::loud_skip(&format!(
                "SKIPPED accessibility checks: axe-core is missing at {path} (npm install --prefix target/axe axe-core@4)"
            ));
            None
        }
    }
}

/// Runs axe on the page the browser shows, at both widths; answers the serious and critical
/// violations found.
async fn violations(b: &Client, axe: &str, name: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (width, height) in [(390, 844), (1280, 900)] {
        b.set_window_size(width, height).await.unwrap();
        b.execute(axe, vec![]).await.unwrap();
        let result: Value = b
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, { resultTypes: ['violations'] })
                   .then(r => done(r.violations
                     .filter(v => v.impact === 'serious' || v.impact === 'critical')
                     .map(v => v.id + ' (' + v.impact + '): ' + v.help + ' at ' + v.nodes.map(n => n.target.join(' ')).join(', '))))
                   .catch(e => done(['axe failed: ' + e]));",
                vec![],
            )
            .await
            .unwrap();
        for v in result.as_array().cloned().unwrap_or_default() {
            found.push(format!(
                "{name} at {width}px: {}",
                v.as_str().unwrap_or_default()
            ));
        }
    }
    found
}

#[tokio::test]
async fn every_page_passes_axe_at_phone_and_desktop_widths() {
    let Some(axe) = axe_source() else { return };
    let Some((_driver, b)) = browser().await else {
        return;
    };
    let app = TestApp::new(Dialect::Sqlite).await;
    let base = app.base.clone();
    let mut problems = Vec::new();
    let check = async |path: &str, name: &str, b: &Client| {
        if !path.is_empty() {
            b.goto(&format!("{base}{path}")).await.unwrap();
        }
        violations(b, &axe, name).await
    };

    problems.extend(check("/setup", "first run", &b).await);
    let owner = app.with_practice().await;
    let (_, staff_id) = app.person(&owner, "staff", "sam@harbor.test").await;
    app.person(&owner, "client", "casey@harbor.test").await;
    problems.extend(check("/sign-in", "sign-in", &b).await);
    // A wrong password shows its error beside the form.
    b.goto(&format!("{base}/sign-in")).await.unwrap();
    fill(&b, "email", "owner@harbor.test").await;
    fill(&b, "password", "not the password").await;
    submit(&b, "/sign-in").await;
    problems.extend(check("", "sign-in with an error", &b).await);
    // A forgotten password: asking for the link, its answer, and the page the link opens.
    problems.extend(check("/password-reset", "forgot password", &b).await);
    fill(&b, "email", "sam@harbor.test").await;
    submit(&b, "/password-reset").await;
    problems.extend(check("", "reset link sent", &b).await);
    let link = app.link_to("sam@harbor.test", 1).await;
    problems.extend(check(&link[base.len()..], "choose a new password", &b).await);
    // An invitation's page, and an email change's.
    let (status, _) = owner
        .post(
            "/api/v1/practice/invitations",
            serde_json::json!({"email": "new@harbor.test", "name": "Nia New", "role": "staff"}),
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::CREATED);
    let invited = app.link_to("new@harbor.test", 1).await;
    problems.extend(check(&invited[base.len()..], "join a practice", &b).await);
    problems.extend(check("/email/confirm/anything", "confirm a new email", &b).await);

    password_only(&b, &base, "owner@harbor.test").await;
    for (path, name) in [
        ("/dashboard", "staff dashboard"),
        ("/profile", "my profile"),
        ("/practice/settings", "practice settings"),
        ("/team", "team"),
        (&*format!("/team/{staff_id}"), "a person"),
        ("/practice/audit", "audit trail"),
        ("/profile/two-factor", "wizard: password"),
    ] {
        problems.extend(check(path, name, &b).await);
    }
    b.goto(&format!("{base}/profile/two-factor")).await.unwrap();
    fill(&b, "password", PASSWORD).await;
    submit(&b, "/profile/two-factor/password").await;
    problems.extend(check("", "wizard: phone", &b).await);
    b.goto(&format!("{base}/profile/two-factor")).await.unwrap();
    fill(&b, "phone", "+14155552671").await;
    submit(&b, "/profile/two-factor/setup").await;
    problems.extend(check("", "wizard: code", &b).await);
    b.goto(&format!("{base}/profile/two-factor/confirm"))
        .await
        .unwrap();
    fill(&b, "code", &app.last_code_to("+14155552671").await).await;
    submit(&b, "/profile/two-factor/confirm").await;
    problems.extend(check("", "wizard: congratulations", &b).await);
    problems.extend(check("/profile/two-factor/off", "turn off", &b).await);
    problems.extend(check("/profile", "my profile with two-factor", &b).await);
    for (path, name) in [
        ("/profile/two-factor/app", "authenticator app"),
        ("/profile/two-factor/passkey", "add a passkey"),
        ("/profile/two-factor/recovery-codes", "recovery codes"),
        (
            "/profile/two-factor/methods/phone/remove",
            "remove a method",
        ),
    ] {
        problems.extend(check(path, name, &b).await);
    }
    problems.extend(
        check(
            "/profile/two-factor",
            "wizard: change, keep this number",
            &b,
        )
        .await,
    );
    submit(&b, "/profile/two-factor/setup").await;
    app.clock.advance(30);
    b.find(Locator::Css(
        r#"form[action="/profile/two-factor/resend"] input[value="voice"] ~ button"#,
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    b.wait()
        .for_element(Locator::Css(
            r#"input[name="channel"][value="sms"][checked]"#,
        ))
        .await
        .unwrap();
    problems.extend(check("", "wizard: code after a call instead", &b).await);

    // The owner adds a passkey too, so the code page can ask for it.
    owner.reauthenticate().await;
    let mut key = crate::authenticator::Authenticator::for_latch(&owner.base);
    crate::two_factor::passkeys::add_passkey(&owner, &mut key).await;
    // A fresh sign-in asks for the code.
    b.goto(&format!("{base}/profile")).await.unwrap();
    submit(&b, "/sign-out").await;
    password_only(&b, &base, "owner@harbor.test").await;
    problems.extend(check("", "enter the code", &b).await);
    problems.extend(
        check(
            "/sign-in/code?method=recovery_code",
            "enter a recovery code",
            &b,
        )
        .await,
    );
    problems.extend(check("/sign-in/code?method=passkey", "use your passkey", &b).await);
    b.goto(&format!("{base}/sign-in/code")).await.unwrap();
    submit(&b, "/sign-out").await;
    b.goto(&format!("{base}/sign-in")).await.unwrap();

    password_only(&b, &base, "casey@harbor.test").await;
    problems.extend(check("/dashboard", "client dashboard", &b).await);
    problems.extend(check("/profile", "client profile", &b).await);
    problems.extend(check("/nope", "not found", &b).await);

    // The pages of an application's sign-in.
    let (web, _) = app
        .latch()
        .applications
        .add(latch_app::applications::ApplicationInput {
            name: "Harbor Practice".into(),
            redirect_uris: vec!["https://harbor.example.com/cb".into()],
            ..Default::default()
        })
        .await
        .unwrap();
    let authorize = |more: &str| {
        format!(
            "/oidc/authorize?client_id={}&redirect_uri=https%3A%2F%2Fharbor.example.com%2Fcb\
             &response_type=code&scope=openid{more}",
            web.id
        )
    };
    problems.extend(
        check(
            &authorize("&prompt=login"),
            "password again for an application",
            &b,
        )
        .await,
    );
    assert!(
        crate::browser::body_text(&b)
            .await
            .contains("Confirm it's you")
    );
    problems.extend(check("/sign-out", "sign out of latch?", &b).await);
    problems.extend(
        check(
            "/oidc/authorize?client_id=nobody",
            "a sign-in link that does not work",
            &b,
        )
        .await,
    );
    b.goto(&format!("{base}/sign-out")).await.unwrap();
    submit(&b, "/sign-out").await;
    let sign_in_for_application = authorize("");
    let name = "sign in to continue to an application";
    problems.extend(check(&sign_in_for_application, name, &b).await);
    let text = crate::browser::body_text(&b).await;
    assert!(
        text.contains("Sign in to continue to Harbor Practice"),
        "{text}"
    );

    b.close().await.unwrap();
    assert!(
        problems.is_empty(),
        "accessibility problems:\n{}",
        problems.join("\n")
    );
}
