//! A person's own account: their password and their open sessions.

use std::sync::Arc;

use latch_domain::Email;
use latch_domain::audit::AuditKind;
use latch_domain::mail::Mail;

use crate::audit::{Event, record};
use crate::challenge::tell;
use crate::crypto::{new_token, token_hash};
use crate::error::AppError;
use crate::ids::SessionId;
use crate::latch::Core;
use crate::password_check::{check_password_again, record_password_again};
use crate::passwords::OwnedContext;
use crate::records::{Account, ClientInfo, Session};
use crate::secret::Secret;
use crate::session::{
    Authenticated, end_devices_and_other_sessions, grant_reauthentication, rotate,
};
use latch_domain::message::Notice;

/// Keeps a pending change to `new` (a newer one replaces it), emails its link to the new
/// address and a notice to the old one, in the caller's unit of work.
async fn ask_email_change(core: &Core, who: &Authenticated, new: &Email) -> Result<(), AppError> {
    let (person, practice) = (&who.account.person, &who.account.practice);
    let now = core.clock.now();
    let token = new_token();
    let hash = token_hash(token.expose());
    let expires_at = now.plus(EMAIL_CHANGE_SECONDS);
    core.store
        .put_email_change(&person.id, new, &hash, now, expires_at)
        .await?;
    let link = core.link(&format!("/email/confirm/{}", token.expose()));
    let (name, new_email) = (&*person.name, new.as_str());
    let confirm = Mail::EmailChange {
        name,
        new_email,
        link: &link,
    };
    core.mail(new, practice, confirm).await?;
    core.mail(
        &person.email,
        practice,
        Mail::EmailChangeAsked { name, new_email },
    )
    .await?;
    Ok(())
}

/// How long an email change's link works.
pub const EMAIL_CHANGE_SECONDS: i64 = 86_400;

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
            tell(
                core,
                person,
                person.two_factor.as_ref(),
                Notice::PasswordChanged,
            )
            .await?;
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

    /// Asks to sign in with another address, in a session re-authenticated recently: a link
    /// valid a day goes to the new address, and a notice to the old one; the address changes
    /// only once the link is followed.
    pub async fn change_email(&self, who: &Authenticated, email: &str) -> Result<(), AppError> {
        let new = &self.new_email(email).await?;
        if !who.is_reauthenticated(self.core.clock.now()) {
            return Err(AppError::ReauthenticationRequired);
        }
        self.core
            .in_one_transaction(move |core| async move { ask_email_change(&core, who, new).await })
            .await
    }

    /// The same, with the password re-entered in the same step (My Profile's form), which
    /// re-authenticates this session: its new token is answered.
    pub async fn change_email_with_password(
        &self,
        who: &Authenticated,
        email: &str,
        password: &Secret,
        client: &ClientInfo,
    ) -> Result<Secret, AppError> {
        let new = &self.new_email(email).await?;
        let check = &check_password_again(&self.core, who, password, client).await?;
        self.core
            .in_one_transaction(move |core| async move {
                let core = &*core;
                let (token, _) = grant_reauthentication(core, who, check, client).await?;
                ask_email_change(core, who, new).await?;
                Ok(token)
            })
            .await
    }

    /// An address to change to: one, and nobody's (nor an open invitation's).
    async fn new_email(&self, email: &str) -> Result<Email, AppError> {
        let new = Email::parse(email).map_err(|_| AppError::InvalidEmail)?;
        let now = self.core.clock.now();
        if self.core.store.email_in_use(new.normalized(), now).await? {
            return Err(AppError::EmailTaken);
        }
        Ok(new)
    }

    /// Follows an email change's link, which works once: the address changes, and counts as
    /// verified.
    pub async fn confirm_email(
        &self,
        token: &str,
        client: &ClientInfo,
    ) -> Result<Account, AppError> {
        let core = &self.core;
        let hash = &token_hash(token);
        let (person_id, email) = core
            .in_one_transaction(move |core| async move {
                let core = &*core;
                let now = core.clock.now();
                let (person_id, new) = core
                    .store
                    .take_email_change(hash, now)
                    .await?
                    .ok_or(AppError::InvalidToken)?;
                let Some(before) = core.store.person_by_id(&person_id).await? else {
                    return Err(AppError::InvalidToken);
                };
                core.store.set_email(&person_id, &new).await?;
                let detail = format!("{} → {}", before.email.as_str(), new.as_str());
                record(
                    core,
                    Event::own(&before, AuditKind::EmailChanged, client, detail),
                )
                .await?;
                Ok((person_id, new))
            })
            .await?;
        let account = core.store.account_by_email(email.normalized()).await?;
        account
            .filter(|a| a.person.id == person_id)
            .ok_or(AppError::InvalidToken)
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
