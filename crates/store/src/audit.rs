//! The append-only audit trail.

use async_trait::async_trait;
use latch_app::ids::{PersonId, PracticeId};
use latch_app::ports::{AuditStore, StoreResult};
use latch_app::records::{AuditEvent, AuditQuery, NewAuditEvent};
use latch_domain::Timestamp;

use crate::sql;
use crate::{Db, db_error, on_db};

crate::sql::row! {
    struct AuditRow {
        id: i64,
        practice_id: String,
        at: i64,
        kind: String,
        actor_id: Option<String>,
        subject_id: Option<String>,
        ip: Option<String>,
        user_agent: Option<String>,
        detail: String,
    }
}

#[async_trait]
impl AuditStore for Db {
    async fn append_audit(&self, events: &[NewAuditEvent]) -> StoreResult<()> {
        if events.is_empty() {
            return Ok(());
        }
        on_db!(write self, conn => {
            let mut insert = sql::query(inserting(events.len()));
            for e in events {
                insert = insert
                    .bind(e.practice_id.as_str())
                    .bind(e.at.seconds())
                    .bind(e.kind)
                    .bind(e.actor_id.as_ref().map(PersonId::as_str))
                    .bind(e.subject_id.as_ref().map(PersonId::as_str))
                    .bind(&e.ip)
                    .bind(&e.user_agent)
                    .bind(&e.detail);
            }
            insert.execute(&mut *conn).await.map_err(db_error)?;
        });
        Ok(())
    }

    async fn audit_events(
        &self,
        practice_id: &PracticeId,
        q: &AuditQuery,
    ) -> StoreResult<Vec<AuditEvent>> {
        let rows: Vec<AuditRow> = on_db!(self, conn => {
            sql::query_as(
                "select id, practice_id, at, kind, actor_id, subject_id, ip, user_agent, detail from audit_events \
                 where practice_id = $1 and ($2 is null or id < $2) and ($3 is null or subject_id = $3) \
                 and ($4 is null or kind = $4) and ($5 is null or at >= $5) and ($6 is null or at <= $6) \
                 order by id desc limit $7",
            )
            .bind(practice_id.as_str())
            .bind(q.before_id)
            .bind(q.subject_id.as_ref().map(PersonId::as_str))
            .bind(&q.kind)
            .bind(q.from.map(Timestamp::seconds))
            .bind(q.to.map(Timestamp::seconds))
            .bind(i64::from(q.limit))
            .fetch_all(&mut *conn)
            .await
            .map_err(db_error)?
        });
        Ok(rows
            .into_iter()
            .map(|r| AuditEvent {
                id: r.id,
                practice_id: PracticeId::from_stored(r.practice_id),
                at: Timestamp(r.at),
                kind: r.kind,
                actor_id: r.actor_id.map(PersonId::from_stored),
                subject_id: r.subject_id.map(PersonId::from_stored),
                ip: r.ip,
                user_agent: r.user_agent,
                detail: r.detail,
            })
            .collect())
    }
}

/// The insert of `count` audit events, eight values each.
fn inserting(count: usize) -> String {
    let mut sql = String::from(
        "insert into audit_events (practice_id, at, kind, actor_id, subject_id, ip, user_agent, detail) values ",
    );
    for event in 0..count {
        let first = event * 8 + 1;
        let values: Vec<String> = (first..first + 8).map(|n| format!("${n}")).collect();
        if event > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        sql.push_str(&values.join(", "));
        sql.push(')');
    }
    sql
}
