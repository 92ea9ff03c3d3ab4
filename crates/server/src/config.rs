//! Configuration: command-line flags with `LATCH_*` environment variables behind them, parsed
//! once and validated as a whole so every problem is listed at once.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use clap::{Args, ValueEnum};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Environment {
    Development,
    Production,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Delivery {
    /// Keep texts and calls in the database and show them at /dev/outbox (development only).
    Outbox,
    /// Send texts and calls through Twilio.
    Twilio,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EmailDelivery {
    /// Keep emails in the database and show them at /dev/outbox (development only).
    Outbox,
    /// Send emails through the mail server of LATCH_SMTP_URL.
    Smtp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// A setting that is a secret (the server key, the Twilio token): read like any string, never
/// printed, not even by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Hidden(String);

impl Hidden {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl FromStr for Hidden {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Hidden(s.to_owned()))
    }
}

impl fmt::Debug for Hidden {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Hidden(********)")
    }
}

/// Every setting of latch. Each flag reads the environment variable named beside it. They are
/// latch's own options, given before a command (`latch --database-url … user add …`), so a
/// command's help lists only what is its own.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Settings (each also read from its LATCH_* variable)")]
pub struct Settings {
    /// Address to listen on.
    #[arg(long, env = "LATCH_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,

    /// `sqlite://path` or `postgres://...` [default: sqlite://data/latch.db; the demo uses sqlite://data/demo.db]
    #[arg(long, env = "LATCH_DATABASE_URL")]
    pub database_url: Option<String>,

    /// Seconds to wait for a database connection before answering 503.
    #[arg(long, env = "LATCH_DATABASE_ACQUIRE_TIMEOUT", default_value_t = 2)]
    pub database_acquire_timeout: u64,

    /// Seconds a single database statement may run (PostgreSQL) before it is cancelled.
    #[arg(long, env = "LATCH_DATABASE_STATEMENT_TIMEOUT", default_value_t = 5)]
    pub database_statement_timeout: u64,

    /// Connections in the database pool.
    #[arg(long, env = "LATCH_DATABASE_POOL_SIZE", default_value_t = 10)]
    pub database_pool_size: u32,

    /// The origin people use, e.g. https://latch.example.com (decides Secure cookies and the allowed Origin) [default: http:// + bind]
    #[arg(long, env = "LATCH_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// `development` or `production`.
    #[arg(
        long = "env",
        env = "LATCH_ENV",
        value_enum,
        default_value = "development"
    )]
    pub environment: Environment,

    /// At least 32 random bytes as 64+ hex digits, the same on every node. Development with SQLite generates one beside the database.
    #[arg(long, env = "LATCH_SECRET_KEY", hide_env_values = true)]
    pub secret_key: Option<Hidden>,

    /// The name texts and calls use.
    #[arg(long, env = "LATCH_PRODUCT_NAME", default_value = "latch")]
    pub product_name: String,

    /// How codes are delivered.
    #[arg(long, env = "LATCH_DELIVERY", value_enum, default_value = "outbox")]
    pub delivery: Delivery,

    /// Twilio account SID (AC...), with LATCH_DELIVERY=twilio.
    #[arg(long, env = "LATCH_TWILIO_ACCOUNT_SID")]
    pub twilio_account_sid: Option<String>,

    /// Twilio auth token (32 hex digits).
    #[arg(long, env = "LATCH_TWILIO_AUTH_TOKEN", hide_env_values = true)]
    pub twilio_auth_token: Option<Hidden>,

    /// A voice-capable Twilio number (E.164) that calls, and texts without a service, come from.
    #[arg(long, env = "LATCH_TWILIO_FROM")]
    pub twilio_from: Option<String>,

    /// A Twilio Messaging Service (MG...) that texts go through when given.
    #[arg(long, env = "LATCH_TWILIO_MESSAGING_SERVICE_SID")]
    pub twilio_messaging_service_sid: Option<String>,

    /// Twilio's API origin (tests point it at a local fake).
    #[arg(
        long,
        env = "LATCH_TWILIO_API_BASE",
        default_value = "https://api.twilio.com"
    )]
    pub twilio_api_base: String,

    /// How emails are delivered.
    #[arg(
        long,
        env = "LATCH_EMAIL_DELIVERY",
        value_enum,
        default_value = "outbox"
    )]
    pub email_delivery: EmailDelivery,

    /// The mail server, with LATCH_EMAIL_DELIVERY=smtp: smtp://user:password@host:587 (STARTTLS required), smtps://host:465 (implicit TLS), or smtp://127.0.0.1:25?tls=none to a loopback relay.
    #[arg(long, env = "LATCH_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<Hidden>,

    /// A PEM file of the private certificate authority a mail server's certificate chains to, trusted beside the system's roots.
    #[arg(long, env = "LATCH_SMTP_CA_FILE")]
    pub smtp_ca_file: Option<PathBuf>,

    /// The sender of latch's emails: no-reply@example.com or "Harbor Practice <no-reply@example.com>".
    #[arg(long, env = "LATCH_EMAIL_FROM")]
    pub email_from: Option<String>,

    /// Proxies whose X-Forwarded-For is believed: addresses or ranges, comma-separated (10.0.0.0/8, ::1).
    #[arg(long, env = "LATCH_TRUSTED_PROXIES", default_value = "")]
    pub trusted_proxies: String,

    /// Client addresses or ranges that may read /metrics (after trusted proxies).
    #[arg(long, env = "LATCH_METRICS_ALLOW", default_value = "127.0.0.0/8, ::1")]
    pub metrics_allow: String,

    /// Per-node, per-address requests a second (burst twice that).
    #[arg(long, env = "LATCH_FLOOD_LIMIT", default_value_t = 50)]
    pub flood_limit: u32,

    /// Passwords hashed at once [default: the number of cores].
    #[arg(long, env = "LATCH_HASH_CONCURRENCY")]
    pub hash_concurrency: Option<usize>,

    /// `pretty` or `json`.
    #[arg(long, env = "LATCH_LOG_FORMAT", value_enum, default_value = "pretty")]
    pub log_format: LogFormat,

    /// Let development listen on a non-loopback address.
    #[arg(long)]
    pub allow_remote_dev: bool,
}

/// Where the secret key comes from, once validated.
#[derive(Clone, PartialEq, Eq)]
pub enum KeySource {
    Given(Vec<u8>),
    /// Development with SQLite: generated once and kept in this file.
    File(PathBuf),
}

impl fmt::Debug for KeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeySource::Given(_) => f.write_str("Given(********)"),
            KeySource::File(path) => f.debug_tuple("File").field(path).finish(),
        }
    }
}

/// Settings that passed validation, with defaults resolved.
#[derive(Debug, Clone)]
pub struct Config {
    pub settings: Settings,
    pub database_url: String,
    pub public_url: Option<String>,
    pub key: KeySource,
    /// The mail server, with LATCH_EMAIL_DELIVERY=smtp.
    pub smtp: Option<latch_messaging::SmtpTarget>,
    /// The private authority the mail server's certificate chains to (`LATCH_SMTP_CA_FILE`).
    pub smtp_authority: Option<Vec<u8>>,
}

impl Settings {
    pub fn production(&self) -> bool {
        self.environment == Environment::Production
    }

    /// Checks everything at once; the error lists every problem.
    pub fn validate(self, default_database: &str) -> Result<Config, Vec<String>> {
        let mut problems = Vec::new();
        let database_url = self
            .database_url
            .clone()
            .unwrap_or_else(|| default_database.to_owned());
        let is_sqlite = database_url.starts_with("sqlite:");
        if !is_sqlite
            && !database_url.starts_with("postgres://")
            && !database_url.starts_with("postgresql://")
        {
            problems
                .push("LATCH_DATABASE_URL must start with sqlite:// or postgres://.".to_owned());
        }
        let public_url = self
            .public_url
            .as_deref()
            .map(|u| u.trim_end_matches('/').to_owned());
        if let Some(url) = &public_url
            && let Err(problem) = check_origin(url)
        {
            problems.push(problem);
        }
        let key = match self.secret_key.as_ref().map(Hidden::expose) {
            Some(hex) => match latch_app::crypto::unhex(hex.trim()) {
                Some(bytes) if bytes.len() >= 32 => Some(KeySource::Given(bytes)),
                _ => {
                    problems.push("LATCH_SECRET_KEY must be at least 64 hex digits (32 random bytes); `openssl rand -hex 32` makes one.".to_owned());
                    None
                }
            },
            None if self.production() => {
                problems.push("LATCH_SECRET_KEY is required in production (64+ hex digits, the same on every node).".to_owned());
                None
            }
            None if !is_sqlite => {
                problems.push("LATCH_SECRET_KEY is required with PostgreSQL, so every node shares it (64+ hex digits).".to_owned());
                None
            }
            None => Some(KeySource::File(key_file_beside(&database_url))),
        };
        if self.production() {
            if !public_url
                .as_deref()
                .is_some_and(|u| u.starts_with("https://"))
            {
                problems.push("LATCH_PUBLIC_URL must be an https:// URL in production.".to_owned());
            }
            if self.delivery == Delivery::Outbox {
                problems.push(
                    "LATCH_DELIVERY=outbox is for development; production needs a real provider."
                        .to_owned(),
                );
            }
            if self.email_delivery == EmailDelivery::Outbox {
                problems.push(
                    "LATCH_EMAIL_DELIVERY=outbox is for development; production needs LATCH_EMAIL_DELIVERY=smtp."
                        .to_owned(),
                );
            }
        }
        let smtp = match self.email_delivery {
            EmailDelivery::Outbox => None,
            EmailDelivery::Smtp => self.smtp_problems(&mut problems),
        };
        let smtp_authority = match &self.smtp_ca_file {
            None => None,
            Some(path) => match std::fs::read(path) {
                Ok(pem) => match latch_messaging::read_authority(&pem) {
                    Ok(()) => Some(pem),
                    Err(problem) => {
                        problems.push(problem);
                        None
                    }
                },
                Err(e) => {
                    problems.push(format!(
                        "LATCH_SMTP_CA_FILE: cannot read {}: {e}.",
                        path.display()
                    ));
                    None
                }
            },
        };
        if self.delivery == Delivery::Twilio {
            problems.extend(self.twilio_problems());
        }
        if !self.production() && !self.bind.ip().is_loopback() && !self.allow_remote_dev {
            problems.push(format!(
                "development listens only on loopback addresses; {} needs --allow-remote-dev (or LATCH_ENV=production).",
                self.bind
            ));
        }
        if let Err(problem) = latch_web::TrustedProxies::parse(&self.trusted_proxies) {
            problems.push(format!("LATCH_TRUSTED_PROXIES: {problem}."));
        }
        if let Err(problem) = latch_web::TrustedProxies::parse(&self.metrics_allow) {
            problems.push(format!("LATCH_METRICS_ALLOW: {problem}."));
        }
        if self.flood_limit == 0 {
            problems.push("LATCH_FLOOD_LIMIT must be at least 1.".to_owned());
        }
        if self.database_pool_size == 0 {
            problems.push("LATCH_DATABASE_POOL_SIZE must be at least 1.".to_owned());
        }
        match (problems.is_empty(), key) {
            (true, Some(key)) => Ok(Config {
                settings: self,
                database_url,
                public_url,
                key,
                smtp,
                smtp_authority,
            }),
            _ => Err(problems),
        }
    }
}

fn is_sid(value: &str, prefix: &str) -> bool {
    value.len() == 34
        && value.starts_with(prefix)
        && value[2..].bytes().all(|b| b.is_ascii_hexdigit())
}

impl Settings {
    /// The mail server's settings, read, or what is wrong with them; no server is called.
    fn smtp_problems(&self, problems: &mut Vec<String>) -> Option<latch_messaging::SmtpTarget> {
        match self.email_from.as_deref() {
            None => problems.push(
                "LATCH_EMAIL_FROM is required with LATCH_EMAIL_DELIVERY=smtp (the sender's address).".to_owned(),
            ),
            Some(from) => {
                if let Err(problem) = latch_messaging::parse_from(from) {
                    problems.push(problem);
                }
            }
        }
        match self.smtp_url.as_ref().map(Hidden::expose) {
            None => {
                problems.push(
                    "LATCH_SMTP_URL is required with LATCH_EMAIL_DELIVERY=smtp (smtp://user:password@host:587).".to_owned(),
                );
                None
            }
            Some(url) => latch_messaging::SmtpTarget::parse(url)
                .map_err(|problem| problems.push(problem))
                .ok(),
        }
    }

    /// What is missing or malformed in the Twilio settings; no provider is called.
    fn twilio_problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        match self.twilio_account_sid.as_deref() {
            None => problems.push(
                "LATCH_TWILIO_ACCOUNT_SID is required with LATCH_DELIVERY=twilio.".to_owned(),
            ),
            Some(sid) if !is_sid(sid, "AC") => problems
                .push("LATCH_TWILIO_ACCOUNT_SID must be AC followed by 32 hex digits.".to_owned()),
            Some(_) => {}
        }
        match self.twilio_auth_token.as_ref().map(Hidden::expose) {
            None => problems
                .push("LATCH_TWILIO_AUTH_TOKEN is required with LATCH_DELIVERY=twilio.".to_owned()),
            Some(token) if token.len() != 32 || !token.bytes().all(|b| b.is_ascii_hexdigit()) => {
                problems.push("LATCH_TWILIO_AUTH_TOKEN must be 32 hex digits.".to_owned())
            }
            Some(_) => {}
        }
        if let Some(from) = self.twilio_from.as_deref()
            && latch_domain::phone::PhoneNumber::parse(from, None).is_err()
        {
            problems.push(
                "LATCH_TWILIO_FROM must be a phone number in E.164, like +14155550100.".to_owned(),
            );
        }
        if let Some(service) = self.twilio_messaging_service_sid.as_deref()
            && !is_sid(service, "MG")
        {
            problems.push(
                "LATCH_TWILIO_MESSAGING_SERVICE_SID must be MG followed by 32 hex digits."
                    .to_owned(),
            );
        }
        if self.twilio_from.is_none() && self.twilio_messaging_service_sid.is_none() {
            problems.push(
                "Texts need a sender: set LATCH_TWILIO_FROM (a voice-capable number) or LATCH_TWILIO_MESSAGING_SERVICE_SID."
                    .to_owned(),
            );
        }
        if !(self.twilio_api_base.starts_with("https://")
            || self.twilio_api_base.starts_with("http://"))
        {
            problems.push("LATCH_TWILIO_API_BASE must be an http(s) origin.".to_owned());
        }
        problems
    }
}

/// An origin: scheme, host and optional port, no path.
fn check_origin(url: &str) -> Result<(), String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| {
            format!("LATCH_PUBLIC_URL must start with https:// or http:// (got {url}).")
        })?;
    if rest.is_empty() || rest.contains('/') || rest.contains('?') || rest.contains('#') {
        return Err(format!(
            "LATCH_PUBLIC_URL must be an origin like https://latch.example.com, without a path (got {url})."
        ));
    }
    Ok(())
}

/// `sqlite://data/latch.db` keeps its generated key in `data/latch.key`.
fn key_file_beside(database_url: &str) -> PathBuf {
    let path = database_url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:")
        .split('?')
        .next()
        .unwrap_or("latch.db");
    Path::new(path).with_extension("key")
}

/// The SQLite file of a URL, so its folder can be created.
pub fn sqlite_path(database_url: &str) -> Option<PathBuf> {
    database_url
        .strip_prefix("sqlite://")
        .or_else(|| database_url.strip_prefix("sqlite:"))
        .map(|p| PathBuf::from(p.split('?').next().unwrap_or(p)))
        .filter(|p| !p.as_os_str().is_empty() && p.to_str() != Some(":memory:"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        settings: Settings,
    }

    fn settings(args: &[&str]) -> Settings {
        let mut all = vec!["latch"];
        all.extend_from_slice(args);
        Cli::try_parse_from(all).unwrap().settings
    }

    #[test]
    fn development_on_sqlite_needs_nothing() {
        let config = settings(&[]).validate("sqlite://data/latch.db").unwrap();
        assert_eq!(config.key, KeySource::File(PathBuf::from("data/latch.key")));
    }

    #[test]
    fn production_lists_every_problem_at_once() {
        let problems = settings(&[
            "--env",
            "production",
            "--public-url",
            "http://latch.example.com",
        ])
        .validate("sqlite://data/latch.db")
        .unwrap_err();
        assert_eq!(problems.len(), 4, "{problems:#?}");
        assert!(problems.iter().any(|p| p.contains("LATCH_SECRET_KEY")));
        assert!(problems.iter().any(|p| p.contains("https://")));
        assert!(problems.iter().any(|p| p.contains("LATCH_DELIVERY=outbox")));
        assert!(
            problems
                .iter()
                .any(|p| p.contains("LATCH_EMAIL_DELIVERY=outbox"))
        );
    }

    #[test]
    fn smtp_settings_are_checked_and_every_problem_listed() {
        let problems = settings(&["--email-delivery", "smtp"])
            .validate("sqlite://x.db")
            .unwrap_err();
        assert_eq!(problems.len(), 2, "{problems:#?}");
        assert!(problems.iter().any(|p| p.contains("LATCH_SMTP_URL")));
        assert!(problems.iter().any(|p| p.contains("LATCH_EMAIL_FROM")));
        let problems = settings(&[
            "--email-delivery",
            "smtp",
            "--smtp-url",
            "smtp://mail.example.com:25?tls=none",
            "--email-from",
            "nobody",
        ])
        .validate("sqlite://x.db")
        .unwrap_err();
        assert_eq!(problems.len(), 2, "{problems:#?}");
        assert!(problems.iter().any(|p| p.contains("loopback")));
        let config = settings(&[
            "--email-delivery",
            "smtp",
            "--smtp-url",
            "smtp://ana:secret-of-ana@mail.example.com:587",
            "--email-from",
            "Harbor <no-reply@example.com>",
        ])
        .validate("sqlite://x.db")
        .unwrap();
        let printed = format!("{config:?}");
        assert!(config.smtp.is_some());
        assert!(!printed.contains("secret-of-ana"), "{printed}");
    }

    #[test]
    fn postgres_needs_a_shared_key() {
        let problems = settings(&["--database-url", "postgres://x@localhost/latch"])
            .validate("sqlite://data/latch.db")
            .unwrap_err();
        assert!(problems[0].contains("LATCH_SECRET_KEY"));
    }

    #[test]
    fn a_short_key_is_refused() {
        let problems = settings(&["--secret-key", "abcd"])
            .validate("sqlite://x.db")
            .unwrap_err();
        assert!(problems[0].contains("64 hex digits"));
    }

    #[test]
    fn development_refuses_a_public_bind_without_the_flag() {
        assert!(
            settings(&["--bind", "0.0.0.0:8080"])
                .validate("sqlite://x.db")
                .is_err()
        );
        assert!(
            settings(&["--bind", "0.0.0.0:8080", "--allow-remote-dev"])
                .validate("sqlite://x.db")
                .is_ok()
        );
    }

    const SID: &str = "AC0123456789abcdef0123456789abcdef";
    const TOKEN: &str = "0123456789abcdef0123456789abcdef";
    const KEY: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

    #[test]
    fn production_with_twilio_a_key_and_https_starts() {
        let config = settings(&[
            "--env",
            "production",
            "--public-url",
            "https://latch.example.com",
            "--secret-key",
            KEY,
            "--delivery",
            "twilio",
            "--twilio-account-sid",
            SID,
            "--twilio-auth-token",
            TOKEN,
            "--twilio-from",
            "+14155550100",
            "--email-delivery",
            "smtp",
            "--smtp-url",
            "smtps://mail.example.com",
            "--email-from",
            "no-reply@example.com",
        ])
        .validate("sqlite://x.db");
        assert!(config.is_ok(), "{config:?}");
    }

    #[test]
    fn a_config_never_prints_the_key_or_the_twilio_token() {
        let config = settings(&[
            "--secret-key",
            KEY,
            "--delivery",
            "twilio",
            "--twilio-account-sid",
            SID,
            "--twilio-auth-token",
            TOKEN,
            "--twilio-from",
            "+14155550100",
        ])
        .validate("sqlite://x.db")
        .unwrap();
        let printed = format!("{config:?} {:?}", config.settings);
        // Quoted, as Debug writes a string: the SID happens to contain the token's digits.
        assert!(!printed.contains(KEY), "{printed}");
        assert!(!printed.contains(&format!("\"{TOKEN}\"")), "{printed}");
        assert!(!printed.contains("[0, 17, 34"), "nor the key's bytes");
    }

    #[test]
    fn twilio_settings_are_checked_and_every_problem_listed() {
        let problems = settings(&["--delivery", "twilio"])
            .validate("sqlite://x.db")
            .unwrap_err();
        assert_eq!(problems.len(), 3, "{problems:#?}");
        let problems = settings(&[
            "--delivery",
            "twilio",
            "--twilio-account-sid",
            "AC12",
            "--twilio-auth-token",
            "short",
            "--twilio-from",
            "12345",
            "--twilio-messaging-service-sid",
            "MGxyz",
        ])
        .validate("sqlite://x.db")
        .unwrap_err();
        assert_eq!(problems.len(), 4, "{problems:#?}");
    }

    #[test]
    fn a_public_url_with_a_path_is_refused() {
        assert!(
            settings(&["--public-url", "https://x.example/latch"])
                .validate("sqlite://x.db")
                .is_err()
        );
        assert!(
            settings(&["--public-url", "https://x.example/"])
                .validate("sqlite://x.db")
                .is_ok()
        );
    }
}
