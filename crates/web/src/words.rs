//! What a person reads of every answer latch gives: the API's `message`s, the pages' refusals
//! beside their fields, the console's, and the times on pages. One place, so another language
//! is one module.

pub mod audit;
pub mod times;

use latch_app::delivery::DeliveryError;
use latch_app::{AppError, CodeOf, Field, Reason, Refusal, Refused, Throttle};
use latch_domain::application::UriRefused;
use latch_domain::password::{MAX_LENGTH, MIN_LENGTH, WeakPassword};
use latch_domain::phone::{Disallowed, PhoneError};
use latch_domain::practice::{
    DAILY_SEND_BUDGET_MAX, IDLE_MINUTES_MAX, IDLE_MINUTES_MIN, REMEMBER_DEVICE_DAYS_MAX, Setting,
};
use latch_domain::session::SecondFactor;
use latch_domain::two_factor::{Channel, LockAfterFailure};

/// What a reset request answers, the address known or not.
pub const RESET_ASKED: &str =
    "If an account uses that email, we sent it a link to choose a new password. Check your email.";

/// The sentence, or the sentences, a person reads of `e`.
pub fn refusal(e: &AppError) -> String {
    let said = match e {
        AppError::InvalidCredentials => "The email or password is not correct.",
        AppError::NotSignedIn => "Please sign in.",
        AppError::ReauthenticationRequired => "Please re-enter your password to continue.",
        AppError::RateLimited {
            throttle: Throttle::Attempts,
            retry_after,
        } => {
            return format!(
                "Too many attempts. Please wait {} and try again.",
                wait(*retry_after)
            );
        }
        AppError::RateLimited {
            throttle: Throttle::ResendWait,
            retry_after,
        } => {
            return format!(
                "We just sent a code. You can ask for another in {}.",
                wait(*retry_after)
            );
        }
        AppError::RateLimited {
            throttle: Throttle::CodeLock,
            retry_after,
        } => return code_locked(&format!("for {}", wait(*retry_after))),
        AppError::RateLimited {
            throttle: Throttle::SendBudget,
            ..
        } => {
            "Your practice has reached its daily limit of texts and calls. \
             Please try again later, or ask your practice."
        }
        AppError::Forbidden => "You don't have permission to do that.",
        AppError::NotFound => "That was not found.",
        AppError::AlreadySetUp => "This installation is already set up. Please sign in.",
        AppError::EmailTaken => "That email address is already in use.",
        AppError::AccountDeactivated => {
            "Your account at this practice has been deactivated; ask the practice."
        }
        AppError::LastOwner => {
            "The practice needs at least one active owner. Make someone else an owner first."
        }
        AppError::InvalidToken => {
            "This link has expired or was already used. Ask for a new one and use the newest email."
        }
        AppError::InvalidCode {
            malformed: true,
            of,
            ..
        } => match of {
            CodeOf::Sent => "Codes have 8 digits. Check the latest message and enter its code.",
            CodeOf::App => {
                "Codes from an authenticator app have 6 digits. Enter the one it shows now."
            }
            CodeOf::Recovery => {
                "Recovery codes have ten letters and digits, like 7hk2m-q9xwp. Enter one you saved."
            }
            CodeOf::Unknown => {
                "Enter the 8-digit code we sent, the 6 digits your authenticator app shows, or \
                 one of your recovery codes."
            }
        },
        AppError::InvalidCode {
            next_wrong_locks,
            of,
            ..
        } => {
            let wrong = match of {
                CodeOf::App => {
                    "That code is not correct. Enter the code your app shows now; if it keeps \
                     failing, check that your phone's clock is set automatically."
                }
                CodeOf::Recovery => {
                    "That recovery code is not correct, or it was used already: each works once."
                }
                CodeOf::Sent | CodeOf::Unknown => {
                    "That code is not correct. Check the latest message and try again."
                }
            };
            return format!("{wrong}{}", lock_warning(*next_wrong_locks));
        }
        AppError::CodeExpired => {
            "This code has expired or can't be used any more. Ask for a new code."
        }
        AppError::InvalidCredential => {
            "That passkey didn't work, or the request timed out. Please try again, or use \
             another method."
        }
        AppError::PasskeysUnavailable => {
            "Passkeys can't be used at this address. Open latch by its name (for example \
             localhost), not by a number."
        }
        AppError::TwoFactorLocked => {
            "Too many wrong codes. Two-factor sign-in is locked until an owner or manager of \
             your practice unlocks it."
        }
        AppError::NoSetupInProgress => {
            "There is no two-factor setup in progress. Please start again."
        }
        AppError::MethodNotAllowed => {
            "Your practice does not allow this two-factor method. Choose another one."
        }
        AppError::TwoFactorRequiredByPractice => {
            "Your practice requires two-factor authentication, so it can't be turned off. \
             You can change your phone or method instead."
        }
        AppError::Unavailable(_) => {
            "latch cannot reach its database right now. Please try again in a moment."
        }
        AppError::Internal(_) => "Something went wrong on our side. Please try again.",
        AppError::WeakPassword(weak) => return weak_password(weak),
        AppError::InvalidEmail => "Enter an email address like name@example.com.",
        AppError::InvalidRole => "The role must be owner, manager, staff or client.",
        AppError::PhoneNotAllowed(why) => disallowed(*why),
        AppError::DeliveryFailed(failure) => delivery(*failure),
        AppError::InvalidSetting(refusals) => {
            let each: Vec<String> = refusals.iter().map(reason_of).collect();
            return each.join(" ");
        }
        AppError::InvalidRequest(refused) | AppError::InvalidPhone(refused) => {
            return reason_of(refused);
        }
        AppError::Several(all) => {
            let each: Vec<String> = all.iter().map(refusal).collect();
            return each.join(" ");
        }
    };
    said.to_owned()
}

/// What the person waiting for a code reads when it did not go out.
pub fn delivery(failure: DeliveryError) -> &'static str {
    match failure {
        DeliveryError::ProviderDown => {
            "Our text and call provider isn't answering right now. Please try again in a moment."
        }
        DeliveryError::NotKept => "We couldn't send the message just now. Please try again.",
        DeliveryError::CannotText => {
            "We couldn't text this number: it doesn't look like a mobile number that can \
             receive texts. Try a voice call, or check the number."
        }
        DeliveryError::StoppedTexts => {
            "This number has stopped texts from us (it replied STOP). We can call it instead."
        }
        DeliveryError::Unreachable => {
            "We can't reach this number or country with this method right now. Try the other \
             method, or another number."
        }
        DeliveryError::ExtensionWithText => {
            "Texts can't reach a number with an extension; use a voice call."
        }
        DeliveryError::VoiceUnavailable => {
            "Voice calls are not available. Please choose a text message."
        }
        DeliveryError::Refused => {
            "We couldn't send your code to this number. Try the other method, or check the \
             number."
        }
    }
}

fn reason_of(refused: &Refusal) -> String {
    reason(&refused.reason)
}

/// What a person reads of a value refused for `why`.
pub fn reason(why: &Reason) -> String {
    let said = match why {
        Reason::PracticeName => "Enter the practice's name (1 to 100 characters).",
        Reason::Method => "Choose a two-factor method: passkey, totp, sms or voice.",
        Reason::MethodNotHeld => "Choose one of the two-factor methods you have set up.",
        Reason::Label => "Give it a name of at most 64 characters.",
        Reason::TwoFactorOff => {
            "Turn on two-factor authentication first: recovery codes stand in for a method \
             you have."
        }
        Reason::Country => "Choose a country from the list (a two-letter code such as US).",
        Reason::Name => "Enter a name of 1 to 100 characters.",
        Reason::EmailTooLong => "An email address has at most 254 characters.",
        Reason::Phone(PhoneError::Invalid) => {
            "Enter a phone number, with its country code (like +1 415 555 0123) or with the \
             country chosen beside it."
        }
        Reason::Phone(PhoneError::NotDigits) => {
            "Phone numbers can only have digits, spaces, ( ) - and +."
        }
        Reason::Phone(PhoneError::NotAllowed(why)) => disallowed(*why),
        Reason::ExtensionWithText => {
            "Texts can't reach an extension. Choose a voice call, or use a number without an \
             extension."
        }
        Reason::VoiceUnavailable => "Voice calls are not available. Choose a text message.",
        Reason::Channel => "The method must be sms or voice.",
        Reason::MethodNotTried => {
            "Keep the method you chose or the one your code came by; to use another, start \
             the setup again."
        }
        Reason::Setting(setting) => return setting_bounds(*setting),
        Reason::AllowedCountries => {
            "Allowed countries must be two-letter country codes, such as US."
        }
        Reason::TimeZoneNeeded(country) => {
            return format!(
                "{} has more than one time zone. Choose the practice's.",
                country.name()
            );
        }
        Reason::Parameter(name) => return parameter(name),
        Reason::ApplicationName => "Give the application a name of 1 to 100 characters.",
        Reason::RedirectUriNeeded => "Give at least one --redirect-uri.",
        Reason::ApplicationUri { uri, refused } => {
            return format!("{uri}: {}", uri_refused(*refused));
        }
        Reason::PublicApplication => {
            "A public application has no secret: it proves itself with PKCE alone."
        }
    };
    said.to_owned()
}

/// How a session was signed in, as My Profile's list of sessions says it.
pub fn second_factor(proved: Option<SecondFactor>) -> &'static str {
    match proved {
        None => "with your password",
        Some(SecondFactor::TextedCode) => "with a texted code",
        Some(SecondFactor::CalledCode) => "with a code by phone call",
        Some(SecondFactor::RememberedBrowser) => "with a remembered browser",
        Some(SecondFactor::AppCode) => "with an authenticator app",
        Some(SecondFactor::RecoveryCode) => "with a recovery code",
        Some(SecondFactor::Passkey) => "with a passkey",
        Some(SecondFactor::PasskeyAlone) => "with a passkey alone",
    }
}

fn uri_refused(refused: UriRefused) -> &'static str {
    match refused {
        UriRefused::NotAUrl => "not an absolute URL, such as https://app.example.com/callback.",
        UriRefused::NotHttps => "use https://, or http:// only on this machine (localhost).",
        UriRefused::Fragment => "an address with a #fragment cannot be redirected to.",
        UriRefused::Wildcard => "addresses are matched exactly; a * is not allowed.",
        UriRefused::Credentials => "an address cannot carry a user name or password.",
    }
}

fn weak_password(weak: &WeakPassword) -> String {
    match weak {
        WeakPassword::TooShort => format!(
            "Use at least {MIN_LENGTH} characters. A few unrelated words make a strong password \
             that is easy to remember."
        ),
        WeakPassword::TooLong => format!("Use at most {MAX_LENGTH} characters."),
        WeakPassword::Guessable { hint } => {
            let hint = hint.as_deref().map(|h| format!("{h} ")).unwrap_or_default();
            format!(
                "This password is too easy to guess. {hint}Add another word or two that are not \
                 about you or your practice."
            )
        }
    }
}

fn disallowed(why: Disallowed) -> &'static str {
    match why {
        Disallowed::ChargedOrShared => {
            "This number can't receive sign-in codes (it is a premium-rate, shared-cost or \
             service number). Use a mobile or home number."
        }
        Disallowed::TollFree => {
            "Toll-free numbers can't receive sign-in codes. Use a mobile or home number."
        }
        Disallowed::NoCountry => {
            "This number belongs to no country and can't receive sign-in codes."
        }
        Disallowed::CountryNotAllowed => {
            "Your practice doesn't allow phone numbers from this country. Use another number \
             or ask your practice."
        }
    }
}

fn setting_bounds(setting: Setting) -> String {
    match setting {
        Setting::RequireTwoFactor => {
            "Require two-factor must be off, staff or staff_and_clients.".to_owned()
        }
        Setting::RememberDeviceDays => {
            format!("Remember browsers for 0 to {REMEMBER_DEVICE_DAYS_MAX} days (0 means never).")
        }
        Setting::IdleMinutes => format!(
            "Sign out after {IDLE_MINUTES_MIN} to {IDLE_MINUTES_MAX} minutes of inactivity."
        ),
        Setting::AllowedCountries => "Allow at least one country.".to_owned(),
        Setting::MethodsAllowed => {
            "Allow at least one two-factor method: passkey, totp, sms or voice.".to_owned()
        }
        Setting::DailySendBudget => format!(
            "The daily send budget must be between 1 and {}.",
            thousands(DAILY_SEND_BUDGET_MAX)
        ),
        Setting::TimeZone => {
            "Choose a time zone from the list, or give its IANA name (America/Los_Angeles)."
                .to_owned()
        }
    }
}

/// 100000 as "100,000".
/// "Harbor Practice", "Harbor Practice and Billing", "A, B and C"; none for none.
pub(crate) fn and_list(names: &[String]) -> Option<String> {
    match names {
        [] => None,
        [one] => Some(one.clone()),
        [rest @ .., last] => Some(format!("{} and {last}", rest.join(", "))),
    }
}

pub(crate) fn thousands(n: u32) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

/// A query parameter of the web layer's that is not one.
fn parameter(name: &str) -> String {
    match name {
        "limit" => "limit must be a whole number from 1 to 500.".to_owned(),
        "from" | "to" => format!("{name} must be a time like 2026-11-27T09:00:00Z."),
        "two_factor" => "two_factor must be on or off.".to_owned(),
        "kind" => "kind must be a kind of audit event, such as sign_in.failed.".to_owned(),
        "before" => "before must be an event id.".to_owned(),
        other => format!("{other} is not valid here."),
    }
}

/// Each value `e` refuses, with its field and what a person reads of it; none when `e`
/// refuses no value.
pub fn field_refusals(e: &AppError) -> Vec<(Option<Field>, String)> {
    e.refusals()
        .into_iter()
        .map(|refused| match refused {
            Refused::Value(r) => (r.field, reason_of(r)),
            Refused::About(field, e) => (Some(field), refusal(e)),
        })
        .collect()
}

/// "3 seconds", "1 minute", "15 minutes".
pub fn wait(seconds: i64) -> String {
    let seconds = seconds.max(1);
    if seconds < 60 {
        return format!("{seconds} second{}", if seconds == 1 { "" } else { "s" });
    }
    let minutes = (seconds + 59) / 60;
    format!("{minutes} minute{}", if minutes == 1 { "" } else { "s" })
}

/// A lock after wrong codes, `until` ("for 15 minutes", "until 7:08 PM") and who can end it.
pub fn code_locked(until: &str) -> String {
    format!(
        "Too many wrong codes. Two-factor sign-in is locked {until}. An owner or manager of your \
         practice can unlock it sooner."
    )
}

/// A resend that worked, `at` ("6:33 PM").
pub fn code_resent(at: &str) -> String {
    format!("We sent a new code at {at}. Older codes no longer work.")
}

/// What one more wrong code would do, when it would lock: said before it happens.
fn lock_warning(next: LockAfterFailure) -> String {
    match next {
        LockAfterFailure::None => String::new(),
        LockAfterFailure::For { seconds } => format!(
            " One more wrong code locks two-factor sign-in for {}.",
            wait(seconds)
        ),
        LockAfterFailure::UntilUnlocked => " One more wrong code locks two-factor sign-in until \
             an owner or manager of your practice unlocks it."
            .to_owned(),
    }
}

/// A password refusal in a form's words: `wrong` for a wrong one, app's for a delay.
pub(crate) fn password_refusal(e: &AppError, wrong: &str) -> String {
    match e {
        AppError::InvalidCredentials => wrong.to_owned(),
        other => refusal(other),
    }
}

/// What the code page says of a code it refused: how many tries are left, if any, and what
/// one more wrong code would do.
pub(crate) fn code_refusal(e: &AppError) -> String {
    match e {
        AppError::InvalidCode {
            malformed: false,
            attempts_left,
            next_wrong_locks,
            of: CodeOf::Sent,
        } => {
            let tries = match attempts_left {
                0 => "That code is not correct, and it can't be tried again. Ask for a new code \
                      below."
                    .to_owned(),
                1 => "That code is not correct. Check the latest message; you can try it once \
                      more."
                    .to_owned(),
                n => format!(
                    "That code is not correct. Check the latest message; you can try it {n} more \
                     times."
                ),
            };
            format!("{tries}{}", lock_warning(*next_wrong_locks))
        }
        _ => refusal(e),
    }
}

/// What the code page says after a code could not go out, and the method it then offers
/// first (after STOP or a number that can't take texts, a call).
pub(crate) fn delivery_failure(failed: Option<&str>) -> (Option<String>, Option<Channel>) {
    let (message, prefer) = match failed {
        None => return (None, None),
        Some("voice") => (
            "We couldn't text your phone. We can call it instead: choose Call me instead below.",
            Some(Channel::Voice),
        ),
        Some("sms") => (
            "We couldn't call your phone. We can text it instead: choose Text me instead below.",
            Some(Channel::Sms),
        ),
        Some(_) => (
            "We couldn't send your code just now. Try again, or choose the other method below.",
            None,
        ),
    };
    (Some(message.to_owned()), prefer)
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_are_listed_as_a_sentence_says_them() {
        let names = |list: &[&str]| list.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>();
        assert_eq!(super::and_list(&names(&[])), None);
        assert_eq!(
            super::and_list(&names(&["Harbor"])).as_deref(),
            Some("Harbor")
        );
        assert_eq!(
            super::and_list(&names(&["A", "B", "C"])).as_deref(),
            Some("A, B and C")
        );
    }

    use latch_app::ports::StoreError;
    use latch_app::{AppError, Throttle};

    use super::*;

    #[test]
    fn waits_are_said_in_words_a_person_reads() {
        assert_eq!(wait(1), "1 second");
        assert_eq!(wait(42), "42 seconds");
        assert_eq!(wait(60), "1 minute");
        assert_eq!(wait(61), "2 minutes");
        assert_eq!(wait(900), "15 minutes");
    }

    #[test]
    fn a_rate_limit_says_how_long_to_wait() {
        assert_eq!(
            refusal(&AppError::rate_limited(30)),
            "Too many attempts. Please wait 30 seconds and try again."
        );
    }

    /// Every answer's status, code and what a person reads of it, as one snapshot.
    #[test]
    fn every_refusal_says_what_a_person_reads() {
        let all = [
            AppError::InvalidCredentials,
            AppError::NotSignedIn,
            AppError::ReauthenticationRequired,
            AppError::rate_limited(900),
            AppError::Forbidden,
            AppError::NotFound,
            AppError::AlreadySetUp,
            AppError::EmailTaken,
            AppError::WeakPassword(WeakPassword::Guessable { hint: None }),
            AppError::InvalidEmail,
            AppError::InvalidRole,
            AppError::InvalidSetting(
                Refusal::of(Field::IdleMinutes, Reason::Setting(Setting::IdleMinutes)).into(),
            ),
            AppError::InvalidRequest(Refusal::of(Field::Channel, Reason::Channel)),
            AppError::InvalidCode {
                attempts_left: 4,
                malformed: false,
                next_wrong_locks: LockAfterFailure::None,
                of: CodeOf::Sent,
            },
            AppError::InvalidCode {
                attempts_left: 4,
                malformed: false,
                next_wrong_locks: LockAfterFailure::For { seconds: 900 },
                of: CodeOf::Sent,
            },
            AppError::InvalidCode {
                attempts_left: 5,
                malformed: true,
                next_wrong_locks: LockAfterFailure::None,
                of: CodeOf::Sent,
            },
            AppError::InvalidCode {
                attempts_left: 9,
                malformed: true,
                next_wrong_locks: LockAfterFailure::None,
                of: CodeOf::App,
            },
            AppError::InvalidCode {
                attempts_left: 9,
                malformed: false,
                next_wrong_locks: LockAfterFailure::None,
                of: CodeOf::App,
            },
            AppError::InvalidCode {
                attempts_left: 9,
                malformed: true,
                next_wrong_locks: LockAfterFailure::None,
                of: CodeOf::Recovery,
            },
            AppError::InvalidCode {
                attempts_left: 9,
                malformed: false,
                next_wrong_locks: LockAfterFailure::For { seconds: 900 },
                of: CodeOf::Recovery,
            },
            AppError::InvalidCode {
                attempts_left: 9,
                malformed: true,
                next_wrong_locks: LockAfterFailure::None,
                of: CodeOf::Unknown,
            },
            AppError::resend_wait(26),
            AppError::code_locked(840),
            AppError::CodeExpired,
            AppError::TwoFactorLocked,
            AppError::DeliveryFailed(DeliveryError::CannotText),
            AppError::InvalidPhone(Refusal::of(
                Field::Phone,
                Reason::Phone(PhoneError::NotDigits),
            )),
            AppError::PhoneNotAllowed(Disallowed::TollFree),
            AppError::NoSetupInProgress,
            AppError::MethodNotAllowed,
            AppError::TwoFactorRequiredByPractice,
            AppError::RateLimited {
                retry_after: 3600,
                throttle: Throttle::SendBudget,
            },
            AppError::Unavailable(StoreError::Unavailable("a detail nobody sees".into())),
            AppError::Internal("a detail nobody sees".into()),
        ];
        let table: Vec<String> = all
            .iter()
            .map(|e| format!("{} {} {}", e.status(), e.code(), refusal(e)))
            .collect();
        insta::assert_snapshot!(table.join("\n"));
    }

    #[test]
    fn the_code_page_says_what_the_next_wrong_code_does() {
        let wrong = |attempts_left, next_wrong_locks| {
            code_refusal(&AppError::InvalidCode {
                attempts_left,
                malformed: false,
                next_wrong_locks,
                of: CodeOf::Sent,
            })
        };
        assert_eq!(
            wrong(4, LockAfterFailure::None),
            "That code is not correct. Check the latest message; you can try it 4 more times."
        );
        assert!(wrong(1, LockAfterFailure::For { seconds: 900 }).ends_with(
            "try it once more. One more wrong code locks two-factor sign-in for \
                            15 minutes."
        ));
        assert!(wrong(0, LockAfterFailure::UntilUnlocked).contains(
            "can't be tried again. Ask for a new code below. One more wrong code locks \
             two-factor sign-in until an owner or manager of your practice unlocks it."
        ));
    }

    /// Every reason a value is refused for, as a person reads it, as one snapshot.
    #[test]
    fn every_reason_says_what_a_person_reads() {
        let settings = [
            Setting::RequireTwoFactor,
            Setting::RememberDeviceDays,
            Setting::IdleMinutes,
            Setting::AllowedCountries,
            Setting::DailySendBudget,
            Setting::TimeZone,
        ];
        let disallowed = [
            Disallowed::ChargedOrShared,
            Disallowed::TollFree,
            Disallowed::NoCountry,
            Disallowed::CountryNotAllowed,
        ];
        let reasons = [
            Reason::PracticeName,
            Reason::Country,
            Reason::Name,
            Reason::EmailTooLong,
            Reason::Phone(PhoneError::Invalid),
            Reason::Phone(PhoneError::NotDigits),
            Reason::ExtensionWithText,
            Reason::VoiceUnavailable,
            Reason::Channel,
            Reason::MethodNotTried,
            Reason::ApplicationName,
            Reason::RedirectUriNeeded,
            Reason::PublicApplication,
            Reason::AllowedCountries,
            Reason::TimeZoneNeeded(latch_domain::country::Country::parse("CA").unwrap()),
            Reason::Parameter("limit"),
            Reason::Parameter("from"),
            Reason::Parameter("before"),
            Reason::Parameter("kind"),
            Reason::Parameter("two_factor"),
        ]
        .into_iter()
        .chain(settings.map(Reason::Setting))
        .chain(disallowed.map(|d| Reason::Phone(PhoneError::NotAllowed(d))))
        .chain(
            [
                UriRefused::NotAUrl,
                UriRefused::NotHttps,
                UriRefused::Fragment,
                UriRefused::Wildcard,
                UriRefused::Credentials,
            ]
            .map(|refused| Reason::ApplicationUri {
                uri: "http://app.example.com/cb".into(),
                refused,
            }),
        );
        let weak = [
            WeakPassword::TooShort,
            WeakPassword::TooLong,
            WeakPassword::Guessable {
                hint: Some("This is a top-10 common password.".into()),
            },
        ];
        let failures = [
            DeliveryError::ProviderDown,
            DeliveryError::NotKept,
            DeliveryError::CannotText,
            DeliveryError::StoppedTexts,
            DeliveryError::Unreachable,
            DeliveryError::ExtensionWithText,
            DeliveryError::VoiceUnavailable,
            DeliveryError::Refused,
        ];
        let table: Vec<String> = reasons
            .map(|r| format!("{r:?}: {}", reason(&r)))
            .chain(weak.map(|w| format!("{w:?}: {}", weak_password(&w))))
            .chain(failures.map(|f| format!("{f:?}: {}", delivery(f))))
            .collect();
        insta::assert_snapshot!(table.join("\n"));
    }

    #[test]
    fn several_refusals_read_as_one_answer_and_each_beside_its_field() {
        let e = AppError::together(vec![
            AppError::InvalidEmail,
            AppError::EmailTaken,
            AppError::WeakPassword(WeakPassword::TooLong),
        ]);
        assert_eq!(
            refusal(&e),
            "Enter an email address like name@example.com. That email address is already in \
             use. Use at most 128 characters."
        );
        assert_eq!(
            field_refusals(&e),
            [
                (
                    Some(Field::Email),
                    "Enter an email address like name@example.com.".to_owned()
                ),
                (
                    Some(Field::Email),
                    "That email address is already in use.".to_owned()
                ),
                (
                    Some(Field::Password),
                    "Use at most 128 characters.".to_owned()
                ),
            ]
        );
    }
}
