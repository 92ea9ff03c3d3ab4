//! Authenticator-app codes (TOTP, RFC 6238): a 160-bit secret, 6 digits, 30-second steps,
//! HMAC-SHA-1, which is what every app reads; a typed code is judged against the step of now
//! and one either side, and a step once used is never accepted again.

use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;
use subtle::ConstantTimeEq;

/// Seconds a code stands for.
pub const STEP_SECONDS: i64 = 30;
/// Digits of a code.
pub const DIGITS: u32 = 6;
/// Steps accepted either side of now, for a phone's clock a little off.
const DRIFT_STEPS: i64 = 1;

/// The secret an app and latch share: 20 random bytes, written in base32 for typing.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpSecret([u8; 20]);

impl std::fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSecret(********)")
    }
}

impl TotpSecret {
    pub fn from_bytes(bytes: [u8; 20]) -> Self {
        TotpSecret(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; 20] {
        &self.0
    }

    /// The secret as an app takes it typed: RFC 4648 base32, no padding.
    pub fn base32(&self) -> String {
        base32(&self.0)
    }

    /// The secret in groups of four, easier to read aloud and type.
    pub fn grouped(&self) -> String {
        let plain = self.base32();
        let groups: Vec<&str> = plain
            .as_bytes()
            .chunks(4)
            .map(|c| std::str::from_utf8(c).unwrap_or_default())
            .collect();
        groups.join(" ")
    }

    /// The `otpauth://` address a QR code carries (Key Uri Format): the issuer names the app
    /// entry, the account tells the person's entries apart.
    pub fn uri(&self, issuer: &str, account: &str) -> String {
        let issuer_enc = uri_encode(issuer);
        format!(
            "otpauth://totp/{issuer_enc}:{}?secret={}&issuer={issuer_enc}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
            uri_encode(account),
            self.base32()
        )
    }

    /// The code of one time step.
    pub fn code_at(&self, step: i64) -> u32 {
        let mut mac = <Hmac<Sha1> as KeyInit>::new_from_slice(&self.0)
            .expect("HMAC takes a key of any length");
        mac.update(&step.to_be_bytes());
        let digest = mac.finalize().into_bytes();
        let offset = usize::from(digest[19] & 0x0f);
        let word = u32::from_be_bytes([
            digest[offset] & 0x7f,
            digest[offset + 1],
            digest[offset + 2],
            digest[offset + 3],
        ]);
        word % 10u32.pow(DIGITS)
    }
}

/// The time step an instant falls in.
pub fn step_of(unix_seconds: i64) -> i64 {
    unix_seconds.div_euclid(STEP_SECONDS)
}

/// What a typed app code is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TotpJudgement {
    /// Not six digits (spaces and dashes aside): not a guess, and it counts toward nothing.
    Malformed,
    /// The code of this step, which is newer than the last step used: it is the one to keep.
    Right { step: i64 },
    /// A guess that failed, or a code of a step already used.
    Wrong,
}

/// Judges a typed code at `now` against the steps of now and one either side, none at or
/// before `last_used_step`, so that a code seen over a shoulder works no second time.
pub fn judge(
    secret: &TotpSecret,
    typed: &str,
    now_unix_seconds: i64,
    last_used_step: Option<i64>,
) -> TotpJudgement {
    let digits: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    if digits.len() != DIGITS as usize || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return TotpJudgement::Malformed;
    }
    let now = step_of(now_unix_seconds);
    let mut found = None;
    // Every candidate is compared, in constant time, whatever matched before.
    for step in (now - DRIFT_STEPS)..=(now + DRIFT_STEPS) {
        let expected = format!("{:0width$}", secret.code_at(step), width = DIGITS as usize);
        let same = bool::from(expected.as_bytes().ct_eq(digits.as_bytes()));
        if same && last_used_step.is_none_or(|used| step > used) && found.is_none() {
            found = Some(step);
        }
    }
    match found {
        Some(step) => TotpJudgement::Right { step },
        None => TotpJudgement::Wrong,
    }
}

const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

fn base32(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &byte in bytes {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

/// Percent-encodes all but unreserved characters (RFC 3986), for a label in a URI.
fn uri_encode(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(char::from(byte));
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238's key for SHA-1: the ASCII of "12345678901234567890".
    fn rfc_secret() -> TotpSecret {
        TotpSecret::from_bytes(*b"12345678901234567890")
    }

    /// RFC 6238, Appendix B, SHA-1 rows: the 8-digit values there, of which an app shows the
    /// last 6.
    #[test]
    fn codes_follow_the_rfcs_test_vectors() {
        let vectors = [
            (59, 94_287_082),
            (1_111_111_109, 7_081_804),
            (1_111_111_111, 14_050_471),
            (1_234_567_890, 89_005_924),
            (2_000_000_000, 69_279_037),
            (20_000_000_000, 65_353_130),
        ];
        for (time, eight_digits) in vectors {
            assert_eq!(
                rfc_secret().code_at(step_of(time)),
                eight_digits % 1_000_000,
                "T = {time}"
            );
        }
    }

    /// RFC 4648, section 10.
    #[test]
    fn the_secret_is_written_in_base32_as_the_rfc_does() {
        assert_eq!(base32(b""), "");
        assert_eq!(base32(b"f"), "MY");
        assert_eq!(base32(b"fo"), "MZXQ");
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
        assert_eq!(rfc_secret().base32(), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert_eq!(rfc_secret().grouped().split(' ').count(), 8);
    }

    #[test]
    fn a_code_is_taken_one_step_either_side_and_once() {
        let secret = rfc_secret();
        let now = 1_111_111_111;
        let code = |step: i64| format!("{:06}", secret.code_at(step));
        let here = step_of(now);
        for step in [here - 1, here, here + 1] {
            assert_eq!(
                judge(&secret, &code(step), now, None),
                TotpJudgement::Right { step }
            );
        }
        assert_eq!(
            judge(&secret, &code(here - 2), now, None),
            TotpJudgement::Wrong
        );
        assert_eq!(
            judge(&secret, &code(here + 2), now, None),
            TotpJudgement::Wrong
        );
        assert_eq!(
            judge(&secret, &code(here), now, Some(here)),
            TotpJudgement::Wrong,
            "a step once used is not taken again"
        );
        assert_eq!(
            judge(&secret, &code(here + 1), now, Some(here)),
            TotpJudgement::Right { step: here + 1 }
        );
        let spaced = format!("{} {}", &code(here)[..3], &code(here)[3..]);
        assert_eq!(
            judge(&secret, &spaced, now, None),
            TotpJudgement::Right { step: here }
        );
        for malformed in ["", "12345", "1234567", "12a456", "１２３４５６"] {
            assert_eq!(
                judge(&secret, malformed, now, None),
                TotpJudgement::Malformed,
                "{malformed:?}"
            );
        }
    }

    #[test]
    fn the_address_an_app_reads_names_the_issuer_and_the_account() {
        let uri = rfc_secret().uri("Harbor Counseling", "sam@harbor.test");
        assert_eq!(
            uri,
            "otpauth://totp/Harbor%20Counseling:sam%40harbor.test?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
             &issuer=Harbor%20Counseling&algorithm=SHA1&digits=6&period=30"
        );
        assert!(
            !format!("{:?}", rfc_secret()).contains("GEZ"),
            "never printed"
        );
    }
}
