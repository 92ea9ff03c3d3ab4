//! The installation row, the first practice and further practices.

use async_trait::async_trait;
use latch_app::ports::{Conflict, InstallationStore, StoreError, StoreResult};
use latch_app::records::{Installation, NewPerson, NewPractice};
use latch_domain::Timestamp;

use crate::sql;
use crate::{Db, begin_write, db_error, on_db};

const INSERT_PRACTICE: &str = "insert into practices (id, name, country, require_two_factor, remember_device_days, \
     sign_out_after_idle_minutes, allowed_countries, daily_send_budget, time_zone, created_at, methods_allowed) \
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";

pub(crate) const INSERT_PERSON: &str = "insert into people (id, practice_id, email, email_normalized, name, role, password_hash, created_at, email_verified) \
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9)";

/// Inserts a practice and its owner inside the caller's transaction.
macro_rules! insert_practice_and_owner {
    ($tx:expr, $practice:expr, $owner:expr) => {{
        let s = &$practice.security;
        sql::query(INSERT_PRACTICE)
            .bind($practice.id.as_str())
            .bind(&$practice.name)
            .bind(&$practice.country)
            .bind(s.require_two_factor.as_str())
            .bind(i64::from(s.remember_device_days))
            .bind(i64::from(s.sign_out_after_idle_minutes))
            .bind(s.allowed_countries_text())
            .bind(i64::from(s.daily_send_budget))
            .bind(s.time_zone.name())
            .bind($practice.created_at.seconds())
            .bind(s.methods_allowed_text())
            .execute(&mut *$tx)
            .await
            .map_err(db_error)?;
        sql::query(INSERT_PERSON)
            .bind($owner.id.as_str())
            .bind($owner.practice_id.as_str())
            .bind($owner.email.as_str())
            .bind($owner.email.normalized())
            .bind(&$owner.name)
            .bind($owner.role.as_str())
            .bind(&$owner.password_hash)
            .bind($owner.created_at.seconds())
            .bind($owner.email_verified)
            .execute(&mut *$tx)
            .await
            .map_err(db_error)?;
    }};
}

#[async_trait]
impl InstallationStore for Db {
    async fn installation(&self, fresh_nonce: &str) -> StoreResult<Installation> {
        on_db!(write self, conn => {
            sql::query("insert into installation (id, setup_nonce) values (1, $1) on conflict (id) do nothing")
                .bind(fresh_nonce)
                .execute(&mut *conn)
                .await
                .map_err(db_error)?;
            let (setup_nonce, set_up_at): (String, Option<i64>) =
                sql::query_as("select setup_nonce, set_up_at from installation where id = 1")
                    .fetch_one(&mut *conn)
                    .await
                    .map_err(db_error)?;
            Ok(Installation { setup_nonce, set_up: set_up_at.is_some() })
        })
    }

    async fn create_first_practice(
        &self,
        practice: &NewPractice,
        owner: &NewPerson,
        now: Timestamp,
    ) -> StoreResult<()> {
        on_db!(write self, conn => {
            let mut tx = begin_write(conn).await?;
            // Claiming the installation first makes two concurrent first runs race on one row:
            // exactly one sees it unclaimed.
            let claimed = sql::query("update installation set set_up_at = $1 where id = 1 and set_up_at is null")
                .bind(now.seconds())
                .execute(&mut *tx)
                .await
                .map_err(db_error)?
                .rows_affected();
            if claimed == 0 {
                return Err(StoreError::Conflict(Conflict::AlreadySetUp));
            }
            insert_practice_and_owner!(tx, practice, owner);
            tx.commit().await.map_err(db_error)
        })
    }

    async fn create_practice(&self, practice: &NewPractice, owner: &NewPerson) -> StoreResult<()> {
        on_db!(write self, conn => {
            let mut tx = begin_write(conn).await?;
            sql::query("insert into installation (id, setup_nonce, set_up_at) values (1, $1, $2) \
                         on conflict (id) do update set set_up_at = coalesce(installation.set_up_at, $2)")
                .bind(latch_app::crypto::new_id())
                .bind(practice.created_at.seconds())
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
            insert_practice_and_owner!(tx, practice, owner);
            tx.commit().await.map_err(db_error)
        })
    }
}
