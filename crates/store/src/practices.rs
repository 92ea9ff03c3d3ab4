//! Practices and their security settings.

use async_trait::async_trait;
use latch_app::ids::PracticeId;
use latch_app::ports::{PracticeStore, StoreResult};
use latch_app::records::Practice;
use latch_domain::practice::SecuritySettings;

use crate::rows::{PracticeRow, practice_columns};
use crate::sql;
use crate::{Db, db_error, on_db};

#[async_trait]
impl PracticeStore for Db {
    async fn practice(&self, id: &PracticeId) -> StoreResult<Option<Practice>> {
        let row: Option<PracticeRow> = on_db!(self, conn => {
            sql::query_as(concat!("select ", practice_columns!(), " from practices pr where pr.id = $1"))
                .bind(id.as_str())
                .fetch_optional(&mut *conn)
                .await
                .map_err(db_error)?
        });
        row.map(Practice::try_from).transpose()
    }

    async fn practices(&self) -> StoreResult<Vec<Practice>> {
        let rows: Vec<PracticeRow> = on_db!(self, conn => {
            sql::query_as(concat!("select ", practice_columns!(), " from practices pr order by pr.name, pr.id"))
                .fetch_all(&mut *conn)
                .await
                .map_err(db_error)?
        });
        rows.into_iter().map(Practice::try_from).collect()
    }

    async fn update_security(
        &self,
        practice_id: &PracticeId,
        s: &SecuritySettings,
    ) -> StoreResult<()> {
        on_db!(write self, conn => {
            sql::query(
                "update practices set require_two_factor = $2, remember_device_days = $3, \
                 sign_out_after_idle_minutes = $4, allowed_countries = $5, daily_send_budget = $6, time_zone = $7, \
                 methods_allowed = $8 where id = $1",
            )
            .bind(practice_id.as_str())
            .bind(s.require_two_factor.as_str())
            .bind(i64::from(s.remember_device_days))
            .bind(i64::from(s.sign_out_after_idle_minutes))
            .bind(s.allowed_countries_text())
            .bind(i64::from(s.daily_send_budget))
            .bind(s.time_zone.name())
            .bind(s.methods_allowed_text())
            .execute(&mut *conn)
            .await
            .map_err(db_error)?;
        });
        Ok(())
    }
}
