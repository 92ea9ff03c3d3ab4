//! The methods beside the phone: a person's apps and passkeys, their recovery codes, the
//! enrolments waiting to be confirmed, passkey sign-ins begun, and judging an answer to a second step (used up,
//! counted, the person's failures and lock) in one transaction.

use async_trait::async_trait;
use latch_app::ids::{PersonId, PracticeId, SessionId};
use latch_app::ports::{MethodStore, StoreError, StoreResult};
use latch_app::records::{AnswerJudgement, Consume, MethodRecord};
use latch_domain::Timestamp;
use latch_domain::method::MethodKind;
use latch_domain::two_factor::{LockAfterFailure, LockState};

use crate::challenges::{clear_failures, count_failure, unlocked_person};
use crate::sql;
use crate::{Db, begin_write, db_error, on_db};

crate::sql::row! {
    struct MethodRow {
        id: String,
        person_id: String,
        kind: String,
        label: String,
        sealed_secret: String,
        last_step: Option<i64>,
        credential_id: Option<String>,
        created_at: i64,
        last_used_at: Option<i64>,
    }
}

impl TryFrom<MethodRow> for MethodRecord {
    type Error = StoreError;

    fn try_from(r: MethodRow) -> Result<Self, StoreError> {
        Ok(MethodRecord {
            kind: MethodKind::parse(&r.kind).ok_or_else(|| {
                StoreError::Other(format!("method {} has a bad kind", r.id).into())
            })?,
            id: r.id,
            person_id: PersonId::from_stored(r.person_id),
            label: r.label,
            sealed_secret: r.sealed_secret,
            last_step: r.last_step,
            credential_id: r.credential_id,
            created_at: Timestamp(r.created_at),
            last_used_at: r.last_used_at.map(Timestamp),
        })
    }
}

#[async_trait]
impl MethodStore for Db {
    async fn methods_of(&self, person_id: &PersonId) -> StoreResult<Vec<MethodRecord>> {
        let rows: Vec<MethodRow> = on_db!(self, conn => {
            sql::query_as(
                "select id, person_id, kind, label, sealed_secret, last_step, credential_id, created_at, \
                 last_used_at from two_factor_methods where person_id = $1 order by created_at, id",
            )
            .bind(person_id.as_str())
            .fetch_all(&mut *conn)
            .await
            .map_err(db_error)?
        });
        rows.into_iter().map(MethodRecord::try_from).collect()
    }

    async fn methods_in_practice(
        &self,
        practice_id: &PracticeId,
    ) -> StoreResult<Vec<MethodRecord>> {
        let rows: Vec<MethodRow> = on_db!(self, conn => {
            sql::query_as(
                "select m.id, m.person_id, m.kind, m.label, m.sealed_secret, m.last_step, m.credential_id, \
                 m.created_at, m.last_used_at from two_factor_methods m join people p on p.id = m.person_id \
                 where p.practice_id = $1 order by m.created_at, m.id",
            )
            .bind(practice_id.as_str())
            .fetch_all(&mut *conn)
            .await
            .map_err(db_error)?
        });
        rows.into_iter().map(MethodRecord::try_from).collect()
    }

    async fn recovery_codes_left_in_practice(
        &self,
        practice_id: &PracticeId,
    ) -> StoreResult<Vec<(PersonId, i64)>> {
        let rows: Vec<(String, i64)> = on_db!(self, conn => {
            sql::query_as(
                "select r.person_id, count(*) from recovery_codes r join people p on p.id = r.person_id \
                 where p.practice_id = $1 and r.used_at is null group by r.person_id",
            )
            .bind(practice_id.as_str())
            .fetch_all(&mut *conn)
            .await
            .map_err(db_error)?
        });
        Ok(rows
            .into_iter()
            .map(|(id, left)| (PersonId::from_stored(id), left))
            .collect())
    }

    async fn insert_method(&self, m: &MethodRecord) -> StoreResult<()> {
        on_db!(write self, conn => {
            sql::query(
                "insert into two_factor_methods (id, person_id, kind, label, sealed_secret, last_step, \
                 credential_id, created_at, last_used_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(&m.id)
            .bind(m.person_id.as_str())
            .bind(m.kind.as_str())
            .bind(&m.label)
            .bind(&m.sealed_secret)
            .bind(m.last_step)
            .bind(&m.credential_id)
            .bind(m.created_at.seconds())
            .bind(m.last_used_at.map(Timestamp::seconds))
            .execute(&mut *conn)
            .await
            .map_err(db_error)?;
        });
        Ok(())
    }

    async fn delete_method(&self, person_id: &PersonId, method_id: &str) -> StoreResult<bool> {
        let deleted = on_db!(write self, conn => {
            sql::query("delete from two_factor_methods where id = $1 and person_id = $2")
                .bind(method_id)
                .bind(person_id.as_str())
                .execute(&mut *conn)
                .await
                .map_err(db_error)?
                .rows_affected()
        });
        Ok(deleted == 1)
    }

    async fn delete_methods_of(&self, person_id: &PersonId) -> StoreResult<()> {
        on_db!(write self, conn => {
            for statement in [
                "delete from two_factor_methods where person_id = $1",
                "delete from recovery_codes where person_id = $1",
                "update people set preferred_method = null where id = $1",
            ] {
                sql::query(statement)
                    .bind(person_id.as_str())
                    .execute(&mut *conn)
                    .await
                    .map_err(db_error)?;
            }
        });
        Ok(())
    }

    async fn set_preferred_method(
        &self,
        person_id: &PersonId,
        kind: Option<MethodKind>,
    ) -> StoreResult<()> {
        on_db!(write self, conn => {
            sql::query("update people set preferred_method = $2 where id = $1")
                .bind(person_id.as_str())
                .bind(kind.map(MethodKind::as_str))
                .execute(&mut *conn)
                .await
                .map_err(db_error)?;
        });
        Ok(())
    }

    async fn put_enrolment(
        &self,
        session_id: &SessionId,
        kind: MethodKind,
        sealed_state: &str,
        expires_at: Timestamp,
    ) -> StoreResult<()> {
        on_db!(write self, conn => {
            sql::query(
                "insert into method_enrolments (session_id, kind, sealed_state, expires_at) \
                 values ($1, $2, $3, $4) on conflict (session_id, kind) do update set \
                 sealed_state = excluded.sealed_state, expires_at = excluded.expires_at",
            )
            .bind(session_id.as_str())
            .bind(kind.as_str())
            .bind(sealed_state)
            .bind(expires_at.seconds())
            .execute(&mut *conn)
            .await
            .map_err(db_error)?;
        });
        Ok(())
    }

    async fn take_enrolment(
        &self,
        session_id: &SessionId,
        kind: MethodKind,
        now: Timestamp,
    ) -> StoreResult<Option<String>> {
        Ok(on_db!(write self, conn => {
            sql::query_scalar(
                "delete from method_enrolments where session_id = $1 and kind = $2 \
                 and expires_at > $3 returning sealed_state",
            )
            .bind(session_id.as_str())
            .bind(kind.as_str())
            .bind(now.seconds())
            .fetch_optional(&mut *conn)
            .await
            .map_err(db_error)?
        }))
    }

    async fn passkey_by_credential(
        &self,
        credential_id: &str,
    ) -> StoreResult<Option<MethodRecord>> {
        let row: Option<MethodRow> = on_db!(self, conn => {
            sql::query_as(
                "select id, person_id, kind, label, sealed_secret, last_step, credential_id, created_at, \
                 last_used_at from two_factor_methods where credential_id = $1 and kind = 'passkey'",
            )
            .bind(credential_id)
            .fetch_optional(&mut *conn)
            .await
            .map_err(db_error)?
        });
        row.map(MethodRecord::try_from).transpose()
    }

    async fn put_passkey_sign_in(
        &self,
        key: &str,
        sealed_state: &str,
        expires_at: Timestamp,
    ) -> StoreResult<()> {
        on_db!(write self, conn => {
            sql::query(
                "insert into passkey_sign_ins (key, sealed_state, expires_at) values ($1, $2, $3) \
                 on conflict (key) do update set sealed_state = excluded.sealed_state, \
                 expires_at = excluded.expires_at",
            )
            .bind(key)
            .bind(sealed_state)
            .bind(expires_at.seconds())
            .execute(&mut *conn)
            .await
            .map_err(db_error)?;
        });
        Ok(())
    }

    async fn take_passkey_sign_in(&self, key: &str, now: Timestamp) -> StoreResult<Option<String>> {
        Ok(on_db!(write self, conn => {
            sql::query_scalar(
                "delete from passkey_sign_ins where key = $1 and expires_at > $2 returning sealed_state",
            )
            .bind(key)
            .bind(now.seconds())
            .fetch_optional(&mut *conn)
            .await
            .map_err(db_error)?
        }))
    }

    async fn enrolment(
        &self,
        session_id: &SessionId,
        kind: MethodKind,
        now: Timestamp,
    ) -> StoreResult<Option<String>> {
        Ok(on_db!(self, conn => {
            sql::query_scalar(
                "select sealed_state from method_enrolments \
                 where session_id = $1 and kind = $2 and expires_at > $3",
            )
            .bind(session_id.as_str())
            .bind(kind.as_str())
            .bind(now.seconds())
            .fetch_optional(&mut *conn)
            .await
            .map_err(db_error)?
        }))
    }

    async fn replace_recovery_codes(
        &self,
        person_id: &PersonId,
        code_hashes: &[String],
        at: Timestamp,
    ) -> StoreResult<()> {
        on_db!(write self, conn => {
            let mut tx = begin_write(conn).await?;
            sql::query("delete from recovery_codes where person_id = $1")
                .bind(person_id.as_str())
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
            for hash in code_hashes {
                sql::query(
                    "insert into recovery_codes (person_id, code_hash, created_at) values ($1, $2, $3)",
                )
                .bind(person_id.as_str())
                .bind(hash)
                .bind(at.seconds())
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
            }
            tx.commit().await.map_err(db_error)?;
        });
        Ok(())
    }

    async fn recovery_codes_left(&self, person_id: &PersonId) -> StoreResult<i64> {
        Ok(on_db!(self, conn => {
            sql::query_scalar(
                "select count(*) from recovery_codes where person_id = $1 and used_at is null",
            )
            .bind(person_id.as_str())
            .fetch_one(&mut *conn)
            .await
            .map_err(db_error)?
        }))
    }

    async fn judge_answer(
        &self,
        person_id: &PersonId,
        consume: Consume<'_>,
        finishes_sign_in: bool,
        now: Timestamp,
        lock_after: fn(u32) -> LockAfterFailure,
    ) -> StoreResult<AnswerJudgement> {
        on_db!(write self, conn => {
            // SECURITY: the statement that uses the answer up is the first write, so of
            // concurrent answers using one step, one code or one enrolment, one alone finds it
            // unused; the others count as wrong. The person's row comes next, as in judging a
            // sent code, so answers of every kind queue there. While the step is locked
            // nothing stands: the transaction (a savepoint inside a unit of work) rolls back.
            let mut tx = begin_write(conn).await?;
            let used = match consume {
                Consume::Nothing => 0,
                Consume::AppStep { method_id, step } => sql::query(
                    "update two_factor_methods set last_step = $3, last_used_at = $4 \
                     where id = $1 and person_id = $2 and kind = 'totp' \
                     and (last_step is null or last_step < $3)",
                )
                .bind(method_id)
                .bind(person_id.as_str())
                .bind(step)
                .bind(now.seconds())
                .execute(&mut *tx)
                .await
                .map_err(db_error)?
                .rows_affected(),
                // SECURITY: a counter that does not move past the last one may be a cloned
                // authenticator's; one that has always been 0 keeps no counter at all.
                Consume::PasskeyCounter { method_id, counter, sealed_secret } => sql::query(
                    "update two_factor_methods set last_step = $3, sealed_secret = $4, last_used_at = $5 \
                     where id = $1 and person_id = $2 and kind = 'passkey' \
                     and (coalesce(last_step, 0) < $3 or ($3 = 0 and coalesce(last_step, 0) = 0))",
                )
                .bind(method_id)
                .bind(person_id.as_str())
                .bind(counter)
                .bind(sealed_secret)
                .bind(now.seconds())
                .execute(&mut *tx)
                .await
                .map_err(db_error)?
                .rows_affected(),
                Consume::RecoveryCode { code_hash } => sql::query(
                    "update recovery_codes set used_at = $3 \
                     where person_id = $1 and code_hash = $2 and used_at is null",
                )
                .bind(person_id.as_str())
                .bind(code_hash)
                .bind(now.seconds())
                .execute(&mut *tx)
                .await
                .map_err(db_error)?
                .rows_affected(),
                Consume::Enrolment { session_id, kind } => sql::query(
                    "delete from method_enrolments where session_id = $1 and kind = $2 and expires_at > $3",
                )
                .bind(session_id.as_str())
                .bind(kind.as_str())
                .bind(now.seconds())
                .execute(&mut *tx)
                .await
                .map_err(db_error)?
                .rows_affected(),
            };
            let judged = if used == 1 {
                clear_failures!(tx, person_id, now, finishes_sign_in, false)
                    .then_some(AnswerJudgement::Accepted)
            } else {
                count_failure!(tx, person_id, now, lock_after)
                    .map(|(failures, lock)| AnswerJudgement::Wrong { failures, lock })
            };
            match judged {
                Some(judged) => {
                    tx.commit().await.map_err(db_error)?;
                    Ok(judged)
                }
                None => {
                    let (locked_until, locked_for_good): (Option<i64>, bool) = sql::query_as(
                        "select two_factor_locked_until, two_factor_locked_for_good from people where id = $1",
                    )
                    .bind(person_id.as_str())
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(db_error)?;
                    tx.rollback().await.map_err(db_error)?;
                    Ok(AnswerJudgement::Locked(LockState { locked_until, locked_for_good }))
                }
            }
        })
    }
}
