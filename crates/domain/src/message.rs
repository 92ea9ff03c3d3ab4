//! The words texts and calls say. Lock screens are public: no message names the practice or
//! the person, only the product.

use crate::code::OneTimeCode;

/// The text that carries a code. Its last line binds it to latch's host, so phones and
/// browsers offer it only on that site (WebOTP).
pub fn code_text(product: &str, code: &OneTimeCode, host: &str) -> String {
    format!(
        "{product} sign-in code: {digits}. It expires in ten minutes. Don't share it with anyone.\n\n@{host} #{digits}",
        digits = code.digits()
    )
}

/// What a voice call says: the digits one by one, slowly, twice, and every other word spelled
/// out, so the code is the only number spoken.
pub fn code_call(product: &str, code: &OneTimeCode) -> String {
    let spoken = code
        .digits()
        .chars()
        .map(String::from)
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "Hello. This is {product} with your sign-in code. Your code is: {spoken}. \
         Again, your code is: {spoken}. It expires in ten minutes. Do not share it with anyone. Goodbye."
    )
}

/// Notices: texts or calls without a code, sent to the number two-factor used, by its method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    /// By email only: the phone that just confirmed the code needs no text about it.
    TurnedOn,
    TurnedOff,
    PhoneChanged,
    Locked,
    PasswordChanged,
    /// The password was reset with an emailed link.
    PasswordReset,
    ResetByPractice,
    /// Another two-factor method was added.
    MethodAdded,
    /// A two-factor method was removed; others remain.
    MethodRemoved,
    /// A recovery code was used to sign in.
    RecoveryCodeUsed,
}

pub fn notice_text(product: &str, notice: Notice) -> String {
    match notice {
        Notice::TurnedOn => format!(
            "{product}: two-factor sign-in is now on for your account. If you didn't do this, contact your practice and change your password."
        ),
        Notice::TurnedOff => format!(
            "{product}: two-factor sign-in was turned off for your account. If you didn't do this, contact your practice and change your password."
        ),
        Notice::PhoneChanged => format!(
            "{product}: your two-factor sign-in now uses a different phone number. If you didn't do this, contact your practice and change your password."
        ),
        Notice::Locked => format!(
            "{product}: too many wrong sign-in codes were entered for your account, so sign-in is paused for a while. Someone may know your password: please change it."
        ),
        Notice::ResetByPractice => format!(
            "{product}: your practice reset two-factor sign-in for your account. You'll set it up again the next time you sign in. If you didn't ask for this, contact your practice."
        ),
        Notice::PasswordChanged => format!(
            "{product}: your password was just changed. If you didn't do this, contact your practice."
        ),
        Notice::PasswordReset => format!(
            "{product}: your password was just reset with a link sent by email. If you didn't do this, contact your practice."
        ),
        Notice::MethodAdded => format!(
            "{product}: a new two-factor sign-in method was added to your account. If you didn't do this, contact your practice and change your password."
        ),
        Notice::MethodRemoved => format!(
            "{product}: a two-factor sign-in method was removed from your account. If you didn't do this, contact your practice and change your password."
        ),
        Notice::RecoveryCodeUsed => format!(
            "{product}: a recovery code was just used to sign in to your account. If you didn't do this, contact your practice and change your password."
        ),
    }
}

/// A notice as a call says it, for someone whose codes come by voice.
pub fn notice_call(product: &str, notice: Notice) -> String {
    let text = notice_text(product, notice);
    let said = text.strip_prefix(&format!("{product}: ")).unwrap_or(&text);
    let mut chars = said.chars();
    let said: String = chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default();
    format!("Hello. This is {product} with a notice about your account. {said} Goodbye.")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code() -> OneTimeCode {
        OneTimeCode::parse("04150926").unwrap()
    }

    /// Every word a phone receives, as one snapshot: a change to any of them is seen in review.
    #[test]
    fn the_words_texts_and_calls_say() {
        let notices = [
            Notice::TurnedOff,
            Notice::PhoneChanged,
            Notice::Locked,
            Notice::PasswordChanged,
            Notice::PasswordReset,
            Notice::ResetByPractice,
            Notice::MethodAdded,
            Notice::MethodRemoved,
            Notice::RecoveryCodeUsed,
        ]
        .map(|n| {
            format!(
                "{n:?}: {}\n  by call: {}",
                notice_text("latch", n),
                notice_call("latch", n)
            )
        });
        insta::assert_snapshot!(format!(
            "code text:\n{}\n\ncode call:\n{}\n\nnotices:\n{}",
            code_text("latch", &code(), "latch.example.com"),
            code_call("latch", &code()),
            notices.join("\n")
        ));
    }

    #[test]
    fn the_code_text_reads_as_written() {
        assert_eq!(
            code_text("latch", &code(), "latch.example.com"),
            "latch sign-in code: 04150926. It expires in ten minutes. Don't share it with anyone.\n\n@latch.example.com #04150926"
        );
    }

    #[test]
    fn the_call_says_the_digits_one_by_one_twice_and_no_other_number() {
        let script = code_call("latch", &code());
        assert_eq!(
            script,
            "Hello. This is latch with your sign-in code. Your code is: 0, 4, 1, 5, 0, 9, 2, 6. \
             Again, your code is: 0, 4, 1, 5, 0, 9, 2, 6. It expires in ten minutes. Do not share it with anyone. Goodbye."
        );
        assert!(!script.contains("04150926"), "never one run of digits");
        let digits_outside_the_code: usize = script
            .split("0, 4, 1, 5, 0, 9, 2, 6")
            .map(|part| part.chars().filter(char::is_ascii_digit).count())
            .sum();
        assert_eq!(digits_outside_the_code, 0);
    }

    #[test]
    fn notices_name_only_the_product() {
        for n in [
            Notice::TurnedOff,
            Notice::PhoneChanged,
            Notice::Locked,
            Notice::PasswordChanged,
            Notice::PasswordReset,
            Notice::ResetByPractice,
            Notice::MethodAdded,
            Notice::MethodRemoved,
            Notice::RecoveryCodeUsed,
        ] {
            let text = notice_text("latch", n);
            assert!(text.starts_with("latch: "), "{text}");
            assert!(!text.chars().any(|c| c.is_ascii_digit()), "{text}");
        }
        assert_eq!(
            notice_text("latch", Notice::Locked),
            "latch: too many wrong sign-in codes were entered for your account, so sign-in is paused for a while. Someone may know your password: please change it."
        );
    }
}
