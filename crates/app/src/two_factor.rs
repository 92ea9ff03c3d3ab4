//! Two-factor by text or voice call: codes for a sign-in or a setup, sending them under the
//! limits, checking them (one atomic consume), the lock after repeated wrong codes, turning
//! two-factor on, changing it and turning it off.

use std::sync::Arc;

use latch_domain::Timestamp;
use latch_domain::audit::AuditKind;
use latch_domain::code::OneTimeCode;
use latch_domain::country::Country;
use latch_domain::message::{self, Notice};
use latch_domain::method::{MethodKind, RecoveryCode};
use latch_domain::phone::{Disallowed, PhoneError, PhoneNumber, parse_extension};
use latch_domain::session::{PENDING_LIFETIME_SECONDS, SecondFactor, SessionState};
use latch_domain::two_factor::{Channel, can_carry};

use crate::audit::{Event, record};
pub use crate::challenge::CodeSent;
use crate::challenge::{
    OnRightCode, cannot_carry, check_code, check_lock, resend, send_code, start_challenge, tell,
};
use crate::crypto::token_hash;
use crate::delivery::{Callback, CallbackAnswer, DeliveryReport};
use crate::error::{AppError, Field, Reason, Refusal};
use crate::latch::Core;
use crate::methods::{added_method, finish_required_setup};
use crate::records::{Challenge, ClientInfo, Purpose, TwoFactorSetting};
use crate::secret::Secret;
use crate::session::{Authenticated, end_devices_and_other_sessions};

/// What a person typed to turn two-factor on or change it.
#[derive(Debug, Clone)]
pub struct SetupInput {
    pub phone: String,
    pub country: Option<String>,
    pub extension: Option<String>,
    pub channel: String,
}

/// Two-factor is on; when the setup was the practice's requirement at sign-in, the session is
/// now signed in with this new token.
#[derive(Debug)]
pub struct SetupConfirmed {
    pub setting: TwoFactorSetting,
    pub signed_in: Option<Secret>,
    /// A change of phone or method (two-factor was on): remembered browsers and other sessions
    /// ended with it.
    pub changed: bool,
    /// The person's first method: their first recovery codes, shown this once.
    pub recovery_codes: Option<Vec<RecoveryCode>>,
}

/// A code waiting to be entered, for the page that asks for it.
#[derive(Debug, Clone)]
pub struct PendingCode {
    /// Whole for a setup (the person just typed it), masked for a sign-in.
    pub phone: String,
    /// The method its latest code went by.
    pub channel: Channel,
    /// The method a setup is for, as chosen (a call instead of a text leaves it).
    pub method: Channel,
    /// Texts can't reach an extension.
    pub has_extension: bool,
    /// When its latest code went out.
    pub sent_at: Timestamp,
}

#[derive(Clone)]
pub struct TwoFactorService {
    core: Arc<Core>,
}

impl TwoFactorService {
    pub(crate) fn new(core: Arc<Core>) -> Self {
        TwoFactorService { core }
    }

    /// Whether voice calls can be offered.
    pub fn voice_available(&self) -> bool {
        self.core.delivery.supports_voice()
    }

    /// A key press on a code call: answers the provider's markup saying the code behind this
    /// one-time token, once (or that it is gone when the token is unknown, used or expired).
    pub async fn key_press(
        &self,
        token: &str,
        callback: Callback<'_>,
    ) -> Result<CallbackAnswer, AppError> {
        let core = &self.core;
        match core.delivery.callback_is_genuine(callback) {
            None => return Ok(CallbackAnswer::NotTaken),
            Some(false) => return Ok(CallbackAnswer::NotGenuine),
            Some(true) => {}
        }
        let sealed = core
            .store
            .take_call(&token_hash(token), core.clock.now())
            .await?;
        let script = sealed.and_then(|sealed| {
            let digits = core.keys.unseal_call_code(token, &sealed);
            OneTimeCode::parse(&digits)
                .ok()
                .map(|code| message::code_call(&core.settings.product_name, &code))
        });
        Ok(CallbackAnswer::Taken(
            core.delivery.key_press_answer(script.as_deref()),
        ))
    }

    /// A provider's report on a message latch sent: told to the audit trail of the practice it
    /// was for (only telemetry: it verifies nothing). Reports of unknown messages are ignored.
    pub async fn delivery_report(
        &self,
        callback: Callback<'_>,
    ) -> Result<CallbackAnswer, AppError> {
        match self.core.delivery.callback_is_genuine(callback) {
            None => return Ok(CallbackAnswer::NotTaken),
            Some(false) => return Ok(CallbackAnswer::NotGenuine),
            Some(true) => {}
        }
        if let Some(report) = &self.core.delivery.read_report(callback.params) {
            self.core
                .in_one_transaction(|core| async move { delivery_status(&core, report).await })
                .await?;
        }
        Ok(CallbackAnswer::Taken(None))
    }

    /// Sends a new code for a sign-in that waits for one (`Didn't get the code?`), or the
    /// first one for a sign-in that asked for another method first.
    pub async fn resend_sign_in(
        &self,
        who: &Authenticated,
        channel: Option<&str>,
        client: &ClientInfo,
    ) -> Result<CodeSent, AppError> {
        if who.session.state != SessionState::TwoFactorRequired {
            return Err(AppError::NotSignedIn);
        }
        let channel = parse_channel(channel)?;
        let code = self
            .core
            .in_one_transaction(move |core| async move {
                let core = &*core;
                let person = &who.account.person;
                let challenge = core
                    .store
                    .challenge(&who.session.id, Purpose::SignIn)
                    .await?;
                let code = match (challenge, &person.two_factor) {
                    (Some(challenge), _) => {
                        let practice = &who.account.practice;
                        resend(core, person, practice, &challenge, channel, client).await?
                    }
                    // The sign-in asked for another method first: the first code goes out now.
                    (None, Some(phone)) => {
                        let channel = channel.unwrap_or(phone.channel);
                        can_carry(
                            channel,
                            phone.extension.is_some(),
                            core.delivery.supports_voice(),
                        )
                        .map_err(cannot_carry)?;
                        check_lock(core, person)?;
                        start_challenge(
                            core,
                            &who.session.id,
                            person,
                            &who.account.practice,
                            Purpose::SignIn,
                            &phone.phone,
                            phone.extension.clone(),
                            channel,
                            client,
                        )
                        .await?
                    }
                    (None, None) => {
                        return Err(AppError::InvalidRequest(Refusal::of(
                            Field::Channel,
                            Reason::MethodNotHeld,
                        )));
                    }
                };
                let until = core.clock.now().plus(PENDING_LIFETIME_SECONDS);
                core.store.set_pending_until(&who.session.id, until).await?;
                Ok(code)
            })
            .await?;
        send_code(&self.core, code, client).await
    }

    /// Starts turning two-factor on (or changing its phone or method): checks the number and
    /// sends a code to it. The current settings hold until that code is confirmed.
    pub async fn start_setup(
        &self,
        who: &Authenticated,
        input: SetupInput,
        client: &ClientInfo,
    ) -> Result<CodeSent, AppError> {
        let core = &self.core;
        let now = core.clock.now();
        // The password given at sign-in counts while the practice's required setup is the
        // only thing the session may do.
        let required_setup = who.session.state == SessionState::TwoFactorSetupRequired;
        if !required_setup && !who.is_reauthenticated(now) {
            return Err(AppError::ReauthenticationRequired);
        }
        let person = &who.account.person;
        let allowed = &who.account.practice.security.allowed_countries;
        let (phone, extension, channel) =
            read_phone_step(&input, allowed, core.delivery.supports_voice())?;
        // A practice that narrowed its methods: the phone's stays for whoever has it, but
        // nobody starts one the practice no longer allows.
        let security = &who.account.practice.security;
        if !security.allows(MethodKind::of_channel(channel)) {
            return Err(AppError::MethodNotAllowed);
        }
        check_lock(core, person)?;
        let phone = &phone;
        let extension = &extension;
        let code = core
            .in_one_transaction(move |core| async move {
                let core = &*core;
                start_challenge(
                    core,
                    &who.session.id,
                    person,
                    &who.account.practice,
                    Purpose::Setup,
                    phone,
                    extension.clone(),
                    channel,
                    client,
                )
                .await
            })
            .await?;
        send_code(core, code, client).await
    }

    /// Sends the setup's code again, possibly by the other method; no new password needed.
    pub async fn resend_setup(
        &self,
        who: &Authenticated,
        channel: Option<&str>,
        client: &ClientInfo,
    ) -> Result<CodeSent, AppError> {
        let channel = parse_channel(channel)?;
        let code = self
            .core
            .in_one_transaction(move |core| async move {
                let core = &*core;
                let challenge = setup_challenge(core, who).await?;
                resend(
                    core,
                    &who.account.person,
                    &who.account.practice,
                    &challenge,
                    channel,
                    client,
                )
                .await
            })
            .await?;
        send_code(&self.core, code, client).await
    }

    /// The code this session waits for (its sign-in's or its setup's), if any.
    pub async fn pending_code(
        &self,
        who: &Authenticated,
        purpose: Purpose,
    ) -> Result<Option<PendingCode>, AppError> {
        let challenge = self.core.store.challenge(&who.session.id, purpose).await?;
        // During a setup or change the person sees the whole number they just typed, so a typo
        // can be seen and mended; a sign-in shows it masked.
        Ok(challenge.map(|c| PendingCode {
            phone: match purpose {
                Purpose::Setup => c.phone.written_out(),
                Purpose::SignIn => c.phone.masked(),
            },
            channel: c.channel,
            method: c.method,
            has_extension: c.extension.is_some(),
            sent_at: c.last_sent_at,
        }))
    }

    /// Confirms the setup with its code: two-factor is on with the new phone and method. A
    /// change (two-factor was on before) notifies the old phone and ends every remembered
    /// device and every other session of the person; a first setup ends nothing.
    ///
    /// The method kept is the one chosen on the phone step, even when the code came by the
    /// other ("Call me instead"), unless `keep` names the one the code came by.
    pub async fn confirm_setup(
        &self,
        who: &Authenticated,
        code: &str,
        keep: Option<&str>,
        client: &ClientInfo,
    ) -> Result<SetupConfirmed, AppError> {
        let keep = parse_channel(keep)?;
        self.core
            .in_one_transaction(move |core| async move {
                let core = &*core;
                let person = &who.account.person;
                let challenge = setup_challenge(core, who).await?;
                // Only a method this setup reached the phone by, refused before the code is
                // judged so that the code still works.
                let method = keep.unwrap_or(challenge.method);
                if method != challenge.method && method != challenge.channel {
                    return Err(AppError::InvalidRequest(Refusal::of(
                        Field::Channel,
                        Reason::MethodNotTried,
                    )));
                }
                // A sign-in held for the practice's required setup finishes with this code.
                let on_right = match who.session.state {
                    SessionState::TwoFactorSetupRequired => OnRightCode::SignIn,
                    _ => OnRightCode::StaySignedIn,
                };
                check_code(core, person, &challenge, code, on_right, client).await?;
                let setting = TwoFactorSetting {
                    channel: method,
                    phone: challenge.phone.clone(),
                    extension: challenge.extension.clone(),
                };
                core.store
                    .set_two_factor(&person.id, Some(&setting), core.clock.now())
                    .await?;
                let masked = setting.phone.masked();
                let detail = format!("{} to {masked}", setting.channel.as_str());
                let kind = MethodKind::of_channel(setting.channel);
                let recovery_codes = match &person.two_factor {
                    Some(old) => {
                        tell(core, person, Some(old), Notice::PhoneChanged).await?;
                        end_devices_and_other_sessions(core, who, client).await?;
                        record(
                            core,
                            Event::own(person, AuditKind::TwoFactorChanged, client, detail),
                        )
                        .await?;
                        None
                    }
                    None => added_method(core, who, kind, &detail, client).await?,
                };
                let code_by = SecondFactor::code_by(challenge.channel);
                let signed_in = finish_required_setup(core, who, code_by, client).await?;
                Ok(SetupConfirmed {
                    setting,
                    signed_in,
                    changed: person.two_factor.is_some(),
                    recovery_codes,
                })
            })
            .await
    }

    /// Turns two-factor off: a notice to the old phone, and every remembered device and every
    /// other session of the person ends.
    pub async fn turn_off(&self, who: &Authenticated, client: &ClientInfo) -> Result<(), AppError> {
        let core = &self.core;
        let person = &who.account.person;
        if !who.is_reauthenticated(core.clock.now()) {
            return Err(AppError::ReauthenticationRequired);
        }
        if who
            .account
            .practice
            .security
            .require_two_factor
            .covers(person.role)
        {
            return Err(AppError::TwoFactorRequiredByPractice);
        }
        core.in_one_transaction(move |core| async move {
            let core = &*core;
            if !person.has_two_factor() {
                return Ok(());
            }
            core.store
                .set_two_factor(&person.id, None, core.clock.now())
                .await?;
            core.store.delete_methods_of(&person.id).await?;
            tell(core, person, person.two_factor.as_ref(), Notice::TurnedOff).await?;
            end_devices_and_other_sessions(core, who, client).await?;
            record(
                core,
                Event::own(person, AuditKind::TwoFactorDisabled, client, String::new()),
            )
            .await
        })
        .await
    }
}

async fn setup_challenge(core: &Core, who: &Authenticated) -> Result<Challenge, AppError> {
    core.store
        .challenge(&who.session.id, Purpose::Setup)
        .await?
        .ok_or(AppError::NoSetupInProgress)
}

/// Reads the phone step's number, extension and method, refusing every value that cannot be
/// used at once, in the body's order.
fn read_phone_step(
    input: &SetupInput,
    allowed: &[Country],
    voice: bool,
) -> Result<(PhoneNumber, Option<String>, Channel), AppError> {
    let mut refused = Vec::new();
    let phone = match PhoneNumber::parse(&input.phone, input.country.as_deref()) {
        Ok(phone) if !phone.is_in(allowed) => {
            Err(AppError::PhoneNotAllowed(Disallowed::CountryNotAllowed))
        }
        parsed => parsed.map_err(|e| phone_error(Field::Phone, e)),
    };
    let phone = phone.map_err(|e| refused.push(e)).ok();
    let extension = parse_extension(input.extension.as_deref().unwrap_or(""))
        .map_err(|e| refused.push(phone_error(Field::Extension, e)))
        .ok();
    let channel = parse_channel(Some(&input.channel))
        .map_err(|e| refused.push(e))
        .ok()
        .map(|c| c.unwrap_or(Channel::Sms));
    if let Some(channel) = channel {
        let has_extension = matches!(extension, Some(Some(_)));
        if let Err(cannot) = can_carry(channel, has_extension, voice) {
            refused.push(cannot_carry(cannot));
        }
    }
    match (phone, extension, channel) {
        (Some(phone), Some(extension), Some(channel)) if refused.is_empty() => {
            Ok((phone, extension, channel))
        }
        _ => Err(AppError::together(refused)),
    }
}

fn parse_channel(raw: Option<&str>) -> Result<Option<Channel>, AppError> {
    raw.map(|c| {
        Channel::parse(c)
            .ok_or_else(|| AppError::InvalidRequest(Refusal::of(Field::Channel, Reason::Channel)))
    })
    .transpose()
}

fn phone_error(field: Field, e: PhoneError) -> AppError {
    match e {
        PhoneError::Invalid | PhoneError::NotDigits => {
            AppError::InvalidPhone(Refusal::of(field, Reason::Phone(e)))
        }
        PhoneError::NotAllowed(why) => AppError::PhoneNotAllowed(why),
    }
}

/// Tells a provider's report to the audit trail of the practice it was for.
async fn delivery_status(core: &Core, report: &DeliveryReport) -> Result<(), AppError> {
    let Some((practice_id, person_id)) = core.store.delivery(&report.provider_id).await? else {
        return Ok(());
    };
    let status: String = report
        .status
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .take(20)
        .collect();
    let code: Option<String> = report
        .error_code
        .as_ref()
        .map(|c| c.chars().filter(char::is_ascii_digit).take(6).collect());
    record(
        core,
        Event {
            practice_id: &practice_id,
            kind: AuditKind::DeliveryStatus,
            actor_id: None,
            subject_id: person_id.as_ref(),
            client: None,
            detail: match code.filter(|c| !c.is_empty()) {
                Some(code) => format!("{status} (provider error {code})"),
                None => status,
            },
        },
    )
    .await
}
