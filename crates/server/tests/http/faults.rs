//! The database cut away while requests run, through a TCP proxy of the test's own (never by
//! stopping the PostgreSQL other tests share): 503s within 3 seconds while it is gone, full
//! service and intact sessions when it returns, without restarting latch.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;
use tokio::task::JoinHandle;

use crate::support::{Dialect, PASSWORD, TestApp, code, postgres_url};

/// Forwards connections to PostgreSQL until cut; while cut, it drops every connection.
struct Proxy {
    port: u16,
    up: Arc<AtomicBool>,
    pipes: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Proxy {
    async fn start(target: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = Arc::new(AtomicBool::new(true));
        let pipes: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let (up2, pipes2) = (up.clone(), pipes.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    return;
                };
                if !up2.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let target = target.clone();
                pipes2.lock().await.push(tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                }));
            }
        });
        Proxy { port, up, pipes }
    }

    async fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        for pipe in self.pipes.lock().await.drain(..) {
            pipe.abort();
        }
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

/// `postgres://u:p@127.0.0.1:5432/db` → the same through `port`.
fn through(url: &str, port: u16) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (auth, after) = rest.split_once('@').unwrap();
    let path = &after[after.find('/').unwrap()..];
    format!("{scheme}://{auth}@127.0.0.1:{port}{path}")
}

#[tokio::test]
async fn a_lost_database_answers_503_quickly_and_service_returns_by_itself() {
    let Some(admin) = postgres_url() else { return };
    let target = {
        let after = admin.split_once('@').unwrap().1;
        after[..after.find('/').unwrap()].to_owned()
    };
    let proxy = Proxy::start(target).await;
    let app =
        TestApp::reaching_database_through(Dialect::Postgres, &[], |url| through(url, proxy.port))
            .await;
    let owner = app.with_practice().await;
    assert_eq!(owner.get("/api/v1/me").await.0, StatusCode::OK);

    proxy.cut().await;
    for path in ["/api/v1/me", "/readyz"] {
        let started = Instant::now();
        let (status, body) = owner.get(path).await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            "{path}: {body}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{path} answered in {:?}",
            started.elapsed()
        );
    }
    let page = owner
        .http
        .get(owner.url("/dashboard"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("Temporarily unavailable"),
        "a clear page, no stack trace"
    );
    let (status, _) = app.client().sign_in("owner@harbor.test", PASSWORD).await;
    assert_eq!(
        status,
        StatusCode::SERVICE_UNAVAILABLE,
        "a sign-in waits for the database, nothing half-done"
    );
    assert_eq!(
        owner.get("/healthz").await.0,
        StatusCode::OK,
        "the process still runs"
    );

    proxy.restore();
    let mut back = false;
    for _ in 0..50 {
        if owner.get("/readyz").await.0 == StatusCode::OK {
            back = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(back, "ready again without a restart");
    assert_eq!(
        owner.get("/api/v1/me").await.0,
        StatusCode::OK,
        "the session is intact"
    );
    assert_eq!(
        app.client().sign_in("owner@harbor.test", PASSWORD).await.0,
        StatusCode::OK
    );
}

/// SIGTERM: the node stops accepting, finishes the requests in flight, and exits cleanly.
#[tokio::test]
async fn sigterm_lets_requests_in_flight_finish() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_latch"))
        .current_dir(dir.path())
        .env_clear()
        .env("LATCH_BIND", "127.0.0.1:0")
        .env("LATCH_HASH_CONCURRENCY", "1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let base = loop {
        let mut line = String::new();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "latch exited early"
        );
        if let Some(url) = line.trim().strip_prefix("latch is ready at ") {
            break url.to_owned();
        }
    };
    latch_messaging::install_crypto_provider();
    let http = reqwest::Client::new();
    // Forty wrong passwords queue for the one hashing slot: about a second of work, so many are
    // still in flight when the signal comes.
    let requests: Vec<_> = (0..40)
        .map(|i| {
            let http = http.clone();
            let url = format!("{base}/api/v1/session");
            tokio::spawn(async move {
                http.post(url)
                    .json(&serde_json::json!({"email": format!("n{i}@x.test"), "password": "wrong password!"}))
                    .send()
                    .await
                    .map(|r| r.status())
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let term = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    for request in requests {
        let status = request
            .await
            .unwrap()
            .expect("every request in flight gets its answer");
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let exit = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert!(exit.success(), "a clean exit: {exit:?}");
}
