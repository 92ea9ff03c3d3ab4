//! The `latch` binary's wiring: configuration, the database, the use cases and the web layer,
//! put together for `serve`, `demo` and the console commands (and for tests, in process).
#![forbid(unsafe_code)]

pub mod config;
pub mod demo;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use latch_app::clock::Clock;
use latch_app::crypto::Keys;
use latch_app::passwords::HashCost;
use latch_app::{Latch, LatchSettings};
use latch_messaging::OutboxDelivery;
use latch_store::{Db, DbOptions};
use latch_web::WebConfig;

use crate::config::{Config, KeySource};

/// The server key: given, or (development with SQLite) generated once and kept beside the
/// database, readable only by its owner.
pub fn load_key(source: &KeySource) -> anyhow::Result<Vec<u8>> {
    match source {
        KeySource::Given(bytes) => Ok(bytes.clone()),
        KeySource::File(path) => {
            if let Ok(text) = std::fs::read_to_string(path) {
                return latch_app::crypto::unhex(text.trim())
                    .filter(|k| k.len() >= 32)
                    .with_context(|| {
                        format!(
                            "{} does not hold a valid key; delete it to make a new one",
                            path.display()
                        )
                    });
            }
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("create {}", dir.display()))?;
            }
            let key = latch_app::crypto::random_bytes::<32>();
            write_private(path, &latch_app::crypto::hex(&key))?;
            Ok(key.to_vec())
        }
    }
}

fn write_private(path: &std::path::Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("create {}", path.display()))?;
    file.write_all(text.as_bytes())?;
    Ok(())
}

/// Connects to the database (creating a SQLite file's folder) and applies pending migrations.
pub async fn open_database(config: &Config) -> anyhow::Result<Db> {
    if let Some(path) = config::sqlite_path(&config.database_url)
        && let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
    {
        std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
    }
    let options = DbOptions {
        acquire_timeout: Duration::from_secs(config.settings.database_acquire_timeout.max(1)),
        pool_size: config.settings.database_pool_size,
        statement_timeout: Duration::from_secs(config.settings.database_statement_timeout.max(1)),
    };
    let db = Db::connect(&config.database_url, &options).map_err(anyhow::Error::from)?;
    db.migrate().await.context("applying migrations")?;
    Ok(db)
}

/// The use cases over this database and clock, for the server whose public origin is
/// `public_url`, counting into `metrics`.
pub fn build_latch(
    config: &Config,
    db: Db,
    clock: Arc<dyn Clock>,
    public_url: &str,
    metrics: Arc<dyn latch_app::metrics::Metrics>,
) -> anyhow::Result<Latch> {
    let key = load_key(&config.key)?;
    let store: Arc<dyn latch_app::ports::Store> = Arc::new(db);
    let delivery: Arc<dyn latch_app::delivery::Delivery> = match config.settings.delivery {
        crate::config::Delivery::Outbox => {
            Arc::new(OutboxDelivery::new(Arc::clone(&store), Arc::clone(&clock)))
        }
        crate::config::Delivery::Twilio => Arc::new(twilio_delivery(config, public_url)?),
    };
    let settings = LatchSettings {
        hash_cost: HashCost::DEFAULT,
        hash_concurrency: config
            .settings
            .hash_concurrency
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get())),
        production: config.settings.production(),
        product_name: config.settings.product_name.clone(),
        public_host: public_host(public_url),
        public_url: public_url.trim_end_matches('/').to_owned(),
        dev_outbox: config.settings.delivery == crate::config::Delivery::Outbox,
        email_outbox: config.settings.email_delivery == crate::config::EmailDelivery::Outbox,
    };
    Latch::new(
        store,
        clock,
        Keys::derive(&key),
        delivery,
        metrics,
        settings,
    )
    .map_err(anyhow::Error::from)
}

/// Where emails go: the mail server of a validated configuration, or the development email
/// outbox.
pub fn mailer(
    config: &Config,
    store: Arc<dyn latch_app::ports::Store>,
    clock: Arc<dyn Clock>,
    public_url: &str,
) -> anyhow::Result<Arc<dyn latch_app::mail::Mailer>> {
    Ok(match smtp_mailer(config)? {
        Some(smtp) => Arc::new(smtp),
        None => Arc::new(latch_messaging::EmailOutbox::new(store, clock, public_url)),
    })
}

/// The mail server's client, with LATCH_EMAIL_DELIVERY=smtp.
pub fn smtp_mailer(config: &Config) -> anyhow::Result<Option<latch_messaging::SmtpMailer>> {
    let Some(target) = &config.smtp else {
        return Ok(None);
    };
    let from = config
        .settings
        .email_from
        .as_deref()
        .context("LATCH_EMAIL_FROM")?;
    let from = latch_messaging::parse_from(from).map_err(anyhow::Error::msg)?;
    let authority = config.smtp_authority.as_deref();
    Ok(Some(
        latch_messaging::SmtpMailer::new(target, from, authority).map_err(anyhow::Error::msg)?,
    ))
}

/// The Twilio delivery of a validated configuration. Delivery reports and key presses are
/// asked for only when latch is reachable over HTTPS.
pub fn twilio_delivery(
    config: &Config,
    public_url: &str,
) -> anyhow::Result<latch_messaging::TwilioDelivery> {
    let s = &config.settings;
    let settings = latch_messaging::TwilioSettings {
        api_base: s.twilio_api_base.clone(),
        account_sid: s
            .twilio_account_sid
            .clone()
            .context("LATCH_TWILIO_ACCOUNT_SID")?,
        auth_token: latch_app::Secret::new(
            s.twilio_auth_token
                .as_ref()
                .map(|t| t.expose().to_owned())
                .context("LATCH_TWILIO_AUTH_TOKEN")?,
        ),
        from: s.twilio_from.clone(),
        messaging_service_sid: s.twilio_messaging_service_sid.clone(),
        public_url: public_url.to_owned(),
        connect_timeout: latch_messaging::TwilioSettings::CONNECT_TIMEOUT,
        request_timeout: latch_messaging::TwilioSettings::REQUEST_TIMEOUT,
    };
    latch_messaging::TwilioDelivery::new(settings).map_err(|e| anyhow::anyhow!(e))
}

/// `https://latch.example.com` → `latch.example.com`: the host texts bind their code to.
fn public_host(public_url: &str) -> String {
    public_url
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned()
}

/// The origin of a server that is not listening (console commands).
pub fn configured_public_url(config: &Config) -> String {
    config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", config.settings.bind))
}

/// The web layer's view of the configuration, for a server bound at `bound`.
pub fn web_config(config: &Config, bound: SocketAddr) -> WebConfig {
    let (public_url, extra_origins) = match &config.public_url {
        Some(url) => (url.clone(), Vec::new()),
        None => {
            let port = bound.port();
            let public = format!("http://{bound}");
            // On loopback, the addresses a developer may type all name this one server.
            let extra = if bound.ip().is_loopback() {
                vec![
                    format!("http://localhost:{port}"),
                    format!("http://127.0.0.1:{port}"),
                    format!("http://[::1]:{port}"),
                ]
            } else {
                Vec::new()
            };
            (public, extra)
        }
    };
    WebConfig {
        public_url,
        extra_origins,
        production: config.settings.production(),
        flood_limit: config.settings.flood_limit,
        trusted_proxies: latch_web::TrustedProxies::parse(&config.settings.trusted_proxies)
            .unwrap_or_default(),
        metrics_allow: latch_web::TrustedProxies::parse(&config.settings.metrics_allow)
            .unwrap_or_default(),
    }
}

/// A server running in this process.
pub struct Running {
    pub addr: SocketAddr,
    pub latch: Latch,
    pub public_url: String,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    /// The sweeper and the checkpointer, told to stop between runs.
    upkeep: Vec<tokio::task::JoinHandle<()>>,
    stop_upkeep: tokio::sync::watch::Sender<bool>,
}

impl Running {
    /// Stops accepting, lets requests in flight and a sweep under way finish, and waits. No
    /// database work is cut off mid-statement: a PostgreSQL connection cut off there may never
    /// come back to the pool.
    pub async fn stop(mut self) {
        let _ = self.stop_upkeep.send(true);
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.task).await;
        for task in self.upkeep.drain(..) {
            let _ = task.await;
        }
    }
}

/// Waits `pause`, or answers `false` once the node is stopping (or its `Running` is gone).
async fn pause_unless_stopping(
    pause: Duration,
    stopping: &mut tokio::sync::watch::Receiver<bool>,
) -> bool {
    tokio::select! {
        () = tokio::time::sleep(pause) => true,
        _ = stopping.wait_for(|stop| *stop) => false,
    }
}

/// Binds `config.settings.bind` (port 0 picks a free one) and serves in the background.
pub async fn start(config: &Config, db: Db, clock: Arc<dyn Clock>) -> anyhow::Result<Running> {
    let listener = tokio::net::TcpListener::bind(config.settings.bind)
        .await
        .with_context(|| format!("listen on {}", config.settings.bind))?;
    let addr = listener.local_addr()?;
    let web = web_config(config, addr);
    let metrics = Arc::new(latch_web::PromMetrics::default());
    let (stop_upkeep, stopping) = tokio::sync::watch::channel(false);
    let checkpointer = tokio::spawn(checkpoint_forever(db.clone(), stopping.clone()));
    let store: Arc<dyn latch_app::ports::Store> = Arc::new(db.clone());
    let mailer = mailer(config, store, Arc::clone(&clock), &web.public_url)?;
    let latch = build_latch(config, db, clock, &web.public_url, metrics.clone())?;
    let public_url = web.public_url.clone();
    let app = latch_web::router(latch.clone(), web, metrics);
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(latch_web::serve(listener, app, async move {
        let _ = rx.await;
    }));
    // The first signing key takes a moment of a core to make: made now, in the background,
    // so the first application sign-in does not wait for it (nor does the start).
    let keys = latch.applications.clone();
    tokio::spawn(async move {
        if let Err(e) = keys.ensure_signing_key().await {
            tracing::warn!(error = %e, "the signing key is not made yet; the first token will make it");
        }
    });
    let sweeper = tokio::spawn(sweep_forever(latch.clone(), stopping.clone()));
    let sender = latch_messaging::HttpLogoutSender::new().map_err(anyhow::Error::msg)?;
    let issuer = public_url.trim_end_matches('/').to_owned();
    let logouts = tokio::spawn(send_logouts_forever(
        latch.clone(),
        sender,
        issuer,
        stopping.clone(),
    ));
    let mail = tokio::spawn(send_mail_forever(latch.clone(), mailer, stopping));
    Ok(Running {
        addr,
        latch,
        public_url,
        shutdown: Some(tx),
        task,
        upkeep: vec![sweeper, checkpointer, logouts, mail],
        stop_upkeep,
    })
}

/// SQLite's write-ahead log is copied back into the database four times a second, beside the
/// writer (see `Db::checkpoint`), so it stays short and no writer's turn waits for the disk.
async fn checkpoint_forever(db: Db, mut stopping: tokio::sync::watch::Receiver<bool>) {
    if db.dialect() != "sqlite" {
        return;
    }
    while pause_unless_stopping(Duration::from_millis(250), &mut stopping).await {
        if let Err(e) = db.checkpoint().await {
            tracing::warn!(error = %e, "copying SQLite's log into the database failed; trying again");
        }
    }
}

/// Every node sends the back-channel logouts that are due every two seconds or so: a signed-out
/// person's applications hear of it at once, and whichever node is up sends what another
/// claimed and could not.
async fn send_logouts_forever(
    latch: Latch,
    sender: latch_messaging::HttpLogoutSender,
    issuer: String,
    mut stopping: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        let pause = 1500 + u64::from(latch_app::crypto::random_bytes::<1>()[0]) * 4;
        if !pause_unless_stopping(Duration::from_millis(pause), &mut stopping).await {
            return;
        }
        match latch.logouts.send_due(&sender, &issuer).await {
            Ok(round) if round.sent + round.postponed + round.given_up > 0 => {
                tracing::info!(
                    sent = round.sent,
                    postponed = round.postponed,
                    given_up = round.given_up,
                    "back-channel logouts"
                );
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "sending back-channel logouts failed; trying again later")
            }
        }
    }
}

/// Every node sends the emails that are due: at once when one is queued on this node, and
/// every two seconds or so what another node queued, or postponed after the mail server did
/// not take it. A slow or failing mail server holds up only this loop, never a request.
async fn send_mail_forever(
    latch: Latch,
    mailer: Arc<dyn latch_app::mail::Mailer>,
    mut stopping: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        let pause = 1500 + u64::from(latch_app::crypto::random_bytes::<1>()[0]) * 4;
        tokio::select! {
            () = tokio::time::sleep(Duration::from_millis(pause)) => {}
            () = latch.mail.queued() => {}
            _ = stopping.wait_for(|stop| *stop) => return,
        }
        // A full round may leave more behind it: go on while rounds find work.
        loop {
            match latch.mail.send_due(&*mailer).await {
                Ok(round) if round.did_anything() => {
                    if round.postponed + round.given_up > 0 {
                        tracing::info!(
                            sent = round.sent,
                            postponed = round.postponed,
                            given_up = round.given_up,
                            "emails"
                        );
                    }
                    if *stopping.borrow() {
                        return;
                    }
                }
                Ok(_) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "sending emails failed; trying again later");
                    break;
                }
            }
        }
    }
}

/// Every node sweeps expired rows about once a minute, a few hundred at a time, so the
/// database never holds much that no longer counts and no sweep stalls requests. Nodes
/// starting together drift apart by a random pause.
async fn sweep_forever(latch: Latch, mut stopping: tokio::sync::watch::Receiver<bool>) {
    const BATCH: i64 = 500;
    loop {
        let pause = 45 + u64::from(latch_app::crypto::random_bytes::<1>()[0] % 30);
        if !pause_unless_stopping(Duration::from_secs(pause), &mut stopping).await {
            return;
        }
        match latch.sweep(BATCH).await {
            Ok(0) => {}
            Ok(swept) => tracing::info!(swept, "expired rows swept"),
            Err(e) => {
                tracing::warn!(error = %e, "sweeping expired rows failed; trying again later")
            }
        }
    }
}
