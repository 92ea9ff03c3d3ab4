//! The records that use cases read and write through the ports.

use latch_domain::Email;
use latch_domain::application::AppUri;

use crate::ids::{PersonId, PracticeId, SessionId};
use latch_domain::method::{HeldMethods, MethodKind};
use latch_domain::phone::PhoneNumber;
use latch_domain::practice::SecuritySettings;
use latch_domain::session::{SecondFactor, SessionState};
use latch_domain::two_factor::{Channel, LockAfterFailure, LockState};
use latch_domain::{Role, Timestamp};

/// An application that signs people in through latch (an OpenID Connect client), registered by
/// the operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Application {
    /// The `client_id`.
    pub id: String,
    pub name: String,
    /// SHA-256 of the client secret; none for a public client (a single-page or native
    /// application, which proves itself with PKCE alone).
    pub secret_hash: Option<String>,
    pub redirect_uris: Vec<AppUri>,
    pub post_logout_redirect_uris: Vec<AppUri>,
    pub backchannel_logout_uri: Option<AppUri>,
    pub created_at: Timestamp,
}

/// A code given to an application for one sign-in, to exchange for tokens once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationCode {
    /// SHA-256 of the code: the code itself is only in the redirect.
    pub code_hash: String,
    pub application_id: String,
    /// The latch session the sign-in rests on: its tokens die with it.
    pub session_id: SessionId,
    pub person_id: PersonId,
    pub redirect_uri: String,
    /// The scopes granted, space-separated.
    pub scopes: String,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// What an application's token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// A bearer token for userinfo, 10 minutes.
    Access,
    /// Exchanged for new tokens, once (it rotates).
    Refresh,
}

impl TokenKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::Access => "access",
            TokenKind::Refresh => "refresh",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "access" => Some(TokenKind::Access),
            "refresh" => Some(TokenKind::Refresh),
            _ => None,
        }
    }
}

/// A token given to an application, kept as its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplicationToken {
    pub token_hash: String,
    pub kind: TokenKind,
    /// The hash of the authorization code it came from, first or through refreshes.
    pub grant_id: String,
    pub application_id: String,
    pub session_id: SessionId,
    pub person_id: PersonId,
    /// The scopes granted, space-separated.
    pub scopes: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// A back-channel logout waiting to be sent: the application to tell that this latch
/// session has ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackchannelLogout {
    pub application_id: String,
    pub session_id: SessionId,
    pub person_id: PersonId,
    /// Tries so far, this claim included.
    pub attempts: i64,
}

/// An application a latch session signed in to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplicationSignIn {
    pub session_id: SessionId,
    pub application_name: String,
    pub signed_in_at: Timestamp,
}

/// What presenting a code, or a refresh token, found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redeemed<T = AuthorizationCode> {
    /// Unused and alive: it is used now, by this request alone.
    Now(T),
    /// Used before: whatever it gave must be revoked.
    Before(T),
    /// Expired, or never given.
    Not,
}

/// A key latch signs tokens with, its private half sealed (`Keys::seal_signing_key`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKeyRecord {
    /// The JWK `kid`.
    pub id: String,
    pub sealed_private_key: String,
    /// The RSA modulus and exponent, base64url, as the JWKS shows them.
    pub public_n: String,
    pub public_e: String,
    pub created_at: Timestamp,
    /// When another key took over signing; it stays in the JWKS while what it signed lives.
    pub retired_at: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Practice {
    pub id: PracticeId,
    pub name: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    pub security: SecuritySettings,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub id: PersonId,
    pub practice_id: PracticeId,
    /// As the person wrote it; comparisons use its lower-case form.
    pub email: Email,
    pub name: String,
    pub role: Role,
    /// The argon2id PHC string.
    pub password_hash: String,
    /// The phone and method two-factor uses, when it is on.
    pub two_factor: Option<TwoFactorSetting>,
    /// Consecutive wrong codes, and the lock they caused.
    pub code_failures: u32,
    pub lock: LockState,
    pub last_sign_in_at: Option<Timestamp>,
    /// The sign-in before the latest.
    pub previous_sign_in_at: Option<Timestamp>,
    pub created_at: Timestamp,
    /// A link sent to the address was followed (an invitation, a reset, an email change).
    pub email_verified: bool,
    /// When an owner or manager deactivated them; none while they may sign in.
    pub deactivated_at: Option<Timestamp>,
    /// The methods they hold beside the phone, and the one they chose to lead.
    pub other_methods: OtherMethods,
    /// When the phone method was set up and last used.
    pub phone_times: PhoneTimes,
}

impl Person {
    /// Every method they hold, phone included.
    pub fn held(&self) -> HeldMethods {
        HeldMethods {
            phone: self.two_factor.as_ref().map(|s| s.channel),
            totp: self.other_methods.totp,
            passkey: self.other_methods.passkey,
        }
    }

    /// Whether two-factor is on: any method counts.
    pub fn has_two_factor(&self) -> bool {
        self.held().any()
    }

    /// The method a sign-in asks for first.
    pub fn preferred(&self) -> Option<MethodKind> {
        self.held().preferred(self.other_methods.preferred)
    }
}

/// What a person holds beside the phone, as read with them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OtherMethods {
    pub totp: bool,
    pub passkey: bool,
    /// The method they chose to lead a sign-in, if they chose.
    pub preferred: Option<MethodKind>,
}

/// An authenticator app or a passkey of a person's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MethodRecord {
    pub id: String,
    pub person_id: PersonId,
    pub kind: MethodKind,
    pub label: String,
    /// An app's secret sealed to the method's id (`Keys::seal_method_secret`); a passkey's
    /// credential (the library's JSON), sealed the same way.
    pub sealed_secret: String,
    /// An app's last accepted time step; a passkey's last signature counter.
    pub last_step: Option<i64>,
    /// A passkey's credential id, base64url.
    pub credential_id: Option<String>,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
}

/// What the person's phone method was set up and last used at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PhoneTimes {
    pub added_at: Option<Timestamp>,
    pub used_at: Option<Timestamp>,
}

/// What a right answer to a second step uses up, in the statement that judges it, so that of
/// concurrent answers one alone wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consume<'a> {
    /// Nothing: the answer was wrong.
    Nothing,
    /// An app's time step, accepted only past its last one.
    AppStep { method_id: &'a str, step: i64 },
    /// A recovery code, by its keyed hash, once.
    RecoveryCode { code_hash: &'a str },
    /// A passkey's signature counter, accepted only past its last one (or 0 while it has
    /// always been 0: an authenticator that keeps none), with the credential as it is now.
    PasskeyCounter {
        method_id: &'a str,
        counter: i64,
        sealed_secret: &'a str,
    },
    /// A session's enrolment of a method, confirmed once.
    Enrolment {
        session_id: &'a SessionId,
        kind: MethodKind,
    },
}

/// What one answer to a second step (not a sent code) did to its person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnswerJudgement {
    /// Right, and used up now: the person's failures are cleared.
    Accepted,
    /// Wrong, or used before: the person's failures in a row, and the lock it started.
    Wrong {
        failures: u32,
        lock: LockAfterFailure,
    },
    /// The step is locked: nothing was counted or used.
    Locked(LockState),
}

/// A person's two-factor phone and method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TwoFactorSetting {
    pub channel: Channel,
    pub phone: PhoneNumber,
    /// Dialled after the call connects (voice only).
    pub extension: Option<String>,
}

/// A person together with their practice, as most requests need both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub person: Person,
    pub practice: Practice,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPractice {
    pub id: PracticeId,
    pub name: String,
    pub country: String,
    pub security: SecuritySettings,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPerson {
    pub id: PersonId,
    pub practice_id: PracticeId,
    pub email: Email,
    pub name: String,
    pub role: Role,
    pub password_hash: String,
    pub created_at: Timestamp,
    pub email_verified: bool,
}

/// A session row: only the hash of its cookie token is ever stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The public id people see in their session list; not the cookie token.
    pub id: SessionId,
    pub person_id: PersonId,
    pub state: SessionState,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
    pub reauthenticated_until: Option<Timestamp>,
    /// While waiting for a code or a required setup, the session lives until this time.
    pub pending_until: Option<Timestamp>,
    pub ip: String,
    pub label: String,
    /// What stood beside the password when it was signed in; none for the password alone.
    pub second_factor: Option<SecondFactor>,
    /// Begun from a browser the person had not signed in from: finishing it tells them.
    pub new_browser: bool,
}

/// What a session becomes when its token is rotated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionChange {
    pub state: SessionState,
    pub reauthenticated_until: Option<Timestamp>,
    pub pending_until: Option<Timestamp>,
    /// What a finished sign-in proved beside the password; none keeps what it had.
    pub second_factor: Option<SecondFactor>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    pub id: SessionId,
    pub token_hash: String,
    pub person_id: PersonId,
    pub state: SessionState,
    pub created_at: Timestamp,
    pub pending_until: Option<Timestamp>,
    pub ip: String,
    pub label: String,
    pub second_factor: Option<SecondFactor>,
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
    pub practice_id: PracticeId,
    pub at: Timestamp,
    pub kind: String,
    pub actor_id: Option<PersonId>,
    pub subject_id: Option<PersonId>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAuditEvent {
    pub practice_id: PracticeId,
    pub at: Timestamp,
    pub kind: &'static str,
    pub actor_id: Option<PersonId>,
    pub subject_id: Option<PersonId>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub detail: String,
}

/// Which events to read, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    pub limit: u32,
    pub before_id: Option<i64>,
    pub subject_id: Option<PersonId>,
    pub kind: Option<String>,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
}

/// Which people to list on the Team page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PeopleFilter {
    pub role: Option<Role>,
    /// Only the deactivated (`Some(true)`), only the others (`Some(false)`), or everyone.
    pub deactivated: Option<bool>,
}

/// A counter in a fixed time window, as the database keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub count: i64,
    pub started_at: Timestamp,
}

/// What a code was sent for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    SignIn,
    Setup,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::SignIn => "sign_in",
            Purpose::Setup => "setup",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "sign_in" => Some(Purpose::SignIn),
            "setup" => Some(Purpose::Setup),
            _ => None,
        }
    }
}

/// A code waiting for its sign-in or setup; only a keyed hash of the code is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub id: String,
    pub session_id: SessionId,
    pub person_id: PersonId,
    pub purpose: Purpose,
    /// The phone the code went to.
    pub phone: PhoneNumber,
    pub extension: Option<String>,
    /// The method the last code went by.
    pub channel: Channel,
    /// The method a setup is for, as chosen: a call instead of a text leaves it.
    pub method: Channel,
    pub code_hash: String,
    pub expires_at: Timestamp,
    pub attempts: i64,
    pub sends: i64,
    pub last_sent_at: Timestamp,
    pub created_at: Timestamp,
}

/// A remembered browser of a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub id: String,
    pub person_id: PersonId,
    pub label: String,
    pub created_at: Timestamp,
    pub last_used_at: Timestamp,
    pub expires_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDevice {
    pub id: String,
    pub token_hash: String,
    pub person_id: PersonId,
    pub label: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// A text or call as the development outbox keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMessage {
    pub id: i64,
    pub to: String,
    pub channel: Channel,
    pub body: String,
    pub code: Option<String>,
    pub sent_at: Timestamp,
}

/// An invitation to join a practice, while it is open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    pub id: String,
    pub practice_id: PracticeId,
    pub email: Email,
    pub name: String,
    pub role: Role,
    /// Who sent it, with their name; none once they are gone.
    pub invited_by: Option<(PersonId, String)>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewInvitation {
    pub id: String,
    pub practice_id: PracticeId,
    pub email: Email,
    pub name: String,
    pub role: Role,
    pub invited_by: PersonId,
    pub token_hash: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// An email waiting in the queue, sealed, and how often it was tried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedMail {
    pub id: i64,
    pub sealed: String,
    pub attempts: i64,
}

/// An email as the development email outbox keeps it, to be read by the developer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEmailOutboxMessage {
    /// As written; `to_normalized` is what a lookup compares.
    pub to: String,
    pub to_normalized: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// The first of latch's own links in the message.
    pub link: Option<String>,
    pub sent_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailOutboxMessage {
    pub id: i64,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub link: Option<String>,
    pub sent_at: Timestamp,
}

/// What one typed code did (see `ChallengeStore::judge_code`); decided on in the domain.
pub use latch_domain::verification::CodeJudgement;
