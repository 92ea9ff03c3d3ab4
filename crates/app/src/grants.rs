//! Signing in to an application: the code a signed-in latch session gives it, exchanged once,
//! by that application alone, for an ID token and tokens that live no longer than the session.

use std::sync::Arc;

use latch_domain::Timestamp;
use latch_domain::audit::AuditKind;
use latch_domain::authorization::AuthorizationRequest;
use latch_domain::session::{self, SessionState, SessionTimes};
use latch_domain::throttle::{CLIENT_AUTH_WINDOW_SECONDS, client_auth_retry_after, client_key};

use crate::applications::ApplicationService;
use crate::audit::{Event, record};
use crate::crypto::{constant_time_eq, new_token, pkce_verifies, token_hash};
use crate::error::AppError;
use crate::id_tokens::{IdToken, person_claims};
use crate::ids::{PersonId, SessionId};
use crate::latch::Core;
use crate::records::{
    Account, Application, ApplicationToken, AuthorizationCode, ClientInfo, Redeemed, Session,
    TokenKind,
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
    /// Too many failed authentications of this application, or from this address, lately.
    TooManyFailures { retry_after: i64 },
    /// A code or refresh token unknown, expired, used, another application's, for another
    /// address, or whose PKCE verifier does not match; or its latch session has ended.
    InvalidGrant,
    /// A refresh asked for a scope the grant does not hold.
    InvalidScope,
}

/// What a spent code gave: its grant, the session and person behind it, and the tokens.
type Exchanged = (AuthorizationCode, Session, Account, Secret, Option<Secret>);

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
    pub(crate) core: Arc<Core>,
    /// Whose signing key the ID tokens are signed with.
    applications: ApplicationService,
}

impl GrantService {
    pub(crate) fn new(core: Arc<Core>, applications: ApplicationService) -> Self {
        GrantService { applications, core }
    }

    /// The same service inside a unit of work.
    pub(crate) fn in_unit(&self, core: Arc<Core>) -> GrantService {
        GrantService {
            applications: self.applications.clone(),
            core,
        }
    }

    /// Whose signing key the ID tokens are signed with.
    pub(crate) fn applications(&self) -> &ApplicationService {
        &self.applications
    }

    /// A new code for an application's request, and what is kept of it; only a session that
    /// is signed in gets one.
    pub(crate) fn new_code(
        &self,
        who: &Authenticated,
        request: &AuthorizationRequest,
    ) -> Result<(Secret, AuthorizationCode), AppError> {
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
        Ok((code, stored))
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
        client: &ClientInfo,
    ) -> Result<Result<Tokens, TokenRefused>, AppError> {
        let core = &self.core;
        let application = match self.authenticate(credentials, client).await? {
            Ok(application) => application,
            Err(refused) => return Ok(Err(refused)),
        };
        // Before the code is spent, so a key that does not open spends nothing.
        let key = self.applications.signing_key().await?;
        let now = core.clock.now();
        let application = &application;
        let exchanged = core
            .in_one_transaction(move |core| async move {
                self.in_unit(core)
                    .redeem(application, code, redirect_uri, verifier, now)
                    .await
            })
            .await?;
        let Some((granted, session, account, access_token, refresh_token)) = exchanged else {
            return Ok(Err(TokenRefused::InvalidGrant));
        };
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

    /// Spends the code and keeps the tokens it gives, in the exchange's unit of work; none
    /// when it gives nothing. A code spent before ends what it gave, and is audited.
    async fn redeem(
        &self,
        application: &Application,
        code: &str,
        redirect_uri: &str,
        verifier: Option<&str>,
        now: Timestamp,
    ) -> Result<Option<Exchanged>, AppError> {
        let store = &self.core.store;
        let granted = match store
            .redeem_authorization_code(&token_hash(code), now)
            .await?
        {
            Redeemed::Now(granted) => granted,
            Redeemed::Before(used) => {
                let (grant, session) = (&used.code_hash, &used.session_id);
                self.end_reused_grant(application, grant, session, AuditKind::AppCodeReused)
                    .await?;
                return Ok(None);
            }
            Redeemed::Not => return Ok(None),
        };
        if !holds(&granted, application, redirect_uri, verifier) {
            return Ok(None);
        }
        let Some((session, account)) = self.live_session(&granted.session_id, now).await? else {
            return Ok(None);
        };
        let (access, refresh) = self
            .store_tokens(&Grant::of_code(&granted), &session, now)
            .await?;
        self.core
            .store
            .put_application_sign_in(&session.id, &application.id, &account.person.id, now)
            .await?;
        Ok(Some((granted, session, account, access, refresh)))
    }

    /// What userinfo tells the application holding `access_token` (OpenID Connect Core §5.3):
    /// the person's claims by the scopes granted; none when the token is unknown, expired, or
    /// its latch session has ended.
    pub async fn userinfo(
        &self,
        access_token: &str,
    ) -> Result<Option<serde_json::Map<String, serde_json::Value>>, AppError> {
        let now = self.core.clock.now();
        let found = self
            .core
            .store
            .access_token_session(&token_hash(access_token), now)
            .await?;
        let Some((scopes, _, account)) = found.filter(|(_, s, a)| live(s, a, now)) else {
            return Ok(None);
        };
        let scopes: Vec<&str> = scopes.split(' ').collect();
        Ok(Some(person_claims(&account, &scopes)))
    }

    /// SECURITY: a code or a refresh token presented again is a copy in someone else's
    /// hands, or a replay: every token of its grant ends, and the practice's trail says so.
    pub(crate) async fn end_reused_grant(
        &self,
        application: &Application,
        grant_id: &str,
        session_id: &SessionId,
        kind: AuditKind,
    ) -> Result<(), AppError> {
        let store = &self.core.store;
        store.revoke_grant(grant_id).await?;
        if let Some((_, account)) = store.session_by_id(session_id).await? {
            let event = Event {
                practice_id: &account.practice.id,
                kind,
                actor_id: None,
                subject_id: Some(&account.person.id),
                client: None,
                detail: format!("{}: its tokens were ended", application.name),
            };
            record(&self.core, event).await?;
        }
        Ok(())
    }

    /// The application that sent these credentials, if they prove it. Failures count per
    /// application and per address; past the limit nothing is checked until the window ends.
    pub async fn authenticate(
        &self,
        credentials: &ClientCredentials,
        client: &ClientInfo,
    ) -> Result<Result<Application, TokenRefused>, AppError> {
        let store = &self.core.store;
        let now = self.core.clock.now();
        let keys = [
            format!("client-auth:{}", credentials.client_id),
            format!("client-auth-ip:{}", client_key(&client.ip)),
        ];
        let windows = store.windows([&keys[0], &keys[1]]).await?;
        let retry_after = windows.into_iter().flatten().find_map(|window| {
            client_auth_retry_after(window.count, window.started_at.seconds(), now.seconds())
        });
        if let Some(retry_after) = retry_after {
            return Ok(Err(TokenRefused::TooManyFailures { retry_after }));
        }
        let application = store.application(&credentials.client_id).await?;
        match application.filter(|a| proves_itself(a, credentials)) {
            Some(application) => Ok(Ok(application)),
            None => {
                for key in &keys {
                    store
                        .bump_window(key, now, CLIENT_AUTH_WINDOW_SECONDS)
                        .await?;
                }
                Ok(Err(TokenRefused::InvalidClient))
            }
        }
    }

    /// The session a code was given to, while it is still signed in and alive.
    pub(crate) async fn live_session(
        &self,
        session_id: &SessionId,
        now: Timestamp,
    ) -> Result<Option<(Session, Account)>, AppError> {
        let found = self.core.store.session_by_id(session_id).await?;
        Ok(found.filter(|(session, account)| live(session, account, now)))
    }

    /// A 10-minute access token, and with `offline_access` a refresh token that cannot
    /// outlive the session, both of `grant`.
    pub(crate) async fn store_tokens(
        &self,
        grant: &Grant<'_>,
        session: &Session,
        now: Timestamp,
    ) -> Result<(Secret, Option<Secret>), AppError> {
        let access = new_token();
        let refresh = grant
            .scopes
            .split(' ')
            .any(|s| s == "offline_access")
            .then(new_token);
        let token = |secret: &Secret, kind, expires_at: Timestamp| ApplicationToken {
            token_hash: token_hash(secret.expose()),
            kind,
            grant_id: grant.id.to_owned(),
            application_id: grant.application_id.to_owned(),
            session_id: session.id.clone(),
            person_id: grant.person_id.clone(),
            scopes: grant.scopes.to_owned(),
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

/// What tokens belong to: the grant of one code, kept through every refresh.
pub(crate) struct Grant<'a> {
    /// The hash of the code the grant began with.
    pub id: &'a str,
    pub application_id: &'a str,
    pub person_id: &'a PersonId,
    pub scopes: &'a str,
}

impl<'a> Grant<'a> {
    fn of_code(code: &'a AuthorizationCode) -> Self {
        Grant {
            id: &code.code_hash,
            application_id: &code.application_id,
            person_id: &code.person_id,
            scopes: &code.scopes,
        }
    }

    pub(crate) fn of_token(token: &'a ApplicationToken) -> Self {
        Grant {
            id: &token.grant_id,
            application_id: &token.application_id,
            person_id: &token.person_id,
            scopes: &token.scopes,
        }
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

/// Whether a session still signs its person in to applications at `now`: signed in, and
/// neither idle past the practice's limit nor past its absolute lifetime.
fn live(session: &Session, account: &Account, now: Timestamp) -> bool {
    let times = SessionTimes {
        created_at: session.created_at,
        last_seen_at: session.last_seen_at,
    };
    let idle = account.practice.security.sign_out_after_idle_minutes;
    session.state == SessionState::SignedIn && session::is_live(times, idle, now)
}
