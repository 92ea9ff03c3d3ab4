//! The article's flows clicked in real Chromium through chromedriver. Skips loudly without
//! chromedriver; fails without it when `LATCH_REQUIRE_BROWSER=1`.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use crate::support::{Dialect, PASSWORD, TestApp};

/// A chromedriver on a free port, ended when dropped.
pub(crate) struct Driver {
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

pub(crate) async fn browser() -> Option<(Driver, Client)> {
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

pub(crate) async fn fill(b: &Client, id: &str, text: &str) {
    let field = match b.find(Locator::Id(id)).await {
        Ok(field) => field,
        // Say which page it was and what it said, so a failure explains itself.
        Err(e) => {
            let url = b.current_url().await.map(|u| u.to_string());
            let said = match b.find(Locator::Css("main")).await {
                Ok(main) => main.text().await.unwrap_or_default(),
                Err(_) => String::new(),
            };
            panic!("no #{id} on {url:?} ({e}); the page said: {said}");
        }
    };
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

/// Clicks the form's button and waits until the next page has replaced this one.
pub(crate) async fn submit(b: &Client, form_action: &str) {
    let old_page = b.find(Locator::Css("html")).await.unwrap();
    b.find(Locator::Css(&format!(
        r#"form[method="post"][action="{form_action}"] button[type="submit"]"#
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

pub(crate) async fn path(b: &Client) -> String {
    b.current_url().await.unwrap().path().to_owned()
}

pub(crate) async fn body_text(b: &Client) -> String {
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

pub(crate) async fn sign_out(b: &Client) {
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
        text.contains("Use at least 10 characters")
            && text.contains("Canada has more than one time zone"),
        "the weak password and the missing time zone are explained at once: {text}"
    );
    b.find(Locator::Id("time_zone"))
        .await
        .unwrap()
        .select_by_value("America/Vancouver")
        .await
        .unwrap();
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
        submit(&b, "/team").await;
        let text = body_text(&b).await;
        assert!(
            text.contains(&format!("An invitation is on its way to {name}")),
            "the notice names who: {text}"
        );
        assert!(
            text.contains(email),
            "the open invitation is listed: {text}"
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

    // Each joins through the link the invitation email carries, choosing their own password.
    for email in ["sam@harbor.test", "casey@harbor.test"] {
        let link = app.link_to(email, 1).await;
        b.goto(&link).await.unwrap();
        assert!(body_text(&b).await.contains("Join Harbor Counseling"));
        fill(&b, "password", PASSWORD).await;
        submit(&b, &link[base.len()..]).await;
        assert_eq!(
            path(&b).await,
            "/dashboard",
            "{email} joined and is signed in"
        );
        sign_out(&b).await;
    }
    b.goto(&app.link_to("sam@harbor.test", 1).await)
        .await
        .unwrap();
    assert!(
        body_text(&b)
            .await
            .contains("This invitation no longer works")
    );

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

pub(crate) async fn click(b: &Client, css: &str) {
    b.find(Locator::Css(css))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

/// Follows a link and waits for the page it leads to.
pub(crate) async fn follow(b: &Client, link: Locator<'_>) {
    let old_page = b.find(Locator::Css("html")).await.unwrap();
    b.find(link).await.unwrap().click().await.unwrap();
    for _ in 0..200 {
        if old_page.tag_name().await.is_err() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    b.wait().for_element(Locator::Css("main")).await.unwrap();
}

/// Signs in with the password only, from wherever the browser is.
pub(crate) async fn password_only(b: &Client, base: &str, email: &str) {
    b.goto(&format!("{base}/sign-in")).await.unwrap();
    fill(b, "email", email).await;
    fill(b, "password", PASSWORD).await;
    submit(b, "/sign-in").await;
}

/// The page after a first method: ten recovery codes, shown once, then on.
pub(crate) async fn saved_recovery_codes(b: &Client) -> Vec<String> {
    let text = body_text(b).await;
    assert!(text.contains("Save your recovery codes"), "{text}");
    let mut codes = Vec::new();
    for code in b
        .find_all(Locator::Css(".recovery-codes code"))
        .await
        .unwrap()
    {
        codes.push(code.text().await.unwrap());
    }
    assert_eq!(codes.len(), 10, "{text}");
    follow(b, Locator::LinkText("I saved my codes")).await;
    codes
}

pub(crate) async fn shot(b: &Client, name: &str) {
    if let Ok(dir) = std::env::var("LATCH_SCREENSHOT_DIR") {
        std::fs::write(format!("{dir}/{name}.png"), b.screenshot().await.unwrap()).unwrap();
    }
}

#[tokio::test]
async fn a_staff_member_turns_two_factor_on_signs_in_with_codes_changes_phone_and_turns_it_off() {
    let Some((_driver_a, a)) = browser().await else {
        return;
    };
    let Some((_driver_b, b)) = browser().await else {
        return;
    };
    let app = TestApp::new(Dialect::Sqlite).await;
    let base = app.base.clone();
    let owner = app.with_practice().await;
    app.person(&owner, "staff", "sam@harbor.test").await;
    let sam = "sam@harbor.test";

    // Turn on: My Profile → Turn On → password → phone and method → code → congratulations.
    sign_in(&a, &base, sam).await;
    a.goto(&format!("{base}/profile")).await.unwrap();
    follow(&a, Locator::LinkText("Turn On")).await;
    assert!(
        body_text(&a)
            .await
            .contains("Re-enter your password to confirm this action")
    );
    fill(&a, "password", PASSWORD).await;
    submit(&a, "/profile/two-factor/password").await;
    a.find(Locator::Id("country"))
        .await
        .unwrap()
        .select_by_value("US")
        .await
        .unwrap();
    fill(&a, "phone", "(415) 555-2671").await;
    let phone = a.find(Locator::Id("phone")).await.unwrap();
    assert_eq!(phone.attr("type").await.unwrap().as_deref(), Some("tel"));
    assert_eq!(
        phone.attr("autocomplete").await.unwrap().as_deref(),
        Some("tel")
    );
    shot(&a, "two-factor-phone").await;
    submit(&a, "/profile/two-factor/setup").await;
    assert!(
        body_text(&a)
            .await
            .contains("Enter the 8 digit code that was delivered")
    );
    let code_input = a.find(Locator::Id("code")).await.unwrap();
    assert_eq!(
        code_input.attr("autocomplete").await.unwrap().as_deref(),
        Some("one-time-code")
    );
    assert_eq!(
        code_input.attr("inputmode").await.unwrap().as_deref(),
        Some("numeric")
    );
    let code = app.last_code_to("+14155552671").await;
    fill(&a, "code", &format!("{} {}", &code[..4], &code[4..])).await;
    submit(&a, "/profile/two-factor/confirm").await;
    saved_recovery_codes(&a).await;
    assert!(
        body_text(&a)
            .await
            .contains("Congratulations! You've successfully set up two-factor!")
    );
    shot(&a, "two-factor-done").await;
    sign_out(&a).await;

    // A sign-in from this browser asks for the code; remembering it skips the next one.
    password_only(&a, &base, sam).await;
    assert_eq!(path(&a).await, "/sign-in/code");
    let text = body_text(&a).await;
    assert!(
        text.contains("+1 ••• ••• ••71") && text.contains("private or incognito"),
        "{text}"
    );
    assert!(text.contains("Remember this browser for 365 days"));
    shot(&a, "enter-code").await;
    fill(&a, "code", &app.last_code_to("+14155552671").await).await;
    click(&a, "input[name=remember][value=yes]").await;
    submit(&a, "/sign-in/code").await;
    assert_eq!(path(&a).await, "/dashboard");
    sign_out(&a).await;
    password_only(&a, &base, sam).await;
    assert_eq!(
        path(&a).await,
        "/dashboard",
        "the remembered browser needs no code"
    );

    // Another browser needs a code, only this time.
    password_only(&b, &base, sam).await;
    assert_eq!(path(&b).await, "/sign-in/code");
    fill(&b, "code", &app.last_code_to("+14155552671").await).await;
    submit(&b, "/sign-in/code").await;
    assert_eq!(path(&b).await, "/dashboard");

    // Change the phone and method from the second browser.
    b.goto(&format!("{base}/profile")).await.unwrap();
    let text = body_text(&b).await;
    assert!(
        text.contains("Remembered browsers") && text.contains("On."),
        "{text}"
    );
    shot(&b, "profile-two-factor").await;
    follow(&b, Locator::LinkText("Change")).await;
    fill(&b, "password", PASSWORD).await;
    submit(&b, "/profile/two-factor/password").await;
    // The change starts from the number in use, kept; the new number's field shows once
    // "Use a different number" is chosen.
    let text = body_text(&b).await;
    assert!(text.contains("Keep this number: +1 ••• ••• ••71"), "{text}");
    let phone = b.find(Locator::Id("phone")).await.unwrap();
    assert!(
        !phone.is_displayed().await.unwrap(),
        "no number to type to keep one"
    );
    shot(&b, "two-factor-change-phone").await;
    click(&b, "input[name=number][value=new]").await;
    assert!(phone.is_displayed().await.unwrap());
    fill(&b, "phone", "+1 415 555 2699").await;
    click(&b, "input[name=channel][value=voice]").await;
    submit(&b, "/profile/two-factor/setup").await;
    let call = &app.outbox_to("+14155552699").await[0];
    assert_eq!(call["channel"], "voice");
    fill(&b, "code", call["code"].as_str().unwrap()).await;
    submit(&b, "/profile/two-factor/confirm").await;
    let text = body_text(&b).await;
    assert!(
        text.contains("Your two-factor settings were updated")
            && text.contains("Browsers you had remembered will ask for a code again")
            && !text.contains("Congratulations!"),
        "a change ends as a change: {text}"
    );
    assert!(
        app.outbox_to("+14155552671").await[0]["body"]
            .as_str()
            .unwrap()
            .contains("different phone number")
    );

    // The change ended the first browser's session and forgot it.
    a.goto(&format!("{base}/dashboard")).await.unwrap();
    assert_eq!(path(&a).await, "/sign-in");

    // Turn off, with its warning.
    b.goto(&format!("{base}/profile")).await.unwrap();
    follow(&b, Locator::LinkText("Turn off")).await;
    assert!(body_text(&b).await.contains("Not recommended"));
    submit(&b, "/profile/two-factor/off").await;
    assert!(
        body_text(&b)
            .await
            .contains("Two-factor authentication is off")
    );
    assert!(
        app.outbox_to("+14155552699").await[0]["body"]
            .as_str()
            .unwrap()
            .contains("turned off")
    );
    sign_out(&b).await;
    password_only(&b, &base, sam).await;
    assert_eq!(path(&b).await, "/dashboard", "no code once it is off");
    a.close().await.unwrap();
    b.close().await.unwrap();
}

#[tokio::test]
async fn a_client_turns_two_factor_on_from_the_dashboard_card_and_off_with_the_toggle() {
    let Some((_driver, b)) = browser().await else {
        return;
    };
    let app = TestApp::new(Dialect::Sqlite).await;
    let base = app.base.clone();
    let owner = app.with_practice().await;
    app.person(&owner, "client", "casey@harbor.test").await;
    sign_in(&b, &base, "casey@harbor.test").await;
    shot(&b, "client-dashboard").await;
    assert!(body_text(&b).await.contains("Enable Two-Factor Auth"));
    follow(&b, Locator::Css(".checklist a.row-link")).await;
    fill(&b, "password", PASSWORD).await;
    submit(&b, "/profile/two-factor/password").await;
    fill(&b, "phone", "4155552671").await;
    submit(&b, "/profile/two-factor/setup").await;
    fill(&b, "code", &app.last_code_to("+14155552671").await).await;
    submit(&b, "/profile/two-factor/confirm").await;
    saved_recovery_codes(&b).await;
    assert!(body_text(&b).await.contains("Congratulations!"));
    b.goto(&format!("{base}/profile")).await.unwrap();
    let toggle = b.find(Locator::Css("a[role=switch]")).await.unwrap();
    assert_eq!(
        toggle.attr("aria-checked").await.unwrap().as_deref(),
        Some("true")
    );
    shot(&b, "client-profile").await;
    toggle.click().await.unwrap();
    b.wait()
        .for_element(Locator::Css("form[action=\"/profile/two-factor/off\"]"))
        .await
        .unwrap();
    submit(&b, "/profile/two-factor/off").await;
    let toggle = b.find(Locator::Css("a[role=switch]")).await.unwrap();
    assert_eq!(
        toggle.attr("aria-checked").await.unwrap().as_deref(),
        Some("false")
    );
    b.close().await.unwrap();
}

/// The wizard when the practice requires it: phone, code, then the dashboard.
async fn required_setup(b: &Client, app: &TestApp, phone: &str) {
    assert_eq!(
        path(b).await,
        "/profile/two-factor",
        "led to the wizard before any dashboard"
    );
    let banner = b.find(Locator::Css("main .info")).await.unwrap();
    assert!(
        banner
            .text()
            .await
            .unwrap()
            .contains("Your practice requires two-factor authentication"),
        "an information banner, not a success"
    );
    // A focused step: no menu whose links would lead back here, only Sign out.
    for link in ["/dashboard", "/profile", "/team"] {
        assert!(
            b.find(Locator::Css(&format!(r#"nav a[href="{link}"]"#)))
                .await
                .is_err(),
            "no {link} in the menu of a held sign-in"
        );
    }
    assert!(
        b.find(Locator::Css(r#"nav form[action="/sign-out"] button"#))
            .await
            .is_ok()
    );
    fill(b, "phone", phone).await;
    submit(b, "/profile/two-factor/setup").await;
    fill(b, "code", &app.last_code_to(phone).await).await;
    submit(b, "/profile/two-factor/confirm").await;
    saved_recovery_codes(b).await;
    assert!(body_text(b).await.contains("Congratulations!"));
    follow(b, Locator::LinkText("Continue to your dashboard")).await;
    assert_eq!(path(b).await, "/dashboard");
}

#[tokio::test]
async fn an_owner_requires_two_factor_and_resets_a_staff_members() {
    let Some((_driver_a, owner_b)) = browser().await else {
        return;
    };
    let Some((_driver_b, b)) = browser().await else {
        return;
    };
    let app = TestApp::new(Dialect::Sqlite).await;
    let base = app.base.clone();
    let owner = app.with_practice().await;
    let (_, sam_id) = app.person(&owner, "staff", "sam@harbor.test").await;
    app.person(&owner, "client", "casey@harbor.test").await;

    // The owner sets "All staff" in Security Settings. Owners are staff, so they set it up too.
    sign_in(&owner_b, &base, "owner@harbor.test").await;
    owner_b
        .goto(&format!("{base}/practice/settings"))
        .await
        .unwrap();
    owner_b
        .find(Locator::Css("input[name=require_two_factor][value=staff]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    fill(&owner_b, "password", PASSWORD).await;
    submit(&owner_b, "/practice/settings").await;
    assert!(
        body_text(&owner_b)
            .await
            .contains("The security settings were saved")
    );

    // A staff member without two-factor is taken through the wizard before the dashboard.
    password_only(&b, &base, "sam@harbor.test").await;
    required_setup(&b, &app, "+14155552672").await;
    // They cannot turn it off while the practice requires it.
    b.goto(&format!("{base}/profile")).await.unwrap();
    let text = body_text(&b).await;
    assert!(
        text.contains("can't be turned off") && !text.contains("Turn off"),
        "{text}"
    );
    b.goto(&format!("{base}/profile/two-factor/off"))
        .await
        .unwrap();
    assert!(body_text(&b).await.contains("requires two-factor"));
    b.goto(&format!("{base}/profile")).await.unwrap();
    submit(&b, "/sign-out").await;

    // A client is not covered by "All staff".
    password_only(&b, &base, "casey@harbor.test").await;
    assert_eq!(path(&b).await, "/dashboard");
    submit(&b, "/sign-out").await;

    // "All staff and clients" covers the client at the next sign-in.
    owner_b
        .goto(&format!("{base}/practice/settings"))
        .await
        .unwrap();
    if path(&owner_b).await == "/profile/two-factor" {
        required_setup(&owner_b, &app, "+14155552671").await;
        owner_b
            .goto(&format!("{base}/practice/settings"))
            .await
            .unwrap();
    }
    owner_b
        .find(Locator::Css(
            "input[name=require_two_factor][value=staff_and_clients]",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    fill(&owner_b, "password", PASSWORD).await;
    submit(&owner_b, "/practice/settings").await;
    password_only(&b, &base, "casey@harbor.test").await;
    required_setup(&b, &app, "+14155552673").await;
    submit(&b, "/sign-out").await;

    // Sam lost the phone: the owner resets Sam's two-factor from the Team page.
    owner_b.goto(&format!("{base}/team")).await.unwrap();
    let text = body_text(&owner_b).await;
    assert!(
        text.contains("Two-factor coverage") && text.contains("Staff"),
        "{text}"
    );
    owner_b
        .find(Locator::LinkText("A staff"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    owner_b
        .wait()
        .for_element(Locator::Css("form[action$=\"/help\"]"))
        .await
        .unwrap();
    assert_eq!(path(&owner_b).await, format!("/team/{sam_id}"));
    fill(&owner_b, "password", PASSWORD).await;
    submit(&owner_b, &format!("/team/{sam_id}/help")).await;
    let text = body_text(&owner_b).await;
    assert!(
        text.contains("Their two-factor was reset") && text.contains("Required, not set up yet"),
        "{text}"
    );
    assert!(
        app.outbox_to("+14155552672").await[0]["body"]
            .as_str()
            .unwrap()
            .contains("reset")
    );

    // Sam sets it up again at the next sign-in.
    password_only(&b, &base, "sam@harbor.test").await;
    required_setup(&b, &app, "+14155552674").await;
    owner_b.close().await.unwrap();
    b.close().await.unwrap();
}

#[tokio::test]
async fn a_locked_code_step_says_until_when_and_offers_only_signing_out() {
    use latch_app::ports::PersonStore;
    let Some((_driver, b)) = browser().await else {
        return;
    };
    let app = TestApp::new(Dialect::Sqlite).await;
    let base = app.base.clone();
    let owner = app.with_practice().await;
    app.turn_on_two_factor(&owner, "+14155552671").await;
    let account = app
        .db
        .account_by_email("owner@harbor.test")
        .await
        .unwrap()
        .unwrap();
    latch_store::testing::set_code_failures(&app.db, &account.person.id, 9).await;

    b.goto(&format!("{base}/sign-in")).await.unwrap();
    fill(&b, "email", "owner@harbor.test").await;
    fill(&b, "password", PASSWORD).await;
    submit(&b, "/sign-in").await;
    assert_eq!(path(&b).await, "/sign-in/code");
    fill(&b, "code", "00000000").await;
    submit(&b, "/sign-in/code").await;
    let text = body_text(&b).await;
    assert!(
        text.contains("Two-factor sign-in is locked until")
            && text.contains("An owner or manager of your practice can unlock it sooner."),
        "the lock says until when and who can end it: {text}"
    );
    assert!(
        b.find(Locator::Id("code")).await.is_err()
            && !text.contains("Send it again")
            && !text.contains("Call me instead"),
        "no field or button that cannot work"
    );
    shot(&b, "code-locked").await;
    submit(&b, "/sign-out").await;
    assert_eq!(path(&b).await, "/sign-in");
}

/// Post, then redirect, in a real browser: reloading the page a wrong code or a refused resend
/// led to sends no form again, so nothing is counted or sent twice.
#[tokio::test]
async fn a_reload_after_a_refused_form_sends_nothing_again_in_chromium() {
    let Some((_driver, b)) = browser().await else {
        return;
    };
    let app = TestApp::new(Dialect::Sqlite).await;
    let base = app.base.clone();
    let owner = app.with_practice().await;
    let phone = "+14155552671";
    app.turn_on_two_factor(&owner, phone).await;
    b.goto(&format!("{base}/sign-in")).await.unwrap();
    fill(&b, "email", "owner@harbor.test").await;
    fill(&b, "password", "not my password").await;
    submit(&b, "/sign-in").await;
    assert!(
        body_text(&b)
            .await
            .contains("The email or password is not correct.")
    );
    b.refresh().await.unwrap();
    assert_eq!(path(&b).await, "/sign-in");
    assert_eq!(
        owner.audited("sign_in.failed").await,
        1,
        "one wrong password"
    );

    fill(&b, "email", "owner@harbor.test").await;
    fill(&b, "password", PASSWORD).await;
    submit(&b, "/sign-in").await;
    fill(&b, "code", "00000000").await;
    submit(&b, "/sign-in/code").await;
    assert!(body_text(&b).await.contains("That code is not correct"));
    let sent = app.outbox_to(phone).await.len();
    submit(&b, "/sign-in/code/resend").await;
    assert!(body_text(&b).await.contains("We just sent a code."));
    for _ in 0..2 {
        b.refresh().await.unwrap();
        b.wait().for_element(Locator::Id("code")).await.unwrap();
        let text = body_text(&b).await;
        assert!(
            !text.contains("not correct") && !text.contains("We just sent"),
            "said once: {text}"
        );
    }
    assert_eq!(owner.audited("code.wrong").await, 1, "one wrong code");
    assert_eq!(app.outbox_to(phone).await.len(), sent, "no code sent again");
}

#[tokio::test]
async fn team_and_the_audit_trail_fit_a_phone_without_sideways_scrolling() {
    let Some((_driver, b)) = browser().await else {
        return;
    };
    let app = TestApp::new(Dialect::Sqlite).await;
    let base = app.base.clone();
    let owner = app.with_practice().await;
    app.person(&owner, "staff", "samantha.longname-staffmember@harbor.test")
        .await;
    app.turn_on_two_factor(&owner, "+14155552671").await;
    b.set_window_size(390, 844).await.unwrap();
    b.goto(&format!("{base}/sign-in")).await.unwrap();
    fill(&b, "email", "owner@harbor.test").await;
    fill(&b, "password", PASSWORD).await;
    submit(&b, "/sign-in").await;
    fill(&b, "code", &app.last_code_to("+14155552671").await).await;
    submit(&b, "/sign-in/code").await;
    for page in [
        "/dashboard",
        "/team",
        "/practice/audit",
        "/profile",
        "/practice/settings",
    ] {
        b.goto(&format!("{base}{page}")).await.unwrap();
        let width = b
            .execute("return document.documentElement.scrollWidth", Vec::new())
            .await
            .unwrap();
        let viewport = b
            .execute("return window.innerWidth", Vec::new())
            .await
            .unwrap();
        // The records, not the page's head, are what must fit.
        b.execute(
            "document.querySelector('table')?.scrollIntoView()",
            Vec::new(),
        )
        .await
        .unwrap();
        shot(&b, &format!("phone{}", page.replace('/', "-"))).await;
        assert!(
            width.as_u64().unwrap() <= viewport.as_u64().unwrap(),
            "{page} is {width} px wide on a {viewport} px screen"
        );
    }
    // Times are on the practice's clock (New York's here), named on hover.
    b.goto(&format!("{base}/team")).await.unwrap();
    let last_sign_in = b.find(Locator::Css("td time")).await.unwrap();
    let title = last_sign_in
        .attr("title")
        .await
        .unwrap()
        .unwrap_or_default();
    assert!(
        title.ends_with(" EST") || title.ends_with(" EDT"),
        "the full time in the practice's zone: {title}"
    );
    assert_eq!(last_sign_in.text().await.unwrap(), "just now");
}

#[tokio::test]
async fn an_empty_first_run_form_names_every_field_at_once_in_chromium() {
    let Some((_driver, b)) = browser().await else {
        return;
    };
    let app = TestApp::new(Dialect::Sqlite).await;
    b.goto(&format!("{}/setup", app.base)).await.unwrap();
    b.find(Locator::Id("country"))
        .await
        .unwrap()
        .select_by_value("US")
        .await
        .unwrap();
    submit(&b, "/setup").await;
    assert_eq!(path(&b).await, "/setup", "nothing was created");
    let mut said = Vec::new();
    for field in ["practice_name", "time_zone", "name", "email", "password"] {
        let error = b
            .find(Locator::Id(&format!("{field}-error")))
            .await
            .unwrap_or_else(|_| panic!("no error beside {field}"));
        said.push(error.text().await.unwrap());
    }
    assert!(
        said[1].contains("United States has more than one time zone"),
        "{said:?}"
    );
    assert!(said.iter().all(|s| !s.is_empty()), "{said:?}");
}

#[tokio::test]
async fn a_forgotten_password_is_reset_through_the_emailed_link_in_chromium() {
    let Some((_driver, b)) = browser().await else {
        return;
    };
    let app = TestApp::new(Dialect::Sqlite).await;
    let base = app.base.clone();
    let owner = app.with_practice().await;
    let (sam, _) = app.person(&owner, "staff", "sam@harbor.test").await;
    app.turn_on_two_factor(&sam, "+14155552671").await;
    let new_password = "quiet harbor lantern 5";

    b.goto(&format!("{base}/sign-in")).await.unwrap();
    follow(&b, Locator::LinkText("Forgot your password?")).await;
    assert_eq!(path(&b).await, "/password-reset");
    fill(&b, "email", "sam@harbor.test").await;
    submit(&b, "/password-reset").await;
    assert!(
        body_text(&b).await.contains("Check your email"),
        "{}",
        body_text(&b).await
    );

    // The link, from the email the development outbox shows.
    app.emails_to("sam@harbor.test", 1).await;
    b.goto(&format!("{base}/dev/outbox")).await.unwrap();
    follow(&b, Locator::LinkText("Open the link")).await;
    let reset_path = path(&b).await;
    assert!(reset_path.starts_with("/password-reset/"), "{reset_path}");
    assert!(body_text(&b).await.contains("Choose a new password"));
    fill(&b, "new_password", "password1").await;
    submit(&b, &reset_path).await;
    assert_eq!(
        path(&b).await,
        reset_path,
        "a weak password is refused beside its field"
    );
    assert!(b.find(Locator::Css("#new_password-error")).await.is_ok());
    fill(&b, "new_password", new_password).await;
    submit(&b, &reset_path).await;
    assert_eq!(path(&b).await, "/sign-in");
    assert!(body_text(&b).await.contains("Your new password is set"));

    // Signing in with it still asks for the code.
    fill(&b, "email", "sam@harbor.test").await;
    fill(&b, "password", new_password).await;
    submit(&b, "/sign-in").await;
    assert_eq!(path(&b).await, "/sign-in/code");
    fill(&b, "code", &app.last_code_to("+14155552671").await).await;
    submit(&b, "/sign-in/code").await;
    assert_eq!(path(&b).await, "/dashboard");

    // The used link now says so, and offers a new one.
    b.goto(&format!("{base}{reset_path}")).await.unwrap();
    assert!(body_text(&b).await.contains("This link no longer works"));
}

#[tokio::test]
async fn an_owner_deactivates_someone_who_left_and_they_are_signed_out_in_chromium() {
    let Some((_driver_a, owner_b)) = browser().await else {
        return;
    };
    let Some((_driver_b, sam_b)) = browser().await else {
        return;
    };
    let app = TestApp::new(Dialect::Sqlite).await;
    let base = app.base.clone();
    let owner = app.with_practice().await;
    let (_, sam_id) = app.person(&owner, "staff", "sam@harbor.test").await;
    sign_in(&sam_b, &base, "sam@harbor.test").await;

    sign_in(&owner_b, &base, "owner@harbor.test").await;
    let person = format!("/team/{sam_id}");
    owner_b.goto(&format!("{base}{person}")).await.unwrap();
    click(&owner_b, "input[name=action][value=deactivate]").await;
    fill(&owner_b, "password", PASSWORD).await;
    submit(&owner_b, &format!("{person}/help")).await;
    let text = body_text(&owner_b).await;
    assert!(text.contains("They were deactivated"), "{text}");
    assert!(
        text.contains("Deactivated") && text.contains("Reactivate"),
        "{text}"
    );

    // Sam's browser is signed out at once, and the right password says why.
    sam_b.goto(&format!("{base}/dashboard")).await.unwrap();
    assert_eq!(path(&sam_b).await, "/sign-in");
    password_only(&sam_b, &base, "sam@harbor.test").await;
    let text = body_text(&sam_b).await;
    assert!(
        text.contains("has been deactivated; ask the practice"),
        "{text}"
    );

    // Team lists Sam under Deactivated; reactivating lets Sam back in.
    owner_b
        .goto(&format!("{base}/team?status=deactivated"))
        .await
        .unwrap();
    assert!(body_text(&owner_b).await.contains("A staff"));
    owner_b
        .goto(&format!("{base}/team?status=active"))
        .await
        .unwrap();
    assert!(!body_text(&owner_b).await.contains("A staff"));
    owner_b.goto(&format!("{base}{person}")).await.unwrap();
    submit(&owner_b, &format!("{person}/reactivate")).await;
    assert!(body_text(&owner_b).await.contains("They were reactivated"));
    sign_in(&sam_b, &base, "sam@harbor.test").await;
}

/// The code an authenticator app shows now for the key a page shows in groups.
fn app_code_now(app: &TestApp, key: &str) -> String {
    use latch_app::clock::Clock;
    crate::support::app_code(key, app.clock.now().seconds())
}

#[tokio::test]
async fn a_staff_member_adds_an_authenticator_app_and_signs_in_with_it_or_a_recovery_code() {
    let Some((_driver, b)) = browser().await else {
        return;
    };
    let app = TestApp::new(Dialect::Sqlite).await;
    let base = app.base.clone();
    let owner = app.with_practice().await;
    app.person(&owner, "staff", "sam@harbor.test").await;
    let sam = "sam@harbor.test";

    sign_in(&b, &base, sam).await;
    b.goto(&format!("{base}/profile")).await.unwrap();
    follow(&b, Locator::LinkText("Use an authenticator app")).await;
    fill(&b, "password", PASSWORD).await;
    submit(&b, "/profile/two-factor/password").await;
    assert_eq!(path(&b).await, "/profile/two-factor/app");
    assert!(
        b.find(Locator::Css(".qr-code svg")).await.is_ok(),
        "a QR code drawn by latch"
    );
    shot(&b, "authenticator-app").await;
    let key = b
        .find(Locator::Css(".secret-key code"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // A wrong code first: the same key stays on the page.
    fill(&b, "code", "000000").await;
    submit(&b, "/profile/two-factor/app").await;
    assert!(
        body_text(&b).await.contains("not correct"),
        "{}",
        body_text(&b).await
    );
    let again = b
        .find(Locator::Css(".secret-key code"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(again, key, "the key the person scanned still stands");
    fill(&b, "code", &app_code_now(&app, &key)).await;
    submit(&b, "/profile/two-factor/app").await;
    let codes = saved_recovery_codes(&b).await;
    assert!(body_text(&b).await.contains("Authenticator app"));
    sign_out(&b).await;

    // The app's next step signs in; no text goes anywhere.
    app.clock.advance(30);
    password_only(&b, &base, sam).await;
    assert_eq!(path(&b).await, "/sign-in/code");
    assert!(body_text(&b).await.contains("Open your authenticator app"));
    fill(&b, "code", &app_code_now(&app, &key)).await;
    submit(&b, "/sign-in/code").await;
    assert_eq!(path(&b).await, "/dashboard");
    sign_out(&b).await;

    // A lost phone: "Use a recovery code".
    password_only(&b, &base, sam).await;
    follow(&b, Locator::LinkText("Use a recovery code")).await;
    fill(&b, "code", &codes[0]).await;
    submit(&b, "/sign-in/code").await;
    assert_eq!(path(&b).await, "/dashboard");
    b.goto(&format!("{base}/profile")).await.unwrap();
    assert!(body_text(&b).await.contains("Recovery codes: 9 left"));
    b.close().await.unwrap();
}
