//! What an application does with the tokens it holds: refresh them (RFC 6749 §6: rotated at
//! every use, and a used one presented again ends its whole family, RFC 9700 §4.14.2), revoke
//! them (RFC 7009), and ask whether one is active (RFC 7662).

use latch_domain::Timestamp;
use latch_domain::audit::AuditKind;

use crate::crypto::token_hash;
use crate::error::AppError;
use crate::grants::{
    ACCESS_TOKEN_SECONDS, ClientCredentials, Grant, GrantService, TokenRefused, Tokens,
};
use crate::id_tokens::IdToken;
use crate::records::{
    Account, Application, ApplicationToken, ClientInfo, Redeemed, Session, TokenKind,
};
use crate::secret::Secret;

/// What an active token is (RFC 7662 §2.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Introspected {
    pub person_id: String,
    pub application_id: String,
    pub scope: String,
    pub kind: TokenKind,
    pub issued_at: Timestamp,
    pub expires_at: Timestamp,
    /// The latch session behind it, as the ID token's `sid` names it.
    pub session_id: String,
}

/// What a refresh gave, before its ID token is signed.
struct Refreshed {
    old: ApplicationToken,
    session: Session,
    account: Account,
    access: Secret,
    refresh: Option<Secret>,
}

impl GrantService {
    /// New tokens for a refresh token, which dies in the exchange. The scopes may be narrowed
    /// for the new tokens, never widened; the refresh counts as activity of the latch session.
    pub async fn refresh(
        &self,
        credentials: &ClientCredentials,
        refresh_token: &str,
        scope: Option<&str>,
        issuer: &str,
        client: &ClientInfo,
    ) -> Result<Result<Tokens, TokenRefused>, AppError> {
        let application = match self.authenticate(credentials, client).await? {
            Ok(application) => application,
            Err(refused) => return Ok(Err(refused)),
        };
        let key = self.applications().signing_key().await?;
        let now = self.core.clock.now();
        let application = &application;
        let refreshed = self
            .core
            .in_one_transaction(move |core| async move {
                self.in_unit(core)
                    .rotate(application, refresh_token, scope, now)
                    .await
            })
            .await?;
        let Refreshed {
            old,
            session,
            account,
            access,
            refresh,
        } = match refreshed {
            Ok(refreshed) => refreshed,
            Err(why) => return Ok(Err(why)),
        };
        let scope = scope.unwrap_or(&old.scopes).to_owned();
        let scopes: Vec<&str> = scope.split(' ').collect();
        let claims = IdToken {
            issuer,
            client_id: &application.id,
            account: &account,
            session: &session,
            scopes: &scopes,
            // OpenID Connect Core §12.2: a refreshed ID token carries no nonce.
            nonce: None,
            now,
        }
        .claims();
        Ok(Ok(Tokens {
            id_token: key.sign_jwt(claims.to_string().as_bytes()),
            access_token: access,
            refresh_token: refresh,
            scope,
            expires_in: ACCESS_TOKEN_SECONDS,
        }))
    }

    /// Uses the refresh token and keeps its successors, in the refresh's unit of work.
    async fn rotate(
        &self,
        application: &Application,
        refresh_token: &str,
        scope: Option<&str>,
        now: Timestamp,
    ) -> Result<Result<Refreshed, TokenRefused>, AppError> {
        let store = &self.core.store;
        let hash = token_hash(refresh_token);
        // Read first, so that a refresh refused for its scope or its application spends nothing.
        if let Some(found) = store
            .application_token(&hash, TokenKind::Refresh, now)
            .await?
        {
            if found.application_id != application.id {
                return Ok(Err(TokenRefused::InvalidGrant));
            }
            let granted: Vec<&str> = found.scopes.split(' ').collect();
            let narrowed = scope.is_none_or(|asked| {
                asked.split(' ').all(|s| granted.contains(&s)) && asked.contains("openid")
            });
            if !narrowed {
                return Ok(Err(TokenRefused::InvalidScope));
            }
        }
        let old = match store.use_refresh_token(&hash, now).await? {
            Redeemed::Now(old) if old.application_id == application.id => old,
            Redeemed::Now(_) | Redeemed::Not => return Ok(Err(TokenRefused::InvalidGrant)),
            Redeemed::Before(used) => {
                let (grant, session) = (&used.grant_id, &used.session_id);
                self.end_reused_grant(application, grant, session, AuditKind::AppRefreshReused)
                    .await?;
                return Ok(Err(TokenRefused::InvalidGrant));
            }
        };
        let Some((session, account)) = self.live_session(&old.session_id, now).await? else {
            return Ok(Err(TokenRefused::InvalidGrant));
        };
        store.touch_session(&session.id, now).await?;
        let grant = Grant {
            scopes: scope.unwrap_or(&old.scopes),
            ..Grant::of_token(&old)
        };
        let (access, refresh) = self.store_tokens(&grant, &session, now).await?;
        Ok(Ok(Refreshed {
            old,
            session,
            account,
            access,
            refresh,
        }))
    }

    /// Ends a token this application holds (RFC 7009 §2.1): a refresh token with every token
    /// of its grant, an access token alone. Another application's token, or one unknown, is
    /// left as it is and answered the same.
    pub async fn revoke(
        &self,
        credentials: &ClientCredentials,
        token: &str,
        client: &ClientInfo,
    ) -> Result<Result<(), TokenRefused>, AppError> {
        let application = match self.confidential(credentials, client).await? {
            Ok(application) => application,
            Err(refused) => return Ok(Err(refused)),
        };
        let Some(found) = self.held(&application, token).await? else {
            return Ok(Ok(()));
        };
        let store = &self.core.store;
        match found.kind {
            TokenKind::Refresh => {
                store.revoke_grant(&found.grant_id).await?;
            }
            TokenKind::Access => {
                store.revoke_token(&found.token_hash).await?;
            }
        }
        Ok(Ok(()))
    }

    /// Whether a token this application holds is active, and what it is (RFC 7662 §2.2);
    /// another application's token is not active for it.
    pub async fn introspect(
        &self,
        credentials: &ClientCredentials,
        token: &str,
        client: &ClientInfo,
    ) -> Result<Result<Option<Introspected>, TokenRefused>, AppError> {
        let application = match self.confidential(credentials, client).await? {
            Ok(application) => application,
            Err(refused) => return Ok(Err(refused)),
        };
        let Some(found) = self.held(&application, token).await? else {
            return Ok(Ok(None));
        };
        let now = self.core.clock.now();
        if self.live_session(&found.session_id, now).await?.is_none() {
            return Ok(Ok(None));
        }
        Ok(Ok(Some(Introspected {
            person_id: found.person_id.as_str().to_owned(),
            application_id: found.application_id,
            scope: found.scopes,
            kind: found.kind,
            issued_at: found.created_at,
            expires_at: found.expires_at,
            session_id: found.session_id.as_str().to_owned(),
        })))
    }

    /// Revocation and introspection are for applications with a secret (api.md).
    async fn confidential(
        &self,
        credentials: &ClientCredentials,
        client: &ClientInfo,
    ) -> Result<Result<Application, TokenRefused>, AppError> {
        Ok(match self.authenticate(credentials, client).await? {
            Ok(application) if application.secret_hash.is_some() => Ok(application),
            Ok(_) => Err(TokenRefused::InvalidClient),
            Err(refused) => Err(refused),
        })
    }

    /// The live token of either kind with this value, when `application` holds it.
    async fn held(
        &self,
        application: &Application,
        token: &str,
    ) -> Result<Option<ApplicationToken>, AppError> {
        let store = &self.core.store;
        let now = self.core.clock.now();
        let hash = token_hash(token);
        for kind in [TokenKind::Access, TokenKind::Refresh] {
            if let Some(found) = store.application_token(&hash, kind, now).await? {
                return Ok((found.application_id == application.id).then_some(found));
            }
        }
        Ok(None)
    }
}
