//! Background sweeping of expired rows, in small batches so it never holds a lock for long.

use async_trait::async_trait;
use latch_app::ports::{StoreResult, SweepStore};
use latch_domain::Timestamp;
use latch_domain::session::ABSOLUTE_LIFETIME_SECONDS;

use crate::sessions::end_what_sessions_gave;
use crate::sql;
use crate::{Db, db_error, on_db};

/// Delivery ids are kept a month, for late reports.
const DELIVERY_IDS_KEPT_SECONDS: i64 = 30 * 86_400;
/// A run of wrong passwords is forgotten a day after its last failure: far past the longest
/// delay (15 minutes), and the rows of a spray of made-up emails do not pile up.
const PASSWORD_FAILURES_KEPT_SECONDS: i64 = 86_400;

/// Each kind of expired row, as one statement deleting at most `$2` of them; `$1` is the
/// moment before which they ran out.
const SWEEPS: [&str; 12] = [
    "delete from remembered_devices where id in (select id from remembered_devices where expires_at < $1 limit $2)",
    "delete from rate_windows where key in (select key from rate_windows where window_ends_at < $1 limit $2)",
    "delete from call_tokens where token_hash in (select token_hash from call_tokens where expires_at < $1 limit $2)",
    "delete from deliveries where provider_id in (select provider_id from deliveries where sent_at < $1 limit $2)",
    "delete from password_failures where email_normalized in \
     (select email_normalized from password_failures where last_failed_at < $1 limit $2)",
    "delete from authorization_codes where code_hash in \
     (select code_hash from authorization_codes where expires_at < $1 limit $2)",
    "delete from application_tokens where token_hash in \
     (select token_hash from application_tokens where expires_at < $1 limit $2)",
    "delete from password_resets where person_id in \
     (select person_id from password_resets where expires_at < $1 limit $2)",
    "delete from email_changes where person_id in \
     (select person_id from email_changes where expires_at < $1 limit $2)",
    "delete from invitations where id in (select id from invitations where expires_at < $1 limit $2)",
    "delete from method_enrolments where expires_at < $1 and session_id in \
     (select session_id from method_enrolments where expires_at < $1 limit $2)",
    "delete from passkey_sign_ins where key in (select key from passkey_sign_ins where expires_at < $1 limit $2)",
];

#[async_trait]
impl SweepStore for Db {
    async fn sweep(&self, now: Timestamp, batch: i64) -> StoreResult<u64> {
        let created_before = now.seconds() - ABSOLUTE_LIFETIME_SECONDS;
        let cutoffs = [
            now.seconds(),
            now.seconds(),
            now.seconds(),
            now.seconds() - DELIVERY_IDS_KEPT_SECONDS,
            now.seconds() - PASSWORD_FAILURES_KEPT_SECONDS,
            now.seconds(),
            now.seconds(),
            now.seconds(),
            now.seconds(),
            now.seconds(),
            now.seconds(),
            now.seconds(),
        ];
        let mut swept = 0;
        on_db!(write self, conn => {
            // Each session by its own practice's idle limit, so an application hears of an
            // idle sign-out within a sweep of it.
            end_what_sessions_gave!(
                conn,
                "select id from sessions where last_seen_at <= $1 - 60 * \
                 (select pr.sign_out_after_idle_minutes from people pe \
                  join practices pr on pr.id = pe.practice_id where pe.id = sessions.person_id) \
                 or created_at < $2 or (pending_until is not null and pending_until < $1)",
                now.seconds(),
                created_before
            );
            swept += sql::query(
                "delete from sessions where id in (select id from sessions where \
                 last_seen_at <= $1 - 60 * \
                 (select pr.sign_out_after_idle_minutes from people pe \
                  join practices pr on pr.id = pe.practice_id where pe.id = sessions.person_id) \
                 or created_at < $2 or (pending_until is not null and pending_until < $1) limit $3)",
            )
            .bind(now.seconds())
            .bind(created_before)
            .bind(batch)
            .execute(&mut *conn)
            .await
            .map_err(db_error)?
            .rows_affected();
            for (sql, cutoff) in SWEEPS.into_iter().zip(cutoffs) {
                swept += sql::query(sql)
                    .bind(cutoff)
                    .bind(batch)
                    .execute(&mut *conn)
                    .await
                    .map_err(db_error)?
                    .rows_affected();
            }
        });
        Ok(swept)
    }
}
