//! The Twilio client against a local fake Twilio: the exact requests, every mapped error,
//! timeouts and the retry rule.

use std::time::Duration;

use latch_app::Secret;
use latch_app::delivery::{Delivery, DeliveryError, Outgoing};
use latch_domain::code::OneTimeCode;
use latch_domain::phone::PhoneNumber;
use latch_domain::two_factor::Channel;
use latch_messaging::{TwilioDelivery, TwilioSettings};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const SID: &str = "AC0123456789abcdef0123456789abcdef";
const TOKEN: &str = "0123456789abcdef0123456789abcdef";

fn settings(base: &str) -> TwilioSettings {
    TwilioSettings {
        api_base: base.to_owned(),
        account_sid: SID.into(),
        auth_token: Secret::new(TOKEN),
        from: Some("+14155550100".into()),
        messaging_service_sid: None,
        public_url: "http://127.0.0.1:8080".into(),
        connect_timeout: Duration::from_millis(300),
        request_timeout: Duration::from_millis(500),
    }
}

fn text() -> Outgoing {
    Outgoing {
        to: PhoneNumber::parse("+14155552671", None).unwrap(),
        extension: None,
        channel: Channel::Sms,
        body: "latch sign-in code: 04150926. It expires in ten minutes.".into(),
        code: Some(OneTimeCode::parse("04150926").unwrap()),
        press_key_token: None,
    }
}

fn form(request: &Request) -> Vec<(String, String)> {
    url::form_urlencoded::parse(&request.body)
        .into_owned()
        .collect()
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn basic_auth() -> String {
    // base64("AC0123...:0123...") computed independently of the client.
    let raw = format!("{SID}:{TOKEN}");
    let table = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in raw.as_bytes().chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            out.push(if i <= chunk.len() {
                table[((n >> (18 - 6 * i)) & 63) as usize] as char
            } else {
                '='
            });
        }
    }
    format!("Basic {out}")
}

#[tokio::test]
async fn a_text_is_posted_to_the_messages_api_with_basic_auth() {
    let twilio = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/2010-04-01/Accounts/{SID}/Messages.json")))
        .and(header("authorization", basic_auth().as_str()))
        .respond_with(ResponseTemplate::new(201).set_body_string(r#"{"sid": "SM123"}"#))
        .expect(1)
        .mount(&twilio)
        .await;
    let sent = TwilioDelivery::new(settings(&twilio.uri()))
        .unwrap()
        .deliver(&text())
        .await
        .unwrap();
    assert_eq!(sent.provider_id.as_deref(), Some("SM123"));
    let request = &twilio.received_requests().await.unwrap()[0];
    let fields = form(request);
    assert_eq!(field(&fields, "To"), Some("+14155552671"));
    assert_eq!(field(&fields, "From"), Some("+14155550100"));
    assert!(field(&fields, "Body").unwrap().contains("04150926"));
    assert_eq!(field(&fields, "MessagingServiceSid"), None);
    assert_eq!(field(&fields, "StatusCallback"), None);
}

#[tokio::test]
async fn a_messaging_service_sends_texts_when_configured_and_reports_come_back() {
    let twilio = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201).set_body_string(r#"{"sid": "SM1"}"#))
        .mount(&twilio)
        .await;
    let mut s = settings(&twilio.uri());
    s.messaging_service_sid = Some("MG0123456789abcdef0123456789abcdef".into());
    s.public_url = "https://latch.example.com".into();
    TwilioDelivery::new(s)
        .unwrap()
        .deliver(&text())
        .await
        .unwrap();
    let fields = form(&twilio.received_requests().await.unwrap()[0]);
    assert_eq!(
        field(&fields, "MessagingServiceSid"),
        Some("MG0123456789abcdef0123456789abcdef")
    );
    assert_eq!(field(&fields, "From"), None);
    assert_eq!(
        field(&fields, "StatusCallback"),
        Some("https://latch.example.com/webhooks/twilio/status")
    );
}

#[tokio::test]
async fn a_call_carries_its_script_as_inline_twiml_and_dials_the_extension() {
    let twilio = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/2010-04-01/Accounts/{SID}/Calls.json")))
        .respond_with(ResponseTemplate::new(201).set_body_string(r#"{"sid": "CA1"}"#))
        .expect(1)
        .mount(&twilio)
        .await;
    let call = Outgoing {
        channel: Channel::Voice,
        extension: Some("204".into()),
        body: latch_domain::message::code_call("latch", &OneTimeCode::parse("04150926").unwrap()),
        ..text()
    };
    TwilioDelivery::new(settings(&twilio.uri()))
        .unwrap()
        .deliver(&call)
        .await
        .unwrap();
    let request = &twilio.received_requests().await.unwrap()[0];
    assert!(
        !request.url.as_str().contains("0415"),
        "never the code in a URL"
    );
    let fields = form(request);
    let twiml = field(&fields, "Twiml").unwrap();
    assert!(
        twiml.starts_with("<Response>") && twiml.contains("0, 4, 1, 5, 0, 9, 2, 6"),
        "{twiml}"
    );
    assert!(
        !twiml.contains("04150926"),
        "never the code as one run of digits"
    );
    assert_eq!(field(&fields, "SendDigits"), Some("wwww204"));
    assert_eq!(field(&fields, "From"), Some("+14155550100"));
}

#[tokio::test]
async fn texts_never_go_to_a_number_with_an_extension_and_calls_need_a_from_number() {
    let twilio = MockServer::start().await;
    let delivery = TwilioDelivery::new(settings(&twilio.uri())).unwrap();
    let with_extension = Outgoing {
        extension: Some("204".into()),
        ..text()
    };
    assert!(delivery.deliver(&with_extension).await.is_err());
    let mut s = settings(&twilio.uri());
    s.from = None;
    s.messaging_service_sid = Some("MG0123456789abcdef0123456789abcdef".into());
    let no_voice = TwilioDelivery::new(s).unwrap();
    assert!(!no_voice.supports_voice());
    assert!(
        no_voice
            .deliver(&Outgoing {
                channel: Channel::Voice,
                ..text()
            })
            .await
            .is_err()
    );
    assert!(
        twilio.received_requests().await.unwrap().is_empty(),
        "nothing reached Twilio"
    );
}

async fn refused_with(code: i64) -> DeliveryError {
    let twilio = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(400).set_body_string(format!(
            r#"{{"code": {code}, "message": "x", "status": 400}}"#
        )))
        .expect(1)
        .mount(&twilio)
        .await;
    TwilioDelivery::new(settings(&twilio.uri()))
        .unwrap()
        .deliver(&text())
        .await
        .unwrap_err()
}

#[tokio::test]
async fn twilios_refusals_say_what_became_of_the_number_and_are_never_retried() {
    for code in [21211, 21614] {
        let e = refused_with(code).await;
        assert_eq!(e, DeliveryError::CannotText, "{code}");
        assert_eq!(e.try_instead(), Some(Channel::Voice));
    }
    let stop = refused_with(21610).await;
    assert_eq!(stop, DeliveryError::StoppedTexts);
    assert_eq!(stop.try_instead(), Some(Channel::Voice));
    for code in [21408, 21612] {
        assert_eq!(
            refused_with(code).await,
            DeliveryError::Unreachable,
            "{code}"
        );
    }
}

#[tokio::test]
async fn a_server_error_is_retried_once() {
    let twilio = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&twilio)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201).set_body_string(r#"{"sid": "SM2"}"#))
        .mount(&twilio)
        .await;
    let sent = TwilioDelivery::new(settings(&twilio.uri()))
        .unwrap()
        .deliver(&text())
        .await
        .unwrap();
    assert_eq!(sent.provider_id.as_deref(), Some("SM2"));
    assert_eq!(twilio.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_slow_or_absent_provider_gives_up_after_two_tries() {
    let twilio = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201).set_delay(Duration::from_secs(2)))
        .mount(&twilio)
        .await;
    let e = TwilioDelivery::new(settings(&twilio.uri()))
        .unwrap()
        .deliver(&text())
        .await
        .unwrap_err();
    assert_eq!(e, DeliveryError::ProviderDown);
    assert_eq!(
        twilio.received_requests().await.unwrap().len(),
        2,
        "one retry"
    );

    // Nothing listening at all.
    let gone = TwilioDelivery::new(settings("http://127.0.0.1:9")).unwrap();
    assert_eq!(
        gone.deliver(&text()).await.unwrap_err(),
        DeliveryError::ProviderDown
    );
}

#[tokio::test]
async fn over_https_a_call_asks_for_a_key_before_it_says_anything_secret() {
    let twilio = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201).set_body_string(r#"{"sid": "CA1"}"#))
        .mount(&twilio)
        .await;
    let call = Outgoing {
        channel: Channel::Voice,
        press_key_token: Some("abc123".into()),
        body: latch_domain::message::code_call("latch", &OneTimeCode::parse("04150926").unwrap()),
        ..text()
    };
    let mut s = settings(&twilio.uri());
    s.public_url = "https://latch.example.com".into();
    TwilioDelivery::new(s)
        .unwrap()
        .deliver(&call)
        .await
        .unwrap();
    let fields = form(&twilio.received_requests().await.unwrap()[0]);
    let twiml = field(&fields, "Twiml").unwrap();
    assert!(
        twiml.contains("<Gather")
            && twiml.contains("https://latch.example.com/webhooks/twilio/voice/abc123"),
        "{twiml}"
    );
    assert!(
        !twiml.contains('0') || !twiml.contains("0, 4"),
        "no digit of the code before the key press"
    );
    assert!(
        !twiml
            .chars()
            .filter(char::is_ascii_digit)
            .collect::<String>()
            .contains("0415")
    );
}
