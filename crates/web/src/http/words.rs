//! The words pages say of refusals beside app's own: which tries are left, what went wrong
//! with a send, a password that was not right. One place, so another language is one module.

use latch_app::AppError;
use latch_domain::two_factor::Channel;

/// A password refusal in a form's words: `wrong` for a wrong one, app's for a delay.
pub(crate) fn password_refusal(e: &AppError, wrong: &str) -> String {
    match e {
        AppError::InvalidCredentials => wrong.to_owned(),
        other => other.to_string(),
    }
}

/// What the code page says of a code it refused: how many tries are left, if any.
pub(crate) fn code_refusal(e: &AppError) -> String {
    match e {
        AppError::InvalidCode {
            malformed: true, ..
        } => e.to_string(),
        AppError::InvalidCode { attempts_left, .. } if *attempts_left > 0 => {
            let plural = if *attempts_left == 1 { "" } else { "s" };
            format!("{e} You can try {attempts_left} more time{plural}.")
        }
        AppError::InvalidCode { .. } => {
            "That code is not correct, and it can't be tried again. Ask for a new code below."
                .to_owned()
        }
        _ => e.to_string(),
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
