//! The team's whole life through the API: invitations by email, names and roles, people who
//! leave (and the last owner who may not), a changed email, and the emails that tell of a new
//! browser and of security changes.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::on_both_databases;
use crate::support::{Client, Dialect, PASSWORD, TestApp, code, post_at_once, refused_fields};

const JOIN_PASSWORD: &str = "tidal meadow lantern 31";

/// The token at the end of a link.
fn token_of(link: &str) -> String {
    link.rsplit('/').next().unwrap().to_owned()
}

async fn invite(owner: &Client, email: &str, role: &str) -> (StatusCode, Value) {
    owner
        .post(
            "/api/v1/practice/invitations",
            json!({"email": email, "name": "Sam Lee", "role": role}),
        )
        .await
}

async fn accept(app: &TestApp, token: &str, password: &str) -> (Client, StatusCode, Value) {
    let c = app.client();
    let (status, body) = c
        .post(
            &format!("/api/v1/invitations/{token}/accept"),
            json!({"password": password}),
        )
        .await;
    (c, status, body)
}

async fn id_of(c: &Client) -> String {
    let (_, me) = c.get("/api/v1/me").await;
    me["user"]["id"].as_str().unwrap().to_owned()
}

/// Waits until an email with this subject reached the address; answers every email there.
async fn emails_until(app: &TestApp, email: &str, subject: &str) -> Vec<Value> {
    app.emails_about(email, subject, 1).await;
    app.emails_to(email, 0).await
}

fn count(emails: &[Value], subject: &str) -> usize {
    emails.iter().filter(|m| m["subject"] == subject).count()
}

async fn an_invited_person_joins_by_the_link_and_is_signed_in(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    let (status, body) = invite(&owner, "Sam@Harbor.test", "staff").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let invitation = &body["invitation"];
    assert_eq!(invitation["email"], "Sam@Harbor.test");
    assert_eq!(invitation["role"], "staff");
    assert_eq!(invitation["invited_by"]["name"], "Olivia Owner");
    let at = |field: &str| {
        latch_domain::Timestamp::parse_rfc3339(invitation[field].as_str().unwrap()).unwrap()
    };
    assert_eq!(
        at("expires_at").seconds() - at("created_at").seconds(),
        7 * 86_400
    );
    let (_, open) = owner.get("/api/v1/practice/invitations").await;
    assert_eq!(open["invitations"][0]["id"], invitation["id"]);

    let email = &app
        .emails_about(
            "sam@harbor.test",
            "Olivia Owner invited you to Harbor Counseling",
            1,
        )
        .await[0];
    assert_eq!(
        email["subject"],
        "Olivia Owner invited you to Harbor Counseling"
    );
    let link = email["link"].as_str().unwrap();
    assert!(
        link.starts_with(&format!("{}/invitations/", app.base)),
        "{link}"
    );
    let token = token_of(link);
    let (status, seen) = app
        .client()
        .get(&format!("/api/v1/invitations/{token}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        seen,
        json!({"email": "Sam@Harbor.test", "name": "Sam Lee", "practice": {"name": "Harbor Counseling"}})
    );

    let (_, status, body) = accept(&app, &token, "password1").await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "weak_password")
    );
    let (sam, status, body) = accept(&app, &token, JOIN_PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["state"], "signed_in");
    assert_eq!(body["user"]["email_verified"], true);
    assert_eq!(body["user"]["role"], "staff");
    assert_eq!(sam.get("/api/v1/me").await.0, StatusCode::OK);

    // Used: the link is gone, and so is the invitation.
    let (_, status, _) = accept(&app, &token, JOIN_PASSWORD).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app
        .client()
        .get(&format!("/api/v1/invitations/{token}"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, open) = owner.get("/api/v1/practice/invitations").await;
    assert_eq!(open["invitations"], json!([]));
    let (status, _) = app.client().sign_in("sam@harbor.test", JOIN_PASSWORD).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(owner.audited("invitation.sent").await, 1);
    assert_eq!(owner.audited("invitation.accepted").await, 1);
}

async fn a_practice_that_requires_two_factor_holds_the_joined_for_setup(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    app.turn_on_two_factor(&owner, "+14155550101").await;
    let (status, body) = owner
        .change_security(json!({"require_two_factor": "staff"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    invite(&owner, "sam@harbor.test", "staff").await;
    let token = token_of(&app.link_to("sam@harbor.test", 1).await);
    let (sam, status, body) = accept(&app, &token, JOIN_PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["state"], "two_factor_setup_required");
    assert_eq!(sam.get("/api/v1/me").await.0, StatusCode::UNAUTHORIZED);
    app.enrol(&sam, "+14155550102").await;
    assert_eq!(sam.get("/api/v1/me").await.0, StatusCode::OK);
}

async fn invitations_follow_the_rules_of_adding_people(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    let (manager, _) = app.person(&owner, "manager", "mia@harbor.test").await;
    let (staff, _) = app.person(&owner, "staff", "sam@harbor.test").await;
    for role in ["manager", "owner"] {
        let (status, _) = invite(&manager, "new@harbor.test", role).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "a manager inviting a {role}");
    }
    assert_eq!(
        invite(&staff, "new@harbor.test", "client").await.0,
        StatusCode::FORBIDDEN
    );
    let (status, body) = invite(&manager, "SAM@harbor.test", "client").await;
    assert_eq!((status, code(&body)), (StatusCode::CONFLICT, "email_taken"));
    assert_eq!(
        invite(&manager, "new@harbor.test", "client").await.0,
        StatusCode::CREATED
    );
    let (status, body) = invite(&owner, "New@Harbor.test", "staff").await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::CONFLICT, "email_taken"),
        "an open invitation holds it"
    );
    let (status, body) = owner
        .post(
            "/api/v1/practice/invitations",
            json!({"email": "nope", "name": " ", "role": "staff"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(refused_fields(&body), ["email", "name"], "{body}");
    let (_, body) = owner
        .post(
            "/api/v1/practice/invitations",
            json!({"email": "x@harbor.test", "name": "X", "role": "wizard"}),
        )
        .await;
    assert_eq!(code(&body), "invalid_role");

    // An owner's invitation of a manager is the owner's to resend or revoke, not a manager's.
    let (_, body) = invite(&owner, "max@harbor.test", "manager").await;
    let id = body["invitation"]["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/practice/invitations/{id}/resend");
    assert_eq!(
        manager.post(&path, json!({})).await.0,
        StatusCode::FORBIDDEN
    );
    let other = app.other_practice().await;
    assert_eq!(other.post(&path, json!({})).await.0, StatusCode::NOT_FOUND);
    let revoke = format!("/api/v1/practice/invitations/{id}");
    assert_eq!(other.delete(&revoke).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        staff.get("/api/v1/practice/invitations").await.0,
        StatusCode::FORBIDDEN
    );
}

async fn resend_makes_a_new_link_and_revoke_ends_it(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    let (_, body) = invite(&owner, "sam@harbor.test", "staff").await;
    let id = body["invitation"]["id"].as_str().unwrap().to_owned();
    let first = token_of(&app.link_to("sam@harbor.test", 1).await);
    let (status, _) = owner
        .post(
            &format!("/api/v1/practice/invitations/{id}/resend"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let second = token_of(&app.link_to("sam@harbor.test", 2).await);
    assert_ne!(first, second);
    let look = |t: &str| format!("/api/v1/invitations/{t}");
    assert_eq!(
        app.client().get(&look(&first)).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.client().get(&look(&second)).await.0, StatusCode::OK);

    let (status, _) = owner
        .delete(&format!("/api/v1/practice/invitations/{id}"))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.client().get(&look(&second)).await.0,
        StatusCode::NOT_FOUND
    );
    let (_, _, body) = accept(&app, &second, JOIN_PASSWORD).await;
    assert_eq!(code(&body), "not_found");
    assert_eq!(owner.audited("invitation.sent").await, 2);
    assert_eq!(owner.audited("invitation.revoked").await, 1);
}

async fn an_invitation_expires_after_seven_days(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    invite(&owner, "sam@harbor.test", "staff").await;
    let token = token_of(&app.link_to("sam@harbor.test", 1).await);
    app.clock.advance(7 * 86_400 + 1);
    let (_, status, _) = accept(&app, &token, JOIN_PASSWORD).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // A week on, the owner's session is long over: they sign in again.
    let owner = app.client();
    assert_eq!(
        owner.sign_in("owner@harbor.test", PASSWORD).await.0,
        StatusCode::OK
    );
    let (_, open) = owner.get("/api/v1/practice/invitations").await;
    assert_eq!(open["invitations"], json!([]));
    assert_eq!(
        invite(&owner, "sam@harbor.test", "staff").await.0,
        StatusCode::CREATED,
        "an expired invitation holds the address no more"
    );
}

async fn one_invitation_accepted_at_once_makes_one_person(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    invite(&owner, "sam@harbor.test", "staff").await;
    let token = token_of(&app.link_to("sam@harbor.test", 1).await);
    let path = format!("/api/v1/invitations/{token}/accept");
    let requests = (0..4)
        .map(|_| {
            (
                app.client(),
                path.as_str(),
                json!({"password": JOIN_PASSWORD}),
            )
        })
        .collect();
    let answers = post_at_once(requests).await;
    let joined = answers.iter().filter(|(s, _)| *s == StatusCode::OK).count();
    assert_eq!(joined, 1, "{answers:?}");
    for (status, body) in answers.iter().filter(|(s, _)| *s != StatusCode::OK) {
        assert_eq!((*status, code(body)), (StatusCode::NOT_FOUND, "not_found"));
    }
    let (_, people) = owner.get("/api/v1/practice/users").await;
    assert_eq!(people["users"].as_array().unwrap().len(), 2);
}

async fn owners_and_managers_change_names_and_roles_within_the_rules(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    let owner_id = id_of(&owner).await;
    let (manager, manager_id) = app.person(&owner, "manager", "mia@harbor.test").await;
    let (_, staff_id) = app.person(&owner, "staff", "sam@harbor.test").await;
    let patch = |c: &Client, id: &str, body: Value| {
        let path = format!("/api/v1/practice/users/{id}");
        let c = c.clone();
        async move { c.patch(&path, body).await }
    };
    let (status, body) = patch(
        &manager,
        &staff_id,
        json!({"name": "Samuel Lee", "role": "client"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (&body["name"], &body["role"]),
        (&json!("Samuel Lee"), &json!("client"))
    );
    assert_eq!(body["status"], "active");
    let (status, _) = patch(&manager, &staff_id, json!({"role": "manager"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "only owners make managers");
    let (status, _) = patch(&manager, &owner_id, json!({"name": "O"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a manager not on an owner");
    let (status, _) = patch(&manager, &manager_id, json!({"name": "Me"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "nobody on themselves");
    let (status, body) = patch(&owner, &staff_id, json!({"role": "wizard", "name": ""})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(refused_fields(&body), ["name", "role"], "{body}");
    let (status, body) = patch(&owner, &staff_id, json!({"role": "owner"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(owner.audited("person.changed").await, 2);
}

async fn a_deactivated_person_is_signed_out_everywhere_and_cannot_sign_in(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    let (manager, manager_id) = app.person(&owner, "manager", "mia@harbor.test").await;
    assert_eq!(
        invite(&manager, "new@harbor.test", "client").await.0,
        StatusCode::CREATED
    );
    let deactivate = format!("/api/v1/practice/users/{manager_id}/deactivate");
    let (status, body) = owner.post(&deactivate, json!({})).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, "reauthentication_required")
    );
    owner.reauthenticate().await;
    assert_eq!(
        owner.post(&deactivate, json!({})).await.0,
        StatusCode::NO_CONTENT
    );

    assert_eq!(manager.get("/api/v1/me").await.0, StatusCode::UNAUTHORIZED);
    let (status, body) = app.client().sign_in("mia@harbor.test", PASSWORD).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, "account_deactivated")
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("deactivated")
    );
    let (status, body) = app
        .client()
        .sign_in("mia@harbor.test", "not the password")
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNAUTHORIZED, "invalid_credentials")
    );
    let (_, open) = owner.get("/api/v1/practice/invitations").await;
    assert_eq!(
        open["invitations"],
        json!([]),
        "the invitations they sent end"
    );
    let (_, person) = owner
        .get(&format!("/api/v1/practice/users/{manager_id}"))
        .await;
    assert_eq!(person["status"], "deactivated");
    let (_, listed) = owner.get("/api/v1/practice/users?status=deactivated").await;
    assert_eq!(listed["users"].as_array().unwrap().len(), 1);
    let (_, listed) = owner.get("/api/v1/practice/users?status=active").await;
    assert_eq!(listed["users"].as_array().unwrap().len(), 1);
    let (status, _) = owner.get("/api/v1/practice/users?status=asleep").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // No reset link for someone deactivated; their history stays.
    let c = app.client();
    c.post(
        "/api/v1/password-reset",
        json!({"email": "mia@harbor.test"}),
    )
    .await;
    c.post(
        "/api/v1/password-reset",
        json!({"email": "owner@harbor.test"}),
    )
    .await;
    emails_until(
        &app,
        "owner@harbor.test",
        "Choose a new password for Harbor Counseling",
    )
    .await;
    assert_eq!(
        count(
            &app.emails_to("mia@harbor.test", 0).await,
            "Choose a new password for Harbor Counseling"
        ),
        0
    );
    assert!(owner.audited("invitation.sent").await >= 1);
    assert_eq!(owner.audited("person.deactivated").await, 1);

    let reactivate = format!("/api/v1/practice/users/{manager_id}/reactivate");
    assert_eq!(
        owner.post(&reactivate, json!({})).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.client().sign_in("mia@harbor.test", PASSWORD).await.0,
        StatusCode::OK
    );
    assert_eq!(owner.audited("person.reactivated").await, 1);
}

async fn two_owners_leaving_each_other_at_once_leave_one(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let olivia = app.with_practice().await;
    let (oscar, oscar_id) = app.person(&olivia, "owner", "oscar@harbor.test").await;
    let olivia_id = id_of(&olivia).await;
    olivia.reauthenticate().await;
    oscar.reauthenticate().await;
    let (of_oscar, of_olivia) = (
        format!("/api/v1/practice/users/{oscar_id}/deactivate"),
        format!("/api/v1/practice/users/{olivia_id}/deactivate"),
    );
    let answers = post_at_once(vec![
        (olivia.clone(), of_oscar.as_str(), json!({})),
        (oscar.clone(), of_olivia.as_str(), json!({})),
    ])
    .await;
    let done = answers
        .iter()
        .filter(|(s, _)| *s == StatusCode::NO_CONTENT)
        .count();
    assert_eq!(done, 1, "{answers:?}");
    let (status, body) = answers
        .iter()
        .find(|(s, _)| *s != StatusCode::NO_CONTENT)
        .unwrap();
    assert!(
        code(body) == "last_owner" || *status == StatusCode::UNAUTHORIZED,
        "the other is refused, or was already signed out: {status} {body}"
    );
    let mut active = 0;
    for email in ["owner@harbor.test", "oscar@harbor.test"] {
        if app.client().sign_in(email, PASSWORD).await.0 == StatusCode::OK {
            active += 1;
        }
    }
    assert_eq!(active, 1, "the practice keeps exactly one active owner");
}

async fn an_email_change_waits_for_the_link_from_the_new_address(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    app.person(&owner, "staff", "sam@harbor.test").await;
    let change = |email: &str| {
        let request = owner
            .http
            .put(owner.url("/api/v1/me/email"))
            .json(&json!({"email": email}));
        owner.send(request)
    };
    let (status, body) = change("olivia@new.test").await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, "reauthentication_required")
    );
    owner.reauthenticate().await;
    let (status, body) = change("SAM@harbor.test").await;
    assert_eq!((status, code(&body)), (StatusCode::CONFLICT, "email_taken"));
    let (status, body) = change("no").await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "invalid_email")
    );
    assert_eq!(change("olivia@new.test").await.0, StatusCode::ACCEPTED);

    let link = app.link_to("olivia@new.test", 1).await;
    assert!(
        link.starts_with(&format!("{}/email/confirm/", app.base)),
        "{link}"
    );
    let old = emails_until(&app, "owner@harbor.test", "Your latch email is changing").await;
    assert!(
        old.iter()
            .all(|m| !m["text"].as_str().unwrap().contains(&token_of(&link)))
    );
    assert_eq!(
        app.client().sign_in("owner@harbor.test", PASSWORD).await.0,
        StatusCode::OK,
        "not yet"
    );

    let confirm = |token: String| {
        let c = app.client();
        async move {
            c.post("/api/v1/me/email/confirm", json!({"token": token}))
                .await
        }
    };
    let (status, body) = confirm(token_of(&link)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user"]["email"], "olivia@new.test");
    assert_eq!(body["user"]["email_verified"], true);
    let (status, body) = confirm(token_of(&link)).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "invalid_token")
    );
    assert_eq!(
        app.client().sign_in("owner@harbor.test", PASSWORD).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.client().sign_in("olivia@new.test", PASSWORD).await.0,
        StatusCode::OK
    );
    let (_, me) = owner.get("/api/v1/me").await;
    assert_eq!(
        me["user"]["email"], "olivia@new.test",
        "the session goes on"
    );
    assert_eq!(owner.audited("email.changed").await, 1);
}

async fn a_sign_in_from_a_new_browser_and_security_changes_are_told_by_email(dialect: Dialect) {
    const NEW: &str = "New sign-in to your latch account";
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    let (_, _) = app.person(&owner, "staff", "sam@harbor.test").await;
    let emails = emails_until(&app, "sam@harbor.test", NEW).await;
    assert_eq!(
        count(&emails, NEW),
        1,
        "the first sign-in in a browser: {emails:?}"
    );
    assert!(
        emails[0]["text"]
            .as_str()
            .unwrap()
            .contains("If this wasn't you")
    );

    // The same browser again: no news. A reset link queued after it shows the queue passed.
    let browser = app.client();
    browser.sign_in("sam@harbor.test", PASSWORD).await;
    let (status, _) = browser.delete("/api/v1/session").await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    browser.sign_in("sam@harbor.test", PASSWORD).await;
    browser
        .post(
            "/api/v1/password-reset",
            json!({"email": "sam@harbor.test"}),
        )
        .await;
    let emails = emails_until(
        &app,
        "sam@harbor.test",
        "Choose a new password for Harbor Counseling",
    )
    .await;
    assert_eq!(
        count(&emails, NEW),
        2,
        "one for this browser's first sign-in only: {emails:?}"
    );

    // With two-factor on, a new browser is told once the code is in, not before.
    app.turn_on_two_factor(&browser, "+14155550103").await;
    emails_until(
        &app,
        "sam@harbor.test",
        "Two-factor sign-in is on for your latch account",
    )
    .await;
    let other = app.client();
    let (_, body) = other.sign_in("sam@harbor.test", PASSWORD).await;
    assert_eq!(body["state"], "two_factor_required");
    other
        .post(
            "/api/v1/password-reset",
            json!({"email": "sam@harbor.test"}),
        )
        .await;
    let reset = "Choose a new password for Harbor Counseling";
    app.emails_about("sam@harbor.test", reset, 2).await;
    let emails = app.emails_to("sam@harbor.test", 0).await;
    assert_eq!(count(&emails, NEW), 2, "nothing yet: {emails:?}");
    other
        .enter_code(app.last_code_to("+14155550103").await, false)
        .await;
    let emails = app.emails_about("sam@harbor.test", NEW, 3).await;
    assert_eq!(emails.len(), 3, "{emails:?}");

    let (status, _) = browser
        .put(
            "/api/v1/me/password",
            json!({"current_password": PASSWORD, "new_password": JOIN_PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    emails_until(&app, "sam@harbor.test", "Your latch password was changed").await;
    let again = json!({"password": JOIN_PASSWORD});
    let (status, _) = browser.post("/api/v1/session/reauthenticate", again).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = browser.delete("/api/v1/me/two-factor").await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    emails_until(
        &app,
        "sam@harbor.test",
        "Two-factor sign-in was turned off for your latch account",
    )
    .await;
}

on_both_databases!(
    an_invited_person_joins_by_the_link_and_is_signed_in,
    a_practice_that_requires_two_factor_holds_the_joined_for_setup,
    invitations_follow_the_rules_of_adding_people,
    resend_makes_a_new_link_and_revoke_ends_it,
    an_invitation_expires_after_seven_days,
    owners_and_managers_change_names_and_roles_within_the_rules,
    a_deactivated_person_is_signed_out_everywhere_and_cannot_sign_in,
    an_email_change_waits_for_the_link_from_the_new_address,
    a_sign_in_from_a_new_browser_and_security_changes_are_told_by_email,
);

mod at_once {
    use super::*;
    on_both_databases!(threads:
        one_invitation_accepted_at_once_makes_one_person,
        two_owners_leaving_each_other_at_once_leave_one,
    );
}
