//! The applications that sign people in through latch, and the installation's signing keys:
//! one key signs at a time, held so by a unique index that every node writes against.

use async_trait::async_trait;
use latch_app::ids::{PersonId, SessionId};
use latch_app::ports::StoreError;
use latch_app::ports::{ApplicationStore, StoreResult};
use latch_app::records::{
    Account, Application, ApplicationSignIn, ApplicationToken, AuthorizationCode,
    BackchannelLogout, Redeemed, Session, SigningKeyRecord, TokenKind,
};
use latch_domain::Timestamp;
use latch_domain::application::AppUri;

use crate::rows::{
    SessionAccountRow, person_columns, practice_columns, session_account_joins, session_columns,
};
use crate::sql;
use crate::{Db, begin_write, db_error, on_db};

crate::sql::row! {
    struct ApplicationRow {
        id: String,
        name: String,
        secret_hash: Option<String>,
        redirect_uris: String,
        post_logout_redirect_uris: String,
        backchannel_logout_uri: Option<String>,
        created_at: i64,
    }
}

/// Addresses one per line: none of them holds a line break (`AppUri` parsed each).
fn lines(uris: &[AppUri]) -> String {
    uris.iter()
        .map(AppUri::as_str)
        .collect::<Vec<_>>()
        .join("\n")
}

fn uris(stored: &str) -> Vec<AppUri> {
    stored.lines().map(AppUri::from_stored).collect()
}

impl From<ApplicationRow> for Application {
    fn from(r: ApplicationRow) -> Self {
        Application {
            redirect_uris: uris(&r.redirect_uris),
            post_logout_redirect_uris: uris(&r.post_logout_redirect_uris),
            backchannel_logout_uri: r.backchannel_logout_uri.as_deref().map(AppUri::from_stored),
            id: r.id,
            name: r.name,
            secret_hash: r.secret_hash,
            created_at: Timestamp(r.created_at),
        }
    }
}

crate::sql::row! {
    struct SigningKeyRow {
        id: String,
        sealed_private_key: String,
        public_n: String,
        public_e: String,
        created_at: i64,
        retired_at: Option<i64>,
    }
}

impl From<SigningKeyRow> for SigningKeyRecord {
    fn from(r: SigningKeyRow) -> Self {
        SigningKeyRecord {
            id: r.id,
            sealed_private_key: r.sealed_private_key,
            public_n: r.public_n,
            public_e: r.public_e,
            created_at: Timestamp(r.created_at),
            retired_at: r.retired_at.map(Timestamp),
        }
    }
}

crate::sql::row! {
    struct CodeRow {
        code_hash: String,
        application_id: String,
        session_id: String,
        person_id: String,
        redirect_uri: String,
        scopes: String,
        nonce: Option<String>,
        code_challenge: Option<String>,
        created_at: i64,
        expires_at: i64,
    }
}

impl From<CodeRow> for AuthorizationCode {
    fn from(r: CodeRow) -> Self {
        AuthorizationCode {
            code_hash: r.code_hash,
            application_id: r.application_id,
            session_id: SessionId::from_stored(r.session_id),
            person_id: PersonId::from_stored(r.person_id),
            redirect_uri: r.redirect_uri,
            scopes: r.scopes,
            nonce: r.nonce,
            code_challenge: r.code_challenge,
            created_at: Timestamp(r.created_at),
            expires_at: Timestamp(r.expires_at),
        }
    }
}

crate::sql::row! {
    struct TokenRow {
        token_hash: String,
        kind: String,
        grant_id: String,
        application_id: String,
        session_id: String,
        person_id: String,
        scopes: String,
        created_at: i64,
        expires_at: i64,
    }
}

impl TryFrom<TokenRow> for ApplicationToken {
    type Error = StoreError;

    fn try_from(r: TokenRow) -> Result<Self, StoreError> {
        Ok(ApplicationToken {
            kind: TokenKind::parse(&r.kind)
                .ok_or_else(|| StoreError::Other("an application token has a bad kind".into()))?,
            token_hash: r.token_hash,
            grant_id: r.grant_id,
            application_id: r.application_id,
            session_id: SessionId::from_stored(r.session_id),
            person_id: PersonId::from_stored(r.person_id),
            scopes: r.scopes,
            created_at: Timestamp(r.created_at),
            expires_at: Timestamp(r.expires_at),
        })
    }
}

crate::sql::row! {
    /// An access token's scopes with the session it was given to.
    struct ScopedSessionRow {
        token_scopes: String,
        #[flatten]
        found: SessionAccountRow,
    }
}

const TOKEN_COLUMNS: &str = "token_hash, kind, grant_id, application_id, session_id, person_id, scopes, \
     created_at, expires_at";

const CODE_COLUMNS: &str = "code_hash, application_id, session_id, person_id, redirect_uri, scopes, nonce, \
     code_challenge, created_at, expires_at";

const APPLICATION_COLUMNS: &str = "id, name, secret_hash, redirect_uris, post_logout_redirect_uris, \
     backchannel_logout_uri, created_at";

const INSERT_KEY: &str = "insert into signing_keys (id, sealed_private_key, public_n, public_e, created_at, signing) \
     values ($1, $2, $3, $4, $5, 1)";

#[async_trait]
impl ApplicationStore for Db {
    async fn put_application(&self, a: &Application) -> StoreResult<()> {
        on_db!(write self, conn => {
            sql::query(
                "insert into applications (id, name, secret_hash, redirect_uris, post_logout_redirect_uris, \
                 backchannel_logout_uri, created_at) values ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&a.id)
            .bind(&a.name)
            .bind(&a.secret_hash)
            .bind(lines(&a.redirect_uris))
            .bind(lines(&a.post_logout_redirect_uris))
            .bind(a.backchannel_logout_uri.as_ref().map(AppUri::as_str))
            .bind(a.created_at.seconds())
            .execute(&mut *conn)
            .await
            .map_err(db_error)?;
        });
        Ok(())
    }

    async fn applications(&self) -> StoreResult<Vec<Application>> {
        let rows: Vec<ApplicationRow> = on_db!(self, conn => {
            sql::query_as(format!(
                "select {APPLICATION_COLUMNS} from applications order by created_at, id"
            ))
            .fetch_all(&mut *conn)
            .await
            .map_err(db_error)?
        });
        Ok(rows.into_iter().map(Application::from).collect())
    }

    async fn application(&self, id: &str) -> StoreResult<Option<Application>> {
        let row: Option<ApplicationRow> = on_db!(self, conn => {
            sql::query_as(format!(
                "select {APPLICATION_COLUMNS} from applications where id = $1"
            ))
            .bind(id)
            .fetch_optional(&mut *conn)
            .await
            .map_err(db_error)?
        });
        Ok(row.map(Application::from))
    }

    async fn remove_application(&self, id: &str) -> StoreResult<bool> {
        let removed = on_db!(write self, conn => {
            sql::query("delete from applications where id = $1")
                .bind(id)
                .execute(&mut *conn)
                .await
                .map_err(db_error)?
                .rows_affected()
        });
        Ok(removed == 1)
    }

    async fn set_application_secret(&self, id: &str, secret_hash: &str) -> StoreResult<bool> {
        let changed = on_db!(write self, conn => {
            sql::query(
                "update applications set secret_hash = $2 where id = $1 and secret_hash is not null",
            )
            .bind(id)
            .bind(secret_hash)
            .execute(&mut *conn)
            .await
            .map_err(db_error)?
            .rows_affected()
        });
        Ok(changed == 1)
    }

    async fn signing_keys(&self, retired_since: Timestamp) -> StoreResult<Vec<SigningKeyRecord>> {
        let rows: Vec<SigningKeyRow> = on_db!(self, conn => {
            sql::query_as(
                "select id, sealed_private_key, public_n, public_e, created_at, retired_at from signing_keys \
                 where signing = 1 or retired_at >= $1 \
                 order by signing is null, created_at desc",
            )
            .bind(retired_since.seconds())
            .fetch_all(&mut *conn)
            .await
            .map_err(db_error)?
        });
        Ok(rows.into_iter().map(SigningKeyRecord::from).collect())
    }

    async fn add_first_signing_key(&self, key: &SigningKeyRecord) -> StoreResult<bool> {
        let added = on_db!(write self, conn => {
            sql::query(format!("{INSERT_KEY} on conflict (signing) do nothing"))
                .bind(&key.id)
                .bind(&key.sealed_private_key)
                .bind(&key.public_n)
                .bind(&key.public_e)
                .bind(key.created_at.seconds())
                .execute(&mut *conn)
                .await
                .map_err(db_error)?
                .rows_affected()
        });
        Ok(added == 1)
    }

    async fn rotate_signing_key(&self, key: &SigningKeyRecord, now: Timestamp) -> StoreResult<()> {
        on_db!(write self, conn => {
            let mut tx = begin_write(conn).await?;
            sql::query("update signing_keys set signing = null, retired_at = $1 where signing = 1")
                .bind(now.seconds())
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
            // A rotation on another node between this one's two statements takes the signing
            // place first: this one is refused by the unique index, not doubled.
            sql::query(INSERT_KEY)
                .bind(&key.id)
                .bind(&key.sealed_private_key)
                .bind(&key.public_n)
                .bind(&key.public_e)
                .bind(key.created_at.seconds())
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
            tx.commit().await.map_err(db_error)
        })
    }

    async fn put_authorization_code(&self, c: &AuthorizationCode) -> StoreResult<()> {
        on_db!(write self, conn => {
            sql::query(format!(
                "insert into authorization_codes ({CODE_COLUMNS}) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
            ))
            .bind(&c.code_hash)
            .bind(&c.application_id)
            .bind(c.session_id.as_str())
            .bind(c.person_id.as_str())
            .bind(&c.redirect_uri)
            .bind(&c.scopes)
            .bind(&c.nonce)
            .bind(&c.code_challenge)
            .bind(c.created_at.seconds())
            .bind(c.expires_at.seconds())
            .execute(&mut *conn)
            .await
            .map_err(db_error)?;
        });
        Ok(())
    }

    async fn redeem_authorization_code(
        &self,
        code_hash: &str,
        now: Timestamp,
    ) -> StoreResult<Redeemed> {
        on_db!(write self, conn => {
            // SECURITY: the guard is in the statement, so two requests with one code cannot
            // both find it unused.
            let fresh: Option<CodeRow> = sql::query_as(format!(
                "update authorization_codes set redeemed_at = $2 \
                 where code_hash = $1 and redeemed_at is null and expires_at > $2 \
                 returning {CODE_COLUMNS}"
            ))
            .bind(code_hash)
            .bind(now.seconds())
            .fetch_optional(&mut *conn)
            .await
            .map_err(db_error)?;
            if let Some(row) = fresh {
                return Ok(Redeemed::Now(row.into()));
            }
            let before: Option<CodeRow> = sql::query_as(format!(
                "select {CODE_COLUMNS} from authorization_codes where code_hash = $1 and redeemed_at is not null"
            ))
            .bind(code_hash)
            .fetch_optional(&mut *conn)
            .await
            .map_err(db_error)?;
            Ok(before.map_or(Redeemed::Not, |row| Redeemed::Before(row.into())))
        })
    }

    async fn put_application_token(&self, t: &ApplicationToken) -> StoreResult<()> {
        on_db!(write self, conn => {
            sql::query(format!(
                "insert into application_tokens ({TOKEN_COLUMNS}) values ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
            ))
            .bind(&t.token_hash)
            .bind(t.kind.as_str())
            .bind(&t.grant_id)
            .bind(&t.application_id)
            .bind(t.session_id.as_str())
            .bind(t.person_id.as_str())
            .bind(&t.scopes)
            .bind(t.created_at.seconds())
            .bind(t.expires_at.seconds())
            .execute(&mut *conn)
            .await
            .map_err(db_error)?;
        });
        Ok(())
    }

    async fn application_token(
        &self,
        token_hash: &str,
        kind: TokenKind,
        now: Timestamp,
    ) -> StoreResult<Option<ApplicationToken>> {
        let row: Option<TokenRow> = on_db!(self, conn => {
            sql::query_as(format!(
                "select {TOKEN_COLUMNS} from application_tokens \
                 where token_hash = $1 and kind = $2 and expires_at > $3 and used_at is null"
            ))
            .bind(token_hash)
            .bind(kind.as_str())
            .bind(now.seconds())
            .fetch_optional(&mut *conn)
            .await
            .map_err(db_error)?
        });
        row.map(ApplicationToken::try_from).transpose()
    }

    async fn access_token_session(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> StoreResult<Option<(String, Session, Account)>> {
        let row: Option<ScopedSessionRow> = on_db!(self, conn => {
            sql::query_as(concat!(
                "select t.scopes as token_scopes, ", session_columns!(), ", ", person_columns!(), ", ",
                practice_columns!(),
                " from application_tokens t join sessions s on s.id = t.session_id",
                session_account_joins!(),
                " and t.token_hash = $1 and t.kind = $3 and t.expires_at > $2 and t.used_at is null"
            ))
            .bind(token_hash)
            .bind(now.seconds())
            .bind(TokenKind::Access.as_str())
            .fetch_optional(&mut *conn)
            .await
            .map_err(db_error)?
        });
        row.map(|r| {
            Ok((
                r.token_scopes,
                r.found.session.try_into()?,
                r.found.account.try_into()?,
            ))
        })
        .transpose()
    }

    async fn use_refresh_token(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> StoreResult<Redeemed<ApplicationToken>> {
        on_db!(write self, conn => {
            // SECURITY: the guard is in the statement, so two refreshes with one token cannot
            // both find it unused.
            let fresh: Option<TokenRow> = sql::query_as(format!(
                "update application_tokens set used_at = $2 \
                 where token_hash = $1 and kind = 'refresh' and used_at is null and expires_at > $2 \
                 returning {TOKEN_COLUMNS}"
            ))
            .bind(token_hash)
            .bind(now.seconds())
            .fetch_optional(&mut *conn)
            .await
            .map_err(db_error)?;
            if let Some(row) = fresh {
                return Ok(Redeemed::Now(row.try_into()?));
            }
            let before: Option<TokenRow> = sql::query_as(format!(
                "select {TOKEN_COLUMNS} from application_tokens \
                 where token_hash = $1 and kind = 'refresh' and used_at is not null"
            ))
            .bind(token_hash)
            .fetch_optional(&mut *conn)
            .await
            .map_err(db_error)?;
            match before {
                Some(row) => Ok(Redeemed::Before(row.try_into()?)),
                None => Ok(Redeemed::Not),
            }
        })
    }

    async fn revoke_token(&self, token_hash: &str) -> StoreResult<Option<ApplicationToken>> {
        let row: Option<TokenRow> = on_db!(write self, conn => {
            sql::query_as(format!(
                "delete from application_tokens where token_hash = $1 returning {TOKEN_COLUMNS}"
            ))
            .bind(token_hash)
            .fetch_optional(&mut *conn)
            .await
            .map_err(db_error)?
        });
        row.map(ApplicationToken::try_from).transpose()
    }

    async fn revoke_grant(&self, grant_id: &str) -> StoreResult<u64> {
        Ok(on_db!(write self, conn => {
            sql::query("delete from application_tokens where grant_id = $1")
                .bind(grant_id)
                .execute(&mut *conn)
                .await
                .map_err(db_error)?
                .rows_affected()
        }))
    }

    async fn put_application_sign_in(
        &self,
        session_id: &SessionId,
        application_id: &str,
        person_id: &PersonId,
        at: Timestamp,
    ) -> StoreResult<()> {
        on_db!(write self, conn => {
            sql::query(
                "insert into application_sign_ins (session_id, application_id, person_id, signed_in_at) \
                 values ($1, $2, $3, $4) on conflict (session_id, application_id) do nothing",
            )
            .bind(session_id.as_str())
            .bind(application_id)
            .bind(person_id.as_str())
            .bind(at.seconds())
            .execute(&mut *conn)
            .await
            .map_err(db_error)?;
        });
        Ok(())
    }

    async fn application_sign_ins_of(
        &self,
        person_id: &PersonId,
    ) -> StoreResult<Vec<ApplicationSignIn>> {
        let rows: Vec<(String, String, i64)> = on_db!(self, conn => {
            sql::query_as(
                "select s.session_id, a.name, s.signed_in_at from application_sign_ins s \
                 join applications a on a.id = s.application_id \
                 where s.person_id = $1 order by s.signed_in_at desc, a.name",
            )
            .bind(person_id.as_str())
            .fetch_all(&mut *conn)
            .await
            .map_err(db_error)?
        });
        Ok(rows
            .into_iter()
            .map(|(session_id, application_name, at)| ApplicationSignIn {
                session_id: SessionId::from_stored(session_id),
                application_name,
                signed_in_at: Timestamp(at),
            })
            .collect())
    }

    async fn claim_backchannel_logouts(
        &self,
        now: Timestamp,
        retry_at: Timestamp,
        limit: i64,
    ) -> StoreResult<Vec<BackchannelLogout>> {
        // SECURITY of delivery, not of data: the claim is one guarded statement, so of nodes
        // claiming at once each logout goes to one. PostgreSQL skips rows another node holds.
        let claim = if matches!(self, Db::Postgres(_) | Db::PostgresWork(_)) {
            "update backchannel_logouts set due_at = $2, attempts = attempts + 1 \
             where (application_id, session_id) in (select application_id, session_id \
             from backchannel_logouts where due_at <= $1 order by due_at limit $3 for update skip locked) \
             returning application_id, session_id, person_id, attempts"
        } else {
            "update backchannel_logouts set due_at = $2, attempts = attempts + 1 \
             where (application_id, session_id) in (select application_id, session_id \
             from backchannel_logouts where due_at <= $1 order by due_at limit $3) \
             returning application_id, session_id, person_id, attempts"
        };
        let rows: Vec<(String, String, String, i64)> = on_db!(write self, conn => {
            sql::query_as(claim)
                .bind(now.seconds())
                .bind(retry_at.seconds())
                .bind(limit)
                .fetch_all(&mut *conn)
                .await
                .map_err(db_error)?
        });
        Ok(rows
            .into_iter()
            .map(
                |(application_id, session_id, person_id, attempts)| BackchannelLogout {
                    application_id,
                    session_id: SessionId::from_stored(session_id),
                    person_id: PersonId::from_stored(person_id),
                    attempts,
                },
            )
            .collect())
    }

    async fn finish_backchannel_logout(
        &self,
        application_id: &str,
        session_id: &SessionId,
    ) -> StoreResult<()> {
        on_db!(write self, conn => {
            sql::query("delete from backchannel_logouts where application_id = $1 and session_id = $2")
                .bind(application_id)
                .bind(session_id.as_str())
                .execute(&mut *conn)
                .await
                .map_err(db_error)?;
        });
        Ok(())
    }

    async fn postpone_backchannel_logout(
        &self,
        application_id: &str,
        session_id: &SessionId,
        due_at: Timestamp,
    ) -> StoreResult<()> {
        on_db!(write self, conn => {
            sql::query(
                "update backchannel_logouts set due_at = $3 where application_id = $1 and session_id = $2",
            )
            .bind(application_id)
            .bind(session_id.as_str())
            .bind(due_at.seconds())
            .execute(&mut *conn)
            .await
            .map_err(db_error)?;
        });
        Ok(())
    }
}
