//! Property tests of every parser of outside input: whatever arrives, none panics, and each
//! accepts exactly what its rule says.

use latch_domain::code::OneTimeCode;
use latch_domain::country::Country;
use latch_domain::device::BrowserDevices;
use latch_domain::person::Name;
use latch_domain::phone::{PhoneError, PhoneNumber, parse_extension};
use latch_domain::practice::RequireTwoFactor;
use latch_domain::throttle::client_key;
use latch_domain::two_factor::Channel;
use latch_domain::{Email, Role, Timestamp};
use proptest::prelude::*;

fn country() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        Just(Some("US".to_owned())),
        Just(Some("gb".to_owned())),
        "[A-Za-z]{0,3}".prop_map(Some),
        any::<String>().prop_map(Some),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn a_phone_number_is_e164_or_refused(raw in any::<String>(), country in country()) {
        if let Ok(phone) = PhoneNumber::parse(&raw, country.as_deref()) {
            let e164 = phone.e164();
            prop_assert!(e164.starts_with('+') && e164[1..].bytes().all(|b| b.is_ascii_digit()));
            prop_assert_eq!(PhoneNumber::from_stored(e164), Some(phone.clone()));
            prop_assert!(!phone.masked().contains(&e164[e164.len() - 4..e164.len() - 2]));
        }
    }

    #[test]
    fn a_phone_number_with_a_letter_is_never_read_as_digits(
        before in "[0-9 ()+-]{0,12}",
        letter in "[A-Za-z]",
        after in "[0-9 ()-]{0,12}",
    ) {
        let raw = format!("{before}{letter}{after}");
        prop_assert_eq!(PhoneNumber::parse(&raw, Some("US")), Err(PhoneError::NotDigits));
    }

    #[test]
    fn extensions_are_up_to_ten_digits(raw in any::<String>()) {
        if let Ok(Some(ext)) = parse_extension(&raw) {
            prop_assert!(ext.len() <= 10 && ext.bytes().all(|b| b.is_ascii_digit()));
        }
    }

    #[test]
    fn a_code_is_eight_digits_or_refused(raw in any::<String>()) {
        let digits: String = raw.chars().filter(|c| !matches!(c, ' ' | '-' | '\u{a0}')).collect();
        let is_code = digits.len() == 8 && digits.bytes().all(|b| b.is_ascii_digit());
        match OneTimeCode::parse(&raw) {
            Ok(code) => prop_assert!(is_code && code.digits() == digits),
            Err(_) => prop_assert!(!is_code),
        }
    }

    #[test]
    fn a_typed_code_may_be_spaced_and_dashed(
        value in 0u32..100_000_000,
        separators in proptest::collection::vec(prop_oneof![Just(""), Just(" "), Just("-")], 8),
    ) {
        let digits = format!("{value:08}");
        let typed: String = digits
            .chars()
            .zip(&separators)
            .map(|(d, s)| format!("{s}{d}"))
            .collect();
        let code = OneTimeCode::parse(&typed).unwrap();
        prop_assert_eq!(code.digits(), digits.as_str());
    }

    #[test]
    fn every_generated_code_parses_back(draws in proptest::collection::vec(any::<u32>(), 1..8)) {
        let mut draws = draws.into_iter().cycle();
        let code = OneTimeCode::generate(|| draws.next().unwrap_or(0) % 4_000_000_000);
        prop_assert_eq!(OneTimeCode::parse(code.digits()).unwrap(), code);
    }

    #[test]
    fn an_email_is_short_trimmed_and_folded_or_refused(raw in any::<String>()) {
        if let Ok(email) = Email::parse(&raw) {
            prop_assert!(email.as_str().len() <= 254 && email.as_str().contains('@'));
            prop_assert_eq!(email.normalized(), email.as_str().to_lowercase());
            prop_assert_eq!(Email::parse(email.as_str()).unwrap(), email.clone());
        }
    }

    #[test]
    fn a_plausible_email_is_accepted(local in "[a-z0-9._+-]{1,30}", domain in "[a-z0-9-]{1,20}\\.[a-z]{2,6}") {
        let raw = format!("{local}@{domain}");
        let email = Email::parse(&raw).unwrap();
        prop_assert_eq!(email.normalized(), raw.as_str());
    }

    #[test]
    fn form_fields_of_words_parse_only_to_their_values(raw in any::<String>()) {
        if let Ok(role) = Role::parse(&raw) {
            prop_assert_eq!(role.as_str(), raw.as_str());
        }
        if let Some(rule) = RequireTwoFactor::parse(&raw) {
            prop_assert_eq!(rule.as_str(), raw.as_str());
        }
        if let Some(channel) = Channel::parse(&raw) {
            prop_assert_eq!(channel.as_str(), raw.as_str());
        }
        if let Ok(country) = Country::parse(&raw) {
            prop_assert_eq!(country.code().len(), 2);
        }
        if let Ok(name) = Name::parse(&raw) {
            let length = name.as_str().chars().count();
            prop_assert!((1..=100).contains(&length));
        }
    }

    #[test]
    fn query_times_round_trip_or_are_refused(raw in any::<String>(), seconds in 0i64..4_102_444_800) {
        if let Some(t) = Timestamp::parse_rfc3339(&raw) {
            prop_assert_eq!(Timestamp::parse_rfc3339(&t.to_rfc3339()), Some(t));
        }
        let t = Timestamp(seconds);
        prop_assert_eq!(Timestamp::parse_rfc3339(&t.to_rfc3339()), Some(t));
    }

    #[test]
    fn cookies_and_addresses_never_panic(cookie in any::<String>(), ip in any::<String>()) {
        let devices = BrowserDevices::parse(&cookie);
        prop_assert!(devices.token_for("00").is_none_or(|t| t.len() <= 64));
        prop_assert!(!client_key(&ip).is_empty() || ip.is_empty());
    }
}
