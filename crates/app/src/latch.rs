//! The composition of latch's use cases over one set of ports.

use std::sync::Arc;

use crate::account::AccountService;
use crate::audit::AuditService;
use crate::clock::Clock;
use crate::crypto::Keys;
use crate::error::AppError;
use crate::passwords::{HashCost, Passwords};
use crate::ports::Store;
use crate::setup::SetupService;
use crate::sign_in::SignInService;
use crate::team::TeamService;

/// What the use cases need to know about how latch runs.
#[derive(Debug, Clone)]
pub struct LatchSettings {
    pub hash_cost: HashCost,
    /// How many passwords may be hashed at once (the cores, by default).
    pub hash_concurrency: usize,
    /// Production asks for the one-time setup token on the first run.
    pub production: bool,
}

/// The shared dependencies of every service.
pub struct Core {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub passwords: Passwords,
    pub keys: Keys,
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
    core: Arc<Core>,
}

impl Latch {
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        keys: Keys,
        settings: LatchSettings,
    ) -> Result<Self, AppError> {
        let passwords = Passwords::new(settings.hash_cost, settings.hash_concurrency)?;
        let core = Arc::new(Core {
            store,
            clock,
            passwords,
            keys,
            settings,
        });
        Ok(Latch {
            setup: SetupService::new(Arc::clone(&core)),
            sign_in: SignInService::new(Arc::clone(&core)),
            account: AccountService::new(Arc::clone(&core)),
            team: TeamService::new(Arc::clone(&core)),
            audit: AuditService::new(Arc::clone(&core)),
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

    /// Whether the database answers.
    pub async fn ready(&self) -> bool {
        self.core.store.ping().await.is_ok()
    }
}
