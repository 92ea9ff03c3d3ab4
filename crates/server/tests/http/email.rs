//! Email through a real SMTP server on loopback (Python's aiosmtpd, its MIME read by Python's own
//! parser): both parts, the sender, credentials, STARTTLS required by default, and the mail
//! server down, slow, deferring or refusing with nothing lost, across a restart and two nodes.
//! Without aiosmtpd in `target/smtp-sink` the tests skip loudly, and fail when
//! `LATCH_REQUIRE_SMTP=1`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use latch_app::mail::{MailError, Mailer};
use latch_domain::Email;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::on_both_databases;
use crate::support::{Dialect, TestApp, post_at_once};

const PYTHON: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../target/smtp-sink/bin/python"
);
const SINK: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/smtp_sink/sink.py");
const USER: &str = "latch@harbor.test";
const SECRET: &str = "mail server p@ss";

/// A real SMTP server, answering as its `mode` file says.
struct MailServer {
    child: Child,
    port: u16,
    folder: PathBuf,
}

impl MailServer {
    /// On a free port, or none (said loudly) where aiosmtpd is not installed.
    fn start(folder: &Path) -> Option<MailServer> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        Self::start_on(port, folder)
    }

    fn start_on(port: u16, folder: &Path) -> Option<MailServer> {
        Self::start_speaking(port, folder, &[])
    }

    /// On a free port, speaking TLS (`starttls` or `implicit`) with the certificate in `tls`.
    fn start_tls(folder: &Path, mode: &str, tls: &Path) -> Option<MailServer> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let (cert, key) = (tls.join("cert.pem"), tls.join("key.pem"));
        let args = [mode, cert.to_str().unwrap(), key.to_str().unwrap()];
        Self::start_speaking(port, folder, &args)
    }

    fn start_speaking(port: u16, folder: &Path, tls: &[&str]) -> Option<MailServer> {
        if !Path::new(PYTHON).exists() {
            assert!(
                std::env::var("LATCH_REQUIRE_SMTP").as_deref() != Ok("1"),
                "LATCH_REQUIRE_SMTP=1 but aiosmtpd is missing at {PYTHON} \
                 (python3 -m venv target/smtp-sink && target/smtp-sink/bin/pip install aiosmtpd==1.4.6)"
            );
            eprintln!("SKIPPED: no aiosmtpd at {PYTHON}; the SMTP tests did not run");
            return None;
        }
        let mut child = Command::new(PYTHON)
            .args([
                SINK,
                &port.to_string(),
                folder.to_str().unwrap(),
                USER,
                SECRET,
            ])
            .args(tls)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the mail server");
        let mut ready = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut ready)
            .unwrap();
        assert_eq!(ready.trim(), "ready", "the mail server did not start");
        Some(MailServer {
            child,
            port,
            folder: folder.to_owned(),
        })
    }

    fn url(&self) -> String {
        let user = USER.replace('@', "%40");
        let secret = SECRET.replace('@', "%40").replace(' ', "%20");
        format!("smtp://{user}:{secret}@127.0.0.1:{}?tls=none", self.port)
    }

    fn answer(&self, mode: &str) {
        std::fs::write(self.folder.join("mode"), mode).unwrap();
    }
}

impl Drop for MailServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The reset emails the mail server took, oldest first: what these tests send and count (a
/// new browser's notices to the people they sign in go too, and are left out).
fn taken(folder: &Path) -> Vec<Value> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(folder)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| serde_json::from_slice::<Value>(&std::fs::read(p).unwrap()).unwrap())
        .filter(|m| m["subject"] == "Choose a new password for Harbor Counseling")
        .collect()
}

/// What the mail server took, once it has taken `count`; the queue's loop wakes every two
/// seconds or so for what was postponed.
async fn taken_at_least(folder: &Path, count: usize) -> Vec<Value> {
    for _ in 0..300 {
        let messages = taken(folder);
        if messages.len() >= count {
            return messages;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the mail server took {} of {count}", taken(folder).len());
}

async fn latch_mailing(dialect: Dialect, url: &str) -> TestApp {
    let args = [
        "--email-delivery",
        "smtp",
        "--smtp-url",
        url,
        "--email-from",
        "Harbor Counseling <no-reply@harbor.test>",
    ];
    TestApp::with_args(dialect, &args).await
}

async fn forgot(app: &TestApp, email: &str) {
    let (status, body) = app
        .client()
        .post("/api/v1/password-reset", json!({"email": email}))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
}

/// The part of a message of one content type.
fn part<'a>(message: &'a Value, content_type: &str) -> &'a str {
    message["parts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["type"] == content_type)
        .and_then(|p| p["body"].as_str())
        .unwrap_or_else(|| panic!("no {content_type} part in {message}"))
}

async fn an_email_goes_out_by_smtp_with_a_text_and_an_html_part(dialect: Dialect) {
    let folder = tempfile::tempdir().unwrap();
    let Some(server) = MailServer::start(folder.path()) else {
        return;
    };
    let app = latch_mailing(dialect, &server.url()).await;
    let _owner = app.with_practice().await;
    forgot(&app, "owner@harbor.test").await;
    let messages = taken_at_least(folder.path(), 1).await;
    let m = &messages[0];
    assert_eq!(m["rcpt_tos"], json!(["owner@harbor.test"]));
    assert_eq!(
        m["login"], USER,
        "signed in to the mail server with the URL's credentials"
    );
    assert_eq!(m["from"], "Harbor Counseling <no-reply@harbor.test>");
    assert_eq!(m["to"], "owner@harbor.test");
    assert_eq!(m["subject"], "Choose a new password for Harbor Counseling");
    assert_eq!(m["content_type"], "multipart/alternative");
    assert_eq!(m["auto_submitted"], "auto-generated");
    let text = part(m, "text/plain");
    let html = part(m, "text/html");
    let link = text
        .split_whitespace()
        .find(|w| w.starts_with(&app.base))
        .expect("a link in the text");
    assert!(link.starts_with(&format!("{}/password-reset/", app.base)));
    assert!(html.contains(&format!("href=\"{link}\"")), "{html}");
    assert!(text.contains("— latch, for Harbor Counseling"), "{text}");

    // The link works, and the email outbox is not there when email really goes out.
    assert_eq!(
        app.client().page(&link[app.base.len()..]).await.0,
        StatusCode::OK
    );
    let (status, _) = app.client().get("/api/v1/dev/email-outbox").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn a_mail_server_that_defers_refuses_or_is_slow_loses_nothing(dialect: Dialect) {
    let folder = tempfile::tempdir().unwrap();
    let Some(server) = MailServer::start(folder.path()) else {
        return;
    };
    let app = latch_mailing(dialect, &server.url()).await;
    let owner = app.with_practice().await;
    app.person(&owner, "staff", "sam@harbor.test").await;
    app.person(&owner, "client", "cleo@harbor.test").await;

    // A transient refusal: tried again after the wait, and taken once.
    server.answer("defer");
    forgot(&app, "owner@harbor.test").await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(taken(folder.path()).is_empty());
    server.answer("accept");
    app.clock.advance(31);
    let messages = taken_at_least(folder.path(), 1).await;
    assert_eq!(messages[0]["rcpt_tos"], json!(["owner@harbor.test"]));

    // A slow server holds up no request: the answer comes before the server takes anything.
    server.answer("slow:3");
    forgot(&app, "sam@harbor.test").await;
    assert_eq!(taken(folder.path()).len(), 1);
    let messages = taken_at_least(folder.path(), 2).await;
    assert_eq!(messages[1]["rcpt_tos"], json!(["sam@harbor.test"]));

    // A permanent refusal is given up at once, and never sent later.
    server.answer("refuse");
    forgot(&app, "cleo@harbor.test").await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    server.answer("accept");
    app.clock.advance(7200);
    forgot(&app, "owner@harbor.test").await;
    let messages = taken_at_least(folder.path(), 3).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let messages_later = taken(folder.path());
    assert_eq!(messages_later.len(), 3, "{messages_later:?}");
    assert_eq!(messages[2]["rcpt_tos"], json!(["owner@harbor.test"]));
}

async fn a_mail_server_down_across_a_restart_loses_nothing(dialect: Dialect) {
    let folder = tempfile::tempdir().unwrap();
    let Some(server) = MailServer::start(folder.path()) else {
        return;
    };
    let (port, url) = (server.port, server.url());
    drop(server);
    let mut app = latch_mailing(dialect, &url).await;
    let _owner = app.with_practice().await;
    forgot(&app, "owner@harbor.test").await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    app.restart().await;
    let Some(_server) = MailServer::start_on(port, folder.path()) else {
        return;
    };
    app.clock.advance(3600);
    let messages = taken_at_least(folder.path(), 1).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(taken(folder.path()).len(), 1, "sent once: {messages:?}");
}

async fn two_nodes_share_the_queue_and_send_each_email_once(dialect: Dialect) {
    let folder = tempfile::tempdir().unwrap();
    let Some(server) = MailServer::start(folder.path()) else {
        return;
    };
    let app = latch_mailing(dialect, &server.url()).await;
    let owner = app.with_practice().await;
    let (second, _node) = app.second_node().await;
    let people: Vec<String> = (0..8).map(|i| format!("person{i}@harbor.test")).collect();
    for email in &people {
        app.person(&owner, "client", email).await;
    }
    let asks = people
        .iter()
        .enumerate()
        .map(|(i, email)| {
            let c = if i % 2 == 0 {
                app.client()
            } else {
                app.client().on(&second)
            };
            (c, "/api/v1/password-reset", json!({"email": email}))
        })
        .collect();
    for (status, body) in post_at_once(asks).await {
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    }
    taken_at_least(folder.path(), people.len()).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut to: Vec<String> = taken(folder.path())
        .iter()
        .map(|m| m["rcpt_tos"][0].as_str().unwrap().to_owned())
        .collect();
    to.sort();
    assert_eq!(to, people, "each email once");
}

on_both_databases!(
    an_email_goes_out_by_smtp_with_a_text_and_an_html_part,
    a_mail_server_down_across_a_restart_loses_nothing,
);

mod together {
    use super::*;
    on_both_databases!(threads:
        a_mail_server_that_defers_refuses_or_is_slow_loses_nothing,
        two_nodes_share_the_queue_and_send_each_email_once,
    );
}

/// `smtp://` without `tls=none` requires STARTTLS: a server that does not offer it gets
/// nothing, not a message in the clear.
#[tokio::test]
async fn starttls_is_required_unless_loopback_asks_for_none() {
    let folder = tempfile::tempdir().unwrap();
    let Some(server) = MailServer::start(folder.path()) else {
        return;
    };
    latch_messaging::install_crypto_provider();
    let url = server.url().replace("?tls=none", "");
    let target = latch_messaging::SmtpTarget::parse(&url).unwrap();
    let from = latch_messaging::parse_from("no-reply@harbor.test").unwrap();
    let mailer = latch_messaging::SmtpMailer::new(&target, from, None).unwrap();
    let letter = latch_domain::mail::Mail::Test.compose(latch_domain::mail::From {
        product: "latch",
        practice: None,
    });
    let to = Email::parse("owner@harbor.test").unwrap();
    match mailer.send(&to, &letter).await {
        Err(MailError::Failed(why)) => assert!(why.to_lowercase().contains("tls"), "{why}"),
        other => panic!("sent without TLS: {other:?}"),
    }
    assert!(taken(folder.path()).is_empty());
}

/// `latch check-email` sends one test message through the mail server and says what it
/// answered: taken, or why not.
#[tokio::test]
async fn check_email_sends_one_test_message_and_says_what_happened() {
    let folder = tempfile::tempdir().unwrap();
    let Some(server) = MailServer::start(folder.path()) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let check = |url: String| {
        crate::console::run(
            dir.path(),
            &[
                "--email-delivery",
                "smtp",
                "--smtp-url",
                &url,
                "--email-from",
                "no-reply@harbor.test",
                "check-email",
                "--to",
                "owner@harbor.test",
            ],
        )
    };
    let (worked, _, said) = check(server.url());
    assert!(worked, "{said}");
    assert!(
        said.contains("OK: the test email to owner@harbor.test was accepted"),
        "{said}"
    );
    let all: Vec<PathBuf> = std::fs::read_dir(folder.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    assert_eq!(all.len(), 1);
    let message: Value = serde_json::from_slice(&std::fs::read(&all[0]).unwrap()).unwrap();
    assert_eq!(message["subject"], "latch: a test message");

    server.answer("refuse");
    let (worked, _, said) = check(server.url());
    assert!(!worked);
    assert!(
        said.contains("did not go out") && said.contains("550"),
        "{said}"
    );
    assert!(
        !said.contains(SECRET),
        "the password is never printed: {said}"
    );
}

/// A certificate authority of the test's own and a certificate it signed for 127.0.0.1, made
/// by the openssl command: `ca.pem`, `cert.pem` and `key.pem` in the folder answered.
fn private_authority() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl")
            .current_dir(dir.path())
            .args(args)
            .output()
            .expect("the openssl command");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=latch test authority",
    ]);
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "key.pem",
        "-out",
        "cert.csr",
        "-subj",
        "/CN=127.0.0.1",
    ]);
    std::fs::write(
        dir.path().join("names.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "cert.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "cert.pem",
        "-days",
        "2",
        "-extfile",
        "names.ext",
    ]);
    dir
}

/// STARTTLS, and TLS from the first byte, to a mail server whose certificate a private
/// authority signed: trusted with `LATCH_SMTP_CA_FILE`, refused without it.
#[tokio::test]
async fn tls_to_the_mail_server_is_verified_against_the_authority_given() {
    let authority = private_authority();
    for (mode, scheme) in [("starttls", "smtp"), ("implicit", "smtps")] {
        let folder = tempfile::tempdir().unwrap();
        let Some(server) = MailServer::start_tls(folder.path(), mode, authority.path()) else {
            return;
        };
        let user = USER.replace('@', "%40");
        let secret = SECRET.replace('@', "%40").replace(' ', "%20");
        let url = format!("{scheme}://{user}:{secret}@127.0.0.1:{}", server.port);
        let ca = authority.path().join("ca.pem");
        let dir = tempfile::tempdir().unwrap();
        let check = |trusting: bool| {
            let mut args = vec![
                "--email-delivery",
                "smtp",
                "--smtp-url",
                &url,
                "--email-from",
                "no-reply@harbor.test",
            ];
            if trusting {
                args.extend(["--smtp-ca-file", ca.to_str().unwrap()]);
            }
            args.extend(["check-email", "--to", "owner@harbor.test"]);
            crate::console::run(dir.path(), &args)
        };
        let (worked, _, said) = check(false);
        assert!(!worked, "{mode}: an unknown authority is refused: {said}");
        assert!(
            said.to_lowercase().contains("certificate"),
            "{mode}: {said}"
        );
        let (worked, _, said) = check(true);
        assert!(worked, "{mode}: {said}");
        let all: Vec<PathBuf> = std::fs::read_dir(folder.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        assert_eq!(all.len(), 1, "{mode}: one message, over TLS");
        let message: Value = serde_json::from_slice(&std::fs::read(&all[0]).unwrap()).unwrap();
        assert_eq!(message["login"], USER, "{mode}");
        drop(server);
    }
}
