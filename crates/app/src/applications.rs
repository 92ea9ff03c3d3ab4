//! The applications that sign people in through latch, registered by the operator, and the
//! keys their tokens are signed with: one set for the installation, shared by every node.

use std::sync::{Arc, Mutex};

use latch_domain::Timestamp;
use latch_domain::application::AppUri;

use crate::crypto::{new_id, new_token, token_hash};
use crate::error::{AppError, Reason, Refusal};
use crate::latch::Core;
use crate::records::{Application, SigningKeyRecord};
use crate::secret::Secret;
use crate::signing::{self, SigningKey};

/// How long a retired signing key stays in the JWKS: longer than anything it signed lives
/// (an ID token, an hour), so a relying party still checks it.
pub const RETIRED_KEY_SHOWN_SECONDS: i64 = 2 * 3600;

// A relying party must still find the key of any ID token it holds.
const _: () = assert!(crate::id_tokens::ID_TOKEN_SECONDS < RETIRED_KEY_SHOWN_SECONDS);

/// An application as the operator registers it.
#[derive(Debug, Clone, Default)]
pub struct ApplicationInput {
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub backchannel_logout_uri: Option<String>,
    /// A single-page or native application: no secret, PKCE alone.
    pub public: bool,
}

/// How long an opened signing key is kept. Opening it (a database read, AES-GCM and PKCS #8)
/// would cost every token; a rotation on another node reaches this one within the minute,
/// while the key before stays published.
const OPENED_KEY_SECONDS: i64 = 60;

#[derive(Clone)]
pub struct ApplicationService {
    core: Arc<Core>,
    /// The signing key as last opened, and when; shared by every clone.
    opened: Arc<Mutex<Option<Opened>>>,
    /// Held while this node makes the installation's first key, so requests arriving together
    /// make one, not one each.
    making: Arc<tokio::sync::Mutex<()>>,
}

type Opened = (Arc<SigningKey>, Timestamp);

impl ApplicationService {
    pub(crate) fn new(core: Arc<Core>) -> Self {
        ApplicationService {
            core,
            opened: Arc::default(),
            making: Arc::default(),
        }
    }

    /// Registers an application; a confidential one's secret is answered this once and kept
    /// only hashed. Every refused value is named at once.
    pub async fn add(
        &self,
        input: ApplicationInput,
    ) -> Result<(Application, Option<Secret>), AppError> {
        let mut refusals = Vec::new();
        let name = input.name.trim().to_owned();
        if name.is_empty() || name.chars().count() > 100 {
            refusals.push(Refusal::from(Reason::ApplicationName));
        }
        if input.redirect_uris.is_empty() {
            refusals.push(Refusal::from(Reason::RedirectUriNeeded));
        }
        let mut read = |raw: &str| match AppUri::parse(raw) {
            Ok(uri) => Some(uri),
            Err(refused) => {
                refusals.push(Refusal::from(Reason::ApplicationUri {
                    uri: raw.to_owned(),
                    refused,
                }));
                None
            }
        };
        let redirect_uris: Vec<AppUri> =
            input.redirect_uris.iter().filter_map(|u| read(u)).collect();
        let post_logout_redirect_uris: Vec<AppUri> = input
            .post_logout_redirect_uris
            .iter()
            .filter_map(|u| read(u))
            .collect();
        let backchannel_logout_uri = input.backchannel_logout_uri.as_deref().and_then(&mut read);
        if !refusals.is_empty() {
            let refused = refusals.into_iter().map(AppError::InvalidRequest).collect();
            return Err(AppError::together(refused));
        }
        let secret = (!input.public).then(new_token);
        let application = Application {
            id: new_id(),
            name,
            secret_hash: secret.as_ref().map(|s| token_hash(s.expose())),
            redirect_uris: dedup(redirect_uris),
            post_logout_redirect_uris: dedup(post_logout_redirect_uris),
            backchannel_logout_uri,
            created_at: self.core.clock.now(),
        };
        self.core.store.put_application(&application).await?;
        Ok((application, secret))
    }

    pub async fn list(&self) -> Result<Vec<Application>, AppError> {
        Ok(self.core.store.applications().await?)
    }

    pub async fn remove(&self, id: &str) -> Result<(), AppError> {
        if self.core.store.remove_application(id).await? {
            Ok(())
        } else {
            Err(AppError::NotFound)
        }
    }

    /// A new secret for a confidential application; the old one stops working at once.
    pub async fn rotate_secret(&self, id: &str) -> Result<Secret, AppError> {
        let store = &self.core.store;
        let application = store.application(id).await?.ok_or(AppError::NotFound)?;
        if application.secret_hash.is_none() {
            return Err(AppError::InvalidRequest(Refusal::from(
                Reason::PublicApplication,
            )));
        }
        let secret = new_token();
        if !store
            .set_application_secret(id, &token_hash(secret.expose()))
            .await?
        {
            return Err(AppError::NotFound);
        }
        Ok(secret)
    }

    /// Makes the installation's first signing key, unless a node already has: whichever node
    /// needs one first makes the one all of them sign with.
    pub async fn ensure_signing_key(&self) -> Result<(), AppError> {
        let _making = self.making.lock().await;
        let now = self.core.clock.now();
        if !self.core.store.signing_keys(now).await?.is_empty() {
            return Ok(());
        }
        let key = self.new_key().await?;
        self.core.store.add_first_signing_key(&key).await?;
        Ok(())
    }

    /// A new key signs from now on; the one before stays in the JWKS while what it signed
    /// lives. Answers the new key's id.
    pub async fn rotate_signing_key(&self) -> Result<String, AppError> {
        let key = self.new_key().await?;
        let now = self.core.clock.now();
        self.core.store.rotate_signing_key(&key, now).await?;
        *self.opened.lock().unwrap_or_else(|p| p.into_inner()) = None;
        Ok(key.id)
    }

    /// The keys a relying party checks signatures with: the one that signs first. The first
    /// call of an installation makes its first key, so latch starts while its database is down.
    pub async fn published_keys(&self) -> Result<Vec<SigningKeyRecord>, AppError> {
        let since = self.core.clock.now().plus(-RETIRED_KEY_SHOWN_SECONDS);
        let keys = self.core.store.signing_keys(since).await?;
        if !keys.is_empty() {
            return Ok(keys);
        }
        self.ensure_signing_key().await?;
        Ok(self.core.store.signing_keys(since).await?)
    }

    /// The key that signs now, opened to sign with.
    pub(crate) async fn signing_key(&self) -> Result<Arc<SigningKey>, AppError> {
        let now = self.core.clock.now();
        if let Some((key, at)) = self
            .opened
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            && now.seconds() - at.seconds() < OPENED_KEY_SECONDS
        {
            return Ok(Arc::clone(key));
        }
        let keys = self.published_keys().await?;
        let key = keys
            .first()
            .and_then(|record| SigningKey::open(&self.core.keys, record))
            .map(Arc::new)
            .ok_or_else(|| {
                AppError::Internal("the signing key does not open under this server key".into())
            })?;
        *self.opened.lock().unwrap_or_else(|p| p.into_inner()) = Some((Arc::clone(&key), now));
        Ok(key)
    }

    async fn new_key(&self) -> Result<SigningKeyRecord, AppError> {
        let (keys, now) = (self.core.keys.clone(), self.core.clock.now());
        tokio::task::spawn_blocking(move || signing::generate(&keys, now))
            .await
            .map_err(|e| AppError::Internal(e.into()))
    }
}

/// The addresses in the order given, each once.
fn dedup(uris: Vec<AppUri>) -> Vec<AppUri> {
    let mut kept: Vec<AppUri> = Vec::with_capacity(uris.len());
    for uri in uris {
        if !kept.contains(&uri) {
            kept.push(uri);
        }
    }
    kept
}
