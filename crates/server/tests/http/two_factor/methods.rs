//! More methods than the phone: an authenticator app (its codes made by totp-rs, an
//! implementation nobody here wrote), recovery codes, the preferred method, and removing one.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{OWNER, PHONE, owner_with_two_factor, pending_sign_in};
use crate::support::{Client, Dialect, PASSWORD, TestApp, app_code, code, post_at_once};

crate::on_both_databases!(
    an_app_confirmed_by_its_code_signs_in_without_a_text,
    an_app_code_works_once_and_within_a_step_of_now,
    the_first_method_comes_with_recovery_codes_that_each_work_once,
    a_required_setup_may_choose_the_app,
    wrong_app_codes_count_into_the_same_lock,
    removing_a_method_ends_other_sessions_and_the_last_turns_two_factor_off,
    preferring_a_method_one_lacks_is_refused,
    new_recovery_codes_replace_the_old_and_need_the_password,
    the_code_page_asks_for_the_preferred_method_and_offers_the_others,
    a_practice_narrows_the_methods_people_may_add_and_keeps_those_in_use,
    the_settings_page_narrows_the_methods_and_refuses_none,
    an_app_begun_on_one_node_is_confirmed_and_used_on_another,
);
mod at_once {
    use super::of_twenty_submissions_of_one_recovery_code_one_wins;
    crate::on_both_databases!(threads: of_twenty_submissions_of_one_recovery_code_one_wins);
}

fn now(app: &TestApp) -> i64 {
    use latch_app::clock::Clock;
    app.clock.now().seconds()
}

/// Adds an app for the signed-in (and re-authenticated, or setup-required) client; answers
/// its secret and the confirmation's body.
async fn add_app(app: &TestApp, c: &Client) -> (String, Value) {
    let (status, begun) = c.post("/api/v1/me/two-factor/totp", json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{begun}");
    let secret = begun["secret"].as_str().expect("a secret").to_owned();
    let (status, body) = c
        .post(
            "/api/v1/me/two-factor/totp/confirm",
            json!({"code": app_code(&secret, now(app))}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    (secret, body)
}

/// The owner with the phone and then an app, the app preferred; answers the app's secret.
async fn owner_preferring_the_app(app: &TestApp) -> (Client, String) {
    let owner = owner_with_two_factor(app).await;
    owner.reauthenticate().await;
    let (secret, _) = add_app(app, &owner).await;
    let (status, body) = owner
        .put("/api/v1/me/two-factor/preferred", json!({"kind": "totp"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["two_factor"]["preferred"], "totp", "{body}");
    // The code that confirmed the app has used its step, and every one before it: later
    // sign-ins take steps after it.
    app.clock.advance(60);
    (owner, secret)
}

async fn an_app_confirmed_by_its_code_signs_in_without_a_text(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = owner_with_two_factor(&app).await;
    owner.reauthenticate().await;
    let (status, begun) = owner.post("/api/v1/me/two-factor/totp", json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{begun}");
    let secret = begun["secret"].as_str().unwrap();
    assert_eq!(secret.len(), 32, "160 bits in base32: {begun}");
    let uri = begun["otpauth_uri"].as_str().unwrap();
    assert!(uri.starts_with("otpauth://totp/"), "{uri}");
    assert!(uri.contains(&format!("secret={secret}")), "{uri}");
    assert!(uri.contains("owner%40harbor.test"), "{uri}");
    assert!(
        begun["qr_svg"].as_str().unwrap().contains("<svg"),
        "{begun}"
    );
    // Nothing changes until a code confirms it.
    let (_, me) = owner.get("/api/v1/me").await;
    assert_eq!(
        me["two_factor"]["methods"].as_array().unwrap().len(),
        1,
        "{me}"
    );

    let (status, body) = owner
        .post(
            "/api/v1/me/two-factor/totp/confirm",
            json!({"code": "000000"}),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "invalid_code"),
        "{body}"
    );
    let (status, body) = owner
        .post(
            "/api/v1/me/two-factor/totp/confirm",
            json!({"code": app_code(secret, now(&app))}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let kinds: Vec<&str> = body["two_factor"]["methods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["sms", "totp"], "{body}");
    assert!(
        body.get("recovery_codes").is_none(),
        "only a first method brings recovery codes: {body}"
    );
    assert_eq!(owner.audited("two_factor.method_added").await, 1);
    let (_, team) = owner.page("/team").await;
    assert!(
        team.contains("On: text message to +1 ••• ••• ••71, authenticator app"),
        "the Team page shows who uses which: {team}"
    );
    // The enrolment is used up.
    let (status, body) = owner
        .post(
            "/api/v1/me/two-factor/totp/confirm",
            json!({"code": app_code(secret, now(&app))}),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::CONFLICT, "no_setup_in_progress"),
        "{body}"
    );
    let (status, body) = owner
        .put("/api/v1/me/two-factor/preferred", json!({"kind": "totp"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.clock.advance(30);

    let texts_before = app.outbox_to(PHONE).await.len();
    let c = app.client();
    let (status, body) = c.sign_in(OWNER, PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["state"], "two_factor_required", "{body}");
    assert_eq!(body["method"], "totp", "{body}");
    assert_eq!(
        body["methods"],
        json!(["totp", "sms", "voice", "recovery_code"]),
        "{body}"
    );
    assert!(body.get("channel").is_none(), "no code was sent: {body}");
    assert_eq!(app.outbox_to(PHONE).await.len(), texts_before, "no text");

    let (status, body) = c
        .post(
            "/api/v1/session/verify",
            json!({"code": app_code(secret, now(&app)), "method": "totp"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["state"], "signed_in", "{body}");
}

async fn an_app_code_works_once_and_within_a_step_of_now(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let (owner, secret) = owner_preferring_the_app(&app).await;
    let c = pending_sign_in(&app).await;
    // Two steps away is too far, whichever way.
    for off in [-60, 60] {
        let (status, body) = c
            .post(
                "/api/v1/session/verify",
                json!({"code": app_code(&secret, now(&app) + off)}),
            )
            .await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::BAD_REQUEST, "invalid_code"),
            "{off}: {body}"
        );
    }
    // One step behind is a phone's clock a little slow: taken, by its shape alone.
    let behind = app_code(&secret, now(&app) - 30);
    let (status, body) = c
        .post("/api/v1/session/verify", json!({"code": behind}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // The same code, or the step before it, never again.
    let again = pending_sign_in(&app).await;
    let (status, body) = again
        .post("/api/v1/session/verify", json!({"code": behind}))
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "invalid_code"),
        "{body}"
    );
    assert_eq!(owner.audited("code.wrong").await, 3);
    let (status, body) = again
        .post(
            "/api/v1/session/verify",
            json!({"code": app_code(&secret, now(&app))}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "a later step still works: {body}");
}

async fn the_first_method_comes_with_recovery_codes_that_each_work_once(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    owner.reauthenticate().await;
    let (status, _) = owner.begin_setup(PHONE, "sms").await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let (status, body) = owner
        .post(
            "/api/v1/me/two-factor/setup/confirm",
            json!({"code": app.last_code_to(PHONE).await}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let codes: Vec<String> = body["recovery_codes"]
        .as_array()
        .expect("recovery codes with the first method")
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(codes.len(), 10, "{body}");
    for c in &codes {
        let (left, right) = c.split_once('-').expect("two groups");
        assert!(left.len() == 5 && right.len() == 5, "{c}");
        assert!(
            c.chars()
                .all(|ch| ch == '-' || ch.is_ascii_lowercase() || ch.is_ascii_digit()),
            "{c}"
        );
    }
    assert_eq!(body["two_factor"]["recovery_codes_left"], 10, "{body}");
    assert_eq!(owner.audited("recovery_codes.created").await, 1);

    let c = pending_sign_in(&app).await;
    let texts_before = app.outbox_to(PHONE).await.len();
    let (status, body) = c
        .post(
            "/api/v1/session/verify",
            json!({"code": codes[3].to_uppercase()}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let texts = app.outbox_to(PHONE).await;
    assert_eq!(texts.len(), texts_before + 1, "a notice by text");
    assert!(
        texts[0]["body"].as_str().unwrap().contains("recovery code"),
        "{}",
        texts[0]
    );
    assert_eq!(c.audited("recovery_code.used").await, 1);
    let (_, me) = c.get("/api/v1/me").await;
    assert_eq!(me["two_factor"]["recovery_codes_left"], 9, "{me}");

    let again = pending_sign_in(&app).await;
    let (status, body) = again
        .post(
            "/api/v1/session/verify",
            json!({"code": codes[3], "method": "recovery_code"}),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "invalid_code"),
        "a used code: {body}"
    );
    assert_eq!(body["error"]["attempts_left"], 9, "{body}");
}

pub(super) async fn of_twenty_submissions_of_one_recovery_code_one_wins(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    owner.reauthenticate().await;
    let (_, body) = add_app(&app, &owner).await;
    let recovery = body["recovery_codes"][0].as_str().unwrap().to_owned();
    // With the app alone, a sign-in sends nothing: twenty cost no texts.
    let mut requests = Vec::new();
    for _ in 0..20 {
        let c = pending_sign_in(&app).await;
        requests.push((
            c,
            "/api/v1/session/verify",
            json!({"code": recovery, "method": "recovery_code"}),
        ));
    }
    let answers = post_at_once(requests).await;
    let won = answers
        .iter()
        .filter(|(status, _)| *status == StatusCode::OK)
        .count();
    assert_eq!(won, 1, "{answers:?}");
    // The others used a used code: wrong answers, which lock the step after ten.
    for (status, body) in &answers {
        assert!(
            *status == StatusCode::OK || ["invalid_code", "rate_limited"].contains(&code(body)),
            "{status} {body}"
        );
    }
    assert_eq!(owner.audited("recovery_code.used").await, 1);
}

async fn a_required_setup_may_choose_the_app(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    owner.reauthenticate().await;
    let (status, body) = owner
        .change_security(json!({"require_two_factor": "staff"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (staff, _) = app.person(&owner, "staff", "sam@harbor.test").await;
    let (status, body) = staff.sign_in("sam@harbor.test", PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["state"], "two_factor_setup_required", "{body}");
    // The password just given counts for the app's enrolment too.
    let (_, body) = add_app(&app, &staff).await;
    assert_eq!(body["state"], "signed_in", "{body}");
    assert_eq!(
        body["recovery_codes"].as_array().unwrap().len(),
        10,
        "{body}"
    );
    assert_eq!(body["two_factor"]["preferred"], "totp", "{body}");
    let (status, me) = staff.get("/api/v1/me").await;
    assert_eq!(status, StatusCode::OK, "{me}");
    // And its credit ends with the state.
    let (status, body) = staff.post("/api/v1/me/two-factor/totp", json!({})).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, "reauthentication_required"),
        "{body}"
    );
}

async fn wrong_app_codes_count_into_the_same_lock(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let (owner, secret) = owner_preferring_the_app(&app).await;
    let c = pending_sign_in(&app).await;
    let wrong = {
        let right = app_code(&secret, now(&app));
        format!(
            "{:06}",
            (right.parse::<u32>().unwrap() + 500_000) % 1_000_000
        )
    };
    let mut last = (StatusCode::OK, Value::Null);
    for _ in 0..10 {
        last = c
            .post("/api/v1/session/verify", json!({"code": wrong}))
            .await;
    }
    assert_eq!(
        (last.0, code(&last.1)),
        (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
        "the tenth wrong code locks: {}",
        last.1
    );
    assert_eq!(owner.audited("two_factor.locked").await, 1);
    // The right code counts nothing while locked.
    let (status, body) = c
        .post(
            "/api/v1/session/verify",
            json!({"code": app_code(&secret, now(&app))}),
        )
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
}

async fn removing_a_method_ends_other_sessions_and_the_last_turns_two_factor_off(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let (owner, secret) = owner_preferring_the_app(&app).await;
    let (_, me) = owner.get("/api/v1/me").await;
    let app_id = me["two_factor"]["methods"][1]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.clock.advance(11 * 60);
    let path = format!("/api/v1/me/two-factor/methods/{app_id}");
    let (status, body) = owner.delete(&path).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, "reauthentication_required"),
        "{body}"
    );
    owner.reauthenticate().await;
    let other = pending_sign_in(&app).await;
    let (status, body) = other
        .post(
            "/api/v1/session/verify",
            json!({"code": app_code(&secret, now(&app))}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let texts_before = app.outbox_to(PHONE).await.len();
    let (status, body) = owner.delete(&path).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(owner.audited("two_factor.method_removed").await, 1);
    let (status, _) = other.get("/api/v1/me").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "other sessions end");
    assert_eq!(
        app.outbox_to(PHONE).await.len(),
        texts_before + 1,
        "a notice"
    );
    let (status, _) = owner.delete(&path).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, me) = owner.get("/api/v1/me").await;
    assert_eq!(me["two_factor"]["preferred"], "sms", "{me}");

    // The last one, while the practice requires two-factor: refused.
    let (status, body) = owner
        .change_security(json!({"require_two_factor": "staff"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = owner.delete("/api/v1/me/two-factor/methods/phone").await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::CONFLICT, "two_factor_required_by_practice"),
        "{body}"
    );
    let (status, body) = owner
        .change_security(json!({"require_two_factor": "off"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = owner.delete("/api/v1/me/two-factor/methods/phone").await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (_, me) = owner.get("/api/v1/me").await;
    assert_eq!(me["two_factor"]["enabled"], false, "{me}");
    assert_eq!(me["two_factor"]["methods"], json!([]), "{me}");
    assert_eq!(me["two_factor"]["recovery_codes_left"], 0, "{me}");
    assert_eq!(owner.audited("two_factor.disabled").await, 1);
    let (_, body) = app.client().sign_in(OWNER, PASSWORD).await;
    assert_eq!(body["state"], "signed_in", "{body}");
}

async fn preferring_a_method_one_lacks_is_refused(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = owner_with_two_factor(&app).await;
    for kind in ["totp", "passkey", "voice", "fax"] {
        let (status, body) = owner
            .put("/api/v1/me/two-factor/preferred", json!({"kind": kind}))
            .await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::BAD_REQUEST, "invalid_request"),
            "{kind}: {body}"
        );
    }
    let (status, body) = owner
        .put("/api/v1/me/two-factor/preferred", json!({"kind": "sms"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn new_recovery_codes_replace_the_old_and_need_the_password(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    owner.reauthenticate().await;
    let (status, body) = owner.post("/api/v1/me/recovery-codes", json!({})).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "invalid_request"),
        "two-factor is off: {body}"
    );
    let (_, first) = add_app(&app, &owner).await;
    let old = first["recovery_codes"][0].as_str().unwrap().to_owned();
    let (status, body) = owner.post("/api/v1/me/recovery-codes", json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let new = body["codes"][0].as_str().unwrap().to_owned();
    assert_ne!(old, new);

    let c = pending_sign_in(&app).await;
    let (status, body) = c.post("/api/v1/session/verify", json!({"code": old})).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "invalid_code"),
        "the old set is gone: {body}"
    );
    let (status, body) = c.post("/api/v1/session/verify", json!({"code": new})).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    app.clock.advance(11 * 60);
    let (status, body) = c.post("/api/v1/me/recovery-codes", json!({})).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, "reauthentication_required"),
        "{body}"
    );
}

async fn the_code_page_asks_for_the_preferred_method_and_offers_the_others(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let (_, secret) = owner_preferring_the_app(&app).await;
    let c = pending_sign_in(&app).await;
    let (status, html) = c.page("/sign-in/code").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Open your authenticator app"), "{html}");
    assert!(
        html.contains("Enter the 6 digit code from your app"),
        "{html}"
    );
    assert!(
        !html.contains("We sent a sign-in code"),
        "no text went out: {html}"
    );
    assert!(html.contains("Use another method"), "{html}");
    assert!(
        html.contains(r#"href="/sign-in/code?method=recovery_code""#),
        "{html}"
    );
    assert!(html.contains("Text me a code"), "{html}");
    assert!(html.contains("Call me with a code"), "{html}");

    let (_, html) = c.page("/sign-in/code?method=recovery_code").await;
    assert!(html.contains("Enter one of your recovery codes"), "{html}");
    assert!(
        html.contains(r#"href="/sign-in/code?method=totp""#),
        "{html}"
    );

    // A wrong app code comes back to the app's form.
    let (to, _, html) = c
        .fill_in(
            "/sign-in/code",
            "/sign-in/code",
            &[("code", "000000"), ("method", "totp")],
        )
        .await;
    assert_eq!(to, "/sign-in/code?method=totp");
    assert!(html.contains("Open your authenticator app"), "{html}");
    assert!(html.contains(r#"role="alert""#), "{html}");

    // "Text me a code" sends the first text of this sign-in, and the page then asks for it.
    let texts_before = app.outbox_to(PHONE).await.len();
    let (to, _, html) = c
        .fill_in(
            "/sign-in/code",
            "/sign-in/code/resend",
            &[("channel", "sms")],
        )
        .await;
    assert_eq!(to, "/sign-in/code?resent=1");
    assert_eq!(app.outbox_to(PHONE).await.len(), texts_before + 1);
    assert!(html.contains("Check your phone"), "{html}");
    assert!(
        html.contains(r#"href="/sign-in/code?method=totp""#),
        "{html}"
    );

    // The app's code still works from its page.
    let (_, html) = c.page("/sign-in/code?method=totp").await;
    let csrf = crate::support::csrf_of(&html);
    let code = app_code(&secret, now(&app));
    let answer = c
        .submit(
            "/sign-in/code",
            &[("csrf", &csrf), ("code", &code), ("method", "totp")],
        )
        .await;
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    let (status, me) = c.get("/api/v1/me").await;
    assert_eq!(status, StatusCode::OK, "signed in: {me}");
}

async fn a_practice_narrows_the_methods_people_may_add_and_keeps_those_in_use(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = owner_with_two_factor(&app).await;
    let (status, security) = owner.get("/api/v1/practice/security").await;
    assert_eq!(status, StatusCode::OK, "{security}");
    assert_eq!(
        security["methods_allowed"],
        json!(["passkey", "totp", "sms", "voice"])
    );
    for refused in [json!([]), json!(["fax"]), json!("totp")] {
        let (status, body) = owner
            .change_security(json!({"methods_allowed": refused}))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}: {body}");
        assert!(
            ["invalid_setting", "invalid_request"].contains(&code(&body)),
            "{refused}: {body}"
        );
    }
    let (status, body) = owner
        .change_security(json!({"methods_allowed": ["totp", "passkey", "totp"]}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["methods_allowed"],
        json!(["passkey", "totp"]),
        "{body}"
    );

    // The phone the owner already has stays, and signs in as before.
    let texts_before = app.outbox_to(PHONE).await.len();
    pending_sign_in(&app).await;
    let texts = app.outbox_to(PHONE).await;
    assert_eq!(texts.len(), texts_before + 1, "the sign-in texted a code");
    assert!(texts[0]["code"].is_string(), "{}", texts[0]);
    // But nobody starts a phone method now, and an app is still allowed.
    let (staff, _) = app.person(&owner, "staff", "sam@harbor.test").await;
    staff.reauthenticate().await;
    let (status, body) = staff.begin_setup("+14155552672", "sms").await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "method_not_allowed"),
        "{body}"
    );
    add_app(&app, &staff).await;

    let (status, body) = owner
        .change_security(json!({"methods_allowed": ["sms"]}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = staff.post("/api/v1/me/two-factor/totp", json!({})).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "method_not_allowed"),
        "{body}"
    );
    // My Profile offers only what may be added.
    let (_, html) = owner.page("/profile").await;
    for gone in ["Add an authenticator app", "Add a passkey"] {
        assert!(!html.contains(gone), "{gone}: {html}");
    }
    let (status, body) = owner
        .change_security(json!({"methods_allowed": ["passkey", "sms"]}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, html) = owner.page("/profile").await;
    assert!(html.contains("Add a passkey"), "{html}");
    assert!(!html.contains("Add an authenticator app"), "{html}");
}

async fn the_settings_page_narrows_the_methods_and_refuses_none(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    let (_, html) = owner.page("/practice/settings").await;
    assert!(
        html.contains(r#"name="methods_allowed" value="totp" checked"#),
        "{html}"
    );
    let csrf = crate::support::csrf_of(&html);
    let send = async |methods: &[&str]| {
        let mut fields = vec![
            ("csrf", csrf.as_str()),
            ("require_two_factor", "off"),
            ("remember_device_days", "365"),
            ("sign_out_after_idle_minutes", "15"),
            ("allowed_countries", "US"),
            ("daily_send_budget", "500"),
            ("password", PASSWORD),
            ("methods_shown", "1"),
        ];
        fields.extend(methods.iter().map(|m| ("methods_allowed", *m)));
        owner.submit_and_follow("/practice/settings", &fields).await
    };
    let (_, _, html) = send(&[]).await;
    assert!(
        html.contains("Allow at least one two-factor method"),
        "{html}"
    );
    let (to, _, _) = send(&["totp", "passkey"]).await;
    assert_eq!(to, "/practice/settings?done=settings");
    let (_, security) = owner.get("/api/v1/practice/security").await;
    assert_eq!(
        security["methods_allowed"],
        json!(["passkey", "totp"]),
        "{security}"
    );
    let (_, audit) = owner.page("/practice/audit").await;
    assert!(
        audit.contains(
            "Two-factor methods allowed: passkey, totp, sms and voice → passkey and totp"
        ),
        "{audit}"
    );
}

async fn an_app_begun_on_one_node_is_confirmed_and_used_on_another(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let (b, _node) = app.second_node().await;
    let owner = app.with_practice().await;
    owner.reauthenticate().await;
    let (status, begun) = owner.post("/api/v1/me/two-factor/totp", json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{begun}");
    let secret = begun["secret"].as_str().unwrap();
    let on_b = owner.on(&b);
    let (status, body) = on_b
        .post(
            "/api/v1/me/two-factor/totp/confirm",
            json!({"code": app_code(secret, now(&app))}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The step used on B is used on A too.
    let c = pending_sign_in(&app).await;
    let (status, body) = c
        .post(
            "/api/v1/session/verify",
            json!({"code": app_code(secret, now(&app))}),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "invalid_code"),
        "{body}"
    );
    app.clock.advance(30);
    let (status, body) = c
        .on(&b)
        .post(
            "/api/v1/session/verify",
            json!({"code": app_code(secret, now(&app))}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}
