//! A software passkey authenticator of the tests' own: it answers WebAuthn's JSON options as a
//! browser and a platform authenticator would (ES256 keys by ring, attestation `none`, the
//! CBOR written out by hand from the WebAuthn and CTAP2 specifications), and can be told to
//! misbehave in each way a relying party must refuse. Chromium's virtual authenticator, in
//! the browser tests, is the second, independent implementation.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair};
use serde_json::{Value, json};

/// Authenticator data flags (WebAuthn §6.1).
pub const USER_PRESENT: u8 = 0x01;
pub const USER_VERIFIED: u8 = 0x04;
const ATTESTED_CREDENTIAL: u8 = 0x40;

/// One passkey the authenticator holds.
pub struct Credential {
    pub id: Vec<u8>,
    key: EcdsaKeyPair,
    pub user_handle: Vec<u8>,
    pub rp_id: String,
    pub counter: u32,
}

/// How one answer departs from a faithful one.
#[derive(Default, Clone)]
pub struct Misbehave {
    /// The origin the client data names, instead of the authenticator's own.
    pub origin: Option<String>,
    /// The challenge the client data names (base64url), instead of the options'.
    pub challenge: Option<String>,
    /// The flags, instead of user present and verified.
    pub flags: Option<u8>,
    /// The signature counter, instead of the next one.
    pub counter: Option<u32>,
    /// Sign other client data than the one sent.
    pub sign_other_data: bool,
    /// Register a new key under this credential id, instead of a new id.
    pub credential_id: Option<Vec<u8>>,
    /// The user handle an assertion names, instead of the one the credential was made for.
    pub user_handle: Option<Vec<u8>>,
}

pub struct Authenticator {
    origin: String,
    pub credentials: Vec<Credential>,
    /// Whether each assertion moves the counter on (a security key), or it stays 0 (most
    /// synced passkeys).
    pub counting: bool,
}

impl Authenticator {
    /// An authenticator in a browser at `origin` (`http://localhost:PORT`).
    pub fn new(origin: &str) -> Self {
        Authenticator {
            origin: origin.trim_end_matches('/').to_owned(),
            credentials: Vec::new(),
            counting: true,
        }
    }

    /// For a latch at `base` (`http://127.0.0.1:PORT/`): browsers use it by `localhost`.
    pub fn for_latch(base: &str) -> Self {
        let url = url::Url::parse(base).unwrap();
        Authenticator::new(&format!("http://localhost:{}", url.port().unwrap()))
    }

    /// `navigator.credentials.create` with these options (`{"publicKey": ...}`): a new
    /// credential, kept, and the `RegistrationResponseJSON` to send.
    pub fn create(&mut self, options: &Value) -> Value {
        self.create_misbehaving(options, &Misbehave::default())
    }

    pub fn create_misbehaving(&mut self, options: &Value, how: &Misbehave) -> Value {
        let options = &options["publicKey"];
        let rp_id = options["rp"]["id"].as_str().expect("an rp id").to_owned();
        let challenge = options["challenge"].as_str().expect("a challenge");
        assert!(
            options["pubKeyCredParams"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["alg"] == -7),
            "ES256 is offered: {options}"
        );
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), &rng)
            .unwrap();
        let id: Vec<u8> = how.credential_id.clone().unwrap_or_else(|| {
            ring::rand::generate::<[u8; 32]>(&rng)
                .unwrap()
                .expose()
                .to_vec()
        });
        let user_handle = URL_SAFE_NO_PAD
            .decode(options["user"]["id"].as_str().expect("a user handle"))
            .unwrap();
        let client_data = self.client_data("webauthn.create", challenge, how);
        let flags = how.flags.unwrap_or(USER_PRESENT | USER_VERIFIED) | ATTESTED_CREDENTIAL;
        let mut auth_data = authenticator_data(&rp_id, flags, how.counter.unwrap_or(0));
        auth_data.extend_from_slice(&[0u8; 16]); // AAGUID: none
        auth_data.extend_from_slice(&u16::try_from(id.len()).unwrap().to_be_bytes());
        auth_data.extend_from_slice(&id);
        auth_data.extend_from_slice(&cose_key(key.public_key().as_ref()));
        let attestation = attestation_object(&auth_data);
        let answer = json!({
            "id": URL_SAFE_NO_PAD.encode(&id),
            "rawId": URL_SAFE_NO_PAD.encode(&id),
            "type": "public-key",
            "response": {
                "attestationObject": URL_SAFE_NO_PAD.encode(attestation),
                "clientDataJSON": URL_SAFE_NO_PAD.encode(&client_data),
                "transports": ["internal"],
            },
            "clientExtensionResults": {"credProps": {"rk": true}},
        });
        self.credentials.push(Credential {
            id,
            key,
            user_handle,
            rp_id,
            counter: how.counter.unwrap_or(0),
        });
        answer
    }

    /// `navigator.credentials.get` with these options: an assertion by the credential they
    /// allow (or, allowing any, the one for their relying party), as
    /// `AuthenticationResponseJSON`.
    pub fn get(&mut self, options: &Value) -> Value {
        self.get_misbehaving(options, &Misbehave::default())
    }

    pub fn get_misbehaving(&mut self, options: &Value, how: &Misbehave) -> Value {
        let options = &options["publicKey"];
        assert_eq!(options["userVerification"], "required", "{options}");
        let rp_id = options["rpId"].as_str().expect("an rp id");
        let allowed: Vec<Vec<u8>> = options["allowCredentials"]
            .as_array()
            .map(|list| {
                list.iter()
                    .map(|c| URL_SAFE_NO_PAD.decode(c["id"].as_str().unwrap()).unwrap())
                    .collect()
            })
            .unwrap_or_default();
        let challenge = options["challenge"].as_str().expect("a challenge");
        let client_data = self.client_data("webauthn.get", challenge, how);
        let other_data = self.client_data("webauthn.get", "b3RoZXI", &Misbehave::default());
        let counting = self.counting;
        let credential = self
            .credentials
            .iter_mut()
            .rev()
            .find(|c| c.rp_id == rp_id && (allowed.is_empty() || allowed.contains(&c.id)))
            .expect("a credential these options allow");
        if counting {
            credential.counter += 1;
        }
        let counter = how.counter.unwrap_or(credential.counter);
        let flags = how.flags.unwrap_or(USER_PRESENT | USER_VERIFIED);
        let auth_data = authenticator_data(rp_id, flags, counter);
        let signed_data = if how.sign_other_data {
            other_data
        } else {
            client_data.clone()
        };
        let mut message = auth_data.clone();
        message
            .extend_from_slice(ring::digest::digest(&ring::digest::SHA256, &signed_data).as_ref());
        let signature = credential.key.sign(&SystemRandom::new(), &message).unwrap();
        json!({
            "id": URL_SAFE_NO_PAD.encode(&credential.id),
            "rawId": URL_SAFE_NO_PAD.encode(&credential.id),
            "type": "public-key",
            "response": {
                "authenticatorData": URL_SAFE_NO_PAD.encode(&auth_data),
                "clientDataJSON": URL_SAFE_NO_PAD.encode(&client_data),
                "signature": URL_SAFE_NO_PAD.encode(signature.as_ref()),
                "userHandle": URL_SAFE_NO_PAD.encode(how.user_handle.as_ref().unwrap_or(&credential.user_handle)),
            },
            "clientExtensionResults": {},
        })
    }

    fn client_data(&self, kind: &str, challenge: &str, how: &Misbehave) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "type": kind,
            "challenge": how.challenge.as_deref().unwrap_or(challenge),
            "origin": how.origin.as_deref().unwrap_or(&self.origin),
            "crossOrigin": false,
        }))
        .unwrap()
    }
}

/// The relying party id's hash, the flags and the counter (WebAuthn §6.1).
fn authenticator_data(rp_id: &str, flags: u8, counter: u32) -> Vec<u8> {
    let mut data = ring::digest::digest(&ring::digest::SHA256, rp_id.as_bytes())
        .as_ref()
        .to_vec();
    data.push(flags);
    data.extend_from_slice(&counter.to_be_bytes());
    data
}

/// An uncompressed P-256 point (`04 || x || y`) as a COSE_Key for ES256 (RFC 9053 §7.1.1):
/// `{1: 2, 3: -7, -1: 1, -2: x, -3: y}`.
fn cose_key(point: &[u8]) -> Vec<u8> {
    assert_eq!((point.len(), point[0]), (65, 4), "an uncompressed point");
    let mut key = vec![0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21, 0x58, 0x20];
    key.extend_from_slice(&point[1..33]);
    key.extend_from_slice(&[0x22, 0x58, 0x20]);
    key.extend_from_slice(&point[33..]);
    key
}

/// `{"fmt": "none", "attStmt": {}, "authData": auth_data}` in CBOR (WebAuthn §6.5.4).
fn attestation_object(auth_data: &[u8]) -> Vec<u8> {
    let mut object = vec![0xa3];
    object.extend_from_slice(&text("fmt"));
    object.extend_from_slice(&text("none"));
    object.extend_from_slice(&text("attStmt"));
    object.push(0xa0);
    object.extend_from_slice(&text("authData"));
    match u8::try_from(auth_data.len()) {
        Ok(length) => object.extend_from_slice(&[0x58, length]),
        Err(_) => {
            object.push(0x59);
            object.extend_from_slice(&u16::try_from(auth_data.len()).unwrap().to_be_bytes());
        }
    }
    object.extend_from_slice(auth_data);
    object
}

/// A short CBOR text string.
fn text(s: &str) -> Vec<u8> {
    let mut out = vec![0x60 | u8::try_from(s.len()).unwrap()];
    out.extend_from_slice(s.as_bytes());
    out
}
