//! A forgotten password: the reset asked for by email address (answered alike for every
//! address), the link sent by the queue or by the practice, and the new password chosen with it.

use std::sync::Arc;

use latch_domain::Email;
use latch_domain::audit::AuditKind;
use latch_domain::mail::Mail;
use latch_domain::message::Notice;
use latch_domain::throttle::client_key;

use crate::audit::{Event, record};
use crate::challenge::tell;
use crate::crypto::{new_token, token_hash};
use crate::error::AppError;
use crate::ids::PersonId;
use crate::latch::Core;
use crate::mail::Queued;
use crate::password_check::{address_retry_after, count_against_address};
use crate::passwords::OwnedContext;
use crate::records::{Account, ClientInfo, Person};
use crate::secret::Secret;

/// How long a reset link works.
pub const RESET_SECONDS: i64 = 3600;
/// Links a person is sent in an hour, however many are asked for.
const RESETS_AN_HOUR: i64 = 3;

/// Whose a reset link is, while it works: the page that asks for the new password names them.
#[derive(Debug, Clone)]
pub struct ResetLink {
    pub account: Account,
}

#[derive(Clone)]
pub struct RecoveryService {
    core: Arc<Core>,
}

impl RecoveryService {
    pub(crate) fn new(core: Arc<Core>) -> Self {
        RecoveryService { core }
    }

    /// "Forgot your password?": the same answer, after the same work, whether or not the
    /// address is anyone's. The request is counted per client address (the sign-in's limit)
    /// and per address asked about (three an hour), and queued; the queue finds out whose it
    /// is and sends the link.
    pub async fn request(&self, email: &str, client: &ClientInfo) -> Result<(), AppError> {
        let email = Email::parse(email).map_err(|_| AppError::InvalidEmail)?;
        let core = &self.core;
        let now = core.clock.now();
        let ip_key = format!("reset-ip:{}", client_key(&client.ip));
        if let Some(retry_after) = address_retry_after(core, &ip_key).await? {
            return Err(AppError::rate_limited(retry_after));
        }
        let (email, ip_key) = (&email, &ip_key);
        core.in_one_transaction(move |core| async move {
            count_against_address(&core, ip_key).await?;
            let asked = core
                .store
                .bump_window(&format!("reset-email:{}", email.normalized()), now, 3600)
                .await?;
            if asked.count > RESETS_AN_HOUR {
                return Ok(());
            }
            core.queue(&Queued::PasswordResetRequest {
                email: email.as_str().to_owned(),
                ip: client.ip.clone(),
                user_agent: client.user_agent.clone(),
            })
            .await?;
            Ok(())
        })
        .await
    }

    /// The account a reset link is for, while it works; `InvalidToken` for one unknown, used or
    /// expired alike. Reading it uses nothing up.
    pub async fn link(&self, token: &str) -> Result<ResetLink, AppError> {
        let now = self.core.clock.now();
        let account = self
            .core
            .store
            .password_reset(&token_hash(token), now)
            .await?
            .ok_or(AppError::InvalidToken)?;
        Ok(ResetLink { account })
    }

    /// Sets the new password with a reset link, which works once: every session, remembered
    /// browser and application token of the person ends, the password delays clear, and a
    /// notice goes by email and to the two-factor phone. Nobody is signed in by it, and the
    /// next sign-in asks for the code as before.
    pub async fn confirm(
        &self,
        token: &str,
        new_password: &Secret,
        client: &ClientInfo,
    ) -> Result<(), AppError> {
        let core = &self.core;
        let ResetLink { account } = self.link(token).await?;
        let context = OwnedContext {
            practice_name: account.practice.name.clone(),
            person_name: account.person.name.clone(),
            email: account.person.email.as_str().to_owned(),
        };
        let hash = core
            .passwords
            .check_and_hash(new_password, context)
            .await?
            .map_err(AppError::WeakPassword)?;
        let (account, hash, token_hash) = (&account, &hash, &token_hash(token));
        core.in_one_transaction(move |core| async move {
            let core = &*core;
            let now = core.clock.now();
            let person = &account.person;
            // SECURITY: the link is used up by the statement that checks it, so of two
            // submissions at once one sets the password and the other finds nothing.
            let taken = core.store.take_password_reset(token_hash, now).await?;
            if taken.as_ref() != Some(&person.id) {
                return Err(AppError::InvalidToken);
            }
            core.store.set_password_hash(&person.id, hash).await?;
            // The link came to this address and was followed: it is the person's.
            core.store.set_email_verified(&person.id).await?;
            let browsers = core.store.delete_devices_of(&person.id).await?;
            let sessions = core.store.delete_sessions_of(&person.id, None).await?;
            core.store
                .clear_password_failures(person.email.normalized())
                .await?;
            tell(core, person, person.two_factor.as_ref(), Notice::PasswordReset).await?;
            record(
                core,
                Event::own(
                    person,
                    AuditKind::PasswordReset,
                    client,
                    format!(
                        "with an emailed link; {sessions} session(s) and {browsers} remembered browser(s) ended"
                    ),
                ),
            )
            .await
        })
        .await
    }
}

/// Sends a person a reset link (an earlier one stops working), in the caller's unit of work;
/// `by` is the owner or manager who sent it, none when the person asked.
pub(crate) async fn send_reset(
    core: &Core,
    account_of: (&Person, &crate::records::Practice),
    by: Option<&PersonId>,
    client: &ClientInfo,
) -> Result<(), AppError> {
    let (person, practice) = account_of;
    let now = core.clock.now();
    let token = new_token();
    core.store
        .put_password_reset(
            &person.id,
            &token_hash(token.expose()),
            now,
            now.plus(RESET_SECONDS),
        )
        .await?;
    let link = core.link(&format!("/password-reset/{}", token.expose()));
    core.mail(
        &person.email,
        practice,
        Mail::PasswordReset {
            name: &person.name,
            link: &link,
            by_practice: by.is_some(),
        },
    )
    .await?;
    record(
        core,
        Event {
            practice_id: &person.practice_id,
            kind: AuditKind::PasswordResetRequested,
            actor_id: by,
            subject_id: Some(&person.id),
            client: Some(client),
            detail: if by.is_some() {
                "a reset link sent by the practice".to_owned()
            } else {
                "a reset link asked for by email".to_owned()
            },
        },
    )
    .await
}

/// The queue's half of a reset asked for by email address: in one unit of work the request
/// leaves the queue and, when the address is someone's, their link joins it. An unknown
/// address ends here, unanswered.
pub(crate) async fn prepare_reset(
    core: &Core,
    queued_id: i64,
    email: &str,
    client: &ClientInfo,
) -> Result<(), AppError> {
    let email = Email::from_stored(email);
    let email = &email;
    core.in_one_transaction(move |core| async move {
        let core = &*core;
        core.store.finish_mail(queued_id).await?;
        let account = core.store.account_by_email(email.normalized()).await?;
        // A deactivated person gets no link: the practice reactivates them first.
        if let Some(account) = account.filter(|a| a.person.deactivated_at.is_none()) {
            send_reset(core, (&account.person, &account.practice), None, client).await?;
        }
        Ok(())
    })
    .await
}
