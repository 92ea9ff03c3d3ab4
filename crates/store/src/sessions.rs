//! Sessions: found by the hash of their cookie token, rotated, listed and ended.

use async_trait::async_trait;
use latch_app::ids::{PersonId, SessionId};
use latch_app::ports::{SessionStore, StoreResult};
use latch_app::records::{Account, NewSession, Session, SessionChange};
use latch_domain::Timestamp;
use latch_domain::session::SecondFactor;

use crate::rows::{
    SessionAccountRow, SessionRow, person_columns, practice_columns, session_account_joins,
    session_columns,
};
use crate::sql;
use crate::{Db, db_error, on_db};

/// What ends with the sessions `$ended` selects (a `select id from sessions where ...` whose
/// parameters are `$bind`s): the back-channel logouts of the applications they signed in to
/// are queued, and their sign-ins and tokens go. Runs just before the sessions are deleted,
/// in the same unit of work.
macro_rules! end_what_sessions_gave {
    ($conn:expr, $ended:literal $(, $bind:expr)*) => {{
        for sql in [
            concat!(
                "insert into backchannel_logouts (application_id, session_id, person_id, due_at, attempts) ",
                "select s.application_id, s.session_id, s.person_id, 0, 0 from application_sign_ins s ",
                "join applications a on a.id = s.application_id ",
                "where a.backchannel_logout_uri is not null and s.session_id in (", $ended, ") ",
                "on conflict do nothing"
            ),
            concat!("delete from application_sign_ins where session_id in (", $ended, ")"),
            concat!("delete from application_tokens where session_id in (", $ended, ")"),
        ] {
            sql::query(sql)
                $(.bind($bind))*
                .execute(&mut *$conn)
                .await
                .map_err(db_error)?;
        }
    }};
}
pub(crate) use end_what_sessions_gave;

/// The session whose `$column` (its token's hash or its id, both unique) is `$value`, with its
/// person and practice, in one indexed query written out at compile time.
macro_rules! session_where {
    ($db:expr, $column:literal, $value:expr) => {{
        let row: Option<SessionAccountRow> = on_db!($db, conn => {
            sql::query_as(concat!(
                "select ", session_columns!(), ", ", person_columns!(), ", ", practice_columns!(),
                " from sessions s", session_account_joins!(), " and ", $column, " = $1"
            ))
            .bind($value)
            .fetch_optional(&mut *conn)
            .await
            .map_err(db_error)?
        });
        row.map(|r| Ok((r.session.try_into()?, r.account.try_into()?)))
            .transpose()
    }};
}

#[async_trait]
impl SessionStore for Db {
    async fn insert_session(&self, s: &NewSession) -> StoreResult<()> {
        on_db!(write self, conn => {
            sql::query(
                "insert into sessions (id, token_hash, person_id, state, created_at, last_seen_at, ip, label, pending_until, \
                 second_factor) values ($1, $2, $3, $4, $5, $5, $6, $7, $8, $9)",
            )
            .bind(s.id.as_str())
            .bind(&s.token_hash)
            .bind(s.person_id.as_str())
            .bind(s.state.as_str())
            .bind(s.created_at.seconds())
            .bind(&s.ip)
            .bind(&s.label)
            .bind(s.pending_until.map(Timestamp::seconds))
            .bind(s.second_factor.map(SecondFactor::as_str))
            .execute(&mut *conn)
            .await
            .map_err(db_error)?;
        });
        Ok(())
    }

    async fn session_by_token(&self, token_hash: &str) -> StoreResult<Option<(Session, Account)>> {
        // One indexed query answers every signed-in request: the session, its person, and the
        // practice whose idle minutes decide whether it still stands.
        session_where!(self, "s.token_hash", token_hash)
    }

    async fn session_by_id(
        &self,
        session_id: &SessionId,
    ) -> StoreResult<Option<(Session, Account)>> {
        session_where!(self, "s.id", session_id.as_str())
    }

    async fn mark_new_browser(&self, session_id: &SessionId) -> StoreResult<()> {
        on_db!(write self, conn => {
            sql::query("update sessions set new_browser = true where id = $1")
                .bind(session_id.as_str())
                .execute(&mut *conn)
                .await
                .map_err(db_error)?;
        });
        Ok(())
    }

    async fn touch_session(&self, session_id: &SessionId, at: Timestamp) -> StoreResult<()> {
        on_db!(write self, conn => {
            sql::query("update sessions set last_seen_at = $2 where id = $1 and last_seen_at < $2")
                .bind(session_id.as_str())
                .bind(at.seconds())
                .execute(&mut *conn)
                .await
                .map_err(db_error)?;
        });
        Ok(())
    }

    async fn set_pending_until(&self, session_id: &SessionId, until: Timestamp) -> StoreResult<()> {
        on_db!(write self, conn => {
            sql::query("update sessions set pending_until = $2 where id = $1")
                .bind(session_id.as_str())
                .bind(until.seconds())
                .execute(&mut *conn)
                .await
                .map_err(db_error)?;
        });
        Ok(())
    }

    async fn rotate_session(
        &self,
        session_id: &SessionId,
        new_token_hash: &str,
        change: &SessionChange,
        at: Timestamp,
    ) -> StoreResult<()> {
        on_db!(write self, conn => {
            sql::query(
                "update sessions set token_hash = $2, state = $3, reauthenticated_until = $4, last_seen_at = $5, \
                 pending_until = $6, second_factor = coalesce($7, second_factor) where id = $1",
            )
            .bind(session_id.as_str())
            .bind(new_token_hash)
            .bind(change.state.as_str())
            .bind(change.reauthenticated_until.map(Timestamp::seconds))
            .bind(at.seconds())
            .bind(change.pending_until.map(Timestamp::seconds))
            .bind(change.second_factor.map(SecondFactor::as_str))
            .execute(&mut *conn)
            .await
            .map_err(db_error)?;
        });
        Ok(())
    }

    async fn sessions_of(&self, person_id: &PersonId) -> StoreResult<Vec<Session>> {
        let rows: Vec<SessionRow> = on_db!(self, conn => {
            sql::query_as(concat!(
                "select ", session_columns!(), " from sessions s where s.person_id = $1 order by s.last_seen_at desc, s.id"
            ))
            .bind(person_id.as_str())
            .fetch_all(&mut *conn)
            .await
            .map_err(db_error)?
        });
        rows.into_iter().map(Session::try_from).collect()
    }

    async fn delete_session(
        &self,
        person_id: &PersonId,
        session_id: &SessionId,
    ) -> StoreResult<bool> {
        let deleted = on_db!(write self, conn => {
            end_what_sessions_gave!(
                conn,
                "select id from sessions where id = $1 and person_id = $2",
                session_id.as_str(),
                person_id.as_str()
            );
            sql::query("delete from sessions where id = $1 and person_id = $2")
                .bind(session_id.as_str())
                .bind(person_id.as_str())
                .execute(&mut *conn)
                .await
                .map_err(db_error)?
                .rows_affected()
        });
        Ok(deleted > 0)
    }

    async fn end_applications_of_session(&self, session_id: &SessionId) -> StoreResult<()> {
        on_db!(write self, conn => {
            end_what_sessions_gave!(
                conn,
                "select id from sessions where id = $1",
                session_id.as_str()
            );
        });
        Ok(())
    }

    async fn delete_sessions_of(
        &self,
        person_id: &PersonId,
        keep: Option<&SessionId>,
    ) -> StoreResult<u64> {
        let deleted = on_db!(write self, conn => {
            end_what_sessions_gave!(
                conn,
                "select id from sessions where person_id = $1 and ($2 is null or id <> $2)",
                person_id.as_str(),
                keep.map(SessionId::as_str)
            );
            sql::query("delete from sessions where person_id = $1 and ($2 is null or id <> $2)")
                .bind(person_id.as_str())
                .bind(keep.map(SessionId::as_str))
                .execute(&mut *conn)
                .await
                .map_err(db_error)?
                .rows_affected()
        });
        Ok(deleted)
    }
}
