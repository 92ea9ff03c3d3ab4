//! Codes waiting for their sign-in or setup: put and resent in place, each by one atomic
//! statement, and judged (counted, consumed, the person's failures and lock) in one transaction.

use async_trait::async_trait;
use latch_app::ids::{PersonId, SessionId};
use latch_app::ports::{ChallengeStore, StoreError, StoreResult};
use latch_app::records::{Challenge, CodeJudgement, Purpose};
use latch_domain::Timestamp;
use latch_domain::two_factor::{Channel, LockAfterFailure, LockState};

use crate::sql;
use crate::{Db, Writing, db_error, on_db};

crate::sql::row! {
    struct ChallengeRow {
        id: String,
        session_id: String,
        person_id: String,
        purpose: String,
        phone: String,
        extension: Option<String>,
        channel: String,
        method: Option<String>,
        code_hash: String,
        expires_at: i64,
        attempts: i64,
        sends: i64,
        last_sent_at: i64,
        created_at: i64,
    }
}

impl TryFrom<ChallengeRow> for Challenge {
    type Error = StoreError;

    fn try_from(r: ChallengeRow) -> Result<Self, StoreError> {
        let bad = || StoreError::Other(format!("challenge {} is malformed", r.id).into());
        Ok(Challenge {
            purpose: Purpose::parse(&r.purpose).ok_or_else(bad)?,
            channel: Channel::parse(&r.channel).ok_or_else(bad)?,
            method: match &r.method {
                Some(method) => Channel::parse(method).ok_or_else(bad)?,
                None => Channel::parse(&r.channel).ok_or_else(bad)?,
            },
            id: r.id,
            session_id: SessionId::from_stored(r.session_id),
            person_id: PersonId::from_stored(r.person_id),
            phone: crate::rows::stored_phone(&r.phone)?,
            extension: r.extension,
            code_hash: r.code_hash,
            expires_at: Timestamp(r.expires_at),
            attempts: r.attempts,
            sends: r.sends,
            last_sent_at: Timestamp(r.last_sent_at),
            created_at: Timestamp(r.created_at),
        })
    }
}

/// The person `$1` while their two-factor step is unlocked at `$2`: a judged code changes the
/// person only then.
macro_rules! unlocked_person {
    () => {
        "id = $1 and not two_factor_locked_for_good \
         and (two_factor_locked_until is null or two_factor_locked_until <= $2)"
    };
}

/// Counts a wrong answer against the person `$person_id` while their step is unlocked at
/// `$now`, and writes the lock it starts: `Some((failures, lock))`, or `None` when the step
/// was locked and nothing was counted. A macro, as each database's connection is its own type.
macro_rules! count_failure {
    ($tx:ident, $person_id:expr, $now:expr, $lock_after:expr) => {{
        let failures: Option<i64> = sql::query_scalar(concat!(
            "update people set code_failures = code_failures + 1 where ",
            unlocked_person!(),
            " returning code_failures"
        ))
        .bind($person_id.as_str())
        .bind($now.seconds())
        .fetch_optional(&mut *$tx)
        .await
        .map_err(db_error)?;
        match failures {
            Some(failures) => {
                let failures = u32::try_from(failures).unwrap_or(u32::MAX);
                let lock = $lock_after(failures);
                let (until, for_good) = match lock {
                    LockAfterFailure::None => (None, false),
                    LockAfterFailure::For { seconds } => (Some($now.plus(seconds)), false),
                    LockAfterFailure::UntilUnlocked => (None, true),
                };
                if lock != LockAfterFailure::None {
                    sql::query(
                        "update people set two_factor_locked_until = $2, \
                         two_factor_locked_for_good = two_factor_locked_for_good or $3 where id = $1",
                    )
                    .bind($person_id.as_str())
                    .bind(until.map(Timestamp::seconds))
                    .bind(for_good)
                    .execute(&mut *$tx)
                    .await
                    .map_err(db_error)?;
                }
                Some((failures, lock))
            }
            None => None,
        }
    }};
}
pub(crate) use {count_failure, unlocked_person};

/// Clears the person's failures on a right answer while their step is unlocked at `$now`,
/// recording the sign-in it finishes when `$finishes` (and the phone's use when `$by_phone`):
/// whether it was unlocked.
macro_rules! clear_failures {
    ($tx:ident, $person_id:expr, $now:expr, $finishes:expr, $by_phone:expr) => {
        sql::query(concat!(
            "update people set code_failures = 0, two_factor_locked_until = null, \
             previous_sign_in_at = case when $3 then last_sign_in_at else previous_sign_in_at end, \
             last_sign_in_at = case when $3 then $2 else last_sign_in_at end, \
             phone_used_at = case when $4 then $2 else phone_used_at end where ",
            unlocked_person!()
        ))
        .bind($person_id.as_str())
        .bind($now.seconds())
        .bind($finishes)
        .bind($by_phone)
        .execute(&mut *$tx)
        .await
        .map_err(db_error)?
        .rows_affected()
            == 1
    };
}
pub(crate) use clear_failures;

#[async_trait]
impl ChallengeStore for Db {
    async fn put_challenge(&self, c: &Challenge) -> StoreResult<()> {
        on_db!(write self, conn => {
            sql::query(
                "insert into challenges (id, session_id, person_id, purpose, phone, extension, channel, code_hash, \
                 expires_at, attempts, sends, last_sent_at, created_at, method) \
                 values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
                 on conflict (session_id, purpose) do update set id = excluded.id, phone = excluded.phone, \
                 extension = excluded.extension, channel = excluded.channel, method = excluded.method, \
                 code_hash = excluded.code_hash, \
                 expires_at = excluded.expires_at, attempts = excluded.attempts, sends = excluded.sends, \
                 last_sent_at = excluded.last_sent_at, created_at = excluded.created_at",
            )
            .bind(&c.id)
            .bind(c.session_id.as_str())
            .bind(c.person_id.as_str())
            .bind(c.purpose.as_str())
            .bind(c.phone.e164())
            .bind(&c.extension)
            .bind(c.channel.as_str())
            .bind(&c.code_hash)
            .bind(c.expires_at.seconds())
            .bind(c.attempts)
            .bind(c.sends)
            .bind(c.last_sent_at.seconds())
            .bind(c.created_at.seconds())
            .bind(c.method.as_str())
            .execute(&mut *conn)
            .await
            .map_err(db_error)?;
        });
        Ok(())
    }

    async fn challenge(
        &self,
        session_id: &SessionId,
        purpose: Purpose,
    ) -> StoreResult<Option<Challenge>> {
        let row: Option<ChallengeRow> = on_db!(self, conn => {
            sql::query_as(
                "select id, session_id, person_id, purpose, phone, extension, channel, method, code_hash, expires_at, \
                 attempts, sends, last_sent_at, created_at from challenges where session_id = $1 and purpose = $2",
            )
            .bind(session_id.as_str())
            .bind(purpose.as_str())
            .fetch_optional(&mut *conn)
            .await
            .map_err(db_error)?
        });
        row.map(Challenge::try_from).transpose()
    }

    async fn resend_challenge(
        &self,
        challenge_id: &str,
        code_hash: &str,
        channel: Channel,
        expires_at: Timestamp,
        now: Timestamp,
        max_sends: i64,
        wait_seconds: i64,
    ) -> StoreResult<bool> {
        let updated = on_db!(write self, conn => {
            sql::query(
                "update challenges set code_hash = $2, channel = $3, expires_at = $4, last_sent_at = $5, \
                 sends = sends + 1, attempts = 0 \
                 where id = $1 and sends < $6 and last_sent_at <= $5 - $7",
            )
            .bind(challenge_id)
            .bind(code_hash)
            .bind(channel.as_str())
            .bind(expires_at.seconds())
            .bind(now.seconds())
            .bind(max_sends)
            .bind(wait_seconds)
            .execute(&mut *conn)
            .await
            .map_err(db_error)?
            .rows_affected()
        });
        Ok(updated == 1)
    }

    async fn judge_code(
        &self,
        challenge_id: &str,
        person_id: &PersonId,
        finishes_sign_in: bool,
        now: Timestamp,
        max_attempts: i64,
        is_right: &(dyn for<'h> Fn(&'h str) -> bool + Send + Sync),
        lock_after: fn(u32) -> LockAfterFailure,
    ) -> StoreResult<CodeJudgement> {
        on_db!(write self, conn => {
            // SECURITY: one transaction whose first write takes the challenge's row (and on
            // SQLite the database's write lock), so guesses at one code queue here; the person's
            // row is taken next, so guesses at the person's other codes queue there. Each then
            // sees what the one before it wrote. No step needs undoing but the count of a guess
            // that finds the person locked, given back by one more statement, so inside a unit
            // of work this runs on the unit's own transaction, without a savepoint.
            let mut tx = Writing::begin(self, conn).await?;
            let counted: Option<(String, i64)> = sql::query_as(
                "update challenges set attempts = attempts + 1 \
                 where id = $1 and attempts < $2 and expires_at > $3 returning code_hash, attempts",
            )
            .bind(challenge_id)
            .bind(max_attempts)
            .bind(now.seconds())
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_error)?;
            let Some((code_hash, attempts)) = counted else {
                tx.done().await?;
                return Ok(CodeJudgement::Spent);
            };
            let judgement = if is_right(&code_hash) {
                let cleared = clear_failures!(tx, person_id, now, finishes_sign_in, true);
                if cleared {
                    sql::query("delete from challenges where id = $1")
                        .bind(challenge_id)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_error)?;
                    Some(CodeJudgement::Accepted)
                } else {
                    None
                }
            } else {
                count_failure!(tx, person_id, now, lock_after)
                    .map(|(failures, lock)| CodeJudgement::Wrong { attempts, failures, lock })
            };
            let judgement = match judgement {
                Some(judgement) => judgement,
                None => {
                    // Locked: the guess counts nothing, not even against its code.
                    sql::query("update challenges set attempts = attempts - 1 where id = $1")
                        .bind(challenge_id)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_error)?;
                    let (locked_until, locked_for_good): (Option<i64>, bool) = sql::query_as(
                        "select two_factor_locked_until, two_factor_locked_for_good from people where id = $1",
                    )
                    .bind(person_id.as_str())
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(db_error)?;
                    CodeJudgement::Locked(LockState { locked_until, locked_for_good })
                }
            };
            tx.done().await?;
            Ok(judgement)
        })
    }

    async fn clear_resend_wait(&self, challenge_id: &str) -> StoreResult<()> {
        on_db!(write self, conn => {
            sql::query("update challenges set last_sent_at = 0 where id = $1")
                .bind(challenge_id)
                .execute(&mut *conn)
                .await
                .map_err(db_error)?;
        });
        Ok(())
    }
}
