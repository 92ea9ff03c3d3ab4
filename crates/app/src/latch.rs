//! The composition of latch's use cases over one set of ports.

use std::future::Future;
use std::sync::{Arc, Mutex};

use crate::account::AccountService;
use crate::applications::ApplicationService;
use crate::audit::AuditService;
use crate::clock::Clock;
use crate::crypto::Keys;
use crate::delivery::{Delivery, Outgoing};
use crate::devices::DeviceService;
use crate::error::AppError;
use crate::grants::GrantService;
use crate::invitations::InvitationService;
use crate::logouts::LogoutService;
use crate::mail::MailService;
use crate::methods::MethodService;
use crate::metrics::Metrics;
use crate::passkeys::PasskeyService;
use crate::passwords::{HashCost, Passwords};
use crate::ports::{Store, StoreError, UnitOfWork};
use crate::practice::PracticeService;
use crate::records::NewAuditEvent;
use crate::recovery::RecoveryService;
use crate::setup::SetupService;
use crate::sign_in::SignInService;
use crate::team::TeamService;
use crate::two_factor::TwoFactorService;

/// What the use cases need to know about how latch runs.
#[derive(Debug, Clone)]
pub struct LatchSettings {
    pub hash_cost: HashCost,
    /// How many passwords may be hashed at once (the cores, by default).
    pub hash_concurrency: usize,
    /// Production asks for the one-time setup token on the first run.
    pub production: bool,
    /// The name texts and calls use (`LATCH_PRODUCT_NAME`).
    pub product_name: String,
    /// The host of the public URL, for the origin-bound line of code texts.
    pub public_host: String,
    /// The public origin (`LATCH_PUBLIC_URL`): the only base of the links emails carry.
    pub public_url: String,
    /// Messages are kept for the developer to read (the development outbox), so the dev
    /// endpoints may show them.
    pub dev_outbox: bool,
    /// Emails are kept for the developer to read (the development email outbox).
    pub email_outbox: bool,
}

/// The shared dependencies of every service. Inside a unit of work (`in_one_transaction`),
/// `store` is that unit's transaction.
pub struct Core {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub passwords: Passwords,
    pub keys: Keys,
    pub delivery: Arc<dyn Delivery>,
    pub metrics: Arc<dyn Metrics>,
    pub settings: LatchSettings,
    /// Told when an email is queued (after its unit commits), so this node's queue loop sends
    /// it at once.
    pub(crate) mail_queued: Arc<tokio::sync::Notify>,
    /// Inside a unit of work: what it keeps until it ends.
    kept: Option<Arc<Mutex<Kept>>>,
}

/// What a unit of work keeps until it ends: its audit events, written in one statement just
/// before it commits; the counts it gives back to send windows, written last, since a window
/// (an address's, a range's) is a row many requests share, and on PostgreSQL a row written is
/// held until the commit; and its notices, sent once it has committed.
#[derive(Default)]
struct Kept {
    events: Vec<NewAuditEvent>,
    given_back: Vec<([String; 2], i64)>,
    notices: Vec<Outgoing>,
    mailed: bool,
}

/// How many times a unit of work the database ended for contention is run.
const RUNS_OF_A_CONTENDED_UNIT: u32 = 3;

impl Core {
    /// Runs a use case's database work as one unit of work, so its writes commit together or
    /// not at all: what a refusal wrote (a counted failure, a lock) commits with the refusal,
    /// and a failure of the store or of latch itself leaves nothing behind. A unit the
    /// database ended for contention runs again from the start, so `work` is run with a core
    /// of its own each time and holds only references. Notices the work gives go out after it
    /// commits. Inside a unit of work, `work` simply runs in it.
    pub(crate) async fn in_one_transaction<T, Run>(
        &self,
        work: impl Fn(Arc<Core>) -> Run,
    ) -> Result<T, AppError>
    where
        Run: Future<Output = Result<T, AppError>>,
    {
        if let Some(kept) = &self.kept {
            return work(Arc::new(
                self.bound_to(Arc::clone(&self.store), Arc::clone(kept)),
            ))
            .await;
        }
        let mut run = 1;
        loop {
            let unit = self.store.begin().await?;
            let kept = Arc::new(Mutex::new(Kept::default()));
            let core = self.bound_to(Arc::clone(&unit) as Arc<dyn Store>, Arc::clone(&kept));
            let outcome = work(Arc::new(core)).await;
            let failure = match &outcome {
                // A failure leaves nothing: the unit rolls back as it drops.
                Err(e) if e.is_failure() => None,
                _ => finish(&*unit, &kept).await.err(),
            };
            drop(unit);
            let contended = match (&failure, &outcome) {
                (Some(e), _) => matches!(e, StoreError::Contended(_)),
                (None, Err(e)) => e.is_contended(),
                (None, Ok(_)) => false,
            };
            if contended && run < RUNS_OF_A_CONTENDED_UNIT {
                tracing::debug!(run, "a unit of work runs again after contention");
                run += 1;
                continue;
            }
            if let Some(e) = failure {
                return Err(e.into());
            }
            if !outcome.as_ref().is_err_and(AppError::is_failure) {
                let (notices, mailed) = {
                    let mut kept = lock(&kept);
                    (std::mem::take(&mut kept.notices), kept.mailed)
                };
                if mailed {
                    self.mail_queued.notify_one();
                }
                for notice in notices {
                    self.send_notice(&notice).await;
                }
            }
            return outcome;
        }
    }

    /// Whether this core's store is a unit of work's transaction.
    pub(crate) fn in_unit_of_work(&self) -> bool {
        self.kept.is_some()
    }

    /// This core with another store (a unit of work's) and what that unit keeps.
    fn bound_to(&self, store: Arc<dyn Store>, kept: Arc<Mutex<Kept>>) -> Core {
        Core {
            store,
            clock: Arc::clone(&self.clock),
            passwords: self.passwords.clone(),
            keys: self.keys.clone(),
            delivery: Arc::clone(&self.delivery),
            metrics: Arc::clone(&self.metrics),
            settings: self.settings.clone(),
            mail_queued: Arc::clone(&self.mail_queued),
            kept: Some(kept),
        }
    }

    /// Sends a notice (no code) now, or, inside a unit of work, once it has committed. Best
    /// effort: a notice that cannot go out is logged, never a reason to undo what it tells of.
    pub(crate) async fn notice(&self, outgoing: Outgoing) {
        match &self.kept {
            Some(kept) => lock(kept).notices.push(outgoing),
            None => self.send_notice(&outgoing).await,
        }
    }

    /// Queues an email, sealed: now, or inside a unit of work with its other writes; the
    /// queue's loop is woken once it is there to claim.
    pub(crate) async fn queue(&self, queued: &crate::mail::Queued) -> Result<(), StoreError> {
        let plain = serde_json::to_vec(queued).map_err(|e| StoreError::Other(e.into()))?;
        let sealed = self.keys.seal_mail(&plain);
        self.store.queue_mail(&sealed, self.clock.now()).await?;
        match &self.kept {
            Some(kept) => lock(kept).mailed = true,
            None => self.mail_queued.notify_one(),
        }
        Ok(())
    }

    /// Gives counts back to two send windows (the same key twice for one): now, or, inside a
    /// unit of work, as its last write before it commits.
    pub(crate) async fn give_back_windows(
        &self,
        keys: [&str; 2],
        by: i64,
    ) -> Result<(), StoreError> {
        match &self.kept {
            Some(kept) => {
                lock(kept).given_back.push((keys.map(str::to_owned), by));
                Ok(())
            }
            None => self.store.unbump_windows(keys, by).await,
        }
    }

    /// Writes an audit event now, or, inside a unit of work, with the unit's other events
    /// just before it commits (one statement for them all).
    pub(crate) async fn audit(&self, event: NewAuditEvent) -> Result<(), StoreError> {
        match &self.kept {
            Some(kept) => {
                lock(kept).events.push(event);
                Ok(())
            }
            None => self.store.append_audit(&[event]).await,
        }
    }

    async fn send_notice(&self, outgoing: &Outgoing) {
        if let Err(e) = self.delivery.deliver(outgoing).await {
            tracing::warn!(error = %e, "a notice could not be sent");
        }
    }
}

/// Writes what a unit kept for its end, and commits it.
async fn finish(unit: &dyn UnitOfWork, kept: &Mutex<Kept>) -> Result<(), StoreError> {
    let (events, given_back) = {
        let mut kept = lock(kept);
        (
            std::mem::take(&mut kept.events),
            std::mem::take(&mut kept.given_back),
        )
    };
    unit.append_audit(&events).await?;
    for ([first, second], by) in &given_back {
        unit.unbump_windows([first, second], *by).await?;
    }
    unit.commit().await
}

/// What a unit keeps, even after a panic elsewhere poisoned its lock: the lists stay whole.
fn lock(kept: &Mutex<Kept>) -> std::sync::MutexGuard<'_, Kept> {
    kept.lock().unwrap_or_else(|e| e.into_inner())
}

/// Every use case of latch, ready for the web layer and the console.
#[derive(Clone)]
pub struct Latch {
    pub setup: SetupService,
    pub sign_in: SignInService,
    pub account: AccountService,
    pub team: TeamService,
    pub audit: AuditService,
    pub two_factor: TwoFactorService,
    pub methods: MethodService,
    pub passkeys: PasskeyService,
    pub devices: DeviceService,
    pub practice: PracticeService,
    pub applications: ApplicationService,
    pub grants: GrantService,
    pub logouts: LogoutService,
    pub mail: MailService,
    pub invitations: InvitationService,
    pub recovery: RecoveryService,
    core: Arc<Core>,
}

impl Latch {
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        keys: Keys,
        delivery: Arc<dyn Delivery>,
        metrics: Arc<dyn Metrics>,
        settings: LatchSettings,
    ) -> Result<Self, AppError> {
        let passwords = Passwords::new(settings.hash_cost, settings.hash_concurrency)?;
        let core = Arc::new(Core {
            store,
            clock,
            passwords,
            keys,
            delivery,
            metrics,
            settings,
            mail_queued: Arc::new(tokio::sync::Notify::new()),
            kept: None,
        });
        // One for the installation's keys, so every use case signs with the key it opened.
        let applications = ApplicationService::new(Arc::clone(&core));
        Ok(Latch {
            setup: SetupService::new(Arc::clone(&core)),
            sign_in: SignInService::new(Arc::clone(&core)),
            account: AccountService::new(Arc::clone(&core)),
            team: TeamService::new(Arc::clone(&core)),
            audit: AuditService::new(Arc::clone(&core)),
            two_factor: TwoFactorService::new(Arc::clone(&core)),
            methods: MethodService::new(Arc::clone(&core)),
            passkeys: PasskeyService::new(Arc::clone(&core)),
            devices: DeviceService::new(Arc::clone(&core)),
            practice: PracticeService::new(Arc::clone(&core)),
            grants: GrantService::new(Arc::clone(&core), applications.clone()),
            logouts: LogoutService::new(Arc::clone(&core), applications.clone()),
            mail: MailService::new(Arc::clone(&core)),
            invitations: InvitationService::new(Arc::clone(&core)),
            recovery: RecoveryService::new(Arc::clone(&core)),
            applications,
            core,
        })
    }

    pub fn keys(&self) -> &Keys {
        &self.core.keys
    }

    pub fn now(&self) -> latch_domain::Timestamp {
        self.core.clock.now()
    }

    /// The name texts, calls and pages go by (`LATCH_PRODUCT_NAME`).
    pub fn product_name(&self) -> &str {
        &self.core.settings.product_name
    }

    pub fn passwords(&self) -> &Passwords {
        &self.core.passwords
    }

    /// The development outbox's messages, newest first, to one number (E.164) or to all; none
    /// when messages really go out.
    pub async fn outbox_messages(
        &self,
        to: Option<&str>,
        limit: u32,
    ) -> Result<Option<Vec<crate::records::OutboxMessage>>, AppError> {
        if !self.core.settings.dev_outbox {
            return Ok(None);
        }
        Ok(Some(self.core.store.outbox(to, limit).await?))
    }

    /// The database pool's connections: open, and idle among them.
    pub fn pool_status(&self) -> (u32, u32) {
        self.core.store.pool_status()
    }

    /// Deletes a batch of expired rows of every kind; answers how many went.
    pub async fn sweep(&self, batch: i64) -> Result<u64, AppError> {
        Ok(self.core.store.sweep(self.core.clock.now(), batch).await?)
    }

    /// Whether the database answers, and why not.
    pub async fn ready(&self) -> Result<(), AppError> {
        self.core.store.ping().await.map_err(|e| match e {
            StoreError::Unavailable(_) => AppError::Unavailable(e),
            // Any failure to answer means not ready, never a bug of the request.
            other => AppError::Unavailable(StoreError::Unavailable(other.into())),
        })
    }
}
