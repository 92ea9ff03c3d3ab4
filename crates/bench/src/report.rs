//! The figures of one run and the Markdown table they make, with each goal of BENCHMARKS.md
//! marked met or missed by how much.

use std::fmt::Write as _;
use std::time::Duration;

use crate::load::Outcome;

/// One database's figures on the small base and, unless skipped, the large one.
pub struct Figures {
    pub dialect: String,
    pub small: Option<Base>,
    pub large: Option<Base>,
    pub large_fill: Option<Duration>,
    /// The share of the cores' time the host took while these were measured.
    pub stolen: Option<f64>,
}

impl Figures {
    pub fn new(dialect: &str) -> Self {
        Figures {
            dialect: dialect.to_owned(),
            small: None,
            large: None,
            large_fill: None,
            stolen: None,
        }
    }
}

/// Phases 2 to 7 on one base.
#[derive(Default)]
pub struct Base {
    pub start_to_ready: Duration,
    pub idle_memory: u64,
    pub peak_memory: u64,
    pub healthz: Option<Outcome>,
    pub pages_alone: Option<Outcome>,
    pub storm_levels: Vec<(usize, Outcome)>,
    pub storm_concurrency: usize,
    pub storm: Option<Outcome>,
    /// The storm again, while the signed-in pages run beside it.
    pub storm_beside_pages: Option<Outcome>,
    pub pages_in_storm: Option<Outcome>,
    pub verify: Option<Outcome>,
    pub remembered: Option<Outcome>,
    /// An application's sign-in for a person signed in to latch: authorize, token, userinfo.
    pub app_sign_in: Option<Outcome>,
    /// The token endpoint's refresh alone.
    pub refresh: Option<Outcome>,
    /// An authenticator app's code alone, against seeded sign-ins waiting for it.
    pub app_verify: Option<Outcome>,
    /// A passkey sign-in alone: the options and the assertion.
    pub passkey_alone: Option<Outcome>,
}

impl Base {
    fn outcomes(&self) -> Vec<(&'static str, &Outcome)> {
        let mut all: Vec<(&'static str, &Outcome)> = Vec::new();
        let named = [
            ("GET /healthz", &self.healthz),
            ("GET /api/v1/me alone", &self.pages_alone),
            ("sign-in storm", &self.storm),
            ("GET /api/v1/me during the storm", &self.pages_in_storm),
            ("sign-in storm beside the pages", &self.storm_beside_pages),
            ("code verification", &self.verify),
            ("remembered-device sign-in", &self.remembered),
            ("application sign-in", &self.app_sign_in),
            ("refresh", &self.refresh),
            ("authenticator-app code verification", &self.app_verify),
            ("passkey sign-in alone", &self.passkey_alone),
        ];
        for (name, outcome) in named {
            if let Some(o) = outcome {
                all.push((name, o));
            }
        }
        for (_, o) in &self.storm_levels {
            all.push(("sign-in storm (finding the concurrency)", o));
        }
        all
    }

    fn storm_rate(&self) -> f64 {
        self.storm.as_ref().map_or(0.0, Outcome::per_second)
    }
}

pub struct Report {
    command: String,
    cores: usize,
    hash_time: Duration,
    every_core: f64,
    signing_time: Duration,
    figures: Vec<Figures>,
}

const MB: f64 = 1_000_000.0;

impl Report {
    pub fn new(
        command: &str,
        cores: usize,
        hash_time: Duration,
        every_core: f64,
        signing_time: Duration,
    ) -> Self {
        Report {
            command: command.to_owned(),
            cores,
            hash_time,
            every_core,
            signing_time,
            figures: Vec::new(),
        }
    }

    /// Full sign-ins a second that hashing alone allows: cores ÷ one hash's time.
    pub fn bound(&self) -> f64 {
        self.cores as f64 / self.hash_time.as_secs_f64()
    }

    pub fn push(&mut self, figures: Figures) {
        self.figures.push(figures);
    }

    /// Whether every load finished with no failed request; says which failed, and how.
    pub fn clean(&self) -> bool {
        let mut clean = true;
        for f in &self.figures {
            for base in [&f.small, &f.large].into_iter().flatten() {
                for (name, o) in base.outcomes() {
                    if o.errors > 0 || o.done == 0 {
                        clean = false;
                        eprintln!(
                            "{}: {name}: {} done, {} failed; first failure: {}",
                            f.dialect,
                            o.done,
                            o.errors,
                            o.first_error.as_deref().unwrap_or("none")
                        );
                    }
                }
            }
        }
        clean
    }

    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "Run `{}` on {} ({} cores, {}), {}.\n",
            self.command,
            cpu_model(),
            self.cores,
            total_memory(),
            today()
        );
        for f in &self.figures {
            self.table(&mut out, f);
        }
        out
    }

    fn table(&self, out: &mut String, f: &Figures) {
        let bound = self.bound();
        let hash_ms = self.hash_time.as_secs_f64() * 1000.0;
        let _ = writeln!(out, "### {}\n", f.dialect);
        let _ = writeln!(out, "| # | figure | small base | large base | goal |");
        let _ = writeln!(out, "|---|---|---|---|---|");
        let small = f.small.as_ref();
        let large = f.large.as_ref();
        let both = |cell: &dyn Fn(&Base) -> String| {
            (
                small.map_or_else(|| "—".to_owned(), cell),
                large.map_or_else(|| "—".to_owned(), cell),
            )
        };
        let _ = writeln!(
            out,
            "| 1 | hashing bound: one argon2id hash (m = 19 MiB, t = 2, p = 1) alone | {hash_ms:.1} ms → {bound:.1} sign-ins/s on {} cores | | |",
            self.cores
        );
        let _ = writeln!(
            out,
            "| 1b | the same hash on every core at once, nothing else running | {:.1} hashes/s ({:.0} % of the bound) | | |",
            self.every_core,
            100.0 * self.every_core / bound
        );

        let storm_cell = |b: &Base| {
            let rate = b.storm_rate();
            format!(
                "{rate:.1}/s ({:.0} % of the bound, {:.0} % of 1b) at {} at once",
                100.0 * rate / bound,
                100.0 * rate / self.every_core,
                b.storm_concurrency
            )
        };
        let (s, l) = both(&storm_cell);
        let worst = [small, large]
            .into_iter()
            .flatten()
            .map(|b| b.storm_rate() / bound)
            .fold(f64::INFINITY, f64::min);
        let _ = writeln!(
            out,
            "| 2 | sign-in storm: password, code from the outbox, code | {s} | {l} | ≥ 85 % of the bound: {} |",
            verdict(worst >= 0.85, || format!(
                "missed by {:.0} points",
                (0.85 - worst) * 100.0
            ))
        );
        if let Some(b) = small.filter(|b| b.storm_levels.len() > 1) {
            let levels: Vec<String> = b
                .storm_levels
                .iter()
                .map(|(c, o)| format!("{c}: {:.1}/s", o.per_second()))
                .collect();
            let _ = writeln!(
                out,
                "| 2a | the storm by requests at once | {} | | |",
                levels.join(", ")
            );
        }

        let (s, l) = both(&|b| {
            format!(
                "{}; the storm meanwhile {:.1}/s",
                latency(&b.pages_in_storm),
                b.storm_beside_pages
                    .as_ref()
                    .map_or(0.0, Outcome::per_second)
            )
        });
        let worst_p99 = [small, large]
            .into_iter()
            .flatten()
            .filter_map(|b| b.pages_in_storm.as_ref())
            .map(|o| (o.quantile_ms(0.99), o.errors))
            .fold((0.0_f64, 0_u64), |a, b| (a.0.max(b.0), a.1 + b.1));
        let _ = writeln!(
            out,
            "| 3 | `GET /api/v1/me` at 200/s during the storm | {s} | {l} | p99 ≤ 25 ms, no errors: {} |",
            verdict(worst_p99.0 <= 25.0 && worst_p99.1 == 0, || format!(
                "p99 {:.1} ms, {} errors",
                worst_p99.0, worst_p99.1
            ))
        );
        let (s, l) = both(&|b| latency(&b.pages_alone));
        let _ = writeln!(out, "| 3a | the same with no storm | {s} | {l} | |");

        let floor = small
            .and_then(|b| b.healthz.as_ref())
            .map(Outcome::per_second);
        let verify_cell = |b: &Base| {
            let rate = b.verify.as_ref().map_or(0.0, Outcome::per_second);
            match floor {
                Some(floor) => format!(
                    "{rate:.0}/s ({:.0} % of `/healthz` at {floor:.0}/s)",
                    100.0 * rate / floor
                ),
                None => format!("{rate:.0}/s"),
            }
        };
        let (s, l) = both(&verify_cell);
        let _ = writeln!(
            out,
            "| 4 | code verification alone (seeded pending sign-ins) | {s} | {l} | |"
        );
        let (s, l) = both(&|b: &Base| {
            let rate = b.remembered.as_ref().map_or(0.0, Outcome::per_second);
            format!(
                "{rate:.1}/s ({:.0} % of the bound, {:.0} % of 1b)",
                100.0 * rate / bound,
                100.0 * rate / self.every_core
            )
        });
        let _ = writeln!(out, "| 5 | remembered-device sign-in | {s} | {l} | |");

        let (s, l) = both(&|b: &Base| {
            format!(
                "{:.1} MB idle, {:.1} MB peak",
                b.idle_memory as f64 / MB,
                b.peak_memory as f64 / MB
            )
        });
        let (idle, peak) = [small, large].into_iter().flatten().fold((0, 0), |a, b| {
            (a.0.max(b.idle_memory), a.1.max(b.peak_memory))
        });
        let _ = writeln!(
            out,
            "| 6 | resident memory | {s} | {l} | ≤ 30 MB idle, ≤ 150 MB peak: {} |",
            verdict(
                idle as f64 <= 30.0 * MB && peak as f64 <= 150.0 * MB,
                || format!(
                    "{:.1} MB idle, {:.1} MB peak",
                    idle as f64 / MB,
                    peak as f64 / MB
                )
            )
        );
        let (s, l) = both(&|b: &Base| format!("{:.0} ms", b.start_to_ready.as_secs_f64() * 1000.0));
        let slowest = [small, large]
            .into_iter()
            .flatten()
            .map(|b| b.start_to_ready)
            .max()
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "| 7 | start to ready (median of five) | {s} | {l} | ≤ 200 ms: {} |",
            verdict(slowest <= Duration::from_millis(200), || format!(
                "{:.0} ms",
                slowest.as_secs_f64() * 1000.0
            ))
        );
        self.application_rows(out, f, small);
        self.method_rows(out, small);
        if let (Some(small), Some(large)) = (small, large) {
            let rate = |o: &Option<Outcome>| o.as_ref().map_or(0.0, Outcome::per_second);
            let p99 = |o: &Option<Outcome>| o.as_ref().map_or(f64::NAN, |o| o.quantile_ms(0.99));
            // Slower is larger on every ratio: small ÷ large for rates, large ÷ small for latency.
            let ratios = [
                ("storm", small.storm_rate() / large.storm_rate()),
                ("verification", rate(&small.verify) / rate(&large.verify)),
                (
                    "remembered",
                    rate(&small.remembered) / rate(&large.remembered),
                ),
            ];
            let worst = ratios.iter().map(|r| r.1).fold(0.0, f64::max);
            let text: Vec<String> = ratios.iter().map(|(n, r)| format!("{n} {r:.2}×")).collect();
            let _ = writeln!(
                out,
                "| 8 | large base ({}), slowdown against the small base | {} | pages p99 {:.1} → {:.1} ms | within 1.2×: {} |",
                f.large_fill
                    .map(|d| format!("filled in {:.0} s", d.as_secs_f64()))
                    .unwrap_or_default(),
                text.join(", "),
                p99(&small.pages_in_storm),
                p99(&large.pages_in_storm),
                verdict(worst <= 1.2, || format!("worst {worst:.2}×"))
            );
        }
        let _ = writeln!(out);
        if let Some(stolen) = f.stolen {
            let _ = writeln!(
                out,
                "The host took {:.1} % of the cores' time while these ran (steal, in /proc/stat){}.\n",
                stolen * 100.0,
                if stolen > STOLEN_COMPARABLE {
                    ": more than 1 %, so these figures are not comparable with another run's"
                } else {
                    ""
                }
            );
        }
    }
}

/// Above this share of the cores' time taken by the host, a run's figures are not its own.
pub const STOLEN_COMPARABLE: f64 = 0.01;

/// The cores' time so far as /proc/stat counts it: all of it, and what the host took from
/// this machine (a virtual one's steal), which no figure here should count as latch's.
#[derive(Clone, Copy)]
pub struct CpuTimes {
    total: u64,
    stolen: u64,
}

impl CpuTimes {
    /// None where there is no /proc/stat.
    pub fn now() -> Option<Self> {
        Self::read(&std::fs::read_to_string("/proc/stat").ok()?)
    }

    fn read(stat: &str) -> Option<Self> {
        let line = stat.lines().find(|l| l.starts_with("cpu "))?;
        // user, nice, system, idle, iowait, irq, softirq, steal: guest time is in user already.
        let ticks: Vec<u64> = line
            .split_whitespace()
            .skip(1)
            .take(8)
            .map(str::parse)
            .collect::<Result<_, _>>()
            .ok()?;
        Some(CpuTimes {
            total: ticks.iter().sum(),
            stolen: *ticks.get(7)?,
        })
    }

    /// The share of the cores' time since `earlier` that the host took.
    pub fn stolen_since(self, earlier: CpuTimes) -> Option<f64> {
        let total = self.total.checked_sub(earlier.total).filter(|t| *t > 0)?;
        let stolen = self.stolen.saturating_sub(earlier.stolen);
        Some(stolen as f64 / total as f64)
    }
}

impl Report {
    /// Rows 12 and 13, beside the texted code's row 4: an authenticator app's code alone, and
    /// a passkey sign-in alone, which hashes no password and so should far exceed row 1.
    fn method_rows(&self, out: &mut String, small: Option<&Base>) {
        let Some(b) = small else {
            return;
        };
        let rate = |o: &Option<Outcome>| o.as_ref().map_or(0.0, Outcome::per_second);
        let texted = rate(&b.verify);
        let app = rate(&b.app_verify);
        let _ = writeln!(
            out,
            "| 12 | authenticator-app code verification alone (seeded sign-ins waiting for it) | {app:.0}/s ({:.2}× row 4's texted codes), {} | | |",
            app / texted,
            latency(&b.app_verify)
        );
        let passkey = rate(&b.passkey_alone);
        let bound = self.bound();
        let _ = writeln!(
            out,
            "| 13 | passkey sign-in alone: options, then the assertion (ES256) | {passkey:.0}/s ({:.1}× the hashing bound of row 1), {} | | far above row 1: {} |",
            passkey / bound,
            latency(&b.passkey_alone),
            verdict(passkey >= 2.0 * bound, || format!(
                "{:.1}×",
                passkey / bound
            ))
        );
    }

    /// Rows 9 to 11: one RS256 signature alone, an application's sign-in, a refresh. The goal
    /// of 500 application sign-ins a second is SQLite's; PostgreSQL's figure is reported.
    fn application_rows(&self, out: &mut String, f: &Figures, small: Option<&Base>) {
        let signing_ms = self.signing_time.as_secs_f64() * 1000.0;
        let signing_bound = self.cores as f64 / self.signing_time.as_secs_f64();
        let _ = writeln!(
            out,
            "| 9 | one RS256 signature of an ID token (2048-bit key) alone | {signing_ms:.2} ms → {signing_bound:.0}/s on {} cores | | |",
            self.cores
        );
        let Some(b) = small else {
            return;
        };
        let rate = |o: &Option<Outcome>| o.as_ref().map_or(0.0, Outcome::per_second);
        let cell = |o: &Option<Outcome>| {
            o.as_ref().map_or_else(
                || "—".to_owned(),
                |o| {
                    format!(
                        "{:.0}/s, p50 {:.1} ms, p99 {:.1} ms ({:.0} % of row 9)",
                        o.per_second(),
                        o.quantile_ms(0.5),
                        o.quantile_ms(0.99),
                        100.0 * o.per_second() / signing_bound
                    )
                },
            )
        };
        let app_rate = rate(&b.app_sign_in);
        let goal = if f.dialect == "SQLite" {
            format!(
                "≥ 500/s: {}",
                verdict(app_rate >= 500.0, || format!("{app_rate:.0}/s"))
            )
        } else {
            "reported".to_owned()
        };
        let _ = writeln!(
            out,
            "| 10 | application sign-in for a person signed in to latch: authorize, code for tokens (ID token signed), userinfo | {} | | {goal} |",
            cell(&b.app_sign_in)
        );
        let _ = writeln!(
            out,
            "| 11 | the token endpoint's refresh alone (rotated, ID token signed) | {} | | |",
            cell(&b.refresh)
        );
    }
}

/// A phase's latencies and errors: "p50 2.3 ms, p99 7.4 ms, 0 errors".
fn latency(outcome: &Option<Outcome>) -> String {
    outcome.as_ref().map_or_else(
        || "—".to_owned(),
        |o| {
            format!(
                "p50 {:.1} ms, p99 {:.1} ms, {} errors",
                o.quantile_ms(0.5),
                o.quantile_ms(0.99),
                o.errors
            )
        },
    )
}

fn verdict(met: bool, missed: impl FnOnce() -> String) -> String {
    if met {
        "**met**".to_owned()
    } else {
        format!("**missed**: {}", missed())
    }
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|rest| rest.trim_start_matches([' ', '\t', ':']).trim().to_owned())
        })
        .unwrap_or_else(|| "an unknown processor".to_owned())
}

fn total_memory() -> String {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|info| crate::server::kib_field(&info, "MemTotal:"))
        .map_or_else(
            || "unknown memory".to_owned(),
            |kib| format!("{:.0} GiB", kib as f64 / (1024.0 * 1024.0)),
        )
}

/// Today's date (UTC), YYYY-MM-DD.
fn today() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0));
    latch_domain::Timestamp(now).to_rfc3339()[..10].to_owned()
}

#[cfg(test)]
mod tests {
    use super::CpuTimes;

    #[test]
    fn the_hosts_share_is_steal_over_all_the_cores_time_between_two_readings() {
        let before = CpuTimes::read("cpu  100 0 50 800 0 0 0 50 0 0\ncpu0 1 2 3\n").unwrap();
        let after = CpuTimes::read("cpu  300 0 150 1200 0 0 0 150 7 0\n").unwrap();
        let share = after.stolen_since(before).unwrap();
        assert!((share - 100.0 / 800.0).abs() < 1e-9, "{share}");
        assert!(before.stolen_since(before).is_none(), "no time passed");
        assert!(CpuTimes::read("intr 1 2 3\n").is_none());
    }
}
