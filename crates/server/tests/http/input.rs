//! Input that cannot be what it claims (a code of the wrong shape, a phone number with letters)
//! is refused with a clear message before it counts toward anything or sends anything.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::{Dialect, PASSWORD, TestApp, code};

const PHONE: &str = "+14155552671";
const OWNER: &str = "owner@harbor.test";

crate::on_both_databases!(
    something_that_cannot_be_a_code_is_not_a_guess,
    a_setup_code_of_the_wrong_shape_is_not_a_guess_either,
    letters_in_a_phone_number_are_refused_never_read_as_keypad_digits,
    the_setup_step_shows_the_whole_number_just_typed,
);

async fn something_that_cannot_be_a_code_is_not_a_guess(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    app.turn_on_two_factor(&owner, PHONE).await;
    let c = app.client();
    let (_, body) = c.sign_in(OWNER, PASSWORD).await;
    assert_eq!(body["state"], "two_factor_required", "{body}");
    let right = app.last_code_to(PHONE).await;

    for malformed in ["1234567", "123456789", "abcdefgh", "", "1234 567x"] {
        let (status, body) = c
            .post(
                "/api/v1/session/verify",
                json!({"code": malformed, "remember_device": false}),
            )
            .await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::BAD_REQUEST, "invalid_code"),
            "{malformed:?}: {body}"
        );
        assert_eq!(body["error"]["attempts_left"], 5, "{malformed:?}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("8 digits"),
            "{body}"
        );
    }
    let wrong = if right == "00000000" {
        "11111111"
    } else {
        "00000000"
    };
    let (_, body) = c
        .post(
            "/api/v1/session/verify",
            json!({"code": wrong, "remember_device": false}),
        )
        .await;
    assert_eq!(
        body["error"]["attempts_left"], 4,
        "a real guess counts: {body}"
    );
    let (_, events) = owner.get("/api/v1/practice/audit?kind=code.wrong").await;
    assert_eq!(events["events"].as_array().unwrap().len(), 1);
    let (status, _) = c
        .post(
            "/api/v1/session/verify",
            json!({"code": right, "remember_device": false}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
}

async fn a_setup_code_of_the_wrong_shape_is_not_a_guess_either(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    let (status, _) = owner.begin_setup(PHONE, "sms").await;
    assert_eq!(status, StatusCode::ACCEPTED);
    for _ in 0..8 {
        let (status, body) = owner
            .post(
                "/api/v1/me/two-factor/setup/confirm",
                json!({"code": "12-34"}),
            )
            .await;
        assert_eq!(
            (status, code(&body), body["error"]["attempts_left"].as_i64()),
            (StatusCode::BAD_REQUEST, "invalid_code", Some(5)),
            "{body}"
        );
    }
    let right = app.last_code_to(PHONE).await;
    let (status, body) = owner
        .post(
            "/api/v1/me/two-factor/setup/confirm",
            json!({"code": right}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "eight malformed codes spent nothing: {body}"
    );
}

async fn letters_in_a_phone_number_are_refused_never_read_as_keypad_digits(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    // A capital O for a zero: read as a keypad digit it is +1 415 555 6123, a stranger.
    for typed in ["415555O123", "1-800-FLOWERS", "+1 415 555 26 seven 1"] {
        let (status, body) = owner
            .post(
                "/api/v1/session/reauthenticate",
                json!({"password": PASSWORD}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, body) = owner
            .post(
                "/api/v1/me/two-factor/setup",
                json!({"phone": typed, "country": "US", "channel": "sms"}),
            )
            .await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::BAD_REQUEST, "invalid_phone"),
            "{typed}: {body}"
        );
        assert_eq!(
            body["error"]["message"],
            "Phone numbers can only have digits, spaces, ( ) - and +."
        );
    }
    for stranger in ["+14155556123", "+18003569377"] {
        assert!(app.outbox_to(stranger).await.is_empty(), "nothing was sent");
    }
}

async fn the_setup_step_shows_the_whole_number_just_typed(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    let (status, body) = owner.begin_setup("+1 (415) 555-2671", "sms").await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["phone"], "+1 ••• ••• ••71", "the API answers masked");
    let (status, page) = owner.get("/profile/two-factor/confirm").await;
    assert_eq!(status, StatusCode::OK);
    let page = page.as_str().unwrap();
    assert!(page.contains("+1 415-555-2671"), "{page}");
    assert!(page.contains("Change the number"));
}
