//! Checking a password under the design's delays: the reads and the hash come before any unit
//! of work (a hash takes milliseconds, and holds no transaction open), and what the check
//! counted is written inside the use case's own.

use latch_domain::audit::AuditKind;
use latch_domain::throttle::{
    IP_PASSWORD_WINDOW_SECONDS, client_key, ip_retry_after, password_delay_seconds,
};

use crate::audit::{Event, record};
use crate::error::AppError;
use crate::latch::Core;
use crate::passwords::Verified;
use crate::records::ClientInfo;
use crate::secret::Secret;
use crate::session::Authenticated;

/// What a password check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The password is right; the stored hash may be due for today's cost.
    Right {
        needs_rehash: bool,
    },
    Wrong,
    /// Not checked: a delay holds for the address or the email.
    Refused {
        retry_after: i64,
    },
}

/// A password checked, and what it will count once written.
#[derive(Debug)]
pub(crate) struct PasswordCheck {
    email_key: String,
    ip_key: String,
    had_failures: bool,
    pub(crate) outcome: Outcome,
}

impl PasswordCheck {
    /// The check as the use case answers it: whether the hash is due again, or the refusal.
    pub(crate) fn result(&self) -> Result<bool, AppError> {
        match self.outcome {
            Outcome::Right { needs_rehash } => Ok(needs_rehash),
            Outcome::Wrong => Err(AppError::InvalidCredentials),
            Outcome::Refused { retry_after } => Err(AppError::rate_limited(retry_after)),
        }
    }

    /// Writes what the check counted (in the use case's unit of work), and answers whether a
    /// refusal is worth an audit event: a wrong password always; a refusal under a delay only
    /// the first time in that delay, so that a script hammering a throttled address cannot
    /// flood the practice's trail. The refusal is counted for unknown emails as for known
    /// ones, so the two take the same work.
    pub(crate) async fn record(&self, core: &Core) -> Result<bool, AppError> {
        let now = core.clock.now();
        match self.outcome {
            Outcome::Right { .. } => {
                if self.had_failures {
                    core.store.clear_password_failures(&self.email_key).await?;
                }
                Ok(false)
            }
            Outcome::Wrong => {
                let count = core
                    .store
                    .add_password_failure(&self.email_key, now)
                    .await?;
                if let Some(delay) = password_delay_seconds(count) {
                    core.store
                        .set_password_retry_at(&self.email_key, now.plus(delay))
                        .await?;
                }
                count_against_address(core, &self.ip_key).await?;
                Ok(true)
            }
            Outcome::Refused { retry_after } => {
                let window = core
                    .store
                    .bump_window(
                        &format!("refusal-audited:{}", self.email_key),
                        now,
                        retry_after.max(1),
                    )
                    .await?;
                Ok(window.count == 1)
            }
        }
    }
}

/// Checks a password under the delays of the design: per client address (100 failures in 15
/// minutes) and per person (5 free failures, then a delay doubling from 1 s to 15 minutes).
/// Only reads and hashes; `PasswordCheck::record` writes what it counted.
pub(crate) async fn check_password(
    core: &Core,
    email_key: &str,
    stored: Option<&str>,
    password: &Secret,
    client: &ClientInfo,
    remembered_browser: bool,
) -> Result<PasswordCheck, AppError> {
    let now = core.clock.now();
    let mut check = PasswordCheck {
        email_key: email_key.to_owned(),
        had_failures: false,
        outcome: Outcome::Wrong,
        ip_key: password_address_key(client),
    };
    // SECURITY: a browser the person chose to remember is exempt from both delays, so someone
    // guessing passwords cannot lock the person out of their own computer.
    if !remembered_browser
        && let Some(retry_after) = address_retry_after(core, &check.ip_key).await?
    {
        check.outcome = Outcome::Refused { retry_after };
        return Ok(check);
    }
    let failures = core.store.password_failures(email_key).await?;
    check.had_failures = failures.is_some();
    if !remembered_browser
        && let Some((_, Some(retry_at))) = failures
        && retry_at > now
    {
        check.outcome = Outcome::Refused {
            retry_after: retry_at.seconds() - now.seconds(),
        };
        return Ok(check);
    }
    check.outcome = match core.passwords.verify(password, stored).await? {
        Verified::Match { needs_rehash } => Outcome::Right { needs_rehash },
        Verified::NoMatch => Outcome::Wrong,
    };
    Ok(check)
}

/// The window that counts an address's wrong passwords, and what stands for them (a refused
/// passkey sign-in alone).
pub(crate) fn password_address_key(client: &ClientInfo) -> String {
    format!("password-ip:{}", client_key(&client.ip))
}

/// How long the design's limit per client address (100 in 15 minutes) still refuses the
/// address counted in the window `key`, if it does. Only reads.
pub(crate) async fn address_retry_after(core: &Core, key: &str) -> Result<Option<i64>, AppError> {
    let now = core.clock.now().seconds();
    Ok(core
        .store
        .window(key)
        .await?
        .and_then(|window| ip_retry_after(window.count, window.started_at.seconds(), now)))
}

/// Counts one more against the address in the window `key`.
pub(crate) async fn count_against_address(core: &Core, key: &str) -> Result<(), AppError> {
    let now = core.clock.now();
    core.store
        .bump_window(key, now, IP_PASSWORD_WINDOW_SECONDS)
        .await?;
    Ok(())
}

/// Checks the password a signed-in person re-entered (to re-authenticate, or as the current
/// password of a change) under the same delays as a sign-in. Only reads and hashes.
pub(crate) async fn check_password_again(
    core: &Core,
    who: &Authenticated,
    password: &Secret,
    client: &ClientInfo,
) -> Result<PasswordCheck, AppError> {
    let person = &who.account.person;
    check_password(
        core,
        person.email.normalized(),
        Some(&person.password_hash),
        password,
        client,
        false,
    )
    .await
}

/// Writes what a re-entered password counted, in the use case's unit of work, and audits a
/// failure worth it; answers the check.
pub(crate) async fn record_password_again(
    core: &Core,
    who: &Authenticated,
    check: &PasswordCheck,
    client: &ClientInfo,
    what: &str,
) -> Result<bool, AppError> {
    let person = &who.account.person;
    let worth_auditing = check.record(core).await?;
    if check.result().is_err() && worth_auditing {
        record(
            core,
            Event {
                practice_id: &person.practice_id,
                kind: AuditKind::PasswordReentryFailed,
                actor_id: Some(&person.id),
                subject_id: Some(&person.id),
                client: Some(client),
                detail: match check.outcome {
                    Outcome::Refused { .. } => format!("{what}: refused, too many failures"),
                    _ => format!("{what}: wrong password"),
                },
            },
        )
        .await?;
    }
    check.result()
}
