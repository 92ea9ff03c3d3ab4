//! A forgotten password: the emailed link, the answer alike for every address, the limits, a
//! link that works once (also when used twice at once), and the practice's reset link.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::on_both_databases;
use crate::support::{Dialect, PASSWORD, TestApp, code, post_at_once};

const NEW_PASSWORD: &str = "harbor lantern meadow 77";
const RESET: &str = "Choose a new password for Harbor Counseling";

/// The token at the end of a reset link.
fn token_of(link: &str) -> String {
    link.rsplit('/').next().unwrap().to_owned()
}

async fn forgot(app: &TestApp, email: &str) -> (StatusCode, Value) {
    app.client()
        .post("/api/v1/password-reset", json!({"email": email}))
        .await
}

async fn a_forgotten_password_is_reset_by_an_emailed_link_once(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    let (staff, _) = app.person(&owner, "staff", "sam@harbor.test").await;
    app.turn_on_two_factor(&staff, "+14155550123").await;

    let (status, body) = forgot(&app, "Sam@Harbor.test").await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let emails = app.emails_about("sam@harbor.test", RESET, 1).await;
    let email = &emails[0];
    assert_eq!(
        email["subject"],
        "Choose a new password for Harbor Counseling"
    );
    for part in ["text", "html"] {
        let words = email[part].as_str().unwrap();
        assert!(words.contains("Harbor Counseling"), "{words}");
        assert!(words.contains("one hour"), "{words}");
    }
    let link = email["link"].as_str().unwrap();
    assert!(
        link.starts_with(&format!("{}/password-reset/", app.base)),
        "{link}"
    );
    assert!(
        email["html"]
            .as_str()
            .unwrap()
            .contains(&format!("href=\"{link}\""))
    );
    let token = token_of(link);
    assert!(token.len() >= 22, "at least 128 bits: {token}");

    // A weak password is refused, and the link still works.
    let c = app.client();
    let (status, body) = c
        .post(
            "/api/v1/password-reset/confirm",
            json!({"token": token, "new_password": "password1"}),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "weak_password"),
        "{body}"
    );
    let (status, body) = c
        .post(
            "/api/v1/password-reset/confirm",
            json!({"token": token, "new_password": NEW_PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert!(
        c.session_cookie().is_none(),
        "nobody is signed in by the link"
    );

    // Used: it works no more, and the old session and password are gone.
    let (status, body) = c
        .post(
            "/api/v1/password-reset/confirm",
            json!({"token": token, "new_password": "another harbor lantern 8"}),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "invalid_token"),
        "{body}"
    );
    let (status, _) = staff.get("/api/v1/me").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "every session ended");
    let again = app.client();
    let (status, _) = again.sign_in("sam@harbor.test", PASSWORD).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, body) = again.sign_in("sam@harbor.test", NEW_PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["state"], "two_factor_required",
        "the code still applies"
    );

    // Notices: by email and to the two-factor phone.
    let emails = app
        .emails_about("sam@harbor.test", "Your latch password was reset", 1)
        .await;
    assert!(emails[0]["link"].is_null());
    let texts = app.outbox_to("+14155550123").await;
    assert!(
        texts.iter().any(|t| t["body"]
            .as_str()
            .unwrap()
            .contains("password was just reset")),
        "{texts:?}"
    );
    assert_eq!(owner.audited("password.reset_requested").await, 1);
    assert_eq!(owner.audited("password.reset").await, 1);
}

async fn reset_requests_answer_alike_for_known_and_unknown_addresses(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let _owner = app.with_practice().await;
    let known = forgot(&app, "owner@harbor.test").await;
    let unknown = forgot(&app, "nobody@harbor.test").await;
    assert_eq!(known, unknown);
    assert_eq!(known.0, StatusCode::ACCEPTED);
    // The known one's email comes; by then the unknown one, queued after it, has been looked
    // at too, and found nobody.
    app.emails_about("owner@harbor.test", RESET, 1).await;
    let (_, body) = forgot(&app, "owner@harbor.test").await;
    assert_eq!(body, known.1);
    app.emails_about("owner@harbor.test", RESET, 2).await;
    assert!(app.emails_to("nobody@harbor.test", 0).await.is_empty());

    let (status, body) = forgot(&app, "not an address").await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "invalid_email")
    );
}

async fn an_earlier_link_stops_working_and_three_come_an_hour_at_most(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    app.person(&owner, "staff", "sam@harbor.test").await;
    for _ in 0..4 {
        assert_eq!(
            forgot(&app, "sam@harbor.test").await.0,
            StatusCode::ACCEPTED
        );
    }
    let emails = app.emails_about("sam@harbor.test", RESET, 3).await;
    // A request queued after the fourth, answered: by then the fourth was dropped, not sent.
    forgot(&app, "owner@harbor.test").await;
    app.emails_about("owner@harbor.test", RESET, 1).await;
    assert_eq!(app.emails_about("sam@harbor.test", RESET, 3).await.len(), 3);

    let c = app.client();
    let oldest = token_of(emails[2]["link"].as_str().unwrap());
    let (status, body) = c
        .post(
            "/api/v1/password-reset/confirm",
            json!({"token": oldest, "new_password": NEW_PASSWORD}),
        )
        .await;
    assert_eq!(code(&body), "invalid_token", "{status} {body}");
    let newest = token_of(emails[0]["link"].as_str().unwrap());
    let (status, body) = c
        .post(
            "/api/v1/password-reset/confirm",
            json!({"token": newest, "new_password": NEW_PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");

    // An hour later the limit is over.
    app.clock.advance(3601);
    forgot(&app, "sam@harbor.test").await;
    app.emails_about("sam@harbor.test", RESET, 4).await;
}

async fn a_link_expires_after_an_hour(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let _owner = app.with_practice().await;
    forgot(&app, "owner@harbor.test").await;
    let token = token_of(&app.link_to("owner@harbor.test", 1).await);
    app.clock.advance(3601);
    let (status, body) = app
        .client()
        .post(
            "/api/v1/password-reset/confirm",
            json!({"token": token, "new_password": NEW_PASSWORD}),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "invalid_token")
    );
    let (status, _) = app.client().sign_in("owner@harbor.test", PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "the password stays as it was");
}

async fn one_link_used_twice_at_once_works_once(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let _owner = app.with_practice().await;
    forgot(&app, "owner@harbor.test").await;
    let token = token_of(&app.link_to("owner@harbor.test", 1).await);
    let requests = (0..4)
        .map(|i| {
            (
                app.client(),
                "/api/v1/password-reset/confirm",
                json!({"token": token, "new_password": format!("{NEW_PASSWORD} {i}")}),
            )
        })
        .collect();
    let answers = post_at_once(requests).await;
    let worked: Vec<usize> = answers
        .iter()
        .enumerate()
        .filter(|(_, (status, _))| *status == StatusCode::NO_CONTENT)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(worked.len(), 1, "{answers:?}");
    for (status, body) in answers.iter().filter(|(s, _)| *s != StatusCode::NO_CONTENT) {
        assert_eq!(
            (*status, code(body)),
            (StatusCode::BAD_REQUEST, "invalid_token")
        );
    }
    let winner = format!("{NEW_PASSWORD} {}", worked[0]);
    let (status, _) = app.client().sign_in("owner@harbor.test", &winner).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the password of the one that worked holds"
    );
}

async fn the_practice_sends_a_reset_link_and_nobody_sets_another_password(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    let (manager, manager_id) = app.person(&owner, "manager", "mia@harbor.test").await;
    let (staff, staff_id) = app.person(&owner, "staff", "sam@harbor.test").await;
    let (_, body) = owner.get("/api/v1/me").await;
    let owner_id = body["user"]["id"].as_str().unwrap().to_owned();

    let reset = |id: &str| format!("/api/v1/practice/users/{id}/password-reset");
    let (status, body) = manager.post(&reset(&staff_id), json!({})).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let emails = app.emails_about("sam@harbor.test", RESET, 1).await;
    assert!(
        emails[0]["text"]
            .as_str()
            .unwrap()
            .contains("Harbor Counseling sent you a link"),
        "{}",
        emails[0]["text"]
    );

    for (who, whom) in [
        (&manager, &owner_id),
        (&staff, &manager_id),
        (&manager, &manager_id),
    ] {
        let (status, body) = who.post(&reset(whom), json!({})).await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::FORBIDDEN, "forbidden"),
            "{body}"
        );
    }
    let other = app.other_practice().await;
    let (status, _) = other.post(&reset(&staff_id), json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(owner.audited("password.reset_requested").await, 1);
}

async fn links_come_from_the_public_url_never_the_host_header(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let _owner = app.with_practice().await;
    let c = app.client();
    let request = c
        .http
        .post(c.url("/api/v1/password-reset"))
        .header("Host", "evil.example")
        .header("X-Forwarded-Host", "evil.example")
        .header("Forwarded", "host=evil.example")
        .json(&json!({"email": "owner@harbor.test"}));
    let (status, _) = c.send(request).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let email = &app.emails_about("owner@harbor.test", RESET, 1).await[0];
    for part in ["text", "html", "link"] {
        let words = email[part].as_str().unwrap();
        assert!(!words.contains("evil.example"), "{words}");
    }
    assert!(email["link"].as_str().unwrap().starts_with(&app.base));
}

on_both_databases!(
    a_forgotten_password_is_reset_by_an_emailed_link_once,
    reset_requests_answer_alike_for_known_and_unknown_addresses,
    an_earlier_link_stops_working_and_three_come_an_hour_at_most,
    a_link_expires_after_an_hour,
    the_practice_sends_a_reset_link_and_nobody_sets_another_password,
    links_come_from_the_public_url_never_the_host_header,
);

mod at_once {
    use super::*;
    on_both_databases!(threads: one_link_used_twice_at_once_works_once);
}
