//! Signing in to an application: the code a signed-in latch session gives it, exchanged once,
//! by that application alone, for an ID token and tokens that live no longer than the session.

use std::sync::Arc;

use latch_domain::Timestamp;
use latch_domain::authorization::AuthorizationRequest;
use latch_domain::session::{self, SessionState, SessionTimes};

use crate::applications::ApplicationService;
use crate::crypto::{constant_time_eq, new_token, pkce_verifies, token_hash};
use crate::error::AppError;
use crate::id_tokens::IdToken;
use crate::ids::SessionId;
use crate::latch::Core;
use crate::records::{
    Account, Application, ApplicationToken, AuthorizationCode, Redeemed, Session, TokenKind,
};
use crate::secret::Secret;
use crate::sign_in::Authenticated;

/// A code lives a minute: the application exchanges it at once.
pub const CODE_SECONDS: i64 = 60;
/// An access token lives ten minutes.
pub const ACCESS_TOKEN_SECONDS: i64 = 600;

/// How an application proved itself at the token endpoint.
pub struct ClientCredentials {
    pub client_id: String,
    /// None for a public application, which proves itself with PKCE.
    pub secret: Option<Secret>,
}

/// Why the token endpoint refused (RFC 6749 §5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenRefused {
    /// An unknown application, or a wrong or missing secret.
    InvalidClient,
    /// A code unknown, expired, used, another application's, for another address, or whose
    /// PKCE verifier does not match; or its latch session has ended.
    InvalidGrant,
}

/// What an application gets for its code.
pub struct Tokens {
    pub access_token: Secret,
    pub refresh_token: Option<Secret>,
    pub id_token: String,
    pub scope: String,
    pub expires_in: i64,
}

#[derive(Clone)]
pub struct GrantService {
    core: Arc<Core>,
    /// Whose signing key the ID tokens are signed with.
    applications: ApplicationService,
}

impl GrantService {
    pub(crate) fn new(core: Arc<Core>) -> Self {
        GrantService {
            applications: ApplicationService::new(Arc::clone(&core)),
            core,
        }
    }

    /// The code for an application's request, given to a session that is signed in.
    pub async fn give_code(
        &self,
        who: &Authenticated,
        request: &AuthorizationRequest,
    ) -> Result<Secret, AppError> {
        if who.session.state != SessionState::SignedIn {
            return Err(AppError::NotSignedIn);
        }
        let code = new_token();
        let now = self.core.clock.now();
        let stored = AuthorizationCode {
            code_hash: token_hash(code.expose()),
            application_id: request.client_id.clone(),
            session_id: who.session.id.clone(),
            person_id: who.account.person.id.clone(),
            redirect_uri: request.redirect_uri.clone(),
            scopes: request.scopes.join(" "),
            nonce: request.nonce.clone(),
            code_challenge: request.code_challenge.clone(),
            created_at: now,
            expires_at: now.plus(CODE_SECONDS),
        };
        self.core.store.put_authorization_code(&stored).await?;
        Ok(code)
    }

    /// Exchanges a code for tokens. A code presented a second time ends every token the first
    /// exchange gave.
    pub async fn exchange_code(
        &self,
        credentials: &ClientCredentials,
        code: &str,
        redirect_uri: &str,
        verifier: Option<&str>,
        issuer: &str,
    ) -> Result<Result<Tokens, TokenRefused>, AppError> {
        let core = &self.core;
        let application = core.store.application(&credentials.client_id).await?;
        let Some(application) = application.filter(|a| proves_itself(a, credentials)) else {
            return Ok(Err(TokenRefused::InvalidClient));
        };
        // Before the code is spent, so a key that does not open spends nothing.
        let key = self.applications.signing_key().await?;
        let now = core.clock.now();
        let granted = match core
            .store
            .redeem_authorization_code(&token_hash(code), now)
            .await?
        {
            Redeemed::Now(granted) => granted,
            Redeemed::Before(used) => {
                core.store.revoke_grant(&used.code_hash).await?;
                return Ok(Err(TokenRefused::InvalidGrant));
            }
            Redeemed::Not => return Ok(Err(TokenRefused::InvalidGrant)),
        };
        if !holds(&granted, &application, redirect_uri, verifier) {
            return Ok(Err(TokenRefused::InvalidGrant));
        }
        let Some((session, account)) = self.live_session(&granted.session_id, now).await? else {
            return Ok(Err(TokenRefused::InvalidGrant));
        };
        let (access_token, refresh_token) = self.store_tokens(&granted, &session, now).await?;
        let scopes: Vec<&str> = granted.scopes.split(' ').collect();
        let claims = IdToken {
            issuer,
            client_id: &application.id,
            account: &account,
            session: &session,
            scopes: &scopes,
            nonce: granted.nonce.as_deref(),
            now,
        }
        .claims();
        Ok(Ok(Tokens {
            id_token: key.sign_jwt(claims.to_string().as_bytes()),
            access_token,
            refresh_token,
            scope: granted.scopes.clone(),
            expires_in: ACCESS_TOKEN_SECONDS,
        }))
    }

    /// The session a code was given to, while it is still signed in and alive.
    async fn live_session(
        &self,
        session_id: &SessionId,
        now: Timestamp,
    ) -> Result<Option<(Session, Account)>, AppError> {
        let found = self.core.store.session_by_id(session_id).await?;
        Ok(found.filter(|(session, account)| {
            let times = SessionTimes {
                created_at: session.created_at,
                last_seen_at: session.last_seen_at,
            };
            let idle = account.practice.security.sign_out_after_idle_minutes;
            session.state == SessionState::SignedIn && session::is_live(times, idle, now)
        }))
    }

    /// A 10-minute access token, and with `offline_access` a refresh token that cannot
    /// outlive the session, both of the code's grant.
    async fn store_tokens(
        &self,
        granted: &AuthorizationCode,
        session: &Session,
        now: Timestamp,
    ) -> Result<(Secret, Option<Secret>), AppError> {
        let access = new_token();
        let refresh = granted
            .scopes
            .split(' ')
            .any(|s| s == "offline_access")
            .then(new_token);
        let token = |secret: &Secret, kind, expires_at: Timestamp| ApplicationToken {
            token_hash: token_hash(secret.expose()),
            kind,
            grant_id: granted.code_hash.clone(),
            application_id: granted.application_id.clone(),
            session_id: session.id.clone(),
            person_id: granted.person_id.clone(),
            scopes: granted.scopes.clone(),
            created_at: now,
            expires_at,
        };
        let store = &self.core.store;
        let access_ends = now.plus(ACCESS_TOKEN_SECONDS);
        store
            .put_application_token(&token(&access, TokenKind::Access, access_ends))
            .await?;
        if let Some(refresh) = &refresh {
            let ends = session.created_at.plus(session::ABSOLUTE_LIFETIME_SECONDS);
            store
                .put_application_token(&token(refresh, TokenKind::Refresh, ends))
                .await?;
        }
        Ok((access, refresh))
    }
}

/// SECURITY: a secret is compared as its hash in constant time; a public application has no
/// secret to send, and one that sends one is not it.
fn proves_itself(application: &Application, credentials: &ClientCredentials) -> bool {
    match (&application.secret_hash, &credentials.secret) {
        (Some(hash), Some(secret)) => constant_time_eq(hash, &token_hash(secret.expose())),
        (None, None) => true,
        _ => false,
    }
}

/// Whether a redeemed code was this application's, for this address, with this PKCE verifier.
fn holds(
    granted: &AuthorizationCode,
    application: &Application,
    redirect_uri: &str,
    verifier: Option<&str>,
) -> bool {
    let pkce_holds = match (&granted.code_challenge, verifier) {
        (Some(challenge), Some(verifier)) => pkce_verifies(verifier, challenge),
        (None, None) => true,
        _ => false,
    };
    granted.application_id == application.id && granted.redirect_uri == redirect_uri && pkce_holds
}
