//! Apache with mod_auth_openidc (an OpenID Certified relying party, Debian's
//! `libapache2-mod-auth-openidc`) protecting a static page on loopback, signed in through
//! latch in Chromium, the code page included. Skips loudly without Apache, the module or
//! chromedriver; fails without them when `LATCH_REQUIRE_RELYING_PARTIES=1`.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::Locator;
use latch_app::applications::ApplicationInput;
use serde_json::Value;

use crate::browser::{body_text, browser, fill, path, submit};
use crate::relying_parties::required_tool;
use crate::support::{Dialect, PASSWORD, TestApp};

const MODULES: &str = "/usr/lib/apache2/modules";

/// An Apache of the test's own, stopped when dropped.
struct Apache {
    child: Child,
    dir: tempfile::TempDir,
}

impl Drop for Apache {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts Apache on `port` in the foreground, its page under `/protected/` behind latch.
fn start_apache(port: u16, issuer: &str, client_id: &str, secret: &str) -> Apache {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("www/protected")).unwrap();
    std::fs::write(
        root.join("www/protected/index.html"),
        "<!doctype html><title>Harbor</title><main><h1>Protected by latch</h1></main>",
    )
    .unwrap();
    let modules = [
        ("mpm_event_module", "mod_mpm_event.so"),
        ("authn_core_module", "mod_authn_core.so"),
        ("authz_core_module", "mod_authz_core.so"),
        ("authz_user_module", "mod_authz_user.so"),
        ("mime_module", "mod_mime.so"),
        ("dir_module", "mod_dir.so"),
        ("auth_openidc_module", "mod_auth_openidc.so"),
    ]
    .iter()
    .map(|(name, file)| format!("LoadModule {name} {MODULES}/{file}\n"))
    .collect::<String>();
    let passphrase = latch_app::crypto::hex(&latch_app::crypto::random_bytes::<16>());
    let dir_path = root.display();
    let config = format!(
        "{modules}\
         ServerRoot {dir_path}\n\
         Listen 127.0.0.1:{port}\n\
         ServerName localhost\n\
         User www-data\n\
         Group www-data\n\
         PidFile {dir_path}/httpd.pid\n\
         ErrorLog {dir_path}/error.log\n\
         LogLevel warn auth_openidc:info\n\
         DocumentRoot {dir_path}/www\n\
         TypesConfig /etc/mime.types\n\
         DirectoryIndex index.html\n\
         OIDCProviderMetadataURL {issuer}/.well-known/openid-configuration\n\
         OIDCClientID {client_id}\n\
         OIDCClientSecret {secret}\n\
         OIDCRedirectURI http://localhost:{port}/protected/redirect_uri\n\
         OIDCCryptoPassphrase {passphrase}\n\
         OIDCScope \"openid email profile\"\n\
         OIDCPKCEMethod S256\n\
         OIDCCacheType shm\n\
         OIDCInfoHook id_token userinfo\n\
         <Location /protected/>\n\
           AuthType openid-connect\n\
           Require valid-user\n\
         </Location>\n"
    );
    let config_path = root.join("httpd.conf");
    std::fs::write(&config_path, config).unwrap();
    // Apache's workers run as another user, who must read the page.
    Command::new("chmod")
        .args(["-R", "a+rX"])
        .arg(root)
        .status()
        .unwrap();
    let child = Command::new("apache2")
        .arg("-f")
        .arg(&config_path)
        .arg("-DFOREGROUND")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start apache2");
    Apache { child, dir }
}

fn apache_log(apache: &Apache) -> String {
    std::fs::read_to_string(apache.dir.path().join("error.log")).unwrap_or_default()
}

#[tokio::test]
async fn apache_with_mod_auth_openidc_signs_in_through_latch_with_a_code_in_chromium() {
    let module = format!("{MODULES}/mod_auth_openidc.so");
    let install = "apt-get install apache2 libapache2-mod-auth-openidc";
    if required_tool("apache2", "/usr/sbin/apache2".into(), install).is_none()
        || required_tool("mod_auth_openidc", module, install).is_none()
    {
        return;
    }
    let Some((_driver, b)) = browser().await else {
        return;
    };
    let app = TestApp::new(Dialect::Sqlite).await;
    let owner = app.with_practice().await;
    app.turn_on_two_factor(&owner, "+14155550101").await;
    let port = free_port();
    let callback = format!("http://localhost:{port}/protected/redirect_uri");
    let (added, secret) = app
        .latch()
        .applications
        .add(ApplicationInput {
            name: "Harbor Intranet".into(),
            redirect_uris: vec![callback],
            ..ApplicationInput::default()
        })
        .await
        .unwrap();
    let issuer = app.base.trim_end_matches('/').to_owned();
    let apache = start_apache(port, &issuer, &added.id, secret.unwrap().expose());
    let page = format!("http://localhost:{port}/protected/");
    for _ in 0..100 {
        if reqwest::get(&page).await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    b.goto(&page).await.unwrap();
    assert_eq!(
        path(&b).await,
        "/sign-in",
        "Apache sent the browser to latch: {}",
        apache_log(&apache)
    );
    assert!(
        body_text(&b)
            .await
            .contains("Sign in to continue to Harbor Intranet")
    );
    fill(&b, "email", "owner@harbor.test").await;
    fill(&b, "password", PASSWORD).await;
    submit(&b, "/sign-in").await;
    assert_eq!(path(&b).await, "/sign-in/code");
    let code = app.last_code_to("+14155550101").await;
    fill(&b, "code", &code).await;
    // The last page is Apache's: wait for its heading, not for latch's layout.
    b.find(Locator::Css(
        r#"form[action="/sign-in/code"] button[type="submit"]"#,
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    let _ = b
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("h1"))
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let url = b.current_url().await.unwrap();
    let text = body_text(&b).await;
    assert!(
        url.as_str().starts_with(&page) && text.contains("Protected by latch"),
        "back at the protected page, at {url}: {text}\n{}",
        apache_log(&apache)
    );

    // What mod_auth_openidc kept of the sign-in: latch's claims, checked by it.
    b.goto(&format!(
        "http://localhost:{port}/protected/redirect_uri?info=json"
    ))
    .await
    .unwrap();
    let info = b
        .find(Locator::Css("body"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let info: Value = serde_json::from_str(&info).unwrap_or_else(|e| panic!("{e}: {info}"));
    assert_eq!(info["id_token"]["email"], "owner@harbor.test", "{info}");
    assert_eq!(info["id_token"]["acr"], "mfa");
    assert_eq!(info["userinfo"]["practice"]["name"], "Harbor Counseling");
    assert_eq!(owner.audited("app.signed_in").await, 1);
}
