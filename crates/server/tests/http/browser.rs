//! The article's flows clicked in real Chromium through chromedriver. Skips loudly without
//! chromedriver; fails without it when `LATCH_REQUIRE_BROWSER=1`.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use crate::support::{Dialect, PASSWORD, TestApp};

/// A chromedriver on a free port, ended when dropped.
struct Driver {
    child: Child,
    url: String,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn chromedriver() -> Option<String> {
    let found = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .map(str::to_owned);
    if found.is_none() {
        assert!(
            std::env::var("LATCH_REQUIRE_BROWSER").as_deref() != Ok("1"),
            "LATCH_REQUIRE_BROWSER=1 but chromedriver is not installed (apt-get install chromium chromium-driver)"
        );
        latch_store::testing::loud_skip(
            "SKIPPED browser test: chromedriver is not installed (apt-get install chromium chromium-driver)",
        );
    }
    found
}

async fn browser() -> Option<(Driver, Client)> {
    let path = chromedriver()?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(path)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let profile = tempfile::tempdir().unwrap();
    let driver = Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
        _profile: profile,
    };
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({"args": [
            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--no-first-run", "--disable-quic", "--window-size=1280,900",
            format!("--user-data-dir={}", driver._profile.path().display()),
        ]}),
    );
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    let mut last_error = None;
    for _ in 0..50 {
        match ClientBuilder::new(connector.clone())
            .capabilities(caps.clone())
            .connect(&driver.url)
            .await
        {
            Ok(client) => return Some((driver, client)),
            Err(e) => {
                last_error = Some(e);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    panic!("chromedriver did not start: {last_error:?}");
}

async fn fill(b: &Client, id: &str, text: &str) {
    let field = b.find(Locator::Id(id)).await.unwrap();
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

/// Clicks the form's button and waits until the next page has replaced this one.
async fn submit(b: &Client, form_action: &str) {
    let old_page = b.find(Locator::Css("html")).await.unwrap();
    b.find(Locator::Css(&format!(
        r#"form[action="{form_action}"] button[type="submit"]"#
    )))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    for _ in 0..200 {
        if old_page.tag_name().await.is_err() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    b.wait().for_element(Locator::Css("main")).await.unwrap();
}

async fn path(b: &Client) -> String {
    b.current_url().await.unwrap().path().to_owned()
}

async fn body_text(b: &Client) -> String {
    b.find(Locator::Css("body"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn sign_in(b: &Client, base: &str, email: &str) {
    b.goto(&format!("{base}/sign-in")).await.unwrap();
    fill(b, "email", email).await;
    fill(b, "password", PASSWORD).await;
    submit(b, "/sign-in").await;
    assert_eq!(path(b).await, "/dashboard", "{email} reaches the dashboard");
}

async fn sign_out(b: &Client) {
    submit(b, "/sign-out").await;
    assert_eq!(path(b).await, "/sign-in");
}

#[tokio::test]
async fn a_new_practice_is_created_and_its_people_sign_in_and_out_in_chromium() {
    let Some((_driver, b)) = browser().await else {
        return;
    };
    let app = TestApp::new(Dialect::Sqlite).await;
    let base = app.base.clone();

    b.goto(&format!("{base}/")).await.unwrap();
    assert_eq!(
        path(&b).await,
        "/setup",
        "the first visitor is led to create the practice"
    );
    fill(&b, "practice_name", "Harbor Counseling").await;
    b.find(Locator::Id("country"))
        .await
        .unwrap()
        .select_by_value("CA")
        .await
        .unwrap();
    fill(&b, "name", "Olivia Owner").await;
    fill(&b, "email", "owner@harbor.test").await;
    fill(&b, "password", "short").await;
    submit(&b, "/setup").await;
    let text = body_text(&b).await;
    assert!(
        text.contains("Use at least 10 characters"),
        "the weak password is explained: {text}"
    );
    fill(&b, "password", PASSWORD).await;
    submit(&b, "/setup").await;
    assert_eq!(path(&b).await, "/dashboard");
    assert!(body_text(&b).await.contains("Your practice is ready"));

    b.goto(&format!("{base}/team")).await.unwrap();
    for (role, name, email) in [
        ("staff", "Sam Staff", "sam@harbor.test"),
        ("client", "Casey Client", "casey@harbor.test"),
    ] {
        b.find(Locator::Id("role"))
            .await
            .unwrap()
            .select_by_value(role)
            .await
            .unwrap();
        fill(&b, "name", name).await;
        fill(&b, "email", email).await;
        fill(&b, "password", PASSWORD).await;
        submit(&b, "/team").await;
        let text = body_text(&b).await;
        assert!(
            text.contains("The person was added") && text.contains(name),
            "{text}"
        );
    }
    if let Ok(dir) = std::env::var("LATCH_SCREENSHOT_DIR") {
        std::fs::write(format!("{dir}/team.png"), b.screenshot().await.unwrap()).unwrap();
    }
    sign_out(&b).await;

    sign_in(&b, &base, "owner@harbor.test").await;
    assert!(body_text(&b).await.contains("Welcome, Olivia Owner"));
    if let Ok(dir) = std::env::var("LATCH_SCREENSHOT_DIR") {
        std::fs::write(
            format!("{dir}/dashboard.png"),
            b.screenshot().await.unwrap(),
        )
        .unwrap();
    }
    sign_out(&b).await;

    sign_in(&b, &base, "sam@harbor.test").await;
    assert!(
        !body_text(&b).await.contains("Practice Settings"),
        "staff see no administration"
    );
    sign_out(&b).await;

    sign_in(&b, &base, "casey@harbor.test").await;
    let text = body_text(&b).await;
    assert!(
        text.contains("Account Set Up") && text.contains("Enable Two-Factor Auth"),
        "{text}"
    );
    sign_out(&b).await;

    b.goto(&format!("{base}/dashboard")).await.unwrap();
    assert_eq!(path(&b).await, "/sign-in", "signed out means signed out");
    b.close().await.unwrap();
}
