//! Phone numbers: parsed once (E.164 inside), refused when they cannot receive a personal code,
//! and shown masked everywhere but the development outbox.

use std::fmt;
use std::str::FromStr;

use phonenumber::Type;

/// A valid phone number in E.164 form, with the country it belongs to.
#[derive(Clone)]
pub struct PhoneNumber {
    e164: String,
    country_code: u16,
    /// Known when the number was parsed; worked out on demand for a stored one.
    region: Option<&'static str>,
}

impl PartialEq for PhoneNumber {
    fn eq(&self, other: &Self) -> bool {
        self.e164 == other.e164
    }
}

impl Eq for PhoneNumber {}

impl std::hash::Hash for PhoneNumber {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.e164.hash(state);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("not a phone number")]
    Invalid,
    /// A letter or sign where a digit belongs: refused, never read as a keypad digit (a capital
    /// O typed for a zero would send the code to a stranger).
    #[error("a phone number with letters or signs in it")]
    NotDigits,
    #[error("a phone number that may not receive codes: {0:?}")]
    NotAllowed(Disallowed),
}

/// Why a real phone number may not receive codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disallowed {
    /// Premium-rate, shared-cost, a service number or voicemail: they bill the caller or reach
    /// no one person.
    ChargedOrShared,
    TollFree,
    /// A number of no country.
    NoCountry,
    /// A country the practice does not allow.
    CountryNotAllowed,
}

impl PhoneNumber {
    /// Reads `+14155550123`, or a national number (`(415) 555-0123`) with its country beside it.
    pub fn parse(raw: &str, country: Option<&str>) -> Result<Self, PhoneError> {
        let raw = raw.trim();
        if raw.is_empty() || raw.len() > 40 {
            return Err(PhoneError::Invalid);
        }
        if !raw.chars().all(|c| {
            c.is_ascii_digit() || matches!(c, ' ' | '\u{a0}' | '(' | ')' | '-' | '+' | '.')
        }) {
            return Err(PhoneError::NotDigits);
        }
        let region = match country.map(str::trim).filter(|c| !c.is_empty()) {
            Some(code) => Some(
                phonenumber::country::Id::from_str(&code.to_ascii_uppercase())
                    .map_err(|_| PhoneError::Invalid)?,
            ),
            None if raw.starts_with('+') => None,
            None => return Err(PhoneError::Invalid),
        };
        let number = phonenumber::parse(region, raw).map_err(|_| PhoneError::Invalid)?;
        if number.extension().is_some() || !number.is_valid() {
            return Err(PhoneError::Invalid);
        }
        // SECURITY: numbers that bill the caller or reach no one person are where SMS
        // pumping and toll fraud make money; refuse them before any provider is called.
        match number.number_type(&phonenumber::metadata::DATABASE) {
            Type::PremiumRate | Type::SharedCost | Type::Uan | Type::Voicemail => {
                return Err(PhoneError::NotAllowed(Disallowed::ChargedOrShared));
            }
            Type::TollFree => {
                return Err(PhoneError::NotAllowed(Disallowed::TollFree));
            }
            _ => {}
        }
        let region = number.country().id().map(|id| {
            let code: &str = id.as_ref();
            crate::country::Country::parse(code).map_or("", |c| c.code())
        });
        let region = match region {
            Some(r) if !r.is_empty() => Some(r),
            _ => {
                return Err(PhoneError::NotAllowed(Disallowed::NoCountry));
            }
        };
        Ok(PhoneNumber {
            e164: number.format().mode(phonenumber::Mode::E164).to_string(),
            country_code: number.code().value(),
            region,
        })
    }

    /// Reads a number latch stored itself, which was parsed and checked on its way in: only
    /// its E.164 shape and its country calling code (calling codes are prefix-free, so the
    /// first of one, two or three digits that names one is it). Cheap, for every row read.
    pub fn from_stored(e164: &str) -> Option<Self> {
        let digits = e164.strip_prefix('+')?;
        if !(7..=15).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let country_code = (1..=3).find_map(|len| {
            let code: u16 = digits[..len].parse().ok()?;
            phonenumber::metadata::DATABASE
                .by_code(&code)
                .is_some()
                .then_some(code)
        })?;
        Some(PhoneNumber {
            e164: e164.to_owned(),
            country_code,
            region: None,
        })
    }

    pub fn e164(&self) -> &str {
        &self.e164
    }

    /// The ISO 3166 alpha-2 country of the number.
    pub fn region(&self) -> Option<&'static str> {
        self.region
            .or_else(|| Self::parse(&self.e164, None).ok().and_then(|p| p.region))
    }

    /// Whether the number belongs to one of `countries` (a practice's allowed countries).
    pub fn is_in(&self, countries: &[crate::country::Country]) -> bool {
        self.region()
            .is_some_and(|region| countries.iter().any(|c| c.code() == region))
    }

    /// The number without its last 4 digits, for limits per number range.
    pub fn prefix(&self) -> &str {
        &self.e164[..self.e164.len().saturating_sub(4)]
    }

    /// The whole number in international form (`+1 415-555-2671`), only for the person who
    /// has just typed it, during a setup or change, so a typo can be seen; masked elsewhere.
    pub fn written_out(&self) -> String {
        phonenumber::parse(None, &self.e164).map_or_else(
            |_| self.e164.clone(),
            |n| {
                n.format()
                    .mode(phonenumber::Mode::International)
                    .to_string()
            },
        )
    }

    /// `+1 ••• ••• ••23`: the country code and the last two digits.
    pub fn masked(&self) -> String {
        let cc = self.country_code.to_string();
        let national = &self.e164[1 + cc.len()..];
        let digits: Vec<char> = national.chars().collect();
        let visible_from = digits.len().saturating_sub(2);
        let mut groups = Vec::new();
        let mut start = 0;
        while digits.len() - start > 4 {
            groups.push(start..start + 3);
            start += 3;
        }
        groups.push(start..digits.len());
        let shown: Vec<String> = groups
            .into_iter()
            .map(|g| {
                g.map(|i| if i >= visible_from { digits[i] } else { '•' })
                    .collect()
            })
            .collect();
        format!("+{cc} {}", shown.join(" "))
    }
}

impl fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PhoneNumber({})", self.masked())
    }
}

impl fmt::Display for PhoneNumber {
    /// Masked: a phone number is never printed whole by accident.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

/// An office extension for voice calls: digits only, up to 10.
pub fn parse_extension(raw: &str) -> Result<Option<String>, PhoneError> {
    let ext: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
    if ext.is_empty() {
        return Ok(None);
    }
    if ext.len() > 10 || !ext.bytes().all(|b| b.is_ascii_digit()) {
        return Err(PhoneError::Invalid);
    }
    Ok(Some(ext))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn national_formats_are_read_with_their_country() {
        let p = PhoneNumber::parse("(415) 555-2671", Some("US")).unwrap();
        assert_eq!(p.e164(), "+14155552671");
        assert_eq!(p.region(), Some("US"));
        assert_eq!(PhoneNumber::parse("+1 415 555 2671", None).unwrap(), p);
        assert_eq!(PhoneNumber::parse("415-555-2671", Some("us")).unwrap(), p);
    }

    #[test]
    fn a_national_number_without_a_country_is_refused() {
        assert_eq!(
            PhoneNumber::parse("415 555 2671", None),
            Err(PhoneError::Invalid)
        );
    }

    #[test]
    fn things_that_are_not_numbers_are_refused() {
        for raw in ["", "12345", "+1 555", "+999 1234 5678"] {
            assert_eq!(
                PhoneNumber::parse(raw, Some("US")),
                Err(PhoneError::Invalid),
                "{raw}"
            );
        }
    }

    #[test]
    fn letters_are_refused_never_read_as_keypad_digits() {
        for raw in [
            "415555O123",
            "1-800-FLOWERS",
            "hello",
            "+1 415 555 2671 x2",
            "415#555*2671",
        ] {
            assert_eq!(
                PhoneNumber::parse(raw, Some("US")),
                Err(PhoneError::NotDigits),
                "{raw}"
            );
        }
        assert!(PhoneNumber::parse("415.555.2671", Some("US")).is_ok());
    }

    #[test]
    fn the_whole_number_is_written_for_the_person_who_typed_it() {
        let p = PhoneNumber::parse("(415) 555-2671", Some("US")).unwrap();
        assert_eq!(p.written_out(), "+1 415-555-2671");
    }

    #[test]
    fn premium_and_toll_free_numbers_are_refused() {
        assert!(matches!(
            PhoneNumber::parse("+1 900 555 0123", None),
            Err(PhoneError::NotAllowed(_))
        ));
        assert!(matches!(
            PhoneNumber::parse("+1 800 555 0123", None),
            Err(PhoneError::NotAllowed(_))
        ));
        assert!(matches!(
            PhoneNumber::parse("+44 909 879 0000", None),
            Err(PhoneError::NotAllowed(_))
        ));
    }

    #[test]
    fn numbers_are_masked_but_for_the_last_two_digits() {
        assert_eq!(
            PhoneNumber::parse("+14155552623", None).unwrap().masked(),
            "+1 ••• ••• ••23"
        );
        assert_eq!(
            PhoneNumber::parse("+447400123456", None).unwrap().masked(),
            "+44 ••• ••• ••56"
        );
        let p = PhoneNumber::parse("+14155552623", None).unwrap();
        assert!(!format!("{p} {p:?}").contains("5552623"));
    }

    #[test]
    fn a_stored_number_reads_as_it_was_parsed() {
        for (raw, country) in [
            ("+14155552671", None),
            ("+442079460958", None),
            ("(415) 555-2671", Some("US")),
            ("+61491570156", None),
            ("+353851234567", None),
            ("+819012345678", None),
        ] {
            let parsed = PhoneNumber::parse(raw, country).unwrap();
            let stored = PhoneNumber::from_stored(parsed.e164()).unwrap();
            assert_eq!(stored, parsed);
            assert_eq!(stored.masked(), parsed.masked(), "{raw}");
            assert_eq!(stored.region(), parsed.region(), "{raw}");
            assert_eq!(stored.prefix(), parsed.prefix());
        }
        for not_stored in [
            "",
            "+",
            "14155552671",
            "+1415555267a",
            "+123",
            "+1234567890123456",
        ] {
            assert!(
                PhoneNumber::from_stored(not_stored).is_none(),
                "{not_stored:?}"
            );
        }
    }

    #[test]
    fn the_prefix_drops_the_last_four_digits() {
        assert_eq!(
            PhoneNumber::parse("+14155552623", None).unwrap().prefix(),
            "+1415555"
        );
    }

    #[test]
    fn extensions_are_digits() {
        assert_eq!(parse_extension(" 204 "), Ok(Some("204".into())));
        assert_eq!(parse_extension(""), Ok(None));
        assert!(parse_extension("12a").is_err());
    }
}
