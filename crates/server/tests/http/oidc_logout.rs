//! Signing out of applications: an application ending the latch session with its ID token
//! (RP-Initiated Logout), and latch telling applications, from its queue, that a session has
//! ended (Back-Channel Logout), to a real HTTP server standing in for the application.

use std::time::Duration;

use latch_app::applications::ApplicationInput;
use reqwest::StatusCode;
use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::oidc::{
    RelyingParty, claims_of, code_for, exchange, issuer, register, register_with, tokens_for, visit,
};
use crate::support::{Client, Dialect, PASSWORD, TestApp, csrf_of};

crate::on_both_databases!(
    an_application_ends_the_latch_session_with_its_id_token,
    a_logout_without_a_hint_asks_first_and_an_unregistered_address_is_refused,
    signing_out_of_latch_tells_each_application_once,
    an_application_that_fails_is_told_again_later,
    an_idle_sign_out_and_a_password_change_reach_the_applications,
    of_two_nodes_one_sends_each_logout,
);

const BACK: &str = "https://harbor.example.com/signed-out";

async fn logout_app(app: &TestApp, backchannel: Option<String>) -> RelyingParty {
    register_with(
        app,
        ApplicationInput {
            post_logout_redirect_uris: vec![BACK.into()],
            backchannel_logout_uri: backchannel,
            ..ApplicationInput::default()
        },
    )
    .await
}

fn logout_path(pairs: &[(&str, &str)]) -> String {
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    format!("/oidc/logout?{query}")
}

async fn an_application_ends_the_latch_session_with_its_id_token(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    let rp = logout_app(&app, None).await;
    let tokens = tokens_for(&app, &owner, &rp).await;
    let hint = tokens["id_token"].as_str().unwrap().to_owned();
    // Over an hour later the hint has expired; the session, kept busy, has not. The hint
    // still says which session to end.
    for _ in 0..7 {
        app.clock.advance(10 * 60);
        assert_eq!(owner.get("/api/v1/me").await.0, StatusCode::OK);
    }
    assert!(claims_of(&hint)["exp"].as_i64().unwrap() < app.latch().now().seconds());
    let fresh = tokens_for(&app, &owner, &rp).await;
    let access = fresh["access_token"].as_str().unwrap();
    assert_eq!(
        crate::oidc::userinfo(&app.client(), access, false)
            .await
            .status(),
        StatusCode::OK
    );
    let to = visit(
        &owner,
        &logout_path(&[
            ("id_token_hint", &hint),
            ("post_logout_redirect_uri", BACK),
            ("state", "bye-1"),
        ]),
    )
    .await
    .unwrap();
    assert_eq!(to, format!("{BACK}?state=bye-1"));
    assert_eq!(owner.get("/api/v1/me").await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(
        crate::oidc::userinfo(
            &app.client(),
            fresh["access_token"].as_str().unwrap(),
            false
        )
        .await
        .status(),
        StatusCode::UNAUTHORIZED,
        "its tokens ended with it"
    );
    let auditor = app.client();
    auditor.sign_in("owner@harbor.test", PASSWORD).await;
    assert_eq!(auditor.audited("app.signed_out").await, 1);

    // A forged hint is no hint: the person is asked.
    let parts: Vec<&str> = hint.split('.').collect();
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        parts[1],
        &parts[2][..parts[2].len() - 4]
    );
    let to = visit(&auditor, &logout_path(&[("id_token_hint", &forged)]))
        .await
        .unwrap();
    assert_eq!(to, "/sign-out");
    assert_eq!(auditor.get("/api/v1/me").await.0, StatusCode::OK);
}

async fn a_logout_without_a_hint_asks_first_and_an_unregistered_address_is_refused(
    dialect: Dialect,
) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    let rp = logout_app(&app, None).await;
    assert_eq!(visit(&owner, "/oidc/logout").await.unwrap(), "/sign-out");
    let (status, html) = owner.page("/sign-out").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Sign out of latch?"), "{html}");
    assert_eq!(owner.get("/api/v1/me").await.0, StatusCode::OK, "not yet");
    let posted = owner
        .submit("/sign-out", &[("csrf", &csrf_of(&html))])
        .await;
    assert_eq!(posted.status(), StatusCode::SEE_OTHER);
    assert_eq!(owner.get("/api/v1/me").await.0, StatusCode::UNAUTHORIZED);

    let browser = app.client();
    browser.sign_in("owner@harbor.test", PASSWORD).await;
    let tokens = tokens_for(&app, &browser, &rp).await;
    let hint = tokens["id_token"].as_str().unwrap();
    let (status, html) = visit(
        &browser,
        &logout_path(&[
            ("id_token_hint", hint),
            ("post_logout_redirect_uri", "https://evil.example/"),
        ]),
    )
    .await
    .unwrap_err();
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("This sign-out link does not work"));
    assert_eq!(
        browser.get("/api/v1/me").await.0,
        StatusCode::OK,
        "nothing ended"
    );
    // Another application's hint cannot use this one's addresses.
    let other = register(&app, false).await;
    let to = visit(
        &browser,
        &logout_path(&[("id_token_hint", hint), ("client_id", &other.id)]),
    )
    .await
    .unwrap();
    assert_eq!(to, "/sign-out");
}

/// A stand-in for an application's back-channel logout address.
async fn application_server(answers: &[u16]) -> MockServer {
    let server = MockServer::start().await;
    for status in answers {
        Mock::given(method("POST"))
            .and(path("/backchannel"))
            .respond_with(ResponseTemplate::new(*status))
            .up_to_n_times(1)
            .with_priority(1)
            .mount(&server)
            .await;
    }
    Mock::given(method("POST"))
        .and(path("/backchannel"))
        .respond_with(ResponseTemplate::new(200))
        .with_priority(2)
        .mount(&server)
        .await;
    server
}

/// The logout tokens the application received, waiting up to ten seconds for `n` of them
/// (every node sends what is due every two seconds or so).
async fn received(server: &MockServer, n: usize) -> Vec<Value> {
    for _ in 0..100 {
        let requests = server.received_requests().await.unwrap_or_default();
        if requests.len() >= n {
            return requests
                .iter()
                .map(|r| {
                    let form: Vec<(String, String)> =
                        url::form_urlencoded::parse(&r.body).into_owned().collect();
                    assert_eq!(form.len(), 1, "the logout token alone");
                    assert_eq!(form[0].0, "logout_token");
                    Value::String(form[0].1.clone())
                })
                .collect();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the application was not told {n} times")
}

fn header_of(jwt: &str) -> Value {
    use base64::Engine;
    let part = jwt.split('.').next().unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

async fn signing_out_of_latch_tells_each_application_once(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    let server = application_server(&[]).await;
    let rp = logout_app(&app, Some(format!("{}/backchannel", server.uri()))).await;
    let quiet = register(&app, false).await;
    let tokens = tokens_for(&app, &owner, &rp).await;
    let id_token = claims_of(tokens["id_token"].as_str().unwrap());
    // Twice to the same application, and once to one with no back-channel address.
    tokens_for(&app, &owner, &rp).await;
    tokens_for(&app, &owner, &quiet).await;
    let (_, profile) = owner.get("/api/v1/me").await;
    assert!(profile.is_object());

    owner.delete("/api/v1/session").await;
    let tokens = received(&server, 1).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(server.received_requests().await.unwrap().len(), 1, "once");
    let jwt = tokens[0].as_str().unwrap();
    assert_eq!(header_of(jwt)["typ"], "logout+jwt");
    let claims = claims_of(jwt);
    assert_eq!(claims["iss"], issuer(&app));
    assert_eq!(claims["aud"], rp.id.as_str());
    assert_eq!(
        (&claims["sub"], &claims["sid"]),
        (&id_token["sub"], &id_token["sid"])
    );
    assert!(claims["events"]["http://schemas.openid.net/event/backchannel-logout"].is_object());
    assert!(claims.get("nonce").is_none());
    assert!(claims["jti"].as_str().unwrap().len() >= 32);
    assert!(claims["exp"].as_i64().unwrap() > claims["iat"].as_i64().unwrap());
    // Signed with the published key.
    let keys = app.latch().applications.published_keys().await.unwrap();
    assert!(latch_app::signing::verify_jwt(jwt, &keys).is_some());
}

async fn an_application_that_fails_is_told_again_later(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    let server = application_server(&[503]).await;
    let rp = logout_app(&app, Some(format!("{}/backchannel", server.uri()))).await;
    tokens_for(&app, &owner, &rp).await;
    owner.delete("/api/v1/session").await;
    received(&server, 1).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        1,
        "waits before it tries again"
    );
    // A restart loses nothing: the logout waits in the database.
    let mut app = app;
    app.restart().await;
    app.clock.advance(31);
    let tokens = received(&server, 2).await;
    assert_eq!(
        claims_of(tokens[0].as_str().unwrap())["sid"],
        claims_of(tokens[1].as_str().unwrap())["sid"]
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        2,
        "taken the second time"
    );
}

async fn an_idle_sign_out_and_a_password_change_reach_the_applications(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    let server = application_server(&[]).await;
    let rp = logout_app(&app, Some(format!("{}/backchannel", server.uri()))).await;

    // The practice signs people out after 15 idle minutes; the sweep notices.
    let idle = app.client();
    idle.sign_in("owner@harbor.test", PASSWORD).await;
    let idle_sid = claims_of(
        tokens_for(&app, &idle, &rp).await["id_token"]
            .as_str()
            .unwrap(),
    )["sid"]
        .clone();
    app.clock.advance(10 * 60);
    assert_eq!(owner.get("/api/v1/me").await.0, StatusCode::OK);
    app.clock.advance(6 * 60);
    assert_eq!(
        owner.get("/api/v1/me").await.0,
        StatusCode::OK,
        "the owner stayed active"
    );
    app.latch().sweep(500).await.unwrap();
    let tokens = received(&server, 1).await;
    assert_eq!(claims_of(tokens[0].as_str().unwrap())["sid"], idle_sid);

    // A password change ends the person's other sessions, and their applications hear of it.
    let laptop = app.client();
    laptop.sign_in("owner@harbor.test", PASSWORD).await;
    let laptop_sid = claims_of(
        tokens_for(&app, &laptop, &rp).await["id_token"]
            .as_str()
            .unwrap(),
    )["sid"]
        .clone();
    let (status, body) = owner
        .put(
            "/api/v1/me/password",
            serde_json::json!({"current_password": PASSWORD, "new_password": "violet tractor sandwich"}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let tokens = received(&server, 2).await;
    assert_eq!(claims_of(tokens[1].as_str().unwrap())["sid"], laptop_sid);
}

async fn of_two_nodes_one_sends_each_logout(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let _owner = app.with_practice().await;
    let server = application_server(&[]).await;
    let rp = logout_app(&app, Some(format!("{}/backchannel", server.uri()))).await;
    let (_other, _node) = app.second_node().await;
    let mut browsers: Vec<Client> = Vec::new();
    for _ in 0..6 {
        let browser = app.client();
        browser.sign_in("owner@harbor.test", PASSWORD).await;
        let code = code_for(&app, &browser, &rp).await;
        assert_eq!(exchange(&app.client(), &rp, &code).await.0, StatusCode::OK);
        browsers.push(browser);
    }
    for browser in &browsers {
        browser.delete("/api/v1/session").await;
    }
    let tokens = received(&server, 6).await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        6,
        "each once: {tokens:?}"
    );
    let sids: std::collections::HashSet<String> = tokens
        .iter()
        .map(|t| {
            claims_of(t.as_str().unwrap())["sid"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(sids.len(), 6);
}
