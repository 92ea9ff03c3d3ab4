//! Password hashing with argon2id, off the async workers and with bounded concurrency.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use argon2::password_hash::phc::PasswordHash;
use argon2::{Algorithm, Argon2, Params, PasswordHasher as _, PasswordVerifier as _, Version};
use latch_domain::password::{PasswordContext, WeakPassword, check_strength};
use tokio::sync::Semaphore;

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

/// Hashes and checks passwords on the blocking pool, at most `concurrency` at a time, so a storm
/// of sign-ins queues here instead of starving every other request.
#[derive(Clone)]
pub struct Passwords {
    inner: Arc<Inner>,
}

struct Inner {
    params: Params,
    permits: Semaphore,
    queued: AtomicUsize,
    waits: AtomicU64,
    wait_micros: AtomicU64,
    /// SECURITY: an unknown email is checked against this, so it costs what a wrong password costs.
    dummy_hash: String,
}

impl Passwords {
    pub fn new(cost: HashCost, concurrency: usize) -> Result<Self, AppError> {
        let params = Params::new(cost.memory_kib, cost.iterations, cost.lanes, None)
            .map_err(|e| AppError::Internal(format!("argon2 parameters: {e}")))?;
        let dummy_hash = hash_blocking(&params, crate::crypto::new_token().expose())?;
        Ok(Passwords {
            inner: Arc::new(Inner {
                params,
                permits: Semaphore::new(concurrency.max(1)),
                queued: AtomicUsize::new(0),
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

    /// Checks strength with the given context, then hashes.
    pub async fn check_and_hash(
        &self,
        password: &Secret,
        context: OwnedContext,
    ) -> Result<Result<String, WeakPassword>, AppError> {
        let password = password.clone();
        self.run(move |params| {
            if let Err(weak) = check_strength(password.expose(), &context.borrow()) {
                return Ok(Err(weak));
            }
            hash_blocking(params, password.expose()).map(Ok)
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
        self.run(move |params| {
            let (hash, real) = match &stored {
                Some(h) => (h.as_str(), true),
                None => (inner.dummy_hash.as_str(), false),
            };
            let Ok(parsed) = PasswordHash::new(hash) else {
                return Ok(Verified::NoMatch);
            };
            let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
            let matched = argon
                .verify_password(password.expose().as_bytes(), &parsed)
                .is_ok();
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
        self.run(move |params| hash_blocking(params, password.expose()))
            .await
    }

    async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce(&Params) -> Result<T, AppError> + Send + 'static,
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
                let params = inner.params.clone();
                tokio::task::spawn_blocking(move || job(&params))
                    .await
                    .map_err(|e| AppError::Internal(format!("password job failed: {e}")))?
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

fn hash_blocking(params: &Params, password: &str) -> Result<String, AppError> {
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    argon
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| AppError::Internal(format!("password hashing failed: {e}")))
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
