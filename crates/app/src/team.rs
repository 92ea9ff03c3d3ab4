//! The practice's people: listing them and adding staff or clients.

use std::collections::HashMap;
use std::sync::Arc;

use latch_domain::audit::AuditKind;
use latch_domain::person::Name;
use latch_domain::{Email, Permission, Role};

use crate::audit::{Event, record};
use crate::challenge::tell;
use crate::error::{AppError, Field, Reason, Refusal};
use crate::ids::{PersonId, PracticeId};
use crate::latch::Core;
use crate::password_check::check_password_again;
use crate::passwords::OwnedContext;
use crate::records::{Account, ClientInfo, NewPerson, PeopleFilter, Person};
use crate::recovery::send_reset;
use crate::secret::Secret;
use crate::session::grant_reauthentication;
use crate::sign_in::Authenticated;
use latch_domain::message::Notice;

/// What an owner or manager does for a person who is stuck.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Help {
    /// A lost phone: two-factor off, to be set up again.
    ResetTwoFactor,
    /// Too many wrong codes: the lock cleared, the phone kept.
    Unlock,
    /// They left: they can no longer sign in, and everything they held ends.
    Deactivate,
}

/// A change to a person's name or role, as typed; what is left out stays.
#[derive(Debug, Clone, Default)]
pub struct PersonChange {
    pub name: Option<String>,
    pub role: Option<String>,
}

/// A person to add, as typed into a form or an API body.
#[derive(Debug, Clone)]
pub struct PersonInput {
    pub email: String,
    pub name: String,
    pub role: String,
    pub password: Secret,
}

#[derive(Clone)]
pub struct TeamService {
    core: Arc<Core>,
}

impl TeamService {
    pub(crate) fn new(core: Arc<Core>) -> Self {
        TeamService { core }
    }

    /// Whether the actor may see the practice's team at all (owners and managers).
    pub fn may_see(&self, actor: &Account) -> Result<(), AppError> {
        if !actor.person.role.allows(Permission::ViewTeam) {
            return Err(AppError::Forbidden);
        }
        Ok(())
    }

    pub async fn people(
        &self,
        actor: &Account,
        filter: &PeopleFilter,
    ) -> Result<Vec<Person>, AppError> {
        self.may_see(actor)?;
        Ok(self.core.store.people(&actor.practice.id, filter).await?)
    }

    /// How many people the actor's practice has, for those who may see its team.
    pub async fn headcount(&self, actor: &Account) -> Result<i64, AppError> {
        self.may_see(actor)?;
        Ok(self.core.store.headcount(&actor.practice.id).await?)
    }

    pub async fn person(&self, actor: &Account, person_id: &PersonId) -> Result<Person, AppError> {
        if !actor.person.role.allows(Permission::ViewTeam) {
            return Err(AppError::Forbidden);
        }
        self.core
            .store
            .person_in_practice(&actor.practice.id, person_id)
            .await?
            .ok_or(AppError::NotFound)
    }

    /// How many browsers each person of the actor's practice has remembered.
    pub async fn device_counts(&self, actor: &Account) -> Result<HashMap<String, i64>, AppError> {
        if !actor.person.role.allows(Permission::ViewTeam) {
            return Err(AppError::Forbidden);
        }
        let now = self.core.clock.now();
        Ok(self
            .core
            .store
            .device_counts(&actor.practice.id, now)
            .await?
            .into_iter()
            .collect())
    }

    /// Resets a person's two-factor (a lost phone): it is off, their remembered devices and
    /// every session end, locks clear, and a text to the old phone says so. Owners and
    /// managers, never on themselves, a manager never on an owner; password re-entered.
    pub async fn reset_two_factor(
        &self,
        who: &Authenticated,
        person_id: &PersonId,
        client: &ClientInfo,
    ) -> Result<(), AppError> {
        let target = self.target(who, person_id).await?;
        reset(
            &self.core,
            &target,
            Some(&who.account.person.id),
            Some(client),
        )
        .await
    }

    /// Clears a lock on a person's two-factor step, keeping their phone. Same rules as reset.
    pub async fn unlock(
        &self,
        who: &Authenticated,
        person_id: &PersonId,
        client: &ClientInfo,
    ) -> Result<(), AppError> {
        let target = self.target(who, person_id).await?;
        unlock(
            &self.core,
            &target,
            Some(&who.account.person.id),
            Some(client),
        )
        .await
    }

    /// Resets or unlocks with the password re-entered in the same step (the person page's
    /// form): the permission first, so a refused actor's password is never checked and their
    /// session is left as it was; then the password, which re-authenticates this session; then
    /// the help. Answers the session's new token.
    pub async fn help_with_password(
        &self,
        who: &Authenticated,
        person_id: &PersonId,
        help: Help,
        password: &Secret,
        client: &ClientInfo,
    ) -> Result<Secret, AppError> {
        let target = &self.permitted_target(who, person_id).await?;
        let check = &check_password_again(&self.core, who, password, client).await?;
        self.core
            .in_one_transaction(move |core| async move {
                let core = &*core;
                let (token, _) = grant_reauthentication(core, who, check, client).await?;
                let actor = Some(&who.account.person.id);
                match help {
                    Help::ResetTwoFactor => reset(core, target, actor, Some(client)).await?,
                    Help::Unlock => unlock(core, target, actor, Some(client)).await?,
                    Help::Deactivate => deactivate(core, who, target, client).await?,
                }
                Ok(token)
            })
            .await
    }

    /// Changes a person's name or role, by the rules of acting on a person; only owners make
    /// owners or managers, and the practice keeps an active owner.
    pub async fn change_person(
        &self,
        who: &Authenticated,
        person_id: &PersonId,
        change: &PersonChange,
        client: &ClientInfo,
    ) -> Result<Person, AppError> {
        let target = &self.permitted_target(who, person_id).await?;
        let actor = &who.account.person;
        let name = match change.name.as_deref().map(Name::parse) {
            None => Ok(target.name.clone()),
            Some(Ok(name)) => Ok(name.into_string()),
            Some(Err(_)) => Err(AppError::InvalidRequest(Refusal::of(
                Field::Name,
                Reason::Name,
            ))),
        };
        let role = match change.role.as_deref().map(Role::parse) {
            None => Ok(target.role),
            Some(Ok(role))
                if role != target.role && !actor.role.allows(Permission::AddPerson { role }) =>
            {
                return Err(AppError::Forbidden);
            }
            Some(Ok(role)) => Ok(role),
            Some(Err(_)) => Err(AppError::InvalidRole),
        };
        let (name, role) = match (name, role) {
            (Ok(name), Ok(role)) => (name, role),
            (name, role) => {
                return Err(AppError::together(
                    name.err().into_iter().chain(role.err()).collect(),
                ));
            }
        };
        let (name, role) = (&name, role);
        self.core
            .in_one_transaction(move |core| async move {
                let core = &*core;
                if target.role == Role::Owner && role != Role::Owner {
                    keeps_an_owner(core, target).await?;
                }
                core.store.set_name_and_role(&target.id, name, role).await?;
                let mut said = Vec::new();
                if *name != target.name {
                    said.push(format!("name {} → {name}", target.name));
                }
                if role != target.role {
                    said.push(format!("role {} → {}", target.role.as_str(), role.as_str()));
                }
                if said.is_empty() {
                    return Ok(());
                }
                record(
                    core,
                    acted(
                        who,
                        target,
                        AuditKind::PersonChanged,
                        client,
                        said.join("; "),
                    ),
                )
                .await
            })
            .await?;
        let practice = &who.account.practice.id;
        self.core
            .store
            .person_in_practice(practice, &target.id)
            .await?
            .ok_or(AppError::NotFound)
    }

    /// Deactivates a person (someone who left): every session, remembered browser and
    /// application token of theirs ends at once, with their emailed links and the invitations
    /// they sent; their history stays. The password re-entered; the practice keeps an active
    /// owner.
    pub async fn deactivate(
        &self,
        who: &Authenticated,
        person_id: &PersonId,
        client: &ClientInfo,
    ) -> Result<(), AppError> {
        let target = &self.target(who, person_id).await?;
        deactivate(&self.core, who, target, client).await
    }

    /// Lets a deactivated person sign in again, with the password and two-factor they had.
    pub async fn reactivate(
        &self,
        who: &Authenticated,
        person_id: &PersonId,
        client: &ClientInfo,
    ) -> Result<(), AppError> {
        let target = &self.permitted_target(who, person_id).await?;
        if target.deactivated_at.is_none() {
            return Ok(());
        }
        self.core
            .in_one_transaction(move |core| async move {
                let core = &*core;
                core.store.set_deactivated(&target.id, None).await?;
                record(
                    core,
                    acted(who, target, AuditKind::PersonReactivated, client, ""),
                )
                .await
            })
            .await
    }

    /// Emails a person of the practice a link to choose a new password (an earlier link stops
    /// working): owners and managers, by the rules of acting on a person. Nobody sets another
    /// person's password.
    pub async fn send_password_reset(
        &self,
        who: &Authenticated,
        person_id: &PersonId,
        client: &ClientInfo,
    ) -> Result<(), AppError> {
        let target = &self.permitted_target(who, person_id).await?;
        if target.deactivated_at.is_some() {
            return Err(AppError::Forbidden);
        }
        self.core
            .in_one_transaction(move |core| async move {
                let by = Some(&who.account.person.id);
                send_reset(&core, (target, &who.account.practice), by, client).await
            })
            .await
    }

    /// The operator's console: reset anyone's two-factor by email, audited without an actor.
    pub async fn console_reset_two_factor(&self, email: &str) -> Result<Person, AppError> {
        let person = self.console_person(email).await?;
        reset(&self.core, &person, None, None).await?;
        Ok(person)
    }

    /// The operator's console: unlock anyone's two-factor step by email.
    pub async fn console_unlock(&self, email: &str) -> Result<Person, AppError> {
        let person = self.console_person(email).await?;
        unlock(&self.core, &person, None, None).await?;
        Ok(person)
    }

    async fn console_person(&self, email: &str) -> Result<Person, AppError> {
        let email = Email::parse(email).map_err(|_| AppError::InvalidEmail)?;
        Ok(self
            .core
            .store
            .account_by_email(email.normalized())
            .await?
            .ok_or(AppError::NotFound)?
            .person)
    }

    /// The person an owner or manager wants to act on, after every check: in the practice,
    /// allowed for the actor's role, not the actor, and the password re-entered recently.
    async fn target(&self, who: &Authenticated, person_id: &PersonId) -> Result<Person, AppError> {
        let target = self.permitted_target(who, person_id).await?;
        // Checked after permission, so a manager acting on an owner hears "forbidden".
        if !who.is_reauthenticated(self.core.clock.now()) {
            return Err(AppError::ReauthenticationRequired);
        }
        Ok(target)
    }

    /// The person `who` may act on: in their practice (else not found), not themselves, and
    /// allowed by the role rule (else forbidden).
    async fn permitted_target(
        &self,
        who: &Authenticated,
        person_id: &PersonId,
    ) -> Result<Person, AppError> {
        let actor = &who.account;
        if !actor.person.role.allows(Permission::ViewTeam) {
            return Err(AppError::Forbidden);
        }
        let target = self
            .core
            .store
            .person_in_practice(&actor.practice.id, person_id)
            .await?
            .ok_or(AppError::NotFound)?;
        let allowed = actor.person.role.allows(Permission::ActOnPerson {
            target: target.role,
        });
        if target.id == actor.person.id || !allowed {
            return Err(AppError::Forbidden);
        }
        Ok(target)
    }

    /// The account of an owner, for console commands that act in their practice.
    pub async fn console_account(&self, owner_email: &str) -> Result<Option<Account>, AppError> {
        let Ok(email) = Email::parse(owner_email) else {
            return Ok(None);
        };
        let account = self.core.store.account_by_email(email.normalized()).await?;
        Ok(account.filter(|a| a.person.role == Role::Owner))
    }

    /// Adds a person to the actor's practice. Only owners add owners or managers.
    pub async fn add_person(
        &self,
        actor: &Account,
        input: PersonInput,
        client: &ClientInfo,
    ) -> Result<Person, AppError> {
        let mut refused = Vec::new();
        let role = role_to_add(actor, &input.role, &mut refused)?;
        let core = &self.core;
        let practice = &actor.practice;
        let new = prepare_person(core, &practice.id, &practice.name, input, role, refused).await?;
        let role = new.role;
        let added = &new;
        core.in_one_transaction(move |core| async move {
            let core = &*core;
            core.store.insert_person(added).await?;
            record(
                core,
                Event {
                    practice_id: &actor.practice.id,
                    kind: AuditKind::PersonAdded,
                    actor_id: Some(&actor.person.id),
                    subject_id: Some(&added.id),
                    client: Some(client),
                    detail: format!("role {}", role.as_str()),
                },
            )
            .await
        })
        .await?;
        Ok(person_from(new))
    }
}

/// The role a new person (added or invited) is to have: none, with the refusal kept, for one
/// that is not a role; `Forbidden` for one the actor may not give (only owners add owners or
/// managers).
pub(crate) fn role_to_add(
    actor: &Account,
    raw: &str,
    refused: &mut Vec<AppError>,
) -> Result<Option<Role>, AppError> {
    match Role::parse(raw) {
        Ok(role) if !actor.person.role.allows(Permission::AddPerson { role }) => {
            Err(AppError::Forbidden)
        }
        Ok(role) => Ok(Some(role)),
        Err(_) => {
            refused.push(AppError::InvalidRole);
            Ok(None)
        }
    }
}

/// Validates a new person's fields, checks the password's strength and hashes it; `role` is
/// none when the caller refused it. Every value refused, the caller's `refused` first, comes
/// back together, so a form shows each problem at once. The email is looked up first, and the
/// password hashed only when nothing was refused.
pub(crate) async fn prepare_person(
    core: &Core,
    practice_id: &PracticeId,
    practice_name: &str,
    input: PersonInput,
    role: Option<Role>,
    mut refused: Vec<AppError>,
) -> Result<NewPerson, AppError> {
    let email = match Email::parse(&input.email) {
        Ok(email)
            if core
                .store
                .email_in_use(email.normalized(), core.clock.now())
                .await? =>
        {
            Err(AppError::EmailTaken)
        }
        Ok(email) => Ok(email),
        Err(_) => Err(AppError::InvalidEmail),
    };
    let name = Name::parse(&input.name)
        .map_err(|_| AppError::InvalidRequest(Refusal::of(Field::Name, Reason::Name)));
    let context = OwnedContext {
        practice_name: practice_name.to_owned(),
        person_name: name
            .as_ref()
            .map_or(input.name.trim(), Name::as_str)
            .to_owned(),
        email: email
            .as_ref()
            .map_or(input.email.trim(), Email::as_str)
            .to_owned(),
    };
    let (email, name, role) = match (email, name, role) {
        (Ok(email), Ok(name), Some(role)) if refused.is_empty() => (email, name, role),
        (email, name, _) => {
            refused.extend(email.err());
            refused.extend(name.err());
            if let Err(weak) = core.passwords.check(&input.password, context).await? {
                refused.push(AppError::WeakPassword(weak));
            }
            return Err(AppError::together(refused));
        }
    };
    let password_hash = core
        .passwords
        .check_and_hash(&input.password, context)
        .await?
        .map_err(AppError::WeakPassword)?;
    Ok(NewPerson {
        id: PersonId::generate(),
        practice_id: practice_id.clone(),
        email,
        name: name.into_string(),
        role,
        password_hash,
        created_at: core.clock.now(),
        email_verified: false,
    })
}

/// Deactivates a person, in the caller's unit of work when there is one.
async fn deactivate(
    core: &Core,
    who: &Authenticated,
    target: &Person,
    client: &ClientInfo,
) -> Result<(), AppError> {
    if target.deactivated_at.is_some() {
        return Ok(());
    }
    core.in_one_transaction(move |core| async move {
        let core = &*core;
        if target.role == Role::Owner {
            keeps_an_owner(core, target).await?;
        }
        let now = core.clock.now();
        core.store.set_deactivated(&target.id, Some(now)).await?;
        let browsers = core.store.delete_devices_of(&target.id).await?;
        let sessions = core.store.delete_sessions_of(&target.id, None).await?;
        let invitations = core.store.delete_invitations_by(&target.id).await?;
        core.store.delete_links_of(&target.id).await?;
        let detail = format!(
            "{sessions} session(s), {browsers} remembered browser(s) and {invitations} invitation(s) ended"
        );
        record(core, acted(who, target, AuditKind::PersonDeactivated, client, detail)).await
    })
    .await
}

/// Refuses to leave the practice without an active owner when `owner` stops being one. The
/// practice's row is held first, so two owners acting on each other at once are judged one
/// after the other.
async fn keeps_an_owner(core: &Core, owner: &Person) -> Result<(), AppError> {
    core.store.lock_practice(&owner.practice_id).await?;
    let others = core
        .store
        .other_active_owners(&owner.practice_id, &owner.id)
        .await?;
    if others < 1 {
        return Err(AppError::LastOwner);
    }
    Ok(())
}

/// What an owner or manager did to a person.
fn acted<'a>(
    who: &'a Authenticated,
    target: &'a Person,
    kind: AuditKind,
    client: &'a ClientInfo,
    detail: impl Into<String>,
) -> Event<'a> {
    Event {
        practice_id: &target.practice_id,
        kind,
        actor_id: Some(&who.account.person.id),
        subject_id: Some(&target.id),
        client: Some(client),
        detail: detail.into(),
    }
}

pub(crate) fn person_from(new: NewPerson) -> Person {
    Person {
        id: new.id,
        practice_id: new.practice_id,
        email: new.email,
        name: new.name,
        role: new.role,
        password_hash: new.password_hash,
        two_factor: None,
        code_failures: 0,
        lock: Default::default(),
        last_sign_in_at: None,
        previous_sign_in_at: None,
        created_at: new.created_at,
        email_verified: new.email_verified,
        deactivated_at: None,
        other_methods: Default::default(),
        phone_times: Default::default(),
    }
}

async fn reset(
    core: &Core,
    target: &Person,
    actor_id: Option<&PersonId>,
    client: Option<&ClientInfo>,
) -> Result<(), AppError> {
    core.in_one_transaction(move |core| async move {
        let core = &*core;
        core.store
            .set_two_factor(&target.id, None, core.clock.now())
            .await?;
        core.store.delete_methods_of(&target.id).await?;
        core.store.clear_code_failures(&target.id).await?;
        core.store.delete_devices_of(&target.id).await?;
        core.store.delete_sessions_of(&target.id, None).await?;
        let old = target.two_factor.as_ref();
        tell(core, target, old, Notice::ResetByPractice).await?;
        audit_help(core, target, AuditKind::TwoFactorReset, actor_id, client).await
    })
    .await
}

async fn unlock(
    core: &Core,
    target: &Person,
    actor_id: Option<&PersonId>,
    client: Option<&ClientInfo>,
) -> Result<(), AppError> {
    core.in_one_transaction(move |core| async move {
        let core = &*core;
        core.store.clear_code_failures(&target.id).await?;
        audit_help(core, target, AuditKind::TwoFactorUnlocked, actor_id, client).await
    })
    .await
}

/// The audit event of a reset or an unlock: by the practice, or from the operator's console.
async fn audit_help(
    core: &Core,
    target: &Person,
    kind: AuditKind,
    actor_id: Option<&PersonId>,
    client: Option<&ClientInfo>,
) -> Result<(), AppError> {
    record(
        core,
        Event {
            practice_id: &target.practice_id,
            kind,
            actor_id,
            subject_id: Some(&target.id),
            client,
            detail: match actor_id {
                Some(_) => "by the practice",
                None => "from the operator's console",
            }
            .into(),
        },
    )
    .await
}
