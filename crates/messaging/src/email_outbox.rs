//! The development email outbox: every email kept in the database instead of sent, with its
//! first latch link apart so a developer (or a test) can follow it. Production refuses it.

use std::sync::Arc;

use async_trait::async_trait;
use latch_app::clock::Clock;
use latch_app::mail::{MailError, Mailer};
use latch_app::ports::Store;
use latch_app::records::NewEmailOutboxMessage;
use latch_domain::Email;
use latch_domain::mail::Letter;

pub struct EmailOutbox {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    public_url: String,
}

impl EmailOutbox {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, public_url: &str) -> Self {
        EmailOutbox {
            store,
            clock,
            public_url: public_url.trim_end_matches('/').to_owned(),
        }
    }

    /// The first link to latch in the message's text.
    fn link_in(&self, text: &str) -> Option<String> {
        let start = text.find(&format!("{}/", self.public_url))?;
        let link = text[start..].split_whitespace().next()?;
        Some(link.to_owned())
    }
}

#[async_trait]
impl Mailer for EmailOutbox {
    async fn send(&self, to: &Email, letter: &Letter) -> Result<(), MailError> {
        let message = NewEmailOutboxMessage {
            to: to.as_str().to_owned(),
            to_normalized: to.normalized().to_owned(),
            subject: letter.subject.clone(),
            text: letter.text.clone(),
            html: letter.html.clone(),
            link: self.link_in(&letter.text),
            sent_at: self.clock.now(),
        };
        self.store
            .append_email_outbox(&message)
            .await
            .map_err(|e| MailError::Failed(format!("the email outbox could not keep it: {e}")))?;
        tracing::info!("email outbox: message kept (see /dev/outbox)");
        Ok(())
    }
}
