//! A person's own account: their password and their open sessions.

use std::sync::Arc;

use latch_domain::audit::AuditKind;

use crate::audit::{Event, record};
use crate::challenge::notify;
use crate::error::AppError;
use crate::latch::Core;
use crate::passwords::OwnedContext;
use crate::records::{ClientInfo, Session};
use crate::secret::Secret;
use crate::session::{Authenticated, end_devices_and_other_sessions, rotate};
use crate::sign_in::check_password_again;
use latch_domain::message::Notice;

#[derive(Clone)]
pub struct AccountService {
    core: Arc<Core>,
}

impl AccountService {
    pub(crate) fn new(core: Arc<Core>) -> Self {
        AccountService { core }
    }

    /// Changes the password after checking the current one; every other session and every
    /// remembered device of the person ends, a notice goes to their two-factor phone, and this
    /// session gets a new token, which is answered.
    pub async fn change_password(
        &self,
        who: &Authenticated,
        current: &Secret,
        new: &Secret,
        client: &ClientInfo,
    ) -> Result<Secret, AppError> {
        let core = &self.core;
        let person = &who.account.person;
        check_password_again(core, who, current, client, "password change").await?;
        let context = OwnedContext {
            practice_name: who.account.practice.name.clone(),
            person_name: person.name.clone(),
            email: person.email.clone(),
        };
        let hash = core
            .passwords
            .check_and_hash(new, context)
            .await?
            .map_err(|weak| AppError::WeakPassword(weak.message))?;
        core.store.set_password_hash(&person.id, &hash).await?;
        end_devices_and_other_sessions(core, who, client).await?;
        if let Some(setting) = &person.two_factor {
            notify(core, &setting.phone, Notice::PasswordChanged).await;
        }
        let token = rotate(
            core,
            &who.session,
            who.session.state,
            who.session.reauthenticated_until,
            None,
        )
        .await?;
        record(
            core,
            Event {
                practice_id: &person.practice_id,
                kind: AuditKind::PasswordChanged,
                actor_id: Some(&person.id),
                subject_id: Some(&person.id),
                client: Some(client),
                detail: "other sessions and remembered devices ended".into(),
            },
        )
        .await?;
        Ok(token)
    }

    /// The person's open sessions, most recently used first.
    pub async fn sessions(&self, who: &Authenticated) -> Result<Vec<Session>, AppError> {
        Ok(self.core.store.sessions_of(&who.account.person.id).await?)
    }

    /// Ends one of the person's own sessions (this one included).
    pub async fn end_session(
        &self,
        who: &Authenticated,
        session_id: &str,
        client: &ClientInfo,
    ) -> Result<(), AppError> {
        let core = &self.core;
        let person = &who.account.person;
        if !core.store.delete_session(&person.id, session_id).await? {
            return Err(AppError::NotFound);
        }
        record(
            core,
            Event {
                practice_id: &person.practice_id,
                kind: AuditKind::SessionEnded,
                actor_id: Some(&person.id),
                subject_id: Some(&person.id),
                client: Some(client),
                detail: if session_id == who.session.id {
                    "this session"
                } else {
                    "another session"
                }
                .into(),
            },
        )
        .await
    }
}
