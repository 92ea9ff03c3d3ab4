//! Turning two-factor on, changing it and turning it off, and what the practice's rule allows.

use latch_app::ports::{PersonStore, PracticeStore};
use reqwest::StatusCode;
use serde_json::json;

use super::{OWNER, PHONE, owner_with_two_factor, pending_sign_in, verify, wrong};
use crate::support::{Dialect, PASSWORD, TestApp, code, csrf_of, refused_fields};

crate::on_both_databases!(
    a_voice_users_notice_is_a_call,
    turning_on_takes_the_password_again_and_a_code_sent_to_the_new_phone,
    turning_on_for_the_first_time_ends_no_session,
    a_setup_code_expires_after_ten_minutes,
    changing_the_phone_holds_the_old_one_until_the_new_one_is_confirmed,
    turning_off_notifies_the_old_phone_and_ends_devices_and_sessions,
    bad_phone_numbers_are_refused_before_anything_is_sent,
    a_practice_that_requires_two_factor_keeps_it_from_being_turned_off,
    owners_see_each_persons_two_factor_devices_and_lock,
    a_change_on_the_page_starts_from_the_number_and_method_in_use,
    a_call_instead_during_setup_keeps_the_method_chosen_or_the_one_asked_for,
);

async fn turning_on_takes_the_password_again_and_a_code_sent_to_the_new_phone(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    let (status, body) = owner
        .post(
            "/api/v1/me/two-factor/setup",
            json!({"phone": PHONE, "channel": "sms"}),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, "reauthentication_required")
    );
    assert!(app.outbox_to(PHONE).await.is_empty(), "nothing was sent");

    owner
        .post(
            "/api/v1/session/reauthenticate",
            json!({"password": PASSWORD}),
        )
        .await;
    let (status, body) = owner
        .post(
            "/api/v1/me/two-factor/setup",
            json!({"phone": "(415) 555-2671", "country": "US", "channel": "sms"}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(
        body,
        json!({"phone": "+1 ••• ••• ••71", "channel": "sms", "code_expires_in": 600})
    );
    let sent = app.last_code_to(PHONE).await;
    assert_eq!(sent.len(), 8);

    let (status, body) = owner
        .post(
            "/api/v1/me/two-factor/setup/confirm",
            json!({"code": wrong(&sent)}),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "invalid_code")
    );
    assert_eq!(body["error"]["attempts_left"], 4);
    assert_eq!(
        owner.get("/api/v1/me").await.1["two_factor"]["enabled"],
        false,
        "not on before the code"
    );

    // Spaces and dashes are fine.
    let typed = format!("{}-{}", &sent[..4], &sent[4..]);
    let (status, body) = owner
        .post(
            "/api/v1/me/two-factor/setup/confirm",
            json!({"code": typed}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        without_times(&body["two_factor"]),
        json!({"enabled": true, "channel": "sms", "phone": "+1 ••• ••• ••71", "required": false,
               "methods": [{"id": "phone", "kind": "sms", "label": "+1 ••• ••• ••71"}],
               "preferred": "sms", "recovery_codes_left": 10})
    );
    assert_eq!(body["recovery_codes"].as_array().map(Vec::len), Some(10));
    let (_, me) = owner.get("/api/v1/me").await;
    assert_eq!(me["two_factor"]["enabled"], true);

    let (status, body) = owner
        .post("/api/v1/me/two-factor/setup/confirm", json!({"code": sent}))
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::CONFLICT, "no_setup_in_progress")
    );
}

async fn turning_on_for_the_first_time_ends_no_session(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    let laptop = app.client();
    laptop.sign_in(OWNER, PASSWORD).await;
    app.turn_on_two_factor(&owner, PHONE).await;
    assert_eq!(laptop.get("/api/v1/me").await.0, StatusCode::OK);
}

async fn a_setup_code_expires_after_ten_minutes(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    owner.begin_setup(PHONE, "sms").await;
    let sent = app.last_code_to(PHONE).await;
    app.clock.advance(10 * 60);
    owner.get("/api/v1/me").await;
    let (status, body) = owner
        .post("/api/v1/me/two-factor/setup/confirm", json!({"code": sent}))
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "code_expired")
    );
    // Once started, a setup's resend needs no new password.
    app.clock.advance(1);
    let (status, body) = owner
        .post("/api/v1/me/two-factor/setup/resend", json!({}))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let fresh = app.last_code_to(PHONE).await;
    assert_eq!(
        owner
            .post(
                "/api/v1/me/two-factor/setup/confirm",
                json!({"code": fresh})
            )
            .await
            .0,
        StatusCode::OK
    );
}

async fn changing_the_phone_holds_the_old_one_until_the_new_one_is_confirmed(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = owner_with_two_factor(&app).await;
    let laptop = pending_sign_in(&app).await;
    verify(&laptop, &app.last_code_to(PHONE).await, true).await;

    let (status, _) = owner.begin_setup("+14155552699", "voice").await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(
        owner.get("/api/v1/me").await.1["two_factor"]["phone"],
        "+1 ••• ••• ••71",
        "the old phone holds"
    );
    assert_eq!(laptop.get("/api/v1/me").await.0, StatusCode::OK);

    let new_code = app.last_code_to("+14155552699").await;
    let (status, body) = owner
        .post(
            "/api/v1/me/two-factor/setup/confirm",
            json!({"code": new_code}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["two_factor"]["channel"], "voice");
    assert_eq!(body["two_factor"]["phone"], "+1 ••• ••• ••99");
    let notice = &app.outbox_to(PHONE).await[0];
    assert!(
        notice["code"].is_null()
            && notice["body"]
                .as_str()
                .unwrap()
                .contains("different phone number"),
        "{notice}"
    );
    assert_eq!(
        laptop.get("/api/v1/me").await.0,
        StatusCode::UNAUTHORIZED,
        "other sessions end"
    );
    assert_eq!(owner.get("/api/v1/me").await.0, StatusCode::OK);
    assert!(
        owner.get("/api/v1/me/devices").await.1["devices"]
            .as_array()
            .unwrap()
            .is_empty(),
        "devices end"
    );
}

async fn turning_off_notifies_the_old_phone_and_ends_devices_and_sessions(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = owner_with_two_factor(&app).await;
    let laptop = pending_sign_in(&app).await;
    verify(&laptop, &app.last_code_to(PHONE).await, true).await;
    app.clock.advance(11 * 60);
    owner.get("/api/v1/me").await;
    let (status, body) = owner.delete("/api/v1/me/two-factor").await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, "reauthentication_required"),
        "the sign-in's re-entry has run out"
    );
    owner
        .post(
            "/api/v1/session/reauthenticate",
            json!({"password": PASSWORD}),
        )
        .await;
    assert_eq!(
        owner.delete("/api/v1/me/two-factor").await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        owner.get("/api/v1/me").await.1["two_factor"]["enabled"],
        false
    );
    let notice = &app.outbox_to(PHONE).await[0];
    assert!(notice["body"].as_str().unwrap().contains("turned off"));
    assert_eq!(notice["channel"], "sms", "a text user's notice is a text");
    assert_eq!(laptop.get("/api/v1/me").await.0, StatusCode::UNAUTHORIZED);
    let (status, body) = app.client().sign_in(OWNER, PASSWORD).await;
    assert_eq!(
        (status, &body["state"]),
        (StatusCode::OK, &json!("signed_in")),
        "no code any more"
    );
}

async fn bad_phone_numbers_are_refused_before_anything_is_sent(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    owner
        .post(
            "/api/v1/session/reauthenticate",
            json!({"password": PASSWORD}),
        )
        .await;
    let cases = [
        (json!({"phone": "12345", "channel": "sms"}), "invalid_phone"),
        (
            json!({"phone": "415 555 2671", "channel": "sms"}),
            "invalid_phone",
        ),
        (
            json!({"phone": "+1 900 555 0123", "channel": "sms"}),
            "phone_not_allowed",
        ),
        (
            json!({"phone": "+1 800 555 0123", "channel": "sms"}),
            "phone_not_allowed",
        ),
        (
            json!({"phone": "+44 7400 123456", "channel": "sms"}),
            "phone_not_allowed",
        ),
        (
            json!({"phone": PHONE, "extension": "204", "channel": "sms"}),
            "invalid_phone",
        ),
        (
            json!({"phone": PHONE, "channel": "pigeon"}),
            "invalid_request",
        ),
        (
            json!({"phone": "12345", "extension": "12a", "channel": "pigeon"}),
            "invalid_phone",
        ),
    ];
    for (body, expected) in cases {
        let (status, answer) = owner
            .post("/api/v1/me/two-factor/setup", body.clone())
            .await;
        assert_eq!(
            (status, code(&answer)),
            (StatusCode::BAD_REQUEST, expected),
            "{body}"
        );
    }
    // Every value refused at once: the number, the extension and the method.
    let (_, answer) = owner
        .post(
            "/api/v1/me/two-factor/setup",
            json!({"phone": "12345", "extension": "12a", "channel": "pigeon"}),
        )
        .await;
    assert_eq!(
        refused_fields(&answer),
        ["phone", "extension", "channel"],
        "{answer}"
    );
    let (_, answer) = owner
        .post(
            "/api/v1/me/two-factor/setup",
            json!({"phone": "+44 7400 123456", "extension": "204", "channel": "sms"}),
        )
        .await;
    assert_eq!(
        refused_fields(&answer),
        ["phone", "extension"],
        "a country not allowed and an extension a text cannot reach: {answer}"
    );
    let c = app.client();
    let (_, all) = c.send(c.http.get(c.url("/api/v1/dev/outbox"))).await;
    assert!(
        all["messages"].as_array().unwrap().is_empty(),
        "nothing was sent"
    );
}

async fn a_practice_that_requires_two_factor_keeps_it_from_being_turned_off(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = owner_with_two_factor(&app).await;
    let account = app.db.account_by_email(OWNER).await.unwrap().unwrap();
    let mut security = account.practice.security.clone();
    security.require_two_factor = latch_domain::practice::RequireTwoFactor::Staff;
    app.db
        .update_security(&account.practice.id, &security)
        .await
        .unwrap();
    owner
        .post(
            "/api/v1/session/reauthenticate",
            json!({"password": PASSWORD}),
        )
        .await;
    let (status, body) = owner.delete("/api/v1/me/two-factor").await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::CONFLICT, "two_factor_required_by_practice")
    );
    assert_eq!(
        owner.get("/api/v1/me").await.1["two_factor"]["required"],
        true
    );
    assert_eq!(
        owner.get("/api/v1/me").await.1["two_factor"]["enabled"],
        true
    );
}

async fn owners_see_each_persons_two_factor_devices_and_lock(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    let (staff, sam_id) = app.person(&owner, "staff", "sam@harbor.test").await;
    app.turn_on_two_factor(&staff, "+14155552672").await;
    let desk = app.client();
    desk.sign_in("sam@harbor.test", PASSWORD).await;
    verify(&desk, &app.last_code_to("+14155552672").await, true).await;

    let (_, sam) = owner.get(&format!("/api/v1/practice/users/{sam_id}")).await;
    assert_eq!(
        without_times(&sam["two_factor"]),
        json!({"enabled": true, "channel": "sms", "phone": "+1 ••• ••• ••72", "required": false,
               "methods": [{"id": "phone", "kind": "sms", "label": "+1 ••• ••• ••72"}],
               "preferred": "sms", "recovery_codes_left": 10})
    );
    assert_eq!(
        (sam["remembered_devices"].as_i64(), sam["status"].as_str()),
        (Some(1), Some("active"))
    );
    let (_, on) = owner.get("/api/v1/practice/users?two_factor=on").await;
    assert_eq!(on["users"].as_array().unwrap().len(), 1);
    assert_eq!(on["users"][0]["remembered_devices"], 1);

    app.db
        .set_two_factor_lock(
            &latch_app::PersonId::from_stored(sam_id.as_str()),
            Some(app.latch().now().plus(900)),
            false,
        )
        .await
        .unwrap();
    assert_eq!(
        owner
            .get(&format!("/api/v1/practice/users/{sam_id}"))
            .await
            .1["status"],
        "locked"
    );
    app.db
        .set_two_factor_lock(
            &latch_app::PersonId::from_stored(sam_id.as_str()),
            None,
            true,
        )
        .await
        .unwrap();
    assert_eq!(
        owner
            .get(&format!("/api/v1/practice/users/{sam_id}"))
            .await
            .1["status"],
        "locked_until_unlocked"
    );
}

async fn a_voice_users_notice_is_a_call(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    owner.reauthenticate().await;
    let (status, body) = owner
        .post(
            "/api/v1/me/two-factor/setup",
            json!({"phone": PHONE, "channel": "voice"}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let code = app.last_code_to(PHONE).await;
    let (status, body) = owner
        .post("/api/v1/me/two-factor/setup/confirm", json!({"code": code}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        owner.delete("/api/v1/me/two-factor").await.0,
        StatusCode::NO_CONTENT
    );
    let notice = &app.outbox_to(PHONE).await[0];
    assert_eq!(notice["channel"], "voice", "{notice}");
    assert!(
        notice["body"]
            .as_str()
            .unwrap()
            .contains("Two-factor sign-in was turned off for your account."),
        "{notice}"
    );
}

/// A change starts from what two-factor uses now: the number, kept unless another is typed,
/// and the method. Keeping the number and choosing calls sends the code by a call to it.
async fn a_change_on_the_page_starts_from_the_number_and_method_in_use(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = owner_with_two_factor(&app).await;
    owner.reauthenticate().await;
    let (_, html) = owner.page("/profile/two-factor").await;
    assert!(
        html.contains(r#"value="current" checked> <span>Keep this number: <span class="nowrap">+1 ••• ••• ••71</span>"#),
        "{html}"
    );
    assert!(html.contains(r#"value="sms" checked"#), "the method in use");
    assert!(
        !html.contains("4155552671"),
        "the number is not written out"
    );

    let (_, first) = owner.page("/profile").await;
    assert!(csrf_of(&first).len() == 64);
    let form = [
        ("number", "current"),
        ("country", "US"),
        ("phone", ""),
        ("channel", "voice"),
        ("extension", ""),
    ];
    let (to, status, html) = owner
        .fill_in("/profile/two-factor", "/profile/two-factor/setup", &form)
        .await;
    assert_eq!(
        (to.as_str(), status),
        ("/profile/two-factor/confirm", StatusCode::OK)
    );
    assert!(html.contains("+1 415-555-2671"), "{html}");
    let call = app.outbox_to(PHONE).await[0].clone();
    assert_eq!(call["channel"], "voice", "{call}");
    let (status, body) = owner
        .post(
            "/api/v1/me/two-factor/setup/confirm",
            json!({"code": app.last_code_to(PHONE).await}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["two_factor"]["channel"], "voice");
    assert_eq!(body["two_factor"]["phone"], "+1 ••• ••• ••71");

    // A different number is typed in; the kept one is not used.
    owner.reauthenticate().await;
    let (_, html) = owner.page("/profile/two-factor").await;
    assert!(
        html.contains(r#"value="voice" checked"#),
        "the method in use now"
    );
    let form = [
        ("number", "new"),
        ("country", "US"),
        ("phone", "(415) 555-2699"),
        ("channel", "sms"),
        ("extension", ""),
    ];
    let (to, _, _) = owner
        .fill_in("/profile/two-factor", "/profile/two-factor/setup", &form)
        .await;
    assert_eq!(to, "/profile/two-factor/confirm");
    assert_eq!(app.outbox_to("+14155552699").await.len(), 1);
}

/// "Call me instead" during a setup sends one call; the method chosen stays unless the person
/// keeps the one their code came by, and no method the setup never reached the phone by can be
/// kept.
async fn a_call_instead_during_setup_keeps_the_method_chosen_or_the_one_asked_for(
    dialect: Dialect,
) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    let (status, _) = owner.begin_setup(PHONE, "sms").await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let code = app.last_code_to(PHONE).await;
    let (status, body) = owner
        .post(
            "/api/v1/me/two-factor/setup/confirm",
            json!({"code": code, "channel": "voice"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "no call went: {body}");
    assert_eq!(refused_fields(&body), ["channel"]);

    app.clock.advance(30);
    let (to, _, html) = owner
        .fill_in(
            "/profile/two-factor/confirm",
            "/profile/two-factor/resend",
            &[("channel", "voice")],
        )
        .await;
    assert_eq!(to, "/profile/two-factor/confirm?resent=1");
    let sent = app.outbox_to(PHONE).await;
    assert_eq!(
        sent.iter()
            .map(|m| m["channel"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["voice", "sms"],
        "one call"
    );
    assert!(
        html.contains(
            r#"name="channel" value="sms" checked> <span>Text message (SMS), as you chose"#
        ) && html.contains(r#"name="channel" value="voice"> <span>Voice call, as this code came"#),
        "the page asks, the method chosen first: {html}"
    );
    let call = app.last_code_to(PHONE).await;
    let (status, body) = owner
        .post("/api/v1/me/two-factor/setup/confirm", json!({"code": call}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["two_factor"]["channel"], "sms",
        "the method chosen stays"
    );

    // Asked for, the method the code came by is kept.
    owner.reauthenticate().await;
    let (status, _) = owner.begin_setup(PHONE, "sms").await;
    assert_eq!(status, StatusCode::ACCEPTED);
    app.clock.advance(30);
    let (status, _) = owner
        .post(
            "/api/v1/me/two-factor/setup/resend",
            json!({"channel": "voice"}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let call = app.last_code_to(PHONE).await;
    let (_, html) = owner.page("/profile/two-factor/confirm").await;
    let form = [("code", call.as_str()), ("channel", "voice")];
    let (to, _, _) = owner
        .submit_and_follow(
            "/profile/two-factor/confirm",
            &[&[("csrf", csrf_of(&html).as_str())][..], &form].concat(),
        )
        .await;
    assert_eq!(to, "/profile/two-factor/done?changed=1");
    let (_, me) = owner.get("/api/v1/me").await;
    assert_eq!(me["two_factor"]["channel"], "voice", "{me}");
}

/// A `TwoFactor` without its methods' times, which the clock decides.
fn without_times(two_factor: &serde_json::Value) -> serde_json::Value {
    let mut two_factor = two_factor.clone();
    if let Some(methods) = two_factor["methods"].as_array_mut() {
        for method in methods {
            if let Some(method) = method.as_object_mut() {
                assert!(
                    method.remove("created_at").is_some_and(|t| t.is_string()),
                    "{method:?}"
                );
                method.remove("last_used_at");
            }
        }
    }
    two_factor
}
