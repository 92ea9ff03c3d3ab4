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
