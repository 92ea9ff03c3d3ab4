//! Randomness, token hashing and the per-purpose keys derived from the server key.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hkdf::Hkdf;
use hmac::{Hmac, KeyInit, Mac};
use ring::aead;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::ids::PersonId;
use crate::secret::Secret;

/// Per-purpose keys, derived with HKDF-SHA-256 from the one server key (`LATCH_SECRET_KEY`), so
/// that a key leaked from one use tells nothing about another. The same on every node.
#[derive(Clone)]
pub struct Keys {
    csrf: [u8; 32],
    setup: [u8; 32],
    code: [u8; 32],
    device_tag: [u8; 32],
    call: [u8; 32],
    flash: [u8; 32],
    signing: [u8; 32],
    waiting: [u8; 32],
    mail: [u8; 32],
    method: [u8; 32],
    recovery: [u8; 32],
}

impl Keys {
    pub fn derive(server_key: &[u8]) -> Self {
        let hk = Hkdf::<Sha256>::new(Some(b"latch key derivation v1"), server_key);
        let expand = |info: &[u8]| {
            let mut okm = [0u8; 32];
            // 32 bytes is far below HKDF-SHA-256's limit, so expand cannot fail.
            hk.expand(info, &mut okm)
                .expect("32 bytes is a valid HKDF-SHA-256 length");
            okm
        };
        Keys {
            csrf: expand(b"csrf form token"),
            setup: expand(b"one-time setup token"),
            code: expand(b"one-time code hash"),
            device_tag: expand(b"remembered device tag"),
            call: expand(b"voice call code seal"),
            flash: expand(b"form flash seal"),
            signing: expand(b"signing key seal"),
            waiting: expand(b"waiting authorization request seal"),
            mail: expand(b"queued mail seal"),
            method: expand(b"two-factor method seal"),
            recovery: expand(b"recovery code hash"),
        }
    }

    /// The form token that goes with a browser's CSRF cookie.
    pub fn csrf_token_for(&self, cookie_value: &str) -> String {
        hmac_hex(&self.csrf, cookie_value.as_bytes())
    }

    /// The installation's one-time setup token: every node with the same key derives the same
    /// token from the installation's nonce, so each can show it while only its hash is stored.
    pub fn setup_token(&self, installation_nonce: &str) -> Secret {
        Secret::new(hmac_hex(&self.setup, installation_nonce.as_bytes())[..32].to_owned())
    }
}

impl Keys {
    /// SECURITY: a code is stored only as an HMAC bound to its challenge, so a leaked row gives
    /// no code, and a code of another sign-in never matches.
    pub fn code_hash(&self, challenge_id: &str, digits: &str) -> String {
        hmac_hex(&self.code, format!("{challenge_id}:{digits}").as_bytes())
    }

    /// Seals a code's digits for a voice call under a pad derived from this key and the call's
    /// one-time token. Without the token, which only the call's URL carries, the sealed digits
    /// say nothing.
    pub fn seal_call_code(&self, token: &str, digits: &str) -> String {
        self.shift_digits(token, digits, true)
    }

    pub fn unseal_call_code(&self, token: &str, sealed: &str) -> String {
        self.shift_digits(token, sealed, false)
    }

    /// Adds (or takes away) a pad digit per digit, modulo 10. Each pad digit comes from two
    /// bytes of HMAC output, so it is uniform to within 6 in 65,536.
    fn shift_digits(&self, token: &str, digits: &str, seal: bool) -> String {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.call)
            .expect("HMAC takes any key length");
        mac.update(token.as_bytes());
        let pad = mac.finalize().into_bytes();
        digits
            .bytes()
            .take(16)
            .enumerate()
            .map(|(i, d)| {
                let p = (u16::from_le_bytes([pad[2 * i], pad[2 * i + 1]]) % 10) as u8;
                let d = d.wrapping_sub(b'0') % 10;
                let value = if seal {
                    (d + p) % 10
                } else {
                    (d + 10 - p) % 10
                };
                (b'0' + value) as char
            })
            .collect()
    }

    /// Seals what a refused form leaves for the page it redirects to, bound to one browser
    /// by `bound_to`: only this server can read or forge it, and it opens in no other browser.
    pub fn seal_flash(&self, bound_to: &str, plain: &[u8]) -> String {
        seal(&self.flash, bound_to, plain)
    }

    /// What `seal_flash` sealed for this browser; none when it was changed, sealed under
    /// another key or for another browser.
    pub fn open_flash(&self, bound_to: &str, sealed: &str) -> Option<Vec<u8>> {
        open(&self.flash, bound_to, sealed)
    }

    /// Seals an application's authorization request while its person signs in: only this
    /// server (any of its nodes) can read or forge it.
    pub fn seal_waiting_request(&self, plain: &[u8]) -> String {
        seal(&self.waiting, "authorization request", plain)
    }

    pub fn open_waiting_request(&self, sealed: &str) -> Option<Vec<u8>> {
        open(&self.waiting, "authorization request", sealed)
    }

    /// SECURITY: an email waits in the queue sealed, so the links it carries (a password
    /// reset, an invitation) are no more in the database than their tokens are.
    pub fn seal_mail(&self, plain: &[u8]) -> String {
        seal(&self.mail, "queued mail", plain)
    }

    pub fn open_mail(&self, sealed: &str) -> Option<Vec<u8>> {
        open(&self.mail, "queued mail", sealed)
    }

    /// SECURITY: a signing key's private half is kept only sealed under a key derived from the
    /// server key and bound to its key id, so a leaked database signs nothing.
    pub fn seal_signing_key(&self, key_id: &str, private_der: &[u8]) -> String {
        seal(&self.signing, key_id, private_der)
    }

    pub fn open_signing_key(&self, key_id: &str, sealed: &str) -> Option<Vec<u8>> {
        open(&self.signing, key_id, sealed)
    }

    /// SECURITY: an app's secret must be read to check a code, so it is kept sealed under a
    /// key derived from the server key and bound to what holds it (the method's id, or an
    /// enrolment's session): a leaked database makes no codes.
    pub fn seal_method_secret(&self, bound_to: &str, plain: &[u8]) -> String {
        seal(&self.method, bound_to, plain)
    }

    pub fn open_method_secret(&self, bound_to: &str, sealed: &str) -> Option<Vec<u8>> {
        open(&self.method, bound_to, sealed)
    }

    /// SECURITY: a recovery code is kept as an HMAC bound to its person under a key of the
    /// server's, so a leaked database cannot be searched for its 50 bits offline.
    pub fn recovery_code_hash(&self, person_id: &PersonId, code: &str) -> String {
        hmac_hex(
            &self.recovery,
            format!("{}:{code}", person_id.as_str()).as_bytes(),
        )
    }

    /// The tag under which a browser's cookie keeps a person's device token: it names nobody.
    pub fn device_tag(&self, person_id: &PersonId) -> String {
        hmac_hex(&self.device_tag, person_id.as_str().as_bytes())[..24].to_owned()
    }

    /// The user handle a person's passkeys carry: stable, and naming nobody to whoever reads
    /// the authenticator (WebAuthn asks that it hold no personal information).
    pub fn passkey_user_handle(&self, person_id: &PersonId) -> [u8; 16] {
        let message = format!("passkey-user:{}", person_id.as_str());
        let mut handle = [0u8; 16];
        handle.copy_from_slice(&hmac(&self.device_tag, message.as_bytes())[..16]);
        handle
    }
}

/// AES-256-GCM under `key` with a random nonce, bound to `bound_to`: the nonce and the sealed
/// text, base64url.
fn seal(key: &[u8; 32], bound_to: &str, plain: &[u8]) -> String {
    let nonce = random_bytes::<{ aead::NONCE_LEN }>();
    let mut sealed = plain.to_vec();
    aead_key(key)
        .seal_in_place_append_tag(
            aead::Nonce::assume_unique_for_key(nonce),
            aead::Aad::from(bound_to.as_bytes()),
            &mut sealed,
        )
        .expect("what latch seals is far below AES-GCM's length limit");
    let mut out = nonce.to_vec();
    out.append(&mut sealed);
    URL_SAFE_NO_PAD.encode(out)
}

/// What `seal` sealed under `key` for `bound_to`; none when it was changed, or sealed under
/// another key or for another binding.
fn open(key: &[u8; 32], bound_to: &str, sealed: &str) -> Option<Vec<u8>> {
    let mut bytes = URL_SAFE_NO_PAD.decode(sealed).ok()?;
    if bytes.len() < aead::NONCE_LEN {
        return None;
    }
    let mut body = bytes.split_off(aead::NONCE_LEN);
    let nonce = aead::Nonce::try_assume_unique_for_key(&bytes).ok()?;
    let plain = aead_key(key)
        .open_in_place(nonce, aead::Aad::from(bound_to.as_bytes()), &mut body)
        .ok()?;
    Some(plain.to_vec())
}

fn aead_key(key: &[u8; 32]) -> aead::LessSafeKey {
    let key = aead::UnboundKey::new(&aead::AES_256_GCM, key).expect("32 bytes is an AES-256 key");
    aead::LessSafeKey::new(key)
}

/// base64url without padding, as JOSE writes it.
pub fn base64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A uniform 32-bit value from the operating system's CSPRNG.
pub fn random_u32() -> u32 {
    u32::from_le_bytes(random_bytes::<4>())
}

fn hmac_hex(key: &[u8], message: &[u8]) -> String {
    hex(&hmac(key, message))
}

fn hmac(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// `n` bytes from the operating system's CSPRNG.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).expect("the operating system's random source failed");
    bytes
}

/// A 256-bit random token for a cookie.
pub fn new_token() -> Secret {
    Secret::new(hex(&random_bytes::<32>()))
}

/// An opaque 128-bit random id for a row that people may name (a session, a person).
pub fn new_id() -> String {
    hex(&random_bytes::<16>())
}

/// SHA-256 of a token, as stored: a leaked database gives no usable cookie.
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// Whether a PKCE `code_verifier` answers an S256 `code_challenge` (RFC 7636 §4.6): the
/// verifier is 43 to 128 unreserved characters and the base64url of its SHA-256 is the
/// challenge, compared in constant time.
pub fn pkce_verifies(verifier: &str, challenge: &str) -> bool {
    let well_formed = (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
    well_formed
        && constant_time_eq(
            &URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())),
            challenge,
        )
}

/// Compares two strings in time independent of where they differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    out
}

/// Reads hex digits (either case) into bytes.
pub fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_256_bits_and_distinct() {
        let a = new_token();
        let b = new_token();
        assert_eq!(a.expose().len(), 64);
        assert_ne!(a.expose(), b.expose());
    }

    #[test]
    fn a_token_hash_is_not_the_token() {
        let t = new_token();
        let h = token_hash(t.expose());
        assert_eq!(h.len(), 64);
        assert_ne!(h, t.expose());
        assert_eq!(h, token_hash(t.expose()));
    }

    #[test]
    fn derived_keys_differ_by_purpose_and_by_server_key() {
        let k1 = Keys::derive(&[7u8; 32]);
        let k2 = Keys::derive(&[8u8; 32]);
        assert_ne!(k1.csrf_token_for("x"), k2.csrf_token_for("x"));
        assert_ne!(k1.csrf_token_for("x"), k1.setup_token("x").expose());
        assert_eq!(
            k1.setup_token("n").expose(),
            Keys::derive(&[7u8; 32]).setup_token("n").expose()
        );
    }

    /// RFC 7636, Appendix B.
    #[test]
    fn pkce_follows_the_rfcs_example() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(pkce_verifies(verifier, challenge));
        assert!(!pkce_verifies(verifier, &challenge.replace('E', "F")));
        let other = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXl";
        assert!(!pkce_verifies(other, challenge));
        assert!(!pkce_verifies("short", challenge), "43 characters at least");
        assert!(!pkce_verifies(&format!("{verifier} "), challenge));
        assert!(!pkce_verifies(&"a".repeat(129), challenge), "128 at most");
    }

    #[test]
    fn a_flash_opens_only_unchanged_for_its_browser_under_its_key() {
        let keys = Keys::derive(&[5u8; 32]);
        let sealed = keys.seal_flash("browser-a", b"{\"to\":\"/team\"}");
        assert_eq!(
            keys.open_flash("browser-a", &sealed).as_deref(),
            Some(&b"{\"to\":\"/team\"}"[..])
        );
        assert!(!sealed.contains("team"), "sealed, not merely signed");
        assert_ne!(sealed, keys.seal_flash("browser-a", b"{\"to\":\"/team\"}"));
        assert_eq!(keys.open_flash("browser-b", &sealed), None);
        assert_eq!(
            Keys::derive(&[6u8; 32]).open_flash("browser-a", &sealed),
            None
        );
        let mut changed = sealed.into_bytes();
        let last = changed.len() - 2;
        changed[last] = if changed[last] == b'A' { b'B' } else { b'A' };
        let changed = String::from_utf8(changed).unwrap();
        assert_eq!(keys.open_flash("browser-a", &changed), None);
        assert_eq!(keys.open_flash("browser-a", "short"), None);
        assert_eq!(keys.open_flash("browser-a", "not base64!"), None);
    }

    #[test]
    fn a_sealed_call_code_opens_only_with_its_token() {
        let keys = Keys::derive(&[3u8; 32]);
        let sealed = keys.seal_call_code("token-a", "04150926");
        assert_eq!(sealed.len(), 8);
        assert_eq!(keys.unseal_call_code("token-a", &sealed), "04150926");
        assert_ne!(keys.unseal_call_code("token-b", &sealed), "04150926");
    }

    #[test]
    fn hex_round_trips() {
        assert_eq!(hex(&[0, 15, 255]), "000fff");
        assert_eq!(unhex("000fFF"), Some(vec![0, 15, 255]));
        assert_eq!(unhex("0g"), None);
        assert_eq!(unhex("abc"), None);
    }
}
