//! Load shapes: a closed loop (so many workers, each sending again as soon as it has its
//! answer) and an open loop at a fixed rate (latency measured from when each request was due,
//! so a stalled server cannot hide its stall).

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What one load produced.
#[derive(Debug, Default)]
pub struct Outcome {
    pub done: u64,
    pub errors: u64,
    pub elapsed: Duration,
    latencies: Vec<Duration>,
    pub first_error: Option<String>,
}

impl Outcome {
    pub fn per_second(&self) -> f64 {
        self.done as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The latency at quantile `q` (0.5, 0.99), in milliseconds.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        if self.latencies.is_empty() {
            return f64::NAN;
        }
        let mut sorted = self.latencies.clone();
        sorted.sort_unstable();
        let rank = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len());
        sorted[rank - 1].as_secs_f64() * 1000.0
    }

    fn record(&mut self, result: anyhow::Result<()>, latency: Duration) {
        match result {
            Ok(()) => {
                self.done += 1;
                self.latencies.push(latency);
            }
            Err(e) => {
                self.errors += 1;
                if self.first_error.is_none() {
                    self.first_error = Some(format!("{e:#}"));
                }
            }
        }
    }
}

/// Whether a worker has more to do: `Exhausted` ends it early (seeded work ran out).
pub enum Step {
    Done,
    Exhausted,
}

/// `concurrency` workers call `work(i)` with increasing `i` until `duration` has passed or the
/// work is exhausted.
pub async fn closed_loop<F, Fut>(concurrency: usize, duration: Duration, work: F) -> Outcome
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = anyhow::Result<Step>> + Send + 'static,
{
    let work = Arc::new(work);
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + duration;
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let work = Arc::clone(&work);
            let next = Arc::clone(&next);
            tokio::spawn(async move {
                let mut outcome = Outcome::default();
                while Instant::now() < deadline {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let sent = Instant::now();
                    match work(i).await {
                        Ok(Step::Done) => outcome.record(Ok(()), sent.elapsed()),
                        Ok(Step::Exhausted) => break,
                        Err(e) => outcome.record(Err(e), sent.elapsed()),
                    }
                }
                (outcome, Instant::now())
            })
        })
        .collect();
    let mut total = Outcome::default();
    let mut last = started;
    for worker in workers {
        let (outcome, ended) = worker.await.expect("a load worker panicked");
        last = last.max(ended);
        merge(&mut total, outcome);
    }
    total.elapsed = last - started;
    total
}

/// Calls `work(i)` `rate` times a second for `duration`, each call on its own task, and
/// measures each from the moment it was due.
pub async fn fixed_rate<F, Fut>(rate: u32, duration: Duration, work: F) -> Outcome
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let work = Arc::new(work);
    let period = Duration::from_secs(1) / rate.max(1);
    let total_calls = (duration.as_secs_f64() * f64::from(rate)).round() as u64;
    let shared = Arc::new(Mutex::new(Outcome::default()));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(usize::try_from(total_calls).unwrap_or(0));
    for i in 0..total_calls {
        let due = started + period * u32::try_from(i).unwrap_or(u32::MAX);
        tokio::time::sleep_until(due.into()).await;
        let work = Arc::clone(&work);
        let shared = Arc::clone(&shared);
        tasks.push(tokio::spawn(async move {
            let result = work(i).await;
            let latency = due.elapsed();
            shared
                .lock()
                .expect("no load task panics holding the lock")
                .record(result, latency);
        }));
    }
    for task in tasks {
        task.await.expect("a load task panicked");
    }
    let mut outcome = std::mem::take(&mut *shared.lock().expect("all tasks ended"));
    outcome.elapsed = started.elapsed();
    outcome
}

fn merge(total: &mut Outcome, part: Outcome) {
    total.done += part.done;
    total.errors += part.errors;
    total.latencies.extend(part.latencies);
    if total.first_error.is_none() {
        total.first_error = part.first_error;
    }
}
