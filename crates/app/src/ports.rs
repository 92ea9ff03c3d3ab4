//! The store ports: small traits, one per kind of state, all implemented by the one store.
//! Lookups answer `Ok(None)` for "not found"; errors are only for a store that failed.

use std::sync::Arc;

use async_trait::async_trait;
use latch_domain::method::MethodKind;
use latch_domain::practice::SecuritySettings;
use latch_domain::two_factor::{Channel, LockAfterFailure};
use latch_domain::{Email, Role, Timestamp};

use crate::ids::{PersonId, PracticeId, SessionId};
use crate::records::*;

/// Which rule of the database refused a write.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Conflict {
    /// The email is someone's already, anywhere in the installation (`people_email_unique`).
    #[error("the email is taken")]
    EmailTaken,
    /// The installation's first practice exists already.
    #[error("the installation is set up")]
    AlreadySetUp,
    /// A passkey's credential id is held already (`two_factor_methods_credential_unique`).
    #[error("the passkey is registered already")]
    CredentialTaken,
    /// Another unique constraint, by name (or the database's words where it gives no name).
    #[error("unique constraint {0}")]
    Other(String),
}

/// What went wrong beneath, kept whole for the log (a database driver's error, say).
pub type Cause = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A constraint refused the write.
    #[error("conflict: {0}")]
    Conflict(Conflict),
    /// The database cannot be reached, or did not answer in time.
    #[error("database unavailable")]
    Unavailable(#[source] Cause),
    /// The database ended this unit of work to let another finish (a deadlock, or a
    /// serialisation failure): running it again from the start succeeds.
    #[error("unit of work contended")]
    Contended(#[source] Cause),
    #[error("database error")]
    Other(#[source] Cause),
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
    async fn practice(&self, id: &PracticeId) -> StoreResult<Option<Practice>>;
    async fn practices(&self) -> StoreResult<Vec<Practice>>;
    async fn update_security(
        &self,
        practice_id: &PracticeId,
        security: &SecuritySettings,
    ) -> StoreResult<()>;
}

#[async_trait]
pub trait PersonStore {
    /// `Conflict` when the email is in use anywhere in the installation.
    async fn insert_person(&self, person: &NewPerson) -> StoreResult<()>;
    /// By case-folded email, with the person's practice.
    async fn account_by_email(&self, email_normalized: &str) -> StoreResult<Option<Account>>;
    async fn person_by_id(&self, person_id: &PersonId) -> StoreResult<Option<Person>>;
    /// A person of this practice; people of other practices do not exist here.
    async fn person_in_practice(
        &self,
        practice_id: &PracticeId,
        person_id: &PersonId,
    ) -> StoreResult<Option<Person>>;
    async fn people(
        &self,
        practice_id: &PracticeId,
        filter: &PeopleFilter,
    ) -> StoreResult<Vec<Person>>;
    /// How many people the practice has, counted on its index, not read.
    async fn headcount(&self, practice_id: &PracticeId) -> StoreResult<i64>;
    async fn set_password_hash(&self, person_id: &PersonId, password_hash: &str)
    -> StoreResult<()>;
    async fn record_sign_in(&self, person_id: &PersonId, at: Timestamp) -> StoreResult<()>;
    async fn set_two_factor_lock(
        &self,
        person_id: &PersonId,
        locked_until: Option<Timestamp>,
        for_good: bool,
    ) -> StoreResult<()>;
    /// Whether someone other than `person_id` has this number as their two-factor phone.
    async fn phone_confirmed_by_another(
        &self,
        e164: &str,
        person_id: &PersonId,
    ) -> StoreResult<bool>;
    /// Clears the wrong-code count and any lock (a completed sign-in or setup, or an unlock).
    async fn clear_code_failures(&self, person_id: &PersonId) -> StoreResult<()>;
    /// Turns two-factor on, or replaces its phone and method.
    /// Sets (or, with none, removes) the phone method, set up `at`.
    async fn set_two_factor(
        &self,
        person_id: &PersonId,
        setting: Option<&TwoFactorSetting>,
        at: Timestamp,
    ) -> StoreResult<()>;
    async fn set_name_and_role(
        &self,
        person_id: &PersonId,
        name: &str,
        role: Role,
    ) -> StoreResult<()>;
    /// Deactivates (`Some`, when) or reactivates (`None`) a person.
    async fn set_deactivated(&self, person_id: &PersonId, at: Option<Timestamp>)
    -> StoreResult<()>;
    /// Holds the practice's row until the unit of work ends, so that rules over several of its
    /// people (its last active owner) are judged by one unit at a time. SQLite's units take
    /// turns already.
    async fn lock_practice(&self, practice_id: &PracticeId) -> StoreResult<()>;
    /// Owners of the practice who are not deactivated, but for `besides`.
    async fn other_active_owners(
        &self,
        practice_id: &PracticeId,
        besides: &PersonId,
    ) -> StoreResult<i64>;
    /// A new address, verified by the link that brought it; `Conflict::EmailTaken` when it is
    /// someone's now.
    async fn set_email(&self, person_id: &PersonId, email: &Email) -> StoreResult<()>;
    async fn set_email_verified(&self, person_id: &PersonId) -> StoreResult<()>;
}

#[async_trait]
pub trait SessionStore {
    async fn insert_session(&self, session: &NewSession) -> StoreResult<()>;
    /// The session whose token hashes to `token_hash`, with its person and practice.
    async fn session_by_token(&self, token_hash: &str) -> StoreResult<Option<(Session, Account)>>;
    /// The session with this public id, with its person and practice (for what an application
    /// holds: its tokens name the session, never its cookie).
    async fn session_by_id(
        &self,
        session_id: &SessionId,
    ) -> StoreResult<Option<(Session, Account)>>;
    async fn touch_session(&self, session_id: &SessionId, at: Timestamp) -> StoreResult<()>;
    /// Marks a held sign-in as begun from a browser new to its person.
    async fn mark_new_browser(&self, session_id: &SessionId) -> StoreResult<()>;
    /// Keeps a pending session alive until `until` (after each send).
    async fn set_pending_until(&self, session_id: &SessionId, until: Timestamp) -> StoreResult<()>;
    /// Gives the session a new token (and state and re-authentication), so an old cookie dies.
    async fn rotate_session(
        &self,
        session_id: &SessionId,
        new_token_hash: &str,
        change: &SessionChange,
        at: Timestamp,
    ) -> StoreResult<()>;
    async fn sessions_of(&self, person_id: &PersonId) -> StoreResult<Vec<Session>>;
    /// Ends one session of this person; false when there was none.
    async fn delete_session(
        &self,
        person_id: &PersonId,
        session_id: &SessionId,
    ) -> StoreResult<bool>;
    /// Ends every session of the person but `keep`.
    /// Ends what a session gave applications, the session itself going on: its tokens go, and
    /// the applications it signed in to are told (back-channel logout) and must sign in again.
    async fn end_applications_of_session(&self, session_id: &SessionId) -> StoreResult<()>;
    async fn delete_sessions_of(
        &self,
        person_id: &PersonId,
        keep: Option<&SessionId>,
    ) -> StoreResult<u64>;
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
    /// Two windows in one read, in the order asked.
    async fn windows(&self, keys: [&str; 2]) -> StoreResult<[Option<Window>; 2]>;
    /// Adds one to the counter named `key`, starting a new window when the old one is over.
    async fn bump_window(
        &self,
        key: &str,
        at: Timestamp,
        window_seconds: i64,
    ) -> StoreResult<Window>;
    /// Adds one to each of three or four counters, each with its own window length, in one
    /// statement; answers them in the order given.
    async fn bump_windows(
        &self,
        windows: &[(&str, i64)],
        at: Timestamp,
    ) -> StoreResult<Vec<Window>>;
    /// Takes `by` back from the counters named in `keys` (never below zero).
    async fn unbump_windows(&self, keys: [&str; 2], by: i64) -> StoreResult<()>;
}

#[async_trait]
pub trait AuditStore {
    /// Appends events in the order given, in one statement.
    async fn append_audit(&self, events: &[NewAuditEvent]) -> StoreResult<()>;
    async fn audit_events(
        &self,
        practice_id: &PracticeId,
        query: &AuditQuery,
    ) -> StoreResult<Vec<AuditEvent>>;
}

#[async_trait]
pub trait ChallengeStore {
    /// Starts a challenge for a session's sign-in or setup, replacing any earlier one of the
    /// same purpose (its code dies).
    async fn put_challenge(&self, challenge: &Challenge) -> StoreResult<()>;
    async fn challenge(
        &self,
        session_id: &SessionId,
        purpose: Purpose,
    ) -> StoreResult<Option<Challenge>>;
    /// Replaces the code of a challenge for a resend, in one statement that refuses when the
    /// challenge has no sends left or was sent less than `wait_seconds` ago. Answers whether
    /// it took.
    #[expect(
        clippy::too_many_arguments,
        reason = "one atomic statement's parameters"
    )]
    async fn resend_challenge(
        &self,
        challenge_id: &str,
        code_hash: &str,
        channel: Channel,
        expires_at: Timestamp,
        now: Timestamp,
        max_sends: i64,
        wait_seconds: i64,
    ) -> StoreResult<bool>;
    /// Judges one typed code against a challenge, all in one transaction, so that whatever
    /// arrives at once: the guess is counted against the code first (at most `max_attempts`
    /// per code, and none once it has expired), then against the person, whose lock is checked
    /// in the same step. A right code consumes the challenge (of many at once exactly one wins)
    /// and clears the person's failures (and, when it `finishes_sign_in`, records the sign-in
    /// at `now`, in the same statement); a wrong one adds one failure and, when `lock_after`
    /// says that count locks, writes that lock, never a shorter one. A guess that finds the
    /// step locked, or the code spent, counts nothing.
    #[allow(clippy::too_many_arguments)]
    async fn judge_code(
        &self,
        challenge_id: &str,
        person_id: &PersonId,
        finishes_sign_in: bool,
        now: Timestamp,
        max_attempts: i64,
        is_right: &(dyn for<'h> Fn(&'h str) -> bool + Send + Sync),
        lock_after: fn(u32) -> LockAfterFailure,
    ) -> StoreResult<CodeJudgement>;
    /// A failed delivery starts no resend wait: the next resend may go at once.
    async fn clear_resend_wait(&self, challenge_id: &str) -> StoreResult<()>;
}

#[async_trait]
pub trait DeviceStore {
    async fn insert_device(&self, device: &NewDevice) -> StoreResult<()>;
    /// The person's unexpired device whose token hashes to `token_hash`.
    async fn device(
        &self,
        person_id: &PersonId,
        token_hash: &str,
        now: Timestamp,
    ) -> StoreResult<Option<Device>>;
    async fn touch_device(&self, device_id: &str, at: Timestamp) -> StoreResult<()>;
    /// The person's unexpired devices, most recently used first.
    async fn devices_of(&self, person_id: &PersonId, now: Timestamp) -> StoreResult<Vec<Device>>;
    async fn delete_device(&self, person_id: &PersonId, device_id: &str) -> StoreResult<bool>;
    async fn delete_devices_of(&self, person_id: &PersonId) -> StoreResult<u64>;
    /// Holds the practice's remembered devices to a new, lower limit: those remembered longer
    /// ago end (answers how many), and the rest expire at their creation plus the limit.
    async fn apply_remember_limit(
        &self,
        practice_id: &PracticeId,
        limit_seconds: i64,
        now: Timestamp,
    ) -> StoreResult<u64>;
    /// Unexpired remembered devices per person of a practice (people with none are left out).
    async fn device_counts(
        &self,
        practice_id: &PracticeId,
        now: Timestamp,
    ) -> StoreResult<Vec<(String, i64)>>;
}

#[async_trait]
pub trait OutboxStore {
    async fn append_outbox(
        &self,
        to: &str,
        channel: Channel,
        body: &str,
        code: Option<&str>,
        at: Timestamp,
    ) -> StoreResult<i64>;
    /// Newest first, to one number or to all.
    async fn outbox(&self, to: Option<&str>, limit: u32) -> StoreResult<Vec<OutboxMessage>>;
}

#[async_trait]
pub trait DeliveryLogStore {
    /// Remembers which practice and person a provider's message was for.
    async fn record_delivery(
        &self,
        provider_id: &str,
        practice_id: &PracticeId,
        person_id: &PersonId,
        channel: Channel,
        at: Timestamp,
    ) -> StoreResult<()>;
    /// The practice and person of a provider's message, if latch sent it.
    async fn delivery(
        &self,
        provider_id: &str,
    ) -> StoreResult<Option<(PracticeId, Option<PersonId>)>>;
}

#[async_trait]
pub trait CallStore {
    async fn put_call(
        &self,
        token_hash: &str,
        sealed_code: &str,
        expires_at: Timestamp,
    ) -> StoreResult<()>;
    /// Takes a call's sealed code, once: the row goes in the same statement.
    async fn take_call(&self, token_hash: &str, now: Timestamp) -> StoreResult<Option<String>>;
}

#[async_trait]
pub trait ApplicationStore {
    async fn put_application(&self, application: &Application) -> StoreResult<()>;
    /// Every application, oldest first.
    async fn applications(&self) -> StoreResult<Vec<Application>>;
    async fn application(&self, id: &str) -> StoreResult<Option<Application>>;
    /// Answers whether there was one to remove.
    async fn remove_application(&self, id: &str) -> StoreResult<bool>;
    /// Replaces a confidential application's secret; answers whether there was one.
    async fn set_application_secret(&self, id: &str, secret_hash: &str) -> StoreResult<bool>;
    /// The key that signs and those retired at or after `retired_since`, the signing one first.
    async fn signing_keys(&self, retired_since: Timestamp) -> StoreResult<Vec<SigningKeyRecord>>;
    /// Makes `key` the one that signs, unless one does already (another node may have made
    /// one a moment ago); answers whether it did.
    async fn add_first_signing_key(&self, key: &SigningKeyRecord) -> StoreResult<bool>;
    /// Retires the key that signs at `now` and makes `key` the one that signs, together.
    async fn rotate_signing_key(&self, key: &SigningKeyRecord, now: Timestamp) -> StoreResult<()>;
    async fn put_authorization_code(&self, code: &AuthorizationCode) -> StoreResult<()>;
    /// Uses the code whose hash is `code_hash` at `now`, in one guarded statement: of requests
    /// presenting it at once, one finds it `Now` and the others `Before`.
    async fn redeem_authorization_code(
        &self,
        code_hash: &str,
        now: Timestamp,
    ) -> StoreResult<Redeemed>;
    async fn put_application_token(&self, token: &ApplicationToken) -> StoreResult<()>;
    /// The unexpired token of `kind` whose hash is `token_hash` (a refresh token not yet used).
    async fn application_token(
        &self,
        token_hash: &str,
        kind: TokenKind,
        now: Timestamp,
    ) -> StoreResult<Option<ApplicationToken>>;
    /// The scopes of the unexpired access token whose hash is `token_hash`, with the session
    /// it was given to and that session's account: what userinfo needs, in one read.
    async fn access_token_session(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> StoreResult<Option<(String, Session, Account)>>;
    /// Uses the refresh token whose hash is `token_hash` at `now`, in one guarded statement:
    /// of requests presenting it at once, one finds it `Now` and the others `Before`.
    async fn use_refresh_token(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> StoreResult<Redeemed<ApplicationToken>>;
    /// Ends one token; answers it, if there was one.
    async fn revoke_token(&self, token_hash: &str) -> StoreResult<Option<ApplicationToken>>;
    /// Ends every token of one grant (a code used twice, a refresh token used again); answers
    /// how many.
    async fn revoke_grant(&self, grant_id: &str) -> StoreResult<u64>;
    /// Notes that a latch session signed in to an application (once per pair).
    async fn put_application_sign_in(
        &self,
        session_id: &SessionId,
        application_id: &str,
        person_id: &PersonId,
        at: Timestamp,
    ) -> StoreResult<()>;
    /// The applications the person's sessions signed in to, newest first.
    async fn application_sign_ins_of(
        &self,
        person_id: &PersonId,
    ) -> StoreResult<Vec<ApplicationSignIn>>;
    /// Claims up to `limit` back-channel logouts due at `now` for this node: each is counted
    /// as a try and not due again until `retry_at`, so no other node sends it meanwhile.
    async fn claim_backchannel_logouts(
        &self,
        now: Timestamp,
        retry_at: Timestamp,
        limit: i64,
    ) -> StoreResult<Vec<BackchannelLogout>>;
    /// A logout the application received, or one given up on.
    async fn finish_backchannel_logout(
        &self,
        application_id: &str,
        session_id: &SessionId,
    ) -> StoreResult<()>;
    /// A logout the application did not take: tried again at `due_at`.
    async fn postpone_backchannel_logout(
        &self,
        application_id: &str,
        session_id: &SessionId,
        due_at: Timestamp,
    ) -> StoreResult<()>;
}

#[async_trait]
pub trait SweepStore {
    /// Deletes up to `batch` rows of each kind that ran out before `now`: sessions (past the
    /// longest idle time or the absolute lifetime, or pending past their time), remembered
    /// devices, rate windows, call tokens, old delivery ids, authorization codes, application
    /// tokens, enrolments and passkey sign-ins. Safe
    /// when several nodes sweep at once: each statement takes what is still there. Answers how
    /// many rows went.
    async fn sweep(&self, now: Timestamp, batch: i64) -> StoreResult<u64>;
}

#[async_trait]
pub trait MailStore {
    /// Queues an email (sealed), due now; answers its id.
    async fn queue_mail(&self, sealed: &str, at: Timestamp) -> StoreResult<i64>;
    /// Claims up to `limit` due emails for this node: each is not due again before
    /// `retry_at`, so of nodes claiming at once each email goes to one.
    async fn claim_mail(
        &self,
        now: Timestamp,
        retry_at: Timestamp,
        limit: i64,
    ) -> StoreResult<Vec<QueuedMail>>;
    async fn finish_mail(&self, id: i64) -> StoreResult<()>;
    async fn postpone_mail(&self, id: i64, due_at: Timestamp) -> StoreResult<()>;
    /// The development email outbox: keeps a message as it would have gone out.
    async fn append_email_outbox(&self, message: &NewEmailOutboxMessage) -> StoreResult<i64>;
    /// Newest first; `to` case-folded.
    async fn email_outbox(
        &self,
        to: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<EmailOutboxMessage>>;
}

#[async_trait]
pub trait InvitationStore {
    /// `Conflict::EmailTaken` when the address has an open invitation already.
    async fn insert_invitation(&self, invitation: &NewInvitation) -> StoreResult<()>;
    /// The practice's open invitations, newest first.
    async fn invitations(
        &self,
        practice_id: &PracticeId,
        now: Timestamp,
    ) -> StoreResult<Vec<Invitation>>;
    async fn invitation_in_practice(
        &self,
        practice_id: &PracticeId,
        id: &str,
        now: Timestamp,
    ) -> StoreResult<Option<Invitation>>;
    /// The open invitation whose link's token hashes to `token_hash`, with its practice.
    async fn invitation_by_token(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> StoreResult<Option<(Invitation, Practice)>>;
    /// A new link for an open invitation: the old one stops working.
    async fn renew_invitation(
        &self,
        id: &str,
        token_hash: &str,
        expires_at: Timestamp,
    ) -> StoreResult<()>;
    /// Ends an invitation; false when there was none.
    async fn delete_invitation(&self, practice_id: &PracticeId, id: &str) -> StoreResult<bool>;
    /// Uses an invitation up, in one statement: it, or none when it was not there to use.
    async fn take_invitation(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> StoreResult<Option<String>>;
    /// Ends the invitations a person sent (they were deactivated); answers how many.
    async fn delete_invitations_by(&self, person_id: &PersonId) -> StoreResult<u64>;
    /// Whether a person, or an open invitation, has the address; an expired invitation
    /// holding it goes first.
    async fn email_in_use(&self, email_normalized: &str, now: Timestamp) -> StoreResult<bool>;
}

#[async_trait]
pub trait EmailChangeStore {
    /// Keeps the person's one pending change (the link's token's hash), replacing an earlier one.
    async fn put_email_change(
        &self,
        person_id: &PersonId,
        new_email: &Email,
        token_hash: &str,
        at: Timestamp,
        expires_at: Timestamp,
    ) -> StoreResult<()>;
    /// Uses the change's link up, in one statement: whose and to what, or none.
    async fn take_email_change(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> StoreResult<Option<(PersonId, Email)>>;
}

#[async_trait]
pub trait RecoveryStore {
    /// Keeps the person's one reset link (its token's hash), replacing an earlier one.
    async fn put_password_reset(
        &self,
        person_id: &PersonId,
        token_hash: &str,
        at: Timestamp,
        expires_at: Timestamp,
    ) -> StoreResult<()>;
    /// Whose the link is, while it works.
    async fn password_reset(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> StoreResult<Option<Account>>;
    /// Uses the link up, in one statement: whose it was, or none when it was not there to use.
    async fn take_password_reset(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> StoreResult<Option<PersonId>>;
    /// Ends the person's links: a reset's and an email change's.
    async fn delete_links_of(&self, person_id: &PersonId) -> StoreResult<()>;
}

#[async_trait]
pub trait MethodStore {
    /// The person's apps and passkeys, oldest first.
    async fn methods_of(&self, person_id: &PersonId) -> StoreResult<Vec<MethodRecord>>;
    /// The apps and passkeys of everyone in the practice, oldest first.
    async fn methods_in_practice(&self, practice_id: &PracticeId)
    -> StoreResult<Vec<MethodRecord>>;
    /// Recovery codes left unused, by person, for those of the practice who have any.
    async fn recovery_codes_left_in_practice(
        &self,
        practice_id: &PracticeId,
    ) -> StoreResult<Vec<(PersonId, i64)>>;
    async fn insert_method(&self, method: &MethodRecord) -> StoreResult<()>;
    /// Deletes one of the person's apps or passkeys: whether it was there.
    async fn delete_method(&self, person_id: &PersonId, method_id: &str) -> StoreResult<bool>;
    /// Deletes every app, passkey and recovery code of the person.
    async fn delete_methods_of(&self, person_id: &PersonId) -> StoreResult<()>;
    async fn set_preferred_method(
        &self,
        person_id: &PersonId,
        kind: Option<MethodKind>,
    ) -> StoreResult<()>;
    /// Keeps a session's enrolment of a method, replacing an earlier one of the same kind.
    async fn put_enrolment(
        &self,
        session_id: &SessionId,
        kind: MethodKind,
        sealed_state: &str,
        expires_at: Timestamp,
    ) -> StoreResult<()>;
    /// Takes a session's enrolment while it holds: of concurrent takers, one gets it.
    async fn take_enrolment(
        &self,
        session_id: &SessionId,
        kind: MethodKind,
        now: Timestamp,
    ) -> StoreResult<Option<String>>;
    /// The passkey with this credential id (base64url), whoever's it is.
    async fn passkey_by_credential(&self, credential_id: &str)
    -> StoreResult<Option<MethodRecord>>;
    /// Keeps a passkey sign-in's sealed ceremony under `key`, replacing an earlier one.
    async fn put_passkey_sign_in(
        &self,
        key: &str,
        sealed_state: &str,
        expires_at: Timestamp,
    ) -> StoreResult<()>;
    /// Takes the passkey sign-in kept under `key` while it holds: of concurrent takers, one
    /// gets it.
    async fn take_passkey_sign_in(&self, key: &str, now: Timestamp) -> StoreResult<Option<String>>;
    /// A session's enrolment while it holds.
    async fn enrolment(
        &self,
        session_id: &SessionId,
        kind: MethodKind,
        now: Timestamp,
    ) -> StoreResult<Option<String>>;
    /// Replaces the person's recovery codes with these keyed hashes.
    async fn replace_recovery_codes(
        &self,
        person_id: &PersonId,
        code_hashes: &[String],
        at: Timestamp,
    ) -> StoreResult<()>;
    /// Recovery codes the person has left unused.
    async fn recovery_codes_left(&self, person_id: &PersonId) -> StoreResult<i64>;
    /// Judges an answer to a second step in one transaction: a right one uses up `consume`
    /// and clears the person's failures (recording the sign-in it finishes); a wrong one, or a
    /// right one already used, counts a failure and may lock the step; nothing counts while
    /// the step is locked.
    async fn judge_answer(
        &self,
        person_id: &PersonId,
        consume: Consume<'_>,
        finishes_sign_in: bool,
        now: Timestamp,
        lock_after: fn(u32) -> LockAfterFailure,
    ) -> StoreResult<AnswerJudgement>;
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
    + ChallengeStore
    + DeviceStore
    + OutboxStore
    + DeliveryLogStore
    + CallStore
    + ApplicationStore
    + MailStore
    + InvitationStore
    + EmailChangeStore
    + RecoveryStore
    + MethodStore
    + SweepStore
    + Send
    + Sync
{
    /// Whether the database answers (for `/readyz`).
    async fn ping(&self) -> StoreResult<()>;
    /// Connections in the pool: open, and idle among them.
    fn pool_status(&self) -> (u32, u32);
    /// Begins one unit of work: every port of the answer runs in one transaction, which
    /// commits all of its writes together or, dropped, none. It writes from the start, so
    /// nothing slow (hashing, a provider) belongs inside one.
    async fn begin(&self) -> StoreResult<Arc<dyn UnitOfWork>>;
}

/// The store inside one transaction.
#[async_trait]
pub trait UnitOfWork: Store {
    async fn commit(&self) -> StoreResult<()>;
}
