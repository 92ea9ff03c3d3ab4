//! Password hashing with argon2id, on a few threads of its own beside the async workers, with
//! bounded concurrency and bounded memory.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use latch_domain::password::{PasswordContext, WeakPassword, check_strength};
use tokio::sync::{Semaphore, oneshot};

use crate::error::AppError;
use crate::secret::Secret;

/// argon2id cost: memory in KiB, iterations, lanes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashCost {
    pub memory_kib: u32,
    pub iterations: u32,
    pub lanes: u32,
}

impl HashCost {
    /// The design's floor: m = 19 MiB, t = 2, p = 1.
    pub const DEFAULT: HashCost = HashCost {
        memory_kib: 19 * 1024,
        iterations: 2,
        lanes: 1,
    };
}

/// Whether a stored hash matched, and whether it should be hashed again at today's cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verified {
    Match { needs_rehash: bool },
    NoMatch,
}

/// Hashes and checks passwords on `concurrency` threads of its own, so a storm of sign-ins
/// queues here instead of starving every other request. Each thread keeps its argon2 memory
/// (19 MiB at the default cost) from one hash to the next: the resident set stays at
/// `concurrency` blocks instead of growing with every thread the allocator hands one to.
#[derive(Clone)]
pub struct Passwords {
    inner: Arc<Inner>,
}

/// What a hashing thread runs: a closure over the parameters and that thread's memory.
type Job = Box<dyn FnOnce(&Params, &mut Vec<Block>) + Send>;

struct Inner {
    jobs: Mutex<mpsc::Sender<Job>>,
    permits: Semaphore,
    queued: AtomicUsize,
    waits: AtomicU64,
    wait_micros: AtomicU64,
    /// Argon2id runs, hashes and checks alike, since start.
    runs: AtomicU64,
    /// SECURITY: an unknown email is checked against this, so it costs what a wrong password costs.
    dummy_hash: String,
}

impl Passwords {
    pub fn new(cost: HashCost, concurrency: usize) -> Result<Self, AppError> {
        let params = Params::new(cost.memory_kib, cost.iterations, cost.lanes, None)
            .map_err(|e| AppError::Internal(format!("argon2 parameters: {e}").into()))?;
        let dummy_hash = hash_with(
            &params,
            &mut Vec::new(),
            crate::crypto::new_token().expose(),
        )?;
        let concurrency = concurrency.max(1);
        let (sender, receiver) = mpsc::channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver));
        for n in 0..concurrency {
            let receiver = Arc::clone(&receiver);
            let params = params.clone();
            std::thread::Builder::new()
                .name(format!("latch-hash-{n}"))
                .spawn(move || hashing_thread(&params, &receiver))
                .map_err(|e| AppError::Internal(format!("start a hashing thread: {e}").into()))?;
        }
        Ok(Passwords {
            inner: Arc::new(Inner {
                jobs: Mutex::new(sender),
                permits: Semaphore::new(concurrency),
                queued: AtomicUsize::new(0),
                runs: AtomicU64::new(0),
                waits: AtomicU64::new(0),
                wait_micros: AtomicU64::new(0),
                dummy_hash,
            }),
        })
    }

    /// How many hash jobs are waiting for or holding a slot.
    pub fn queue_depth(&self) -> usize {
        self.inner.queued.load(Ordering::Relaxed)
    }

    /// How many jobs waited for a slot, and their total wait in seconds.
    pub fn waits(&self) -> (u64, f64) {
        let micros = self.inner.wait_micros.load(Ordering::Relaxed);
        (
            self.inner.waits.load(Ordering::Relaxed),
            micros as f64 / 1_000_000.0,
        )
    }

    /// Argon2id runs since start (hashes made and passwords checked): what the machine's cores
    /// spend on passwords.
    pub fn runs(&self) -> u64 {
        self.inner.runs.load(Ordering::Relaxed)
    }

    /// Checks strength alone, on the hashing threads (zxcvbn takes milliseconds): for a request
    /// already refused for something else, where no hash is worth making.
    pub async fn check(
        &self,
        password: &Secret,
        context: OwnedContext,
    ) -> Result<Result<(), WeakPassword>, AppError> {
        let password = password.clone();
        self.run(move |_, _| Ok(check_strength(password.expose(), &context.borrow())))
            .await
    }

    /// Checks strength with the given context, then hashes.
    pub async fn check_and_hash(
        &self,
        password: &Secret,
        context: OwnedContext,
    ) -> Result<Result<String, WeakPassword>, AppError> {
        let password = password.clone();
        let inner = Arc::clone(&self.inner);
        self.run(move |params, memory| {
            if let Err(weak) = check_strength(password.expose(), &context.borrow()) {
                return Ok(Err(weak));
            }
            inner.runs.fetch_add(1, Ordering::Relaxed);
            hash_with(params, memory, password.expose()).map(Ok)
        })
        .await
    }

    /// Checks `password` against `stored`, or against the dummy hash when there is no person,
    /// so both paths take the same time.
    pub async fn verify(
        &self,
        password: &Secret,
        stored: Option<&str>,
    ) -> Result<Verified, AppError> {
        let password = password.clone();
        let stored = stored.map(str::to_owned);
        let inner = Arc::clone(&self.inner);
        self.run(move |params, memory| {
            let (hash, real) = match &stored {
                Some(h) => (h.as_str(), true),
                None => (inner.dummy_hash.as_str(), false),
            };
            let Ok(parsed) = PasswordHash::new(hash) else {
                return Ok(Verified::NoMatch);
            };
            inner.runs.fetch_add(1, Ordering::Relaxed);
            let matched = verify_with(memory, password.expose(), &parsed);
            Ok(if matched && real {
                Verified::Match {
                    needs_rehash: needs_rehash(&parsed, params),
                }
            } else {
                Verified::NoMatch
            })
        })
        .await
    }

    /// Hashes without a strength check (for hashes made again at a higher cost).
    pub async fn hash(&self, password: &Secret) -> Result<String, AppError> {
        let password = password.clone();
        let inner = Arc::clone(&self.inner);
        self.run(move |params, memory| {
            inner.runs.fetch_add(1, Ordering::Relaxed);
            hash_with(params, memory, password.expose())
        })
        .await
    }

    async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce(&Params, &mut Vec<Block>) -> Result<T, AppError> + Send + 'static,
    ) -> Result<T, AppError> {
        let inner = Arc::clone(&self.inner);
        inner.queued.fetch_add(1, Ordering::Relaxed);
        let queued_at = std::time::Instant::now();
        let permit = inner.permits.acquire().await;
        let waited = u64::try_from(queued_at.elapsed().as_micros()).unwrap_or(u64::MAX);
        inner.waits.fetch_add(1, Ordering::Relaxed);
        inner.wait_micros.fetch_add(waited, Ordering::Relaxed);
        let result = match permit {
            Ok(_permit) => {
                let (done, answer) = oneshot::channel();
                let job: Job = Box::new(move |params, memory| {
                    let _ = done.send(job(params, memory));
                });
                let sent = inner
                    .jobs
                    .lock()
                    .map_err(|_| AppError::Internal("password queue poisoned".into()))?
                    .send(job);
                match sent {
                    Ok(()) => answer.await.unwrap_or_else(|_| {
                        Err(AppError::Internal("a password job failed".into()))
                    }),
                    Err(_) => Err(AppError::Internal("no hashing thread is left".into())),
                }
            }
            Err(_) => Err(AppError::Internal("password pool closed".into())),
        };
        inner.queued.fetch_sub(1, Ordering::Relaxed);
        result
    }
}

/// Owned password context, so the strength check can run on the blocking pool.
pub struct OwnedContext {
    pub practice_name: String,
    pub person_name: String,
    pub email: String,
}

impl OwnedContext {
    fn borrow(&self) -> PasswordContext<'_> {
        PasswordContext {
            practice_name: &self.practice_name,
            person_name: &self.person_name,
            email: &self.email,
        }
    }
}

/// Takes jobs until every `Passwords` sharing the queue is gone. A job that panics takes only
/// its own answer with it: the thread and its memory carry on.
fn hashing_thread(params: &Params, jobs: &Mutex<mpsc::Receiver<Job>>) {
    let mut memory: Vec<Block> = Vec::new();
    loop {
        let job = match jobs.lock() {
            Ok(receiver) => receiver.recv(),
            Err(_) => return,
        };
        let Ok(job) = job else { return };
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(params, &mut memory)));
    }
}

/// argon2id memory for `params`, grown once and reused. Like argon2's own allocation, it is
/// not wiped between hashes: the next hash overwrites it.
fn blocks<'m>(memory: &'m mut Vec<Block>, params: &Params) -> &'m mut [Block] {
    let count = params.block_count();
    if memory.len() < count {
        memory.resize(count, Block::default());
    }
    &mut memory[..count]
}

fn hash_failed(e: impl std::fmt::Display) -> AppError {
    AppError::Internal(format!("password hashing failed: {e}").into())
}

/// A PHC string (`$argon2id$v=19$m=...`) of `password` under a new random salt.
fn hash_with(params: &Params, memory: &mut Vec<Block>, password: &str) -> Result<String, AppError> {
    let salt_bytes = crate::crypto::random_bytes::<16>();
    let salt = Salt::new(&salt_bytes).map_err(hash_failed)?;
    let mut out = [0u8; 32];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password_into_with_memory(
            password.as_bytes(),
            &salt_bytes,
            &mut out,
            blocks(memory, params),
        )
        .map_err(hash_failed)?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(params).map_err(hash_failed)?,
        salt: Some(salt),
        hash: Some(Output::new(&out).map_err(hash_failed)?),
    };
    Ok(phc.to_string())
}

/// Whether `password` hashes to `stored` at the stored hash's own algorithm, version and cost.
fn verify_with(memory: &mut Vec<Block>, password: &str, stored: &PasswordHash) -> bool {
    let (Some(salt), Some(expected)) = (&stored.salt, &stored.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(stored.algorithm.as_str()) else {
        return false;
    };
    let version = match stored.version.map(Version::try_from).transpose() {
        Ok(v) => v.unwrap_or_default(),
        Err(_) => return false,
    };
    let Ok(params) = Params::try_from(stored) else {
        return false;
    };
    let mut out = vec![0u8; expected.len()];
    let hashed = Argon2::new(algorithm, version, params.clone()).hash_password_into_with_memory(
        password.as_bytes(),
        salt.as_ref(),
        &mut out,
        blocks(memory, &params),
    );
    // SECURITY: `Output` compares in constant time.
    hashed.is_ok() && Output::new(&out).is_ok_and(|computed| &computed == expected)
}

fn needs_rehash(stored: &PasswordHash, wanted: &Params) -> bool {
    let Ok(current) = Params::try_from(stored) else {
        return true;
    };
    stored.algorithm.as_str() != "argon2id"
        || current.m_cost() < wanted.m_cost()
        || current.t_cost() < wanted.t_cost()
        || current.p_cost() < wanted.p_cost()
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHEAP: HashCost = HashCost {
        memory_kib: 64,
        iterations: 1,
        lanes: 1,
    };

    #[tokio::test]
    async fn a_hash_verifies_its_password_and_no_other() {
        let pw = Passwords::new(CHEAP, 2).unwrap();
        let hash = pw.hash(&Secret::new("maple kettle orbit")).await.unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert_eq!(
            pw.verify(&Secret::new("maple kettle orbit"), Some(&hash))
                .await
                .unwrap(),
            Verified::Match {
                needs_rehash: false
            }
        );
        assert_eq!(
            pw.verify(&Secret::new("maple kettle orbiT"), Some(&hash))
                .await
                .unwrap(),
            Verified::NoMatch
        );
    }

    #[tokio::test]
    async fn hashes_agree_with_the_argon2_crates_own_phc_strings() {
        use argon2::{PasswordHasher as _, PasswordVerifier as _};
        let pw = Passwords::new(CHEAP, 1).unwrap();
        let cost = Params::new(CHEAP.memory_kib, CHEAP.iterations, CHEAP.lanes, None).unwrap();
        let theirs = Argon2::new(Algorithm::Argon2id, Version::V0x13, cost);
        // A hash stored before latch kept its own memory still verifies...
        let stored = theirs
            .hash_password(b"maple kettle orbit")
            .unwrap()
            .to_string();
        assert_eq!(
            pw.verify(&Secret::new("maple kettle orbit"), Some(&stored))
                .await
                .unwrap(),
            Verified::Match {
                needs_rehash: false
            }
        );
        // ...and what latch stores now verifies with the crate's own verifier.
        let ours = pw.hash(&Secret::new("maple kettle orbit")).await.unwrap();
        assert!(
            theirs
                .verify_password(b"maple kettle orbit", ours.as_str())
                .is_ok()
        );
        assert!(
            theirs
                .verify_password(b"maple kettle orbiT", ours.as_str())
                .is_err()
        );
    }

    #[tokio::test]
    async fn many_hashes_at_once_all_come_back_through_few_threads() {
        let pw = Passwords::new(CHEAP, 2).unwrap();
        let jobs: Vec<_> = (0..16)
            .map(|i| {
                let pw = pw.clone();
                tokio::spawn(
                    async move { pw.hash(&Secret::new(format!("maple kettle {i}"))).await },
                )
            })
            .collect();
        let mut hashes = Vec::new();
        for job in jobs {
            hashes.push(job.await.unwrap().unwrap());
        }
        hashes.sort();
        hashes.dedup();
        assert_eq!(hashes.len(), 16, "every hash has its own salt");
        assert_eq!(pw.queue_depth(), 0);
        assert_eq!(pw.waits().0, 16);
    }

    #[tokio::test]
    async fn an_unknown_person_never_matches() {
        let pw = Passwords::new(CHEAP, 1).unwrap();
        assert_eq!(
            pw.verify(&Secret::new("anything at all"), None)
                .await
                .unwrap(),
            Verified::NoMatch
        );
    }

    #[tokio::test]
    async fn a_hash_made_at_a_lower_cost_asks_to_be_made_again() {
        let old = Passwords::new(CHEAP, 1).unwrap();
        let hash = old.hash(&Secret::new("maple kettle orbit")).await.unwrap();
        let stronger = Passwords::new(
            HashCost {
                memory_kib: 128,
                ..CHEAP
            },
            1,
        )
        .unwrap();
        assert_eq!(
            stronger
                .verify(&Secret::new("maple kettle orbit"), Some(&hash))
                .await
                .unwrap(),
            Verified::Match { needs_rehash: true }
        );
    }

    #[tokio::test]
    async fn a_weak_password_is_refused_before_hashing() {
        let pw = Passwords::new(CHEAP, 1).unwrap();
        let ctx = OwnedContext {
            practice_name: "Harbor".into(),
            person_name: "Dana".into(),
            email: "dana@example.com".into(),
        };
        assert!(
            pw.check_and_hash(&Secret::new("password1234"), ctx)
                .await
                .unwrap()
                .is_err()
        );
    }
}
