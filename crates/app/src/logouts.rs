//! Signing out of applications: the RP-initiated logout an application asks for with its ID
//! token (RP-Initiated Logout 1.0), and the back-channel logouts latch sends when a session
//! ends (Back-Channel Logout 1.0), from the queue the ending of a session fills.

use std::sync::Arc;

use async_trait::async_trait;
use latch_domain::Timestamp;
use latch_domain::application::AppUri;
use latch_domain::audit::AuditKind;
use serde_json::json;

use crate::applications::ApplicationService;
use crate::audit::{Event, record};
use crate::crypto::{hex, random_bytes};
use crate::error::AppError;
use crate::ids::SessionId;
use crate::latch::Core;
use crate::records::{Application, BackchannelLogout, ClientInfo};
use crate::signing::verify_jwt;

/// How many logouts one round claims.
const BATCH: i64 = 20;
/// A claimed logout is not claimed again for this long: one try's time, and more.
const CLAIM_SECONDS: i64 = 60;
/// Tries before a logout is given up on: the waits between them add up to about a day.
const MAX_ATTEMPTS: i64 = 20;
/// How long a logout token is valid (Back-Channel Logout 1.0 §2.4: a short time).
const LOGOUT_TOKEN_SECONDS: i64 = 120;

/// Posts a logout token to an application's back-channel logout address; the error says why
/// it did not take it.
#[async_trait]
pub trait LogoutSender: Send + Sync {
    async fn send(&self, uri: &str, logout_token: &str) -> Result<(), String>;
}

/// An application's logout request, as read from its ID token hint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogoutRequest {
    /// A hint latch signed: the session it names ends without a question, and the browser
    /// may go back to the address given.
    Hinted {
        application: Box<Application>,
        session_id: SessionId,
        person_id: String,
        /// Where to go afterwards: one of the application's registered addresses.
        back_to: Option<AppUri>,
    },
    /// No usable hint: the person is asked first, and stays at latch afterwards.
    Unhinted,
    /// An address the application did not register: no redirect is safe.
    UnregisteredRedirect,
}

/// What a round of back-channel logouts did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    pub sent: usize,
    pub postponed: usize,
    pub given_up: usize,
}

#[derive(Clone)]
pub struct LogoutService {
    core: Arc<Core>,
    applications: ApplicationService,
}

impl LogoutService {
    pub(crate) fn new(core: Arc<Core>, applications: ApplicationService) -> Self {
        LogoutService { core, applications }
    }

    /// Reads an RP-initiated logout request (RP-Initiated Logout 1.0 §2): the hint must be an
    /// ID token latch signed for the application, expired or not; `post_logout_redirect_uri`
    /// must be one it registered.
    pub async fn read_request(
        &self,
        id_token_hint: Option<&str>,
        client_id: Option<&str>,
        post_logout_redirect_uri: Option<&str>,
        issuer: &str,
    ) -> Result<LogoutRequest, AppError> {
        let Some(hint) = id_token_hint else {
            return Ok(LogoutRequest::Unhinted);
        };
        let keys = self.applications.published_keys().await?;
        let Some(claims) = verify_jwt(hint, &keys) else {
            return Ok(LogoutRequest::Unhinted);
        };
        let audience = claims["aud"].as_str().unwrap_or_default();
        let (Some(session_id), Some(person_id)) = (claims["sid"].as_str(), claims["sub"].as_str())
        else {
            return Ok(LogoutRequest::Unhinted);
        };
        if claims["iss"] != issuer || client_id.is_some_and(|id| id != audience) {
            return Ok(LogoutRequest::Unhinted);
        }
        let Some(application) = self.core.store.application(audience).await? else {
            return Ok(LogoutRequest::Unhinted);
        };
        let back_to = match post_logout_redirect_uri {
            None => None,
            Some(uri) => match application
                .post_logout_redirect_uris
                .iter()
                .find(|registered| registered.is(uri))
            {
                Some(registered) => Some(registered.clone()),
                None => return Ok(LogoutRequest::UnregisteredRedirect),
            },
        };
        Ok(LogoutRequest::Hinted {
            application: Box::new(application),
            session_id: SessionId::from_stored(session_id.to_owned()),
            person_id: person_id.to_owned(),
            back_to,
        })
    }

    /// Ends the session an application's hint named, and audits it; a session already ended
    /// is not an error.
    pub async fn end_hinted_session(
        &self,
        application: &Application,
        session_id: &SessionId,
        person_id: &str,
        client: &ClientInfo,
    ) -> Result<(), AppError> {
        let found = self.core.store.session_by_id(session_id).await?;
        let Some((_, account)) = found.filter(|(_, a)| a.person.id.as_str() == person_id) else {
            return Ok(());
        };
        let person = &account.person;
        self.core
            .in_one_transaction(move |core| async move {
                core.store.delete_session(&person.id, session_id).await?;
                let event = Event::own(person, AuditKind::AppSignedOut, client, &application.name);
                record(&core, event).await
            })
            .await
    }

    /// Sends the back-channel logouts that are due: each is claimed by this node alone, and
    /// one the application does not take is tried again later, waiting longer each time.
    pub async fn send_due(
        &self,
        sender: &dyn LogoutSender,
        issuer: &str,
    ) -> Result<Round, AppError> {
        let store = &self.core.store;
        let now = self.core.clock.now();
        let claimed = store
            .claim_backchannel_logouts(now, now.plus(CLAIM_SECONDS), BATCH)
            .await?;
        let mut round = Round::default();
        if claimed.is_empty() {
            return Ok(round);
        }
        let key = self.applications.signing_key().await?;
        for logout in claimed {
            let application = store.application(&logout.application_id).await?;
            let Some(uri) = application.and_then(|a| a.backchannel_logout_uri) else {
                store
                    .finish_backchannel_logout(&logout.application_id, &logout.session_id)
                    .await?;
                continue;
            };
            let token = key.sign_typed(
                logout_claims(&logout, issuer, now).to_string().as_bytes(),
                "logout+jwt",
            );
            match sender.send(uri.as_str(), &token).await {
                Ok(()) => {
                    store
                        .finish_backchannel_logout(&logout.application_id, &logout.session_id)
                        .await?;
                    round.sent += 1;
                }
                Err(why) if logout.attempts >= MAX_ATTEMPTS => {
                    tracing::warn!(application = %logout.application_id, %why, "a back-channel logout was given up");
                    store
                        .finish_backchannel_logout(&logout.application_id, &logout.session_id)
                        .await?;
                    round.given_up += 1;
                }
                Err(why) => {
                    tracing::info!(application = %logout.application_id, %why, attempts = logout.attempts, "a back-channel logout will be tried again");
                    let due = now.plus(retry_wait_seconds(logout.attempts));
                    store
                        .postpone_backchannel_logout(
                            &logout.application_id,
                            &logout.session_id,
                            due,
                        )
                        .await?;
                    round.postponed += 1;
                }
            }
        }
        Ok(round)
    }
}

/// The wait after the `attempts`-th failed try: 30 s, doubling, at most two hours.
pub fn retry_wait_seconds(attempts: i64) -> i64 {
    let doublings = u32::try_from(attempts.clamp(1, 16) - 1).unwrap_or(0);
    (30_i64 << doublings).min(2 * 3600)
}

/// The claims of a logout token (Back-Channel Logout 1.0 §2.4): never a nonce, always the
/// event, and `sid` so the application ends the one session of its own it rests on.
fn logout_claims(logout: &BackchannelLogout, issuer: &str, now: Timestamp) -> serde_json::Value {
    json!({
        "iss": issuer,
        "aud": logout.application_id,
        "iat": now.seconds(),
        "exp": now.seconds() + LOGOUT_TOKEN_SECONDS,
        "jti": hex(&random_bytes::<16>()),
        "sub": logout.person_id.as_str(),
        "sid": logout.session_id.as_str(),
        "events": {"http://schemas.openid.net/event/backchannel-logout": {}},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_from_half_a_minute_to_two_hours() {
        let waits: Vec<i64> = (1..=10).map(retry_wait_seconds).collect();
        assert_eq!(waits, [30, 60, 120, 240, 480, 960, 1920, 3840, 7200, 7200]);
        let total: i64 = (1..MAX_ATTEMPTS).map(retry_wait_seconds).sum();
        assert!(
            (18 * 3600..=30 * 3600).contains(&total),
            "about a day: {total}"
        );
    }
}
