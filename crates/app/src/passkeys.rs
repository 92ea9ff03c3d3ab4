//! Passkeys (WebAuthn): the relying party latch is, registering a person's passkey, and signing
//! in with one, as the second step after a password or alone. Every ceremony's state is kept
//! sealed in the database for five minutes, so whichever node the answer reaches finishes it,
//! once.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use latch_domain::device::BrowserDevices;
use latch_domain::method::MethodKind;
use latch_domain::session::{SecondFactor, SessionState};
use serde::Serialize;
use serde::de::DeserializeOwned;
use webauthn_rs::prelude::{
    Credential, DiscoverableAuthentication, Passkey, PasskeyAuthentication, PasskeyRegistration,
    PublicKeyCredential, RegisterPublicKeyCredential, Url, Uuid, WebauthnError,
};
use webauthn_rs::{Webauthn, WebauthnBuilder};

use crate::challenge::{OnRightCode, check_answer};
use crate::crypto::{new_id, new_token, token_hash};
use crate::error::{AppError, CodeOf, Field, Reason, Refusal};
use crate::latch::Core;
use crate::methods::{MethodConfirmed, MethodView, added_method, finish_required_setup, may_enrol};
use crate::password_check::{address_retry_after, count_against_address, password_address_key};
use crate::records::{Account, ClientInfo, Consume, MethodRecord, Person};
use crate::secret::Secret;
use crate::session::{Authenticated, tell_of_new_browser};
use crate::sign_in::{
    CodeAccepted, RememberedDevice, finish, open_signed_in, refuse_if_deactivated,
    refuse_if_locked, remember_if_asked,
};

/// How long a ceremony waits for its answer (WebAuthn's own default timeout).
const CEREMONY_SECONDS: i64 = 5 * 60;
/// The longest label a person may give a passkey.
const MAX_LABEL_CHARS: usize = 64;
/// A passkey's label when the person gives none.
const DEFAULT_LABEL: &str = "Passkey";

/// The relying party for `public_url`: its id is the URL's host. Browsers refuse WebAuthn on
/// an IP address, so a loopback address (a developer's machine, where each node listens on a
/// port of its own) is served as `localhost` on any port: a passkey of `localhost` belongs to
/// every port of it anyway. Any other address has no passkeys.
pub fn relying_party(public_url: &str, product_name: &str) -> Option<Webauthn> {
    let url = Url::parse(public_url).ok()?;
    let (origin, any_port) = match url.host()? {
        url::Host::Domain(_) => (url, false),
        url::Host::Ipv4(ip) if ip.is_loopback() => (localhost(&url)?, true),
        url::Host::Ipv6(ip) if ip.is_loopback() => (localhost(&url)?, true),
        _ => return None,
    };
    let rp_id = origin.host_str()?.to_owned();
    WebauthnBuilder::new(&rp_id, &origin)
        .ok()?
        .rp_name(product_name)
        .allow_any_port(any_port)
        .build()
        .ok()
}

fn localhost(url: &Url) -> Option<Url> {
    let mut local = url.clone();
    local.set_host(Some("localhost")).ok()?;
    Some(local)
}

/// A passkey sign-in begun: the options for `navigator.credentials.get`, and, for one without
/// a session, the token of the browser's cookie its answer must come with.
#[derive(Debug)]
pub struct SignInOptions {
    pub options: serde_json::Value,
    pub browser_token: Option<Secret>,
}

/// A passkey registered.
#[derive(Debug)]
pub struct PasskeyAdded {
    pub method: MethodView,
    pub confirmed: MethodConfirmed,
}

/// Signed in with a passkey alone.
#[derive(Debug)]
pub struct PasskeySignedIn {
    pub token: Secret,
    pub account: Account,
    pub remembered: Option<RememberedDevice>,
}

#[derive(Clone)]
pub struct PasskeyService {
    core: Arc<Core>,
    party: Option<Arc<Webauthn>>,
}

impl PasskeyService {
    pub(crate) fn new(core: Arc<Core>) -> Self {
        let settings = &core.settings;
        let party = relying_party(&settings.public_url, &settings.product_name).map(Arc::new);
        PasskeyService { core, party }
    }

    /// Whether passkeys work at this installation's address.
    pub fn available(&self) -> bool {
        self.party.is_some()
    }

    /// Begins registering a passkey: the options for `navigator.credentials.create`, with user
    /// verification required and a discoverable credential preferred, excluding the passkeys
    /// the person holds already.
    pub async fn registration_options(
        &self,
        who: &Authenticated,
    ) -> Result<serde_json::Value, AppError> {
        let core = &self.core;
        let party = self.party()?;
        may_enrol(core, who)?;
        if !who.account.practice.security.allows(MethodKind::Passkey) {
            return Err(AppError::MethodNotAllowed);
        }
        let person = &who.account.person;
        let held = passkeys_of(core, person).await?;
        let exclude = held.iter().map(|(_, p)| p.cred_id().clone()).collect();
        let handle = Uuid::from_bytes(core.keys.passkey_user_handle(&person.id));
        let (options, state) = party
            .start_passkey_registration(handle, person.email.as_str(), &person.name, Some(exclude))
            .map_err(library)?;
        let mut options = serde_json::to_value(options).map_err(internal)?;
        // The library asks for a non-discoverable credential; latch prefers one that is, so a
        // passkey can sign its person in alone.
        if let Some(selection) = options.pointer_mut("/publicKey/authenticatorSelection") {
            selection["residentKey"] = "preferred".into();
        }
        let bound_to = registration_bound_to(who);
        let sealed = seal(core, &bound_to, &state)?;
        let expires_at = core.clock.now().plus(CEREMONY_SECONDS);
        core.store
            .put_enrolment(&who.session.id, MethodKind::Passkey, &sealed, expires_at)
            .await?;
        Ok(options)
    }

    /// Finishes registering the passkey begun in this session with the browser's answer. The
    /// first method turns two-factor on (with recovery codes, shown once), and a sign-in held
    /// for the practice's required setup is signed in.
    pub async fn register(
        &self,
        who: &Authenticated,
        label: &str,
        credential: &serde_json::Value,
        client: &ClientInfo,
    ) -> Result<PasskeyAdded, AppError> {
        let core = &self.core;
        let party = &**self.party()?;
        may_enrol(core, who)?;
        let label = &passkey_label(label)?;
        let credential: &RegisterPublicKeyCredential = &read_credential(credential)?;
        let person = &who.account.person;
        core.in_one_transaction(move |core| async move {
            let core = &*core;
            let now = core.clock.now();
            // Taken first: a ceremony answered is used, right or wrong.
            let sealed = core
                .store
                .take_enrolment(&who.session.id, MethodKind::Passkey, now)
                .await?
                .ok_or(AppError::InvalidCredential)?;
            let state: PasskeyRegistration = open(core, &registration_bound_to(who), &sealed)?;
            let passkey = party
                .finish_passkey_registration(credential, &state)
                .map_err(refused)?;
            let id = new_id();
            let record = MethodRecord {
                sealed_secret: seal(core, &id, &passkey)?,
                id,
                person_id: person.id.clone(),
                kind: MethodKind::Passkey,
                label: label.clone(),
                last_step: None,
                credential_id: Some(URL_SAFE_NO_PAD.encode(passkey.cred_id())),
                created_at: now,
                last_used_at: None,
            };
            core.store.insert_method(&record).await?;
            let recovery_codes =
                added_method(core, who, MethodKind::Passkey, label, client).await?;
            if who.session.state == SessionState::TwoFactorSetupRequired {
                core.store.record_sign_in(&person.id, now).await?;
            }
            let signed_in = finish_required_setup(core, who, SecondFactor::Passkey, client).await?;
            Ok(PasskeyAdded {
                method: MethodView {
                    id: record.id,
                    kind: MethodKind::Passkey,
                    label: record.label,
                    created_at: Some(now),
                    last_used_at: None,
                },
                confirmed: MethodConfirmed {
                    recovery_codes,
                    signed_in,
                },
            })
        })
        .await
    }

    /// Begins a passkey sign-in: in a session waiting for its second step, for that person's
    /// passkeys; otherwise for any discoverable passkey of this site, which signs its person in
    /// alone, tied to a new browser token.
    pub async fn sign_in_options(
        &self,
        who: Option<&Authenticated>,
    ) -> Result<SignInOptions, AppError> {
        let core = &self.core;
        let party = self.party()?;
        let waiting = who.filter(|w| w.session.state == SessionState::TwoFactorRequired);
        let (options, key, sealed, browser_token) = match waiting {
            Some(who) => {
                let held = passkeys_of(core, &who.account.person).await?;
                if held.is_empty() {
                    return Err(not_held());
                }
                let passkeys: Vec<Passkey> = held.into_iter().map(|(_, p)| p).collect();
                let (options, state) = party
                    .start_passkey_authentication(&passkeys)
                    .map_err(library)?;
                let key = session_key(who);
                let sealed = seal(core, &key, &state)?;
                (options, key, sealed, None)
            }
            None => {
                let (mut options, state) =
                    party.start_discoverable_authentication().map_err(library)?;
                // Asked for by a button, not offered in the email field's autofill.
                options.mediation = None;
                let token = new_token();
                let key = browser_key(token.expose());
                let sealed = seal(core, &key, &state)?;
                (options, key, sealed, Some(token))
            }
        };
        let expires_at = core.clock.now().plus(CEREMONY_SECONDS);
        core.store
            .put_passkey_sign_in(&key, &sealed, expires_at)
            .await?;
        Ok(SignInOptions {
            options: serde_json::to_value(options).map_err(internal)?,
            browser_token,
        })
    }

    /// Finishes a sign-in waiting for its second step with a passkey's answer. A failed answer
    /// counts like a wrong code; with `remember`, the browser is remembered.
    pub async fn second_step(
        &self,
        who: &Authenticated,
        credential: &serde_json::Value,
        remember: bool,
        client: &ClientInfo,
    ) -> Result<CodeAccepted, AppError> {
        let core = &self.core;
        let party = &**self.party()?;
        if who.session.state != SessionState::TwoFactorRequired {
            return Err(AppError::NotSignedIn);
        }
        let credential: &PublicKeyCredential = &read_credential(credential)?;
        let person = &who.account.person;
        core.in_one_transaction(move |core| async move {
            let core = &*core;
            let key = session_key(who);
            let sealed = core
                .store
                .take_passkey_sign_in(&key, core.clock.now())
                .await?
                .ok_or(AppError::InvalidCredential)?;
            let state: PasskeyAuthentication = open(core, &key, &sealed)?;
            let used = URL_SAFE_NO_PAD.encode(credential.get_credential_id());
            let held = passkeys_of(core, person).await?;
            let answer = held
                .into_iter()
                .find(|(m, _)| m.credential_id.as_deref() == Some(used.as_str()))
                .and_then(|(method, passkey)| {
                    let result = party.finish_passkey_authentication(credential, &state);
                    verified(core, method, passkey, result)
                })
                .transpose()?;
            judge(core, person, answer.as_ref(), client).await?;
            let how = "password and passkey";
            finish(core, who, how, SecondFactor::Passkey, remember, client).await
        })
        .await
    }

    /// Signs a person in with a passkey alone: it verified them and cannot be phished, so it
    /// stands for both factors. Refused answers count against the address as wrong passwords
    /// do, and, once the passkey names its person, against them as wrong codes do.
    pub async fn alone(
        &self,
        browser_token: Option<&str>,
        credential: &serde_json::Value,
        remember: bool,
        client: &ClientInfo,
        browser: &BrowserDevices,
    ) -> Result<PasskeySignedIn, AppError> {
        let core = &self.core;
        let party = &**self.party()?;
        let ip_key = &password_address_key(client);
        if let Some(retry_after) = address_retry_after(core, ip_key).await? {
            return Err(AppError::rate_limited(retry_after));
        }
        let result = match (browser_token, read_credential(credential)) {
            (Some(token), Ok(credential)) => {
                let credential: &PublicKeyCredential = &credential;
                let key = &browser_key(token);
                core.in_one_transaction(move |core| async move {
                    sign_in_alone(&core, party, key, credential, remember, client, browser).await
                })
                .await
            }
            _ => Err(AppError::InvalidCredential),
        };
        if matches!(result, Err(AppError::InvalidCredential)) {
            count_against_address(core, ip_key).await?;
        }
        result
    }

    fn party(&self) -> Result<&Arc<Webauthn>, AppError> {
        self.party.as_ref().ok_or(AppError::PasskeysUnavailable)
    }
}

/// The unit of work of a passkey sign-in alone: the ceremony taken, its passkey and person
/// found, the answer judged, and a signed-in session opened.
async fn sign_in_alone(
    core: &Core,
    party: &Webauthn,
    key: &str,
    credential: &PublicKeyCredential,
    remember: bool,
    client: &ClientInfo,
    browser: &BrowserDevices,
) -> Result<PasskeySignedIn, AppError> {
    let sealed = core
        .store
        .take_passkey_sign_in(key, core.clock.now())
        .await?
        .ok_or(AppError::InvalidCredential)?;
    let state: DiscoverableAuthentication = open(core, key, &sealed)?;
    let (handle, used) = party
        .identify_discoverable_authentication(credential)
        .map_err(refused)?;
    let method = core
        .store
        .passkey_by_credential(&URL_SAFE_NO_PAD.encode(used))
        .await?
        .ok_or(AppError::InvalidCredential)?;
    let account = account_of(core, &method).await?;
    let person = &account.person;
    refuse_if_deactivated(core, person, client).await?;
    refuse_if_locked(core, person, client).await?;
    let passkey: Passkey = open(core, &method.id, &method.sealed_secret)?;
    let answer = if handle.as_bytes() == &core.keys.passkey_user_handle(&person.id) {
        let result = party.finish_discoverable_authentication_v2(
            credential,
            state,
            Credential::from(passkey.clone()),
        );
        verified(core, method, passkey, result).transpose()?
    } else {
        None
    };
    judge(core, person, answer.as_ref(), client).await?;
    let alone = Some(SecondFactor::PasskeyAlone);
    let (token, _) = open_signed_in(core, person, client, "passkey", alone).await?;
    if !browser.has_seen(&core.keys.device_tag(&person.id)) {
        tell_of_new_browser(core, &account, client).await?;
    }
    let remembered = remember_if_asked(core, &account, remember, client).await?;
    Ok(PasskeySignedIn {
        token,
        account,
        remembered,
    })
}

/// A passkey's answer that verified: its method, new counter, and credential as it is now.
struct Verified {
    method_id: String,
    counter: i64,
    sealed_secret: String,
}

/// The answer of `result` for this passkey, sealed to be written; none when it failed.
fn verified(
    core: &Core,
    method: MethodRecord,
    mut passkey: Passkey,
    result: Result<webauthn_rs::prelude::AuthenticationResult, WebauthnError>,
) -> Option<Result<Verified, AppError>> {
    let result = result
        .inspect_err(|e| tracing::info!(error = %e, "a passkey's answer was refused"))
        .ok()?;
    passkey.update_credential(&result);
    Some(
        seal(core, &method.id, &passkey).map(|sealed_secret| Verified {
            method_id: method.id,
            counter: i64::from(result.counter()),
            sealed_secret,
        }),
    )
}

/// Judges a passkey's answer against its person's failures and lock: a verified one moves its
/// counter past the last (so of concurrent answers one wins); a failed one counts as a wrong
/// code does.
async fn judge(
    core: &Core,
    person: &Person,
    answer: Option<&Verified>,
    client: &ClientInfo,
) -> Result<(), AppError> {
    let consume = match answer {
        Some(v) => Consume::PasskeyCounter {
            method_id: &v.method_id,
            counter: v.counter,
            sealed_secret: &v.sealed_secret,
        },
        None => Consume::Nothing,
    };
    let answer = (consume, CodeOf::Unknown);
    match check_answer(core, person, answer, OnRightCode::SignIn, client).await {
        Err(AppError::InvalidCode { .. }) => Err(AppError::InvalidCredential),
        other => other,
    }
}

/// The person's passkeys, opened.
async fn passkeys_of(
    core: &Core,
    person: &Person,
) -> Result<Vec<(MethodRecord, Passkey)>, AppError> {
    let methods = core.store.methods_of(&person.id).await?;
    methods
        .into_iter()
        .filter(|m| m.kind == MethodKind::Passkey)
        .map(|m| {
            let passkey = open(core, &m.id, &m.sealed_secret)?;
            Ok((m, passkey))
        })
        .collect()
}

async fn account_of(core: &Core, method: &MethodRecord) -> Result<Account, AppError> {
    let person = core
        .store
        .person_by_id(&method.person_id)
        .await?
        .ok_or(AppError::InvalidCredential)?;
    let practice = core
        .store
        .practice(&person.practice_id)
        .await?
        .ok_or(AppError::InvalidCredential)?;
    Ok(Account { person, practice })
}

/// A passkey's label: what the person typed, trimmed, or the default.
fn passkey_label(label: &str) -> Result<String, AppError> {
    let label = label.trim();
    if label.chars().count() > MAX_LABEL_CHARS || label.chars().any(char::is_control) {
        return Err(AppError::InvalidRequest(Refusal::of(
            Field::Label,
            Reason::Label,
        )));
    }
    Ok(if label.is_empty() {
        DEFAULT_LABEL.to_owned()
    } else {
        label.to_owned()
    })
}

/// A browser's answer, as the library reads it; anything else is no credential.
fn read_credential<T: DeserializeOwned>(credential: &serde_json::Value) -> Result<T, AppError> {
    T::deserialize(credential).map_err(|_| AppError::InvalidCredential)
}

fn registration_bound_to(who: &Authenticated) -> String {
    format!("enrolment:{}:passkey", who.session.id.as_str())
}

fn session_key(who: &Authenticated) -> String {
    format!("session:{}", who.session.id.as_str())
}

fn browser_key(token: &str) -> String {
    format!("browser:{}", token_hash(token))
}

fn seal(core: &Core, bound_to: &str, value: &impl Serialize) -> Result<String, AppError> {
    let plain = zeroize::Zeroizing::new(serde_json::to_vec(value).map_err(internal)?);
    Ok(core.keys.seal_method_secret(bound_to, &plain))
}

fn open<T: DeserializeOwned>(core: &Core, bound_to: &str, sealed: &str) -> Result<T, AppError> {
    let plain = core
        .keys
        .open_method_secret(bound_to, sealed)
        .map(zeroize::Zeroizing::new)
        .ok_or_else(|| AppError::Internal("a passkey's sealed state does not open".into()))?;
    serde_json::from_slice(&plain).map_err(internal)
}

fn not_held() -> AppError {
    AppError::InvalidRequest(Refusal::of(Field::Method, Reason::MethodNotHeld))
}

/// The library refused the browser's answer.
fn refused(e: WebauthnError) -> AppError {
    tracing::info!(error = %e, "a passkey's answer was refused");
    AppError::InvalidCredential
}

/// The library failed to begin a ceremony: a failure of latch's own.
fn library(e: WebauthnError) -> AppError {
    AppError::Internal(format!("webauthn: {e}").into())
}

fn internal(e: serde_json::Error) -> AppError {
    AppError::Internal(e.into())
}

#[cfg(test)]
mod tests {
    use super::relying_party;

    #[test]
    fn the_relying_party_is_the_public_host_and_never_an_ip_address() {
        let party = relying_party("https://login.harbor.example", "latch").expect("a domain");
        assert_eq!(
            party.get_allowed_origins()[0].as_str(),
            "https://login.harbor.example/"
        );
        let party = relying_party("http://127.0.0.1:8080", "latch").expect("loopback");
        assert_eq!(
            party.get_allowed_origins()[0].as_str(),
            "http://localhost:8080/"
        );
        let party = relying_party("http://[::1]:8080", "latch").expect("loopback");
        assert_eq!(
            party.get_allowed_origins()[0].as_str(),
            "http://localhost:8080/"
        );
        assert!(relying_party("http://10.0.0.5:8080", "latch").is_none());
        assert!(relying_party("not a url", "latch").is_none());
    }
}
