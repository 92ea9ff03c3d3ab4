//! `latch-bench`: starts the real latch binary on a fresh database, fills it in bulk, drives it
//! over loopback, and prints the figures of BENCHMARKS.md as a Markdown table.
#![forbid(unsafe_code)]

mod applications;
mod flows;
mod http;
mod load;
mod passkeys;
mod report;
mod seed;
mod server;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use clap::Parser;
use latch_app::Secret;
use latch_app::crypto::{Keys, hex, random_bytes};
use latch_app::passwords::{HashCost, Passwords};

use crate::report::{Base, CpuTimes, Figures, Report, STOLEN_COMPARABLE};
use crate::seed::Database;
use crate::server::LatchCommand;

/// Measures latch where it matters: sign-in storms, code verification, memory, start-up and a
/// large practice base. Run it after `cargo build --release --workspace`.
#[derive(Parser, Debug)]
#[command(name = "latch-bench", version)]
struct Args {
    /// The latch binary to measure [default: `latch` beside this program]
    #[arg(long)]
    latch: Option<PathBuf>,
    /// Also measure on PostgreSQL: a URL whose user may create databases. The bench creates a
    /// database of its own there and drops it afterwards.
    #[arg(long, env = "LATCH_BENCH_POSTGRES_URL")]
    postgres: Option<String>,
    /// A run of a few seconds on tiny data that only checks that every phase works.
    #[arg(long)]
    smoke: bool,
    /// Seconds each measured load runs.
    #[arg(long, default_value_t = 8)]
    seconds: u64,
    /// People in the storm, each with a phone number of their own.
    #[arg(long, default_value_t = 3000)]
    people: usize,
    /// People in the large base.
    #[arg(long, default_value_t = 1_000_000)]
    large_people: u64,
    /// Remembered browsers in the large base.
    #[arg(long, default_value_t = 5_000_000)]
    large_devices: u64,
    /// Skips the large base.
    #[arg(long)]
    no_large: bool,
    /// Measures PostgreSQL alone (with `--postgres`), skipping SQLite.
    #[arg(long, requires = "postgres")]
    no_sqlite: bool,
    /// Where the SQLite database and latch's log go [default: a new folder under the temp dir]
    #[arg(long)]
    work_dir: Option<PathBuf>,
}

/// The signed-in pages' rate while the storm runs, per the issue: 200 a second.
const PAGE_RATE: u32 = 200;

fn main() -> std::process::ExitCode {
    let mut args = Args::parse();
    if args.smoke {
        args.seconds = 1;
        args.people = args.people.min(200);
        args.large_people = args.large_people.min(2_000);
        args.large_devices = args.large_devices.min(10_000);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    match runtime.block_on(run(args)) {
        Ok(true) => std::process::ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("latch-bench: some requests failed (see the errors above)");
            std::process::ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("latch-bench: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}

async fn run(args: Args) -> anyhow::Result<bool> {
    let binary = match &args.latch {
        Some(path) => path.clone(),
        None => std::env::current_exe()?
            .parent()
            .context("this program's folder")?
            .join("latch"),
    };
    if !binary.exists() {
        bail!(
            "{} is missing: build it first (`cargo build --release --workspace`), or pass --latch",
            binary.display()
        );
    }
    let work_dir = match &args.work_dir {
        Some(dir) => dir.clone(),
        None => std::env::temp_dir().join(format!("latch-bench-{}", std::process::id())),
    };
    std::fs::create_dir_all(&work_dir).with_context(|| format!("create {}", work_dir.display()))?;

    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let (hash_time, password_hash) = hashing_bound().await?;
    let every_core = hashing_on_every_core(cores).await?;
    let signing_time = signing_alone().await?;
    let mut report = Report::new(
        &args_line(&args),
        cores,
        hash_time,
        every_core,
        signing_time,
    );
    eprintln!(
        "one argon2id hash: {:.1} ms; bound {:.1} sign-ins/s on {cores} cores",
        hash_time.as_secs_f64() * 1000.0,
        report.bound()
    );

    let sqlite = work_dir.join("bench.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", sqlite.display()));
    }
    let url = format!("sqlite://{}", sqlite.display());
    if !args.no_sqlite {
        report.push(measure(&args, &binary, "SQLite", &url, &work_dir, &password_hash).await?);
    }

    if let Some(admin_url) = &args.postgres {
        let name = format!("latch_bench_{}", std::process::id());
        let admin = sqlx::PgPool::connect(admin_url)
            .await
            .context("connect to PostgreSQL")?;
        sqlx::query(sqlx::AssertSqlSafe(format!("create database {name}")))
            .execute(&admin)
            .await
            .context("create the bench's database (the user needs CREATEDB)")?;
        let url = database_url(admin_url, &name);
        let figures = measure(
            &args,
            &binary,
            "PostgreSQL",
            &url,
            &work_dir,
            &password_hash,
        )
        .await;
        let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
            "drop database if exists {name} with (force)"
        )))
        .execute(&admin)
        .await;
        report.push(figures?);
    }

    #[expect(clippy::print_stdout, reason = "the report is the command's output")]
    {
        println!("{}", report.markdown());
    }
    if args.work_dir.is_none() {
        let _ = std::fs::remove_dir_all(&work_dir);
    }
    Ok(report.clean())
}

fn args_line(args: &Args) -> String {
    let mut line = String::from("latch-bench");
    if args.smoke {
        line.push_str(" --smoke");
    }
    if args.postgres.is_some() {
        line.push_str(" --postgres URL");
    }
    if args.no_large {
        line.push_str(" --no-large");
    }
    if args.no_sqlite {
        line.push_str(" --no-sqlite");
    }
    line
}

/// `postgres://u:p@host:5432/db?x` with its database swapped for `name`.
fn database_url(url: &str, name: &str) -> String {
    let (without_query, query) = match url.split_once('?') {
        Some((u, q)) => (u, format!("?{q}")),
        None => (url, String::new()),
    };
    let base = match without_query.rsplit_once('/') {
        Some((base, _)) if base.contains("//") && base.len() > base.find("//").unwrap_or(0) + 2 => {
            base
        }
        _ => without_query,
    };
    format!("{base}/{name}{query}")
}

/// One argon2id hash at latch's parameters, timed alone (the median of fifteen), and a hash of
/// the bench's password for the people it seeds.
async fn hashing_bound() -> anyhow::Result<(Duration, String)> {
    let passwords = Passwords::new(HashCost::DEFAULT, 1).map_err(|e| anyhow::anyhow!("{e}"))?;
    let password = Secret::new(seed::PASSWORD.to_owned());
    let hash = passwords
        .hash(&password)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut times = Vec::new();
    for _ in 0..15 {
        let started = Instant::now();
        passwords
            .hash(&password)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        times.push(started.elapsed());
    }
    times.sort_unstable();
    Ok((times[times.len() / 2], hash))
}

/// One RS256 signature of an ID token's claims with a 2048-bit key, timed alone (the median
/// of two hundred): the floor of an application sign-in, as one hash is of a sign-in.
async fn signing_alone() -> anyhow::Result<Duration> {
    use latch_app::signing::{SigningKey, generate};
    let keys = Keys::derive(&random_bytes::<32>());
    let record = tokio::task::spawn_blocking({
        let keys = keys.clone();
        move || generate(&keys, latch_domain::Timestamp(0))
    })
    .await?;
    let key = SigningKey::open(&keys, &record).context("the key just made opens")?;
    let claims = serde_json::json!({
        "iss": "https://latch.example.com", "sub": "0123456789abcdef0123456789abcdef",
        "aud": "0123456789abcdef0123456789abcdef", "azp": "0123456789abcdef0123456789abcdef",
        "iat": 1_800_000_000, "exp": 1_800_003_600, "auth_time": 1_800_000_000,
        "sid": "0123456789abcdef", "amr": ["pwd", "mfa", "sms"], "acr": "mfa", "nonce": "n",
        "name": "Sam Lee", "role": "staff", "email": "sam@example.com", "email_verified": false,
        "practice": {"id": "0123456789abcdef0123456789abcdef", "name": "Harbor Counseling"},
    })
    .to_string();
    let mut times = Vec::with_capacity(200);
    for _ in 0..200 {
        let started = Instant::now();
        std::hint::black_box(key.sign_jwt(claims.as_bytes()));
        times.push(started.elapsed());
    }
    times.sort_unstable();
    Ok(times[times.len() / 2])
}

/// Hashes a second with every core hashing and nothing else running: what the cores really
/// give when they share their caches and memory, beside the bound's ideal.
async fn hashing_on_every_core(cores: usize) -> anyhow::Result<f64> {
    let passwords = Passwords::new(HashCost::DEFAULT, cores).map_err(|e| anyhow::anyhow!("{e}"))?;
    let password = Secret::new(seed::PASSWORD.to_owned());
    let count = cores * 12;
    let started = Instant::now();
    let jobs: Vec<_> = (0..count)
        .map(|_| {
            let passwords = passwords.clone();
            let password = password.clone();
            tokio::spawn(async move { passwords.hash(&password).await })
        })
        .collect();
    for job in jobs {
        job.await?.map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    Ok(count as f64 / started.elapsed().as_secs_f64())
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Everything for one database: the small base, then the large one.
async fn measure(
    args: &Args,
    binary: &Path,
    dialect: &str,
    url: &str,
    work_dir: &Path,
    password_hash: &str,
) -> anyhow::Result<Figures> {
    eprintln!("== {dialect}");
    let cpu_before = CpuTimes::now();
    let key = random_bytes::<32>();
    let keys = Arc::new(Keys::derive(&key));
    let latch = LatchCommand::new(
        binary,
        url,
        &hex(&key),
        work_dir.join(format!("latch-{}.log", dialect.to_lowercase())),
    );
    latch.migrate()?;
    let (id, secret) = latch.add_application(applications::REDIRECT_URI)?;
    let application = applications::BenchApplication { id, secret };

    // The practice is made the way a person makes it; everyone else is filled in bulk.
    let practice_id = {
        let (server, _) = latch.start().await?;
        flows::set_up_practice(&server.http).await?
    };
    let db = Database::connect(url).await?;
    let now = unix_now();
    let people = db
        .storm_people(&practice_id, args.people, password_hash, now)
        .await?;
    db.lift_send_budget(&practice_id).await?;
    let sessions = db.signed_in_sessions(&people, 50, now).await?;
    let devices = db.remembered_devices(&keys, &people, now).await?;
    db.settle().await?;
    let crowd = flows::Crowd::new(people);

    let mut figures = Figures::new(dialect);
    let seconds = Duration::from_secs(args.seconds);
    let levels: &[usize] = if args.smoke { &[2] } else { &[2, 4, 8, 16] };
    let small = measure_base(
        &latch,
        &db,
        &keys,
        &crowd,
        &sessions,
        &devices,
        seconds,
        levels,
        Some(&application),
    )
    .await?;
    let concurrency = small.storm_concurrency;
    figures.small = Some(small);

    if !args.no_large {
        eprintln!(
            "filling the large base: {} people, {} remembered browsers",
            args.large_people, args.large_devices
        );
        let started = Instant::now();
        db.large_base(
            args.large_people,
            args.large_devices,
            password_hash,
            unix_now(),
        )
        .await?;
        figures.large_fill = Some(started.elapsed());
        eprintln!("filled in {:.0} s", started.elapsed().as_secs_f64());
        let large = measure_base(
            &latch,
            &db,
            &keys,
            &crowd,
            &sessions,
            &devices,
            seconds,
            &[concurrency],
            None,
        )
        .await?;
        figures.large = Some(large);
    }
    db.close().await;
    figures.stolen = CpuTimes::now()
        .zip(cpu_before)
        .and_then(|(after, before)| after.stolen_since(before));
    if let Some(stolen) = figures.stolen.filter(|s| *s > STOLEN_COMPARABLE) {
        eprintln!(
            "the host took {:.1} % of the cores' time during {dialect}'s figures: they are not comparable with another run's",
            stolen * 100.0
        );
    }
    Ok(figures)
}

/// Phases 2 to 7 on the database as it is now; on the small base (given its application) the
/// floor and the application sign-ins too.
#[allow(clippy::too_many_arguments)]
async fn measure_base(
    latch: &LatchCommand,
    db: &Database,
    keys: &Keys,
    crowd: &flows::Crowd,
    sessions: &[String],
    devices: &[String],
    seconds: Duration,
    levels: &[usize],
    application: Option<&applications::BenchApplication>,
) -> anyhow::Result<Base> {
    let with_floor = application.is_some();
    let mut base = Base::default();
    // Start to ready: the median of five starts; the last server stays up.
    let mut starts = Vec::new();
    let mut server = None;
    for _ in 0..5 {
        drop(server.take());
        let (running, took) = latch.start().await?;
        starts.push(took);
        server = Some(running);
    }
    let server = server.expect("five starts");
    starts.sort_unstable();
    base.start_to_ready = starts[starts.len() / 2];
    tokio::time::sleep(Duration::from_millis(500)).await;
    base.idle_memory = server.memory()?.resident;

    let http = server.http.clone();
    if with_floor {
        eprintln!("/healthz floor");
        base.healthz = Some(flows::healthz(&http, seconds).await);
    }
    // The first requests open connections on both sides: warm up before measuring.
    let _ = flows::pages(&http, sessions, PAGE_RATE, Duration::from_millis(500)).await;
    eprintln!("GET /api/v1/me at {PAGE_RATE}/s alone");
    base.pages_alone = Some(flows::pages(&http, sessions, PAGE_RATE, seconds).await);

    for &level in levels {
        eprintln!("sign-in storm, {level} at once");
        let short = if levels.len() > 1 {
            seconds / 2
        } else {
            seconds
        };
        let outcome = flows::storm(&http, crowd, level, short).await;
        base.storm_levels.push((level, outcome));
    }
    base.storm_concurrency = base
        .storm_levels
        .iter()
        .max_by(|a, b| a.1.per_second().total_cmp(&b.1.per_second()))
        .map_or(2, |(level, _)| *level);
    eprintln!("sign-in storm at {}", base.storm_concurrency);
    base.storm = Some(flows::storm(&http, crowd, base.storm_concurrency, seconds).await);
    eprintln!(
        "sign-in storm at {} with GET /api/v1/me at {PAGE_RATE}/s",
        base.storm_concurrency
    );
    let (storm, pages) = tokio::join!(
        flows::storm(&http, crowd, base.storm_concurrency, seconds),
        flows::pages(&http, sessions, PAGE_RATE, seconds)
    );
    base.storm_beside_pages = Some(storm);
    base.pages_in_storm = Some(pages);
    base.peak_memory = server.memory()?.peak;

    // Enough pending sign-ins that the verification load rarely runs out of them.
    let pending_count = if seconds.as_secs() <= 1 {
        400
    } else {
        usize::try_from(2_500 * seconds.as_secs()).unwrap_or(20_000)
    };
    eprintln!("seeding {pending_count} pending sign-ins");
    let pending = db
        .pending_sign_ins(keys, &crowd.people, pending_count, unix_now())
        .await?;
    db.settle().await?;
    eprintln!("code verification");
    base.verify = Some(flows::verify(&http, pending, 16, seconds).await);
    eprintln!("remembered-device sign-in");
    base.remembered = Some(
        flows::remembered(
            &http,
            &crowd.people,
            devices,
            base.storm_concurrency,
            seconds,
        )
        .await,
    );
    if with_floor {
        eprintln!("seeding an authenticator app for everyone, and sign-ins waiting for its code");
        let pending = db.app_sign_ins(keys, &crowd.people, unix_now()).await?;
        // No settling here: the codes are of this step and the next, so they must be used
        // within the 30 seconds after they were made.
        eprintln!("authenticator-app code verification");
        base.app_verify = Some(flows::verify(&http, pending, 16, seconds).await);
        eprintln!("registering {PASSKEY_PEOPLE} passkeys");
        let sessions = db
            .reauthenticated_sessions(&crowd.people, PASSKEY_PEOPLE, unix_now())
            .await?;
        let keys = passkeys::register(&http, &sessions).await?;
        eprintln!("passkey sign-in alone");
        base.passkey_alone = Some(passkeys::sign_ins(&http, keys, APP_CONCURRENCY, seconds).await);
    }
    if let Some(app) = application {
        eprintln!("application sign-in for people signed in to latch");
        base.app_sign_in =
            Some(applications::sign_ins(&http, app, sessions, APP_CONCURRENCY, seconds).await);
        let mut refresh_tokens = Vec::new();
        for session in sessions.iter().take(APP_CONCURRENCY * 4) {
            let scope = "openid profile email offline_access";
            let token = applications::sign_in(&http, app, session, scope).await?;
            refresh_tokens.push(token.context("offline_access gives a refresh token")?);
        }
        eprintln!("refresh alone");
        base.refresh = Some(
            applications::refreshes(&http, app, refresh_tokens, APP_CONCURRENCY, seconds).await,
        );
    }
    drop(server);
    Ok(base)
}

/// People who register a passkey for the passkey phase; each signs in with it many times.
const PASSKEY_PEOPLE: usize = 64;

/// Requests at once in the application phases: enough to keep both cores busy.
const APP_CONCURRENCY: usize = 16;
