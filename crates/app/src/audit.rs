//! The audit trail: writing security events and reading them back for owners and managers.

use std::sync::Arc;

use latch_domain::Permission;
use latch_domain::audit::AuditKind;

use crate::error::AppError;
use crate::ids::{PersonId, PracticeId};
use crate::latch::Core;
use crate::records::{
    Account, AuditEvent, AuditQuery, ClientInfo, NewAuditEvent, PeopleFilter, Person,
};

/// Who did what to whom, from where: the parts of an event a use case knows.
pub(crate) struct Event<'a> {
    pub practice_id: &'a PracticeId,
    pub kind: AuditKind,
    pub actor_id: Option<&'a PersonId>,
    pub subject_id: Option<&'a PersonId>,
    pub client: Option<&'a ClientInfo>,
    /// A short, masked description; never a code, token, password or full phone number.
    pub detail: String,
}

impl<'a> Event<'a> {
    /// Something a person did to their own account.
    pub(crate) fn own(
        person: &'a Person,
        kind: AuditKind,
        client: &'a ClientInfo,
        detail: impl Into<String>,
    ) -> Self {
        Event {
            practice_id: &person.practice_id,
            kind,
            actor_id: Some(&person.id),
            subject_id: Some(&person.id),
            client: Some(client),
            detail: detail.into(),
        }
    }
}

/// "1 remembered browser", "3 remembered browsers": how an event's detail counts them.
pub(crate) fn remembered_browsers(n: u64) -> String {
    if n == 1 {
        "1 remembered browser".to_owned()
    } else {
        format!("{n} remembered browsers")
    }
}

pub(crate) async fn record(core: &Core, event: Event<'_>) -> Result<(), AppError> {
    let row = NewAuditEvent {
        practice_id: event.practice_id.clone(),
        at: core.clock.now(),
        kind: event.kind.as_str(),
        actor_id: event.actor_id.cloned(),
        subject_id: event.subject_id.cloned(),
        ip: event.client.map(|c| c.ip.clone()),
        user_agent: event.client.map(|c| c.user_agent.clone()),
        detail: event.detail,
    };
    core.audit(row).await?;
    Ok(())
}

#[derive(Clone)]
pub struct AuditService {
    core: Arc<Core>,
}

impl AuditService {
    pub(crate) fn new(core: Arc<Core>) -> Self {
        AuditService { core }
    }

    /// The practice's events, newest first.
    pub async fn events(
        &self,
        actor: &Account,
        mut query: AuditQuery,
    ) -> Result<Vec<AuditEvent>, AppError> {
        if !actor.person.role.allows(Permission::ViewAudit) {
            return Err(AppError::Forbidden);
        }
        query.limit = query.limit.clamp(1, 500);
        Ok(self
            .core
            .store
            .audit_events(&actor.practice.id, &query)
            .await?)
    }

    /// The audit page: the events a query finds (none when the filters were not a query), and
    /// the practice's people, to name actors and subjects and to filter by.
    pub async fn trail(
        &self,
        actor: &Account,
        query: Option<AuditQuery>,
    ) -> Result<(Vec<AuditEvent>, Vec<Person>), AppError> {
        if !actor.person.role.allows(Permission::ViewAudit) {
            return Err(AppError::Forbidden);
        }
        let events = match query {
            Some(query) => self.events(actor, query).await?,
            None => Vec::new(),
        };
        let people = self
            .core
            .store
            .people(&actor.practice.id, &PeopleFilter::default())
            .await?;
        Ok((events, people))
    }

    /// Every event a query finds (at most `limit` when one is given), for an export read a
    /// batch at a time, and the practice's people to name actors and subjects. Permission is
    /// checked here, before the first batch.
    pub async fn export(
        &self,
        actor: &Account,
        query: AuditQuery,
        limit: Option<u32>,
    ) -> Result<AuditExport, AppError> {
        let (_, people) = self.trail(actor, None).await?;
        Ok(AuditExport {
            service: self.clone(),
            actor: actor.clone(),
            query,
            left: limit.map(|n| n.max(1)),
            people,
            done: false,
        })
    }
}

/// An export of the trail in progress, newest first: each batch goes on from the oldest event
/// of the one before, so events written meanwhile are neither repeated nor missed.
pub struct AuditExport {
    service: AuditService,
    actor: Account,
    query: AuditQuery,
    /// Events still to give, when the export has a limit.
    left: Option<u32>,
    pub people: Vec<Person>,
    done: bool,
}

/// Events an export reads at a time.
const EXPORT_BATCH: u32 = 500;

impl AuditExport {
    /// The next batch, or none once every event was given.
    pub async fn next_batch(&mut self) -> Result<Option<Vec<AuditEvent>>, AppError> {
        if self.done {
            return Ok(None);
        }
        let wanted = self
            .left
            .map_or(EXPORT_BATCH, |left| left.min(EXPORT_BATCH));
        let query = AuditQuery {
            limit: wanted,
            ..self.query.clone()
        };
        let batch = self.service.events(&self.actor, query).await?;
        let given = u32::try_from(batch.len()).unwrap_or(u32::MAX);
        if let Some(left) = &mut self.left {
            *left = left.saturating_sub(given);
        }
        self.done = given < wanted || self.left == Some(0);
        match batch.last() {
            None => Ok(None),
            Some(oldest) => {
                self.query.before_id = Some(oldest.id);
                Ok(Some(batch))
            }
        }
    }
}
