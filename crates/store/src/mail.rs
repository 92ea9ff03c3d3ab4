//! Email: the queue every node drains, the development email outbox, and password reset links.

use async_trait::async_trait;
use latch_app::ids::PersonId;
use latch_app::ports::{MailStore, RecoveryStore, StoreResult};
use latch_app::records::{Account, EmailOutboxMessage, NewEmailOutboxMessage, QueuedMail};
use latch_domain::Timestamp;

use crate::rows::{AccountRow, person_columns, practice_columns};
use crate::sql;
use crate::{Db, db_error, on_db};

crate::sql::row! {
    struct OutboxRow {
        id: i64,
        to_address: String,
        subject: String,
        text_body: String,
        html_body: String,
        link: Option<String>,
        sent_at: i64,
    }
}

macro_rules! outbox_columns {
    () => {
        "id, to_address, subject, text_body, html_body, link, sent_at"
    };
}

#[async_trait]
impl MailStore for Db {
    async fn queue_mail(&self, sealed: &str, at: Timestamp) -> StoreResult<i64> {
        on_db!(write self, conn => {
            sql::query_scalar(
                "insert into mail_queue (sealed, due_at, created_at) values ($1, $2, $2) returning id",
            )
            .bind(sealed)
            .bind(at.seconds())
            .fetch_one(&mut *conn)
            .await
            .map_err(db_error)
        })
    }

    async fn claim_mail(
        &self,
        now: Timestamp,
        retry_at: Timestamp,
        limit: i64,
    ) -> StoreResult<Vec<QueuedMail>> {
        // SECURITY of delivery: the claim is one guarded statement, so of nodes claiming at
        // once each email goes to one. PostgreSQL skips rows another node holds.
        let claim = if matches!(self, Db::Postgres(_) | Db::PostgresWork(_)) {
            "update mail_queue set due_at = $2, attempts = attempts + 1 where id in \
             (select id from mail_queue where due_at <= $1 order by due_at, id limit $3 for update skip locked) \
             returning id, sealed, attempts"
        } else {
            "update mail_queue set due_at = $2, attempts = attempts + 1 where id in \
             (select id from mail_queue where due_at <= $1 order by due_at, id limit $3) \
             returning id, sealed, attempts"
        };
        let mut rows: Vec<(i64, String, i64)> = on_db!(write self, conn => {
            sql::query_as(claim)
                .bind(now.seconds())
                .bind(retry_at.seconds())
                .bind(limit)
                .fetch_all(&mut *conn)
                .await
                .map_err(db_error)?
        });
        // Neither database promises the order of RETURNING rows: oldest first.
        rows.sort_by_key(|(id, _, _)| *id);
        Ok(rows
            .into_iter()
            .map(|(id, sealed, attempts)| QueuedMail {
                id,
                sealed,
                attempts,
            })
            .collect())
    }

    async fn finish_mail(&self, id: i64) -> StoreResult<()> {
        on_db!(write self, conn => {
            sql::query("delete from mail_queue where id = $1")
                .bind(id)
                .execute(&mut *conn)
                .await
                .map_err(db_error)?;
        });
        Ok(())
    }

    async fn postpone_mail(&self, id: i64, due_at: Timestamp) -> StoreResult<()> {
        on_db!(write self, conn => {
            sql::query("update mail_queue set due_at = $2 where id = $1")
                .bind(id)
                .bind(due_at.seconds())
                .execute(&mut *conn)
                .await
                .map_err(db_error)?;
        });
        Ok(())
    }

    async fn append_email_outbox(&self, m: &NewEmailOutboxMessage) -> StoreResult<i64> {
        on_db!(write self, conn => {
            sql::query_scalar(
                "insert into email_outbox (to_address, to_normalized, subject, text_body, html_body, link, sent_at) \
                 values ($1, $2, $3, $4, $5, $6, $7) returning id",
            )
            .bind(&m.to)
            .bind(&m.to_normalized)
            .bind(&m.subject)
            .bind(&m.text)
            .bind(&m.html)
            .bind(m.link.as_deref())
            .bind(m.sent_at.seconds())
            .fetch_one(&mut *conn)
            .await
            .map_err(db_error)
        })
    }

    async fn email_outbox(
        &self,
        to: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<EmailOutboxMessage>> {
        let rows: Vec<OutboxRow> = on_db!(self, conn => {
            match to {
                Some(to) => sql::query_as(concat!(
                    "select ", outbox_columns!(),
                    " from email_outbox where to_normalized = $1 order by id desc limit $2"
                ))
                .bind(to),
                None => sql::query_as(concat!(
                    "select ", outbox_columns!(), " from email_outbox order by id desc limit $1"
                )),
            }
            .bind(i64::from(limit))
            .fetch_all(&mut *conn)
            .await
            .map_err(db_error)?
        });
        Ok(rows
            .into_iter()
            .map(|r| EmailOutboxMessage {
                id: r.id,
                to: r.to_address,
                subject: r.subject,
                text: r.text_body,
                html: r.html_body,
                link: r.link,
                sent_at: Timestamp(r.sent_at),
            })
            .collect())
    }
}

#[async_trait]
impl RecoveryStore for Db {
    async fn put_password_reset(
        &self,
        person_id: &PersonId,
        token_hash: &str,
        at: Timestamp,
        expires_at: Timestamp,
    ) -> StoreResult<()> {
        on_db!(write self, conn => {
            sql::query(
                "insert into password_resets (person_id, token_hash, created_at, expires_at) values ($1, $2, $3, $4) \
                 on conflict (person_id) do update set token_hash = excluded.token_hash, \
                 created_at = excluded.created_at, expires_at = excluded.expires_at",
            )
            .bind(person_id.as_str())
            .bind(token_hash)
            .bind(at.seconds())
            .bind(expires_at.seconds())
            .execute(&mut *conn)
            .await
            .map_err(db_error)?;
        });
        Ok(())
    }

    async fn password_reset(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> StoreResult<Option<Account>> {
        let row: Option<AccountRow> = on_db!(self, conn => {
            sql::query_as(concat!(
                "select ", person_columns!(), ", ", practice_columns!(),
                " from password_resets r join people p on p.id = r.person_id \
                 join practices pr on pr.id = p.practice_id \
                 where r.token_hash = $1 and r.expires_at > $2"
            ))
            .bind(token_hash)
            .bind(now.seconds())
            .fetch_optional(&mut *conn)
            .await
            .map_err(db_error)?
        });
        row.map(Account::try_from).transpose()
    }

    async fn take_password_reset(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> StoreResult<Option<PersonId>> {
        let person: Option<String> = on_db!(write self, conn => {
            sql::query_scalar(
                "delete from password_resets where token_hash = $1 and expires_at > $2 returning person_id",
            )
            .bind(token_hash)
            .bind(now.seconds())
            .fetch_optional(&mut *conn)
            .await
            .map_err(db_error)?
        });
        Ok(person.map(PersonId::from_stored))
    }

    async fn delete_links_of(&self, person_id: &PersonId) -> StoreResult<()> {
        on_db!(write self, conn => {
            sql::query("delete from password_resets where person_id = $1")
                .bind(person_id.as_str())
                .execute(&mut *conn)
                .await
                .map_err(db_error)?;
            sql::query("delete from email_changes where person_id = $1")
                .bind(person_id.as_str())
                .execute(&mut *conn)
                .await
                .map_err(db_error)?;
        });
        Ok(())
    }
}
