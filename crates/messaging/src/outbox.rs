//! The development outbox: every message kept in the database instead of sent, and said so in
//! the log with the number masked and no code. Development only: production refuses it.

use std::sync::Arc;

use async_trait::async_trait;
use latch_app::clock::Clock;
use latch_app::delivery::{Delivery, DeliveryError, Outgoing, Sent};
use latch_app::ports::Store;
use latch_domain::code::OneTimeCode;

pub struct OutboxDelivery {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
}

impl OutboxDelivery {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        OutboxDelivery { store, clock }
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
                DeliveryError::NotKept
            })?;
        tracing::info!(to = %m.to.masked(), channel = m.channel.as_str(), "outbox: message kept (see /dev/outbox)");
        Ok(Sent::default())
    }

    fn supports_voice(&self) -> bool {
        true
    }
}
