//! Invitations to join a practice, and pending changes of a person's email.

use async_trait::async_trait;
use latch_app::ids::{PersonId, PracticeId};
use latch_app::ports::{EmailChangeStore, InvitationStore, StoreError, StoreResult};
use latch_app::records::{Invitation, NewInvitation, Practice};
use latch_domain::{Email, Role, Timestamp};

use crate::rows::{PracticeRow, practice_columns};
use crate::sql;
use crate::{Db, db_error, on_db};

macro_rules! invitation_columns {
    () => {
        "i.id, i.practice_id, i.email, i.name, i.role, i.invited_by, \
         (select b.name from people b where b.id = i.invited_by) as invited_by_name, \
         i.created_at, i.expires_at"
    };
}

crate::sql::row! {
    struct InvitationRow {
        id: String,
        practice_id: String,
        email: String,
        name: String,
        role: String,
        invited_by: Option<String>,
        invited_by_name: Option<String>,
        created_at: i64,
        expires_at: i64,
    }
}

crate::sql::row! {
    struct InvitationPracticeRow {
        #[flatten]
        invitation: InvitationRow,
        #[flatten]
        practice: PracticeRow,
    }
}

impl TryFrom<InvitationRow> for Invitation {
    type Error = StoreError;

    fn try_from(r: InvitationRow) -> Result<Self, StoreError> {
        let role = Role::parse(&r.role)
            .map_err(|_| StoreError::Other(format!("invitation {} has a bad role", r.id).into()))?;
        Ok(Invitation {
            id: r.id,
            practice_id: PracticeId::from_stored(r.practice_id),
            email: Email::from_stored(&r.email),
            name: r.name,
            role,
            invited_by: r
                .invited_by
                .zip(r.invited_by_name)
                .map(|(id, name)| (PersonId::from_stored(id), name)),
            created_at: Timestamp(r.created_at),
            expires_at: Timestamp(r.expires_at),
        })
    }
}

#[async_trait]
impl InvitationStore for Db {
    async fn insert_invitation(&self, i: &NewInvitation) -> StoreResult<()> {
        on_db!(write self, conn => {
            sql::query(
                "insert into invitations (id, practice_id, email, email_normalized, name, role, invited_by, \
                 token_hash, created_at, expires_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(&i.id)
            .bind(i.practice_id.as_str())
            .bind(i.email.as_str())
            .bind(i.email.normalized())
            .bind(&i.name)
            .bind(i.role.as_str())
            .bind(i.invited_by.as_str())
            .bind(&i.token_hash)
            .bind(i.created_at.seconds())
            .bind(i.expires_at.seconds())
            .execute(&mut *conn)
            .await
            .map_err(db_error)?;
        });
        Ok(())
    }

    async fn invitations(
        &self,
        practice_id: &PracticeId,
        now: Timestamp,
    ) -> StoreResult<Vec<Invitation>> {
        let rows: Vec<InvitationRow> = on_db!(self, conn => {
            sql::query_as(concat!(
                "select ", invitation_columns!(),
                " from invitations i where i.practice_id = $1 and i.expires_at > $2 \
                 order by i.created_at desc, i.id"
            ))
            .bind(practice_id.as_str())
            .bind(now.seconds())
            .fetch_all(&mut *conn)
            .await
            .map_err(db_error)?
        });
        rows.into_iter().map(Invitation::try_from).collect()
    }

    async fn invitation_in_practice(
        &self,
        practice_id: &PracticeId,
        id: &str,
        now: Timestamp,
    ) -> StoreResult<Option<Invitation>> {
        let row: Option<InvitationRow> = on_db!(self, conn => {
            sql::query_as(concat!(
                "select ", invitation_columns!(),
                " from invitations i where i.id = $1 and i.practice_id = $2 and i.expires_at > $3"
            ))
            .bind(id)
            .bind(practice_id.as_str())
            .bind(now.seconds())
            .fetch_optional(&mut *conn)
            .await
            .map_err(db_error)?
        });
        row.map(Invitation::try_from).transpose()
    }

    async fn invitation_by_token(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> StoreResult<Option<(Invitation, Practice)>> {
        let row: Option<InvitationPracticeRow> = on_db!(self, conn => {
            sql::query_as(concat!(
                "select ", invitation_columns!(), ", ", practice_columns!(),
                " from invitations i join practices pr on pr.id = i.practice_id \
                 where i.token_hash = $1 and i.expires_at > $2"
            ))
            .bind(token_hash)
            .bind(now.seconds())
            .fetch_optional(&mut *conn)
            .await
            .map_err(db_error)?
        });
        row.map(|r| Ok((r.invitation.try_into()?, r.practice.try_into()?)))
            .transpose()
    }

    async fn renew_invitation(
        &self,
        id: &str,
        token_hash: &str,
        expires_at: Timestamp,
    ) -> StoreResult<()> {
        on_db!(write self, conn => {
            sql::query("update invitations set token_hash = $2, expires_at = $3 where id = $1")
                .bind(id)
                .bind(token_hash)
                .bind(expires_at.seconds())
                .execute(&mut *conn)
                .await
                .map_err(db_error)?;
        });
        Ok(())
    }

    async fn delete_invitation(&self, practice_id: &PracticeId, id: &str) -> StoreResult<bool> {
        let deleted = on_db!(write self, conn => {
            sql::query("delete from invitations where id = $1 and practice_id = $2")
                .bind(id)
                .bind(practice_id.as_str())
                .execute(&mut *conn)
                .await
                .map_err(db_error)?
                .rows_affected()
        });
        Ok(deleted > 0)
    }

    async fn take_invitation(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> StoreResult<Option<String>> {
        on_db!(write self, conn => {
            sql::query_scalar(
                "delete from invitations where token_hash = $1 and expires_at > $2 returning id",
            )
            .bind(token_hash)
            .bind(now.seconds())
            .fetch_optional(&mut *conn)
            .await
            .map_err(db_error)
        })
    }

    async fn delete_invitations_by(&self, person_id: &PersonId) -> StoreResult<u64> {
        Ok(on_db!(write self, conn => {
            sql::query("delete from invitations where invited_by = $1")
                .bind(person_id.as_str())
                .execute(&mut *conn)
                .await
                .map_err(db_error)?
                .rows_affected()
        }))
    }

    async fn email_in_use(&self, email_normalized: &str, now: Timestamp) -> StoreResult<bool> {
        on_db!(write self, conn => {
            sql::query("delete from invitations where email_normalized = $1 and expires_at <= $2")
                .bind(email_normalized)
                .bind(now.seconds())
                .execute(&mut *conn)
                .await
                .map_err(db_error)?;
        });
        Ok(on_db!(self, conn => {
            sql::query_scalar(
                "select exists (select 1 from people where email_normalized = $1) \
                 or exists (select 1 from invitations where email_normalized = $1)",
            )
            .bind(email_normalized)
            .fetch_one(&mut *conn)
            .await
            .map_err(db_error)?
        }))
    }
}

#[async_trait]
impl EmailChangeStore for Db {
    async fn put_email_change(
        &self,
        person_id: &PersonId,
        new_email: &Email,
        token_hash: &str,
        at: Timestamp,
        expires_at: Timestamp,
    ) -> StoreResult<()> {
        on_db!(write self, conn => {
            sql::query(
                "insert into email_changes (person_id, new_email, new_email_normalized, token_hash, created_at, expires_at) \
                 values ($1, $2, $3, $4, $5, $6) on conflict (person_id) do update set new_email = excluded.new_email, \
                 new_email_normalized = excluded.new_email_normalized, token_hash = excluded.token_hash, \
                 created_at = excluded.created_at, expires_at = excluded.expires_at",
            )
            .bind(person_id.as_str())
            .bind(new_email.as_str())
            .bind(new_email.normalized())
            .bind(token_hash)
            .bind(at.seconds())
            .bind(expires_at.seconds())
            .execute(&mut *conn)
            .await
            .map_err(db_error)?;
        });
        Ok(())
    }

    async fn take_email_change(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> StoreResult<Option<(PersonId, Email)>> {
        let row: Option<(String, String)> = on_db!(write self, conn => {
            sql::query_as(
                "delete from email_changes where token_hash = $1 and expires_at > $2 returning person_id, new_email",
            )
            .bind(token_hash)
            .bind(now.seconds())
            .fetch_optional(&mut *conn)
            .await
            .map_err(db_error)?
        });
        Ok(row.map(|(person, email)| (PersonId::from_stored(person), Email::from_stored(&email))))
    }
}
