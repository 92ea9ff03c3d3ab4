//! A person's set of two-factor methods: an authenticator app begun and confirmed, recovery
//! codes, the list My Profile shows, the method a sign-in asks for first, and removing one.

use std::sync::Arc;

use latch_domain::Timestamp;
use latch_domain::audit::AuditKind;
use latch_domain::message::Notice;
use latch_domain::method::{MethodKind, RECOVERY_CODES_PER_SET, RecoveryCode};
use latch_domain::session::{SecondFactor, SessionState};
use latch_domain::totp::{self, TotpJudgement, TotpSecret};

use crate::audit::{Event, record};
use crate::challenge::{OnRightCode, check_answer, malformed_answer, tell};
use crate::crypto::{new_id, random_bytes};
use crate::error::{AppError, CodeOf, Field, Reason, Refusal};
use crate::ids::PracticeId;
use crate::latch::Core;
use crate::records::{ClientInfo, Consume, MethodRecord, Person};
use crate::secret::Secret;
use crate::session::{Authenticated, complete_sign_in, end_devices_and_other_sessions};

/// The id the phone method goes by in a person's list: it lives with the person, not apart.
pub const PHONE_METHOD_ID: &str = "phone";
/// How long an app's secret waits for its first code.
const ENROLMENT_SECONDS: i64 = 10 * 60;
/// The label of an authenticator app.
const APP_LABEL: &str = "Authenticator app";

/// An authenticator app begun: the secret to show (as a QR code and as text), not yet in use.
#[derive(Debug)]
pub struct AppBegun {
    pub secret: TotpSecret,
    /// The `otpauth://` address its QR code carries.
    pub uri: String,
}

/// A method confirmed.
#[derive(Debug)]
pub struct MethodConfirmed {
    /// Two-factor was off: this is the person's first method, and their first recovery codes
    /// come with it, shown this once.
    pub recovery_codes: Option<Vec<RecoveryCode>>,
    /// A sign-in held for the practice's required setup is signed in with this new token.
    pub signed_in: Option<Secret>,
}

/// One of a person's methods, as their list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MethodView {
    pub id: String,
    pub kind: MethodKind,
    pub label: String,
    pub created_at: Option<Timestamp>,
    pub last_used_at: Option<Timestamp>,
}

/// A person's methods, the one a sign-in asks for first, and their recovery codes left.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Methods {
    pub methods: Vec<MethodView>,
    pub preferred: Option<MethodKind>,
    pub recovery_codes_left: i64,
}

#[derive(Clone)]
pub struct MethodService {
    core: Arc<Core>,
}

impl MethodService {
    pub(crate) fn new(core: Arc<Core>) -> Self {
        MethodService { core }
    }

    /// Begins an authenticator app: a new secret, kept sealed with this session until its
    /// first code confirms it. Nothing changes until then.
    pub async fn begin_app(&self, who: &Authenticated) -> Result<AppBegun, AppError> {
        let core = &self.core;
        may_enrol(core, who)?;
        if !who.account.practice.security.allows(MethodKind::Totp) {
            return Err(AppError::MethodNotAllowed);
        }
        let secret = TotpSecret::from_bytes(random_bytes());
        let sealed = core
            .keys
            .seal_method_secret(&enrolment_bound_to(who), secret.as_bytes());
        let expires_at = core.clock.now().plus(ENROLMENT_SECONDS);
        core.store
            .put_enrolment(&who.session.id, MethodKind::Totp, &sealed, expires_at)
            .await?;
        let uri = secret.uri(
            &core.settings.product_name,
            who.account.person.email.as_str(),
        );
        Ok(AppBegun { secret, uri })
    }

    /// The app begun in this session and not yet confirmed, if any: a page shown again (after
    /// a wrong code) shows the same secret the person may have scanned.
    pub async fn pending_app(&self, who: &Authenticated) -> Result<Option<AppBegun>, AppError> {
        let core = &self.core;
        let now = core.clock.now();
        let Some(sealed) = core
            .store
            .enrolment(&who.session.id, MethodKind::Totp, now)
            .await?
        else {
            return Ok(None);
        };
        let secret = open_secret(core, &enrolment_bound_to(who), &sealed)?;
        let uri = secret.uri(
            &core.settings.product_name,
            who.account.person.email.as_str(),
        );
        Ok(Some(AppBegun { secret, uri }))
    }

    /// Confirms the app begun in this session with a code it shows: the app is the person's
    /// from now on, and that code's time step is used. A wrong code counts like any wrong code.
    pub async fn confirm_app(
        &self,
        who: &Authenticated,
        code: &str,
        client: &ClientInfo,
    ) -> Result<MethodConfirmed, AppError> {
        let core = &self.core;
        let person = &who.account.person;
        let now = core.clock.now();
        let sealed = core
            .store
            .enrolment(&who.session.id, MethodKind::Totp, now)
            .await?
            .ok_or(AppError::NoSetupInProgress)?;
        let secret = open_secret(core, &enrolment_bound_to(who), &sealed)?;
        let step = match totp::judge(&secret, code, now.seconds(), None) {
            TotpJudgement::Malformed => return Err(malformed_answer(person, CodeOf::App)),
            TotpJudgement::Right { step } => Some(step),
            TotpJudgement::Wrong => None,
        };
        let secret = &secret;
        core.in_one_transaction(move |core| async move {
            let core = &*core;
            let consume = match step {
                Some(_) => Consume::Enrolment {
                    session_id: &who.session.id,
                    kind: MethodKind::Totp,
                },
                None => Consume::Nothing,
            };
            check_answer(
                core,
                person,
                (consume, CodeOf::App),
                on_right_of(who),
                client,
            )
            .await?;
            let id = new_id();
            core.store
                .insert_method(&MethodRecord {
                    sealed_secret: core.keys.seal_method_secret(&id, secret.as_bytes()),
                    id,
                    person_id: person.id.clone(),
                    kind: MethodKind::Totp,
                    label: APP_LABEL.to_owned(),
                    last_step: step,
                    credential_id: None,
                    created_at: now,
                    last_used_at: Some(now),
                })
                .await?;
            let recovery_codes =
                added_method(core, who, MethodKind::Totp, APP_LABEL, client).await?;
            let signed_in = finish_required_setup(core, who, SecondFactor::AppCode, client).await?;
            Ok(MethodConfirmed {
                recovery_codes,
                signed_in,
            })
        })
        .await
    }

    /// The person's methods, phone first, then apps and passkeys as they were added.
    pub async fn methods(&self, person: &Person) -> Result<Methods, AppError> {
        let store = &self.core.store;
        let others = store.methods_of(&person.id).await?;
        // Without two-factor `methods_of` shows no codes left, so they need no read then.
        let left = if person.has_two_factor() {
            store.recovery_codes_left(&person.id).await?
        } else {
            0
        };
        Ok(methods_of(person, others, left))
    }

    /// The person as they are now, with their methods: what an answer shows after a change.
    pub async fn person_now(&self, person: &Person) -> Result<(Person, Methods), AppError> {
        let now = self
            .core
            .store
            .person_by_id(&person.id)
            .await?
            .ok_or(AppError::NotFound)?;
        let methods = self.methods(&now).await?;
        Ok((now, methods))
    }

    /// The methods of each of these people of one practice, in two reads.
    pub async fn methods_of_people(
        &self,
        practice_id: &PracticeId,
        people: &[Person],
    ) -> Result<Vec<Methods>, AppError> {
        let store = &self.core.store;
        let mut others = store.methods_in_practice(practice_id).await?;
        let left = store.recovery_codes_left_in_practice(practice_id).await?;
        Ok(people
            .iter()
            .map(|person| {
                let (theirs, rest) = others.drain(..).partition(|m| m.person_id == person.id);
                others = rest;
                let left = left
                    .iter()
                    .find(|(id, _)| *id == person.id)
                    .map_or(0, |(_, left)| *left);
                methods_of(person, theirs, left)
            })
            .collect())
    }

    /// Chooses the method a sign-in asks for first: one the person holds.
    pub async fn set_preferred(&self, who: &Authenticated, kind: &str) -> Result<(), AppError> {
        let person = &who.account.person;
        let kind = MethodKind::parse(kind)
            .filter(|k| person.held().holds(*k))
            .ok_or(AppError::InvalidRequest(Refusal::of(
                Field::Method,
                Reason::MethodNotHeld,
            )))?;
        self.core
            .store
            .set_preferred_method(&person.id, Some(kind))
            .await?;
        Ok(())
    }

    /// Removes one of the person's methods (password re-entered): their remembered browsers
    /// and other sessions end, and they are told. Removing the last one turns two-factor off,
    /// which the practice's rule may refuse.
    pub async fn remove(
        &self,
        who: &Authenticated,
        method_id: &str,
        client: &ClientInfo,
    ) -> Result<(), AppError> {
        let core = &self.core;
        if !who.is_reauthenticated(core.clock.now()) {
            return Err(AppError::ReauthenticationRequired);
        }
        let person = &who.account.person;
        let practice = &who.account.practice;
        core.in_one_transaction(move |core| async move {
            let core = &*core;
            // Two removals at once must not both leave one method, and so none: each judges
            // what is left under the practice's lock, before it writes (a refusal commits what
            // its unit wrote).
            core.store.lock_practice(&practice.id).await?;
            let held = core
                .store
                .person_by_id(&person.id)
                .await?
                .ok_or(AppError::NotFound)?;
            let others = core.store.methods_of(&person.id).await?;
            let (removed, left) = if method_id == PHONE_METHOD_ID {
                let Some(phone) = &held.two_factor else {
                    return Err(AppError::NotFound);
                };
                let removed = format!("{} to {}", phone.channel.as_str(), phone.phone.masked());
                (removed, others.len())
            } else {
                let Some(method) = others.iter().find(|m| m.id == method_id) else {
                    return Err(AppError::NotFound);
                };
                let removed = format!("{}: {}", method.kind.as_str(), method.label);
                (
                    removed,
                    others.len() - 1 + usize::from(held.two_factor.is_some()),
                )
            };
            if left == 0 && practice.security.require_two_factor.covers(person.role) {
                return Err(AppError::TwoFactorRequiredByPractice);
            }
            if method_id == PHONE_METHOD_ID {
                core.store
                    .set_two_factor(&person.id, None, core.clock.now())
                    .await?;
            } else {
                core.store.delete_method(&person.id, method_id).await?;
            }
            let (kind, notice) = if left > 0 {
                (AuditKind::MethodRemoved, Notice::MethodRemoved)
            } else {
                core.store.delete_methods_of(&person.id).await?;
                (AuditKind::TwoFactorDisabled, Notice::TurnedOff)
            };
            tell(core, person, person.two_factor.as_ref(), notice).await?;
            end_devices_and_other_sessions(core, who, client).await?;
            record(core, Event::own(person, kind, client, removed)).await
        })
        .await
    }

    /// A new set of recovery codes (password re-entered, two-factor on), replacing the old:
    /// shown this once, kept only as keyed hashes.
    pub async fn new_recovery_codes(
        &self,
        who: &Authenticated,
        client: &ClientInfo,
    ) -> Result<Vec<RecoveryCode>, AppError> {
        let core = &self.core;
        if !who.is_reauthenticated(core.clock.now()) {
            return Err(AppError::ReauthenticationRequired);
        }
        let person = &who.account.person;
        if !person.has_two_factor() {
            return Err(AppError::InvalidRequest(Reason::TwoFactorOff.into()));
        }
        core.in_one_transaction(move |core| async move {
            make_recovery_codes(&core, person, client).await
        })
        .await
    }
}

/// A person's list of methods: the phone first, then the others as they were added.
fn methods_of(person: &Person, others: Vec<MethodRecord>, recovery_codes_left: i64) -> Methods {
    let phone = person.two_factor.as_ref().map(|phone| MethodView {
        id: PHONE_METHOD_ID.to_owned(),
        kind: MethodKind::of_channel(phone.channel),
        label: phone.phone.masked(),
        created_at: person.phone_times.added_at,
        last_used_at: person.phone_times.used_at,
    });
    let others = others.into_iter().map(|m| MethodView {
        id: m.id,
        kind: m.kind,
        label: m.label,
        created_at: Some(m.created_at),
        last_used_at: m.last_used_at,
    });
    Methods {
        methods: phone.into_iter().chain(others).collect(),
        preferred: person.preferred(),
        recovery_codes_left: if person.has_two_factor() {
            recovery_codes_left
        } else {
            0
        },
    }
}

/// Whether this session may add a method now: with a password re-entered in the last minutes,
/// or, held for the practice's required setup, with the password it signed in with.
pub(crate) fn may_enrol(core: &Core, who: &Authenticated) -> Result<(), AppError> {
    let required_setup = who.session.state == SessionState::TwoFactorSetupRequired;
    if !required_setup && !who.is_reauthenticated(core.clock.now()) {
        return Err(AppError::ReauthenticationRequired);
    }
    Ok(())
}

/// What an enrolment's sealed state is bound to: the session it was begun in.
fn enrolment_bound_to(who: &Authenticated) -> String {
    format!("enrolment:{}", who.session.id.as_str())
}

pub(crate) fn open_secret(
    core: &Core,
    bound_to: &str,
    sealed: &str,
) -> Result<TotpSecret, AppError> {
    core.keys
        .open_method_secret(bound_to, sealed)
        .and_then(|bytes| <[u8; 20]>::try_from(bytes).ok())
        .map(TotpSecret::from_bytes)
        .ok_or_else(|| AppError::Internal("an app's secret does not open".into()))
}

/// A right first code of a setup held for the practice's rule finishes that sign-in.
fn on_right_of(who: &Authenticated) -> OnRightCode {
    match who.session.state {
        SessionState::TwoFactorSetupRequired => OnRightCode::SignIn,
        _ => OnRightCode::StaySignedIn,
    }
}

/// Signs in a session held for the practice's required setup, now that a method is confirmed:
/// a new token, and the password credit of the required setup ends with it.
pub(crate) async fn finish_required_setup(
    core: &Core,
    who: &Authenticated,
    second_factor: SecondFactor,
    client: &ClientInfo,
) -> Result<Option<Secret>, AppError> {
    if who.session.state != SessionState::TwoFactorSetupRequired {
        return Ok(None);
    }
    let how = "password and the practice's required two-factor setup";
    Ok(Some(
        complete_sign_in(core, who, how, second_factor, client).await?,
    ))
}

/// Tells of a method just added and audits it. The first one turns two-factor on: the
/// person's other sessions held for a required setup end, and their first recovery codes are
/// made, to be shown once.
pub(crate) async fn added_method(
    core: &Core,
    who: &Authenticated,
    kind: MethodKind,
    detail: &str,
    client: &ClientInfo,
) -> Result<Option<Vec<RecoveryCode>>, AppError> {
    let person = &who.account.person;
    if person.has_two_factor() {
        tell(
            core,
            person,
            person.two_factor.as_ref(),
            Notice::MethodAdded,
        )
        .await?;
        let detail = format!("{}: {detail}", kind.as_str());
        record(
            core,
            Event::own(person, AuditKind::MethodAdded, client, detail),
        )
        .await?;
        return Ok(None);
    }
    tell(core, person, None, Notice::TurnedOn).await?;
    end_other_held_setups(core, who).await?;
    record(
        core,
        Event::own(person, AuditKind::TwoFactorEnabled, client, detail),
    )
    .await?;
    Ok(Some(make_recovery_codes(core, person, client).await?))
}

/// Makes the person's set of recovery codes, replacing any before.
async fn make_recovery_codes(
    core: &Core,
    person: &Person,
    client: &ClientInfo,
) -> Result<Vec<RecoveryCode>, AppError> {
    let codes: Vec<RecoveryCode> = (0..RECOVERY_CODES_PER_SET)
        .map(|_| RecoveryCode::generate(random_bytes()))
        .collect();
    let hashes: Vec<String> = codes
        .iter()
        .map(|c| core.keys.recovery_code_hash(&person.id, c.expose()))
        .collect();
    core.store
        .replace_recovery_codes(&person.id, &hashes, core.clock.now())
        .await?;
    record(
        core,
        Event::own(
            person,
            AuditKind::RecoveryCodesCreated,
            client,
            format!("{} codes", codes.len()),
        ),
    )
    .await?;
    Ok(codes)
}

/// Ends the person's other sessions held for the practice's required setup: with two-factor
/// on, their password credit is worth nothing (the session gate refuses them too).
async fn end_other_held_setups(core: &Core, who: &Authenticated) -> Result<(), AppError> {
    let person_id = &who.account.person.id;
    for session in core.store.sessions_of(person_id).await? {
        if session.state == SessionState::TwoFactorSetupRequired && session.id != who.session.id {
            core.store.delete_session(person_id, &session.id).await?;
        }
    }
    Ok(())
}
