//! One-time codes: 8 uniform decimal digits, kept as a string so leading zeros survive.

use std::fmt;

pub const CODE_DIGITS: usize = 8;
/// A code lives ten minutes.
pub const CODE_LIFETIME_SECONDS: i64 = 10 * 60;
/// Wrong tries a single code takes before it is dead.
pub const CODE_MAX_ATTEMPTS: i64 = 5;

const SPACE: u32 = 100_000_000;
// The largest multiple of 10^8 below 2^32: values at or above it are drawn again, so every code
// is equally likely.
const ACCEPT_BELOW: u32 = (u32::MAX / SPACE) * SPACE;

#[derive(Clone, PartialEq, Eq)]
pub struct OneTimeCode(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an 8-digit code")]
pub struct MalformedCode;

impl OneTimeCode {
    /// A new code from a source of uniform random 32-bit values (the OS CSPRNG in latch).
    pub fn generate(mut next_u32: impl FnMut() -> u32) -> Self {
        loop {
            let x = next_u32();
            if x < ACCEPT_BELOW {
                return OneTimeCode(format!("{:08}", x % SPACE));
            }
        }
    }

    /// Reads what a person typed: 8 digits, with spaces and dashes allowed between them.
    pub fn parse(raw: &str) -> Result<Self, MalformedCode> {
        let digits: String = raw
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '\u{a0}'))
            .collect();
        if digits.len() != CODE_DIGITS || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(MalformedCode);
        }
        Ok(OneTimeCode(digits))
    }

    /// The digits, for the message and the keyed hash; never for a log.
    pub fn digits(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for OneTimeCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OneTimeCode(********)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_keep_leading_zeros() {
        let code = OneTimeCode::generate(|| 42);
        assert_eq!(code.digits(), "00000042");
    }

    #[test]
    fn values_past_the_last_whole_range_are_drawn_again() {
        let mut draws = [u32::MAX, ACCEPT_BELOW, 123].into_iter();
        assert_eq!(
            OneTimeCode::generate(|| draws.next().unwrap()).digits(),
            "00000123"
        );
    }

    #[test]
    fn typed_codes_may_have_spaces_and_dashes() {
        for raw in ["12345678", "1234 5678", "1234-5678", " 12 34 56 78 "] {
            assert_eq!(
                OneTimeCode::parse(raw).unwrap().digits(),
                "12345678",
                "{raw}"
            );
        }
        for raw in ["1234567", "123456789", "1234567a", "", "١٢٣٤٥٦٧٨"] {
            assert!(OneTimeCode::parse(raw).is_err(), "{raw}");
        }
    }

    #[test]
    fn a_code_never_prints_itself() {
        assert!(!format!("{:?}", OneTimeCode::parse("12345678").unwrap()).contains("1234"));
    }
}
