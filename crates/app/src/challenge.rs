//! The steps of a code that signing in and two-factor share: sending it under the limits (a
//! new challenge, or a resend), judging a typed code (one transaction: counted, consumed, the
//! person's failures and lock), the lock's notice, and notices to a phone.

use latch_domain::audit::AuditKind;
use latch_domain::code::{CODE_LIFETIME_SECONDS, CODE_MAX_ATTEMPTS, OneTimeCode};
use latch_domain::message::{self, Notice};
use latch_domain::phone::PhoneNumber;
use latch_domain::session::PENDING_LIFETIME_SECONDS;
use latch_domain::two_factor::{
    CannotCarry, Channel, FAILURES_BEFORE_LOCK, LockAfterFailure, Locked, RESEND_WAIT_SECONDS,
    SENDS_PER_CHALLENGE, SendCounter, SendKind, SendRefused, can_carry, lock_after_failure,
    resend_wait, send_windows,
};
use latch_domain::verification::{Verification, verify};

use crate::audit::{Event, record};
use crate::crypto::{new_id, new_token, random_u32, token_hash};
use crate::delivery::Outgoing;
use crate::error::{AppError, CodeOf, Field, Reason, Refusal, Throttle};
use crate::ids::{PersonId, PracticeId, SessionId};
use crate::latch::Core;
use crate::records::{
    AnswerJudgement, Challenge, ClientInfo, Consume, Person, Practice, Purpose, TwoFactorSetting,
};

/// A code went out: by which channel, to which (masked) number, and for how long it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeSent {
    pub channel: Channel,
    pub phone: String,
    pub expires_in: i64,
}

/// Refuses while the person's two-factor step is locked.
pub(crate) fn check_lock(core: &Core, person: &Person) -> Result<(), AppError> {
    match person.lock.at(core.clock.now().seconds()) {
        Locked::No => Ok(()),
        Locked::For { retry_after } => Err(AppError::code_locked(retry_after)),
        Locked::UntilUnlocked => Err(AppError::TwoFactorLocked),
    }
}

/// Puts a new challenge for the session's sign-in or setup (ending any older code), and
/// answers its code to send once the unit of work has committed.
#[expect(
    clippy::too_many_arguments,
    reason = "a challenge is made from all of these"
)]
pub(crate) async fn start_challenge(
    core: &Core,
    session_id: &SessionId,
    person: &Person,
    practice: &Practice,
    purpose: Purpose,
    phone: &PhoneNumber,
    extension: Option<String>,
    channel: Channel,
    client: &ClientInfo,
) -> Result<CodeToSend, AppError> {
    check_send_limits(core, person, practice, phone, purpose, client).await?;
    let now = core.clock.now();
    let code = OneTimeCode::generate(random_u32);
    let id = new_id();
    let challenge = Challenge {
        code_hash: core.keys.code_hash(&id, code.digits()),
        id,
        session_id: session_id.clone(),
        person_id: person.id.clone(),
        purpose,
        phone: phone.clone(),
        extension,
        channel,
        method: channel,
        expires_at: now.plus(CODE_LIFETIME_SECONDS),
        attempts: 0,
        sends: 1,
        last_sent_at: now,
        created_at: now,
    };
    core.store.put_challenge(&challenge).await?;
    code_to_send(core, person, &challenge, phone, &code).await
}

/// A new code for an existing challenge, by its channel or another: refused within 30 s of
/// the last send and after 5 sends, in the same statement that stores the new code. Answers
/// the code to send once the unit of work has committed.
pub(crate) async fn resend(
    core: &Core,
    person: &Person,
    practice: &Practice,
    challenge: &Challenge,
    channel: Option<Channel>,
    client: &ClientInfo,
) -> Result<CodeToSend, AppError> {
    check_lock(core, person)?;
    let now = core.clock.now();
    let channel = channel.unwrap_or(challenge.channel);
    can_carry(
        channel,
        challenge.extension.is_some(),
        core.delivery.supports_voice(),
    )
    .map_err(cannot_carry)?;
    match resend_wait(
        challenge.last_sent_at.seconds(),
        challenge.sends,
        now.seconds(),
    ) {
        Ok(()) => {}
        Err(SendRefused::Wait { retry_after }) => {
            return Err(AppError::resend_wait(retry_after));
        }
        Err(SendRefused::ChallengeSpent) => return Err(spent_error(challenge)),
    }
    let phone = &challenge.phone;
    check_send_limits(core, person, practice, phone, challenge.purpose, client).await?;
    let code = OneTimeCode::generate(random_u32);
    let code_hash = core.keys.code_hash(&challenge.id, code.digits());
    let expires_at = now.plus(CODE_LIFETIME_SECONDS);
    let took = core
        .store
        .resend_challenge(
            &challenge.id,
            &code_hash,
            channel,
            expires_at,
            now,
            SENDS_PER_CHALLENGE,
            RESEND_WAIT_SECONDS,
        )
        .await?;
    if !took {
        // Another request resent it a moment ago, or it was used meanwhile.
        return Err(AppError::resend_wait(RESEND_WAIT_SECONDS));
    }
    let updated = Challenge {
        channel,
        code_hash,
        expires_at,
        ..challenge.clone()
    };
    code_to_send(core, person, &updated, phone, &code).await
}

fn spent_error(challenge: &Challenge) -> AppError {
    match challenge.purpose {
        Purpose::SignIn => AppError::rate_limited(PENDING_LIFETIME_SECONDS),
        Purpose::Setup => AppError::NoSetupInProgress,
    }
}

/// SECURITY: every limit is counted in the database (so every node counts together) and
/// checked before anything is sent; a refused send sends nothing. The domain says which
/// windows a send counts in (a person's own sign-in codes have a budget of their own; setups
/// count per number and per number range, SMS pumping and toll fraud), all in one statement,
/// then the practice's daily budget.
async fn check_send_limits(
    core: &Core,
    person: &Person,
    practice: &Practice,
    phone: &PhoneNumber,
    purpose: Purpose,
    client: &ClientInfo,
) -> Result<(), AppError> {
    let now = core.clock.now();
    let kind = match purpose {
        Purpose::SignIn => SendKind::OwnSignIn,
        Purpose::Setup => SendKind::Setup {
            someone_elses_number: core
                .store
                .phone_confirmed_by_another(phone.e164(), &person.id)
                .await?,
        },
    };
    let windows = send_windows(kind);
    let keys: Vec<String> = windows
        .iter()
        .map(|w| send_counter_key(w.counter, person, phone, client))
        .collect();
    let bumps: Vec<(&str, i64)> = keys
        .iter()
        .zip(&windows)
        .map(|(key, w)| (key.as_str(), w.seconds))
        .collect();
    let counted = core.store.bump_windows(&bumps, now).await?;
    let refused = windows
        .iter()
        .zip(&counted)
        .position(|(w, counted)| counted.count > w.limit);
    if let Some(first) = refused {
        // Counted as if one by one: the windows after the first that refused were never
        // reached, so they give their count back.
        for key in &keys[first + 1..] {
            core.give_back_windows([key, key], 1).await?;
        }
        return Err(AppError::rate_limited(
            (counted[first].started_at.seconds() + windows[first].seconds - now.seconds()).max(1),
        ));
    }
    let budget = core
        .store
        .bump_window(&format!("send-budget:{}", practice.id), now, 86_400)
        .await?;
    if budget.count > i64::from(practice.security.daily_send_budget) {
        if budget.count == i64::from(practice.security.daily_send_budget) + 1 {
            record(
                core,
                Event {
                    practice_id: &practice.id,
                    kind: AuditKind::SendBudgetReached,
                    actor_id: None,
                    subject_id: Some(&person.id),
                    client: Some(client),
                    detail: format!("{} sends in a day", practice.security.daily_send_budget),
                },
            )
            .await?;
        }
        return Err(AppError::RateLimited {
            retry_after: (budget.started_at.seconds() + 86_400 - now.seconds()).max(1),
            throttle: Throttle::SendBudget,
        });
    }
    Ok(())
}

/// The name of a send counter in the shared windows.
fn send_counter_key(
    counter: SendCounter,
    person: &Person,
    phone: &PhoneNumber,
    client: &ClientInfo,
) -> String {
    match counter {
        SendCounter::Person => format!("send-person:{}", person.id),
        SendCounter::OwnNumber => format!("send-own:{}", person.id),
        SendCounter::Number => format!("send-number:{}", phone.e164()),
        SendCounter::SomeoneElsesNumber => format!("send-someones-number:{}", phone.e164()),
        SendCounter::UnverifiedAddress => format!(
            "unverified-ip:{}",
            latch_domain::throttle::client_key(&client.ip)
        ),
        SendCounter::UnverifiedRange => format!("unverified-prefix:{}", phone.prefix()),
    }
}

/// A code stored with its challenge, waiting for its unit of work to commit before it goes
/// out: nothing slow runs inside a transaction, and no code goes out that was not kept.
#[derive(Debug)]
pub(crate) struct CodeToSend {
    outgoing: Outgoing,
    challenge_id: String,
    purpose: Purpose,
    person_id: PersonId,
    practice_id: PracticeId,
}

async fn code_to_send(
    core: &Core,
    person: &Person,
    challenge: &Challenge,
    phone: &PhoneNumber,
    code: &OneTimeCode,
) -> Result<CodeToSend, AppError> {
    let product = &core.settings.product_name;
    let body = match challenge.channel {
        Channel::Sms => message::code_text(product, code, &core.settings.public_host),
        Channel::Voice => message::code_call(product, code),
    };
    let press_key_token = if challenge.channel == Channel::Voice && core.delivery.asks_key_press() {
        let token = new_token();
        let sealed = core.keys.seal_call_code(token.expose(), code.digits());
        core.store
            .put_call(&token_hash(token.expose()), &sealed, challenge.expires_at)
            .await?;
        Some(token.expose().to_owned())
    } else {
        None
    };
    Ok(CodeToSend {
        outgoing: Outgoing {
            to: phone.clone(),
            extension: challenge.extension.clone(),
            channel: challenge.channel,
            body,
            code: Some(code.clone()),
            press_key_token,
        },
        challenge_id: challenge.id.clone(),
        purpose: challenge.purpose,
        person_id: person.id.clone(),
        practice_id: person.practice_id.clone(),
    })
}

/// Sends a code its unit of work kept, and records how that went in one more.
pub(crate) async fn send_code(
    core: &Core,
    code: CodeToSend,
    client: &ClientInfo,
) -> Result<CodeSent, AppError> {
    debug_assert!(
        !core.in_unit_of_work(),
        "a code goes out only after its unit of work has committed"
    );
    let channel = code.outgoing.channel;
    let phone = code.outgoing.to.masked();
    let detail = format!(
        "{} to {phone} for {}",
        channel.as_str(),
        code.purpose.as_str()
    );
    let started = std::time::Instant::now();
    let delivered = core.delivery.deliver(&code.outgoing).await;
    core.metrics
        .delivery_seconds(channel.as_str(), started.elapsed().as_secs_f64());
    core.metrics.code_sent(
        channel.as_str(),
        if delivered.is_ok() { "sent" } else { "failed" },
    );
    let event = |kind| Event {
        practice_id: &code.practice_id,
        kind,
        actor_id: Some(&code.person_id),
        subject_id: Some(&code.person_id),
        client: Some(client),
        detail: detail.clone(),
    };
    match delivered {
        Ok(sent) => {
            let code = &code;
            let sent = &sent;
            core.in_one_transaction(move |core| async move {
                let core = &*core;
                if let Some(provider_id) = &sent.provider_id {
                    core.store
                        .record_delivery(
                            provider_id,
                            &code.practice_id,
                            &code.person_id,
                            channel,
                            core.clock.now(),
                        )
                        .await?;
                }
                record(core, event(AuditKind::CodeSent)).await
            })
            .await?;
            Ok(CodeSent {
                channel,
                phone,
                expires_in: CODE_LIFETIME_SECONDS,
            })
        }
        Err(e) => {
            let code = &code;
            core.in_one_transaction(move |core| async move {
                let core = &*core;
                // Nothing reached the phone: the person may ask again at once.
                core.store.clear_resend_wait(&code.challenge_id).await?;
                record(core, event(AuditKind::CodeDeliveryFailed)).await
            })
            .await?;
            Err(AppError::DeliveryFailed(e))
        }
    }
}

/// Whether a right code finishes a sign-in, which the store then records with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OnRightCode {
    SignIn,
    StaySignedIn,
}

/// Checks a typed code against the challenge. A right code is consumed by one atomic
/// statement and clears the person's failure count (recording the sign-in it finishes); a
/// wrong one counts against the code and the person, and may lock the person's two-factor step.
pub(crate) async fn check_code(
    core: &Core,
    person: &Person,
    challenge: &Challenge,
    typed: &str,
    on_right: OnRightCode,
    client: &ClientInfo,
) -> Result<(), AppError> {
    let result = judge_code(core, person, challenge, typed, on_right, client).await;
    core.metrics.verification(match &result {
        Ok(()) => "accepted",
        Err(AppError::InvalidCode {
            malformed: false, ..
        }) => "wrong",
        Err(AppError::InvalidCode { .. }) => "malformed",
        Err(AppError::CodeExpired) => "expired",
        Err(AppError::RateLimited { .. } | AppError::TwoFactorLocked) => "locked",
        Err(_) => "error",
    });
    result
}

async fn judge_code(
    core: &Core,
    person: &Person,
    challenge: &Challenge,
    typed: &str,
    on_right: OnRightCode,
    client: &ClientInfo,
) -> Result<(), AppError> {
    // Something that cannot be a code is not a guess: it counts toward nothing.
    let Ok(code) = OneTimeCode::parse(typed) else {
        return Err(AppError::InvalidCode {
            attempts_left: (CODE_MAX_ATTEMPTS - challenge.attempts).max(0),
            malformed: true,
            next_wrong_locks: lock_after_failure(person.code_failures + 1),
            of: CodeOf::Sent,
        });
    };
    // The lock as read with the session; the store checks it again where it counts.
    check_lock(core, person)?;
    let now = core.clock.now();
    let hash = core.keys.code_hash(&challenge.id, code.digits());
    let judgement = core
        .store
        .judge_code(
            &challenge.id,
            &person.id,
            on_right == OnRightCode::SignIn,
            now,
            CODE_MAX_ATTEMPTS,
            &|stored| crate::crypto::constant_time_eq(&hash, stored),
            lock_after_failure,
        )
        .await?;
    match verify(judgement, now.seconds()) {
        Verification::Expired => Err(AppError::CodeExpired),
        Verification::Locked(Locked::For { retry_after }) => {
            Err(AppError::code_locked(retry_after))
        }
        Verification::Locked(_) => Err(AppError::TwoFactorLocked),
        Verification::Accepted => {
            // Its sends are verified now: they no longer count as unverified.
            let unverified = |counter| send_counter_key(counter, person, &challenge.phone, client);
            let address = unverified(SendCounter::UnverifiedAddress);
            let range = match challenge.purpose {
                Purpose::Setup => unverified(SendCounter::UnverifiedRange),
                Purpose::SignIn => address.clone(),
            };
            core.give_back_windows([&address, &range], challenge.sends)
                .await?;
            record(
                core,
                Event::own(
                    person,
                    AuditKind::CodeVerified,
                    client,
                    challenge.purpose.as_str(),
                ),
            )
            .await
        }
        Verification::WrongCode {
            attempts_left,
            failures,
        } => {
            audit_wrong_code(core, person, failures, client).await?;
            Err(AppError::InvalidCode {
                attempts_left,
                malformed: false,
                next_wrong_locks: lock_after_failure(failures + 1),
                of: CodeOf::Sent,
            })
        }
        Verification::LockStarted { failures, lock } => {
            audit_wrong_code(core, person, failures, client).await?;
            Err(announce_lock(core, person, lock, client).await?)
        }
    }
}

/// Checks an answer to a second step that is not a sent code (an app's code, a recovery
/// code, an enrolment's first code): a right one uses up `consume` in the statement that
/// judges it and clears the person's failures; a wrong one (`Consume::Nothing`), or a right
/// one already used, counts against the person like a wrong sent code, and may lock the step.
pub(crate) async fn check_answer(
    core: &Core,
    person: &Person,
    (consume, of): (Consume<'_>, CodeOf),
    on_right: OnRightCode,
    client: &ClientInfo,
) -> Result<(), AppError> {
    check_lock(core, person)?;
    let now = core.clock.now();
    let judged = core
        .store
        .judge_answer(
            &person.id,
            consume,
            on_right == OnRightCode::SignIn,
            now,
            lock_after_failure,
        )
        .await?;
    let result = match judged {
        AnswerJudgement::Accepted => Ok(()),
        AnswerJudgement::Locked(lock) => Err(match lock.at(now.seconds()) {
            Locked::For { retry_after } => AppError::code_locked(retry_after),
            Locked::UntilUnlocked => AppError::TwoFactorLocked,
            // Unlocked since the store looked: the answer was not counted; try again.
            Locked::No => AppError::code_locked(1),
        }),
        AnswerJudgement::Wrong {
            failures,
            lock: LockAfterFailure::None,
        } => {
            audit_wrong_code(core, person, failures, client).await?;
            Err(AppError::InvalidCode {
                attempts_left: i64::from(FAILURES_BEFORE_LOCK.saturating_sub(failures)),
                malformed: false,
                next_wrong_locks: lock_after_failure(failures + 1),
                of,
            })
        }
        AnswerJudgement::Wrong { failures, lock } => {
            audit_wrong_code(core, person, failures, client).await?;
            Err(announce_lock(core, person, lock, client).await?)
        }
    };
    core.metrics.verification(match &result {
        Ok(()) => "accepted",
        Err(AppError::InvalidCode { .. }) => "wrong",
        Err(_) => "locked",
    });
    result
}

/// The refusal of something that cannot be an answer: not a guess, it counts toward nothing.
pub(crate) fn malformed_answer(person: &Person, of: CodeOf) -> AppError {
    AppError::InvalidCode {
        attempts_left: i64::from(FAILURES_BEFORE_LOCK.saturating_sub(person.code_failures)),
        malformed: true,
        next_wrong_locks: lock_after_failure(person.code_failures + 1),
        of,
    }
}

async fn audit_wrong_code(
    core: &Core,
    person: &Person,
    failures: u32,
    client: &ClientInfo,
) -> Result<(), AppError> {
    record(
        core,
        Event {
            practice_id: &person.practice_id,
            kind: AuditKind::CodeWrong,
            actor_id: None,
            subject_id: Some(&person.id),
            client: Some(client),
            detail: format!("{failures} in a row"),
        },
    )
    .await
}

/// Tells of a lock this request started (the store wrote it): one text to the person, one
/// audit event, and the refusal to answer.
async fn announce_lock(
    core: &Core,
    person: &Person,
    lock: LockAfterFailure,
    client: &ClientInfo,
) -> Result<AppError, AppError> {
    let (refusal, detail) = match lock {
        LockAfterFailure::For { seconds } => (
            AppError::code_locked(seconds),
            format!("for {} minutes", seconds / 60),
        ),
        LockAfterFailure::UntilUnlocked | LockAfterFailure::None => (
            AppError::TwoFactorLocked,
            "until an owner or manager unlocks it".to_owned(),
        ),
    };
    core.metrics.lock();
    tell(core, person, person.two_factor.as_ref(), Notice::Locked).await?;
    record(
        core,
        Event {
            practice_id: &person.practice_id,
            kind: AuditKind::TwoFactorLocked,
            actor_id: None,
            subject_id: Some(&person.id),
            client: Some(client),
            detail,
        },
    )
    .await?;
    Ok(refusal)
}

/// Sends a notice (no code) by the person's own method to the phone of `setting`, once the
/// unit of work it tells of has committed: a voice user gets a call, not a text. Best effort:
/// a notice that cannot go out is logged, never a reason to undo what it tells of.
pub(crate) async fn notify(core: &Core, setting: &TwoFactorSetting, notice: Notice) {
    let product = &core.settings.product_name;
    let by_voice = setting.channel == Channel::Voice && core.delivery.supports_voice();
    let outgoing = if by_voice {
        Outgoing {
            to: setting.phone.clone(),
            extension: setting.extension.clone(),
            channel: Channel::Voice,
            body: message::notice_call(product, notice),
            code: None,
            press_key_token: None,
        }
    } else {
        Outgoing {
            to: setting.phone.clone(),
            extension: None,
            channel: Channel::Sms,
            body: message::notice_text(product, notice),
            code: None,
            press_key_token: None,
        }
    };
    core.notice(outgoing).await;
}

/// Tells a person of a change to how they sign in: by email, in the unit of work that made the
/// change, and by text or call to `phone` (their two-factor phone before the change, when they
/// had one) once it has committed.
pub(crate) async fn tell(
    core: &Core,
    person: &Person,
    phone: Option<&TwoFactorSetting>,
    notice: Notice,
) -> Result<(), AppError> {
    if let Some(setting) = phone {
        notify(core, setting, notice).await;
    }
    let Some(practice) = core.store.practice(&person.practice_id).await? else {
        return Ok(());
    };
    let at = core.local_time(&practice, core.clock.now());
    let mail = latch_domain::mail::Mail::Notice {
        name: &person.name,
        notice,
        at: &at,
    };
    core.mail(&person.email, &practice, mail).await?;
    Ok(())
}

/// The refusal of a method that cannot carry a code: beside the extension for a text, beside
/// the method for a call.
pub(crate) fn cannot_carry(cannot: CannotCarry) -> AppError {
    match cannot {
        CannotCarry::TextToExtension => {
            AppError::InvalidPhone(Refusal::of(Field::Extension, Reason::ExtensionWithText))
        }
        CannotCarry::NoVoice => {
            AppError::InvalidRequest(Refusal::of(Field::Channel, Reason::VoiceUnavailable))
        }
    }
}
