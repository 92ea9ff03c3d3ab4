//! What a person reads of every answer latch gives: the API's `message`s, the pages' refusals
//! beside their fields, the console's. One place, so another language is one module.

use latch_app::{AppError, Field, Refused, Throttle};
use latch_domain::two_factor::Channel;

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
        AppError::InvalidCode {
            malformed: true, ..
        } => "Codes have 8 digits. Check the latest message and enter its code.",
        AppError::InvalidCode { .. } => {
            "That code is not correct. Check the latest message and try again."
        }
        AppError::CodeExpired => {
            "This code has expired or can't be used any more. Ask for a new code."
        }
        AppError::TwoFactorLocked => {
            "Two-factor sign-in is locked after too many wrong codes. \
             Ask an owner or manager of your practice to unlock it."
        }
        AppError::NoSetupInProgress => {
            "There is no two-factor setup in progress. Please start again."
        }
        AppError::TwoFactorRequiredByPractice => {
            "Your practice requires two-factor authentication, so it can't be turned off. \
             You can change your phone or method instead."
        }
        AppError::Unavailable(_) => {
            "latch cannot reach its database right now. Please try again in a moment."
        }
        AppError::Internal(_) => "Something went wrong on our side. Please try again.",
        // The domain's own words for a refused value, until they are typed too.
        AppError::WeakPassword(said)
        | AppError::InvalidEmail(said)
        | AppError::InvalidRole(said)
        | AppError::PhoneNotAllowed(said)
        | AppError::DeliveryFailed { message: said, .. } => said,
        AppError::InvalidSetting(refusals) => return refusals.to_string(),
        AppError::InvalidRequest(refusal) | AppError::InvalidPhone(refusal) => &refusal.message,
        AppError::Several(all) => {
            let each: Vec<String> = all.iter().map(refusal).collect();
            return each.join(" ");
        }
    };
    said.to_owned()
}

/// Each value `e` refuses, with its field and what a person reads of it; none when `e`
/// refuses no value.
pub fn field_refusals(e: &AppError) -> Vec<(Option<Field>, String)> {
    e.refusals()
        .into_iter()
        .map(|refused| match refused {
            Refused::Value(r) => (r.field, r.message.clone()),
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

/// A password refusal in a form's words: `wrong` for a wrong one, app's for a delay.
pub(crate) fn password_refusal(e: &AppError, wrong: &str) -> String {
    match e {
        AppError::InvalidCredentials => wrong.to_owned(),
        other => refusal(other),
    }
}

/// What the code page says of a code it refused: how many tries are left, if any.
pub(crate) fn code_refusal(e: &AppError) -> String {
    match e {
        AppError::InvalidCode {
            malformed: true, ..
        } => refusal(e),
        AppError::InvalidCode { attempts_left, .. } if *attempts_left > 0 => {
            let plural = if *attempts_left == 1 { "" } else { "s" };
            format!(
                "{} You can try {attempts_left} more time{plural}.",
                refusal(e)
            )
        }
        AppError::InvalidCode { .. } => {
            "That code is not correct, and it can't be tried again. Ask for a new code below."
                .to_owned()
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
    use latch_app::ports::StoreError;
    use latch_app::{AppError, Throttle};
    use latch_domain::two_factor::Channel;

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
            AppError::WeakPassword("Add another word or two.".into()),
            AppError::InvalidEmail("Enter an email address like name@example.com.".into()),
            AppError::InvalidRole("The role must be owner, manager, staff or client.".into()),
            AppError::InvalidSetting("Idle sign-out must be 5 to 120 minutes.".into()),
            AppError::InvalidRequest("The method must be sms or voice.".into()),
            AppError::InvalidCode {
                attempts_left: 4,
                malformed: false,
            },
            AppError::InvalidCode {
                attempts_left: 5,
                malformed: true,
            },
            AppError::CodeExpired,
            AppError::TwoFactorLocked,
            AppError::DeliveryFailed {
                message: "We couldn't text this number. Try a voice call.".into(),
                try_instead: Some(Channel::Voice),
            },
            AppError::InvalidPhone(
                "Phone numbers can only have digits, spaces, ( ) - and +.".into(),
            ),
            AppError::PhoneNotAllowed("Toll-free numbers can't receive sign-in codes.".into()),
            AppError::NoSetupInProgress,
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
    fn several_refusals_read_as_one_answer_and_each_beside_its_field() {
        let e = AppError::together(vec![
            AppError::InvalidEmail("Enter an email address like name@example.com.".into()),
            AppError::EmailTaken,
            AppError::WeakPassword("Add another word or two.".into()),
        ]);
        assert_eq!(
            refusal(&e),
            "Enter an email address like name@example.com. That email address is already in \
             use. Add another word or two."
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
                (Some(Field::Password), "Add another word or two.".to_owned()),
            ]
        );
    }
}
