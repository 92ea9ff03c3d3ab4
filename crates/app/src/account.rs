//! A person's own account: their password and their open sessions.

use std::sync::Arc;

use latch_domain::audit::AuditKind;

use crate::audit::{Event, record};
use crate::challenge::notify;
use crate::error::AppError;
use crate::ids::SessionId;
use crate::latch::Core;
use crate::password_check::{check_password_again, record_password_again};
use crate::passwords::OwnedContext;
use crate::records::{ClientInfo, Session};
use crate::secret::Secret;
use crate::session::{Authenticated, end_devices_and_other_sessions, rotate};
use latch_domain::message::Notice;

/// One of the person's sessions, and the applications it signed in to (newest first).
#[derive(Debug, Clone)]
pub struct OpenSession {
    pub session: Session,
    pub applications: Vec<String>,
}

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
        let check = check_password_again(core, who, current, client).await?;
        let hash = match check.result() {
            Ok(_) => {
                let context = OwnedContext {
                    practice_name: who.account.practice.name.clone(),
                    person_name: person.name.clone(),
                    email: person.email.as_str().to_owned(),
                };
                Some(
                    core.passwords
                        .check_and_hash(new, context)
                        .await?
                        .map_err(AppError::WeakPassword),
                )
            }
            Err(_) => None,
        };
        let check = &check;
        let hash = &hash;
        core.in_one_transaction(move |core| async move {
            let core = &*core;
            record_password_again(core, who, check, client, "password change").await?;
            let hash = match &hash {
                Some(Ok(hash)) => hash,
                Some(Err(AppError::WeakPassword(why))) => {
                    return Err(AppError::WeakPassword(why.clone()));
                }
                _ => return Err(AppError::Internal("a password change lost its hash".into())),
            };
            core.store.set_password_hash(&person.id, hash).await?;
            end_devices_and_other_sessions(core, who, client).await?;
            if let Some(setting) = &person.two_factor {
                notify(core, setting, Notice::PasswordChanged).await;
            }
            let token = rotate(
                core,
                &who.session,
                who.session.state,
                who.session.reauthenticated_until,
                None,
                None,
            )
            .await?;
            record(
                core,
                Event::own(
                    person,
                    AuditKind::PasswordChanged,
                    client,
                    "other sessions and remembered browsers ended",
                ),
            )
            .await?;
            Ok(token)
        })
        .await
    }

    /// The person's open sessions, most recently used first, each with the applications it
    /// signed in to.
    pub async fn sessions(&self, who: &Authenticated) -> Result<Vec<OpenSession>, AppError> {
        let (store, person) = (&self.core.store, &who.account.person.id);
        let sessions = store.sessions_of(person).await?;
        let sign_ins = store.application_sign_ins_of(person).await?;
        Ok(sessions
            .into_iter()
            .map(|session| OpenSession {
                applications: sign_ins
                    .iter()
                    .filter(|s| s.session_id == session.id)
                    .map(|s| s.application_name.clone())
                    .collect(),
                session,
            })
            .collect())
    }

    /// Ends one of the person's own sessions (this one included).
    pub async fn end_session(
        &self,
        who: &Authenticated,
        session_id: &SessionId,
        client: &ClientInfo,
    ) -> Result<(), AppError> {
        let core = &self.core;
        let person = &who.account.person;
        core.in_one_transaction(move |core| async move {
            let core = &*core;
            if !core.store.delete_session(&person.id, session_id).await? {
                return Err(AppError::NotFound);
            }
            record(
                core,
                Event::own(
                    person,
                    AuditKind::SessionEnded,
                    client,
                    if *session_id == who.session.id {
                        "this session"
                    } else {
                        "another session"
                    },
                ),
            )
            .await
        })
        .await
    }
}
