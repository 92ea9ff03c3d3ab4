//! The store ports: small traits, one per kind of state, all implemented by the one store.
//! Lookups answer `Ok(None)` for "not found"; errors are only for a store that failed.

use async_trait::async_trait;
use latch_domain::Timestamp;
use latch_domain::practice::SecuritySettings;
use latch_domain::session::SessionState;

use crate::records::*;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique constraint refused the write (an email in use, a setup already done).
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// The database cannot be reached, or did not answer in time.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Other(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

#[async_trait]
pub trait InstallationStore {
    /// The installation row, created with `fresh_nonce` if this is a new database.
    async fn installation(&self, fresh_nonce: &str) -> StoreResult<Installation>;
    /// Creates the first practice and its owner, all or nothing; `Conflict` once set up.
    async fn create_first_practice(
        &self,
        practice: &NewPractice,
        owner: &NewPerson,
        now: Timestamp,
    ) -> StoreResult<()>;
    /// Creates a further practice and its owner (operator's console), all or nothing.
    async fn create_practice(&self, practice: &NewPractice, owner: &NewPerson) -> StoreResult<()>;
}

#[async_trait]
pub trait PracticeStore {
    async fn practice(&self, id: &str) -> StoreResult<Option<Practice>>;
    async fn practices(&self) -> StoreResult<Vec<Practice>>;
    async fn update_security(
        &self,
        practice_id: &str,
        security: &SecuritySettings,
    ) -> StoreResult<()>;
}

#[async_trait]
pub trait PersonStore {
    /// `Conflict` when the email is in use anywhere in the installation.
    async fn insert_person(&self, person: &NewPerson) -> StoreResult<()>;
    /// By case-folded email, with the person's practice.
    async fn account_by_email(&self, email_normalized: &str) -> StoreResult<Option<Account>>;
    /// A person of this practice; people of other practices do not exist here.
    async fn person_in_practice(
        &self,
        practice_id: &str,
        person_id: &str,
    ) -> StoreResult<Option<Person>>;
    async fn people(&self, practice_id: &str, filter: &PeopleFilter) -> StoreResult<Vec<Person>>;
    async fn set_password_hash(&self, person_id: &str, password_hash: &str) -> StoreResult<()>;
    async fn record_sign_in(&self, person_id: &str, at: Timestamp) -> StoreResult<()>;
}

#[async_trait]
pub trait SessionStore {
    async fn insert_session(&self, session: &NewSession) -> StoreResult<()>;
    /// The session whose token hashes to `token_hash`, with its person and practice.
    async fn session_by_token(&self, token_hash: &str) -> StoreResult<Option<(Session, Account)>>;
    async fn touch_session(&self, session_id: &str, at: Timestamp) -> StoreResult<()>;
    /// Gives the session a new token (and state and re-authentication), so an old cookie dies.
    async fn rotate_session(
        &self,
        session_id: &str,
        new_token_hash: &str,
        state: SessionState,
        reauthenticated_until: Option<Timestamp>,
        at: Timestamp,
    ) -> StoreResult<()>;
    async fn sessions_of(&self, person_id: &str) -> StoreResult<Vec<Session>>;
    /// Ends one session of this person; false when there was none.
    async fn delete_session(&self, person_id: &str, session_id: &str) -> StoreResult<bool>;
    /// Ends every session of the person but `keep`.
    async fn delete_sessions_of(&self, person_id: &str, keep: Option<&str>) -> StoreResult<u64>;
}

#[async_trait]
pub trait ThrottleStore {
    /// Consecutive password failures and the time before which no attempt is taken.
    async fn password_failures(
        &self,
        email_normalized: &str,
    ) -> StoreResult<Option<(u32, Option<Timestamp>)>>;
    /// Counts one more failure and answers the new count, in one atomic statement.
    async fn add_password_failure(&self, email_normalized: &str, at: Timestamp)
    -> StoreResult<u32>;
    async fn set_password_retry_at(
        &self,
        email_normalized: &str,
        retry_at: Timestamp,
    ) -> StoreResult<()>;
    async fn clear_password_failures(&self, email_normalized: &str) -> StoreResult<()>;
    /// The counter named `key` in its current window, if any.
    async fn window(&self, key: &str) -> StoreResult<Option<Window>>;
    /// Adds one to the counter named `key`, starting a new window when the old one is over.
    async fn bump_window(
        &self,
        key: &str,
        at: Timestamp,
        window_seconds: i64,
    ) -> StoreResult<Window>;
}

#[async_trait]
pub trait AuditStore {
    async fn append_audit(&self, event: &NewAuditEvent) -> StoreResult<()>;
    async fn audit_events(
        &self,
        practice_id: &str,
        query: &AuditQuery,
    ) -> StoreResult<Vec<AuditEvent>>;
}

/// Everything latch keeps: one database behind every port.
#[async_trait]
pub trait Store:
    InstallationStore
    + PracticeStore
    + PersonStore
    + SessionStore
    + ThrottleStore
    + AuditStore
    + Send
    + Sync
{
    /// Whether the database answers (for `/readyz`).
    async fn ping(&self) -> StoreResult<()>;
}
