//! The RSA keys latch signs its tokens with (RS256, RFC 7518 §3.3): made, sealed for the
//! database, opened to sign a JWT, and their public halves as a JWKS shows them.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openssl::bn::BigNum;
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::sign::{Signer, Verifier};

use crate::crypto::{Keys, base64url, new_id};
use crate::records::SigningKeyRecord;
use latch_domain::Timestamp;

/// 2048 bits: what RFC 7518 asks at least, and what every relying party's library checks
/// quickly; signing with it is the floor of an application sign-in's cost.
const RSA_BITS: u32 = 2048;

/// A new signing key, its private half sealed under the server key. Making an RSA key takes
/// tens of milliseconds of one core: call this off the async runtime.
pub fn generate(keys: &Keys, now: Timestamp) -> SigningKeyRecord {
    let rsa = Rsa::generate(RSA_BITS).expect("OpenSSL makes an RSA key");
    let id = new_id();
    let (n, e) = (rsa.n().to_vec(), rsa.e().to_vec());
    let private = PKey::from_rsa(rsa)
        .and_then(|key| key.private_key_to_pkcs8())
        .expect("an RSA key writes as PKCS #8");
    SigningKeyRecord {
        sealed_private_key: keys.seal_signing_key(&id, &private),
        public_n: base64url(&n),
        public_e: base64url(&e),
        id,
        created_at: now,
        retired_at: None,
    }
}

/// A key opened to sign with.
pub struct SigningKey {
    id: String,
    private: PKey<Private>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey({})", self.id)
    }
}

impl SigningKey {
    /// Opens a stored key; none when it was sealed under another server key or changed.
    pub fn open(keys: &Keys, record: &SigningKeyRecord) -> Option<SigningKey> {
        let der = keys.open_signing_key(&record.id, &record.sealed_private_key)?;
        let private = PKey::private_key_from_pkcs8(&der).ok()?;
        Some(SigningKey {
            id: record.id.clone(),
            private,
        })
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// A compact JWS of `claims` (JSON), its header naming this key.
    pub fn sign_jwt(&self, claims: &[u8]) -> String {
        self.sign_typed(claims, "JWT")
    }

    /// The same with another `typ` (`logout+jwt` for a back-channel logout token, as
    /// Back-Channel Logout 1.0 §2.4 recommends, so it cannot pass for an ID token).
    pub fn sign_typed(&self, claims: &[u8], typ: &str) -> String {
        let header = format!(r#"{{"alg":"RS256","typ":"{typ}","kid":"{}"}}"#, self.id);
        let signing_input = format!("{}.{}", base64url(header.as_bytes()), base64url(claims));
        let mut signer =
            Signer::new(MessageDigest::sha256(), &self.private).expect("RSA signs SHA-256");
        signer
            .update(signing_input.as_bytes())
            .expect("signing reads any input");
        let signature = signer.sign_to_vec().expect("an RSA key signs");
        format!("{signing_input}.{}", base64url(&signature))
    }
}

/// The claims of a JWT latch signed with one of `keys`, its signature checked; none when it
/// is not one (a forged or changed token, or one whose key is no longer published). Its
/// times are not judged here.
pub fn verify_jwt(jwt: &str, keys: &[SigningKeyRecord]) -> Option<serde_json::Value> {
    let mut parts = jwt.split('.');
    let (header, claims, signature) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let decode = |part: &str| URL_SAFE_NO_PAD.decode(part).ok();
    let header: serde_json::Value = serde_json::from_slice(&decode(header)?).ok()?;
    if header["alg"] != "RS256" {
        return None;
    }
    let record = keys.iter().find(|k| header["kid"] == k.id.as_str())?;
    let n = BigNum::from_slice(&decode(&record.public_n)?).ok()?;
    let e = BigNum::from_slice(&decode(&record.public_e)?).ok()?;
    let public = PKey::from_rsa(Rsa::from_public_components(n, e).ok()?).ok()?;
    let mut verifier = Verifier::new(MessageDigest::sha256(), &public).ok()?;
    let signed = &jwt[..jwt.rfind('.')?];
    verifier.update(signed.as_bytes()).ok()?;
    if !verifier.verify(&decode(signature)?).ok()? {
        return None;
    }
    serde_json::from_slice(&decode(claims)?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The JWKS's modulus and exponent verify what the sealed private half signed: the test a
    /// relying party makes.
    #[test]
    fn a_token_signed_with_a_stored_key_verifies_with_its_public_half() {
        let keys = Keys::derive(&[9u8; 32]);
        let record = generate(&keys, Timestamp(1_000));
        assert_eq!(record.public_e, "AQAB", "65537");
        // Not a key any parser reads (a random seal may hold any three letters, "MII" too).
        let sealed = &record.sealed_private_key;
        assert!(
            PKey::private_key_from_pem(sealed.as_bytes()).is_err(),
            "sealed, not PEM"
        );
        assert!(
            URL_SAFE_NO_PAD
                .decode(sealed)
                .map_or(true, |der| PKey::private_key_from_der(&der).is_err()),
            "sealed, not DER"
        );
        let key = SigningKey::open(&keys, &record).expect("opens under its server key");
        let jwt = key.sign_jwt(br#"{"sub":"p1"}"#);
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        let header = URL_SAFE_NO_PAD.decode(parts[0]).unwrap();
        assert_eq!(
            String::from_utf8(header).unwrap(),
            format!(r#"{{"alg":"RS256","typ":"JWT","kid":"{}"}}"#, record.id)
        );

        let n = BigNum::from_slice(&URL_SAFE_NO_PAD.decode(&record.public_n).unwrap()).unwrap();
        let e = BigNum::from_slice(&URL_SAFE_NO_PAD.decode(&record.public_e).unwrap()).unwrap();
        let public = PKey::from_rsa(Rsa::from_public_components(n, e).unwrap()).unwrap();
        let verify = |input: &str, signature: &str| {
            let mut verifier = Verifier::new(MessageDigest::sha256(), &public).unwrap();
            verifier.update(input.as_bytes()).unwrap();
            verifier
                .verify(&URL_SAFE_NO_PAD.decode(signature).unwrap())
                .unwrap()
        };
        let signed = format!("{}.{}", parts[0], parts[1]);
        assert!(verify(&signed, parts[2]));
        let forged = format!("{}.{}", parts[0], base64url(br#"{"sub":"p2"}"#));
        assert!(
            !verify(&forged, parts[2]),
            "another payload does not verify"
        );

        assert!(
            SigningKey::open(&Keys::derive(&[8u8; 32]), &record).is_none(),
            "another server key opens nothing"
        );
        let moved = SigningKeyRecord {
            id: "another".into(),
            ..record
        };
        assert!(SigningKey::open(&keys, &moved).is_none(), "bound to its id");
    }

    #[test]
    fn only_a_token_latch_signed_with_a_published_key_is_read_back() {
        let keys = Keys::derive(&[9u8; 32]);
        let record = generate(&keys, Timestamp(1_000));
        let other = generate(&keys, Timestamp(1_000));
        let key = SigningKey::open(&keys, &record).unwrap();
        let jwt = key.sign_jwt(br#"{"sub":"p1","sid":"s1"}"#);
        let claims = verify_jwt(&jwt, std::slice::from_ref(&record)).expect("verifies");
        assert_eq!(claims["sid"], "s1");
        assert!(
            verify_jwt(&jwt, std::slice::from_ref(&other)).is_none(),
            "its key is gone"
        );
        let parts: Vec<&str> = jwt.split('.').collect();
        let forged = format!(
            "{}.{}.{}",
            parts[0],
            base64url(br#"{"sid":"s2"}"#),
            parts[2]
        );
        assert!(verify_jwt(&forged, std::slice::from_ref(&record)).is_none());
        let unsigned = format!(
            "{}.{}.",
            base64url(format!(r#"{{"alg":"none","kid":"{}"}}"#, record.id).as_bytes()),
            parts[1]
        );
        assert!(verify_jwt(&unsigned, std::slice::from_ref(&record)).is_none());
        assert!(verify_jwt("not.a.jwt.at-all", std::slice::from_ref(&record)).is_none());
    }
}
