//! Property tests of outside input through the real server: random query parameters, form-like
//! fields and JSON strings never answer 5xx, and every refusal carries a documented code.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{Client, Dialect, PASSWORD, TestApp, code};

const DOCUMENTED: [&str; 16] = [
    "no_setup_in_progress",
    "invalid_role",
    "invalid_request",
    "invalid_setting",
    "invalid_phone",
    "invalid_email",
    "phone_not_allowed",
    "invalid_code",
    "code_expired",
    "rate_limited",
    "not_signed_in",
    "invalid_credentials",
    "forbidden",
    "two_factor_locked",
    "reauthentication_required",
    "not_found",
];

fn answered_well(status: StatusCode, body: &Value) -> Result<(), TestCaseError> {
    prop_assert!(status.as_u16() < 500, "{status} {body}");
    if !status.is_success() {
        prop_assert!(DOCUMENTED.contains(&code(body)), "{status} {body}");
    }
    Ok(())
}

/// Anything a person could type, and the odd shapes a script sends.
fn typed() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[0-9]{0,12}",
        "[-+0-9 ()]{0,20}",
        Just(String::new()),
        Just("9".repeat(40)),
        Just("2026-12-01T00:00:00Z".to_owned()),
    ]
}

#[test]
fn outside_input_never_answers_5xx() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (app, owner) = runtime.block_on(async {
        let app = TestApp::new(Dialect::Sqlite).await;
        let owner = app.with_practice().await;
        (app, owner)
    });
    let run = |cases: u32, strategy, check: &dyn Fn(Vec<String>) -> Result<(), TestCaseError>| {
        TestRunner::new(Config::with_cases(cases))
            .run(&strategy, check)
            .unwrap();
    };
    let get = |c: &Client, path: &str, query: Vec<(&str, String)>| {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in query {
            form.append_pair(name, &value);
        }
        let path = format!("{path}?{}", form.finish());
        runtime.block_on(c.get(&path))
    };
    let post = |c: &Client, path: &str, body: Value| runtime.block_on(c.post(path, body));

    run(256, proptest::collection::vec(typed(), 6), &|f| {
        let names = ["limit", "before", "subject", "kind", "from", "to"];
        let query = names.iter().copied().zip(f).collect();
        let (status, body) = get(&owner, "/api/v1/practice/audit", query);
        answered_well(status, &body)
    });
    run(128, proptest::collection::vec(typed(), 2), &|f| {
        let query = ["role", "two_factor"].iter().copied().zip(f).collect();
        let (status, body) = get(&owner, "/api/v1/practice/users", query);
        answered_well(status, &body)
    });
    runtime.block_on(owner.post(
        "/api/v1/session/reauthenticate",
        json!({"password": PASSWORD}),
    ));
    run(128, proptest::collection::vec(typed(), 4), &|f| {
        let body = json!({"phone": f[0], "country": f[1], "extension": f[2], "channel": f[3]});
        let (status, body) = post(&owner, "/api/v1/me/two-factor/setup", body);
        answered_well(status, &body)
    });
    run(128, proptest::collection::vec(typed(), 1), &|f| {
        let body = json!({"code": f[0]});
        let (status, body) = post(&owner, "/api/v1/me/two-factor/setup/confirm", body);
        answered_well(status, &body)
    });
    run(128, proptest::collection::vec(typed(), 3), &|f| {
        let body =
            json!({"allowed_countries": [f[0]], "require_two_factor": f[1], "time_zone": f[2]});
        let (status, body) = runtime.block_on(owner.put("/api/v1/practice/security", body));
        answered_well(status, &body)
    });
    // Sign-ins hash a password each: fewer of them.
    let stranger = app.client();
    run(48, proptest::collection::vec(typed(), 2), &|f| {
        let body = json!({"email": f[0], "password": f[1]});
        let (status, body) = post(&stranger, "/api/v1/session", body);
        answered_well(status, &body)
    });
    drop(app);
}
