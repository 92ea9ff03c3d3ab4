//! Passkeys through the API, answered by the tests' software authenticator: registering one,
//! signing in with it after a password and alone, every refusal a relying party owes, answers
//! arriving together, and a ceremony begun on one node finished on another.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{OWNER, owner_with_two_factor, pending_sign_in};
use crate::authenticator::{Authenticator, Misbehave, USER_PRESENT};
use crate::support::{Client, Dialect, TestApp, code, post_at_once};

crate::on_both_databases!(
    a_passkey_is_registered_and_answers_the_second_step,
    a_passkey_alone_signs_in_without_a_password,
    a_late_answer_and_another_persons_handle_are_refused,
    a_registration_that_does_not_stand_is_refused_and_its_ceremony_used,
    an_assertion_that_does_not_stand_is_refused_and_counted,
    a_required_setup_may_choose_a_passkey,
    a_passkey_begun_on_one_node_is_finished_on_another,
    a_passkey_alone_is_refused_to_someone_who_left_and_throttled_by_address,
    an_application_learns_that_a_passkey_was_used,
);
mod at_once {
    use super::{
        of_twenty_submissions_of_one_assertion_one_wins,
        of_two_clones_answering_with_one_counter_one_wins,
    };
    crate::on_both_databases!(
        threads: of_twenty_submissions_of_one_assertion_one_wins,
        of_two_clones_answering_with_one_counter_one_wins
    );
}

/// Registers a passkey for the client (re-authenticated, or held for a required setup);
/// answers the registration's body.
pub(crate) async fn add_passkey(c: &Client, key: &mut Authenticator) -> Value {
    let (status, options) = c.post("/api/v1/me/passkeys/options", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{options}");
    let credential = key.create(&options);
    let (status, body) = c
        .post(
            "/api/v1/me/passkeys",
            json!({"label": "Work laptop", "credential": credential}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

/// Answers every ceremony must refuse: another site's origin, another challenge, the user
/// present but not verified.
fn refused_by_any_ceremony() -> Vec<Misbehave> {
    vec![
        Misbehave {
            origin: Some("https://harbor-login.example".into()),
            ..Misbehave::default()
        },
        Misbehave {
            challenge: Some("bm90IHRoaXMgb25l".into()),
            ..Misbehave::default()
        },
        Misbehave {
            flags: Some(USER_PRESENT),
            ..Misbehave::default()
        },
    ]
}

/// Answers a waiting session's second step with the passkey.
async fn answer_with_passkey(c: &Client, key: &mut Authenticator) -> (StatusCode, Value) {
    let (status, options) = c.post("/api/v1/session/passkey/options", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{options}");
    let credential = key.get(&options);
    c.post("/api/v1/session/passkey", json!({"credential": credential}))
        .await
}

/// The owner with the phone and a passkey, the passkey preferred.
async fn owner_preferring_a_passkey(app: &TestApp) -> (Client, Authenticator) {
    let owner = owner_with_two_factor(app).await;
    owner.reauthenticate().await;
    let mut key = Authenticator::for_latch(&owner.base);
    add_passkey(&owner, &mut key).await;
    let (status, body) = owner
        .put(
            "/api/v1/me/two-factor/preferred",
            json!({"kind": "passkey"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    (owner, key)
}

async fn a_passkey_is_registered_and_answers_the_second_step(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = owner_with_two_factor(&app).await;
    // Adding one needs the password again, once the setup's re-entry has run out.
    app.clock.advance(11 * 60);
    let (status, body) = owner.post("/api/v1/me/passkeys/options", json!({})).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, "reauthentication_required"),
        "{body}"
    );
    owner.reauthenticate().await;
    let (status, options) = owner.post("/api/v1/me/passkeys/options", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{options}");
    let public_key = &options["publicKey"];
    assert_eq!(public_key["rp"]["id"], "localhost", "{options}");
    assert_eq!(public_key["rp"]["name"], "latch", "{options}");
    assert_eq!(public_key["user"]["name"], OWNER, "{options}");
    let selection = &public_key["authenticatorSelection"];
    assert_eq!(selection["userVerification"], "required", "{options}");
    assert_eq!(selection["residentKey"], "preferred", "{options}");
    assert!(
        public_key["challenge"].as_str().unwrap().len() >= 22,
        "at least 128 bits of challenge: {options}"
    );
    let handle = public_key["user"]["id"].as_str().unwrap().to_owned();
    assert!(
        !handle.contains("owner") && handle.len() >= 22,
        "the user handle names nobody: {handle}"
    );

    let mut key = Authenticator::for_latch(&owner.base);
    let credential = key.create(&options);
    let (status, body) = owner
        .post(
            "/api/v1/me/passkeys",
            json!({"label": "  Work laptop ", "credential": credential}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["method"]["kind"], "passkey", "{body}");
    assert_eq!(body["method"]["label"], "Work laptop", "{body}");
    assert!(
        body.get("recovery_codes").is_none(),
        "not a first method: {body}"
    );
    let kinds: Vec<&str> = body["two_factor"]["methods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["sms", "passkey"], "{body}");
    assert_eq!(owner.audited("two_factor.method_added").await, 1);
    // A ceremony answers once.
    let (status, again) = owner
        .post(
            "/api/v1/me/passkeys",
            json!({"label": "Again", "credential": credential}),
        )
        .await;
    assert_eq!(
        (status, code(&again)),
        (StatusCode::BAD_REQUEST, "invalid_credential"),
        "{again}"
    );
    // A second registration excludes the passkey held.
    let (_, options) = owner.post("/api/v1/me/passkeys/options", json!({})).await;
    assert_eq!(
        options["publicKey"]["excludeCredentials"][0]["id"], credential["id"],
        "{options}"
    );

    let (status, body) = owner
        .put(
            "/api/v1/me/two-factor/preferred",
            json!({"kind": "passkey"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let texts_before = app.outbox_to(super::PHONE).await.len();
    let c = app.client();
    let (status, body) = c.sign_in(OWNER, crate::support::PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["state"], "two_factor_required", "{body}");
    assert_eq!(body["method"], "passkey", "{body}");
    assert_eq!(
        app.outbox_to(super::PHONE).await.len(),
        texts_before,
        "with a passkey preferred, no text goes out"
    );
    let (status, options) = c.post("/api/v1/session/passkey/options", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{options}");
    assert_eq!(
        options["publicKey"]["allowCredentials"][0]["id"], credential["id"],
        "{options}"
    );
    let answer = key.get(&options);
    let (status, body) = c
        .post(
            "/api/v1/session/passkey",
            json!({"credential": answer, "remember_device": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["state"], "signed_in", "{body}");
    let (status, me) = c.get("/api/v1/me").await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert!(
        me["two_factor"]["methods"][1]["last_used_at"].is_string(),
        "{me}"
    );
    assert!(
        c.cookies().contains("latch_device="),
        "the browser is remembered: {}",
        c.cookies()
    );
    // The same answer is worth nothing twice.
    let again = pending_sign_in(&app).await;
    let (status, body) = again
        .post("/api/v1/session/passkey", json!({"credential": answer}))
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "invalid_credential"),
        "{body}"
    );
}

async fn a_passkey_alone_signs_in_without_a_password(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    owner.reauthenticate().await;
    let mut key = Authenticator::for_latch(&owner.base);
    let body = add_passkey(&owner, &mut key).await;
    assert_eq!(
        body["recovery_codes"].as_array().map(Vec::len),
        Some(10),
        "a first method comes with recovery codes: {body}"
    );
    assert_eq!(body["two_factor"]["enabled"], true, "{body}");
    assert_eq!(owner.audited("two_factor.enabled").await, 1);

    let c = app.client();
    let (status, options) = c.post("/api/v1/session/passkey/options", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{options}");
    assert!(
        options["publicKey"]["allowCredentials"]
            .as_array()
            .is_none_or(Vec::is_empty),
        "any discoverable passkey may answer: {options}"
    );
    assert!(options.get("mediation").is_none(), "{options}");
    assert!(c.cookies().contains("latch_passkey="), "{}", c.cookies());
    let answer = key.get(&options);
    // Without the browser that began it, the answer is no one's.
    let stranger = app.client();
    let (status, body) = stranger
        .post("/api/v1/session/passkey", json!({"credential": answer}))
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "invalid_credential"),
        "{body}"
    );
    let (status, body) = c
        .post("/api/v1/session/passkey", json!({"credential": answer}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user"]["email"], OWNER, "{body}");
    let (status, me) = c.get("/api/v1/me").await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["user"]["email"], OWNER, "{me}");
    assert!(
        !c.cookies().contains("latch_passkey="),
        "the ceremony's cookie goes: {}",
        c.cookies()
    );
    let how = owner.audit_details("sign_in.succeeded").await;
    assert!(how.iter().any(|h| h == "passkey"), "{how:?}");
    // Used once.
    let (status, body) = c
        .post("/api/v1/session/passkey", json!({"credential": answer}))
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "invalid_credential"),
        "{body}"
    );
}

async fn a_late_answer_and_another_persons_handle_are_refused(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    owner.reauthenticate().await;
    let mut key = Authenticator::for_latch(&owner.base);
    add_passkey(&owner, &mut key).await;
    let c = app.client();
    let refused = (StatusCode::BAD_REQUEST, "invalid_credential");

    // A ceremony holds for five minutes.
    let (_, options) = c.post("/api/v1/session/passkey/options", json!({})).await;
    let late = key.get(&options);
    app.clock.advance(5 * 60 + 1);
    let (status, body) = c
        .post("/api/v1/session/passkey", json!({"credential": late}))
        .await;
    assert_eq!((status, code(&body)), refused, "{body}");

    // A signature that stands, but over a user handle that is not the one latch made for
    // the passkey's person: refused, and counted against the person the passkey names.
    let (_, options) = c.post("/api/v1/session/passkey/options", json!({})).await;
    let another = key.get_misbehaving(
        &options,
        &Misbehave {
            user_handle: Some(vec![7; 16]),
            ..Misbehave::default()
        },
    );
    let (status, body) = c
        .post("/api/v1/session/passkey", json!({"credential": another}))
        .await;
    assert_eq!((status, code(&body)), refused, "{body}");
    assert_eq!(owner.audited("code.wrong").await, 1);

    let (status, body) = alone(&c, &mut key).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the passkey itself still works: {body}"
    );
}

async fn a_registration_that_does_not_stand_is_refused_and_its_ceremony_used(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = owner_with_two_factor(&app).await;
    owner.reauthenticate().await;
    let mut key = Authenticator::for_latch(&owner.base);
    for how in &refused_by_any_ceremony() {
        let (_, options) = owner.post("/api/v1/me/passkeys/options", json!({})).await;
        let bad = key.create_misbehaving(&options, how);
        let (status, body) = owner
            .post("/api/v1/me/passkeys", json!({"credential": bad}))
            .await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::BAD_REQUEST, "invalid_credential"),
            "{body}"
        );
        // The ceremony went with its refused answer: a right one now has none to finish.
        let right = key.create(&options);
        let (status, body) = owner
            .post("/api/v1/me/passkeys", json!({"credential": right}))
            .await;
        assert_eq!(code(&body), "invalid_credential", "{status} {body}");
    }
    for nothing in [json!("a string"), json!({"id": "x"}), json!(null)] {
        let (status, body) = owner
            .post("/api/v1/me/passkeys", json!({"credential": nothing}))
            .await;
        assert_eq!(code(&body), "invalid_credential", "{status} {body}");
    }
    // A credential id is one person's once: someone else's cannot be registered again.
    let (staff, _) = app.person(&owner, "staff", "sam@harbor.test").await;
    staff.reauthenticate().await;
    let mut theirs = Authenticator::for_latch(&owner.base);
    add_passkey(&staff, &mut theirs).await;
    let (_, options) = owner.post("/api/v1/me/passkeys/options", json!({})).await;
    let taken = Misbehave {
        credential_id: Some(theirs.credentials[0].id.clone()),
        ..Misbehave::default()
    };
    let copy = key.create_misbehaving(&options, &taken);
    let (status, body) = owner
        .post("/api/v1/me/passkeys", json!({"credential": copy}))
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "invalid_credential"),
        "{body}"
    );
    let (_, options) = owner.post("/api/v1/me/passkeys/options", json!({})).await;
    let credential = key.create(&options);
    let (status, body) = owner
        .post(
            "/api/v1/me/passkeys",
            json!({"label": "x".repeat(65), "credential": credential}),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "invalid_request"),
        "{body}"
    );
    let (_, me) = owner.get("/api/v1/me").await;
    assert_eq!(
        me["two_factor"]["methods"].as_array().unwrap().len(),
        1,
        "nothing was added: {me}"
    );
    // A practice that allows no passkeys refuses to begin one.
    let (status, body) = owner
        .change_security(json!({"methods_allowed": ["totp", "sms", "voice"]}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = owner.post("/api/v1/me/passkeys/options", json!({})).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "method_not_allowed"),
        "{body}"
    );
}

async fn an_assertion_that_does_not_stand_is_refused_and_counted(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let (owner, mut key) = owner_preferring_a_passkey(&app).await;
    // Someone else's passkey, of this site, answers nobody's second step but theirs.
    let (staff, _) = app.person(&owner, "staff", "sam@harbor.test").await;
    staff.reauthenticate().await;
    let mut theirs = Authenticator::for_latch(&owner.base);
    add_passkey(&staff, &mut theirs).await;

    // One sign-in first, so the passkey's counter stands past 0.
    let (status, body) = answer_with_passkey(&pending_sign_in(&app).await, &mut key).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let c = pending_sign_in(&app).await;
    let counter_now = key.credentials[0].counter;
    assert!(counter_now > 0);
    let mut refusals = refused_by_any_ceremony();
    refusals.extend([
        Misbehave {
            sign_other_data: true,
            ..Misbehave::default()
        },
        Misbehave {
            counter: Some(counter_now),
            ..Misbehave::default()
        },
    ]);
    for how in &refusals {
        let (_, options) = c.post("/api/v1/session/passkey/options", json!({})).await;
        let bad = key.get_misbehaving(&options, how);
        let (status, body) = c
            .post("/api/v1/session/passkey", json!({"credential": bad}))
            .await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::BAD_REQUEST, "invalid_credential"),
            "{body}"
        );
    }
    let (_, options) = c.post("/api/v1/session/passkey/options", json!({})).await;
    let mut options_for_them = options.clone();
    options_for_them["publicKey"]["allowCredentials"] = json!([]);
    let other = theirs.get(&options_for_them);
    let (status, body) = c
        .post("/api/v1/session/passkey", json!({"credential": other}))
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "invalid_credential"),
        "{body}"
    );
    assert_eq!(
        owner.audited("code.wrong").await,
        6,
        "each failed assertion counts as a wrong code does"
    );
    // Four more make ten in a row: the step locks, and a right answer counts for nothing.
    for _ in 0..4 {
        let (_, options) = c.post("/api/v1/session/passkey/options", json!({})).await;
        let bad = key.get_misbehaving(
            &options,
            &Misbehave {
                sign_other_data: true,
                ..Misbehave::default()
            },
        );
        c.post("/api/v1/session/passkey", json!({"credential": bad}))
            .await;
    }
    assert_eq!(owner.audited("two_factor.locked").await, 1);
    let (status, body) = answer_with_passkey(&c, &mut key).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
}

async fn a_required_setup_may_choose_a_passkey(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    owner.reauthenticate().await;
    let (status, body) = owner
        .change_security(json!({"require_two_factor": "staff"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Signed in with the password, and held for the practice's required setup: that password
    // counts for the passkey's registration.
    let (staff, _) = app.person(&owner, "staff", "sam@harbor.test").await;
    let (status, _) = staff.get("/api/v1/me").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let mut key = Authenticator::for_latch(&owner.base);
    let body = add_passkey(&staff, &mut key).await;
    assert_eq!(body["state"], "signed_in", "{body}");
    assert_eq!(body["recovery_codes"].as_array().map(Vec::len), Some(10));
    let (status, me) = staff.get("/api/v1/me").await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["two_factor"]["methods"][0]["kind"], "passkey", "{me}");
}

async fn a_passkey_begun_on_one_node_is_finished_on_another(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let (b, _node) = app.second_node().await;
    let owner = app.with_practice().await;
    owner.reauthenticate().await;
    let mut key = Authenticator::for_latch(&owner.base);
    let (_, options) = owner.post("/api/v1/me/passkeys/options", json!({})).await;
    let credential = key.create(&options);
    let (status, body) = owner
        .on(&b)
        .post("/api/v1/me/passkeys", json!({"credential": credential}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // A sign-in with it alone, begun on B and finished on A.
    let c = app.client();
    let (status, options) = c
        .on(&b)
        .post("/api/v1/session/passkey/options", json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{options}");
    let answer = key.get(&options);
    let (status, body) = c
        .post("/api/v1/session/passkey", json!({"credential": answer}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

pub(super) async fn of_twenty_submissions_of_one_assertion_one_wins(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let (_owner, mut key) = owner_preferring_a_passkey(&app).await;
    let c = pending_sign_in(&app).await;
    let (_, options) = c.post("/api/v1/session/passkey/options", json!({})).await;
    let answer = key.get(&options);
    let requests = (0..20)
        .map(|_| {
            (
                c.clone(),
                "/api/v1/session/passkey",
                json!({"credential": answer}),
            )
        })
        .collect();
    let answers = post_at_once(requests).await;
    let won = answers
        .iter()
        .filter(|(status, _)| *status == StatusCode::OK)
        .count();
    assert_eq!(won, 1, "{answers:?}");
    for (status, body) in &answers {
        assert!(
            *status == StatusCode::OK
                || ["invalid_credential", "not_signed_in"].contains(&code(body)),
            "{status} {body}"
        );
    }
}

pub(super) async fn of_two_clones_answering_with_one_counter_one_wins(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let (_owner, mut key) = owner_preferring_a_passkey(&app).await;
    // Ten sign-ins, each with its own ceremony, answered at once by copies of one key that
    // all give the same next counter: the counter moves once.
    let mut requests = Vec::new();
    let next = key.credentials[0].counter + 1;
    for _ in 0..10 {
        let c = pending_sign_in(&app).await;
        let (_, options) = c.post("/api/v1/session/passkey/options", json!({})).await;
        let answer = key.get_misbehaving(
            &options,
            &Misbehave {
                counter: Some(next),
                ..Misbehave::default()
            },
        );
        requests.push((c, "/api/v1/session/passkey", json!({"credential": answer})));
    }
    let answers = post_at_once(requests).await;
    let won = answers
        .iter()
        .filter(|(status, _)| *status == StatusCode::OK)
        .count();
    assert_eq!(won, 1, "{answers:?}");
}

/// Asks for a sessionless passkey sign-in and answers it with the key.
async fn alone(c: &Client, key: &mut Authenticator) -> (StatusCode, Value) {
    let (status, options) = c.post("/api/v1/session/passkey/options", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{options}");
    let answer = key.get(&options);
    c.post("/api/v1/session/passkey", json!({"credential": answer}))
        .await
}

async fn a_passkey_alone_is_refused_to_someone_who_left_and_throttled_by_address(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    let (staff, staff_id) = app.person(&owner, "staff", "sam@harbor.test").await;
    staff.reauthenticate().await;
    let mut key = Authenticator::for_latch(&owner.base);
    add_passkey(&staff, &mut key).await;
    owner.reauthenticate().await;
    let deactivate = format!("/api/v1/practice/users/{staff_id}/deactivate");
    let (status, body) = owner.post(&deactivate, json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, body) = alone(&app.client(), &mut key).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, "account_deactivated"),
        "{body}"
    );
    let reactivate = format!("/api/v1/practice/users/{staff_id}/reactivate");
    let (status, body) = owner.post(&reactivate, json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");

    // Refused answers from one address count as wrong passwords do: a hundred in a quarter
    // of an hour, and that address is refused, right passkey or not.
    let c = app.client();
    for _ in 0..100 {
        let (status, body) = c
            .post(
                "/api/v1/session/passkey",
                json!({"credential": {"id": "made-up"}}),
            )
            .await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::BAD_REQUEST, "invalid_credential"),
            "{body}"
        );
    }
    let (status, body) = alone(&c, &mut key).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
        "{body}"
    );
    app.clock.advance(15 * 60);
    let (status, body) = alone(&c, &mut key).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn an_application_learns_that_a_passkey_was_used(dialect: Dialect) {
    use crate::oidc::{claims_of, code_for, exchange, register};
    let app = TestApp::new(dialect).await;
    let (_owner, mut key) = owner_preferring_a_passkey(&app).await;
    let rp = register(&app, false).await;
    // After the password.
    let c = pending_sign_in(&app).await;
    let (status, body) = answer_with_passkey(&c, &mut key).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let code = code_for(&app, &c, &rp).await;
    let (status, tokens) = exchange(&app.client(), &rp, &code).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let claims = claims_of(tokens["id_token"].as_str().unwrap());
    assert_eq!(
        claims["amr"],
        json!(["pwd", "hwk", "user", "mfa"]),
        "{claims}"
    );
    assert_eq!(claims["acr"], "mfa");
    // Alone: no password stood behind it.
    let c = app.client();
    let (status, body) = alone(&c, &mut key).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let code = code_for(&app, &c, &rp).await;
    let (status, tokens) = exchange(&app.client(), &rp, &code).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let claims = claims_of(tokens["id_token"].as_str().unwrap());
    assert_eq!(claims["amr"], json!(["hwk", "user", "mfa"]), "{claims}");
}
