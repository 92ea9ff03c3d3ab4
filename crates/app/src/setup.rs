//! The first run (the practice and its owner, guarded by the one-time setup token in
//! production) and further practices created from the operator's console.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use latch_domain::Role;
use latch_domain::audit::AuditKind;
use latch_domain::country::Country;
use latch_domain::person::Name;
use latch_domain::practice::{SecuritySettings, Setting};
use latch_domain::session::SessionState;
use latch_domain::zone::{PracticeZone, has_one_clock};

use crate::audit::{Event, record};
use crate::crypto::{constant_time_eq, new_id};
use crate::error::{AppError, Field, Reason, Refusal};
use crate::ids::PracticeId;
use crate::latch::Core;
use crate::records::{Account, ClientInfo, NewPractice, Practice};
use crate::secret::Secret;
use crate::session::open_session;
use crate::sign_in::SignedIn;
use crate::team::{PersonInput, person_from, prepare_person};

/// A new practice and its owner, as typed into the first-run page or the console.
#[derive(Debug, Clone)]
pub struct PracticeInput {
    pub practice_name: String,
    /// ISO 3166-1 alpha-2; the United States when not given.
    pub country: Option<String>,
    /// An IANA name. Left out, the country's main zone; given empty (a picker left on its
    /// prompt), refused where the country's zones keep different times.
    pub time_zone: Option<String>,
    pub owner_email: String,
    pub owner_name: String,
    pub owner_password: Secret,
}

#[derive(Clone)]
pub struct SetupService {
    core: Arc<Core>,
    /// Once an installation is set up it stays so; remembering that spares the sign-in and
    /// home pages a database round trip. Only `true` is remembered, so every node still
    /// learns of a first run made on another.
    known_set_up: Arc<AtomicBool>,
}

impl SetupService {
    pub(crate) fn new(core: Arc<Core>) -> Self {
        SetupService {
            core,
            known_set_up: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Whether the installation still waits for its first practice.
    pub async fn needs_first_run(&self) -> Result<bool, AppError> {
        if self.known_set_up.load(Ordering::Relaxed) {
            return Ok(false);
        }
        let set_up = self.core.store.installation(&new_id()).await?.set_up;
        if set_up {
            self.known_set_up.store(true, Ordering::Relaxed);
        }
        Ok(!set_up)
    }

    /// The one-time setup token while the first practice does not exist yet; every node with
    /// the same key derives the same one, and the database holds only the nonce behind it.
    pub async fn pending_setup_token(&self) -> Result<Option<Secret>, AppError> {
        let installation = self.core.store.installation(&new_id()).await?;
        Ok((!installation.set_up).then(|| self.core.keys.setup_token(&installation.setup_nonce)))
    }

    /// Creates the first practice and its owner, and signs the owner in.
    pub async fn create_first_practice(
        &self,
        input: PracticeInput,
        setup_token: Option<&Secret>,
        client: &ClientInfo,
    ) -> Result<SignedIn, AppError> {
        let core = &self.core;
        let installation = core.store.installation(&new_id()).await?;
        if installation.set_up {
            return Err(AppError::AlreadySetUp);
        }
        if core.settings.production {
            let expected = core.keys.setup_token(&installation.setup_nonce);
            // SECURITY: constant-time, so the token cannot be guessed a character at a time.
            let given = setup_token.map(Secret::expose).unwrap_or_default();
            if !constant_time_eq(given, expected.expose()) {
                return Err(AppError::Forbidden);
            }
        }
        let (practice, owner) = self.prepare(input).await?;
        let (practice, owner) = (&practice, &owner);
        let token = core
            .in_one_transaction(move |core| async move {
                let core = &*core;
                let now = core.clock.now();
                core.store
                    .create_first_practice(practice, owner, now)
                    .await?;
                record(
                    core,
                    Event {
                        practice_id: &practice.id,
                        kind: AuditKind::PracticeCreated,
                        actor_id: Some(&owner.id),
                        subject_id: Some(&owner.id),
                        client: Some(client),
                        detail: "first run".into(),
                    },
                )
                .await?;
                let (token, _) =
                    open_session(core, &owner.id, SessionState::SignedIn, client, None, None)
                        .await?;
                Ok(token)
            })
            .await?;
        let owner = person_from(owner.clone());
        let practice = practice_from(practice.clone());
        Ok(SignedIn {
            token,
            state: SessionState::SignedIn,
            account: Account {
                person: owner,
                practice,
            },
            code: None,
            delivery_failed: None,
            answers: Vec::new(),
        })
    }

    /// Creates a further practice with its owner (the operator's console).
    pub async fn create_practice(&self, input: PracticeInput) -> Result<Account, AppError> {
        let core = &self.core;
        let (practice, owner) = self.prepare(input).await?;
        let (made, owner_made) = (&practice, &owner);
        core.in_one_transaction(move |core| async move {
            let core = &*core;
            core.store.create_practice(made, owner_made).await?;
            record(
                core,
                Event {
                    practice_id: &made.id,
                    kind: AuditKind::PracticeCreated,
                    actor_id: None,
                    subject_id: Some(&owner_made.id),
                    client: None,
                    detail: "operator's console".into(),
                },
            )
            .await
        })
        .await?;
        let owner = person_from(owner);
        let practice = practice_from(practice);
        Ok(Account {
            person: owner,
            practice,
        })
    }

    async fn prepare(
        &self,
        input: PracticeInput,
    ) -> Result<(NewPractice, crate::records::NewPerson), AppError> {
        let mut refused = Vec::new();
        let name = Name::parse(&input.practice_name)
            .map_err(|_| {
                refused.push(AppError::InvalidRequest(Refusal::of(
                    Field::PracticeName,
                    Reason::PracticeName,
                )));
            })
            .ok();
        let country = Country::parse(input.country.as_deref().unwrap_or("US"))
            .map_err(|_| {
                refused.push(AppError::InvalidRequest(Refusal::of(
                    Field::Country,
                    Reason::Country,
                )));
            })
            .ok();
        let time_zone = country.and_then(|country| {
            practice_zone(country, input.time_zone.as_deref())
                .map_err(|reason| {
                    refused.push(AppError::InvalidRequest(Refusal::of(
                        Field::TimeZone,
                        reason,
                    )));
                })
                .ok()
        });
        let practice_id = PracticeId::generate();
        let practice_name = name
            .as_ref()
            .map_or(input.practice_name.trim(), Name::as_str)
            .to_owned();
        let owner = prepare_person(
            &self.core,
            &practice_id,
            &practice_name,
            PersonInput {
                email: input.owner_email,
                name: input.owner_name,
                role: Role::Owner.as_str().into(),
                password: input.owner_password,
            },
            Some(Role::Owner),
            refused,
        )
        .await?;
        // The owner was prepared, so nothing was refused: the name and the country are here.
        let (Some(name), Some(country), Some(time_zone)) = (name, country, time_zone) else {
            return Err(AppError::Internal("a refused practice went on".into()));
        };
        let practice = NewPractice {
            id: practice_id,
            name: name.into_string(),
            country: country.code().to_owned(),
            security: SecuritySettings {
                time_zone,
                ..SecuritySettings::new_practice(country)
            },
            created_at: self.core.clock.now(),
        };
        Ok((practice, owner))
    }
}

/// The zone a new practice in `country` keeps its times in, from what was chosen.
fn practice_zone(country: Country, chosen: Option<&str>) -> Result<PracticeZone, Reason> {
    match chosen.map(str::trim) {
        None => Ok(PracticeZone::of_country(country)),
        Some("") if !has_one_clock(country) => Err(Reason::TimeZoneNeeded(country)),
        Some("") => Ok(PracticeZone::of_country(country)),
        Some(name) => PracticeZone::parse(name).map_err(|_| Reason::Setting(Setting::TimeZone)),
    }
}

fn practice_from(new: NewPractice) -> Practice {
    Practice {
        id: new.id,
        name: new.name,
        country: new.country,
        security: new.security,
        created_at: new.created_at,
    }
}
