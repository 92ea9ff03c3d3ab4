//! Signing in with a password, the password delay, sessions, re-authentication and sign-out.

use std::sync::Arc;

use latch_domain::audit::AuditKind;
use latch_domain::session::{self, SessionState, SessionTimes};
use latch_domain::throttle::{IP_PASSWORD_WINDOW_SECONDS, ip_retry_after, password_delay_seconds};
use latch_domain::{Email, Timestamp, user_agent};

use crate::audit::{Event, record};
use crate::crypto::{new_id, new_token, token_hash};
use crate::error::AppError;
use crate::latch::Core;
use crate::passwords::Verified;
use crate::records::{Account, ClientInfo, NewSession, Session};
use crate::secret::Secret;

/// A session this request belongs to, with its person and practice.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub session: Session,
    pub account: Account,
}

impl Authenticated {
    pub fn is_reauthenticated(&self, now: Timestamp) -> bool {
        self.session
            .reauthenticated_until
            .is_some_and(|until| now < until)
    }
}

/// A new session: the cookie token to hand to the browser, and who it belongs to.
#[derive(Debug)]
pub struct SignedIn {
    pub token: Secret,
    pub state: SessionState,
    pub account: Account,
}

#[derive(Clone)]
pub struct SignInService {
    core: Arc<Core>,
}

impl SignInService {
    pub(crate) fn new(core: Arc<Core>) -> Self {
        SignInService { core }
    }

    /// Checks the password and opens a session.
    pub async fn sign_in(
        &self,
        email: &str,
        password: &Secret,
        client: &ClientInfo,
    ) -> Result<SignedIn, AppError> {
        let core = &self.core;
        // An unparseable email still goes through the same checks and the same hash, so its
        // answer looks and takes like any other wrong sign-in.
        let email_key = Email::parse(email)
            .map(|e| e.normalized().to_owned())
            .unwrap_or_else(|_| email.trim().to_lowercase());
        let account = core.store.account_by_email(&email_key).await?;
        let stored = account.as_ref().map(|a| a.person.password_hash.as_str());
        let outcome = check_password(core, &email_key, stored, password, client).await;
        let Some(account) = account else {
            return Err(outcome.err().unwrap_or(AppError::InvalidCredentials));
        };
        let person = &account.person;
        match outcome {
            Ok(needs_rehash) => {
                if needs_rehash {
                    let hash = core.passwords.hash(password).await?;
                    core.store.set_password_hash(&person.id, &hash).await?;
                }
                let token = open_session(core, &person.id, SessionState::SignedIn, client).await?;
                record(
                    core,
                    Event {
                        practice_id: &person.practice_id,
                        kind: AuditKind::SignInSucceeded,
                        actor_id: Some(&person.id),
                        subject_id: Some(&person.id),
                        client: Some(client),
                        detail: "password".into(),
                    },
                )
                .await?;
                Ok(SignedIn {
                    token,
                    state: SessionState::SignedIn,
                    account,
                })
            }
            Err(err) => {
                let detail = match &err {
                    AppError::RateLimited { .. } => "password attempt refused: too many failures",
                    _ => "wrong password",
                };
                record(
                    core,
                    Event {
                        practice_id: &person.practice_id,
                        kind: AuditKind::SignInFailed,
                        actor_id: None,
                        subject_id: Some(&person.id),
                        client: Some(client),
                        detail: detail.into(),
                    },
                )
                .await?;
                Err(err)
            }
        }
    }

    /// The live session behind a cookie token, or none. Ends a session that has run out.
    pub async fn authenticate(&self, token: &str) -> Result<Option<Authenticated>, AppError> {
        let core = &self.core;
        let Some((session, account)) = core.store.session_by_token(&token_hash(token)).await?
        else {
            return Ok(None);
        };
        let now = core.clock.now();
        let times = SessionTimes {
            created_at: session.created_at,
            last_seen_at: session.last_seen_at,
        };
        let idle = account.practice.security.sign_out_after_idle_minutes;
        if !session::is_live(times, idle, now) {
            core.store
                .delete_session(&session.person_id, &session.id)
                .await?;
            return Ok(None);
        }
        if session::needs_touch(session.last_seen_at, now) {
            core.store.touch_session(&session.id, now).await?;
        }
        Ok(Some(Authenticated { session, account }))
    }

    /// Takes the password again, for actions that need a recent one; answers the session's new
    /// token and how long the re-authentication lasts.
    pub async fn reauthenticate(
        &self,
        who: &Authenticated,
        password: &Secret,
        client: &ClientInfo,
    ) -> Result<(Secret, Timestamp), AppError> {
        let core = &self.core;
        let person = &who.account.person;
        let email_key = person.email.to_lowercase();
        check_password(
            core,
            &email_key,
            Some(&person.password_hash),
            password,
            client,
        )
        .await?;
        let now = core.clock.now();
        let until = now.plus(session::REAUTHENTICATION_SECONDS);
        let token = rotate(core, &who.session, who.session.state, Some(until)).await?;
        Ok((token, until))
    }

    /// Ends this session.
    pub async fn sign_out(&self, who: &Authenticated, client: &ClientInfo) -> Result<(), AppError> {
        let core = &self.core;
        let person = &who.account.person;
        core.store
            .delete_session(&person.id, &who.session.id)
            .await?;
        record(
            core,
            Event {
                practice_id: &person.practice_id,
                kind: AuditKind::SignedOut,
                actor_id: Some(&person.id),
                subject_id: Some(&person.id),
                client: Some(client),
                detail: String::new(),
            },
        )
        .await
    }
}

/// Opens a session for a person whose password was just checked, and answers its token.
pub(crate) async fn open_session(
    core: &Core,
    person_id: &str,
    state: SessionState,
    client: &ClientInfo,
) -> Result<Secret, AppError> {
    let now = core.clock.now();
    let token = new_token();
    let session = NewSession {
        id: new_id(),
        token_hash: token_hash(token.expose()),
        person_id: person_id.to_owned(),
        state,
        created_at: now,
        ip: client.ip.clone(),
        label: user_agent::label(&client.user_agent),
    };
    core.store.insert_session(&session).await?;
    core.store.record_sign_in(person_id, now).await?;
    Ok(token)
}

/// Gives a session a new token, so the cookie it had before is worth nothing.
pub(crate) async fn rotate(
    core: &Core,
    session: &Session,
    state: SessionState,
    reauthenticated_until: Option<Timestamp>,
) -> Result<Secret, AppError> {
    let token = new_token();
    core.store
        .rotate_session(
            &session.id,
            &token_hash(token.expose()),
            state,
            reauthenticated_until,
            core.clock.now(),
        )
        .await?;
    Ok(token)
}

/// Checks a password under the delays of the design: per client address (100 failures in 15
/// minutes) and per person (5 free failures, then a delay doubling from 1 s to 15 minutes).
/// Answers whether the stored hash should be made again at today's cost.
pub(crate) async fn check_password(
    core: &Core,
    email_key: &str,
    stored: Option<&str>,
    password: &Secret,
    client: &ClientInfo,
) -> Result<bool, AppError> {
    let now = core.clock.now();
    let ip_key = format!("password-ip:{}", client.ip);
    if let Some(window) = core.store.window(&ip_key).await?
        && let Some(retry_after) =
            ip_retry_after(window.count, window.started_at.seconds(), now.seconds())
    {
        return Err(AppError::RateLimited { retry_after });
    }
    let failures = core.store.password_failures(email_key).await?;
    if let Some((_, Some(retry_at))) = failures
        && retry_at > now
    {
        return Err(AppError::RateLimited {
            retry_after: retry_at.seconds() - now.seconds(),
        });
    }
    match core.passwords.verify(password, stored).await? {
        Verified::Match { needs_rehash } => {
            if failures.is_some() {
                core.store.clear_password_failures(email_key).await?;
            }
            Ok(needs_rehash)
        }
        Verified::NoMatch => {
            let now = core.clock.now();
            let count = core.store.add_password_failure(email_key, now).await?;
            if let Some(delay) = password_delay_seconds(count) {
                core.store
                    .set_password_retry_at(email_key, now.plus(delay))
                    .await?;
            }
            core.store
                .bump_window(&ip_key, now, IP_PASSWORD_WINDOW_SECONDS)
                .await?;
            Err(AppError::InvalidCredentials)
        }
    }
}
