//! The two-factor methods a person may hold beside the password: their kinds, which one a
//! sign-in asks for first, which others it offers, what the shape of a typed code says it is,
//! and recovery codes (ten at a time, 50 random bits each, written `7hk2m-q9xwp`).

use crate::two_factor::Channel;

/// A method a person holds: the phone (by text or by call), an authenticator app, a passkey.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MethodKind {
    Sms,
    Voice,
    Totp,
    Passkey,
}

impl MethodKind {
    pub const ALL: [MethodKind; 4] = [
        MethodKind::Passkey,
        MethodKind::Totp,
        MethodKind::Sms,
        MethodKind::Voice,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MethodKind::Sms => "sms",
            MethodKind::Voice => "voice",
            MethodKind::Totp => "totp",
            MethodKind::Passkey => "passkey",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        MethodKind::ALL.into_iter().find(|k| k.as_str() == raw)
    }

    /// These kinds once each, strongest first (`ALL`'s order), whatever order they came in.
    pub fn in_order(kinds: &[MethodKind]) -> Vec<MethodKind> {
        MethodKind::ALL
            .into_iter()
            .filter(|k| kinds.contains(k))
            .collect()
    }

    /// The phone method that sends codes by `channel`.
    pub fn of_channel(channel: Channel) -> Self {
        match channel {
            Channel::Sms => MethodKind::Sms,
            Channel::Voice => MethodKind::Voice,
        }
    }

    /// The channel of a phone method.
    pub fn channel(self) -> Option<Channel> {
        match self {
            MethodKind::Sms => Some(Channel::Sms),
            MethodKind::Voice => Some(Channel::Voice),
            MethodKind::Totp | MethodKind::Passkey => None,
        }
    }
}

/// The methods a person holds, as a sign-in needs to know them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HeldMethods {
    /// The phone method's channel, when they have one.
    pub phone: Option<Channel>,
    pub totp: bool,
    pub passkey: bool,
}

impl HeldMethods {
    /// Whether two-factor is on: any method counts.
    pub fn any(self) -> bool {
        self.phone.is_some() || self.totp || self.passkey
    }

    pub fn holds(self, kind: MethodKind) -> bool {
        match kind {
            MethodKind::Sms | MethodKind::Voice => self.phone == kind.channel(),
            MethodKind::Totp => self.totp,
            MethodKind::Passkey => self.passkey,
        }
    }

    /// The method a sign-in asks for first: the one the person chose while they hold it, else
    /// the phone (the article's method, and what people who never chose know), then the app,
    /// then a passkey.
    pub fn preferred(self, chosen: Option<MethodKind>) -> Option<MethodKind> {
        if let Some(kind) = chosen.filter(|k| self.holds(*k)) {
            return Some(kind);
        }
        if let Some(channel) = self.phone {
            return Some(MethodKind::of_channel(channel));
        }
        [MethodKind::Totp, MethodKind::Passkey]
            .into_iter()
            .find(|k| self.holds(*k))
    }

    /// What a person waiting for their second step may answer with, the preferred first: the
    /// phone by either channel the number can take, the app, a passkey, a recovery code.
    pub fn answers(self, preferred: Option<MethodKind>, other_channel: bool) -> Vec<Answer> {
        let mut answers = Vec::new();
        if let Some(channel) = self.phone {
            answers.push(Answer::of_channel(channel));
            if other_channel {
                answers.push(Answer::of_channel(channel.other()));
            }
        }
        if self.totp {
            answers.push(Answer::Totp);
        }
        if self.passkey {
            answers.push(Answer::Passkey);
        }
        if self.any() {
            answers.push(Answer::RecoveryCode);
        }
        let first = preferred.map(Answer::of_kind);
        if let Some(at) = answers.iter().position(|a| Some(*a) == first) {
            let first = answers.remove(at);
            answers.insert(0, first);
        }
        answers
    }
}

/// What a second step can be answered with: a method, or a recovery code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Answer {
    Sms,
    Voice,
    Totp,
    Passkey,
    RecoveryCode,
}

impl Answer {
    pub fn as_str(self) -> &'static str {
        match self {
            Answer::Sms => "sms",
            Answer::Voice => "voice",
            Answer::Totp => "totp",
            Answer::Passkey => "passkey",
            Answer::RecoveryCode => "recovery_code",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [
            Answer::Sms,
            Answer::Voice,
            Answer::Totp,
            Answer::Passkey,
            Answer::RecoveryCode,
        ]
        .into_iter()
        .find(|a| a.as_str() == raw)
    }

    pub fn of_kind(kind: MethodKind) -> Self {
        match kind {
            MethodKind::Sms => Answer::Sms,
            MethodKind::Voice => Answer::Voice,
            MethodKind::Totp => Answer::Totp,
            MethodKind::Passkey => Answer::Passkey,
        }
    }

    pub fn of_channel(channel: Channel) -> Self {
        Answer::of_kind(MethodKind::of_channel(channel))
    }
}

/// What a typed code is, by the method named beside it or else by its shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypedCode {
    /// A code that was texted or called: its 8 digits are judged against the challenge.
    Sent(String),
    /// An authenticator app's 6 digits.
    App(String),
    Recovery(RecoveryCode),
    /// Nothing any method takes: not a guess, it counts toward nothing.
    Malformed,
}

impl TypedCode {
    /// Reads `raw`: spaces and dashes inside are ignored for digits; without `method`, 8
    /// digits are a sent code, 6 an app's, and two groups of five letters and digits a
    /// recovery code.
    pub fn read(raw: &str, method: Option<Answer>) -> TypedCode {
        let compact: String = raw
            .trim()
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '\u{a0}'))
            .collect();
        let digits = |n: usize| compact.len() == n && compact.bytes().all(|b| b.is_ascii_digit());
        let sent = || {
            if digits(crate::code::CODE_DIGITS) {
                TypedCode::Sent(compact.clone())
            } else {
                TypedCode::Malformed
            }
        };
        let app = || {
            if digits(crate::totp::DIGITS as usize) {
                TypedCode::App(compact.clone())
            } else {
                TypedCode::Malformed
            }
        };
        let recovery = || {
            RecoveryCode::parse(raw)
                .map(TypedCode::Recovery)
                .unwrap_or(TypedCode::Malformed)
        };
        match method {
            Some(Answer::Sms | Answer::Voice) => sent(),
            Some(Answer::Totp) => app(),
            Some(Answer::RecoveryCode) => recovery(),
            Some(Answer::Passkey) => TypedCode::Malformed,
            None => match sent() {
                TypedCode::Malformed => match app() {
                    TypedCode::Malformed => recovery(),
                    app => app,
                },
                sent => sent,
            },
        }
    }
}

/// Recovery codes in a set.
pub const RECOVERY_CODES_PER_SET: usize = 10;
/// At this many left or fewer, My Profile warns.
pub const FEW_RECOVERY_CODES: i64 = 3;

/// Letters and digits a recovery code is written in: 32 of them, 5 bits each, without `0`,
/// `1`, `l` and `o`, which read alike on paper.
const RECOVERY_ALPHABET: &[u8; 32] = b"23456789abcdefghijkmnpqrstuvwxyz";
const RECOVERY_HALF: usize = 5;

/// A recovery code: ten characters of `RECOVERY_ALPHABET` (50 random bits), written as two
/// groups of five, `7hk2m-q9xwp`.
#[derive(Clone, PartialEq, Eq)]
pub struct RecoveryCode(String);

impl std::fmt::Debug for RecoveryCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecoveryCode(********)")
    }
}

impl RecoveryCode {
    /// A code from ten random bytes, five bits of each.
    pub fn generate(random: [u8; 10]) -> Self {
        let chars: String = random
            .iter()
            .map(|b| char::from(RECOVERY_ALPHABET[usize::from(b & 31)]))
            .collect();
        RecoveryCode(format!(
            "{}-{}",
            &chars[..RECOVERY_HALF],
            &chars[RECOVERY_HALF..]
        ))
    }

    /// Reads what a person typed: upper or lower case, with or without the dash or spaces.
    pub fn parse(raw: &str) -> Option<Self> {
        let compact: String = raw
            .trim()
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '\u{a0}'))
            .map(|c| c.to_ascii_lowercase())
            .collect();
        let valid = compact.len() == 2 * RECOVERY_HALF
            && compact.bytes().all(|b| RECOVERY_ALPHABET.contains(&b));
        valid.then(|| {
            RecoveryCode(format!(
                "{}-{}",
                &compact[..RECOVERY_HALF],
                &compact[RECOVERY_HALF..]
            ))
        })
    }

    /// The code as written, for showing once and for the keyed hash; never for a log.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_answers_read_back_what_they_write() {
        for kind in MethodKind::ALL {
            assert_eq!(MethodKind::parse(kind.as_str()), Some(kind));
            assert_eq!(Answer::parse(kind.as_str()), Some(Answer::of_kind(kind)));
        }
        assert_eq!(Answer::parse("recovery_code"), Some(Answer::RecoveryCode));
        assert_eq!(MethodKind::parse("recovery_code"), None);
        assert_eq!(MethodKind::parse("SMS"), None);
    }

    #[test]
    fn the_chosen_method_leads_while_it_is_held_and_the_phone_otherwise() {
        let phone_and_app = HeldMethods {
            phone: Some(Channel::Voice),
            totp: true,
            passkey: false,
        };
        assert_eq!(phone_and_app.preferred(None), Some(MethodKind::Voice));
        assert_eq!(
            phone_and_app.preferred(Some(MethodKind::Totp)),
            Some(MethodKind::Totp)
        );
        // A passkey since removed leaves the phone to lead.
        assert_eq!(
            phone_and_app.preferred(Some(MethodKind::Passkey)),
            Some(MethodKind::Voice)
        );
        // A text preference while the phone takes calls is not held either.
        assert_eq!(
            phone_and_app.preferred(Some(MethodKind::Sms)),
            Some(MethodKind::Voice)
        );
        let passkey_only = HeldMethods {
            passkey: true,
            ..HeldMethods::default()
        };
        assert_eq!(passkey_only.preferred(None), Some(MethodKind::Passkey));
        assert_eq!(HeldMethods::default().preferred(None), None);
        assert!(!HeldMethods::default().any());
    }

    #[test]
    fn a_second_step_offers_the_preferred_first_and_recovery_codes_last() {
        let held = HeldMethods {
            phone: Some(Channel::Sms),
            totp: true,
            passkey: true,
        };
        assert_eq!(
            held.answers(Some(MethodKind::Totp), true),
            vec![
                Answer::Totp,
                Answer::Sms,
                Answer::Voice,
                Answer::Passkey,
                Answer::RecoveryCode
            ]
        );
        assert_eq!(
            held.answers(Some(MethodKind::Sms), false),
            vec![
                Answer::Sms,
                Answer::Totp,
                Answer::Passkey,
                Answer::RecoveryCode
            ]
        );
        assert!(HeldMethods::default().answers(None, true).is_empty());
    }

    #[test]
    fn a_code_without_its_method_is_read_by_its_shape() {
        assert_eq!(
            TypedCode::read("1234 5678", None),
            TypedCode::Sent("12345678".into())
        );
        assert_eq!(
            TypedCode::read("123 456", None),
            TypedCode::App("123456".into())
        );
        let TypedCode::Recovery(code) = TypedCode::read(" 7HK2M-Q9XWP ", None) else {
            panic!("a recovery code")
        };
        assert_eq!(code.expose(), "7hk2m-q9xwp");
        assert_eq!(TypedCode::read("12345", None), TypedCode::Malformed);
        assert_eq!(TypedCode::read("", None), TypedCode::Malformed);
        // Ten digits would be a recovery code's length, but `0` and `1` are not in its letters.
        assert_eq!(TypedCode::read("0123456789", None), TypedCode::Malformed);
    }

    #[test]
    fn a_named_method_takes_only_its_own_shape() {
        assert_eq!(
            TypedCode::read("123456", Some(Answer::Sms)),
            TypedCode::Malformed
        );
        assert_eq!(
            TypedCode::read("12345678", Some(Answer::Totp)),
            TypedCode::Malformed
        );
        assert_eq!(
            TypedCode::read("123456", Some(Answer::Totp)),
            TypedCode::App("123456".into())
        );
        assert_eq!(
            TypedCode::read("12345678", Some(Answer::RecoveryCode)),
            TypedCode::Malformed
        );
        assert!(matches!(
            TypedCode::read("abcde-fghij", Some(Answer::RecoveryCode)),
            TypedCode::Recovery(_)
        ));
        assert_eq!(
            TypedCode::read("12345678", Some(Answer::Passkey)),
            TypedCode::Malformed
        );
    }

    #[test]
    fn recovery_codes_carry_fifty_bits_in_two_groups_of_five() {
        let all_bits = RecoveryCode::generate([0xff; 10]);
        assert_eq!(all_bits.expose(), "zzzzz-zzzzz");
        let none = RecoveryCode::generate([0; 10]);
        assert_eq!(none.expose(), "22222-22222");
        // Only the low five bits of a byte count: every character is equally likely.
        assert_eq!(
            RecoveryCode::generate([32; 10]),
            RecoveryCode::generate([0; 10])
        );
        let made = RecoveryCode::generate([0, 1, 2, 3, 4, 27, 28, 29, 30, 31]);
        assert_eq!(made.expose(), "23456-vwxyz");
        assert_eq!(RecoveryCode::parse("23456vwxyz"), Some(made.clone()));
        assert_eq!(RecoveryCode::parse("23456 VWXYZ"), Some(made));
        assert_eq!(RECOVERY_ALPHABET.len(), 32);
        assert_eq!(
            RecoveryCode::parse("23456-vwxy"),
            None,
            "nine characters are too few"
        );
        assert_eq!(
            RecoveryCode::parse("o2345-vwxyz"),
            None,
            "o is not in the letters"
        );
        assert_eq!(
            format!("{:?}", RecoveryCode::generate([5; 10])),
            "RecoveryCode(********)"
        );
    }
}
