//! latch as relying-party code nobody here wrote sees it: npm's openid-client (OpenID
//! Certified) driving the whole flow. The package comes from npm (`npm install --prefix
//! target/relying-party openid-client@6`, or `LATCH_OPENID_CLIENT` naming its entry file);
//! without it the test skips loudly, and fails when `LATCH_REQUIRE_RELYING_PARTIES=1`.

use std::process::Command;

use latch_app::applications::ApplicationInput;
use serde_json::Value;

use crate::oidc::{CB, register_with};
use crate::support::{Dialect, PASSWORD, TestApp};

crate::on_both_databases!(openid_client_signs_in_refreshes_and_signs_out);

const BACK: &str = "https://harbor.example.com/signed-out";

/// Skips loudly (or fails, when required) without the tool; answers where it is.
pub(crate) fn required_tool(what: &str, path: String, install: &str) -> Option<String> {
    if std::path::Path::new(&path).exists() {
        return Some(path);
    }
    assert!(
        std::env::var("LATCH_REQUIRE_RELYING_PARTIES").as_deref() != Ok("1"),
        "LATCH_REQUIRE_RELYING_PARTIES=1 but {what} is missing at {path} ({install})"
    );
    latch_store::testing::loud_skip(&format!(
        "SKIPPED relying-party test: {what} is missing at {path} ({install})"
    ));
    None
}

fn openid_client() -> Option<String> {
    let path = std::env::var("LATCH_OPENID_CLIENT").unwrap_or_else(|_| {
        format!(
            "{}/../../target/relying-party/node_modules/openid-client/build/index.js",
            env!("CARGO_MANIFEST_DIR")
        )
    });
    required_tool(
        "openid-client",
        path,
        "npm install --prefix target/relying-party openid-client@6",
    )
}

async fn openid_client_signs_in_refreshes_and_signs_out(dialect: Dialect) {
    let Some(package) = openid_client() else {
        return;
    };
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    app.turn_on_two_factor(&owner, "+14155550101").await;
    let web = register_with(
        &app,
        ApplicationInput {
            post_logout_redirect_uris: vec![BACK.into()],
            ..ApplicationInput::default()
        },
    )
    .await;
    let spa = register_with(
        &app,
        ApplicationInput {
            public: true,
            ..ApplicationInput::default()
        },
    )
    .await;
    let script = format!(
        "{}/tests/relying_party/openid_client.mjs",
        env!("CARGO_MANIFEST_DIR")
    );
    let issuer = app.client().base.clone();
    let secret = web.secret.clone().unwrap();
    let run = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(script)
            .env("OPENID_CLIENT", package)
            .env("LATCH_ISSUER", issuer)
            .env("CLIENT_ID", &web.id)
            .env("CLIENT_SECRET", secret)
            .env("PUBLIC_CLIENT_ID", &spa.id)
            .env("REDIRECT_URI", CB)
            .env("POST_LOGOUT_REDIRECT_URI", BACK)
            .env("EMAIL", "owner@harbor.test")
            .env("PASSWORD", PASSWORD)
            .env("PHONE", "+14155550101")
            .output()
            .expect("node runs")
    });
    let output = run.await.unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "openid-client failed: {stderr}");
    let said: Value = serde_json::from_slice(&output.stdout).expect("one JSON object");

    let claims = &said["claims"];
    assert_eq!(claims["email"], "owner@harbor.test");
    assert_eq!(claims["role"], "owner");
    assert_eq!(claims["practice"]["name"], "Harbor Counseling");
    assert_eq!(
        claims["amr"],
        serde_json::json!(["pwd", "mfa", "sms"]),
        "{said}"
    );
    assert_eq!(claims["acr"], "mfa");
    assert_eq!(said["scope"], "openid profile email offline_access");
    assert_eq!(said["userinfo"]["sub"], claims["sub"]);
    assert_eq!(said["userinfo"]["name"], "Olivia Owner");
    assert_eq!(said["replay"], "invalid_grant", "a code works once: {said}");
    assert_eq!(said["refreshed"]["sid"], claims["sid"]);
    assert_eq!(said["refreshed"]["auth_time"], claims["auth_time"]);
    assert_eq!(said["introspected"]["active"], true);
    assert_eq!(said["introspected"]["sub"], claims["sub"]);
    assert_eq!(said["revoked"]["active"], false);
    assert_eq!(said["public"]["sub"], claims["sub"]);
    assert!(
        said["public"].get("name").is_none(),
        "no profile scope asked"
    );
    assert_eq!(said["signedOutTo"], format!("{BACK}?state=bye"));
    assert_eq!(said["afterSignOut"], 401, "the latch session ended");
}
