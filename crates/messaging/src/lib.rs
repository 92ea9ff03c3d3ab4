//! latch's deliveries behind the app's ports: texts through Twilio's Messages API and voice
//! calls through its Calls API, with the signature check of its callbacks, and the development
//! outbox (`Delivery`); email by SMTP and the development email outbox (`Mailer`); and the
//! back-channel logouts latch posts to applications.
#![forbid(unsafe_code)]

mod email_outbox;
mod logout;
mod outbox;
mod signature;
mod smtp;
mod twilio;

pub use email_outbox::EmailOutbox;
pub use logout::HttpLogoutSender;
pub use outbox::OutboxDelivery;
pub use signature::twilio_signature;
pub use smtp::{Security, SmtpMailer, SmtpTarget, parse_from, read_authority};
pub use twilio::{TwilioDelivery, TwilioSettings, twiml_for_call, twiml_press_a_key};

/// Installs ring as rustls's crypto provider, once per process: reqwest is built without a
/// default one (that would pull aws-lc) and panics when a client is built before this.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
