//! Signing in to an application through latch over HTTP, as a relying party does it:
//! discovery, the authorization request (signed in already, or signing in first), the token
//! endpoint, userinfo, and the refusals of the OpenID Foundation's negative tests.

use std::collections::HashMap;

use latch_app::applications::ApplicationInput;
use reqwest::StatusCode;
use serde_json::Value;

use crate::support::{Client, Dialect, PASSWORD, TestApp, csrf_of};

mod racing {
    use super::*;
    crate::on_both_databases!(threads: of_refreshes_racing_with_one_token_one_wins);
}

crate::on_both_databases!(
    discovery_names_every_endpoint_under_the_issuer,
    a_signed_in_person_goes_straight_back_with_a_code_for_tokens,
    a_code_used_twice_is_refused_and_ends_what_it_gave,
    an_unknown_application_or_address_gets_a_page_never_a_redirect,
    other_request_errors_go_back_to_the_application_with_state,
    someone_not_signed_in_signs_in_with_a_code_and_comes_back,
    prompt_none_prompt_login_and_max_age,
    the_token_endpoint_refuses_as_rfc_6749_says,
    failed_client_authentication_is_throttled,
    a_public_application_proves_itself_with_pkce,
    tokens_stop_working_when_the_latch_session_ends,
    a_sign_in_begun_on_one_node_finishes_on_another,
    refresh_tokens_rotate_and_a_reused_one_ends_the_family,
    a_password_or_two_factor_change_ends_the_applications_tokens,
    a_practices_required_setup_comes_first_then_the_application,
    refresh_families_are_shared_by_every_node,
    a_waiting_request_latch_did_not_seal_is_ignored,
    revocation_and_introspection_for_applications_with_a_secret,
    a_reset_password_or_a_deactivation_ends_the_applications_tokens,
);

pub(crate) const CB: &str = "https://harbor.example.com/oidc/callback";
/// RFC 7636, Appendix B.
pub(crate) const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// An application registered with latch, as its relying-party code knows itself.
pub(crate) struct RelyingParty {
    pub id: String,
    pub secret: Option<String>,
}

pub(crate) async fn register(app: &TestApp, public: bool) -> RelyingParty {
    register_with(
        app,
        ApplicationInput {
            public,
            ..ApplicationInput::default()
        },
    )
    .await
}

/// The same with more of the application given (its logout addresses); its name and
/// redirect address are the usual ones.
pub(crate) async fn register_with(app: &TestApp, input: ApplicationInput) -> RelyingParty {
    let (added, secret) = app
        .latch()
        .applications
        .add(ApplicationInput {
            name: "Harbor Practice".into(),
            redirect_uris: vec![CB.into()],
            ..input
        })
        .await
        .unwrap();
    RelyingParty {
        id: added.id,
        secret: secret.map(|s| s.expose().to_owned()),
    }
}

/// The authorization request's path: the usual parameters, with `change` replacing or (given
/// empty) removing some.
pub(crate) fn authorize_path(rp: &RelyingParty, change: &[(&str, &str)]) -> String {
    let mut params = vec![
        ("client_id", rp.id.as_str()),
        ("redirect_uri", CB),
        ("response_type", "code"),
        ("scope", "openid profile email offline_access"),
        ("state", "st-1"),
        ("nonce", "n-1"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ];
    for (name, value) in change {
        params.retain(|(k, _)| k != name);
        if !value.is_empty() {
            params.push((name, value));
        }
    }
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    format!("/oidc/authorize?{query}")
}

/// Where a request led (the `Location` of its redirect), or its status when it did not.
pub(crate) async fn visit(c: &Client, path: &str) -> Result<String, (StatusCode, String)> {
    let response = c.http.get(c.url(path)).send().await.unwrap();
    if response.status() == StatusCode::SEE_OTHER {
        return Ok(response.headers()["location"].to_str().unwrap().to_owned());
    }
    let status = response.status();
    Err((status, response.text().await.unwrap()))
}

/// The parameters an address back to the application carries.
pub(crate) fn back_at(location: &str) -> HashMap<String, String> {
    assert!(
        location.starts_with(CB),
        "back at the application: {location}"
    );
    let url = url::Url::parse(location).unwrap();
    url.query_pairs().into_owned().collect()
}

/// A code for a browser signed in already, straight from the authorization request.
pub(crate) async fn code_for(app: &TestApp, c: &Client, rp: &RelyingParty) -> String {
    let to = visit(c, &authorize_path(rp, &[])).await.unwrap();
    let back = back_at(&to);
    assert_eq!(back["iss"], issuer(app));
    back["code"].clone()
}

pub(crate) fn issuer(app: &TestApp) -> String {
    app.client().base.trim_end_matches('/').to_owned()
}

/// A token request as the application sends it, with HTTP Basic when it has a secret.
pub(crate) async fn token(
    c: &Client,
    rp: &RelyingParty,
    form: &[(&str, &str)],
) -> (StatusCode, Value) {
    let mut request = c.http.post(c.url("/oidc/token")).form(form);
    match &rp.secret {
        Some(secret) => request = request.basic_auth(&rp.id, Some(secret)),
        None => {
            let mut with_id = form.to_vec();
            with_id.push(("client_id", &rp.id));
            request = c.http.post(c.url("/oidc/token")).form(&with_id);
        }
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    assert_eq!(response.headers()["cache-control"], "no-store");
    (status, response.json().await.unwrap())
}

pub(crate) async fn exchange(c: &Client, rp: &RelyingParty, code: &str) -> (StatusCode, Value) {
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", CB),
        ("code_verifier", VERIFIER),
    ];
    token(c, rp, &form).await
}

pub(crate) fn claims_of(jwt: &str) -> Value {
    use base64::Engine;
    let part = jwt.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

pub(crate) async fn userinfo(c: &Client, access_token: &str, post: bool) -> reqwest::Response {
    let url = c.url("/oidc/userinfo");
    let request = if post {
        c.http.post(url)
    } else {
        c.http.get(url)
    };
    request.bearer_auth(access_token).send().await.unwrap()
}

async fn discovery_names_every_endpoint_under_the_issuer(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let c = app.client();
    let response = c
        .http
        .get(c.url("/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["access-control-allow-origin"], "*");
    let document: Value = response.json().await.unwrap();
    let issuer = issuer(&app);
    assert_eq!(document["issuer"], issuer.as_str());
    for (field, path) in [
        ("authorization_endpoint", "/oidc/authorize"),
        ("token_endpoint", "/oidc/token"),
        ("userinfo_endpoint", "/oidc/userinfo"),
        ("jwks_uri", "/oidc/jwks"),
    ] {
        assert_eq!(document[field], format!("{issuer}{path}"), "{field}");
    }
    assert_eq!(
        document["response_types_supported"],
        serde_json::json!(["code"])
    );
    assert_eq!(
        document["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    assert_eq!(
        document["authorization_response_iss_parameter_supported"],
        true
    );
    let claims = document["claims_supported"].as_array().unwrap();
    for claim in [
        "sub",
        "name",
        "email",
        "email_verified",
        "role",
        "practice",
        "amr",
        "acr",
        "auth_time",
        "sid",
    ] {
        assert!(claims.iter().any(|c| c == claim), "{claim}");
    }
}

async fn a_signed_in_person_goes_straight_back_with_a_code_for_tokens(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    let rp = register(&app, false).await;

    let to = visit(&owner, &authorize_path(&rp, &[])).await.unwrap();
    let back = back_at(&to);
    assert_eq!(back["state"], "st-1");
    assert_eq!(back["iss"], issuer(&app));
    assert!(back["code"].len() >= 43, "at least 128 random bits");

    let (status, tokens) = exchange(&app.client(), &rp, &back["code"]).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 600);
    assert_eq!(tokens["scope"], "openid profile email offline_access");
    assert!(
        tokens["refresh_token"].is_string(),
        "offline_access was granted"
    );
    let claims = claims_of(tokens["id_token"].as_str().unwrap());
    assert_eq!(claims["iss"], issuer(&app));
    assert_eq!(
        (&claims["aud"], &claims["azp"]),
        (&rp.id.clone().into(), &rp.id.clone().into())
    );
    assert_eq!(claims["nonce"], "n-1");
    assert_eq!(claims["amr"], serde_json::json!(["pwd"]));
    assert_eq!(claims["acr"], "pwd");
    assert_eq!(claims["email"], "owner@harbor.test");
    assert_eq!(claims["role"], "owner");
    assert_eq!(claims["practice"]["name"], "Harbor Counseling");
    let (_, me) = owner.get("/api/v1/me").await;
    assert_eq!(claims["sub"], me["user"]["id"]);

    let access = tokens["access_token"].as_str().unwrap();
    for post in [false, true] {
        let response = userinfo(&app.client(), access, post).await;
        assert_eq!(response.status(), StatusCode::OK, "post: {post}");
        let info: Value = response.json().await.unwrap();
        assert_eq!(info["sub"], claims["sub"]);
        assert_eq!(info["email"], "owner@harbor.test");
        assert_eq!(info["practice"], claims["practice"]);
    }
    assert_eq!(owner.audited("app.signed_in").await, 1);
    let (_, trail) = owner.get("/api/v1/practice/audit?kind=app.signed_in").await;
    assert_eq!(trail["events"][0]["detail"], "Harbor Practice");
    // My Profile lists it with the session it rests on.
    let (_, sessions) = owner.get("/api/v1/me/sessions").await;
    assert_eq!(
        sessions["sessions"][0]["applications"],
        serde_json::json!(["Harbor Practice"])
    );
    let (_, html) = owner.page("/profile").await;
    assert!(html.contains("Signed in to Harbor Practice"), "{html}");
}

async fn a_code_used_twice_is_refused_and_ends_what_it_gave(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    let rp = register(&app, false).await;
    let code = code_for(&app, &owner, &rp).await;
    let (status, tokens) = exchange(&app.client(), &rp, &code).await;
    assert_eq!(status, StatusCode::OK);
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(
        userinfo(&app.client(), access, false).await.status(),
        StatusCode::OK
    );

    let (status, again) = exchange(&app.client(), &rp, &code).await;
    assert_eq!(
        (status, &again["error"]),
        (StatusCode::BAD_REQUEST, &"invalid_grant".into())
    );
    let refused = userinfo(&app.client(), access, false).await;
    assert_eq!(
        refused.status(),
        StatusCode::UNAUTHORIZED,
        "what the code gave has ended"
    );
    assert!(
        refused.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("error=\"invalid_token\"")
    );
    assert_eq!(owner.audited("app.code_reused").await, 1);

    // A minute later a code no longer works.
    let code = code_for(&app, &owner, &rp).await;
    app.clock.advance(61);
    let (status, late) = exchange(&app.client(), &rp, &code).await;
    assert_eq!(
        (status, &late["error"]),
        (StatusCode::BAD_REQUEST, &"invalid_grant".into())
    );
}

async fn an_unknown_application_or_address_gets_a_page_never_a_redirect(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    let rp = register(&app, false).await;
    let unknown = RelyingParty {
        id: "no-such-application".into(),
        secret: None,
    };
    for path in [
        authorize_path(&unknown, &[]),
        authorize_path(&rp, &[("client_id", "")]),
        authorize_path(&rp, &[("redirect_uri", "https://evil.example/cb")]),
        authorize_path(
            &rp,
            &[("redirect_uri", "https://harbor.example.com/oidc/callback/")],
        ),
        authorize_path(&rp, &[("redirect_uri", "")]),
        // Even an error that would otherwise go back: the address is not trusted.
        authorize_path(
            &rp,
            &[
                ("redirect_uri", "https://evil.example/cb"),
                ("response_type", "token"),
            ],
        ),
    ] {
        let (status, html) = visit(&owner, &path).await.unwrap_err();
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}");
        assert!(html.contains("This sign-in link does not work"), "{path}");
    }
}

async fn other_request_errors_go_back_to_the_application_with_state(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    let rp = register(&app, false).await;
    let public = register(&app, true).await;
    for (rp, change, error) in [
        (
            &rp,
            vec![("response_type", "token")],
            "unsupported_response_type",
        ),
        (
            &rp,
            vec![("response_type", "code id_token")],
            "unsupported_response_type",
        ),
        (&rp, vec![("response_type", "")], "invalid_request"),
        (&rp, vec![("scope", "profile email")], "invalid_scope"),
        (
            &rp,
            vec![("code_challenge_method", "plain")],
            "invalid_request",
        ),
        (&rp, vec![("request", "eyJ")], "request_not_supported"),
        (
            &public,
            vec![("code_challenge", ""), ("code_challenge_method", "")],
            "invalid_request",
        ),
    ] {
        let to = visit(&owner, &authorize_path(rp, &change)).await.unwrap();
        let back = back_at(&to);
        assert_eq!(back["error"], error, "{change:?}");
        assert_eq!(back["state"], "st-1");
        assert_eq!(back["iss"], issuer(&app));
        assert!(!back.contains_key("code"));
    }
    assert_eq!(owner.audited("app.signed_in").await, 0);
}

async fn someone_not_signed_in_signs_in_with_a_code_and_comes_back(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    app.turn_on_two_factor(&owner, "+14155550101").await;
    let rp = register(&app, false).await;

    let browser = app.client();
    let path = authorize_path(&rp, &[("login_hint", "owner@harbor.test")]);
    assert_eq!(visit(&browser, &path).await.unwrap(), "/sign-in");
    let (status, html) = browser.page("/sign-in").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("Sign in to continue to <strong>Harbor Practice</strong>"),
        "{html}"
    );
    assert!(
        html.contains(r#"value="owner@harbor.test""#),
        "the login hint fills the email"
    );

    let (to, _, _) = browser
        .fill_in(
            "/sign-in",
            "/sign-in",
            &[("email", "owner@harbor.test"), ("password", PASSWORD)],
        )
        .await;
    assert!(to.starts_with("/sign-in/code"), "{to}");
    // The code page's form may lead on to the application.
    let response = browser
        .http
        .get(browser.url("/sign-in/code"))
        .send()
        .await
        .unwrap();
    let policy = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        policy.contains("form-action 'self' https://harbor.example.com;"),
        "{policy}"
    );
    let csrf = csrf_of(&response.text().await.unwrap());
    let code = app.last_code_to("+14155550101").await;
    let posted = browser
        .submit("/sign-in/code", &[("csrf", &csrf), ("code", &code)])
        .await;
    assert_eq!(posted.status(), StatusCode::SEE_OTHER);
    assert_eq!(posted.headers()["location"], "/oidc/authorize/continue");
    let to = visit(&browser, "/oidc/authorize/continue").await.unwrap();
    let back = back_at(&to);
    assert_eq!(back["state"], "st-1");

    let (status, tokens) = exchange(&app.client(), &rp, &back["code"]).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let claims = claims_of(tokens["id_token"].as_str().unwrap());
    assert_eq!(claims["amr"], serde_json::json!(["pwd", "mfa", "sms"]));
    assert_eq!(claims["acr"], "mfa");

    // The request waited once: afterwards the sign-in pages lead to the dashboard again.
    assert_eq!(
        visit(&browser, "/oidc/authorize/continue").await.unwrap(),
        "/dashboard"
    );
    assert_eq!(visit(&browser, "/sign-in").await.unwrap(), "/dashboard");
}

async fn prompt_none_prompt_login_and_max_age(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    let rp = register(&app, false).await;

    let stranger = app.client();
    let to = visit(&stranger, &authorize_path(&rp, &[("prompt", "none")]))
        .await
        .unwrap();
    assert_eq!(back_at(&to)["error"], "login_required");
    let to = visit(&owner, &authorize_path(&rp, &[("prompt", "none")]))
        .await
        .unwrap();
    assert!(
        back_at(&to).contains_key("code"),
        "prompt=none with a session"
    );

    let first = code_for(&app, &owner, &rp).await;
    let (_, tokens) = exchange(&app.client(), &rp, &first).await;
    let first_auth_time = claims_of(tokens["id_token"].as_str().unwrap())["auth_time"].clone();

    app.clock.advance(120);
    let path = authorize_path(&rp, &[("prompt", "login")]);
    assert_eq!(visit(&owner, &path).await.unwrap(), "/sign-in/again");
    let (status, html) = owner.page("/sign-in/again").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Harbor Practice asks you to enter your password again"));
    let (to, _, html) = owner
        .fill_in(
            "/sign-in/again",
            "/sign-in/again",
            &[("password", "not my password")],
        )
        .await;
    assert_eq!(to, "/sign-in/again");
    assert!(html.contains("That password is not correct."));
    let (_, html) = owner.page("/sign-in/again").await;
    let posted = owner
        .submit(
            "/sign-in/again",
            &[("csrf", &csrf_of(&html)), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(posted.headers()["location"], "/oidc/authorize/continue");
    let to = visit(&owner, "/oidc/authorize/continue").await.unwrap();
    let (_, tokens) = exchange(&app.client(), &rp, &back_at(&to)["code"]).await;
    let auth_time = claims_of(tokens["id_token"].as_str().unwrap())["auth_time"].clone();
    assert_eq!(
        auth_time.as_i64().unwrap() - first_auth_time.as_i64().unwrap(),
        120,
        "a new auth_time"
    );

    // max_age: a password older than it asks for is asked again; prompt=none cannot ask.
    app.clock.advance(300);
    assert_eq!(
        visit(&owner, &authorize_path(&rp, &[("max_age", "60")]))
            .await
            .unwrap(),
        "/sign-in/again"
    );
    let to = visit(&owner, &authorize_path(&rp, &[("max_age", "600")]))
        .await
        .unwrap();
    assert!(back_at(&to).contains_key("code"));
    let path = authorize_path(&rp, &[("max_age", "60"), ("prompt", "none")]);
    assert_eq!(
        back_at(&visit(&owner, &path).await.unwrap())["error"],
        "login_required"
    );
}

async fn the_token_endpoint_refuses_as_rfc_6749_says(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    let rp = register(&app, false).await;
    let c = app.client();
    let code = code_for(&app, &owner, &rp).await;

    let wrong = RelyingParty {
        id: rp.id.clone(),
        secret: Some("not the secret".into()),
    };
    let response = c
        .http
        .post(c.url("/oidc/token"))
        .basic_auth(&wrong.id, wrong.secret.as_ref())
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", CB),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        response.headers()["www-authenticate"],
        "Basic realm=\"latch\""
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");

    let secret = rp.secret.clone().unwrap();
    type Form<'a> = Vec<(&'a str, &'a str)>;
    let cases: Vec<(Form, StatusCode, &str)> = vec![
        (
            vec![("grant_type", "password")],
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
        ),
        (vec![], StatusCode::BAD_REQUEST, "invalid_request"),
        (
            vec![("grant_type", "authorization_code"), ("redirect_uri", CB)],
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            vec![
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("code", &code),
                ("redirect_uri", CB),
            ],
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            vec![
                ("grant_type", "authorization_code"),
                ("code", "made-up"),
                ("redirect_uri", CB),
            ],
            StatusCode::BAD_REQUEST,
            "invalid_grant",
        ),
    ];
    for (form, status, error) in cases {
        let mut form = form.clone();
        form.extend([
            ("client_id", rp.id.as_str()),
            ("client_secret", secret.as_str()),
        ]);
        let response = c
            .http
            .post(c.url("/oidc/token"))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), status, "{form:?}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], error, "{form:?}");
    }
    // The secret one way only.
    let response = c
        .http
        .post(c.url("/oidc/token"))
        .basic_auth(&rp.id, Some(&secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", CB),
            ("client_secret", &secret),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    // JSON is not the token endpoint's form.
    let response = c
        .http
        .post(c.url("/oidc/token"))
        .basic_auth(&rp.id, Some(&secret))
        .json(&serde_json::json!({"grant_type": "authorization_code"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);

    // Another address than the code's, or a wrong PKCE verifier: invalid_grant.
    let code = code_for(&app, &owner, &rp).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", "https://harbor.example.com/other"),
        ("code_verifier", VERIFIER),
    ];
    assert_eq!(token(&c, &rp, &form).await.1["error"], "invalid_grant");
    let code = code_for(&app, &owner, &rp).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", CB),
        (
            "code_verifier",
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXl",
        ),
    ];
    assert_eq!(token(&c, &rp, &form).await.1["error"], "invalid_grant");
    // client_secret_post works as Basic does.
    let code = code_for(&app, &owner, &rp).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", CB),
        ("code_verifier", VERIFIER),
        ("client_id", rp.id.as_str()),
        ("client_secret", secret.as_str()),
    ];
    let response = c
        .http
        .post(c.url("/oidc/token"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

async fn failed_client_authentication_is_throttled(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    let rp = register(&app, false).await;
    let c = app.client();
    let try_secret = |secret: String| {
        let c = c.clone();
        let id = rp.id.clone();
        async move {
            c.http
                .post(c.url("/oidc/token"))
                .basic_auth(id, Some(secret))
                .form(&[
                    ("grant_type", "authorization_code"),
                    ("code", "x"),
                    ("redirect_uri", CB),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    for n in 0..20 {
        assert_eq!(
            try_secret(format!("guess {n}")).await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let throttled = try_secret("guess 21".into()).await;
    assert_eq!(throttled.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(throttled.headers().contains_key("retry-after"));
    // While throttled, even the right secret is not checked.
    let code = code_for(&app, &owner, &rp).await;
    let (status, _) = exchange(&c, &rp, &code).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    app.clock.advance(15 * 60);
    // Signed in again: the quarter hour also ended the idle session.
    let owner = app.client();
    owner.sign_in("owner@harbor.test", PASSWORD).await;
    let code = code_for(&app, &owner, &rp).await;
    assert_eq!(
        exchange(&c, &rp, &code).await.0,
        StatusCode::OK,
        "the window ended"
    );
}

async fn a_public_application_proves_itself_with_pkce(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    let mobile = register(&app, true).await;
    assert!(mobile.secret.is_none());
    let c = app.client();
    for (sent, works) in [
        (None, false),
        (Some("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXl"), false),
        (Some(VERIFIER), true),
    ] {
        let code = code_for(&app, &owner, &mobile).await;
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", CB),
        ];
        if let Some(verifier) = sent {
            form.push(("code_verifier", verifier));
        }
        let (status, body) = token(&c, &mobile, &form).await;
        assert_eq!(status == StatusCode::OK, works, "{sent:?}: {body}");
        if !works {
            assert_eq!(body["error"], "invalid_grant");
        }
    }
    // A public application has no secret to send; one that sends one is not it.
    let code = code_for(&app, &owner, &mobile).await;
    let pretender = RelyingParty {
        id: mobile.id.clone(),
        secret: Some("anything".into()),
    };
    let (status, body) = exchange(&c, &pretender, &code).await;
    assert_eq!(
        (status, &body["error"]),
        (StatusCode::UNAUTHORIZED, &"invalid_client".into())
    );
    // A browser application calls the token endpoint from its own origin.
    let response = c
        .http
        .request(reqwest::Method::OPTIONS, c.url("/oidc/token"))
        .header("origin", "https://harbor.example.com")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["access-control-allow-origin"], "*");
    let code = code_for(&app, &owner, &mobile).await;
    let response = c
        .http
        .post(c.url("/oidc/token"))
        .header("origin", "https://harbor.example.com")
        .header("sec-fetch-site", "cross-site")
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", CB),
            ("code_verifier", VERIFIER),
            ("client_id", mobile.id.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "not refused as a cross-site form"
    );
}

async fn tokens_stop_working_when_the_latch_session_ends(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    let rp = register(&app, false).await;
    let code = code_for(&app, &owner, &rp).await;
    let (_, tokens) = exchange(&app.client(), &rp, &code).await;
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(
        userinfo(&app.client(), access, false).await.status(),
        StatusCode::OK
    );
    let waiting = code_for(&app, &owner, &rp).await;
    owner.delete("/api/v1/session").await;
    assert_eq!(
        userinfo(&app.client(), access, false).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let (status, body) = exchange(&app.client(), &rp, &waiting).await;
    assert_eq!(
        (status, &body["error"]),
        (StatusCode::BAD_REQUEST, &"invalid_grant".into())
    );
    let response = app
        .client()
        .http
        .get(app.client().url("/oidc/userinfo"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        response.headers()["www-authenticate"],
        "Bearer realm=\"latch\""
    );
}

async fn a_sign_in_begun_on_one_node_finishes_on_another(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let _owner = app.with_practice().await;
    let rp = register(&app, false).await;
    let (other, _node) = app.second_node().await;

    let browser = app.client();
    assert_eq!(
        visit(&browser, &authorize_path(&rp, &[])).await.unwrap(),
        "/sign-in"
    );
    let there = browser.on(&other);
    let (_, html) = there.page("/sign-in").await;
    assert!(
        html.contains("Harbor Practice"),
        "the waiting request opens on every node"
    );
    let posted = there
        .submit(
            "/sign-in",
            &[
                ("csrf", &csrf_of(&html)),
                ("email", "owner@harbor.test"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(posted.headers()["location"], "/oidc/authorize/continue");
    let to = visit(&browser, "/oidc/authorize/continue").await.unwrap();
    let (status, body) = exchange(&app.client().on(&other), &rp, &back_at(&to)["code"]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

pub(crate) async fn refresh(
    c: &Client,
    rp: &RelyingParty,
    refresh_token: &str,
    scope: Option<&str>,
) -> (StatusCode, Value) {
    let mut form = vec![
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
    ];
    if let Some(scope) = scope {
        form.push(("scope", scope));
    }
    token(c, rp, &form).await
}

/// Tokens for a browser signed in already.
pub(crate) async fn tokens_for(app: &TestApp, c: &Client, rp: &RelyingParty) -> Value {
    let code = code_for(app, c, rp).await;
    let (status, tokens) = exchange(&app.client(), rp, &code).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    tokens
}

async fn refresh_tokens_rotate_and_a_reused_one_ends_the_family(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    let rp = register(&app, false).await;
    let c = app.client();
    let first = tokens_for(&app, &owner, &rp).await;
    let first_refresh = first["refresh_token"].as_str().unwrap();

    app.clock.advance(60);
    let (status, second) = refresh(&c, &rp, first_refresh, None).await;
    assert_eq!(status, StatusCode::OK, "{second}");
    assert_ne!(second["refresh_token"], first["refresh_token"], "rotated");
    assert_ne!(second["access_token"], first["access_token"]);
    let (before, after) = (
        claims_of(first["id_token"].as_str().unwrap()),
        claims_of(second["id_token"].as_str().unwrap()),
    );
    assert_eq!(
        (&after["sub"], &after["sid"], &after["auth_time"]),
        (&before["sub"], &before["sid"], &before["auth_time"])
    );
    assert_eq!(
        after["iat"].as_i64().unwrap() - before["iat"].as_i64().unwrap(),
        60
    );
    assert!(
        after.get("nonce").is_none(),
        "no nonce in a refreshed ID token"
    );

    // Narrowed, never widened; a refused widening spends nothing.
    let second_refresh = second["refresh_token"].as_str().unwrap();
    let (status, body) = refresh(&c, &rp, second_refresh, Some("openid phone")).await;
    assert_eq!(
        (status, &body["error"]),
        (StatusCode::BAD_REQUEST, &"invalid_scope".into())
    );
    let (status, third) =
        refresh(&c, &rp, second_refresh, Some("openid email offline_access")).await;
    assert_eq!(status, StatusCode::OK, "{third}");
    assert_eq!(third["scope"], "openid email offline_access");
    let info: Value = userinfo(&c, third["access_token"].as_str().unwrap(), false)
        .await
        .json()
        .await
        .unwrap();
    assert!(
        info.get("name").is_none() && info["email"] == "owner@harbor.test",
        "{info}"
    );

    // Another application cannot use it.
    let other = register(&app, false).await;
    let third_refresh = third["refresh_token"].as_str().unwrap();
    assert_eq!(
        refresh(&c, &other, third_refresh, None).await.1["error"],
        "invalid_grant"
    );

    // The first refresh token again: refused, and the whole family ends.
    let (status, body) = refresh(&c, &rp, first_refresh, None).await;
    assert_eq!(
        (status, &body["error"]),
        (StatusCode::BAD_REQUEST, &"invalid_grant".into())
    );
    assert_eq!(
        refresh(&c, &rp, third_refresh, None).await.1["error"],
        "invalid_grant"
    );
    let access = third["access_token"].as_str().unwrap();
    assert_eq!(
        userinfo(&c, access, false).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(owner.audited("app.refresh_reused").await, 1);

    // A refresh counts as activity: the session outlives its idle limit while refreshed.
    let fresh = tokens_for(&app, &owner, &rp).await;
    let mut refresh_token = fresh["refresh_token"].as_str().unwrap().to_owned();
    for _ in 0..4 {
        app.clock.advance(10 * 60);
        let (status, body) = refresh(&c, &rp, &refresh_token, None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        refresh_token = body["refresh_token"].as_str().unwrap().to_owned();
    }
    // Signing out of latch ends the refresh tokens with the session.
    owner.delete("/api/v1/session").await;
    assert_eq!(
        refresh(&c, &rp, &refresh_token, None).await.1["error"],
        "invalid_grant"
    );
}

async fn of_refreshes_racing_with_one_token_one_wins(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    let rp = register(&app, false).await;
    let tokens = tokens_for(&app, &owner, &rp).await;
    let refresh_token = tokens["refresh_token"].as_str().unwrap().to_owned();
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(8));
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let c = app.client().own_connection();
            let barrier = barrier.clone();
            let form = [
                ("grant_type", "refresh_token".to_owned()),
                ("refresh_token", refresh_token.clone()),
            ];
            let request = c
                .http
                .post(c.url("/oidc/token"))
                .basic_auth(&rp.id, rp.secret.as_ref())
                .form(&form);
            tokio::spawn(async move {
                barrier.wait().await;
                request.send().await.unwrap().status()
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::OK || *s == StatusCode::BAD_REQUEST),
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count(),
        1,
        "{statuses:?}"
    );
}

pub(crate) async fn introspect(c: &Client, rp: &RelyingParty, token: &str) -> (StatusCode, Value) {
    let mut request = c
        .http
        .post(c.url("/oidc/introspect"))
        .form(&[("token", token)]);
    if let Some(secret) = &rp.secret {
        request = request.basic_auth(&rp.id, Some(secret));
    } else {
        request = c
            .http
            .post(c.url("/oidc/introspect"))
            .form(&[("token", token), ("client_id", &rp.id)]);
    }
    let response = request.send().await.unwrap();
    (response.status(), response.json().await.unwrap())
}

async fn revoke(c: &Client, rp: &RelyingParty, token: &str) -> StatusCode {
    let request = c
        .http
        .post(c.url("/oidc/revoke"))
        .basic_auth(&rp.id, rp.secret.as_ref())
        .form(&[("token", token), ("token_type_hint", "access_token")]);
    request.send().await.unwrap().status()
}

async fn revocation_and_introspection_for_applications_with_a_secret(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    let rp = register(&app, false).await;
    let other = register(&app, false).await;
    let c = app.client();
    let tokens = tokens_for(&app, &owner, &rp).await;
    let (access, refresh_token) = (
        tokens["access_token"].as_str().unwrap(),
        tokens["refresh_token"].as_str().unwrap(),
    );
    let id_token = claims_of(tokens["id_token"].as_str().unwrap());

    let (status, active) = introspect(&c, &rp, access).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(active["active"], true);
    assert_eq!(active["sub"], id_token["sub"]);
    assert_eq!(active["client_id"], rp.id.as_str());
    assert_eq!(active["sid"], id_token["sid"]);
    assert_eq!(active["scope"], "openid profile email offline_access");
    assert_eq!(
        active["exp"].as_i64().unwrap() - active["iat"].as_i64().unwrap(),
        600
    );
    assert_eq!(
        introspect(&c, &other, access).await.1,
        serde_json::json!({"active": false}),
        "not its token"
    );
    assert_eq!(
        introspect(&c, &rp, "made-up").await.1,
        serde_json::json!({"active": false})
    );
    let public = register(&app, true).await;
    assert_eq!(
        introspect(&c, &public, access).await.0,
        StatusCode::UNAUTHORIZED,
        "for confidential applications"
    );

    // Another application's revocation changes nothing; this one's ends the access token.
    assert_eq!(revoke(&c, &other, access).await, StatusCode::OK);
    assert_eq!(introspect(&c, &rp, access).await.1["active"], true);
    assert_eq!(revoke(&c, &rp, access).await, StatusCode::OK);
    assert_eq!(introspect(&c, &rp, access).await.1["active"], false);
    assert_eq!(
        introspect(&c, &rp, refresh_token).await.1["active"],
        true,
        "the refresh token stays"
    );
    assert_eq!(
        revoke(&c, &rp, "made-up").await,
        StatusCode::OK,
        "unknown tokens answer the same"
    );

    // A refresh token revoked ends its grant.
    assert_eq!(revoke(&c, &rp, refresh_token).await, StatusCode::OK);
    assert_eq!(introspect(&c, &rp, refresh_token).await.1["active"], false);
    assert_eq!(
        refresh(&c, &rp, refresh_token, None).await.1["error"],
        "invalid_grant"
    );
    let wrong = RelyingParty {
        id: rp.id.clone(),
        secret: Some("wrong".into()),
    };
    assert_eq!(revoke(&c, &wrong, access).await, StatusCode::UNAUTHORIZED);
}

async fn a_password_or_two_factor_change_ends_the_applications_tokens(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    let rp = register(&app, false).await;
    let c = app.client();

    // Even those resting on the session that made the change, which itself goes on.
    let tokens = tokens_for(&app, &owner, &rp).await;
    let (status, _) = owner
        .put(
            "/api/v1/me/password",
            serde_json::json!({"current_password": PASSWORD, "new_password": "violet tractor sandwich"}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(owner.get("/api/v1/me").await.0, StatusCode::OK);
    let refresh_token = tokens["refresh_token"].as_str().unwrap();
    assert_eq!(
        refresh(&c, &rp, refresh_token, None).await.1["error"],
        "invalid_grant"
    );
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(
        userinfo(&c, access, false).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let (_, sessions) = owner.get("/api/v1/me/sessions").await;
    assert_eq!(
        sessions["sessions"][0]["applications"],
        serde_json::json!([])
    );

    // A change of two-factor phone changes how the person signs in: the applications sign
    // in again.
    let reauthenticate = || async {
        let (status, body) = owner
            .post(
                "/api/v1/session/reauthenticate",
                serde_json::json!({"password": "violet tractor sandwich"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    };
    reauthenticate().await;
    app.enrol(&owner, "+14155550101").await;
    let tokens = tokens_for(&app, &owner, &rp).await;
    reauthenticate().await;
    app.enrol(&owner, "+14155550102").await;
    let refresh_token = tokens["refresh_token"].as_str().unwrap();
    assert_eq!(
        refresh(&c, &rp, refresh_token, None).await.1["error"],
        "invalid_grant"
    );
}

async fn a_practices_required_setup_comes_first_then_the_application(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    app.person(&owner, "staff", "sam@harbor.test").await;
    let (status, body) = owner
        .change_security(serde_json::json!({"require_two_factor": "staff"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let rp = register(&app, false).await;

    let browser = app.client();
    assert_eq!(
        visit(&browser, &authorize_path(&rp, &[])).await.unwrap(),
        "/sign-in"
    );
    let (_, html) = browser.page("/sign-in").await;
    let posted = browser
        .submit(
            "/sign-in",
            &[
                ("csrf", &csrf_of(&html)),
                ("email", "sam@harbor.test"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(posted.headers()["location"], "/oidc/authorize/continue");
    // Held for the practice's rule: no code for the application, the wizard first.
    assert_eq!(
        visit(&browser, "/oidc/authorize/continue").await.unwrap(),
        "/sign-in"
    );
    assert_eq!(
        visit(&browser, "/sign-in").await.unwrap(),
        "/profile/two-factor"
    );
    app.enrol(&browser, "+14155550123").await;
    let (status, html) = browser
        .page("/profile/two-factor/done?next=dashboard")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(r#"href="/oidc/authorize/continue">Continue to Harbor Practice"#),
        "{html}"
    );
    let to = visit(&browser, "/oidc/authorize/continue").await.unwrap();
    let (status, tokens) = exchange(&app.client(), &rp, &back_at(&to)["code"]).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let claims = claims_of(tokens["id_token"].as_str().unwrap());
    assert_eq!(claims["role"], "staff");
}

async fn refresh_families_are_shared_by_every_node(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    let rp = register(&app, false).await;
    let (other, _node) = app.second_node().await;
    let (here, there) = (app.client(), app.client().on(&other));
    let tokens = tokens_for(&app, &owner, &rp).await;
    let first = tokens["refresh_token"].as_str().unwrap();
    let (status, second) = refresh(&there, &rp, first, None).await;
    assert_eq!(status, StatusCode::OK, "{second}");
    // The first token again, on the first node: the family ends on both.
    assert_eq!(
        refresh(&here, &rp, first, None).await.1["error"],
        "invalid_grant"
    );
    let second = second["refresh_token"].as_str().unwrap();
    assert_eq!(
        refresh(&there, &rp, second, None).await.1["error"],
        "invalid_grant"
    );
}

async fn a_waiting_request_latch_did_not_seal_is_ignored(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let _owner = app.with_practice().await;
    let rp = register(&app, false).await;
    let browser = app.client();
    assert_eq!(
        visit(&browser, &authorize_path(&rp, &[])).await.unwrap(),
        "/sign-in"
    );
    let sealed = browser
        .cookies()
        .split("; ")
        .find_map(|c| c.strip_prefix("latch_authorize=").map(str::to_owned))
        .expect("the request waits in a cookie");
    // One character changed: AES-GCM refuses it, and the pages know of no application.
    let mut changed = sealed.into_bytes();
    let last = changed.len() - 1;
    changed[last] = if changed[last] == b'A' { b'B' } else { b'A' };
    let changed = String::from_utf8(changed).unwrap();
    let url = reqwest::Url::parse(&browser.base).unwrap();
    browser
        .jar
        .add_cookie_str(&format!("latch_authorize={changed}; Path=/"), &url);
    let (_, html) = browser.page("/sign-in").await;
    assert!(!html.contains("Sign in to continue to"), "{html}");
    assert_eq!(
        visit(&browser, "/oidc/authorize/continue").await.unwrap(),
        "/dashboard"
    );
}

/// A password reset by link and a deactivation end what the person's sessions gave
/// applications; `email_verified` says whether the address followed a link (here, an
/// invitation's).
async fn a_reset_password_or_a_deactivation_ends_the_applications_tokens(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    let rp = register(&app, false).await;
    let (status, _) = owner
        .post(
            "/api/v1/practice/invitations",
            serde_json::json!({"email": "sam@harbor.test", "name": "Sam Lee", "role": "staff"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let link = app.link_to("sam@harbor.test", 1).await;
    let sam = app.client();
    let token = link.rsplit('/').next().unwrap();
    let password = "tidal meadow lantern 31";
    let (status, body) = sam
        .post(
            &format!("/api/v1/invitations/{token}/accept"),
            serde_json::json!({"password": password}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let tokens = tokens_for(&app, &sam, &rp).await;
    let refresh_token = tokens["refresh_token"].as_str().unwrap().to_owned();
    let (status, rotated) = refresh(&app.client(), &rp, &refresh_token, None).await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    let refresh_token = rotated["refresh_token"].as_str().unwrap().to_owned();
    let access = rotated["access_token"].as_str().unwrap().to_owned();
    let owners = tokens_for(&app, &owner, &rp).await;
    let (_, claims) =
        introspect(&app.client(), &rp, owners["access_token"].as_str().unwrap()).await;
    assert_eq!(claims["active"], true);

    // A reset link followed: the owner's tokens die with their sessions.
    owner
        .post(
            "/api/v1/password-reset",
            serde_json::json!({"email": "owner@harbor.test"}),
        )
        .await;
    let reset = app.link_to("owner@harbor.test", 1).await;
    let (status, _) = app
        .client()
        .post(
            "/api/v1/password-reset/confirm",
            serde_json::json!({"token": reset.rsplit('/').next().unwrap(), "new_password": password}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, claims) =
        introspect(&app.client(), &rp, owners["access_token"].as_str().unwrap()).await;
    assert_eq!(claims["active"], false, "{claims}");
    assert_eq!(
        userinfo(&app.client(), &access, false).await.status(),
        StatusCode::OK
    );

    // A deactivation: Sam's tokens end too.
    let owner = app.client();
    assert_eq!(
        owner.sign_in("owner@harbor.test", password).await.0,
        StatusCode::OK
    );
    let (status, _) = owner
        .post(
            "/api/v1/session/reauthenticate",
            serde_json::json!({"password": password}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, me) = sam.get("/api/v1/me").await;
    let sam_id = me["user"]["id"].as_str().unwrap().to_owned();
    assert_eq!(me["user"]["email_verified"], true);
    let (status, _) = owner
        .post(
            &format!("/api/v1/practice/users/{sam_id}/deactivate"),
            serde_json::json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        userinfo(&app.client(), &access, false).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let (status, body) = refresh(&app.client(), &rp, &refresh_token, None).await;
    assert_eq!(
        (status, &body["error"]),
        (StatusCode::BAD_REQUEST, &"invalid_grant".into())
    );
}
