//! The applications that sign people in through latch, and the installation's signing keys:
//! one key signs at a time, held so by a unique index that every node writes against.

use async_trait::async_trait;
use latch_app::ports::{ApplicationStore, StoreResult};
use latch_app::records::{Application, SigningKeyRecord};
use latch_domain::Timestamp;
use latch_domain::application::AppUri;

use crate::{Db, begin_write, db_error, on_db};

#[derive(sqlx::FromRow)]
struct ApplicationRow {
    id: String,
    name: String,
    secret_hash: Option<String>,
    redirect_uris: String,
    post_logout_redirect_uris: String,
    backchannel_logout_uri: Option<String>,
    created_at: i64,
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

#[derive(sqlx::FromRow)]
struct SigningKeyRow {
    id: String,
    sealed_private_key: String,
    public_n: String,
    public_e: String,
    created_at: i64,
    retired_at: Option<i64>,
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

const APPLICATION_COLUMNS: &str = "id, name, secret_hash, redirect_uris, post_logout_redirect_uris, \
     backchannel_logout_uri, created_at";

const INSERT_KEY: &str = "insert into signing_keys (id, sealed_private_key, public_n, public_e, created_at, signing) \
     values ($1, $2, $3, $4, $5, 1)";

#[async_trait]
impl ApplicationStore for Db {
    async fn put_application(&self, a: &Application) -> StoreResult<()> {
        on_db!(write self, conn => {
            sqlx::query(
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
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "select {APPLICATION_COLUMNS} from applications order by created_at, id"
            )))
            .fetch_all(&mut *conn)
            .await
            .map_err(db_error)?
        });
        Ok(rows.into_iter().map(Application::from).collect())
    }

    async fn application(&self, id: &str) -> StoreResult<Option<Application>> {
        let row: Option<ApplicationRow> = on_db!(self, conn => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "select {APPLICATION_COLUMNS} from applications where id = $1"
            )))
            .bind(id)
            .fetch_optional(&mut *conn)
            .await
            .map_err(db_error)?
        });
        Ok(row.map(Application::from))
    }

    async fn remove_application(&self, id: &str) -> StoreResult<bool> {
        let removed = on_db!(write self, conn => {
            sqlx::query("delete from applications where id = $1")
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
            sqlx::query(
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
            sqlx::query_as(
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
            sqlx::query(sqlx::AssertSqlSafe(format!("{INSERT_KEY} on conflict (signing) do nothing")))
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
            let mut tx = begin_write(self, conn).await?;
            sqlx::query("update signing_keys set signing = null, retired_at = $1 where signing = 1")
                .bind(now.seconds())
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
            // A rotation on another node between this one's two statements takes the signing
            // place first: this one is refused by the unique index, not doubled.
            sqlx::query(INSERT_KEY)
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
}
