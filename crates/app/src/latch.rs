//! The composition of latch's use cases over one set of ports.

use std::sync::Arc;

use crate::account::AccountService;
use crate::audit::AuditService;
use crate::clock::Clock;
use crate::crypto::Keys;
use crate::delivery::Delivery;
use crate::devices::DeviceService;
use crate::error::AppError;
use crate::metrics::Metrics;
use crate::passwords::{HashCost, Passwords};
use crate::ports::Store;
use crate::practice::PracticeService;
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
    /// Messages are kept for the developer to read (the development outbox), so the dev
    /// endpoints may show them.
    pub dev_outbox: bool,
}

/// The shared dependencies of every service.
pub struct Core {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub passwords: Passwords,
    pub keys: Keys,
    pub delivery: Arc<dyn Delivery>,
    pub metrics: Arc<dyn Metrics>,
    pub settings: LatchSettings,
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
    pub devices: DeviceService,
    pub practice: PracticeService,
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
        });
        Ok(Latch {
            setup: SetupService::new(Arc::clone(&core)),
            sign_in: SignInService::new(Arc::clone(&core)),
            account: AccountService::new(Arc::clone(&core)),
            team: TeamService::new(Arc::clone(&core)),
            audit: AuditService::new(Arc::clone(&core)),
            two_factor: TwoFactorService::new(Arc::clone(&core)),
            devices: DeviceService::new(Arc::clone(&core)),
            practice: PracticeService::new(Arc::clone(&core)),
            core,
        })
    }

    pub fn keys(&self) -> &Keys {
        &self.core.keys
    }

    pub fn now(&self) -> latch_domain::Timestamp {
        self.core.clock.now()
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

    /// Whether the database answers.
    pub async fn ready(&self) -> bool {
        self.core.store.ping().await.is_ok()
    }
}
