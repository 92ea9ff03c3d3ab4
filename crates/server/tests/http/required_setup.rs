//! The practice's required setup: the password given at sign-in counts for the setup of that
//! one session, and only until the person has two-factor.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::{Dialect, PASSWORD, TestApp, code};

const STAFF: &str = "sam@harbor.test";
const PHONE: &str = "+14155552671";
const STRANGER: &str = "+14155550199";

crate::on_both_databases!(
    once_the_person_has_two_factor_no_other_session_keeps_a_setup_credit,
    a_setup_begun_in_a_stale_session_cannot_be_confirmed_after_another_enrolled,
);

/// A practice that requires two-factor of staff, and a staff member without it.
async fn practice_requiring_staff(app: &TestApp) {
    let owner = app.with_practice().await;
    app.person(&owner, "staff", STAFF).await;
    owner
        .post(
            "/api/v1/session/reauthenticate",
            json!({"password": PASSWORD}),
        )
        .await;
    let (status, body) = owner
        .put(
            "/api/v1/practice/security",
            json!({"require_two_factor": "staff"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn held_for_setup(app: &TestApp) -> crate::support::Client {
    let c = app.client();
    let (status, body) = c.sign_in(STAFF, PASSWORD).await;
    assert_eq!(
        (status, body["state"].as_str()),
        (StatusCode::OK, Some("two_factor_setup_required")),
        "{body}"
    );
    c
}

async fn once_the_person_has_two_factor_no_other_session_keeps_a_setup_credit(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    practice_requiring_staff(&app).await;
    let stale = held_for_setup(&app).await;
    let person = held_for_setup(&app).await;
    app.enrol(&person, PHONE).await;

    // Someone holding the older session tries to put their own phone in.
    let (status, body) = stale
        .post(
            "/api/v1/me/two-factor/setup",
            json!({"phone": STRANGER, "channel": "sms"}),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNAUTHORIZED, "not_signed_in"),
        "{body}"
    );
    assert!(app.outbox_to(STRANGER).await.is_empty());
    let (status, me) = person.get("/api/v1/me").await;
    assert_eq!(status, StatusCode::OK, "the person stays signed in");
    assert_eq!(me["two_factor"]["phone"], "+1 ••• ••• ••71");
}

async fn a_setup_begun_in_a_stale_session_cannot_be_confirmed_after_another_enrolled(
    dialect: Dialect,
) {
    let app = TestApp::new(dialect).await;
    practice_requiring_staff(&app).await;
    let stale = held_for_setup(&app).await;
    let (status, _) = stale
        .post(
            "/api/v1/me/two-factor/setup",
            json!({"phone": STRANGER, "channel": "sms"}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let stranger_code = app.last_code_to(STRANGER).await;
    let person = held_for_setup(&app).await;
    app.enrol(&person, PHONE).await;

    let (status, body) = stale
        .post(
            "/api/v1/me/two-factor/setup/confirm",
            json!({"code": stranger_code}),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNAUTHORIZED, "not_signed_in"),
        "{body}"
    );
    let (_, me) = person.get("/api/v1/me").await;
    assert_eq!(
        me["two_factor"]["phone"], "+1 ••• ••• ••71",
        "the phone holds"
    );
}
