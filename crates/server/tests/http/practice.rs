//! Practice administration through the API: security settings and the practice's rule, reset
//! and unlock with every permission edge, and the audit trail, on both databases.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{Client, Dialect, PASSWORD, TestApp, code, csrf_of};

crate::on_both_databases!(
    settings_start_at_the_documented_defaults_and_only_admins_see_them,
    changing_settings_needs_the_password_again_and_stays_in_bounds,
    each_settings_change_is_audited_with_old_and_new_values,
    lowering_the_remember_limit_ends_older_devices,
    lowering_the_remember_limit_caps_recent_devices_at_the_new_limit,
    a_remembered_browser_is_held_to_the_practices_limit_of_the_day,
    the_rule_takes_staff_through_setup_before_the_dashboard,
    the_rule_for_staff_and_clients_covers_clients,
    reset_and_unlock_follow_every_permission_edge,
    a_reset_turns_two_factor_off_and_ends_sessions_and_devices,
    an_unlock_clears_the_lock_and_keeps_the_phone,
    the_audit_trail_filters_pages_and_exports,
    the_csv_export_holds_every_matching_event_on_the_practices_clock,
    the_operators_console_resets_and_unlocks_with_an_audit_entry,
    the_settings_page_keeps_bad_values_beside_their_fields,
    the_administration_pages_answer_only_owners_and_managers,
    the_person_page_checks_permission_before_the_password_and_keeps_a_refused_session,
    every_security_event_reaches_the_audit_trail,
);

async fn reauth(c: &Client) {
    let (status, body) = c
        .post(
            "/api/v1/session/reauthenticate",
            json!({"password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn put_security(c: &Client, body: Value) -> (StatusCode, Value) {
    c.put("/api/v1/practice/security", body).await
}

async fn settings_start_at_the_documented_defaults_and_only_admins_see_them(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    let (status, body) = owner.get("/api/v1/practice/security").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"require_two_factor": "off", "remember_device_days": 365, "sign_out_after_idle_minutes": 15,
               "allowed_countries": ["US"], "daily_send_budget": 500,
               "time_zone": "America/New_York", "methods_allowed": ["passkey", "totp", "sms", "voice"]})
    );
    let (manager, _) = app.person(&owner, "manager", "morgan@harbor.test").await;
    assert_eq!(
        manager.get("/api/v1/practice/security").await.0,
        StatusCode::OK
    );
    for (role, email) in [
        ("staff", "sam@harbor.test"),
        ("client", "casey@harbor.test"),
    ] {
        let (c, _) = app.person(&owner, role, email).await;
        assert_eq!(
            code(&c.get("/api/v1/practice/security").await.1),
            "forbidden"
        );
        reauth(&c).await;
        assert_eq!(
            code(
                &put_security(&c, json!({"require_two_factor": "off"}))
                    .await
                    .1
            ),
            "forbidden"
        );
    }
}

async fn changing_settings_needs_the_password_again_and_stays_in_bounds(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    let (status, body) = put_security(&owner, json!({"require_two_factor": "staff"})).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, "reauthentication_required")
    );
    reauth(&owner).await;
    for bad in [
        json!({"require_two_factor": "everyone"}),
        json!({"remember_device_days": 366}),
        json!({"remember_device_days": -1}),
        json!({"sign_out_after_idle_minutes": 4}),
        json!({"sign_out_after_idle_minutes": 121}),
        json!({"allowed_countries": []}),
        json!({"allowed_countries": ["ZZ"]}),
        json!({"daily_send_budget": 0}),
        json!({"daily_send_budget": 100001}),
    ] {
        let (status, answer) = put_security(&owner, bad.clone()).await;
        assert_eq!(
            (status, code(&answer)),
            (StatusCode::BAD_REQUEST, "invalid_setting"),
            "{bad}"
        );
    }
    // Every value out of bounds is refused at once, each named beside its field.
    let (status, answer) = put_security(
        &owner,
        json!({"sign_out_after_idle_minutes": 4, "allowed_countries": ["ZZ"], "daily_send_budget": 0}),
    )
    .await;
    assert_eq!(
        (status, code(&answer)),
        (StatusCode::BAD_REQUEST, "invalid_setting")
    );
    let fields: Vec<&str> = answer["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "sign_out_after_idle_minutes",
            "allowed_countries",
            "daily_send_budget"
        ]
    );
    let message = answer["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("5 to 120") && message.contains("100,000"),
        "{message}"
    );
    let (status, answer) = put_security(&owner, json!({"daily_send_budget": "lots"})).await;
    assert_eq!(
        (status, code(&answer)),
        (StatusCode::BAD_REQUEST, "invalid_request")
    );
    assert_eq!(
        owner.get("/api/v1/practice/security").await.1["require_two_factor"],
        "off",
        "nothing changed"
    );

    let (status, body) = put_security(
        &owner,
        json!({"remember_device_days": 30, "sign_out_after_idle_minutes": 120, "allowed_countries": ["US", "CA"], "daily_send_budget": 100000}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["remember_device_days"], 30);
    assert_eq!(body["allowed_countries"], json!(["US", "CA"]));
    assert_eq!(body["require_two_factor"], "off", "left out, left alone");
}

async fn each_settings_change_is_audited_with_old_and_new_values(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    reauth(&owner).await;
    put_security(
        &owner,
        json!({"require_two_factor": "staff", "sign_out_after_idle_minutes": 30}),
    )
    .await;
    let (_, audit) = owner
        .get("/api/v1/practice/audit?kind=practice.security_changed")
        .await;
    let event = &audit["events"][0];
    assert_eq!(
        event["detail"],
        "require_two_factor: off → staff; sign_out_after_idle_minutes: 15 → 30"
    );
    assert!(event["actor"].is_string() && event["ip"] == "127.0.0.1");
}

async fn lowering_the_remember_limit_ends_older_devices(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    app.turn_on_two_factor(&owner, "+14155552671").await;
    let desk = app.client();
    desk.sign_in("owner@harbor.test", PASSWORD).await;
    desk.enter_code(app.last_code_to("+14155552671").await, true)
        .await;
    app.clock.advance(40 * 86_400 - 600);
    owner.sign_in("owner@harbor.test", PASSWORD).await;
    owner
        .enter_code(app.last_code_to("+14155552671").await, true)
        .await;
    assert_eq!(
        owner.get("/api/v1/me/devices").await.1["devices"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    reauth(&owner).await;
    put_security(&owner, json!({"remember_device_days": 30})).await;
    let devices = owner.get("/api/v1/me/devices").await.1["devices"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(devices.len(), 1, "the 40-day-old device ended");
    assert_eq!(devices[0]["current"], true);
}

async fn lowering_the_remember_limit_caps_recent_devices_at_the_new_limit(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    app.turn_on_two_factor(&owner, "+14155552671").await;
    // A browser remembered this minute, for the year the practice allowed until now.
    let desk = app.client();
    desk.sign_in("owner@harbor.test", PASSWORD).await;
    let (status, _) = desk
        .post(
            "/api/v1/session/verify",
            json!({"code": app.last_code_to("+14155552671").await, "remember_device": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    reauth(&owner).await;
    let (status, _) = put_security(&owner, json!({"remember_device_days": 30})).await;
    assert_eq!(status, StatusCode::OK);

    let (_, devices) = desk.get("/api/v1/me/devices").await;
    let device = &devices["devices"][0];
    let lifetime = rfc3339_seconds(&device["expires_at"]) - rfc3339_seconds(&device["created_at"]);
    assert_eq!(lifetime, 30 * 86_400, "capped at the new limit: {device}");

    app.clock.advance(30 * 86_400 + 1);
    let (status, body) = desk.sign_in("owner@harbor.test", PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["state"], "two_factor_required",
        "past the new limit the browser is asked for a code"
    );
}

async fn a_remembered_browser_is_held_to_the_practices_limit_of_the_day(dialect: Dialect) {
    use latch_app::ports::PracticeStore;
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    app.turn_on_two_factor(&owner, "+14155552671").await;
    let desk = app.client();
    desk.sign_in("owner@harbor.test", PASSWORD).await;
    desk.enter_code(app.last_code_to("+14155552671").await, true)
        .await;
    // The limit falls without the cap reaching this device (as when the browser was
    // remembered in the same instant): each use still checks the limit of the day.
    let (_, me) = owner.get("/api/v1/me").await;
    let practice_id =
        latch_app::PracticeId::from_stored(me["user"]["practice"]["id"].as_str().unwrap());
    let mut practice = app.db.practice(&practice_id).await.unwrap().unwrap();
    practice.security.remember_device_days = 30;
    app.db
        .update_security(&practice_id, &practice.security)
        .await
        .unwrap();

    app.clock.advance(30 * 86_400 + 1);
    let (status, body) = desk.sign_in("owner@harbor.test", PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["state"], "two_factor_required", "{body}");
}

fn rfc3339_seconds(v: &Value) -> i64 {
    latch_domain::Timestamp::parse_rfc3339(v.as_str().unwrap())
        .unwrap()
        .seconds()
}

async fn the_rule_takes_staff_through_setup_before_the_dashboard(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    let (_, _) = app.person(&owner, "staff", "sam@harbor.test").await;
    let (client, _) = app.person(&owner, "client", "casey@harbor.test").await;
    reauth(&owner).await;
    put_security(&owner, json!({"require_two_factor": "staff"})).await;

    let sam = app.client();
    let (status, body) = sam.sign_in("sam@harbor.test", PASSWORD).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::OK,
            json!({"state": "two_factor_setup_required"})
        )
    );
    assert_eq!(
        code(&sam.get("/api/v1/me").await.1),
        "not_signed_in",
        "only the setup answers"
    );
    let page = sam.http.get(sam.url("/dashboard")).send().await.unwrap();
    assert_eq!(page.headers()["location"], "/profile/two-factor");
    // The password given at sign-in counts for the setup.
    let (status, body) = sam
        .post(
            "/api/v1/me/two-factor/setup",
            json!({"phone": "+14155552672", "channel": "sms"}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let before = sam.session_cookie().unwrap();
    let (status, body) = sam
        .post(
            "/api/v1/me/two-factor/setup/confirm",
            json!({"code": app.last_code_to("+14155552672").await}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["state"], "signed_in");
    assert_eq!(body["two_factor"]["required"], true);
    assert_ne!(sam.session_cookie().unwrap(), before, "a new session id");
    assert_eq!(sam.get("/api/v1/me").await.0, StatusCode::OK);
    let (status, body) = sam.delete("/api/v1/me/two-factor").await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, "reauthentication_required"),
        "the sign-in's credit ended with the setup"
    );
    reauth(&sam).await;
    let (status, body) = sam.delete("/api/v1/me/two-factor").await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::CONFLICT, "two_factor_required_by_practice")
    );

    // The client is not covered by "staff".
    client.delete("/api/v1/session").await;
    assert_eq!(
        client.sign_in("casey@harbor.test", PASSWORD).await.1["state"],
        "signed_in"
    );
    // Owners are staff too.
    assert_eq!(
        app.client().sign_in("owner@harbor.test", PASSWORD).await.1["state"],
        "two_factor_setup_required"
    );
}

async fn the_rule_for_staff_and_clients_covers_clients(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    app.person(&owner, "client", "casey@harbor.test").await;
    reauth(&owner).await;
    put_security(&owner, json!({"require_two_factor": "staff_and_clients"})).await;
    assert_eq!(
        app.client().sign_in("casey@harbor.test", PASSWORD).await.1["state"],
        "two_factor_setup_required"
    );
}

async fn reset_and_unlock_follow_every_permission_edge(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    let (_, owner_id) = {
        let (_, me) = owner.get("/api/v1/me").await;
        ((), me["user"]["id"].as_str().unwrap().to_owned())
    };
    let (owner2, owner2_id) = app.person(&owner, "owner", "otto@harbor.test").await;
    let (manager, manager_id) = app.person(&owner, "manager", "morgan@harbor.test").await;
    let (manager2, manager2_id) = app.person(&owner, "manager", "mia@harbor.test").await;
    let (staff, staff_id) = app.person(&owner, "staff", "sam@harbor.test").await;
    let (client, client_id) = app.person(&owner, "client", "casey@harbor.test").await;
    for c in [&owner, &owner2, &manager, &manager2, &staff, &client] {
        reauth(c).await;
    }
    let act = |c: &Client, id: &str| {
        let c = c.clone();
        let id = id.to_owned();
        async move {
            let (s1, b1) = c
                .post(&format!("/api/v1/practice/users/{id}/unlock"), json!({}))
                .await;
            let (s2, b2) = c
                .delete(&format!("/api/v1/practice/users/{id}/two-factor"))
                .await;
            assert_eq!(s1, s2, "reset and unlock answer alike: {b1} {b2}");
            (s1, code(&b1).to_owned())
        }
    };
    let forbidden = (StatusCode::FORBIDDEN, "forbidden".to_owned());
    // Nobody acts on themselves.
    assert_eq!(act(&owner, &owner_id).await, forbidden);
    assert_eq!(act(&manager, &manager_id).await, forbidden);
    // A manager never acts on an owner.
    assert_eq!(act(&manager, &owner_id).await, forbidden);
    assert_eq!(act(&manager, &owner2_id).await, forbidden);
    // Staff and clients act on nobody.
    for c in [&staff, &client] {
        for id in [&owner_id, &manager_id, &staff_id, &client_id] {
            assert_eq!(act(c, id).await, forbidden);
        }
    }
    // Owners act on everyone else; managers on managers, staff and clients.
    for id in [&owner2_id, &manager_id, &staff_id, &client_id] {
        assert_eq!(act(&owner, id).await.0, StatusCode::NO_CONTENT);
    }
    // The owner's reset of the manager ended the manager's sessions: sign in again.
    manager.sign_in("morgan@harbor.test", PASSWORD).await;
    reauth(&manager).await;
    for id in [&manager2_id, &staff_id, &client_id] {
        assert_eq!(act(&manager, id).await.0, StatusCode::NO_CONTENT);
    }
    // The password is checked after permission.
    let fresh = app.client();
    fresh.sign_in("morgan@harbor.test", PASSWORD).await;
    assert_eq!(
        act(&fresh, &owner_id).await,
        forbidden,
        "a manager on an owner hears forbidden"
    );
    assert_eq!(
        act(&fresh, &staff_id).await,
        (
            StatusCode::FORBIDDEN,
            "reauthentication_required".to_owned()
        )
    );
    assert_eq!(
        act(&owner, "0123456789abcdef0123456789abcdef").await.0,
        StatusCode::NOT_FOUND
    );
}

async fn a_reset_turns_two_factor_off_and_ends_sessions_and_devices(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    let (sam, sam_id) = app.person(&owner, "staff", "sam@harbor.test").await;
    app.turn_on_two_factor(&sam, "+14155552672").await;
    let desk = app.client();
    desk.sign_in("sam@harbor.test", PASSWORD).await;
    desk.enter_code(app.last_code_to("+14155552672").await, true)
        .await;
    reauth(&owner).await;
    assert_eq!(
        owner
            .delete(&format!("/api/v1/practice/users/{sam_id}/two-factor"))
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        sam.get("/api/v1/me").await.0,
        StatusCode::UNAUTHORIZED,
        "every session ends"
    );
    assert_eq!(desk.get("/api/v1/me").await.0, StatusCode::UNAUTHORIZED);
    let notice = &app.outbox_to("+14155552672").await[0];
    assert!(
        notice["code"].is_null() && notice["body"].as_str().unwrap().contains("reset"),
        "{notice}"
    );
    let (_, person) = owner.get(&format!("/api/v1/practice/users/{sam_id}")).await;
    assert_eq!(
        (
            person["two_factor"]["enabled"].as_bool(),
            person["remembered_devices"].as_i64()
        ),
        (Some(false), Some(0))
    );
    let (_, audit) = owner
        .get(&format!(
            "/api/v1/practice/audit?kind=two_factor.reset&subject={sam_id}"
        ))
        .await;
    assert_eq!(audit["events"].as_array().unwrap().len(), 1);
    // With the rule on, the person sets it up again at the next sign-in.
    put_security(&owner, json!({"require_two_factor": "staff"})).await;
    assert_eq!(
        desk.sign_in("sam@harbor.test", PASSWORD).await.1["state"],
        "two_factor_setup_required"
    );
}

async fn an_unlock_clears_the_lock_and_keeps_the_phone(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    let (sam, sam_id) = app.person(&owner, "staff", "sam@harbor.test").await;
    app.turn_on_two_factor(&sam, "+14155552672").await;
    use latch_app::ports::PersonStore;
    app.db
        .set_two_factor_lock(
            &latch_app::PersonId::from_stored(sam_id.as_str()),
            None,
            true,
        )
        .await
        .unwrap();
    assert_eq!(
        code(&app.client().sign_in("sam@harbor.test", PASSWORD).await.1),
        "two_factor_locked"
    );
    reauth(&owner).await;
    assert_eq!(
        owner
            .post(
                &format!("/api/v1/practice/users/{sam_id}/unlock"),
                json!({})
            )
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    let (_, person) = owner.get(&format!("/api/v1/practice/users/{sam_id}")).await;
    assert_eq!(
        (
            person["status"].as_str(),
            person["two_factor"]["enabled"].as_bool()
        ),
        (Some("active"), Some(true))
    );
    assert_eq!(
        app.client().sign_in("sam@harbor.test", PASSWORD).await.1["state"],
        "two_factor_required"
    );
    let (_, audit) = owner
        .get("/api/v1/practice/audit?kind=two_factor.unlocked")
        .await;
    assert_eq!(audit["events"][0]["subject"], sam_id.as_str());
}

async fn the_audit_trail_filters_pages_and_exports(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    let (_, sam_id) = app.person(&owner, "staff", "sam@harbor.test").await;
    app.client()
        .sign_in("sam@harbor.test", "=cmd|' /C calc'!A0")
        .await;
    let (status, all) = owner.get("/api/v1/practice/audit").await;
    assert_eq!(status, StatusCode::OK);
    let events = all["events"].as_array().unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    for kind in [
        "practice.created",
        "person.added",
        "sign_in.succeeded",
        "sign_in.failed",
    ] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }
    assert!(
        events
            .windows(2)
            .all(|w| w[0]["id"].as_str().unwrap().parse::<i64>().unwrap()
                > w[1]["id"].as_str().unwrap().parse::<i64>().unwrap())
    );
    let text = all.to_string();
    assert!(
        !text.contains(PASSWORD) && !text.contains("calc"),
        "no password in the audit trail"
    );

    let (_, failed) = owner
        .get(&format!(
            "/api/v1/practice/audit?kind=sign_in.failed&subject={sam_id}"
        ))
        .await;
    assert_eq!(failed["events"].as_array().unwrap().len(), 1);
    let (_, page1) = owner.get("/api/v1/practice/audit?limit=2").await;
    let last = page1["events"][1]["id"].as_str().unwrap();
    let (_, page2) = owner
        .get(&format!("/api/v1/practice/audit?limit=2&before={last}"))
        .await;
    assert_eq!(page2["events"][0]["id"], events[2]["id"]);
    let (_, none) = owner
        .get("/api/v1/practice/audit?to=2000-01-01T00:00:00Z")
        .await;
    assert!(none["events"].as_array().unwrap().is_empty());
    for bad in [
        "limit=0",
        "limit=501",
        "limit=x",
        "from=yesterday",
        "before=abc",
    ] {
        let (status, body) = owner.get(&format!("/api/v1/practice/audit?{bad}")).await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::BAD_REQUEST, "invalid_request"),
            "{bad}"
        );
    }

    let response = owner
        .http
        .get(owner.url("/api/v1/practice/audit.csv?kind=person.added"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = response.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "id,at,local_time,kind,event,actor,actor_name,actor_email,subject,subject_name,\
         subject_email,ip,detail"
    );
    assert_eq!(lines.len(), 2, "{csv}");
    assert!(lines[1].contains("person.added") && lines[1].contains(&sam_id));
    assert!(
        lines[1].contains(",Person added,")
            && lines[1].contains(",Olivia Owner,owner@harbor.test,")
            && lines[1].contains(",sam@harbor.test,"),
        "names and emails beside the ids: {}",
        lines[1]
    );

    let (staff, _) = app.person(&owner, "client", "casey@harbor.test").await;
    assert_eq!(
        code(&staff.get("/api/v1/practice/audit").await.1),
        "forbidden"
    );
    assert_eq!(
        staff
            .http
            .get(staff.url("/api/v1/practice/audit.csv"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );
}

async fn the_operators_console_resets_and_unlocks_with_an_audit_entry(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    let (sam, sam_id) = app.person(&owner, "staff", "sam@harbor.test").await;
    app.turn_on_two_factor(&sam, "+14155552672").await;
    use latch_app::ports::PersonStore;
    app.db
        .set_two_factor_lock(
            &latch_app::PersonId::from_stored(sam_id.as_str()),
            None,
            true,
        )
        .await
        .unwrap();
    app.latch()
        .team
        .console_unlock("SAM@harbor.test")
        .await
        .unwrap();
    assert_eq!(
        app.client().sign_in("sam@harbor.test", PASSWORD).await.1["state"],
        "two_factor_required"
    );
    app.latch()
        .team
        .console_reset_two_factor("sam@harbor.test")
        .await
        .unwrap();
    assert_eq!(sam.get("/api/v1/me").await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.client().sign_in("sam@harbor.test", PASSWORD).await.1["state"],
        "signed_in"
    );
    let (_, audit) = owner
        .get(&format!("/api/v1/practice/audit?subject={sam_id}"))
        .await;
    let kinds: Vec<&str> = audit["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"two_factor.reset") && kinds.contains(&"two_factor.unlocked"),
        "{kinds:?}"
    );
    let reset = audit["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "two_factor.reset")
        .unwrap();
    assert!(reset["actor"].is_null() && reset["detail"] == "from the operator's console");
    assert!(matches!(
        app.latch().team.console_unlock("nobody@harbor.test").await,
        Err(latch_app::AppError::NotFound)
    ));
}

/// Sends the settings form and follows its redirect: where it led, and that page.
async fn send_settings(owner: &Client, fields: Vec<(String, String)>) -> (String, String) {
    let fields: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let (to, status, html) = owner.submit_and_follow("/practice/settings", &fields).await;
    assert_eq!(status, StatusCode::OK);
    (to, html)
}

async fn the_settings_page_keeps_bad_values_beside_their_fields(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    let (_, html) = owner.page("/practice/settings").await;
    let form = |password: &str, idle: &str, countries: &str| {
        vec![
            ("csrf".to_owned(), csrf_of(&html)),
            ("require_two_factor".to_owned(), "staff".to_owned()),
            ("remember_device_days".to_owned(), "90".to_owned()),
            ("sign_out_after_idle_minutes".to_owned(), idle.to_owned()),
            ("allowed_countries".to_owned(), countries.to_owned()),
            ("daily_send_budget".to_owned(), "1,000".to_owned()),
            ("password".to_owned(), password.to_owned()),
        ]
    };
    let (to, text) = send_settings(&owner, form("not my password", "30", "US")).await;
    assert_eq!(to, "/practice/settings");
    assert!(text.contains("That password is not correct."));
    assert!(
        !owner.cookies().contains("not my password"),
        "a password is never kept"
    );
    let (_, text) = send_settings(&owner, form(PASSWORD, "500", "US")).await;
    assert!(
        text.contains("5 to 120") && text.contains(r#"value="500""#),
        "the value stays for fixing"
    );
    let (_, text) = send_settings(&owner, form(PASSWORD, "500", "US, ZZ")).await;
    assert!(
        text.contains("5 to 120") && text.contains("two-letter country codes"),
        "both problems at once"
    );
    let (_, text) = send_settings(&owner, form(PASSWORD, "30", "US, ZZ")).await;
    assert!(text.contains("two-letter country codes"));
    assert_eq!(
        owner.get("/api/v1/practice/security").await.1["require_two_factor"],
        "off",
        "nothing saved"
    );

    let (to, _) = send_settings(&owner, form(PASSWORD, "30", "us ca")).await;
    assert_eq!(to, "/practice/settings?done=settings");
    let (_, saved) = owner.get("/api/v1/practice/security").await;
    assert_eq!(
        saved,
        json!({"require_two_factor": "staff", "remember_device_days": 90, "sign_out_after_idle_minutes": 30,
               "allowed_countries": ["US", "CA"], "daily_send_budget": 1000,
               "time_zone": "America/New_York", "methods_allowed": ["passkey", "totp", "sms", "voice"]})
    );

    // The page's boxes: one field per checked country, checked ones listed first by name.
    let (_, html) = owner.page("/practice/settings").await;
    let checked: Vec<&str> = html
        .split(r#"name="allowed_countries" value=""#)
        .skip(1)
        .filter(|rest| rest.split('>').next().unwrap().contains("checked"))
        .map(|rest| rest.split('"').next().unwrap())
        .collect();
    assert_eq!(checked, ["CA", "US"]);
    let mut boxes = form(PASSWORD, "30", "GB");
    boxes.push(("allowed_countries".to_owned(), "IE".to_owned()));
    boxes.push(("time_zone".to_owned(), "Europe/Dublin".to_owned()));
    let (to, _) = send_settings(&owner, boxes).await;
    assert_eq!(to, "/practice/settings?done=settings");
    let (_, saved) = owner.get("/api/v1/practice/security").await;
    assert_eq!(saved["allowed_countries"], json!(["GB", "IE"]));
    assert_eq!(saved["time_zone"], "Europe/Dublin");
    let mut none = form(PASSWORD, "30", "");
    none.retain(|(name, _)| name != "allowed_countries");
    let (_, text) = send_settings(&owner, none).await;
    assert!(
        text.contains("Allow at least one country."),
        "no box checked"
    );
}

async fn the_administration_pages_answer_only_owners_and_managers(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    let (_, sam_id) = app.person(&owner, "staff", "sam@harbor.test").await;
    let (manager, _) = app.person(&owner, "manager", "morgan@harbor.test").await;
    let (client, _) = app.person(&owner, "client", "casey@harbor.test").await;
    for path in [
        "/practice/settings",
        "/practice/audit",
        "/team",
        &format!("/team/{sam_id}"),
    ] {
        assert_eq!(manager.page(path).await.0, StatusCode::OK, "{path}");
        assert_eq!(client.page(path).await.0, StatusCode::FORBIDDEN, "{path}");
    }
    // Filters that are not a query read no events, and still nothing for a client.
    let refused = client.page("/practice/audit?kind=nonsense").await.0;
    assert_eq!(refused, StatusCode::FORBIDDEN);
    let (status, html) = owner.page("/practice/audit?kind=person.added").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("person.added") && html.contains("A staff"),
        "names, not ids"
    );
    let (_, html) = owner.page(&format!("/team/{sam_id}")).await;
    assert!(html.contains("Reset two-factor"));
    let (_, own) = owner.page("/team").await;
    assert!(own.contains("Two-factor coverage") && own.contains("0 of 1 have two-factor on"));
    assert_eq!(
        owner.page("/team/0123456789abcdef0123456789abcdef").await.0,
        StatusCode::NOT_FOUND
    );
}

async fn the_person_page_checks_permission_before_the_password_and_keeps_a_refused_session(
    dialect: Dialect,
) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    let (_, me) = owner.get("/api/v1/me").await;
    let owner_id = me["user"]["id"].as_str().unwrap().to_owned();
    let (manager, _) = app.person(&owner, "manager", "morgan@harbor.test").await;
    let (_, html) = manager.page("/team").await;
    let csrf = csrf_of(&html);
    for password in ["not my password", PASSWORD] {
        let help = format!("/team/{owner_id}/help");
        let form = [
            ("csrf", csrf.as_str()),
            ("action", "reset"),
            ("password", password),
        ];
        let (_, status, _) = manager.submit_and_follow(&help, &form).await;
        assert_eq!(
            status,
            StatusCode::FORBIDDEN,
            "a manager cannot act on an owner, whatever the password"
        );
        assert_eq!(
            manager.get("/api/v1/me").await.0,
            StatusCode::OK,
            "and stays signed in"
        );
    }
    assert_eq!(
        owner.audited("password.reentry_failed").await,
        0,
        "the password was never checked"
    );
}

async fn every_security_event_reaches_the_audit_trail(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    let (sam, sam_id) = app.person(&owner, "staff", "sam@harbor.test").await;
    app.turn_on_two_factor(&sam, "+14155552672").await;
    let desk = app.client();
    desk.sign_in("sam@harbor.test", "wrong password!").await;
    desk.sign_in("sam@harbor.test", PASSWORD).await;
    let (status, _) = desk
        .post(
            "/api/v1/session/verify",
            json!({"code": "00000000", "remember_device": false}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a wrong code, for the trail"
    );
    let right = app.last_code_to("+14155552672").await;
    desk.enter_code(&right, true).await;
    desk.delete("/api/v1/me/devices").await;
    sam.put(
        "/api/v1/me/password",
        json!({"current_password": PASSWORD, "new_password": "violet tractor sandwich"}),
    )
    .await;
    sam.begin_setup_with("+14155552699", "sms", "violet tractor sandwich")
        .await;
    sam.post(
        "/api/v1/me/two-factor/setup/confirm",
        json!({"code": app.last_code_to("+14155552699").await}),
    )
    .await;
    sam.delete("/api/v1/me/two-factor").await;
    reauth(&owner).await;
    put_security(&owner, json!({"remember_device_days": 30})).await;
    owner
        .post(
            &format!("/api/v1/practice/users/{sam_id}/unlock"),
            json!({}),
        )
        .await;
    owner
        .delete(&format!("/api/v1/practice/users/{sam_id}/two-factor"))
        .await;

    let (_, audit) = owner.get("/api/v1/practice/audit?limit=500").await;
    let events = audit["events"].as_array().unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    for kind in [
        "practice.created",
        "person.added",
        "sign_in.succeeded",
        "sign_in.failed",
        "code.sent",
        "code.wrong",
        "code.verified",
        "two_factor.enabled",
        "two_factor.changed",
        "two_factor.disabled",
        "two_factor.reset",
        "two_factor.unlocked",
        "device.remembered",
        "device.forgotten",
        "password.changed",
        "practice.security_changed",
    ] {
        assert!(kinds.contains(&kind), "{kind} missing from {kinds:?}");
    }
    let text = audit.to_string();
    for secret in [
        PASSWORD,
        "violet tractor sandwich",
        right.as_str(),
        "4155552672",
        "4155552699",
    ] {
        assert!(!text.contains(secret), "{secret} is in the audit trail");
    }
    assert!(
        events
            .iter()
            .all(|e| e["at"].is_string() && e["ip"] == "127.0.0.1"),
        "when and from where"
    );
}

async fn the_csv_export_holds_every_matching_event_on_the_practices_clock(dialect: Dialect) {
    use latch_app::ports::AuditStore;
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    reauth(&owner).await;
    let (status, body) = put_security(&owner, json!({"time_zone": "Asia/Kolkata"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, me) = owner.get("/api/v1/me").await;
    let practice_id = latch_app::PracticeId::from_stored(
        me["user"]["practice"]["id"].as_str().unwrap().to_owned(),
    );
    let owner_id = latch_app::PersonId::from_stored(me["user"]["id"].as_str().unwrap().to_owned());
    // More than two of the export's batches, written straight to the trail.
    let many = 1_203;
    let start = latch_domain::Timestamp(1_796_106_704);
    for chunk in (0..many).collect::<Vec<i64>>().chunks(300) {
        let events: Vec<_> = chunk
            .iter()
            .map(|i| latch_app::records::NewAuditEvent {
                practice_id: practice_id.clone(),
                at: start.plus(*i),
                kind: "code.wrong",
                actor_id: Some(owner_id.clone()),
                subject_id: Some(owner_id.clone()),
                ip: Some("192.0.2.1".into()),
                user_agent: None,
                detail: "3 in a row".into(),
            })
            .collect();
        app.db.append_audit(&events).await.unwrap();
    }
    let csv = |query: &'static str| {
        let owner = &owner;
        async move {
            let response = owner
                .http
                .get(owner.url(&format!("/api/v1/practice/audit.csv?{query}")))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            response.text().await.unwrap()
        }
    };
    let all = csv("kind=code.wrong").await;
    let rows: Vec<&str> = all.lines().skip(1).collect();
    assert_eq!(rows.len(), 1_203, "every matching event, not one page");
    let ids: Vec<i64> = rows
        .iter()
        .map(|r| r.split(',').next().unwrap().parse().unwrap())
        .collect();
    assert!(
        ids.windows(2).all(|w| w[0] > w[1]),
        "newest first, none twice"
    );
    // The newest: 2026-12-01T06:31:44Z plus 1,202 s is 12:21:46 in India.
    assert!(
        rows[0].contains(",2026-12-01T06:51:46Z,2026-12-01 12:21:46 IST,code.wrong,")
            && rows[0].contains(",Wrong code entered (3rd in a row),")
            && rows[0].contains(",Olivia Owner,owner@harbor.test,"),
        "{}",
        rows[0]
    );
    let few = csv("kind=code.wrong&limit=7").await;
    assert_eq!(few.lines().count(), 1 + 7, "a limit given is kept");
    let (_, page) = owner.get("/api/v1/practice/audit?kind=code.wrong").await;
    assert_eq!(
        page["events"].as_array().unwrap().len(),
        50,
        "the API's page stays 50"
    );
}
