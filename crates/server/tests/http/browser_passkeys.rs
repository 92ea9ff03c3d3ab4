//! Passkeys in real Chromium, answered by chromedriver's virtual authenticator (the WebDriver
//! WebAuthn extension): a second, independent WebAuthn implementation beside the tests' own.
//! Browsers refuse WebAuthn on an IP address, so latch is opened as `localhost`.

use fantoccini::{Client, Locator};
use serde_json::json;

use crate::browser::{
    body_text, browser, fill, follow, password_only, path, saved_recovery_codes, shot, sign_out,
    submit,
};
use crate::support::{Dialect, PASSWORD, TestApp};

/// `POST /session/{id}/webauthn/authenticator`: a platform authenticator that holds
/// discoverable credentials and verifies its user at once.
#[derive(Debug)]
struct AddVirtualAuthenticator;

impl fantoccini::wd::WebDriverCompatibleCommand for AddVirtualAuthenticator {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/webauthn/authenticator",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (reqwest::Method, Option<String>) {
        let body = json!({
            "protocol": "ctap2",
            "transport": "internal",
            "hasResidentKey": true,
            "hasUserVerification": true,
            "isUserVerified": true,
        });
        (reqwest::Method::POST, Some(body.to_string()))
    }
}

/// The credentials the virtual authenticator holds.
#[derive(Debug)]
struct Credentials(String);

impl fantoccini::wd::WebDriverCompatibleCommand for Credentials {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/webauthn/authenticator/{}/credentials",
            session_id.unwrap_or_default(),
            self.0
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (reqwest::Method, Option<String>) {
        (reqwest::Method::GET, None)
    }
}

async fn add_authenticator(b: &Client) -> String {
    let added = b
        .issue_cmd(AddVirtualAuthenticator)
        .await
        .expect("chromedriver adds a virtual authenticator");
    added.as_str().expect("its id").to_owned()
}

#[tokio::test]
async fn a_staff_member_adds_a_passkey_and_signs_in_with_it_after_a_password_and_alone() {
    let Some((_driver, b)) = browser().await else {
        return;
    };
    let app = TestApp::new(Dialect::Sqlite).await;
    let base = app.base.replace("127.0.0.1", "localhost");
    let owner = app.with_practice().await;
    app.person(&owner, "staff", "sam@harbor.test").await;
    let sam = "sam@harbor.test";
    b.goto(&format!("{base}/sign-in")).await.unwrap();
    let authenticator = add_authenticator(&b).await;

    password_only(&b, &base, sam).await;
    assert_eq!(path(&b).await, "/dashboard");
    b.goto(&format!("{base}/profile")).await.unwrap();
    follow(&b, Locator::LinkText("Use a passkey")).await;
    fill(&b, "password", PASSWORD).await;
    submit(&b, "/profile/two-factor/password").await;
    assert_eq!(path(&b).await, "/profile/two-factor/passkey");
    shot(&b, "add-a-passkey").await;
    fill(&b, "label", "Sam's laptop").await;
    submit(&b, "/profile/two-factor/passkey").await;
    saved_recovery_codes(&b).await;
    let profile = body_text(&b).await;
    assert!(profile.contains("Passkey: Sam's laptop"), "{profile}");
    let held = b
        .issue_cmd(Credentials(authenticator.clone()))
        .await
        .unwrap();
    let held = held.as_array().expect("a list of credentials");
    assert_eq!(held.len(), 1, "{held:?}");
    assert_eq!(held[0]["rpId"], "localhost", "{held:?}");
    assert_eq!(
        held[0]["isResidentCredential"], true,
        "a discoverable credential, as latch prefers: {held:?}"
    );
    sign_out(&b).await;

    // After the password, the passkey is what the code page asks for; no text goes out.
    password_only(&b, &base, sam).await;
    assert_eq!(path(&b).await, "/sign-in/code");
    let page = body_text(&b).await;
    assert!(page.contains("Use your passkey"), "{page}");
    assert!(page.contains("Use a recovery code"), "{page}");
    shot(&b, "use-your-passkey").await;
    submit(&b, "/sign-in/passkey").await;
    assert_eq!(path(&b).await, "/dashboard", "{}", body_text(&b).await);
    sign_out(&b).await;

    // Alone, from the sign-in page: no password at all.
    b.goto(&format!("{base}/sign-in")).await.unwrap();
    shot(&b, "sign-in-with-a-passkey").await;
    submit(&b, "/sign-in/passkey").await;
    assert_eq!(path(&b).await, "/dashboard", "{}", body_text(&b).await);
    let dashboard = body_text(&b).await;
    assert!(dashboard.contains("A staff"), "{dashboard}");
    assert!(dashboard.contains("On: with your passkey"), "{dashboard}");
    let how = owner.audit_details("sign_in.succeeded").await;
    assert!(how.iter().any(|h| h == "passkey"), "{how:?}");
    assert!(how.iter().any(|h| h == "password and passkey"), "{how:?}");
    b.close().await.unwrap();
}
