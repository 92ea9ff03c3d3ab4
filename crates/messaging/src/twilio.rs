//! Texts and calls through Twilio's REST API: a small client of our own (no maintained Twilio
//! crate exists), with timeouts, one retry on provider or network trouble, and Twilio's error
//! codes turned into messages a person can act on.

use std::time::Duration;

use async_trait::async_trait;
use latch_app::Secret;
use latch_app::delivery::{Callback, Delivery, DeliveryError, DeliveryReport, Outgoing, Sent};
use latch_domain::two_factor::Channel;
use serde::Deserialize;

/// Where and as whom latch talks to Twilio.
#[derive(Debug, Clone)]
pub struct TwilioSettings {
    /// `https://api.twilio.com`, or a local fake in tests.
    pub api_base: String,
    pub account_sid: String,
    pub auth_token: Secret,
    /// A voice-capable number (E.164); needed for calls, and for texts without a service.
    pub from: Option<String>,
    /// Texts go through this Messaging Service when given.
    pub messaging_service_sid: Option<String>,
    /// The origin people and Twilio reach latch at (`LATCH_PUBLIC_URL`). Over HTTPS, Twilio
    /// reports delivery to `/webhooks/twilio/status` there, and a code call asks for a key
    /// press answered at `/webhooks/twilio/voice/{token}`; callbacks are signed for it.
    pub public_url: String,
    /// Longest wait for a connection (5 s) and for a whole request (10 s).
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
}

impl TwilioSettings {
    pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
    pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
}

pub struct TwilioDelivery {
    http: reqwest::Client,
    settings: TwilioSettings,
}

#[derive(Deserialize)]
struct TwilioAnswer {
    sid: Option<String>,
}

#[derive(Deserialize)]
struct TwilioFailure {
    code: Option<i64>,
}

impl TwilioDelivery {
    pub fn new(settings: TwilioSettings) -> Result<Self, String> {
        crate::install_crypto_provider();
        let http = reqwest::Client::builder()
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.request_timeout)
            .build()
            .map_err(|e| format!("could not build the HTTP client: {e}"))?;
        Ok(TwilioDelivery { http, settings })
    }

    /// Twilio calls back only over HTTPS.
    fn reachable(&self) -> bool {
        self.settings.public_url.starts_with("https://")
    }

    fn public(&self, path: &str) -> String {
        format!("{}{path}", self.settings.public_url.trim_end_matches('/'))
    }

    fn url(&self, resource: &str) -> String {
        format!(
            "{}/2010-04-01/Accounts/{}/{resource}.json",
            self.settings.api_base.trim_end_matches('/'),
            self.settings.account_sid
        )
    }

    /// One POST, retried once after a short random pause when Twilio or the network failed
    /// (never when Twilio refused the request: that answer would not change).
    async fn post(&self, resource: &str, form: &[(&str, String)]) -> Result<Sent, DeliveryError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = self
                .http
                .post(self.url(resource))
                .basic_auth(
                    &self.settings.account_sid,
                    Some(self.settings.auth_token.expose()),
                )
                .form(form)
                .send()
                .await;
            let retryable = match result {
                Ok(response) if response.status().is_success() => {
                    let answer: Option<TwilioAnswer> = response.json().await.ok();
                    return Ok(Sent {
                        provider_id: answer.and_then(|a| a.sid),
                    });
                }
                Ok(response) if response.status().is_server_error() => {
                    tracing::warn!(
                        status = response.status().as_u16(),
                        "Twilio answered with a server error"
                    );
                    true
                }
                Ok(response) => {
                    let status = response.status().as_u16();
                    let code = response
                        .json::<TwilioFailure>()
                        .await
                        .ok()
                        .and_then(|f| f.code);
                    tracing::warn!(status, code, "Twilio refused a message");
                    return Err(refusal(code));
                }
                Err(e) => {
                    tracing::warn!(
                        timeout = e.is_timeout(),
                        connect = e.is_connect(),
                        "Twilio could not be reached"
                    );
                    true
                }
            };
            if !retryable || attempt >= 2 {
                return Err(DeliveryError::ProviderDown);
            }
            tokio::time::sleep(jitter()).await;
        }
    }
}

/// 200–700 ms, so many nodes retrying at once do not retry together.
fn jitter() -> Duration {
    let mut byte = [0u8; 2];
    let _ = getrandom::fill(&mut byte);
    Duration::from_millis(200 + u64::from(u16::from_le_bytes(byte) % 500))
}

/// What Twilio's error codes say of the number.
fn refusal(code: Option<i64>) -> DeliveryError {
    match code {
        Some(21211 | 21614) => DeliveryError::CannotText,
        Some(21610) => DeliveryError::StoppedTexts,
        Some(21408 | 21612) => DeliveryError::Unreachable,
        _ => DeliveryError::Refused,
    }
}

/// The call's instructions: the script in a clear voice, slowed down; its digits are already
/// written one by one with pauses between them, and the script says everything else in words.
pub fn twiml_for_call(script: &str) -> String {
    let escaped = escape(script);
    format!(
        "<Response><Pause length=\"1\"/><Say voice=\"Polly.Joanna\" language=\"en-US\"><prosody rate=\"slow\">{escaped}</prosody></Say></Response>"
    )
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// A call that asks for a key press before saying anything secret, so an answering machine
/// never records the code; the key press makes Twilio fetch the code from `url` (a one-time
/// token, never the code).
pub fn twiml_press_a_key(url: &str) -> String {
    format!(
        "<Response><Gather numDigits=\"1\" timeout=\"15\" method=\"POST\" action=\"{}\">\
         <Say voice=\"Polly.Joanna\" language=\"en-US\">Hello. This is your sign-in code call. Press any key to hear your code.</Say>\
         </Gather><Say voice=\"Polly.Joanna\" language=\"en-US\">We did not hear a key. Goodbye.</Say></Response>",
        escape(url)
    )
}

#[async_trait]
impl Delivery for TwilioDelivery {
    async fn deliver(&self, m: &Outgoing) -> Result<Sent, DeliveryError> {
        let mut form: Vec<(&str, String)> = vec![("To", m.to.e164().to_owned())];
        match m.channel {
            Channel::Sms => {
                if m.extension.is_some() {
                    return Err(DeliveryError::ExtensionWithText);
                }
                form.push(("Body", m.body.clone()));
                match (&self.settings.messaging_service_sid, &self.settings.from) {
                    (Some(service), _) => form.push(("MessagingServiceSid", service.clone())),
                    (None, Some(from)) => form.push(("From", from.clone())),
                    (None, None) => unreachable!("configuration requires a sender"),
                }
            }
            Channel::Voice => {
                let Some(from) = &self.settings.from else {
                    return Err(DeliveryError::VoiceUnavailable);
                };
                form.push(("From", from.clone()));
                let twiml = match &m.press_key_token {
                    Some(token) => {
                        twiml_press_a_key(&self.public(&format!("/webhooks/twilio/voice/{token}")))
                    }
                    None => twiml_for_call(&m.body),
                };
                form.push(("Twiml", twiml));
                if let Some(extension) = &m.extension {
                    // Each "w" waits half a second for the office's system to answer.
                    form.push(("SendDigits", format!("wwww{extension}")));
                }
            }
        }
        if self.reachable() {
            form.push(("StatusCallback", self.public("/webhooks/twilio/status")));
        }
        let resource = match m.channel {
            Channel::Sms => "Messages",
            Channel::Voice => "Calls",
        };
        self.post(resource, &form).await
    }

    fn supports_voice(&self) -> bool {
        self.settings.from.is_some()
    }

    fn asks_key_press(&self) -> bool {
        self.reachable()
    }

    fn callback_is_genuine(&self, callback: Callback<'_>) -> Option<bool> {
        let expected = crate::twilio_signature(
            self.settings.auth_token.expose(),
            &self.public(callback.path),
            callback.params,
        );
        // SECURITY: constant-time, and nothing is read from an unsigned callback.
        Some(latch_app::crypto::constant_time_eq(
            callback.signature,
            &expected,
        ))
    }

    fn key_press_answer(&self, script: Option<&str>) -> Option<(&'static str, String)> {
        let twiml = twiml_for_call(script.unwrap_or(
            "This code is no longer available. Please ask for a new one on the sign-in page. Goodbye.",
        ));
        Some(("text/xml; charset=utf-8", twiml))
    }

    fn read_report(&self, params: &[(String, String)]) -> Option<DeliveryReport> {
        let get = |name: &str| {
            params
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        Some(DeliveryReport {
            provider_id: get("MessageSid").or_else(|| get("CallSid"))?,
            status: get("MessageStatus").or_else(|| get("CallStatus"))?,
            error_code: get("ErrorCode"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_call_script_is_escaped_and_slowed() {
        let twiml = twiml_for_call("Hello <you> & 1, 2");
        assert_eq!(
            twiml,
            "<Response><Pause length=\"1\"/><Say voice=\"Polly.Joanna\" language=\"en-US\"><prosody rate=\"slow\">Hello &lt;you&gt; &amp; 1, 2</prosody></Say></Response>"
        );
    }

    /// What Twilio is told to say on a call: the code's script, the key press that comes first
    /// over HTTPS, and what a dead code's key press hears.
    #[test]
    fn the_call_markup() {
        let code = latch_domain::code::OneTimeCode::parse("04150926").unwrap();
        insta::assert_snapshot!(format!(
            "{}\n\n{}",
            twiml_for_call(&latch_domain::message::code_call("latch", &code)),
            twiml_press_a_key("https://latch.example.com/webhooks/twilio/voice/TOKEN")
        ));
    }

    #[test]
    fn twilio_codes_say_what_became_of_the_number() {
        assert_eq!(refusal(Some(21610)), DeliveryError::StoppedTexts);
        assert_eq!(refusal(Some(21211)), DeliveryError::CannotText);
        assert_eq!(refusal(Some(21614)), DeliveryError::CannotText);
        assert_eq!(refusal(Some(21408)), DeliveryError::Unreachable);
        assert_eq!(refusal(None), DeliveryError::Refused);
    }
}
