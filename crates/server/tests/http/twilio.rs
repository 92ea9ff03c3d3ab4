//! latch with Twilio delivery, against a local fake Twilio: a sign-in end to end with the code
//! read back from the fake, delivery failures that keep the sign-in, the signed status
//! callback, and no outbox.

use reqwest::StatusCode;
use serde_json::json;
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{Dialect, PASSWORD, TestApp, code};

const SID: &str = "AC0123456789abcdef0123456789abcdef";
const TOKEN: &str = "0123456789abcdef0123456789abcdef";
const PHONE: &str = "+14155552671";

crate::on_both_databases!(
    a_person_signs_in_with_a_code_sent_through_twilio,
    a_refused_text_keeps_the_sign_in_and_offers_a_call,
    the_status_callback_takes_only_signed_reports,
    refused_numbers_and_a_spent_budget_never_reach_twilio,
    over_https_a_call_says_the_code_only_after_a_key_press,
    after_stop_the_code_page_offers_a_call_first,
    a_slow_provider_holds_no_transaction_open,
);

async fn app_with_twilio(dialect: Dialect, twilio: &MockServer) -> TestApp {
    let base = twilio.uri();
    TestApp::with_args(
        dialect,
        &[
            "--delivery",
            "twilio",
            "--twilio-api-base",
            &base,
            "--twilio-account-sid",
            SID,
            "--twilio-auth-token",
            TOKEN,
            "--twilio-from",
            "+14155550100",
        ],
    )
    .await
}

/// Texts accepted with increasing ids.
async fn twilio_accepting() -> MockServer {
    let twilio = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path_regex(
            r"^/2010-04-01/Accounts/AC[0-9a-f]{32}/(Messages|Calls)\.json$",
        ))
        .respond_with(ResponseTemplate::new(201).set_body_string(r#"{"sid": "SM0001"}"#))
        .mount(&twilio)
        .await;
    twilio
}

/// The code of the newest text the fake received.
async fn last_code(twilio: &MockServer) -> String {
    let requests = twilio.received_requests().await.unwrap();
    let last = requests.last().expect("Twilio received a text");
    let fields: Vec<(String, String)> = url::form_urlencoded::parse(&last.body)
        .into_owned()
        .collect();
    let body = &fields.iter().find(|(k, _)| k == "Body").expect("a Body").1;
    body.rsplit('#').next().unwrap().trim().to_owned()
}

async fn a_person_signs_in_with_a_code_sent_through_twilio(dialect: Dialect) {
    let twilio = twilio_accepting().await;
    let app = app_with_twilio(dialect, &twilio).await;
    let owner = app.with_practice().await;
    assert_eq!(
        owner.begin_setup(PHONE, "sms").await.0,
        StatusCode::ACCEPTED
    );
    let code_sent = last_code(&twilio).await;
    assert_eq!(code_sent.len(), 8);
    assert_eq!(
        owner
            .post(
                "/api/v1/me/two-factor/setup/confirm",
                json!({"code": code_sent})
            )
            .await
            .0,
        StatusCode::OK
    );

    let c = app.client();
    let (_, body) = c.sign_in("owner@harbor.test", PASSWORD).await;
    assert_eq!(body["state"], "two_factor_required");
    let (status, body) = c
        .post(
            "/api/v1/session/verify",
            json!({"code": last_code(&twilio).await}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let (status, _) = c.get("/api/v1/dev/outbox").await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "no outbox with a real provider"
    );
}

async fn a_refused_text_keeps_the_sign_in_and_offers_a_call(dialect: Dialect) {
    let twilio = MockServer::start().await;
    let app = app_with_twilio(dialect, &twilio).await;
    let owner = app.with_practice().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201).set_body_string(r#"{"sid": "SM0002"}"#))
        .up_to_n_times(1)
        .mount(&twilio)
        .await;
    owner.begin_setup(PHONE, "sms").await;
    owner
        .post(
            "/api/v1/me/two-factor/setup/confirm",
            json!({"code": last_code(&twilio).await}),
        )
        .await;

    // The person replied STOP: texts are refused.
    Mock::given(method("POST"))
        .and(path_regex("Messages"))
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_string(r#"{"code": 21610, "message": "unsubscribed", "status": 400}"#),
        )
        .mount(&twilio)
        .await;
    Mock::given(method("POST"))
        .and(path_regex("Calls"))
        .respond_with(ResponseTemplate::new(201).set_body_string(r#"{"sid": "CA0003"}"#))
        .mount(&twilio)
        .await;
    let c = app.client();
    let (status, body) = c.sign_in("owner@harbor.test", PASSWORD).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_GATEWAY, "delivery_failed")
    );
    assert!(
        body["error"]["message"].as_str().unwrap().contains("call"),
        "{body}"
    );
    // The sign-in waits: a resend by call follows, without waiting 30 s after the failure.
    let (status, body) = c
        .post("/api/v1/session/resend", json!({"channel": "voice"}))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let requests = twilio.received_requests().await.unwrap();
    let call = requests.last().unwrap();
    assert!(call.url.path().ends_with("/Calls.json"));
    let fields: Vec<(String, String)> = url::form_urlencoded::parse(&call.body)
        .into_owned()
        .collect();
    let twiml = &fields.iter().find(|(k, _)| k == "Twiml").unwrap().1;
    let digits: String = twiml
        .split("Your code is: ")
        .nth(1)
        .unwrap()
        .split('.')
        .next()
        .unwrap()
        .replace(", ", "");
    let (status, body) = c
        .post("/api/v1/session/verify", json!({"code": digits}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn the_status_callback_takes_only_signed_reports(dialect: Dialect) {
    let twilio = twilio_accepting().await;
    let app = app_with_twilio(dialect, &twilio).await;
    let owner = app.with_practice().await;
    owner.begin_setup(PHONE, "sms").await;

    let url = format!("{}/webhooks/twilio/status", app.base);
    let params: Vec<(String, String)> = [
        ("MessageSid", "SM0001"),
        ("MessageStatus", "delivered"),
        ("AccountSid", SID),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let c = app.client();
    let signed = latch_messaging::twilio_signature(TOKEN, &url, &params);
    let post = |signature: String| {
        c.http
            .post(&url)
            .header("x-twilio-signature", signature)
            .form(&params)
            .send()
    };
    assert_eq!(
        post("bm90IHRoZSBzaWduYXR1cmU=".into())
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        post(signed.clone()).await.unwrap().status(),
        StatusCode::NO_CONTENT
    );
    let (_, audit) = owner
        .get("/api/v1/practice/audit?kind=delivery.status")
        .await;
    assert_eq!(audit["events"][0]["detail"], "delivered");

    // A report on a message latch does not know is answered and ignored.
    let unknown: Vec<(String, String)> = vec![
        ("MessageSid".into(), "SM9999".into()),
        ("MessageStatus".into(), "failed".into()),
    ];
    let signature = latch_messaging::twilio_signature(TOKEN, &url, &unknown);
    let response = c
        .http
        .post(&url)
        .header("x-twilio-signature", signature)
        .form(&unknown)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
}

async fn refused_numbers_and_a_spent_budget_never_reach_twilio(dialect: Dialect) {
    let twilio = twilio_accepting().await;
    let app = app_with_twilio(dialect, &twilio).await;
    let owner = app.with_practice().await;
    for (phone, expected) in [
        ("+1 900 555 0123", "phone_not_allowed"),
        ("+44 7400 123456", "phone_not_allowed"),
        ("12345", "invalid_phone"),
    ] {
        let (status, body) = owner.begin_setup(phone, "sms").await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::BAD_REQUEST, expected),
            "{phone}"
        );
    }
    assert!(
        twilio.received_requests().await.unwrap().is_empty(),
        "refused numbers never reach Twilio"
    );

    owner
        .put("/api/v1/practice/security", json!({"daily_send_budget": 1}))
        .await;
    assert_eq!(
        owner.begin_setup(PHONE, "sms").await.0,
        StatusCode::ACCEPTED
    );
    let (status, body) = owner.begin_setup("+14155552672", "sms").await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::TOO_MANY_REQUESTS, "rate_limited")
    );
    assert_eq!(
        twilio.received_requests().await.unwrap().len(),
        1,
        "a spent budget sends nothing"
    );
}

/// `latch check-delivery` sends one test text through the configured provider and says so.
#[tokio::test]
async fn check_delivery_sends_one_test_text_and_says_what_happened() {
    let twilio = twilio_accepting().await;
    let dir = tempfile::tempdir().unwrap();
    let run = |to: &str, base: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_latch"))
            .current_dir(dir.path())
            .env_clear()
            // The settings are latch's own options, before the command.
            .args([
                "--delivery",
                "twilio",
                "--twilio-api-base",
                base,
                "--twilio-account-sid",
                SID,
                "--twilio-auth-token",
                TOKEN,
                "--twilio-from",
                "+14155550100",
                "check-delivery",
                "--to",
                to,
            ])
            .output()
            .unwrap()
    };
    let ok = run(PHONE, &twilio.uri());
    let said = String::from_utf8_lossy(&ok.stderr);
    assert!(
        ok.status.success() && said.contains("OK") && said.contains("+1 ••• ••• ••71"),
        "{said}"
    );
    let requests = twilio.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1);
    assert!(String::from_utf8_lossy(&requests[0].body).contains("test+message"));

    let refused = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(400).set_body_string(r#"{"code": 21408, "status": 400}"#),
        )
        .mount(&refused)
        .await;
    let failed = run(PHONE, &refused.uri());
    let said = String::from_utf8_lossy(&failed.stderr);
    assert!(
        !failed.status.success() && said.contains("did not go out") && said.contains("country"),
        "{said}"
    );
}

async fn over_https_a_call_says_the_code_only_after_a_key_press(dialect: Dialect) {
    let twilio = twilio_accepting().await;
    let base = twilio.uri();
    let app = TestApp::with_args(
        dialect,
        &[
            "--public-url",
            "https://latch.example.com",
            "--delivery",
            "twilio",
            "--twilio-api-base",
            &base,
            "--twilio-account-sid",
            SID,
            "--twilio-auth-token",
            TOKEN,
            "--twilio-from",
            "+14155550100",
        ],
    )
    .await;
    let owner = app.with_practice().await;
    let (status, body) = owner.begin_setup(PHONE, "voice").await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let requests = twilio.received_requests().await.unwrap();
    let fields: Vec<(String, String)> = url::form_urlencoded::parse(&requests[0].body)
        .into_owned()
        .collect();
    let get = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let twiml = get("Twiml").unwrap();
    assert!(twiml.contains("<Gather"), "{twiml}");
    assert_eq!(
        get("StatusCallback").as_deref(),
        Some("https://latch.example.com/webhooks/twilio/status")
    );
    let action = twiml
        .split("action=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    assert!(
        action.starts_with("https://latch.example.com/webhooks/twilio/voice/"),
        "{action}"
    );
    let path = action.trim_start_matches("https://latch.example.com");

    let press: Vec<(String, String)> = vec![
        ("Digits".into(), "5".into()),
        ("CallSid".into(), "CA0001".into()),
    ];
    let c = app.client();
    let post = |signature: String| {
        c.http
            .post(format!("{}{path}", app.base))
            .header("x-twilio-signature", signature)
            .form(&press)
            .send()
    };
    assert_eq!(
        post("d3Jvbmc=".into()).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    let signature = latch_messaging::twilio_signature(TOKEN, &action, &press);
    let response = post(signature.clone()).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/xml")
    );
    let said = response.text().await.unwrap();
    let digits: String = said
        .split("Your code is: ")
        .nth(1)
        .unwrap()
        .split('.')
        .next()
        .unwrap()
        .replace(", ", "");
    assert_eq!(digits.len(), 8, "{said}");
    let (status, body) = owner
        .post(
            "/api/v1/me/two-factor/setup/confirm",
            json!({"code": digits}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let again = post(signature).await.unwrap().text().await.unwrap();
    assert!(
        again.contains("no longer available"),
        "the token works once: {again}"
    );
}

async fn after_stop_the_code_page_offers_a_call_first(dialect: Dialect) {
    let twilio = MockServer::start().await;
    let app = app_with_twilio(dialect, &twilio).await;
    let owner = app.with_practice().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201).set_body_string(r#"{"sid": "SM0002"}"#))
        .up_to_n_times(1)
        .mount(&twilio)
        .await;
    owner.begin_setup(PHONE, "sms").await;
    owner
        .post(
            "/api/v1/me/two-factor/setup/confirm",
            json!({"code": last_code(&twilio).await}),
        )
        .await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(400).set_body_string(r#"{"code": 21610, "status": 400}"#),
        )
        .mount(&twilio)
        .await;

    let c = app.client();
    let html = c
        .http
        .get(c.url("/sign-in"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let start = html.find(r#"name="csrf" value=""#).unwrap() + r#"name="csrf" value=""#.len();
    let csrf = html[start..start + 64].to_owned();
    let response = c
        .http
        .post(c.url("/sign-in"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("email", "owner@harbor.test"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["location"], "/sign-in/code?failed=voice");
    let page = c
        .http
        .get(c.url("/sign-in/code?failed=voice"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("We can call it instead"), "{page}");
    assert!(
        !page.contains("We sent a sign-in code"),
        "it does not claim a text went out"
    );
    let call_me = page.find("Call me instead").unwrap();
    let send_again = page.find("Send it again").unwrap();
    assert!(call_me < send_again, "a call is the first choice");
}

/// A code goes out after its unit of work has committed: while Twilio takes its time, the
/// database is free for others (on SQLite, whose writers take turns, a unit held open across
/// the call would make every other write wait for Twilio).
async fn a_slow_provider_holds_no_transaction_open(dialect: Dialect) {
    let twilio = twilio_accepting().await;
    let app = app_with_twilio(dialect, &twilio).await;
    let owner = app.with_practice().await;
    owner.begin_setup(PHONE, "sms").await;
    let confirm = json!({"code": last_code(&twilio).await});
    let (status, _) = owner
        .post("/api/v1/me/two-factor/setup/confirm", confirm)
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, sessions) = owner.get("/api/v1/me/sessions").await;
    let this_session = sessions["sessions"][0]["id"].as_str().unwrap().to_owned();

    twilio.reset().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_string(r#"{"sid": "SM0002"}"#)
                .set_delay(std::time::Duration::from_secs(6)),
        )
        .mount(&twilio)
        .await;
    let c = app.client();
    let signing_in = tokio::spawn(async move { c.sign_in("owner@harbor.test", PASSWORD).await });
    while twilio.received_requests().await.unwrap().is_empty() {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    // The code is with Twilio now, for six seconds; a write of the same person's goes through
    // meanwhile, well before Twilio answers.
    let ended = tokio::time::timeout(
        std::time::Duration::from_secs(3),
        owner.delete(&format!("/api/v1/me/sessions/{this_session}")),
    )
    .await
    .expect("the other write waited for the provider");
    assert_eq!(ended.0, StatusCode::NO_CONTENT);
    let (status, body) = signing_in.await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["state"], "two_factor_required");
}
