//! Refusals: one closed enum whose variants map one to one onto the API's error codes, with
//! the status each answers, in one place.

use latch_domain::password::WeakPassword;
use latch_domain::phone::{Disallowed, PhoneError};
use latch_domain::practice::Setting;

use crate::ports::{Conflict, StoreError};

/// The field of a form or a body that a refusal is about, so a page can show the refusal
/// beside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    PracticeName,
    Country,
    Email,
    Name,
    Role,
    Password,
    Phone,
    Extension,
    Channel,
    Method,
    Code,
    RequireTwoFactor,
    RememberDeviceDays,
    IdleMinutes,
    AllowedCountries,
    DailySendBudget,
    TimeZone,
    MethodsAllowed,
    Label,
}

impl Field {
    /// The field's name in the API's bodies.
    pub fn name(self) -> &'static str {
        match self {
            Field::PracticeName => "practice_name",
            Field::Country => "country",
            Field::Email => "email",
            Field::Name => "name",
            Field::Role => "role",
            Field::Password => "password",
            Field::Phone => "phone",
            Field::Extension => "extension",
            Field::Channel => "channel",
            Field::Method => "method",
            Field::Code => "code",
            Field::RequireTwoFactor => "require_two_factor",
            Field::RememberDeviceDays => "remember_device_days",
            Field::IdleMinutes => "sign_out_after_idle_minutes",
            Field::AllowedCountries => "allowed_countries",
            Field::DailySendBudget => "daily_send_budget",
            Field::TimeZone => "time_zone",
            Field::MethodsAllowed => "methods_allowed",
            Field::Label => "label",
        }
    }

    pub const ALL: [Field; 19] = [
        Field::PracticeName,
        Field::Country,
        Field::Email,
        Field::Name,
        Field::Role,
        Field::Password,
        Field::Phone,
        Field::Extension,
        Field::Channel,
        Field::Method,
        Field::Code,
        Field::RequireTwoFactor,
        Field::RememberDeviceDays,
        Field::IdleMinutes,
        Field::AllowedCountries,
        Field::DailySendBudget,
        Field::TimeZone,
        Field::MethodsAllowed,
        Field::Label,
    ];
}

/// Why a value was refused. What a person reads of each is chosen by the web layer
/// (`latch_web::words`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// Not a practice's name of 1 to 100 characters.
    PracticeName,
    /// Not a country latch knows.
    Country,
    /// Not a person's name of 1 to 100 characters.
    Name,
    /// Longer than any email address (254 characters).
    EmailTooLong,
    /// Not a phone number, or one with letters in it (of the number or of its extension).
    Phone(PhoneError),
    /// An extension, where a text cannot reach one.
    ExtensionWithText,
    /// A voice call, where this installation has none.
    VoiceUnavailable,
    /// Neither `sms` nor `voice`.
    Channel,
    /// A setup's method to keep that is neither the one chosen nor the one its code came by.
    MethodNotTried,
    /// Not a two-factor method latch knows.
    Method,
    /// A method the person does not hold.
    MethodNotHeld,
    /// A method's label longer than 64 characters, or with control characters in it.
    Label,
    /// Something that needs two-factor on, asked while it is off.
    TwoFactorOff,
    /// An application without a name of 1 to 100 characters.
    ApplicationName,
    /// An application registered without a redirect URI.
    RedirectUriNeeded,
    /// An application's address, refused as the domain says why.
    ApplicationUri {
        uri: String,
        refused: latch_domain::application::UriRefused,
    },
    /// A public application has no secret to rotate.
    PublicApplication,
    /// A security setting outside its bounds.
    Setting(Setting),
    /// Allowed countries that are not all countries latch knows.
    AllowedCountries,
    /// No time zone chosen, for a country that has more than one.
    TimeZoneNeeded(latch_domain::country::Country),
    /// A query parameter of the web layer's that is not one, by its name.
    Parameter(&'static str),
}

/// A refusal of a value: why, and the field it is about when there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub field: Option<Field>,
    pub reason: Reason,
}

impl Refusal {
    pub fn of(field: Field, reason: Reason) -> Self {
        Refusal {
            field: Some(field),
            reason,
        }
    }
}

impl From<Reason> for Refusal {
    fn from(reason: Reason) -> Self {
        Refusal {
            field: None,
            reason,
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.field {
            Some(field) => write!(f, "{}: {:?}", field.name(), self.reason),
            None => write!(f, "{:?}", self.reason),
        }
    }
}

/// Every refusal of one answer, so a form can show each problem beside its field at once;
/// never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusals(Vec<Refusal>);

impl Refusals {
    /// `None` when there is nothing to refuse.
    pub fn of(refusals: Vec<Refusal>) -> Option<Self> {
        (!refusals.is_empty()).then_some(Refusals(refusals))
    }

    pub fn iter(&self) -> impl Iterator<Item = &Refusal> {
        self.0.iter()
    }
}

impl std::fmt::Display for Refusals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let each: Vec<String> = self.0.iter().map(Refusal::to_string).collect();
        f.write_str(&each.join("; "))
    }
}

impl From<Refusal> for Refusals {
    fn from(refusal: Refusal) -> Self {
        Refusals(vec![refusal])
    }
}

/// Why a request was answered as it was. What a person reads of each is chosen by the web
/// layer (`latch_web::words`); this type's `Display` is the short account a log or a developer
/// reads.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("invalid credentials")]
    InvalidCredentials,
    #[error("not signed in")]
    NotSignedIn,
    #[error("re-authentication required")]
    ReauthenticationRequired,
    #[error("rate limited ({throttle:?}) for {retry_after} s")]
    RateLimited {
        retry_after: i64,
        throttle: Throttle,
    },
    #[error("forbidden")]
    Forbidden,
    #[error("not found")]
    NotFound,
    #[error("already set up")]
    AlreadySetUp,
    #[error("email taken")]
    EmailTaken,
    #[error("{0}")]
    WeakPassword(WeakPassword),
    #[error("not an email address")]
    InvalidEmail,
    #[error("not a role")]
    InvalidRole,
    #[error("{0}")]
    InvalidSetting(Refusals),
    #[error("{0}")]
    InvalidRequest(Refusal),
    /// A wrong code; or, `malformed`, something that cannot be a code: not a guess, so it
    /// counts toward nothing. `next_wrong_locks` is what one more wrong code would do.
    #[error("invalid code ({attempts_left} attempts left, malformed: {malformed})")]
    InvalidCode {
        attempts_left: i64,
        malformed: bool,
        next_wrong_locks: latch_domain::two_factor::LockAfterFailure,
        /// Which code it was, for the words that say what such a code looks like.
        of: CodeOf,
    },
    #[error("code expired")]
    CodeExpired,
    /// A passkey's answer that does not stand: not of this ceremony (unknown, used, expired),
    /// not from this site, without the user verified, a signature that fails, a counter gone
    /// back, a credential that is someone's already.
    #[error("invalid passkey credential")]
    InvalidCredential,
    /// Passkeys cannot work here: the public URL is an IP address, which browsers refuse.
    #[error("passkeys are unavailable at this address")]
    PasskeysUnavailable,
    /// A right password of a person the practice deactivated.
    #[error("account deactivated")]
    AccountDeactivated,
    /// The practice's last active owner cannot be deactivated or demoted.
    #[error("the last active owner")]
    LastOwner,
    /// A link's token that is unknown, used or expired: all three alike.
    #[error("invalid token")]
    InvalidToken,
    #[error("two-factor locked")]
    TwoFactorLocked,
    #[error("a send failed: {0}")]
    DeliveryFailed(crate::delivery::DeliveryError),
    #[error("{0}")]
    InvalidPhone(Refusal),
    #[error("a phone that may not receive codes: {0:?}")]
    PhoneNotAllowed(Disallowed),
    #[error("no setup in progress")]
    NoSetupInProgress,
    /// A two-factor method the practice does not let its people add.
    #[error("a method the practice does not allow")]
    MethodNotAllowed,
    #[error("two-factor required by the practice")]
    TwoFactorRequiredByPractice,
    /// The database cannot serve now; why, for the log.
    #[error("the database is unavailable")]
    Unavailable(#[source] StoreError),
    #[error("internal failure")]
    /// A failure of latch itself; its cause, for the log.
    Internal(#[source] crate::ports::Cause),
    /// Several values of one request refused at once, each about its own field, in the order
    /// of the body (`AppError::together`): a form shows every problem in one answer. The API
    /// answers with the first one's code and status, and every one in `fields`.
    #[error("{}", sentences(.0))]
    Several(Vec<AppError>),
}

/// One refusal of a value in an answer, about a field: a reason of its own, or an answer
/// that is itself about the field.
#[derive(Debug, Clone, Copy)]
pub enum Refused<'a> {
    Value(&'a Refusal),
    About(Field, &'a AppError),
}

fn sentences(all: &[AppError]) -> String {
    let each: Vec<String> = all.iter().map(AppError::to_string).collect();
    each.join("; ")
}

impl AppError {
    /// A failure of the store or of latch, not an answer to the request: a unit of work that
    /// ends in one writes nothing.
    pub fn is_failure(&self) -> bool {
        matches!(self, AppError::Unavailable(_) | AppError::Internal(_))
    }

    /// The database ended the work to let another finish; running it again succeeds.
    pub(crate) fn is_contended(&self) -> bool {
        matches!(self, AppError::Unavailable(StoreError::Contended(_)))
    }

    /// The refusals gathered for one request, as one answer: the only one as itself, several
    /// as `Several`. Never called with none.
    pub fn together(mut refused: Vec<AppError>) -> AppError {
        match refused.len() {
            0 => AppError::Internal("a request was refused for no reason".into()),
            1 => refused.remove(0),
            _ => AppError::Several(refused),
        }
    }

    /// Each refusal of a value this answer holds, with its field: several for values refused
    /// together, one for another value, none for what is not a refusal of a value.
    pub fn refusals(&self) -> Vec<Refused<'_>> {
        let about = |field| vec![Refused::About(field, self)];
        match self {
            AppError::InvalidSetting(r) => r.iter().map(Refused::Value).collect(),
            AppError::InvalidRequest(r) | AppError::InvalidPhone(r) => vec![Refused::Value(r)],
            AppError::InvalidEmail | AppError::EmailTaken => about(Field::Email),
            AppError::WeakPassword(_) => about(Field::Password),
            AppError::InvalidRole => about(Field::Role),
            AppError::PhoneNotAllowed(_) => about(Field::Phone),
            AppError::Several(all) => all.iter().flat_map(AppError::refusals).collect(),
            _ => Vec::new(),
        }
    }

    /// The first of several refusals, or this one.
    fn leading(&self) -> &AppError {
        match self {
            AppError::Several(all) => all.first().map_or(self, AppError::leading),
            _ => self,
        }
    }

    /// Seconds to wait, for throttles.
    pub fn retry_after(&self) -> Option<i64> {
        match self {
            AppError::RateLimited { retry_after, .. } => Some((*retry_after).max(1)),
            _ => None,
        }
    }

    /// The stable code of the API contract.
    pub fn code(&self) -> &'static str {
        match self.leading() {
            AppError::InvalidCredentials => "invalid_credentials",
            AppError::NotSignedIn => "not_signed_in",
            AppError::ReauthenticationRequired => "reauthentication_required",
            AppError::RateLimited { .. } => "rate_limited",
            AppError::Forbidden => "forbidden",
            AppError::NotFound => "not_found",
            AppError::AlreadySetUp => "already_set_up",
            AppError::EmailTaken => "email_taken",
            AppError::WeakPassword(_) => "weak_password",
            AppError::InvalidEmail => "invalid_email",
            AppError::InvalidRole => "invalid_role",
            AppError::InvalidSetting(_) => "invalid_setting",
            AppError::InvalidRequest(_) => "invalid_request",
            AppError::InvalidCode { .. } => "invalid_code",
            AppError::CodeExpired => "code_expired",
            AppError::InvalidCredential => "invalid_credential",
            AppError::PasskeysUnavailable => "method_not_allowed",
            AppError::InvalidToken => "invalid_token",
            AppError::AccountDeactivated => "account_deactivated",
            AppError::LastOwner => "last_owner",
            AppError::TwoFactorLocked => "two_factor_locked",
            AppError::DeliveryFailed(_) => "delivery_failed",
            AppError::InvalidPhone(_) => "invalid_phone",
            AppError::PhoneNotAllowed(_) => "phone_not_allowed",
            AppError::NoSetupInProgress => "no_setup_in_progress",
            AppError::MethodNotAllowed => "method_not_allowed",
            AppError::TwoFactorRequiredByPractice => "two_factor_required_by_practice",
            AppError::Unavailable(_) => "unavailable",
            AppError::Internal(_) => "internal",
            AppError::Several(_) => "invalid_request",
        }
    }

    /// The HTTP status the API answers with.
    pub fn status(&self) -> u16 {
        match self.leading() {
            AppError::InvalidCredentials | AppError::NotSignedIn => 401,
            AppError::ReauthenticationRequired
            | AppError::Forbidden
            | AppError::AccountDeactivated
            | AppError::TwoFactorLocked => 403,
            AppError::DeliveryFailed(_) => 502,
            AppError::NoSetupInProgress | AppError::TwoFactorRequiredByPractice => 409,
            AppError::InvalidCode { .. }
            | AppError::CodeExpired
            | AppError::InvalidCredential
            | AppError::PasskeysUnavailable
            | AppError::InvalidToken
            | AppError::InvalidPhone(_)
            | AppError::MethodNotAllowed
            | AppError::PhoneNotAllowed(_) => 400,
            AppError::RateLimited { .. } => 429,
            AppError::NotFound => 404,
            AppError::AlreadySetUp | AppError::EmailTaken | AppError::LastOwner => 409,
            AppError::WeakPassword(_)
            | AppError::InvalidEmail
            | AppError::InvalidRole
            | AppError::InvalidSetting(_)
            | AppError::InvalidRequest(_)
            | AppError::Several(_) => 400,
            AppError::Unavailable(_) => 503,
            AppError::Internal(_) => 500,
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            e @ (StoreError::Unavailable(_) | StoreError::Contended(_)) => AppError::Unavailable(e),
            StoreError::Conflict(Conflict::EmailTaken) => AppError::EmailTaken,
            StoreError::Conflict(Conflict::AlreadySetUp) => AppError::AlreadySetUp,
            StoreError::Conflict(Conflict::CredentialTaken) => AppError::InvalidCredential,
            StoreError::Conflict(Conflict::Other(what)) => {
                AppError::Internal(format!("unexpected conflict: {what}").into())
            }
            e @ StoreError::Other(_) => AppError::Internal(e.into()),
        }
    }
}

/// Which kind of code a refusal of one is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeOf {
    /// A code sent by text or call: 8 digits.
    Sent,
    /// An authenticator app's: 6 digits.
    App,
    /// A recovery code: `xxxxx-xxxxx`.
    Recovery,
    /// Something no method takes, with no method named.
    Unknown,
}

/// Why a request must wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Throttle {
    /// Too many attempts or sends: a limit or a delay.
    Attempts,
    /// A code went out moments ago; the next may go after the wait.
    ResendWait,
    /// The person's two-factor step is locked for a while after wrong codes.
    CodeLock,
    /// The practice's daily budget of texts and calls is spent.
    SendBudget,
}

impl AppError {
    /// Too many attempts: wait `retry_after` seconds.
    pub fn rate_limited(retry_after: i64) -> Self {
        AppError::RateLimited {
            retry_after,
            throttle: Throttle::Attempts,
        }
    }

    /// A code was sent moments ago: the next after `retry_after` seconds.
    pub fn resend_wait(retry_after: i64) -> Self {
        AppError::RateLimited {
            retry_after,
            throttle: Throttle::ResendWait,
        }
    }

    /// The person's two-factor step is locked for `retry_after` seconds more.
    pub fn code_locked(retry_after: i64) -> Self {
        AppError::RateLimited {
            retry_after,
            throttle: Throttle::CodeLock,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;

    #[test]
    fn a_store_failure_keeps_its_cause_beneath_the_answer() {
        let beneath = std::io::Error::other("the disk is full");
        let e = AppError::from(StoreError::Other(beneath.into()));
        assert_eq!(e.status(), 500);
        let store = e.source().expect("the store's failure");
        assert_eq!(store.to_string(), "database error");
        assert_eq!(
            store.source().map(ToString::to_string).as_deref(),
            Some("the disk is full")
        );

        let e = AppError::from(StoreError::Unavailable("pool timed out".into()));
        assert_eq!(e.code(), "unavailable");
        assert!(e.source().and_then(|s| s.source()).is_some());
    }
}
