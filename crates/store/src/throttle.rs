//! Password failure counts and fixed-window counters, each changed by one atomic statement so
//! that every node counts together.

use async_trait::async_trait;
use latch_app::ports::{StoreError, StoreResult, ThrottleStore};
use latch_app::records::Window;
use latch_domain::Timestamp;

use crate::sql;
use crate::{Db, db_error, on_db};

/// Counts several windows in one statement: `$1` is now, then each window's key and length.
macro_rules! bump_windows_sql {
    ($($values:literal),+) => {
        concat!(
            "insert into rate_windows (key, window_started_at, window_ends_at, count) values ",
            $($values),+,
            " on conflict (key) do update set \
             count = case when rate_windows.window_ends_at <= $1 then 1 else rate_windows.count + 1 end, \
             window_started_at = case when rate_windows.window_ends_at <= $1 then $1 else rate_windows.window_started_at end, \
             window_ends_at = case when rate_windows.window_ends_at <= $1 then excluded.window_ends_at else rate_windows.window_ends_at end \
             returning key, count, window_started_at"
        )
    };
}
const BUMP_THREE_WINDOWS: &str = bump_windows_sql!(
    "($2, $1, $1 + $3, 1), ",
    "($4, $1, $1 + $5, 1), ",
    "($6, $1, $1 + $7, 1)"
);
const BUMP_FOUR_WINDOWS: &str = bump_windows_sql!(
    "($2, $1, $1 + $3, 1), ",
    "($4, $1, $1 + $5, 1), ",
    "($6, $1, $1 + $7, 1), ",
    "($8, $1, $1 + $9, 1)"
);

#[async_trait]
impl ThrottleStore for Db {
    async fn password_failures(
        &self,
        email_normalized: &str,
    ) -> StoreResult<Option<(u32, Option<Timestamp>)>> {
        let row: Option<(i64, Option<i64>)> = on_db!(self, conn => {
            sql::query_as("select failures, retry_at from password_failures where email_normalized = $1")
                .bind(email_normalized)
                .fetch_optional(&mut *conn)
                .await
                .map_err(db_error)?
        });
        Ok(row.map(|(failures, retry_at)| {
            (
                u32::try_from(failures).unwrap_or(u32::MAX),
                retry_at.map(Timestamp),
            )
        }))
    }

    async fn add_password_failure(
        &self,
        email_normalized: &str,
        at: Timestamp,
    ) -> StoreResult<u32> {
        let failures: i64 = on_db!(write self, conn => {
            sql::query_scalar(
                "insert into password_failures (email_normalized, failures, last_failed_at) values ($1, 1, $2) \
                 on conflict (email_normalized) do update \
                 set failures = password_failures.failures + 1, last_failed_at = $2 \
                 returning failures",
            )
            .bind(email_normalized)
            .bind(at.seconds())
            .fetch_one(&mut *conn)
            .await
            .map_err(db_error)?
        });
        Ok(u32::try_from(failures).unwrap_or(u32::MAX))
    }

    async fn set_password_retry_at(
        &self,
        email_normalized: &str,
        retry_at: Timestamp,
    ) -> StoreResult<()> {
        on_db!(write self, conn => {
            sql::query("update password_failures set retry_at = $2 where email_normalized = $1")
                .bind(email_normalized)
                .bind(retry_at.seconds())
                .execute(&mut *conn)
                .await
                .map_err(db_error)?;
        });
        Ok(())
    }

    async fn clear_password_failures(&self, email_normalized: &str) -> StoreResult<()> {
        on_db!(write self, conn => {
            sql::query("delete from password_failures where email_normalized = $1")
                .bind(email_normalized)
                .execute(&mut *conn)
                .await
                .map_err(db_error)?;
        });
        Ok(())
    }

    async fn window(&self, key: &str) -> StoreResult<Option<Window>> {
        let row: Option<(i64, i64)> = on_db!(self, conn => {
            sql::query_as("select count, window_started_at from rate_windows where key = $1")
                .bind(key)
                .fetch_optional(&mut *conn)
                .await
                .map_err(db_error)?
        });
        Ok(row.map(|(count, started)| Window {
            count,
            started_at: Timestamp(started),
        }))
    }

    async fn windows(&self, keys: [&str; 2]) -> StoreResult<[Option<Window>; 2]> {
        let rows: Vec<(String, i64, i64)> = on_db!(self, conn => {
            sql::query_as(
                "select key, count, window_started_at from rate_windows where key in ($1, $2)",
            )
            .bind(keys[0])
            .bind(keys[1])
            .fetch_all(&mut *conn)
            .await
            .map_err(db_error)?
        });
        Ok(keys.map(|key| {
            rows.iter()
                .find(|(k, _, _)| k == key)
                .map(|(_, count, started)| Window {
                    count: *count,
                    started_at: Timestamp(*started),
                })
        }))
    }

    async fn bump_window(
        &self,
        key: &str,
        at: Timestamp,
        window_seconds: i64,
    ) -> StoreResult<Window> {
        let (count, started): (i64, i64) = on_db!(write self, conn => {
            sql::query_as(
                "insert into rate_windows (key, window_started_at, window_ends_at, count) values ($1, $2, $3, 1) \
                 on conflict (key) do update set \
                 count = case when rate_windows.window_ends_at <= $2 then 1 else rate_windows.count + 1 end, \
                 window_started_at = case when rate_windows.window_ends_at <= $2 then $2 else rate_windows.window_started_at end, \
                 window_ends_at = case when rate_windows.window_ends_at <= $2 then $3 else rate_windows.window_ends_at end \
                 returning count, window_started_at",
            )
            .bind(key)
            .bind(at.seconds())
            .bind(at.seconds() + window_seconds)
            .fetch_one(&mut *conn)
            .await
            .map_err(db_error)?
        });
        Ok(Window {
            count,
            started_at: Timestamp(started),
        })
    }

    async fn bump_windows(
        &self,
        windows: &[(&str, i64)],
        at: Timestamp,
    ) -> StoreResult<Vec<Window>> {
        let sql = match windows.len() {
            3 => BUMP_THREE_WINDOWS,
            4 => BUMP_FOUR_WINDOWS,
            n => return Err(StoreError::Other(format!("{n} windows in one bump").into())),
        };
        let rows: Vec<(String, i64, i64)> = on_db!(write self, conn => {
            let mut query = sql::query_as(sql).bind(at.seconds());
            for (key, seconds) in windows {
                query = query.bind(*key).bind(*seconds);
            }
            query.fetch_all(&mut *conn).await.map_err(db_error)?
        });
        // Neither database promises the order of RETURNING rows: match them up by key.
        windows
            .iter()
            .map(|(key, _)| {
                rows.iter()
                    .find(|(k, _, _)| k == key)
                    .map(|(_, count, started)| Window {
                        count: *count,
                        started_at: Timestamp(*started),
                    })
                    .ok_or_else(|| {
                        StoreError::Other(format!("window {key} was not counted").into())
                    })
            })
            .collect()
    }

    async fn unbump_windows(&self, keys: [&str; 2], by: i64) -> StoreResult<()> {
        const GIVE_BACK: &str = "update rate_windows set count = case when count > $3 then count - $3 else 0 end \
             where key = $1 or key = $2";
        // PostgreSQL gives back one row a statement, in the order sends count them (the address
        // before the range), so that a send counting the same rows never waits on this in the
        // other order. SQLite has one writer at a time and takes both at once.
        let sqlite = matches!(self, Db::Sqlite(..) | Db::SqliteWork(_));
        let pairs = if sqlite || keys[0] == keys[1] {
            vec![(keys[0], keys[1])]
        } else {
            vec![(keys[0], keys[0]), (keys[1], keys[1])]
        };
        on_db!(write self, conn => {
            for (first, second) in pairs {
                sql::query(GIVE_BACK)
                    .bind(first)
                    .bind(second)
                    .bind(by)
                    .execute(&mut *conn)
                    .await
                    .map_err(db_error)?;
            }
        });
        Ok(())
    }
}
