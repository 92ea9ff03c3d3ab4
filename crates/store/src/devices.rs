//! Remembered browsers, found by the hash of their cookie token and always with their person.

use async_trait::async_trait;
use latch_app::ids::{PersonId, PracticeId};
use latch_app::ports::{DeviceStore, StoreResult};
use latch_app::records::{Device, NewDevice};
use latch_domain::Timestamp;

use crate::sql;
use crate::{Db, Writing, db_error, on_db};

crate::sql::row! {
    struct DeviceRow {
        id: String,
        person_id: String,
        label: String,
        created_at: i64,
        last_used_at: i64,
        expires_at: i64,
    }
}

impl From<DeviceRow> for Device {
    fn from(r: DeviceRow) -> Self {
        Device {
            id: r.id,
            person_id: PersonId::from_stored(r.person_id),
            label: r.label,
            created_at: Timestamp(r.created_at),
            last_used_at: Timestamp(r.last_used_at),
            expires_at: Timestamp(r.expires_at),
        }
    }
}

#[async_trait]
impl DeviceStore for Db {
    async fn insert_device(&self, d: &NewDevice) -> StoreResult<()> {
        on_db!(write self, conn => {
            sql::query(
                "insert into remembered_devices (id, token_hash, person_id, label, created_at, last_used_at, expires_at) \
                 values ($1, $2, $3, $4, $5, $5, $6)",
            )
            .bind(&d.id)
            .bind(&d.token_hash)
            .bind(d.person_id.as_str())
            .bind(&d.label)
            .bind(d.created_at.seconds())
            .bind(d.expires_at.seconds())
            .execute(&mut *conn)
            .await
            .map_err(db_error)?;
        });
        Ok(())
    }

    async fn device(
        &self,
        person_id: &PersonId,
        token_hash: &str,
        now: Timestamp,
    ) -> StoreResult<Option<Device>> {
        let row: Option<DeviceRow> = on_db!(self, conn => {
            sql::query_as(
                "select id, person_id, label, created_at, last_used_at, expires_at from remembered_devices \
                 where token_hash = $1 and person_id = $2 and expires_at > $3",
            )
            .bind(token_hash)
            .bind(person_id.as_str())
            .bind(now.seconds())
            .fetch_optional(&mut *conn)
            .await
            .map_err(db_error)?
        });
        Ok(row.map(Device::from))
    }

    async fn touch_device(&self, device_id: &str, at: Timestamp) -> StoreResult<()> {
        on_db!(write self, conn => {
            sql::query("update remembered_devices set last_used_at = $2 where id = $1")
                .bind(device_id)
                .bind(at.seconds())
                .execute(&mut *conn)
                .await
                .map_err(db_error)?;
        });
        Ok(())
    }

    async fn devices_of(&self, person_id: &PersonId, now: Timestamp) -> StoreResult<Vec<Device>> {
        let rows: Vec<DeviceRow> = on_db!(self, conn => {
            sql::query_as(
                "select id, person_id, label, created_at, last_used_at, expires_at from remembered_devices \
                 where person_id = $1 and expires_at > $2 order by last_used_at desc, id",
            )
            .bind(person_id.as_str())
            .bind(now.seconds())
            .fetch_all(&mut *conn)
            .await
            .map_err(db_error)?
        });
        Ok(rows.into_iter().map(Device::from).collect())
    }

    async fn delete_device(&self, person_id: &PersonId, device_id: &str) -> StoreResult<bool> {
        let deleted = on_db!(write self, conn => {
            sql::query("delete from remembered_devices where id = $1 and person_id = $2")
                .bind(device_id)
                .bind(person_id.as_str())
                .execute(&mut *conn)
                .await
                .map_err(db_error)?
                .rows_affected()
        });
        Ok(deleted > 0)
    }

    async fn delete_devices_of(&self, person_id: &PersonId) -> StoreResult<u64> {
        on_db!(write self, conn => {
            Ok(sql::query("delete from remembered_devices where person_id = $1")
                .bind(person_id.as_str())
                .execute(&mut *conn)
                .await
                .map_err(db_error)?
                .rows_affected())
        })
    }

    async fn device_counts(
        &self,
        practice_id: &PracticeId,
        now: Timestamp,
    ) -> StoreResult<Vec<(String, i64)>> {
        on_db!(self, conn => {
            sql::query_as(
                "select d.person_id, count(*) from remembered_devices d join people p on p.id = d.person_id \
                 where p.practice_id = $1 and d.expires_at > $2 group by d.person_id",
            )
            .bind(practice_id.as_str())
            .bind(now.seconds())
            .fetch_all(&mut *conn)
            .await
            .map_err(db_error)
        })
    }

    async fn apply_remember_limit(
        &self,
        practice_id: &PracticeId,
        limit_seconds: i64,
        now: Timestamp,
    ) -> StoreResult<u64> {
        on_db!(write self, conn => {
            let mut tx = Writing::begin(self, conn).await?;
            let ended = sql::query(
                "delete from remembered_devices where created_at <= $2 - $3 \
                 and person_id in (select id from people where practice_id = $1)",
            )
            .bind(practice_id.as_str())
            .bind(now.seconds())
            .bind(limit_seconds)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?
            .rows_affected();
            sql::query(
                "update remembered_devices set expires_at = created_at + $2 \
                 where expires_at > created_at + $2 \
                 and person_id in (select id from people where practice_id = $1)",
            )
            .bind(practice_id.as_str())
            .bind(limit_seconds)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
            tx.done().await?;
            Ok(ended)
        })
    }
}
