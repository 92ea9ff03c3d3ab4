//! People: adding them, finding them by email or id, and their password hash.

use async_trait::async_trait;
use latch_app::ids::{PersonId, PracticeId};
use latch_app::ports::{PersonStore, StoreResult};
use latch_app::records::{Account, NewPerson, PeopleFilter, Person, TwoFactorSetting};
use latch_domain::{Email, Role, Timestamp};

use crate::installation::INSERT_PERSON;
use crate::rows::{AccountRow, PersonRow, person_columns, practice_columns};
use crate::sql;
use crate::{Db, db_error, on_db};

#[async_trait]
impl PersonStore for Db {
    async fn insert_person(&self, p: &NewPerson) -> StoreResult<()> {
        on_db!(write self, conn => {
            sql::query(INSERT_PERSON)
                .bind(p.id.as_str())
                .bind(p.practice_id.as_str())
                .bind(p.email.as_str())
                .bind(p.email.normalized())
                .bind(&p.name)
                .bind(p.role.as_str())
                .bind(&p.password_hash)
                .bind(p.created_at.seconds())
                .bind(p.email_verified)
                .execute(&mut *conn)
                .await
                .map_err(db_error)?;
        });
        Ok(())
    }

    async fn account_by_email(&self, email_normalized: &str) -> StoreResult<Option<Account>> {
        let row: Option<AccountRow> = on_db!(self, conn => {
            sql::query_as(concat!(
                "select ", person_columns!(), ", ", practice_columns!(),
                " from people p join practices pr on pr.id = p.practice_id where p.email_normalized = $1"
            ))
            .bind(email_normalized)
            .fetch_optional(&mut *conn)
            .await
            .map_err(db_error)?
        });
        row.map(Account::try_from).transpose()
    }

    async fn person_by_id(&self, person_id: &PersonId) -> StoreResult<Option<Person>> {
        let row: Option<PersonRow> = on_db!(self, conn => {
            sql::query_as(concat!("select ", person_columns!(), " from people p where p.id = $1"))
                .bind(person_id.as_str())
                .fetch_optional(&mut *conn)
                .await
                .map_err(db_error)?
        });
        row.map(Person::try_from).transpose()
    }

    async fn person_in_practice(
        &self,
        practice_id: &PracticeId,
        person_id: &PersonId,
    ) -> StoreResult<Option<Person>> {
        let row: Option<PersonRow> = on_db!(self, conn => {
            sql::query_as(concat!("select ", person_columns!(), " from people p where p.id = $1 and p.practice_id = $2"))
                .bind(person_id.as_str())
                .bind(practice_id.as_str())
                .fetch_optional(&mut *conn)
                .await
                .map_err(db_error)?
        });
        row.map(Person::try_from).transpose()
    }

    async fn people(
        &self,
        practice_id: &PracticeId,
        filter: &PeopleFilter,
    ) -> StoreResult<Vec<Person>> {
        let role = filter.role.map(|r| r.as_str());
        let rows: Vec<PersonRow> = on_db!(self, conn => {
            sql::query_as(concat!(
                "select ", person_columns!(),
                " from people p where p.practice_id = $1 and ($2 is null or p.role = $2) \
                 and ($3 is null or (p.deactivated_at is not null) = $3) order by p.name, p.id"
            ))
            .bind(practice_id.as_str())
            .bind(role)
            .bind(filter.deactivated)
            .fetch_all(&mut *conn)
            .await
            .map_err(db_error)?
        });
        rows.into_iter().map(Person::try_from).collect()
    }

    async fn headcount(&self, practice_id: &PracticeId) -> StoreResult<i64> {
        Ok(on_db!(self, conn => {
            sql::query_scalar("select count(*) from people where practice_id = $1")
                .bind(practice_id.as_str())
                .fetch_one(&mut *conn)
                .await
                .map_err(db_error)?
        }))
    }

    async fn set_password_hash(
        &self,
        person_id: &PersonId,
        password_hash: &str,
    ) -> StoreResult<()> {
        on_db!(write self, conn => {
            sql::query("update people set password_hash = $2 where id = $1")
                .bind(person_id.as_str())
                .bind(password_hash)
                .execute(&mut *conn)
                .await
                .map_err(db_error)?;
        });
        Ok(())
    }

    async fn record_sign_in(&self, person_id: &PersonId, at: Timestamp) -> StoreResult<()> {
        on_db!(write self, conn => {
            sql::query("update people set previous_sign_in_at = last_sign_in_at, last_sign_in_at = $2 where id = $1")
                .bind(person_id.as_str())
                .bind(at.seconds())
                .execute(&mut *conn)
                .await
                .map_err(db_error)?;
        });
        Ok(())
    }

    async fn set_two_factor_lock(
        &self,
        person_id: &PersonId,
        locked_until: Option<Timestamp>,
        for_good: bool,
    ) -> StoreResult<()> {
        on_db!(write self, conn => {
            sql::query("update people set two_factor_locked_until = $2, two_factor_locked_for_good = $3 where id = $1")
                .bind(person_id.as_str())
                .bind(locked_until.map(Timestamp::seconds))
                .bind(for_good)
                .execute(&mut *conn)
                .await
                .map_err(db_error)?;
        });
        Ok(())
    }

    async fn phone_confirmed_by_another(
        &self,
        e164: &str,
        person_id: &PersonId,
    ) -> StoreResult<bool> {
        let found: Option<i64> = on_db!(self, conn => {
            sql::query_scalar("select cast(1 as bigint) from people where two_factor_phone = $1 and id <> $2 limit 1")
                .bind(e164)
                .bind(person_id.as_str())
                .fetch_optional(&mut *conn)
                .await
                .map_err(db_error)?
        });
        Ok(found.is_some())
    }

    async fn clear_code_failures(&self, person_id: &PersonId) -> StoreResult<()> {
        on_db!(write self, conn => {
            sql::query(
                "update people set code_failures = 0, two_factor_locked_until = null, two_factor_locked_for_good = false \
                 where id = $1",
            )
            .bind(person_id.as_str())
            .execute(&mut *conn)
            .await
            .map_err(db_error)?;
        });
        Ok(())
    }

    async fn set_two_factor(
        &self,
        person_id: &PersonId,
        setting: Option<&TwoFactorSetting>,
        at: Timestamp,
    ) -> StoreResult<()> {
        on_db!(write self, conn => {
            sql::query(
                "update people set two_factor_channel = $2, two_factor_phone = $3, two_factor_extension = $4, \
                 phone_added_at = $5, phone_used_at = case when $3 is null then null else phone_used_at end \
                 where id = $1",
            )
            .bind(person_id.as_str())
            .bind(setting.map(|s| s.channel.as_str()))
            .bind(setting.map(|s| s.phone.e164()))
            .bind(setting.and_then(|s| s.extension.as_deref()))
            .bind(setting.map(|_| at.seconds()))
            .execute(&mut *conn)
            .await
            .map_err(db_error)?;
        });
        Ok(())
    }

    async fn set_name_and_role(
        &self,
        person_id: &PersonId,
        name: &str,
        role: Role,
    ) -> StoreResult<()> {
        on_db!(write self, conn => {
            sql::query("update people set name = $2, role = $3 where id = $1")
                .bind(person_id.as_str())
                .bind(name)
                .bind(role.as_str())
                .execute(&mut *conn)
                .await
                .map_err(db_error)?;
        });
        Ok(())
    }

    async fn set_deactivated(
        &self,
        person_id: &PersonId,
        at: Option<Timestamp>,
    ) -> StoreResult<()> {
        on_db!(write self, conn => {
            sql::query("update people set deactivated_at = $2 where id = $1")
                .bind(person_id.as_str())
                .bind(at.map(Timestamp::seconds))
                .execute(&mut *conn)
                .await
                .map_err(db_error)?;
        });
        Ok(())
    }

    async fn lock_practice(&self, practice_id: &PracticeId) -> StoreResult<()> {
        if !matches!(self, Db::Postgres(_) | Db::PostgresWork(_)) {
            return Ok(());
        }
        on_db!(write self, conn => {
            sql::query("select id from practices where id = $1 for update")
                .bind(practice_id.as_str())
                .execute(&mut *conn)
                .await
                .map_err(db_error)?;
        });
        Ok(())
    }

    async fn other_active_owners(
        &self,
        practice_id: &PracticeId,
        besides: &PersonId,
    ) -> StoreResult<i64> {
        Ok(on_db!(self, conn => {
            sql::query_scalar(
                "select count(*) from people where practice_id = $1 and role = 'owner' \
                 and deactivated_at is null and id <> $2",
            )
            .bind(practice_id.as_str())
            .bind(besides.as_str())
            .fetch_one(&mut *conn)
            .await
            .map_err(db_error)?
        }))
    }

    async fn set_email(&self, person_id: &PersonId, email: &Email) -> StoreResult<()> {
        on_db!(write self, conn => {
            sql::query(
                "update people set email = $2, email_normalized = $3, email_verified = true where id = $1",
            )
            .bind(person_id.as_str())
            .bind(email.as_str())
            .bind(email.normalized())
            .execute(&mut *conn)
            .await
            .map_err(db_error)?;
        });
        Ok(())
    }

    async fn set_email_verified(&self, person_id: &PersonId) -> StoreResult<()> {
        on_db!(write self, conn => {
            sql::query("update people set email_verified = true where id = $1 and not email_verified")
                .bind(person_id.as_str())
                .execute(&mut *conn)
                .await
                .map_err(db_error)?;
        });
        Ok(())
    }
}
