//! The test harness: a real latch server on a random port over a fresh database, a manual
//! clock, and cookie-keeping clients.

use std::sync::Arc;

use clap::Parser;
use latch::config::{Config, Settings};
use latch_app::clock::{Clock, ManualClock, SystemClock};
use latch_store::Db;
use latch_store::testing::TestDatabase;
use reqwest::StatusCode;
use reqwest::cookie::CookieStore;
use serde_json::{Value, json};

pub const PASSWORD: &str = "maple kettle orbit 42";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// Runs each listed test once on SQLite and once on PostgreSQL; `threads:` first runs them on
/// a runtime of several threads, for tests of requests that arrive together.
#[macro_export]
macro_rules! on_both_databases {
    (threads: $($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$name($crate::support::Dialect::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    if $crate::support::postgres_url().is_some() {
                        super::$name($crate::support::Dialect::Postgres).await;
                    }
                }
            )*
        }
    };
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name($crate::support::Dialect::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    if $crate::support::postgres_url().is_some() {
                        super::$name($crate::support::Dialect::Postgres).await;
                    }
                }
            )*
        }
    };
}

pub use latch_store::testing::postgres_url;

pub struct TestApp {
    pub base: String,
    pub clock: ManualClock,
    pub running: Option<latch::Running>,
    pub config: Config,
    pub db: Db,
    _database: TestDatabase,
}

impl TestApp {
    pub async fn new(dialect: Dialect) -> TestApp {
        Self::with_args(dialect, &[]).await
    }

    pub async fn with_args(dialect: Dialect, args: &[&str]) -> TestApp {
        Self::reaching_database_through(dialect, args, |url| url.to_owned()).await
    }

    /// The same, with the database URL latch uses made from the test database's (to put a
    /// proxy of the test's own in between).
    pub async fn reaching_database_through(
        dialect: Dialect,
        args: &[&str],
        route: impl FnOnce(&str) -> String,
    ) -> TestApp {
        let database = match dialect {
            Dialect::Sqlite => TestDatabase::sqlite(),
            Dialect::Postgres => {
                TestDatabase::postgres(&postgres_url().expect("checked by the caller")).await
            }
        };
        let url = route(&database.url);
        let key = latch_app::crypto::hex(&latch_app::crypto::random_bytes::<32>());
        let mut all = vec![
            "latch",
            "--bind",
            "127.0.0.1:0",
            "--database-url",
            &url,
            "--secret-key",
            &key,
            "--flood-limit",
            "10000",
        ];
        all.extend_from_slice(args);
        let settings = Cli::try_parse_from(all).expect("test settings").settings;
        let config = settings
            .validate("sqlite://unused.db")
            .expect("valid test settings");
        let db = latch::open_database(&config)
            .await
            .expect("open the test database");
        let clock = ManualClock::starting_at(SystemClock.now());
        let running = latch::start(&config, db.clone(), Arc::new(clock.clone()))
            .await
            .expect("start latch");
        TestApp {
            base: format!("http://{}", running.addr),
            clock,
            running: Some(running),
            config,
            db,
            _database: database,
        }
    }

    /// Another latch node on the same database, key and clock, as a second machine behind the
    /// same load balancer would be; answers its base URL and the running node.
    pub async fn second_node(&self) -> (String, latch::Running) {
        let db = latch::open_database(&self.config)
            .await
            .expect("open the database again");
        let running = latch::start(&self.config, db, Arc::new(self.clock.clone()))
            .await
            .expect("start a second node");
        (format!("http://{}", running.addr), running)
    }

    pub fn latch(&self) -> &latch_app::Latch {
        &self.running.as_ref().expect("running").latch
    }

    /// Stops the server and starts another on the same database and key, as a restart would.
    pub async fn restart(&mut self) {
        if let Some(r) = self.running.take() {
            r.stop().await;
        }
        let mut config = self.config.clone();
        config.settings.bind = self.base.trim_start_matches("http://").parse().unwrap();
        let running = latch::start(&config, self.db.clone(), Arc::new(self.clock.clone()))
            .await
            .expect("restart latch");
        self.running = Some(running);
    }

    pub fn client(&self) -> Client {
        latch_messaging::install_crypto_provider();
        let jar = Arc::new(reqwest::cookie::Jar::default());
        Client {
            http: reqwest::Client::builder()
                .cookie_provider(jar.clone())
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            jar,
            base: self.base.clone(),
        }
    }

    /// Runs the first-run setup and answers the owner's signed-in client.
    pub async fn with_practice(&self) -> Client {
        let owner = self.client();
        let (status, body) = owner
            .post(
                "/api/v1/setup",
                json!({"practice_name": "Harbor Counseling", "country": "US",
                       "owner": {"email": "owner@harbor.test", "name": "Olivia Owner", "password": PASSWORD}}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        owner
    }

    /// A second practice (as the operator's console makes one), in the US like the first:
    /// answers its owner's signed-in client. Its people must never see, reach or block the
    /// first practice's.
    pub async fn other_practice(&self) -> Client {
        self.latch()
            .setup
            .create_practice(latch_app::setup::PracticeInput {
                practice_name: "Other Practice".into(),
                country: Some("US".into()),
                time_zone: None,
                owner_email: "owner@other.test".into(),
                owner_name: "Other Owner".into(),
                owner_password: latch_app::Secret::new(PASSWORD),
            })
            .await
            .expect("a second practice");
        let owner = self.client();
        let (status, body) = owner.sign_in("owner@other.test", PASSWORD).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        owner
    }

    /// Adds a person through the owner and answers a client signed in as them.
    pub async fn person(&self, owner: &Client, role: &str, email: &str) -> (Client, String) {
        let (status, body) = owner
            .post(
                "/api/v1/practice/users",
                json!({"email": email, "name": format!("A {role}"), "role": role, "password": PASSWORD}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let id = body["user"]["id"].as_str().unwrap().to_owned();
        let client = self.client();
        let (status, body) = client.sign_in(email, PASSWORD).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        (client, id)
    }
}

impl TestApp {
    /// Messages the outbox kept for a number, newest first.
    pub async fn outbox_to(&self, phone: &str) -> Vec<Value> {
        let c = self.client();
        let path = format!("/api/v1/dev/outbox?to={}", phone.replace('+', "%2B"));
        let (status, body) = c.get(&path).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["messages"].as_array().unwrap().clone()
    }

    /// The newest code sent to a number.
    pub async fn last_code_to(&self, phone: &str) -> String {
        self.outbox_to(phone)
            .await
            .into_iter()
            .find_map(|m| m["code"].as_str().map(str::to_owned))
            .unwrap_or_else(|| panic!("no code was sent to {phone}"))
    }

    /// Emails the email outbox kept for an address, newest first, once at least `count` are
    /// there: the queue sends them a moment after the request that queued them.
    pub async fn emails_to(&self, email: &str, count: usize) -> Vec<Value> {
        let c = self.client();
        let path = format!("/api/v1/dev/email-outbox?to={}", email.replace('+', "%2B"));
        for _ in 0..200 {
            let (status, body) = c.get(&path).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            let messages = body["messages"].as_array().unwrap().clone();
            if messages.len() >= count {
                return messages;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("fewer than {count} emails reached {email}");
    }

    /// The emails of one subject to an address, newest first, once at least `count` are there
    /// (other emails, a new browser's notice say, may come between).
    pub async fn emails_about(&self, email: &str, subject: &str, count: usize) -> Vec<Value> {
        for _ in 0..200 {
            let about: Vec<Value> = self
                .emails_to(email, 0)
                .await
                .into_iter()
                .filter(|m| m["subject"] == subject)
                .collect();
            if about.len() >= count {
                return about;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("fewer than {count} emails {subject:?} reached {email}");
    }

    /// The link of the newest email with a link to an address, once `count` such are there.
    pub async fn link_to(&self, email: &str, count: usize) -> String {
        for _ in 0..200 {
            let linked: Vec<Value> = self
                .emails_to(email, 0)
                .await
                .into_iter()
                .filter(|m| m["link"].is_string())
                .collect();
            if linked.len() >= count {
                return linked[0]["link"].as_str().unwrap().to_owned();
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("fewer than {count} emails with a link reached {email}");
    }

    /// Turns two-factor on for the signed-in client, by text to `phone`.
    pub async fn turn_on_two_factor(&self, c: &Client, phone: &str) {
        c.reauthenticate().await;
        self.enrol(c, phone).await;
    }

    /// Sets two-factor up by text to `phone` in a session that may already (re-entered
    /// password, or the practice's required setup), asserting each step.
    pub async fn enrol(&self, c: &Client, phone: &str) {
        let (status, body) = c
            .post(
                "/api/v1/me/two-factor/setup",
                json!({"phone": phone, "channel": "sms"}),
            )
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        let code = self.last_code_to(phone).await;
        let (status, body) = c
            .post("/api/v1/me/two-factor/setup/confirm", json!({"code": code}))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
}

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    settings: Settings,
}

#[derive(Clone)]
pub struct Client {
    pub http: reqwest::Client,
    pub jar: Arc<reqwest::cookie::Jar>,
    pub base: String,
}

impl Client {
    /// The same browser (cookies and all) talking to another node.
    pub fn on(&self, base: &str) -> Client {
        Client {
            base: base.to_owned(),
            ..self.clone()
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The same browser on a connection of its own, so that requests sent together truly
    /// arrive together.
    pub fn own_connection(&self) -> Client {
        Client {
            http: reqwest::Client::builder()
                .cookie_provider(self.jar.clone())
                .redirect(reqwest::redirect::Policy::none())
                .pool_max_idle_per_host(0)
                .build()
                .unwrap(),
            ..self.clone()
        }
    }

    /// The cookies this client would send, as one header value.
    pub fn cookies(&self) -> String {
        let url = reqwest::Url::parse(&self.base).unwrap();
        self.jar
            .cookies(&url)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    }

    pub fn session_cookie(&self) -> Option<String> {
        self.cookies()
            .split("; ")
            .find_map(|c| c.strip_prefix("latch_session=").map(str::to_owned))
    }

    pub async fn send(&self, request: reqwest::RequestBuilder) -> (StatusCode, Value) {
        let response = request.send().await.expect("request");
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// A page as a browser gets it (no redirect followed): its status and HTML.
    pub async fn page(&self, path: &str) -> (StatusCode, String) {
        let response = self.http.get(self.url(path)).send().await.expect("request");
        (response.status(), response.text().await.unwrap_or_default())
    }

    /// Sends a page's form as it is (the caller gives the `csrf` field, or leaves it out).
    pub async fn submit(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let request = self.http.post(self.url(path)).form(form);
        request.send().await.expect("request")
    }

    /// Sends a form and follows its answer as a browser does. Every form post answers with a
    /// redirect, errors included, so a refresh sends nothing again: this asserts it. Answers
    /// where it led, and that page's status and HTML.
    pub async fn submit_and_follow(
        &self,
        path: &str,
        form: &[(&str, &str)],
    ) -> (String, StatusCode, String) {
        let posted = self.submit(path, form).await;
        assert_eq!(
            posted.status(),
            StatusCode::SEE_OTHER,
            "a form post answers with a redirect"
        );
        let to = posted.headers()["location"].to_str().unwrap().to_owned();
        let (status, html) = self.page(&to).await;
        (to, status, html)
    }

    /// Opens `page`, fills in its form's token and `form`, sends it to `path` and follows the
    /// redirect (see `submit_and_follow`).
    pub async fn fill_in(
        &self,
        page: &str,
        path: &str,
        form: &[(&str, &str)],
    ) -> (String, StatusCode, String) {
        let (_, html) = self.page(page).await;
        let csrf = csrf_of(&html);
        let mut fields = vec![("csrf", csrf.as_str())];
        fields.extend_from_slice(form);
        self.submit_and_follow(path, &fields).await
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.send(self.http.get(self.url(path))).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(self.http.post(self.url(path)).json(&body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(self.http.patch(self.url(path)).json(&body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(self.http.put(self.url(path)).json(&body)).await
    }

    /// Changes the practice's security settings as an owner or manager does: the password
    /// again, then the change.
    pub async fn change_security(&self, change: Value) -> (StatusCode, Value) {
        self.reauthenticate().await;
        self.put("/api/v1/practice/security", change).await
    }

    /// Re-enters the password, for what needs a recent one.
    pub async fn reauthenticate(&self) {
        let (status, body) = self
            .post(
                "/api/v1/session/reauthenticate",
                json!({"password": PASSWORD}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    pub async fn delete(&self, path: &str) -> (StatusCode, Value) {
        self.send(self.http.delete(self.url(path))).await
    }

    /// Re-enters the password and starts a two-factor setup; answers the setup's reply.
    pub async fn begin_setup(&self, phone: &str, channel: &str) -> (StatusCode, Value) {
        self.begin_setup_with(phone, channel, PASSWORD).await
    }

    /// The same, with another password.
    pub async fn begin_setup_with(
        &self,
        phone: &str,
        channel: &str,
        password: &str,
    ) -> (StatusCode, Value) {
        let (status, body) = self
            .post(
                "/api/v1/session/reauthenticate",
                json!({"password": password}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        self.post(
            "/api/v1/me/two-factor/setup",
            json!({"phone": phone, "channel": channel}),
        )
        .await
    }

    /// How many events of `kind` the practice's audit trail holds (up to 500).
    pub async fn audited(&self, kind: &str) -> usize {
        let (status, body) = self
            .get(&format!("/api/v1/practice/audit?kind={kind}&limit=500"))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["events"].as_array().unwrap().len()
    }

    /// The details of the practice's audit events of `kind`, newest first.
    pub async fn audit_details(&self, kind: &str) -> Vec<String> {
        let (status, body) = self
            .get(&format!("/api/v1/practice/audit?kind={kind}&limit=500"))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["detail"].as_str().map(str::to_owned))
            .collect()
    }

    /// Enters a sign-in's code, and asserts that it signed in: a step of a test's setup, which
    /// must not pass quietly when the code did not work.
    pub async fn enter_code(&self, code: impl AsRef<str>, remember_device: bool) {
        let code = code.as_ref();
        let (status, body) = self
            .post(
                "/api/v1/session/verify",
                json!({"code": code, "remember_device": remember_device}),
            )
            .await;
        assert_eq!(
            (status, body["state"].as_str()),
            (StatusCode::OK, Some("signed_in")),
            "the code should have signed in: {body}"
        );
    }

    pub async fn sign_in(&self, email: &str, password: &str) -> (StatusCode, Value) {
        self.post(
            "/api/v1/session",
            json!({"email": email, "password": password}),
        )
        .await
    }
}

/// Posts every request at the same instant, each on a connection of its own, behind a
/// barrier; answers in the order given.
pub async fn post_at_once(requests: Vec<(Client, &str, Value)>) -> Vec<(StatusCode, Value)> {
    let barrier = Arc::new(tokio::sync::Barrier::new(requests.len()));
    let tasks: Vec<_> = requests
        .into_iter()
        .map(|(client, path, body)| {
            let client = client.own_connection();
            let request = client.http.post(client.url(path)).json(&body);
            let barrier = barrier.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                client.send(request).await
            })
        })
        .collect();
    let mut answers = Vec::with_capacity(tasks.len());
    for task in tasks {
        answers.push(task.await.expect("a request task"));
    }
    answers
}

/// The code an authenticator app shows at `unix` for this base32 secret (spaces allowed), by
/// totp-rs: an implementation nobody here wrote.
pub fn app_code(secret: &str, unix: i64) -> String {
    let secret: String = secret.split_whitespace().collect();
    let secret = totp_rs::Secret::try_from_base32(&secret).expect("a base32 secret");
    let totp = totp_rs::Builder::new()
        .with_secret(secret)
        .build()
        .expect("a 160-bit secret");
    totp.generate(u64::try_from(unix).expect("after 1970"))
        .to_string()
}

/// The error code of an API answer.
/// The form token in a page's HTML.
pub fn csrf_of(html: &str) -> String {
    let field = r#"name="csrf" value=""#;
    let start = html.find(field).expect("a csrf field") + field.len();
    html[start..start + 64].to_owned()
}

pub fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("<no error code>")
}

/// The fields an error answer refuses, in its order.
pub fn refused_fields(body: &Value) -> Vec<&str> {
    body["error"]["fields"]
        .as_array()
        .map(|fields| fields.iter().filter_map(|f| f["field"].as_str()).collect())
        .unwrap_or_default()
}
