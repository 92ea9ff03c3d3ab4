//! The `latch` command: serve (the default), demo, migrate, and the operator's console.
#![forbid(unsafe_code)]

use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use latch::config::{Config, LogFormat, Settings};
use latch_app::clock::SystemClock;
use latch_app::setup::PracticeInput;
use latch_app::team::PersonInput;

mod applications;

#[derive(Parser)]
#[command(
    name = "latch",
    version,
    about = "Sign-in and two-factor authentication for therapy practices.",
    after_help = "Settings go before the command (latch --database-url URL user add ...), or in \
                  their LATCH_* environment variables."
)]
struct Cli {
    #[command(flatten)]
    settings: Settings,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve latch (the default): applies pending migrations, then listens.
    Serve,
    /// Serve a demo practice with an owner, a manager, a staff member and a client ready to sign in.
    Demo,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Practices in this installation.
    #[command(subcommand)]
    Practice(PracticeCommand),
    /// People in a practice.
    #[command(subcommand)]
    User(UserCommand),
    /// Applications that sign people in through latch (OpenID Connect clients).
    #[command(subcommand)]
    Client(applications::ClientCommand),
    /// The keys latch signs tokens with.
    #[command(subcommand)]
    Keys(applications::KeysCommand),
    /// Send one test text (or, with --voice, a call) through the configured delivery and say
    /// what worked or what to fix.
    CheckDelivery {
        /// The phone to reach, in E.164 (+14155550123).
        #[arg(long)]
        to: String,
        /// Place a voice call instead of a text.
        #[arg(long)]
        voice: bool,
    },
    /// Send one test email through the configured email delivery and say what worked or what
    /// the mail server answered.
    CheckEmail {
        /// The address to write to.
        #[arg(long)]
        to: String,
    },
}

#[derive(Subcommand)]
enum PracticeCommand {
    /// Create a practice and its owner; the owner's password is printed once.
    Create {
        /// The practice's name, as its pages, texts and calls show it.
        #[arg(long)]
        name: String,
        /// ISO 3166-1 alpha-2 code.
        #[arg(long, default_value = "US")]
        country: String,
        /// IANA time-zone name (America/Los_Angeles); the country's main zone if left out.
        #[arg(long)]
        time_zone: Option<String>,
        /// The owner's email; they sign in with it.
        #[arg(long)]
        owner_email: String,
        /// The owner's name.
        #[arg(long)]
        owner_name: String,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a person to the practice of an existing owner; their password is printed once.
    Add {
        /// The email of an owner of the practice to add to.
        #[arg(long)]
        owner: String,
        /// The new person's email; they sign in with it.
        #[arg(long)]
        email: String,
        /// Their name, as the practice's pages show it.
        #[arg(long)]
        name: String,
        /// owner, manager, staff or client.
        #[arg(long)]
        role: String,
    },
    /// Reset a person's two-factor (a lost phone): it is turned off, their sessions and
    /// remembered browsers end, and they set it up again. Audited.
    ResetTwoFactor {
        /// The email of the person whose two-factor to reset.
        #[arg(long)]
        email: String,
    },
    /// Unlock a person's two-factor step after too many wrong codes. Audited.
    Unlock {
        /// The email of the person to unlock.
        #[arg(long)]
        email: String,
    },
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let demo = matches!(cli.command, Some(Command::Demo));
    let default_database = if demo {
        "sqlite://data/demo.db"
    } else {
        "sqlite://data/latch.db"
    };
    init_logging(cli.settings.log_format);
    let config = match cli.settings.validate(default_database) {
        Ok(config) => config,
        Err(problems) => {
            eprintln!("latch cannot start:");
            for p in problems {
                eprintln!("  - {p}");
            }
            return std::process::ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("latch cannot start its runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(config, cli.command.unwrap_or(Command::Serve))) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("latch: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stdout);
    match format {
        LogFormat::Pretty => builder.compact().init(),
        LogFormat::Json => builder.json().flatten_event(true).init(),
    }
}

async fn run(config: Config, command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve => serve(config, false).await,
        Command::Demo => serve(config, true).await,
        Command::Migrate => {
            latch::open_database(&config).await?;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::Practice(PracticeCommand::Create {
            name,
            country,
            time_zone,
            owner_email,
            owner_name,
        }) => {
            let latch = console(&config).await?;
            let password = latch::demo::generated_password();
            let account = latch
                .setup
                .create_practice(PracticeInput {
                    practice_name: name,
                    country: Some(country),
                    time_zone,
                    owner_email,
                    owner_name,
                    owner_password: password.clone(),
                })
                .await
                .map_err(said)?;
            eprintln!(
                "Created {} with owner {} — password (shown once): {}",
                account.practice.name,
                account.person.email,
                password.expose()
            );
            Ok(())
        }
        Command::User(UserCommand::Add {
            owner,
            email,
            name,
            role,
        }) => {
            let latch = console(&config).await?;
            let owner = latch
                .team
                .console_account(&owner)
                .await
                .map_err(said)?
                .context("no owner has that email")?;
            let password = latch::demo::generated_password();
            let person = latch
                .team
                .add_person(
                    &owner,
                    PersonInput {
                        email,
                        name,
                        role,
                        password: password.clone(),
                    },
                    &latch::demo::console_client(),
                )
                .await
                .map_err(said)?;
            eprintln!(
                "Added {} ({}) — password (shown once): {}",
                person.email,
                person.role,
                password.expose()
            );
            Ok(())
        }
        Command::CheckDelivery { to, voice } => check_delivery(&config, &to, voice).await,
        Command::CheckEmail { to } => check_email(&config, &to).await,
        Command::Client(command) => applications::client(&console(&config).await?, command).await,
        Command::Keys(command) => applications::keys(&console(&config).await?, command).await,
        Command::User(UserCommand::ResetTwoFactor { email }) => {
            let latch = console(&config).await?;
            let person = latch
                .team
                .console_reset_two_factor(&email)
                .await
                .map_err(said)?;
            eprintln!(
                "Two-factor was reset for {}; they were signed out everywhere.",
                person.email
            );
            Ok(())
        }
        Command::User(UserCommand::Unlock { email }) => {
            let latch = console(&config).await?;
            let person = latch.team.console_unlock(&email).await.map_err(said)?;
            eprintln!("The two-factor step of {} was unlocked.", person.email);
            Ok(())
        }
    }
}

async fn check_delivery(config: &Config, to: &str, voice: bool) -> anyhow::Result<()> {
    use latch_app::delivery::{Delivery, Outgoing};
    use latch_domain::two_factor::Channel;
    let phone = latch_domain::phone::PhoneNumber::parse(to, None).map_err(|e| {
        let words = latch_web::words::reason(&latch_app::Reason::Phone(e));
        anyhow::anyhow!("--to: {words}")
    })?;
    let product = &config.settings.product_name;
    let (channel, body) = if voice {
        (
            Channel::Voice,
            format!("Hello. This is a test call from {product}. Calls reach this phone. Goodbye."),
        )
    } else {
        (
            Channel::Sms,
            format!("{product}: this is a test message. Texts reach this phone."),
        )
    };
    let message = Outgoing {
        to: phone.clone(),
        extension: None,
        channel,
        body,
        code: None,
        press_key_token: None,
    };
    let outcome = match config.settings.delivery {
        latch::config::Delivery::Twilio => {
            let delivery = latch::twilio_delivery(config, &latch::configured_public_url(config))?;
            if voice && !delivery.supports_voice() {
                anyhow::bail!("voice calls need LATCH_TWILIO_FROM, a voice-capable Twilio number");
            }
            delivery.deliver(&message).await
        }
        latch::config::Delivery::Outbox => {
            let db = latch::open_database(config).await?;
            let store: Arc<dyn latch_app::ports::Store> = Arc::new(db);
            latch_messaging::OutboxDelivery::new(store, Arc::new(SystemClock))
                .deliver(&message)
                .await
        }
    };
    match outcome {
        Ok(sent) => {
            eprintln!(
                "OK: the {} to {} was accepted{}.",
                if voice { "call" } else { "text" },
                phone.masked(),
                sent.provider_id
                    .map(|id| format!(" (provider id {id})"))
                    .unwrap_or_default()
            );
            Ok(())
        }
        Err(e) => anyhow::bail!(
            "the {} did not go out: {}",
            if voice { "call" } else { "text" },
            latch_web::words::delivery(e)
        ),
    }
}

async fn check_email(config: &Config, to: &str) -> anyhow::Result<()> {
    use latch_app::mail::Mailer;
    let to = latch_domain::Email::parse(to).map_err(|_| {
        anyhow::anyhow!(
            "--to: {}",
            latch_web::words::refusal(&latch_app::AppError::InvalidEmail)
        )
    })?;
    let letter = latch_domain::mail::Mail::Test.compose(latch_domain::mail::From {
        product: &config.settings.product_name,
        practice: None,
    });
    let outcome = match latch::smtp_mailer(config)? {
        Some(smtp) => smtp.send(&to, &letter).await,
        None => {
            let store: Arc<dyn latch_app::ports::Store> =
                Arc::new(latch::open_database(config).await?);
            let public_url = latch::configured_public_url(config);
            latch_messaging::EmailOutbox::new(store, Arc::new(SystemClock), &public_url)
                .send(&to, &letter)
                .await
        }
    };
    match outcome {
        Ok(()) => {
            eprintln!("OK: the test email to {to} was accepted.");
            Ok(())
        }
        Err(e) => anyhow::bail!("the test email did not go out: {e}"),
    }
}

async fn console(config: &Config) -> anyhow::Result<latch_app::Latch> {
    let db = latch::open_database(config).await?;
    latch::build_latch(
        config,
        db,
        Arc::new(SystemClock),
        &latch::configured_public_url(config),
        Arc::new(latch_app::metrics::NoMetrics),
    )
}

/// An answer of latch as the operator reads it: what a person reads of it, and beneath that,
/// for a failure of latch or of its database, the cause (the console has no log to look in).
fn said(e: latch_app::AppError) -> anyhow::Error {
    let words = latch_web::words::refusal(&e);
    if e.is_failure() {
        anyhow::Error::from(e).context(words)
    } else {
        anyhow::anyhow!(words)
    }
}

async fn serve(config: Config, demo: bool) -> anyhow::Result<()> {
    if demo && config.settings.database_url.is_none() {
        // The demo starts from a clean database each time, apart from a real one.
        if let Some(path) = latch::config::sqlite_path(&config.database_url) {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
        }
    }
    let db = latch::open_database(&config).await?;
    if demo {
        let latch = latch::build_latch(
            &config,
            db.clone(),
            Arc::new(SystemClock),
            &latch::configured_public_url(&config),
            Arc::new(latch_app::metrics::NoMetrics),
        )?;
        seed_demo(&latch).await?;
    }
    let running = latch::start(&config, db, Arc::new(SystemClock)).await?;
    if let Some(token) = running
        .latch
        .setup
        .pending_setup_token()
        .await
        .map_err(said)?
        && config.settings.production()
    {
        eprintln!(
            "\nlatch setup token (needed once, to create the first practice): {}\n",
            token.expose()
        );
    }
    if config.settings.delivery == latch::config::Delivery::Twilio
        && config.settings.twilio_from.is_none()
    {
        tracing::warn!("LATCH_TWILIO_FROM is not set: voice calls are not offered, only texts");
    }
    tracing::info!(url = %running.public_url, database = %redacted_url(&config.database_url), "latch is listening");
    eprintln!("latch is ready at {}", running.public_url);
    shutdown_signal().await;
    tracing::info!("shutting down: finishing requests in flight");
    running.stop().await;
    Ok(())
}

/// A database URL without its password, for the log.
fn redacted_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}://…@{}", &url[..scheme], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

/// Seeds the demo practice and prints who can sign in, each password once.
async fn seed_demo(latch: &latch_app::Latch) -> anyhow::Result<()> {
    let demo = latch::demo::seed(latch).await.map_err(said)?;
    eprintln!(
        "\nDemo practice: {} — sign in with any of these (passwords shown once):",
        demo.practice_name
    );
    for person in &demo.people {
        eprintln!(
            "  {:<8} {:<24} {}{}",
            person.role,
            person.email,
            person.password.expose(),
            if person.enrolled {
                "  (two-factor on: codes at /dev/outbox)"
            } else {
                ""
            }
        );
    }
    eprintln!();
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
