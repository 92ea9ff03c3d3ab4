//! Codes waiting for their sign-in or setup: put, resent in place, consumed or counted wrong,
//! each by one atomic statement.

use async_trait::async_trait;
use latch_app::ports::{ChallengeStore, StoreError, StoreResult};
use latch_app::records::{Challenge, Purpose};
use latch_domain::Timestamp;
use latch_domain::two_factor::Channel;

use crate::{Db, db_error, on_db};

#[derive(sqlx::FromRow)]
struct ChallengeRow {
    id: String,
    session_id: String,
    person_id: String,
    purpose: String,
    phone: String,
    extension: Option<String>,
    channel: String,
    code_hash: String,
    expires_at: i64,
    attempts: i64,
    sends: i64,
    last_sent_at: i64,
    created_at: i64,
}

impl TryFrom<ChallengeRow> for Challenge {
    type Error = StoreError;

    fn try_from(r: ChallengeRow) -> Result<Self, StoreError> {
        let bad = || StoreError::Other(format!("challenge {} is malformed", r.id));
        Ok(Challenge {
            purpose: Purpose::parse(&r.purpose).ok_or_else(bad)?,
            channel: Channel::parse(&r.channel).ok_or_else(bad)?,
            id: r.id,
            session_id: r.session_id,
            person_id: r.person_id,
            phone: r.phone,
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

#[async_trait]
impl ChallengeStore for Db {
    async fn put_challenge(&self, c: &Challenge) -> StoreResult<()> {
        on_db!(self, pool => {
            sqlx::query(
                "insert into challenges (id, session_id, person_id, purpose, phone, extension, channel, code_hash, \
                 expires_at, attempts, sends, last_sent_at, created_at) \
                 values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
                 on conflict (session_id, purpose) do update set id = excluded.id, phone = excluded.phone, \
                 extension = excluded.extension, channel = excluded.channel, code_hash = excluded.code_hash, \
                 expires_at = excluded.expires_at, attempts = excluded.attempts, sends = excluded.sends, \
                 last_sent_at = excluded.last_sent_at, created_at = excluded.created_at",
            )
            .bind(&c.id)
            .bind(&c.session_id)
            .bind(&c.person_id)
            .bind(c.purpose.as_str())
            .bind(&c.phone)
            .bind(&c.extension)
            .bind(c.channel.as_str())
            .bind(&c.code_hash)
            .bind(c.expires_at.seconds())
            .bind(c.attempts)
            .bind(c.sends)
            .bind(c.last_sent_at.seconds())
            .bind(c.created_at.seconds())
            .execute(pool)
            .await
            .map_err(db_error)?;
        });
        Ok(())
    }

    async fn challenge(
        &self,
        session_id: &str,
        purpose: Purpose,
    ) -> StoreResult<Option<Challenge>> {
        let row: Option<ChallengeRow> = on_db!(self, pool => {
            sqlx::query_as(
                "select id, session_id, person_id, purpose, phone, extension, channel, code_hash, expires_at, attempts, \
                 sends, last_sent_at, created_at from challenges where session_id = $1 and purpose = $2",
            )
            .bind(session_id)
            .bind(purpose.as_str())
            .fetch_optional(pool)
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
        let updated = on_db!(self, pool => {
            sqlx::query(
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
            .execute(pool)
            .await
            .map_err(db_error)?
            .rows_affected()
        });
        Ok(updated == 1)
    }

    async fn consume_challenge(
        &self,
        challenge_id: &str,
        code_hash: &str,
        now: Timestamp,
        max_attempts: i64,
    ) -> StoreResult<bool> {
        let updated = on_db!(self, pool => {
            sqlx::query(
                "delete from challenges \
                 where id = $1 and code_hash = $2 and expires_at > $3 and attempts < $4",
            )
            .bind(challenge_id)
            .bind(code_hash)
            .bind(now.seconds())
            .bind(max_attempts)
            .execute(pool)
            .await
            .map_err(db_error)?
            .rows_affected()
        });
        Ok(updated == 1)
    }

    async fn count_wrong_code(
        &self,
        challenge_id: &str,
        max_attempts: i64,
    ) -> StoreResult<Option<i64>> {
        on_db!(self, pool => {
            sqlx::query_scalar(
                "update challenges set attempts = attempts + 1 \
                 where id = $1 and attempts < $2 returning attempts",
            )
            .bind(challenge_id)
            .bind(max_attempts)
            .fetch_optional(pool)
            .await
            .map_err(db_error)
        })
    }

    async fn clear_resend_wait(&self, challenge_id: &str) -> StoreResult<()> {
        on_db!(self, pool => {
            sqlx::query("update challenges set last_sent_at = 0 where id = $1")
                .bind(challenge_id)
                .execute(pool)
                .await
                .map_err(db_error)?;
        });
        Ok(())
    }
}
