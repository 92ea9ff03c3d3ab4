//! Signing in with a password, the password delay, sessions, re-authentication and sign-out.

use std::sync::Arc;

use latch_domain::audit::AuditKind;
use latch_domain::device::{BrowserDevices, remember_seconds};
use latch_domain::message::Notice;
use latch_domain::method::{Answer, MethodKind, RecoveryCode, TypedCode};
use latch_domain::session::{self, SecondFactor, SessionState, SessionTimes};
use latch_domain::totp::{self, TotpJudgement};
use latch_domain::two_factor::Locked;
use latch_domain::two_factor::can_carry;
use latch_domain::{Email, Timestamp, user_agent};

use crate::audit::{Event, record};
use crate::challenge::{
    CodeSent, CodeToSend, OnRightCode, check_answer, check_code, check_lock, malformed_answer,
    send_code, start_challenge, tell,
};
use crate::crypto::{new_id, new_token, token_hash};
use crate::error::{AppError, CodeOf, Field, Reason, Refusal};
use crate::ids::SessionId;
use crate::latch::Core;
use crate::methods::open_secret;
use crate::password_check::{Outcome, check_password};
use crate::records::{Account, ClientInfo, Consume, Device, NewDevice, Person, Purpose};
use crate::secret::Secret;
pub use crate::session::Authenticated;
use crate::session::{
    audit_signed_in, complete_sign_in, open_session, reauthenticate, tell_of_new_browser,
};

/// A new session: the cookie token to hand to the browser, and who it belongs to.
#[derive(Debug)]
pub struct SignedIn {
    pub token: Secret,
    pub state: SessionState,
    pub account: Account,
    /// The code sent for this sign-in, when it waits for one.
    pub code: Option<CodeSent>,
    /// The code could not be delivered; the sign-in still waits, so a resend can follow.
    pub delivery_failed: Option<AppError>,
    /// Waiting for a second step: what the person can answer with, the one asked for first.
    pub answers: Vec<Answer>,
}

/// A sign-in finished with its code.
#[derive(Debug)]
pub struct CodeAccepted {
    pub token: Secret,
    /// The browser is remembered: its new device token for this person.
    pub remembered: Option<RememberedDevice>,
}

/// A device token to add to the browser's remembered-device cookie.
#[derive(Debug)]
pub struct RememberedDevice {
    /// The keyed tag of the person the token belongs to.
    pub tag: String,
    pub token: Secret,
    pub max_age_seconds: i64,
}

#[derive(Clone)]
pub struct SignInService {
    core: Arc<Core>,
}

impl SignInService {
    pub(crate) fn new(core: Arc<Core>) -> Self {
        SignInService { core }
    }

    /// Checks the password and opens a session: signed in at once, or waiting for a code when
    /// two-factor is on and this browser is not remembered for the person.
    pub async fn sign_in(
        &self,
        email: &str,
        password: &Secret,
        client: &ClientInfo,
        browser: &BrowserDevices,
    ) -> Result<SignedIn, AppError> {
        let result = self.check_and_open(email, password, client, browser).await;
        self.core.metrics.sign_in(match &result {
            Ok(s) if s.state == SessionState::SignedIn => "signed_in",
            Ok(s) if s.state == SessionState::TwoFactorRequired => "code_required",
            Ok(_) => "setup_required",
            Err(AppError::InvalidCredentials) => "wrong_password",
            Err(AppError::RateLimited { .. }) => "throttled",
            Err(AppError::TwoFactorLocked) => "locked",
            Err(AppError::Unavailable(_)) => "unavailable",
            Err(_) => "error",
        });
        result
    }

    async fn check_and_open(
        &self,
        email: &str,
        password: &Secret,
        client: &ClientInfo,
        browser: &BrowserDevices,
    ) -> Result<SignedIn, AppError> {
        let core = &self.core;
        // SECURITY: nothing longer than an email can be is stored, not even as a throttle key.
        if email.trim().chars().count() > MAX_EMAIL_CHARS {
            return Err(AppError::InvalidRequest(Refusal::of(
                Field::Email,
                Reason::EmailTooLong,
            )));
        }
        // An unparseable email still goes through the same checks and the same hash, so its
        // answer looks and takes like any other wrong sign-in.
        let email_key = Email::parse(email)
            .map(|e| e.normalized().to_owned())
            .unwrap_or_else(|_| email.trim().to_lowercase());
        let account = core.store.account_by_email(&email_key).await?;
        let remembered = match &account {
            Some(a) => remembered_device(core, a, browser).await?,
            None => None,
        };
        let stored = account.as_ref().map(|a| a.person.password_hash.as_str());
        let check = check_password(
            core,
            &email_key,
            stored,
            password,
            client,
            remembered.is_some(),
        )
        .await?;
        let rehashed = match (&account, check.outcome) {
            (Some(_), Outcome::Right { needs_rehash: true }) => {
                Some(core.passwords.hash(password).await?)
            }
            _ => None,
        };
        let check = &check;
        let found = &account;
        let rehashed = &rehashed;
        let remembered = &remembered;
        let new_browser = account
            .as_ref()
            .is_some_and(|a| !browser.has_seen(&core.keys.device_tag(&a.person.id)));
        let opened = core
            .in_one_transaction(move |core| async move {
                let core = &*core;
                // Counted for unknown emails too, so a refusal takes the same work either way.
                let audit_refusal = check.record(core).await?;
                let Some(account) = found else {
                    return Err(check.result().err().unwrap_or(AppError::InvalidCredentials));
                };
                if let Err(err) = check.result() {
                    if audit_refusal {
                        let detail = match check.outcome {
                            Outcome::Refused { .. } => {
                                "password attempt refused: too many failures"
                            }
                            _ => "wrong password",
                        };
                        audit_failure(core, &account.person, client, detail).await?;
                    }
                    return Err(err);
                }
                let from = From {
                    remembered: remembered.as_ref(),
                    new_browser,
                };
                open(core, account, rehashed.as_deref(), from, client).await
            })
            .await?;
        let account = account.ok_or(AppError::InvalidCredentials)?;
        let (code, delivery_failed) = match opened.code {
            None => (None, None),
            Some(code) => match send_code(core, code, client).await {
                Ok(sent) => (Some(sent), None),
                Err(e @ AppError::DeliveryFailed(_)) => (None, Some(e)),
                Err(e) => return Err(e),
            },
        };
        let answers = match opened.state {
            SessionState::TwoFactorRequired => self.answers(&account.person),
            _ => Vec::new(),
        };
        Ok(SignedIn {
            token: opened.token,
            state: opened.state,
            account,
            code,
            delivery_failed,
            answers,
        })
    }

    /// What a person waiting for their second step may answer with, the one asked for first:
    /// the phone by either channel it can take, the app, a passkey, a recovery code.
    pub fn answers(&self, person: &Person) -> Vec<Answer> {
        let other_channel = person.two_factor.as_ref().is_some_and(|phone| {
            can_carry(
                phone.channel.other(),
                phone.extension.is_some(),
                self.core.delivery.supports_voice(),
            )
            .is_ok()
        });
        person.held().answers(person.preferred(), other_channel)
    }

    /// Finishes a sign-in that waits for its second step with a typed code: one sent by text
    /// or call, an app's, or a recovery code, as `method` says or else as its shape does.
    /// With `remember`, and when the practice allows it, the browser is remembered.
    pub async fn verify_code(
        &self,
        who: &Authenticated,
        code: &str,
        method: Option<&str>,
        remember: bool,
        client: &ClientInfo,
    ) -> Result<CodeAccepted, AppError> {
        if who.session.state != SessionState::TwoFactorRequired {
            return Err(AppError::NotSignedIn);
        }
        let method = method
            .map(|m| {
                Answer::parse(m).ok_or(AppError::InvalidRequest(Refusal::of(
                    Field::Method,
                    Reason::Method,
                )))
            })
            .transpose()?;
        let core = &self.core;
        let finishing = Finishing {
            who,
            remember,
            client,
        };
        match TypedCode::read(code, method) {
            TypedCode::App(digits) if who.account.person.other_methods.totp => {
                verify_app_code(core, finishing, &digits).await
            }
            TypedCode::Recovery(recovery) => verify_recovery_code(core, finishing, &recovery).await,
            typed @ (TypedCode::Sent(_) | TypedCode::Malformed | TypedCode::App(_)) => {
                verify_sent_code(core, finishing, code, typed, method).await
            }
        }
    }

    /// The live session behind a cookie token, or none. Ends a session that has run out.
    pub async fn authenticate(&self, token: &str) -> Result<Option<Authenticated>, AppError> {
        let core = &self.core;
        let Some((session, account)) = core.store.session_by_token(&token_hash(token)).await?
        else {
            return Ok(None);
        };
        let now = core.clock.now();
        let times = SessionTimes {
            created_at: session.created_at,
            last_seen_at: session.last_seen_at,
        };
        let idle = account.practice.security.sign_out_after_idle_minutes;
        let pending_over = session.state != SessionState::SignedIn
            && session.pending_until.is_none_or(|until| now >= until);
        // SECURITY: a session held for the practice's required setup carries the credit of its
        // password only while the person has no two-factor; once they have it (set up in
        // another session), this one could otherwise replace their phone without a code.
        let setup_credit_stale = session.state == SessionState::TwoFactorSetupRequired
            && account.person.has_two_factor();
        if pending_over || setup_credit_stale || !session::is_live(times, idle, now) {
            core.store
                .delete_session(&session.person_id, &session.id)
                .await?;
            return Ok(None);
        }
        if session::needs_touch(session.last_seen_at, now) {
            core.store.touch_session(&session.id, now).await?;
        }
        Ok(Some(Authenticated { session, account }))
    }

    /// Takes the password again, for actions that need a recent one; answers the session's new
    /// token and how long the re-authentication lasts.
    pub async fn reauthenticate(
        &self,
        who: &Authenticated,
        password: &Secret,
        client: &ClientInfo,
    ) -> Result<(Secret, Timestamp), AppError> {
        reauthenticate(&self.core, who, password, client).await
    }

    /// Ends this session.
    pub async fn sign_out(&self, who: &Authenticated, client: &ClientInfo) -> Result<(), AppError> {
        let person = &who.account.person;
        self.core
            .in_one_transaction(move |core| async move {
                let core = &*core;
                core.store
                    .delete_session(&person.id, &who.session.id)
                    .await?;
                record(
                    core,
                    Event::own(person, AuditKind::SignedOut, client, String::new()),
                )
                .await
            })
            .await
    }
}

/// The sign-in a right second step finishes, and how.
#[derive(Clone, Copy)]
struct Finishing<'a> {
    who: &'a Authenticated,
    remember: bool,
    client: &'a ClientInfo,
}

impl Finishing<'_> {
    /// Signs the session in, proved `how` and by `second_factor`.
    async fn done(
        self,
        core: &Core,
        how: &str,
        second_factor: SecondFactor,
    ) -> Result<CodeAccepted, AppError> {
        finish(
            core,
            self.who,
            how,
            second_factor,
            self.remember,
            self.client,
        )
        .await
    }
}

/// Judges an app's code against each of the person's apps (read, and their secrets opened,
/// before the unit of work): the right one's step is consumed in the unit.
async fn verify_app_code(
    core: &Core,
    step: Finishing<'_>,
    digits: &str,
) -> Result<CodeAccepted, AppError> {
    let (person, client) = (&step.who.account.person, step.client);
    let apps = core.store.methods_of(&person.id).await?;
    let now = core.clock.now().seconds();
    let mut right = None;
    for app in apps.iter().filter(|m| m.kind == MethodKind::Totp) {
        let secret = open_secret(core, &app.id, &app.sealed_secret)?;
        if let TotpJudgement::Right { step } = totp::judge(&secret, digits, now, app.last_step) {
            right = Some(Consume::AppStep {
                method_id: &app.id,
                step,
            });
            break;
        }
    }
    let consume = right.unwrap_or(Consume::Nothing);
    core.in_one_transaction(move |core| async move {
        let core = &*core;
        let answer = (consume, CodeOf::App);
        check_answer(core, person, answer, OnRightCode::SignIn, client).await?;
        step.done(
            core,
            "password and authenticator app",
            SecondFactor::AppCode,
        )
        .await
    })
    .await
}

/// Judges a recovery code, which is used up when right and tells the person it was.
async fn verify_recovery_code(
    core: &Core,
    step: Finishing<'_>,
    recovery: &RecoveryCode,
) -> Result<CodeAccepted, AppError> {
    let (person, client) = (&step.who.account.person, step.client);
    let hash = &core.keys.recovery_code_hash(&person.id, recovery.expose());
    core.in_one_transaction(move |core| async move {
        let core = &*core;
        let answer = (Consume::RecoveryCode { code_hash: hash }, CodeOf::Recovery);
        check_answer(core, person, answer, OnRightCode::SignIn, client).await?;
        let notice = Notice::RecoveryCodeUsed;
        tell(core, person, person.two_factor.as_ref(), notice).await?;
        let used = AuditKind::RecoveryCodeUsed;
        record(core, Event::own(person, used, client, String::new())).await?;
        step.done(
            core,
            "password and recovery code",
            SecondFactor::RecoveryCode,
        )
        .await
    })
    .await
}

/// Judges a code sent by text or call against the session's challenge; what has no such
/// shape, with no challenge waiting, is refused as the method asked for would be.
async fn verify_sent_code(
    core: &Core,
    step: Finishing<'_>,
    code: &str,
    typed: TypedCode,
    method: Option<Answer>,
) -> Result<CodeAccepted, AppError> {
    let (person, client) = (&step.who.account.person, step.client);
    // Read before the unit, beside other requests: judging it checks again, by its id,
    // whatever counts.
    let challenge = &core
        .store
        .challenge(&step.who.session.id, Purpose::SignIn)
        .await?;
    let Some(challenge) = challenge else {
        return Err(match (typed, method) {
            (TypedCode::Sent(_), _) => AppError::CodeExpired,
            (_, Some(Answer::Totp)) => malformed_answer(person, CodeOf::App),
            (_, Some(Answer::RecoveryCode)) => malformed_answer(person, CodeOf::Recovery),
            (_, Some(Answer::Sms | Answer::Voice)) => malformed_answer(person, CodeOf::Sent),
            (_, _) => malformed_answer(person, CodeOf::Unknown),
        });
    };
    core.in_one_transaction(move |core| async move {
        let core = &*core;
        check_code(core, person, challenge, code, OnRightCode::SignIn, client).await?;
        let code_by = SecondFactor::code_by(challenge.channel);
        step.done(core, "password and code", code_by).await
    })
    .await
}

/// The person's remembered device behind this browser's cookie, if it is valid now: unexpired,
/// and remembered no longer ago than the practice's limit today (which may have fallen since).
/// Never while the person's two-factor step is locked.
async fn remembered_device(
    core: &Core,
    account: &Account,
    browser: &BrowserDevices,
) -> Result<Option<Device>, AppError> {
    let person = &account.person;
    let now = core.clock.now();
    if !person.has_two_factor() || person.lock.at(now.seconds()) != Locked::No {
        return Ok(None);
    }
    let Some(token) = browser.token_for(&core.keys.device_tag(&person.id)) else {
        return Ok(None);
    };
    let limit = i64::from(account.practice.security.remember_device_days) * 86_400;
    Ok(core
        .store
        .device(&person.id, &token_hash(token), now)
        .await?
        .filter(|d| d.created_at.plus(limit) > now))
}

/// Signs in a session whose second step was just answered, and remembers the browser when
/// asked and the practice allows it.
pub(crate) async fn finish(
    core: &Core,
    who: &Authenticated,
    how: &str,
    second_factor: SecondFactor,
    remember: bool,
    client: &ClientInfo,
) -> Result<CodeAccepted, AppError> {
    let token = complete_sign_in(core, who, how, second_factor, client).await?;
    let remembered = remember_if_asked(core, &who.account, remember, client).await?;
    Ok(CodeAccepted { token, remembered })
}

/// Remembers this browser for a person just signed in, when they asked and their practice
/// allows it, for as long as it allows.
pub(crate) async fn remember_if_asked(
    core: &Core,
    account: &Account,
    remember: bool,
    client: &ClientInfo,
) -> Result<Option<RememberedDevice>, AppError> {
    let days = account.practice.security.remember_device_days;
    match remember_seconds(days).filter(|_| remember) {
        Some(max_age_seconds) => {
            let person = &account.person;
            Ok(Some(
                remember_browser(core, person, max_age_seconds, client).await?,
            ))
        }
        None => Ok(None),
    }
}

/// Remembers this browser for the person for `max_age_seconds`.
async fn remember_browser(
    core: &Core,
    person: &Person,
    max_age_seconds: i64,
    client: &ClientInfo,
) -> Result<RememberedDevice, AppError> {
    let now = core.clock.now();
    let token = new_token();
    let label = user_agent::label(&client.user_agent);
    core.store
        .insert_device(&NewDevice {
            id: new_id(),
            token_hash: token_hash(token.expose()),
            person_id: person.id.clone(),
            label: label.clone(),
            created_at: now,
            expires_at: now.plus(max_age_seconds),
        })
        .await?;
    record(
        core,
        Event::own(
            person,
            AuditKind::DeviceRemembered,
            client,
            format!("{label} for {} days", max_age_seconds / 86_400),
        ),
    )
    .await?;
    Ok(RememberedDevice {
        tag: core.keys.device_tag(&person.id),
        token,
        max_age_seconds,
    })
}

/// Longest email address there is (RFC 5321's path limit less its brackets).
const MAX_EMAIL_CHARS: usize = 254;

/// What the unit of work of a sign-in opened: the session, and the code to send once it has
/// committed.
struct Opened {
    token: Secret,
    session_id: SessionId,
    state: SessionState,
    code: Option<CodeToSend>,
}

/// The browser a sign-in comes from: remembered for the person, or new to them.
#[derive(Clone, Copy)]
struct From<'a> {
    remembered: Option<&'a Device>,
    new_browser: bool,
}

/// Opens the session a right password earns: signed in, held for the practice's required
/// setup, or waiting for a code (whose challenge is made here, and sent after the commit). A
/// sign-in from a browser new to the person tells them once it is finished.
async fn open(
    core: &Core,
    account: &Account,
    rehashed: Option<&str>,
    from: From<'_>,
    client: &ClientInfo,
) -> Result<Opened, AppError> {
    let remembered = from.remembered;
    let person = &account.person;
    // A deactivated person's right password opens nothing; a wrong one was answered as any.
    refuse_if_deactivated(core, person, client).await?;
    if let Some(hash) = rehashed {
        core.store.set_password_hash(&person.id, hash).await?;
    }
    if !person.has_two_factor() {
        if account
            .practice
            .security
            .require_two_factor
            .covers(person.role)
        {
            let opened = setup_required(core, account, client).await?;
            if from.new_browser {
                core.store.mark_new_browser(&opened.session_id).await?;
            }
            return Ok(opened);
        }
        if from.new_browser {
            tell_of_new_browser(core, account, client).await?;
        }
        return signed_in(core, person, client, "password", None).await;
    }
    // SECURITY: while the two-factor step is locked, a right password sends nothing.
    refuse_if_locked(core, person, client).await?;
    if let Some(device) = remembered {
        core.store
            .touch_device(&device.id, core.clock.now())
            .await?;
        let browser = Some(SecondFactor::RememberedBrowser);
        return signed_in(
            core,
            person,
            client,
            "password and remembered device",
            browser,
        )
        .await;
    }
    let now = core.clock.now();
    let (token, session_id) = open_session(
        core,
        &person.id,
        SessionState::TwoFactorRequired,
        client,
        Some(now.plus(session::PENDING_LIFETIME_SECONDS)),
        None,
    )
    .await?;
    if from.new_browser {
        core.store.mark_new_browser(&session_id).await?;
    }
    // A text or call goes out only when the phone is the method asked for first.
    let phone = person
        .two_factor
        .as_ref()
        .filter(|_| person.preferred().and_then(MethodKind::channel).is_some());
    let Some(setting) = phone else {
        return Ok(Opened {
            token,
            session_id,
            state: SessionState::TwoFactorRequired,
            code: None,
        });
    };
    let code = start_challenge(
        core,
        &session_id,
        person,
        &account.practice,
        Purpose::SignIn,
        &setting.phone,
        setting.extension.clone(),
        setting.channel,
        client,
    )
    .await;
    match code {
        Ok(code) => Ok(Opened {
            token,
            session_id,
            state: SessionState::TwoFactorRequired,
            code: Some(code),
        }),
        Err(e) => {
            // Nothing will be sent: the half-made sign-in goes too.
            core.store.delete_session(&person.id, &session_id).await?;
            Err(e)
        }
    }
}

/// Refuses, and audits the refusal, a sign-in for someone who left the practice.
pub(crate) async fn refuse_if_deactivated(
    core: &Core,
    person: &Person,
    client: &ClientInfo,
) -> Result<(), AppError> {
    if person.deactivated_at.is_some() {
        audit_failure(core, person, client, "account deactivated").await?;
        return Err(AppError::AccountDeactivated);
    }
    Ok(())
}

/// Refuses, and audits the refusal, a sign-in while the person's two-factor step is locked.
pub(crate) async fn refuse_if_locked(
    core: &Core,
    person: &Person,
    client: &ClientInfo,
) -> Result<(), AppError> {
    if let Err(locked) = check_lock(core, person) {
        audit_failure(core, person, client, "two-factor step locked").await?;
        return Err(locked);
    }
    Ok(())
}

/// Opens a session signed in at once (`how` the person proved it, for the trail), audited.
pub(crate) async fn open_signed_in(
    core: &Core,
    person: &Person,
    client: &ClientInfo,
    how: &str,
    second_factor: Option<SecondFactor>,
) -> Result<(Secret, SessionId), AppError> {
    let signed_in = SessionState::SignedIn;
    let opened = open_session(core, &person.id, signed_in, client, None, second_factor).await?;
    audit_signed_in(core, person, how, client).await?;
    Ok(opened)
}

async fn signed_in(
    core: &Core,
    person: &Person,
    client: &ClientInfo,
    how: &str,
    second_factor: Option<SecondFactor>,
) -> Result<Opened, AppError> {
    let (token, session_id) = open_signed_in(core, person, client, how, second_factor).await?;
    Ok(Opened {
        token,
        session_id,
        state: SessionState::SignedIn,
        code: None,
    })
}

/// The practice requires two-factor and the person has none: the session may only set it up
/// (the password just given counts for that), and completing the setup signs them in.
async fn setup_required(
    core: &Core,
    account: &Account,
    client: &ClientInfo,
) -> Result<Opened, AppError> {
    let until = core
        .clock
        .now()
        .plus(session::SETUP_REQUIRED_LIFETIME_SECONDS);
    let (token, session_id) = open_session(
        core,
        &account.person.id,
        SessionState::TwoFactorSetupRequired,
        client,
        Some(until),
        None,
    )
    .await?;
    Ok(Opened {
        token,
        session_id,
        state: SessionState::TwoFactorSetupRequired,
        code: None,
    })
}

async fn audit_failure(
    core: &Core,
    person: &Person,
    client: &ClientInfo,
    detail: &str,
) -> Result<(), AppError> {
    record(
        core,
        Event {
            practice_id: &person.practice_id,
            kind: AuditKind::SignInFailed,
            actor_id: None,
            subject_id: Some(&person.id),
            client: Some(client),
            detail: detail.into(),
        },
    )
    .await
}
