//! The practice's people: listing them and adding staff or clients.

use std::collections::HashMap;
use std::sync::Arc;

use latch_domain::audit::AuditKind;
use latch_domain::person::Name;
use latch_domain::{Email, Permission, Role};

use crate::audit::{Event, record};
use crate::crypto::new_id;
use crate::error::AppError;
use crate::latch::Core;
use crate::passwords::OwnedContext;
use crate::ports::StoreError;
use crate::records::{Account, ClientInfo, NewPerson, PeopleFilter, Person};
use crate::secret::Secret;

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

    pub async fn people(
        &self,
        actor: &Account,
        filter: &PeopleFilter,
    ) -> Result<Vec<Person>, AppError> {
        if !actor.person.role.allows(Permission::ViewTeam) {
            return Err(AppError::Forbidden);
        }
        Ok(self.core.store.people(&actor.practice.id, filter).await?)
    }

    pub async fn person(&self, actor: &Account, person_id: &str) -> Result<Person, AppError> {
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
        let role = Role::parse(&input.role).map_err(|e| AppError::InvalidRole(e.to_string()))?;
        if !actor.person.role.allows(Permission::AddPerson { role }) {
            return Err(AppError::Forbidden);
        }
        let core = &self.core;
        let new =
            prepare_person(core, &actor.practice.id, &actor.practice.name, input, role).await?;
        core.store
            .insert_person(&new)
            .await
            .map_err(email_conflict)?;
        record(
            core,
            Event {
                practice_id: &actor.practice.id,
                kind: AuditKind::PersonAdded,
                actor_id: Some(&actor.person.id),
                subject_id: Some(&new.id),
                client: Some(client),
                detail: format!("role {}", role.as_str()),
            },
        )
        .await?;
        Ok(person_from(new))
    }
}

/// Validates a new person's fields, checks the password's strength and hashes it. The email is
/// looked up first so a taken address costs no hashing.
pub(crate) async fn prepare_person(
    core: &Core,
    practice_id: &str,
    practice_name: &str,
    input: PersonInput,
    role: Role,
) -> Result<NewPerson, AppError> {
    let email = Email::parse(&input.email).map_err(|e| AppError::InvalidEmail(e.to_string()))?;
    let name = Name::parse(&input.name).map_err(|e| AppError::InvalidRequest(e.to_string()))?;
    if core
        .store
        .account_by_email(email.normalized())
        .await?
        .is_some()
    {
        return Err(AppError::EmailTaken);
    }
    let context = OwnedContext {
        practice_name: practice_name.to_owned(),
        person_name: name.as_str().to_owned(),
        email: email.as_str().to_owned(),
    };
    let password_hash = core
        .passwords
        .check_and_hash(&input.password, context)
        .await?
        .map_err(|weak| AppError::WeakPassword(weak.message))?;
    Ok(NewPerson {
        id: new_id(),
        practice_id: practice_id.to_owned(),
        email: email.as_str().to_owned(),
        email_normalized: email.normalized().to_owned(),
        name: name.into_string(),
        role,
        password_hash,
        created_at: core.clock.now(),
    })
}

pub(crate) fn email_conflict(e: StoreError) -> AppError {
    match e {
        StoreError::Conflict(_) => AppError::EmailTaken,
        other => other.into(),
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
        created_at: new.created_at,
    }
}
