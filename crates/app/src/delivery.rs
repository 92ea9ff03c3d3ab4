//! The Delivery port: send this text or this call to this phone, and take the provider's
//! callbacks about it. Its adapters (Twilio, the development outbox) live in `latch-messaging`.

use async_trait::async_trait;
use latch_domain::code::OneTimeCode;
use latch_domain::phone::PhoneNumber;
use latch_domain::two_factor::Channel;

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
    /// For a call whose provider asks for a key press first (`Delivery::asks_key_press`): the
    /// one-time token the key press brings back to fetch the code with (never the code).
    pub press_key_token: Option<String>,
}

/// Why a message did not go out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    /// The provider did not answer, even after a retry.
    #[error("the provider is not answering")]
    ProviderDown,
    /// The message could not be kept for sending (the development outbox).
    #[error("the message could not be kept")]
    NotKept,
    /// Not a number that can receive texts (a landline, an invalid number).
    #[error("the number cannot receive texts")]
    CannotText,
    /// The number replied STOP to our texts.
    #[error("the number stopped our texts")]
    StoppedTexts,
    /// This method cannot reach this number or its country now.
    #[error("the method cannot reach the number or its country")]
    Unreachable,
    /// A text to a number with an extension.
    #[error("a text to an extension")]
    ExtensionWithText,
    /// A call where this installation has no voice-capable number.
    #[error("no voice calls on this installation")]
    VoiceUnavailable,
    /// Any other refusal of the number by the provider.
    #[error("the provider refused the number")]
    Refused,
}

impl DeliveryError {
    /// The other method, when it may work where this one did not.
    pub fn try_instead(self) -> Option<latch_domain::two_factor::Channel> {
        use latch_domain::two_factor::Channel;
        match self {
            DeliveryError::CannotText
            | DeliveryError::StoppedTexts
            | DeliveryError::ExtensionWithText => Some(Channel::Voice),
            DeliveryError::VoiceUnavailable => Some(Channel::Sms),
            DeliveryError::ProviderDown
            | DeliveryError::NotKept
            | DeliveryError::Unreachable
            | DeliveryError::Refused => None,
        }
    }
}

/// A message the provider took.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sent {
    /// The provider's id for it, to match its delivery reports.
    pub provider_id: Option<String>,
}

/// A request the provider made to latch (a delivery report, a key press on a call), as it came.
#[derive(Debug, Clone, Copy)]
pub struct Callback<'a> {
    /// The path it came to, such as `/webhooks/twilio/status`.
    pub path: &'a str,
    /// Its form parameters.
    pub params: &'a [(String, String)],
    /// The provider's signature header, or empty.
    pub signature: &'a str,
}

#[async_trait]
pub trait Delivery: Send + Sync {
    async fn deliver(&self, message: &Outgoing) -> Result<Sent, DeliveryError>;
    fn supports_voice(&self) -> bool;
    /// Whether a code call asks the person to press a key before it says the code, so an
    /// answering machine never hears it; the code is then fetched with `press_key_token`.
    fn asks_key_press(&self) -> bool {
        false
    }
    /// Whether a callback truly comes from the provider (its signature holds); `None` when this
    /// delivery takes no callbacks at all.
    fn callback_is_genuine(&self, _callback: Callback<'_>) -> Option<bool> {
        None
    }
    /// What to answer a key press with: the content type and the provider's markup saying
    /// `script`, or that the code is gone when there is none.
    fn key_press_answer(&self, _script: Option<&str>) -> Option<(&'static str, String)> {
        None
    }
    /// The delivery report a genuine callback carries, if it is one.
    fn read_report(&self, _params: &[(String, String)]) -> Option<DeliveryReport> {
        None
    }
}

/// What the provider says became of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryReport {
    /// The provider's id of the message, as `Sent::provider_id` gave it.
    pub provider_id: String,
    pub status: String,
    pub error_code: Option<String>,
}

/// How latch answers a callback from the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallbackAnswer {
    /// This delivery takes no callbacks: there is no such endpoint.
    NotTaken,
    /// The signature does not hold: nothing was read.
    NotGenuine,
    /// Taken; with the markup (content type, body) to answer with, where there is some.
    Taken(Option<(&'static str, String)>),
}
