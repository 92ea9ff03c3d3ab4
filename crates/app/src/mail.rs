//! Email: what latch queues (a letter to one address, or a password reset someone asked for),
//! the queue every node drains, and the `Mailer` port the mail adapters implement.

use std::sync::Arc;

use async_trait::async_trait;
use latch_domain::Email;
use latch_domain::mail::{From, Letter, Mail};
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::latch::Core;
use crate::logouts::retry_wait_seconds;
use crate::ports::StoreError;
use crate::records::{ClientInfo, EmailOutboxMessage, Practice};
use crate::recovery;

/// How many emails one round claims.
const BATCH: i64 = 20;
/// A claimed email is not claimed again for this long: a slow mail server's time, and more.
const CLAIM_SECONDS: i64 = 120;
/// Tries before an email is given up on: the waits between them add up to about a day.
const MAX_ATTEMPTS: i64 = 20;

/// Why the mail server did not take a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MailError {
    /// Refused for good (a permanent SMTP reply, an address it will never take): trying again
    /// cannot help.
    #[error("refused: {0}")]
    Refused(String),
    /// Not now (no connection, a timeout, a transient reply): tried again later.
    #[error("not sent: {0}")]
    Failed(String),
}

/// Hands one letter to the mail server, or to the development outbox.
#[async_trait]
pub trait Mailer: Send + Sync {
    async fn send(&self, to: &Email, letter: &Letter) -> Result<(), MailError>;
}

/// What waits in the queue, sealed (`Keys::seal_mail`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum Queued {
    Letter {
        to: String,
        subject: String,
        text: String,
        html: String,
    },
    /// A reset asked for by email address: whether the address is anyone's is found out here,
    /// in the queue, so the request itself does the same work, in the same time, for known and
    /// unknown addresses alike.
    PasswordResetRequest {
        email: String,
        ip: String,
        user_agent: String,
    },
}

/// What a round of the queue did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    /// Reset requests looked up (and, for a known address, their link queued).
    pub prepared: usize,
    pub sent: usize,
    pub postponed: usize,
    pub given_up: usize,
}

impl Round {
    pub fn did_anything(&self) -> bool {
        self.prepared + self.sent + self.postponed + self.given_up > 0
    }
}

impl Core {
    /// Queues an email to a person of `practice`, composed now in the practice's words; inside
    /// a unit of work it goes with the unit's other writes, or not at all.
    pub(crate) async fn mail(
        &self,
        to: &Email,
        practice: &Practice,
        mail: Mail<'_>,
    ) -> Result<(), StoreError> {
        let letter = mail.compose(From {
            product: &self.settings.product_name,
            practice: Some(&practice.name),
        });
        self.queue(&Queued::Letter {
            to: to.as_str().to_owned(),
            subject: letter.subject,
            text: letter.text,
            html: letter.html,
        })
        .await
    }

    /// An address of latch's, built from the public URL alone, never from a request's `Host`.
    pub(crate) fn link(&self, path: &str) -> String {
        format!("{}{path}", self.settings.public_url.trim_end_matches('/'))
    }

    /// A time on the practice's clock.
    pub(crate) fn local_time(
        &self,
        practice: &Practice,
        at: latch_domain::Timestamp,
    ) -> latch_domain::zone::LocalTime {
        practice.security.time_zone.local(at)
    }
}

#[derive(Clone)]
pub struct MailService {
    core: Arc<Core>,
}

impl MailService {
    pub(crate) fn new(core: Arc<Core>) -> Self {
        MailService { core }
    }

    /// Sends the emails that are due: each is claimed by this node alone, and one the mail
    /// server does not take is tried again later, waiting longer each time; one it refuses
    /// for good is dropped, and said so in the log.
    pub async fn send_due(&self, mailer: &dyn Mailer) -> Result<Round, AppError> {
        let core = &self.core;
        let now = core.clock.now();
        let claimed = core
            .store
            .claim_mail(now, now.plus(CLAIM_SECONDS), BATCH)
            .await?;
        let mut round = Round::default();
        for queued in claimed {
            let opened = core
                .keys
                .open_mail(&queued.sealed)
                .and_then(|plain| serde_json::from_slice::<Queued>(&plain).ok());
            let outcome = match opened {
                None => {
                    tracing::warn!(
                        id = queued.id,
                        "a queued email could not be opened (was LATCH_SECRET_KEY changed?); dropped"
                    );
                    Err(MailError::Refused("unreadable".into()))
                }
                Some(Queued::PasswordResetRequest {
                    email,
                    ip,
                    user_agent,
                }) => {
                    let client = ClientInfo { ip, user_agent };
                    recovery::prepare_reset(core, queued.id, &email, &client).await?;
                    round.prepared += 1;
                    continue;
                }
                Some(Queued::Letter {
                    to,
                    subject,
                    text,
                    html,
                }) => {
                    let letter = Letter {
                        subject,
                        text,
                        html,
                    };
                    mailer.send(&Email::from_stored(&to), &letter).await
                }
            };
            match outcome {
                Ok(()) => {
                    core.store.finish_mail(queued.id).await?;
                    round.sent += 1;
                }
                Err(MailError::Failed(why)) if queued.attempts < MAX_ATTEMPTS => {
                    tracing::info!(id = queued.id, %why, attempts = queued.attempts, "an email will be tried again");
                    let due = now.plus(retry_wait_seconds(queued.attempts));
                    core.store.postpone_mail(queued.id, due).await?;
                    round.postponed += 1;
                }
                Err(why) => {
                    tracing::warn!(id = queued.id, %why, attempts = queued.attempts, "an email was given up");
                    core.store.finish_mail(queued.id).await?;
                    round.given_up += 1;
                }
            }
        }
        Ok(round)
    }

    /// Whether anything was queued on this node since the last wait: the queue's loop wakes
    /// at once for it instead of at its next pause.
    pub async fn queued(&self) {
        self.core.mail_queued.notified().await;
    }

    /// The development email outbox's messages, newest first, to one address or to all; none
    /// when email really goes out.
    pub async fn outbox(
        &self,
        to: Option<&Email>,
        limit: u32,
    ) -> Result<Option<Vec<EmailOutboxMessage>>, AppError> {
        if !self.core.settings.email_outbox {
            return Ok(None);
        }
        let to = to.map(Email::normalized);
        Ok(Some(self.core.store.email_outbox(to, limit).await?))
    }
}
