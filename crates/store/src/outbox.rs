//! The development outbox: every text and call, in the database so every node sees it.

use async_trait::async_trait;
use latch_app::ids::{PersonId, PracticeId};
use latch_app::ports::{CallStore, DeliveryLogStore, OutboxStore, StoreError, StoreResult};
use latch_app::records::OutboxMessage;
use latch_domain::Timestamp;
use latch_domain::two_factor::Channel;

use crate::sql;
use crate::{Db, db_error, on_db};

crate::sql::row! {
    struct OutboxRow {
        id: i64,
        to_phone: String,
        channel: String,
        body: String,
        code: Option<String>,
        sent_at: i64,
    }
}

#[async_trait]
impl OutboxStore for Db {
    async fn append_outbox(
        &self,
        to: &str,
        channel: Channel,
        body: &str,
        code: Option<&str>,
        at: Timestamp,
    ) -> StoreResult<i64> {
        on_db!(write self, conn => {
            sql::query_scalar(
                "insert into outbox (to_phone, channel, body, code, sent_at) values ($1, $2, $3, $4, $5) returning id",
            )
            .bind(to)
            .bind(channel.as_str())
            .bind(body)
            .bind(code)
            .bind(at.seconds())
            .fetch_one(&mut *conn)
            .await
            .map_err(db_error)
        })
    }

    async fn outbox(&self, to: Option<&str>, limit: u32) -> StoreResult<Vec<OutboxMessage>> {
        // Two statements rather than `($1 is null or to_phone = $1)`, which neither database
        // answers from the (to_phone, id) index: it walks the whole outbox backwards.
        let rows: Vec<OutboxRow> = on_db!(self, conn => {
            match to {
                Some(to) => sql::query_as(
                    "select id, to_phone, channel, body, code, sent_at from outbox where to_phone = $1 \
                     order by id desc limit $2",
                )
                .bind(to),
                None => sql::query_as(
                    "select id, to_phone, channel, body, code, sent_at from outbox order by id desc limit $1",
                ),
            }
            .bind(i64::from(limit))
            .fetch_all(&mut *conn)
            .await
            .map_err(db_error)?
        });
        rows.into_iter()
            .map(|r| {
                Ok(OutboxMessage {
                    channel: Channel::parse(&r.channel)
                        .ok_or_else(|| StoreError::Other("bad outbox channel".into()))?,
                    id: r.id,
                    to: r.to_phone,
                    body: r.body,
                    code: r.code,
                    sent_at: Timestamp(r.sent_at),
                })
            })
            .collect()
    }
}

#[async_trait]
impl DeliveryLogStore for Db {
    async fn record_delivery(
        &self,
        provider_id: &str,
        practice_id: &PracticeId,
        person_id: &PersonId,
        channel: Channel,
        at: Timestamp,
    ) -> StoreResult<()> {
        on_db!(write self, conn => {
            sql::query(
                "insert into deliveries (provider_id, practice_id, person_id, channel, sent_at) values ($1, $2, $3, $4, $5) \
                 on conflict (provider_id) do nothing",
            )
            .bind(provider_id)
            .bind(practice_id.as_str())
            .bind(person_id.as_str())
            .bind(channel.as_str())
            .bind(at.seconds())
            .execute(&mut *conn)
            .await
            .map_err(db_error)?;
        });
        Ok(())
    }

    async fn delivery(
        &self,
        provider_id: &str,
    ) -> StoreResult<Option<(PracticeId, Option<PersonId>)>> {
        let row: Option<(String, Option<String>)> = on_db!(self, conn => {
            sql::query_as("select practice_id, person_id from deliveries where provider_id = $1")
                .bind(provider_id)
                .fetch_optional(&mut *conn)
                .await
                .map_err(db_error)?
        });
        Ok(row.map(|(practice, person)| {
            (
                PracticeId::from_stored(practice),
                person.map(PersonId::from_stored),
            )
        }))
    }
}

#[async_trait]
impl CallStore for Db {
    async fn put_call(
        &self,
        token_hash: &str,
        sealed_code: &str,
        expires_at: Timestamp,
    ) -> StoreResult<()> {
        on_db!(write self, conn => {
            sql::query("insert into call_tokens (token_hash, sealed_code, expires_at) values ($1, $2, $3)")
                .bind(token_hash)
                .bind(sealed_code)
                .bind(expires_at.seconds())
                .execute(&mut *conn)
                .await
                .map_err(db_error)?;
        });
        Ok(())
    }

    async fn take_call(&self, token_hash: &str, now: Timestamp) -> StoreResult<Option<String>> {
        on_db!(write self, conn => {
            sql::query_scalar("delete from call_tokens where token_hash = $1 and expires_at > $2 returning sealed_code")
                .bind(token_hash)
                .bind(now.seconds())
                .fetch_optional(&mut *conn)
                .await
                .map_err(db_error)
        })
    }
}
