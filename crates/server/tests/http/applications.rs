//! Applications that sign people in through latch, as the operator registers them, and the
//! keys their tokens are signed with, published as a JWKS and shared by every node.

use latch_app::applications::{ApplicationInput, RETIRED_KEY_SHOWN_SECONDS};
use latch_app::ports::ApplicationStore;
use latch_domain::Timestamp;
use reqwest::StatusCode;
use serde_json::Value;

use crate::console::run as latch;
use crate::support::{Client, Dialect, TestApp};

crate::on_both_databases!(
    an_application_is_kept_with_its_secret_hashed,
    the_jwks_publishes_the_signing_key_and_a_retired_one_while_it_lives,
    nodes_starting_together_make_one_signing_key,
    a_code_is_exchanged_once_by_its_application_for_tokens,
    a_public_application_proves_itself_with_pkce,
);

#[test]
fn the_operator_registers_lists_rotates_and_removes_applications() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let (ok, out, err) = latch(
        dir,
        &[
            "client",
            "add",
            "--name",
            "Harbor Practice",
            "--redirect-uri",
            "https://harbor.example.com/oidc/callback",
            "--redirect-uri",
            "http://localhost:8080/callback",
            "--post-logout-redirect-uri",
            "https://harbor.example.com/",
            "--backchannel-logout-uri",
            "https://harbor.example.com/oidc/logout",
        ],
    );
    assert!(ok, "{err}");
    let web: Value = serde_json::from_str(&out).expect("one JSON object on standard output");
    assert_eq!(web["name"], "Harbor Practice");
    assert_eq!(
        web["redirect_uris"],
        serde_json::json!([
            "https://harbor.example.com/oidc/callback",
            "http://localhost:8080/callback"
        ])
    );
    assert_eq!(
        web["post_logout_redirect_uris"][0],
        "https://harbor.example.com/"
    );
    assert_eq!(
        web["backchannel_logout_uri"],
        "https://harbor.example.com/oidc/logout"
    );
    let web_id = web["client_id"].as_str().unwrap().to_owned();
    let secret = web["client_secret"].as_str().unwrap().to_owned();
    assert_eq!(
        (web_id.len(), secret.len()),
        (32, 64),
        "128 and 256 random bits"
    );

    let (ok, out, err) = latch(
        dir,
        &[
            "client",
            "add",
            "--name",
            "Harbor Mobile",
            "--redirect-uri",
            "http://127.0.0.1:7777/cb",
            "--public",
        ],
    );
    assert!(ok, "{err}");
    let app: Value = serde_json::from_str(&out).unwrap();
    assert!(
        app.get("client_secret").is_none(),
        "a public client has no secret: {app}"
    );
    let app_id = app["client_id"].as_str().unwrap().to_owned();

    // Every refused address is named at once, and nothing is registered.
    let (ok, out, err) = latch(
        dir,
        &[
            "client",
            "add",
            "--name",
            " ",
            "--redirect-uri",
            "http://harbor.example.com/cb",
            "--redirect-uri",
            "https://*.example.com/cb",
            "--post-logout-redirect-uri",
            "https://harbor.example.com/#bye",
        ],
    );
    assert!(!ok && out.is_empty());
    for said in [
        "Give the application a name",
        "http://harbor.example.com/cb: use https://",
        "https://*.example.com/cb: addresses are matched exactly",
        "https://harbor.example.com/#bye: an address with a #fragment",
    ] {
        assert!(err.contains(said), "{said}: {err}");
    }

    let (ok, out, _) = latch(dir, &["client", "list"]);
    assert!(ok);
    let listed: Value = serde_json::from_str(&out).unwrap();
    let ids: Vec<&str> = listed["clients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["client_id"].as_str().unwrap())
        .collect();
    let mut registered = [web_id.as_str(), app_id.as_str()];
    registered.sort_unstable();
    let mut ids = ids;
    ids.sort_unstable();
    assert_eq!(ids, registered, "both, by their seconds and then their ids");
    assert!(!out.contains(&secret), "a secret is shown once");

    let (ok, _, err) = latch(dir, &["client", "rotate-secret", &app_id]);
    assert!(
        !ok && err.contains("A public application has no secret"),
        "{err}"
    );
    let (ok, out, _) = latch(dir, &["client", "rotate-secret", &web_id]);
    assert!(ok);
    let rotated: Value = serde_json::from_str(&out).unwrap();
    assert_ne!(rotated["client_secret"], secret.as_str());
    assert_eq!(rotated["client_secret"].as_str().unwrap().len(), 64);

    let (ok, _, _) = latch(dir, &["client", "remove", &app_id]);
    assert!(ok);
    let (ok, _, err) = latch(dir, &["client", "remove", &app_id]);
    assert!(!ok, "gone: {err}");
    let (_, out, _) = latch(dir, &["client", "list"]);
    assert!(!out.contains(&app_id) && out.contains(&web_id));

    let (ok, _, err) = latch(dir, &["keys", "rotate"]);
    assert!(ok && err.contains("signs from now on"), "{err}");
}

async fn an_application_is_kept_with_its_secret_hashed(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let (added, secret) = app
        .latch()
        .applications
        .add(ApplicationInput {
            name: "Harbor Practice".into(),
            redirect_uris: vec![
                "https://harbor.example.com/cb".into(),
                "https://harbor.example.com/cb".into(),
            ],
            ..ApplicationInput::default()
        })
        .await
        .unwrap();
    let secret = secret.expect("a confidential client");
    let kept = app.db.application(&added.id).await.unwrap().unwrap();
    assert_eq!(kept, added);
    assert_eq!(kept.redirect_uris.len(), 1, "each address once");
    let hash = kept.secret_hash.unwrap();
    assert_ne!(hash, secret.expose());
    assert_eq!(hash, latch_app::crypto::token_hash(secret.expose()));
}

async fn jwks(c: &Client) -> Value {
    let response = c.http.get(c.url("/oidc/jwks")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "public, max-age=300");
    assert!(
        response.headers().get("set-cookie").is_none(),
        "no cookie for an application"
    );
    response.json().await.unwrap()
}

fn kids(set: &Value) -> Vec<String> {
    set["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

async fn the_jwks_publishes_the_signing_key_and_a_retired_one_while_it_lives(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let first = jwks(&app.client()).await;
    let key = &first["keys"][0];
    assert_eq!(
        (&key["kty"], &key["use"], &key["alg"], &key["e"]),
        (
            &"RSA".into(),
            &"sig".into(),
            &"RS256".into(),
            &"AQAB".into()
        )
    );
    assert_eq!(key["n"].as_str().unwrap().len(), 342, "a 2048-bit modulus");
    assert_eq!(kids(&jwks(&app.client()).await), kids(&first), "made once");

    let before = kids(&first).remove(0);
    let after = app.latch().applications.rotate_signing_key().await.unwrap();
    assert_eq!(
        kids(&jwks(&app.client()).await),
        [after.clone(), before],
        "the signing key first"
    );
    let stored = app.db.signing_keys(Timestamp(0)).await.unwrap();
    assert!(
        stored
            .iter()
            .all(|k| !k.sealed_private_key.starts_with("MII")),
        "private halves are sealed"
    );

    app.clock.advance(RETIRED_KEY_SHOWN_SECONDS + 1);
    assert_eq!(
        kids(&jwks(&app.client()).await),
        [after],
        "the retired key is gone"
    );
}

async fn nodes_starting_together_make_one_signing_key(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let (other, _running) = app.second_node().await;
    let (one, two) = (app.client(), app.client().on(&other));
    let (here, there) = tokio::join!(jwks(&one), jwks(&two));
    assert_eq!(kids(&here).len(), 1);
    assert_eq!(
        kids(&here),
        kids(&there),
        "every node signs with the same key"
    );
}

/// The signed-in session of `c`, as app sees it.
async fn authenticated(app: &TestApp, c: &Client) -> latch_app::sign_in::Authenticated {
    let token = c.session_cookie().expect("a session cookie");
    app.latch()
        .sign_in
        .authenticate(&token)
        .await
        .unwrap()
        .expect("signed in")
}

fn request_for(
    client_id: &str,
    public: bool,
    extra: &[(&str, &str)],
) -> latch_domain::authorization::AuthorizationRequest {
    use latch_domain::authorization::{Registered, read};
    let mut params: Vec<(String, String)> = [
        ("client_id", client_id),
        ("redirect_uri", "https://harbor.example.com/cb"),
        ("response_type", "code"),
        ("scope", "openid profile email offline_access"),
        ("nonce", "n-1"),
    ]
    .iter()
    .chain(extra)
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    params.dedup();
    let uris = [latch_domain::application::AppUri::parse("https://harbor.example.com/cb").unwrap()];
    read(
        &params,
        Some(&Registered {
            redirect_uris: &uris,
            public,
        }),
    )
    .unwrap()
}

/// Part `n` of a JWT (0 its header, 1 its claims), read.
fn jwt_part(jwt: &str, n: usize) -> Value {
    use base64::Engine as _;
    let part = jwt.split('.').nth(n).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

async fn a_code_is_exchanged_once_by_its_application_for_tokens(dialect: Dialect) {
    use latch_app::grants::{ClientCredentials, TokenRefused};
    use latch_app::records::TokenKind;
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    let latch = app.latch();
    let (web, secret) = latch
        .applications
        .add(ApplicationInput {
            name: "Harbor Practice".into(),
            redirect_uris: vec!["https://harbor.example.com/cb".into()],
            ..ApplicationInput::default()
        })
        .await
        .unwrap();
    let secret = secret.unwrap();
    let who = authenticated(&app, &owner).await;
    let credentials = |secret: &str| ClientCredentials {
        client_id: web.id.clone(),
        secret: Some(latch_app::Secret::new(secret.to_owned())),
    };
    let cb = "https://harbor.example.com/cb";
    let issuer = "https://latch.example";
    let code = latch
        .grants
        .give_code(&who, &request_for(&web.id, false, &[]))
        .await
        .unwrap();

    let exchange = |credentials, code: String, redirect: &'static str| {
        let grants = latch.grants.clone();
        async move {
            grants
                .exchange_code(&credentials, &code, redirect, None, issuer)
                .await
                .unwrap()
        }
    };
    let refused = exchange(credentials("not the secret"), code.expose().to_owned(), cb).await;
    assert_eq!(refused.err(), Some(TokenRefused::InvalidClient));
    let tokens = exchange(credentials(secret.expose()), code.expose().to_owned(), cb)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let claims = jwt_part(&tokens.id_token, 1);
    assert_eq!(claims["iss"], issuer);
    assert_eq!(claims["aud"], web.id.as_str());
    assert_eq!(claims["sub"], who.account.person.id.as_str());
    assert_eq!(claims["nonce"], "n-1");
    assert_eq!(claims["amr"], serde_json::json!(["pwd"]));
    assert_eq!(claims["email"], "owner@harbor.test");
    assert_eq!(claims["practice"]["name"], "Harbor Counseling");
    assert_eq!(tokens.scope, "openid profile email offline_access");
    let kid = jwt_part(&tokens.id_token, 0)["kid"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        kids(&jwks(&app.client()).await),
        [kid],
        "signed with the published key"
    );
    let access = latch_app::crypto::token_hash(tokens.access_token.expose());
    let now = latch_app::clock::Clock::now(&app.clock);
    assert!(
        app.db
            .application_token(&access, TokenKind::Access, now)
            .await
            .unwrap()
            .is_some()
    );
    assert!(tokens.refresh_token.is_some(), "offline_access was granted");

    // The same code again: refused, and what it gave ends.
    let again = exchange(credentials(secret.expose()), code.expose().to_owned(), cb).await;
    assert_eq!(again.err(), Some(TokenRefused::InvalidGrant));
    assert!(
        app.db
            .application_token(&access, TokenKind::Access, now)
            .await
            .unwrap()
            .is_none()
    );

    // Bound to its address, and dead with its session or after a minute.
    let code = latch
        .grants
        .give_code(&who, &request_for(&web.id, false, &[]))
        .await
        .unwrap();
    let other = exchange(
        credentials(secret.expose()),
        code.expose().to_owned(),
        "https://harbor.example.com/cb/",
    )
    .await;
    assert_eq!(other.err(), Some(TokenRefused::InvalidGrant));
    let code = latch
        .grants
        .give_code(&who, &request_for(&web.id, false, &[]))
        .await
        .unwrap();
    app.clock.advance(61);
    let late = exchange(credentials(secret.expose()), code.expose().to_owned(), cb).await;
    assert_eq!(late.err(), Some(TokenRefused::InvalidGrant));
    let code = latch
        .grants
        .give_code(&who, &request_for(&web.id, false, &[]))
        .await
        .unwrap();
    owner.delete("/api/v1/session").await;
    let ended = exchange(credentials(secret.expose()), code.expose().to_owned(), cb).await;
    assert_eq!(
        ended.err(),
        Some(TokenRefused::InvalidGrant),
        "signed out of latch"
    );
}

async fn a_public_application_proves_itself_with_pkce(dialect: Dialect) {
    use latch_app::grants::{ClientCredentials, TokenRefused};
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    let latch = app.latch();
    let (mobile, secret) = latch
        .applications
        .add(ApplicationInput {
            name: "Harbor Mobile".into(),
            redirect_uris: vec!["https://harbor.example.com/cb".into()],
            public: true,
            ..ApplicationInput::default()
        })
        .await
        .unwrap();
    assert!(secret.is_none());
    let who = authenticated(&app, &owner).await;
    // RFC 7636, Appendix B.
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    let pkce = [
        (
            "code_challenge",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        ),
        ("code_challenge_method", "S256"),
    ];
    let credentials = ClientCredentials {
        client_id: mobile.id.clone(),
        secret: None,
    };
    let cb = "https://harbor.example.com/cb";
    for (sent, works) in [
        (None, false),
        (Some("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXl"), false),
        (Some(verifier), true),
    ] {
        let code = latch
            .grants
            .give_code(&who, &request_for(&mobile.id, true, &pkce))
            .await
            .unwrap();
        let exchanged = latch
            .grants
            .exchange_code(
                &credentials,
                code.expose(),
                cb,
                sent,
                "https://latch.example",
            )
            .await
            .unwrap();
        assert_eq!(exchanged.is_ok(), works, "{sent:?}");
        if !works {
            assert_eq!(exchanged.err(), Some(TokenRefused::InvalidGrant));
        }
    }
    let with_secret = ClientCredentials {
        client_id: mobile.id.clone(),
        secret: Some(latch_app::Secret::new("anything".to_owned())),
    };
    let code = latch
        .grants
        .give_code(&who, &request_for(&mobile.id, true, &pkce))
        .await
        .unwrap();
    let refused = latch
        .grants
        .exchange_code(
            &with_secret,
            code.expose(),
            cb,
            Some(verifier),
            "https://latch.example",
        )
        .await
        .unwrap();
    assert_eq!(refused.err(), Some(TokenRefused::InvalidClient));
}
