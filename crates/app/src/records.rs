//! The records that use cases read and write through the ports.

use latch_domain::practice::SecuritySettings;
use latch_domain::session::SessionState;
use latch_domain::{Role, Timestamp};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Practice {
    pub id: String,
    pub name: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    pub security: SecuritySettings,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub id: String,
    pub practice_id: String,
    /// As the person wrote it; comparisons use its lower-case form.
    pub email: String,
    pub name: String,
    pub role: Role,
    /// The argon2id PHC string.
    pub password_hash: String,
    pub last_sign_in_at: Option<Timestamp>,
    pub created_at: Timestamp,
}

/// A person together with their practice, as most requests need both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub person: Person,
    pub practice: Practice,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPractice {
    pub id: String,
    pub name: String,
    pub country: String,
    pub security: SecuritySettings,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPerson {
    pub id: String,
    pub practice_id: String,
    pub email: String,
    pub email_normalized: String,
    pub name: String,
    pub role: Role,
    pub password_hash: String,
    pub created_at: Timestamp,
}

/// A session row: only the hash of its cookie token is ever stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The public id people see in their session list; not the cookie token.
    pub id: String,
    pub person_id: String,
    pub state: SessionState,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
    pub reauthenticated_until: Option<Timestamp>,
    pub ip: String,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    pub id: String,
    pub token_hash: String,
    pub person_id: String,
    pub state: SessionState,
    pub created_at: Timestamp,
    pub ip: String,
    pub label: String,
}

/// Who is asking: the client's address and browser, for limits, sessions and the audit trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientInfo {
    pub ip: String,
    pub user_agent: String,
}

/// The installation's one row: whether the first practice exists yet, and the nonce its setup
/// token is derived from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installation {
    pub setup_nonce: String,
    pub set_up: bool,
}

/// A security event as the audit trail keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    pub id: i64,
    pub practice_id: String,
    pub at: Timestamp,
    pub kind: String,
    pub actor_id: Option<String>,
    pub subject_id: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAuditEvent {
    pub practice_id: String,
    pub at: Timestamp,
    pub kind: &'static str,
    pub actor_id: Option<String>,
    pub subject_id: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub detail: String,
}

/// Which events to read, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    pub limit: u32,
    pub before_id: Option<i64>,
    pub subject_id: Option<String>,
    pub kind: Option<String>,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
}

/// Which people to list on the Team page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PeopleFilter {
    pub role: Option<Role>,
}

/// A counter in a fixed time window, as the database keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub count: i64,
    pub started_at: Timestamp,
}
