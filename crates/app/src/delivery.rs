//! The Delivery port (send this text or this call to this phone) and the development outbox.

use std::sync::Arc;

use async_trait::async_trait;
use latch_domain::code::OneTimeCode;
use latch_domain::phone::PhoneNumber;
use latch_domain::two_factor::Channel;

use crate::clock::Clock;
use crate::ports::Store;
use crate::records::OutboxMessage;

/// A text or a call on its way.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub to: PhoneNumber,
    /// Dialled once a call connects.
    pub extension: Option<String>,
    pub channel: Channel,
    /// What the text says, or the call's script.
    pub body: String,
    /// The code inside, if any (only the outbox keeps it apart).
    pub code: Option<OneTimeCode>,
    /// For a call over HTTPS: where the provider fetches the code once the person has pressed a
    /// key (it carries a one-time token, never the code).
    pub press_key_url: Option<String>,
}

/// Why a message did not go out, worded for the person waiting for it.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct DeliveryError {
    pub message: String,
    /// The other method, when it may work where this one did not.
    pub try_instead: Option<latch_domain::two_factor::Channel>,
}

/// A message the provider took.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sent {
    /// The provider's id for it, to match its delivery reports.
    pub provider_id: Option<String>,
}

#[async_trait]
pub trait Delivery: Send + Sync {
    async fn deliver(&self, message: &Outgoing) -> Result<Sent, DeliveryError>;
    fn supports_voice(&self) -> bool;
    /// The development outbox, whose messages the dev endpoints may show.
    fn outbox(&self) -> Option<&OutboxDelivery> {
        None
    }
}

/// Keeps every message in the database instead of sending it, and says so in the log with the
/// number masked and no code. Development only: production refuses it.
pub struct OutboxDelivery {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
}

impl OutboxDelivery {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        OutboxDelivery { store, clock }
    }

    /// Messages newest first, to one number (E.164) or to all.
    pub async fn messages(
        &self,
        to: Option<&str>,
        limit: u32,
    ) -> Result<Vec<OutboxMessage>, crate::AppError> {
        Ok(self.store.outbox(to, limit).await?)
    }
}

#[async_trait]
impl Delivery for OutboxDelivery {
    async fn deliver(&self, m: &Outgoing) -> Result<Sent, DeliveryError> {
        let code = m.code.as_ref().map(OneTimeCode::digits);
        self.store
            .append_outbox(m.to.e164(), m.channel, &m.body, code, self.clock.now())
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "the outbox could not keep a message");
                DeliveryError {
                    message: "We couldn't send the message just now. Please try again.".into(),
                    try_instead: None,
                }
            })?;
        tracing::info!(to = %m.to.masked(), channel = m.channel.as_str(), "outbox: message kept (see /dev/outbox)");
        Ok(Sent::default())
    }

    fn supports_voice(&self) -> bool {
        true
    }

    fn outbox(&self) -> Option<&OutboxDelivery> {
        Some(self)
    }
}
