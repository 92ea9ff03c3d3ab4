//! The latch server under measurement: the real binary as a child process, its start-to-ready
//! time and its resident memory.

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::http::Http;

/// How to run latch for one database: the binary and the environment every run shares.
pub struct LatchCommand {
    binary: PathBuf,
    env: Vec<(String, String)>,
    log: PathBuf,
}

impl LatchCommand {
    pub fn new(binary: &Path, database_url: &str, key_hex: &str, log: PathBuf) -> Self {
        let env = [
            ("LATCH_DATABASE_URL", database_url),
            ("LATCH_SECRET_KEY", key_hex),
            // The per-node flood guard would shape the load into its own limit.
            ("LATCH_FLOOD_LIMIT", "100000000"),
            ("LATCH_LOG_FORMAT", "json"),
            ("LATCH_ENV", "development"),
        ];
        LatchCommand {
            binary: binary.to_owned(),
            env: env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            log,
        }
    }

    fn command(&self) -> anyhow::Result<Command> {
        let mut command = Command::new(&self.binary);
        for (k, v) in &self.env {
            command.env(k, v);
        }
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .with_context(|| format!("open {}", self.log.display()))?;
        command
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);
        Ok(command)
    }

    /// `latch migrate`, to completion.
    pub fn migrate(&self) -> anyhow::Result<()> {
        let status = self
            .command()?
            .arg("migrate")
            .status()
            .with_context(|| format!("run {}", self.binary.display()))?;
        if !status.success() {
            bail!(
                "`latch migrate` failed ({status}); see {}",
                self.log.display()
            );
        }
        Ok(())
    }

    /// Registers an application with `latch client add`, as the operator does; answers its
    /// client id and secret.
    pub fn add_application(&self, redirect_uri: &str) -> anyhow::Result<(String, String)> {
        let mut command = self.command()?;
        let output = command
            .stdout(Stdio::piped())
            .args([
                "client",
                "add",
                "--name",
                "Bench Practice",
                "--redirect-uri",
                redirect_uri,
            ])
            .output()
            .with_context(|| format!("run {}", self.binary.display()))?;
        if !output.status.success() {
            bail!("`latch client add` failed; see {}", self.log.display());
        }
        let added: serde_json::Value =
            serde_json::from_slice(&output.stdout).context("`latch client add` prints JSON")?;
        let field = |name: &str| {
            added[name]
                .as_str()
                .map(str::to_owned)
                .with_context(|| format!("`latch client add` gave no {name}"))
        };
        Ok((field("client_id")?, field("client_secret")?))
    }

    /// Starts `latch serve` on a free loopback port and waits until `/readyz` answers 200.
    /// Returns the server and the time from spawning the process to its first ready answer.
    pub async fn start(&self) -> anyhow::Result<(Latch, Duration)> {
        let port = free_port()?;
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let started = Instant::now();
        let child = self
            .command()?
            .env("LATCH_BIND", addr.to_string())
            .arg("serve")
            .spawn()
            .with_context(|| format!("start {}", self.binary.display()))?;
        let mut latch = Latch {
            child,
            http: Http::new(addr),
        };
        loop {
            if let Ok(reply) = latch.http.get("/readyz", None).await
                && reply.status == 200
            {
                return Ok((latch, started.elapsed()));
            }
            if let Some(status) = latch.child.try_wait()? {
                bail!(
                    "latch exited before it was ready ({status}); see {}",
                    self.log.display()
                );
            }
            if started.elapsed() > Duration::from_secs(30) {
                latch.stop();
                bail!(
                    "latch was not ready within 30 s; see {}",
                    self.log.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
}

/// A running latch.
pub struct Latch {
    child: Child,
    pub http: Http,
}

/// Resident memory of a process, in bytes: now and the highest so far.
#[derive(Debug, Clone, Copy, Default)]
pub struct Memory {
    pub resident: u64,
    pub peak: u64,
}

impl Latch {
    pub fn memory(&self) -> anyhow::Result<Memory> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .context("read the server's /proc status (Linux only)")?;
        let bytes = |name| kib_field(&status, name).map_or(0, |kib| kib * 1024);
        Ok(Memory {
            resident: bytes("VmRSS:"),
            peak: bytes("VmHWM:"),
        })
    }

    /// Ends the server at once: every measurement is over, and SQLite's write-ahead log keeps
    /// the database whole across a kill.
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Latch {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `Name:   1234 kB` of a /proc file, in KiB.
pub fn kib_field(text: &str, name: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix(name))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

fn free_port() -> anyhow::Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).context("find a free port")?;
    Ok(listener.local_addr()?.port())
}
