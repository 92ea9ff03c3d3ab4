//! Invitations: an owner or manager invites a person by email, with the rules of adding
//! people, and the person joins through the emailed link by choosing their own password.

use std::sync::Arc;

use latch_domain::audit::AuditKind;
use latch_domain::mail::Mail;
use latch_domain::person::Name;
use latch_domain::session::{self, SessionState};
use latch_domain::{Email, Permission, Role};

use crate::audit::{Event, record};
use crate::crypto::{new_id, new_token, token_hash};
use crate::error::{AppError, Field, Reason, Refusal};
use crate::ids::PersonId;
use crate::latch::Core;
use crate::passwords::OwnedContext;
use crate::records::{Account, ClientInfo, Invitation, NewInvitation, NewPerson, Practice};
use crate::secret::Secret;
use crate::session::{Authenticated, audit_signed_in, open_session};
use crate::team::{person_from, role_to_add};

/// How long an invitation's link works.
pub const INVITATION_SECONDS: i64 = 7 * 86_400;

/// A person to invite, as typed into a form or an API body.
#[derive(Debug, Clone, Default)]
pub struct InvitationInput {
    pub email: String,
    pub name: String,
    pub role: String,
}

/// An invitation's link, while it works: what the page that accepts it shows.
#[derive(Debug, Clone)]
pub struct InvitationLink {
    pub invitation: Invitation,
    pub practice: Practice,
}

/// A person who just joined: their session's token and state, and who they are.
#[derive(Debug)]
pub struct Joined {
    pub token: Secret,
    pub state: SessionState,
    pub account: Account,
}

#[derive(Clone)]
pub struct InvitationService {
    core: Arc<Core>,
}

impl InvitationService {
    pub(crate) fn new(core: Arc<Core>) -> Self {
        InvitationService { core }
    }

    /// Invites a person to the actor's practice: a link that works once, for seven days, goes
    /// to their address. Only owners invite owners or managers; an address that is someone's,
    /// or has an open invitation, is taken. Every refused value comes back at once.
    pub async fn invite(
        &self,
        who: &Authenticated,
        input: &InvitationInput,
        client: &ClientInfo,
    ) -> Result<Invitation, AppError> {
        let actor = &who.account;
        if !actor.person.role.allows(Permission::ViewTeam) {
            return Err(AppError::Forbidden);
        }
        let core = &self.core;
        let now = core.clock.now();
        let mut refused = Vec::new();
        let email = match Email::parse(&input.email) {
            Ok(email) if core.store.email_in_use(email.normalized(), now).await? => {
                refused.push(AppError::EmailTaken);
                None
            }
            Ok(email) => Some(email),
            Err(_) => {
                refused.push(AppError::InvalidEmail);
                None
            }
        };
        let name = Name::parse(&input.name)
            .map_err(|_| {
                refused.push(AppError::InvalidRequest(Refusal::of(
                    Field::Name,
                    Reason::Name,
                )))
            })
            .ok();
        let role = role_to_add(actor, &input.role, &mut refused)?;
        let (Some(email), Some(name), Some(role)) = (email, name, role) else {
            return Err(AppError::together(refused));
        };
        let token = new_token();
        let new = &NewInvitation {
            id: new_id(),
            practice_id: actor.practice.id.clone(),
            email,
            name: name.into_string(),
            role,
            invited_by: actor.person.id.clone(),
            token_hash: token_hash(token.expose()),
            created_at: now,
            expires_at: now.plus(INVITATION_SECONDS),
        };
        let token = &token;
        core.in_one_transaction(move |core| async move {
            let core = &*core;
            core.store.insert_invitation(new).await?;
            send(core, actor, &new.email, &new.name, token, new.expires_at).await?;
            audit(
                core,
                who,
                AuditKind::InvitationSent,
                client,
                new.role,
                &new.email,
            )
            .await
        })
        .await?;
        Ok(Invitation {
            id: new.id.clone(),
            practice_id: new.practice_id.clone(),
            email: new.email.clone(),
            name: new.name.clone(),
            role: new.role,
            invited_by: Some((actor.person.id.clone(), actor.person.name.clone())),
            created_at: new.created_at,
            expires_at: new.expires_at,
        })
    }

    /// The practice's open invitations, newest first.
    pub async fn open(&self, actor: &Account) -> Result<Vec<Invitation>, AppError> {
        if !actor.person.role.allows(Permission::ViewTeam) {
            return Err(AppError::Forbidden);
        }
        let now = self.core.clock.now();
        Ok(self.core.store.invitations(&actor.practice.id, now).await?)
    }

    /// Sends an open invitation again, with a new link valid seven days: the old link stops
    /// working. The rules of adding that person hold.
    pub async fn resend(
        &self,
        who: &Authenticated,
        id: &str,
        client: &ClientInfo,
    ) -> Result<(), AppError> {
        let invitation = &self.permitted(who, id).await?;
        let now = self.core.clock.now();
        let token = &new_token();
        let expires_at = now.plus(INVITATION_SECONDS);
        self.core
            .in_one_transaction(move |core| async move {
                let core = &*core;
                let hash = token_hash(token.expose());
                core.store
                    .renew_invitation(&invitation.id, &hash, expires_at)
                    .await?;
                let (email, name) = (&invitation.email, &invitation.name);
                send(core, &who.account, email, name, token, expires_at).await?;
                let (kind, role) = (AuditKind::InvitationSent, invitation.role);
                audit(core, who, kind, client, role, email).await
            })
            .await
    }

    /// Revokes an open invitation: its link stops working.
    pub async fn revoke(
        &self,
        who: &Authenticated,
        id: &str,
        client: &ClientInfo,
    ) -> Result<(), AppError> {
        let invitation = &self.permitted(who, id).await?;
        self.core
            .in_one_transaction(move |core| async move {
                let core = &*core;
                let practice = &who.account.practice.id;
                if !core
                    .store
                    .delete_invitation(practice, &invitation.id)
                    .await?
                {
                    return Err(AppError::NotFound);
                }
                let (kind, role) = (AuditKind::InvitationRevoked, invitation.role);
                audit(core, who, kind, client, role, &invitation.email).await
            })
            .await
    }

    /// The invitation a link is for, while it works; `NotFound` for one unknown, used,
    /// revoked or expired alike.
    pub async fn link(&self, token: &str) -> Result<InvitationLink, AppError> {
        let now = self.core.clock.now();
        let (invitation, practice) = self
            .core
            .store
            .invitation_by_token(&token_hash(token), now)
            .await?
            .ok_or(AppError::NotFound)?;
        Ok(InvitationLink {
            invitation,
            practice,
        })
    }

    /// Joins the practice through an invitation's link, which works once: the person is made
    /// with the password they chose (their email counts as verified) and signed in, or held
    /// for the two-factor setup the practice requires of them.
    pub async fn accept(
        &self,
        token: &str,
        password: &Secret,
        client: &ClientInfo,
    ) -> Result<Joined, AppError> {
        let core = &self.core;
        let InvitationLink {
            invitation,
            practice,
        } = self.link(token).await?;
        let context = OwnedContext {
            practice_name: practice.name.clone(),
            person_name: invitation.name.clone(),
            email: invitation.email.as_str().to_owned(),
        };
        let password_hash = core
            .passwords
            .check_and_hash(password, context)
            .await?
            .map_err(AppError::WeakPassword)?;
        let new = NewPerson {
            id: PersonId::generate(),
            practice_id: practice.id.clone(),
            email: invitation.email.clone(),
            name: invitation.name.clone(),
            role: invitation.role,
            password_hash,
            created_at: core.clock.now(),
            email_verified: true,
        };
        let (new, invitation, practice) = (&new, &invitation, &practice);
        let hash = &token_hash(token);
        let (token, state) = core
            .in_one_transaction(move |core| async move {
                let core = &*core;
                let now = core.clock.now();
                // SECURITY: used up by the statement that checks it: of two acceptances at
                // once one makes the person, and the other finds nothing.
                if core.store.take_invitation(hash, now).await?.as_ref() != Some(&invitation.id) {
                    return Err(AppError::NotFound);
                }
                core.store.insert_person(new).await?;
                let person = person_from(new.clone());
                let by = invitation.invited_by.as_ref().map_or("", |(_, name)| name);
                record(
                    core,
                    Event {
                        practice_id: &practice.id,
                        kind: AuditKind::InvitationAccepted,
                        actor_id: Some(&person.id),
                        subject_id: Some(&person.id),
                        client: Some(client),
                        detail: format!("role {}, invited by {by}", person.role.as_str()),
                    },
                )
                .await?;
                if practice.security.require_two_factor.covers(person.role) {
                    let until = now.plus(session::SETUP_REQUIRED_LIFETIME_SECONDS);
                    let state = SessionState::TwoFactorSetupRequired;
                    let (token, _) =
                        open_session(core, &person.id, state, client, Some(until), None).await?;
                    return Ok((token, state));
                }
                let state = SessionState::SignedIn;
                let (token, _) = open_session(core, &person.id, state, client, None, None).await?;
                audit_signed_in(
                    core,
                    &person,
                    "password, on accepting an invitation",
                    client,
                )
                .await?;
                Ok((token, state))
            })
            .await?;
        let account = Account {
            person: person_from(new.clone()),
            practice: practice.clone(),
        };
        Ok(Joined {
            token,
            state,
            account,
        })
    }

    /// An open invitation of the actor's practice that the actor may act on: one they could
    /// send (only owners on owners' and managers').
    async fn permitted(&self, who: &Authenticated, id: &str) -> Result<Invitation, AppError> {
        let actor = &who.account;
        if !actor.person.role.allows(Permission::ViewTeam) {
            return Err(AppError::Forbidden);
        }
        let now = self.core.clock.now();
        let invitation = self
            .core
            .store
            .invitation_in_practice(&actor.practice.id, id, now)
            .await?
            .ok_or(AppError::NotFound)?;
        let role = invitation.role;
        if !actor.person.role.allows(Permission::AddPerson { role }) {
            return Err(AppError::Forbidden);
        }
        Ok(invitation)
    }
}

/// The invitation's email, with its link.
async fn send(
    core: &Core,
    actor: &Account,
    email: &Email,
    name: &str,
    token: &Secret,
    expires_at: latch_domain::Timestamp,
) -> Result<(), AppError> {
    let link = core.link(&format!("/invitations/{}", token.expose()));
    let expires = core.local_time(&actor.practice, expires_at);
    let mail = Mail::Invitation {
        name,
        invited_by: &actor.person.name,
        link: &link,
        expires: &expires,
    };
    core.mail(email, &actor.practice, mail).await?;
    Ok(())
}

async fn audit(
    core: &Core,
    who: &Authenticated,
    kind: AuditKind,
    client: &ClientInfo,
    role: Role,
    email: &Email,
) -> Result<(), AppError> {
    record(
        core,
        Event {
            practice_id: &who.account.practice.id,
            kind,
            actor_id: Some(&who.account.person.id),
            subject_id: None,
            client: Some(client),
            detail: format!("{} as {}", email.as_str(), role.as_str()),
        },
    )
    .await
}
