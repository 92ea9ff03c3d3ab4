//! What guards every request: cross-site checks, request shapes, headers, health and the
//! OpenAPI document.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::{Dialect, PASSWORD, TestApp, code};

crate::on_both_databases!(
    a_cross_site_request_is_refused_and_changes_nothing,
    bodies_must_be_json_and_small,
    every_answer_carries_the_security_headers,
    health_and_readiness_answer,
);

async fn a_cross_site_request_is_refused_and_changes_nothing(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    let body =
        json!({"email": "x@harbor.test", "name": "X", "role": "staff", "password": PASSWORD});
    for (header, value) in [
        ("origin", "https://evil.example"),
        ("sec-fetch-site", "cross-site"),
    ] {
        let (status, answer) = owner
            .send(
                owner
                    .http
                    .post(owner.url("/api/v1/practice/users"))
                    .header(header, value)
                    .json(&body),
            )
            .await;
        assert_eq!(
            (status, code(&answer)),
            (StatusCode::FORBIDDEN, "cross_site_request"),
            "{header}"
        );
    }
    let (_, list) = owner.get("/api/v1/practice/users").await;
    assert_eq!(
        list["users"].as_array().unwrap().len(),
        1,
        "nobody was added"
    );

    let same_origin = app.base.clone();
    let (status, _) = owner
        .send(
            owner
                .http
                .post(owner.url("/api/v1/practice/users"))
                .header("origin", same_origin)
                .header("sec-fetch-site", "same-origin")
                .json(&body),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "our own origin is welcome");
}

async fn bodies_must_be_json_and_small(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let c = app.client();
    let (status, body) = c
        .send(
            c.http
                .post(c.url("/api/v1/session"))
                .header("content-type", "text/plain")
                .body("{}"),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
    );
    let huge = format!(
        r#"{{"email": "{}", "password": "x"}}"#,
        "a".repeat(70 * 1024)
    );
    let (status, body) = c
        .send(
            c.http
                .post(c.url("/api/v1/session"))
                .header("content-type", "application/json")
                .body(huge),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large")
    );
    let (status, body) = c
        .send(
            c.http
                .post(c.url("/api/v1/session"))
                .header("content-type", "application/json")
                .body("{nope"),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "invalid_request")
    );
    let (status, body) = c.get("/api/v1/no-such-thing").await;
    assert_eq!((status, code(&body)), (StatusCode::NOT_FOUND, "not_found"));
}

async fn every_answer_carries_the_security_headers(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let c = app.client();
    for path in ["/sign-in", "/setup", "/api/v1/me", "/nope"] {
        let response = c.http.get(c.url(path)).send().await.unwrap();
        let h = response.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"),
            "{path}: {csp}"
        );
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert!(h.contains_key("referrer-policy"), "{path}");
        assert_eq!(h["cache-control"], "no-store", "{path}");
        assert!(
            !h.contains_key("strict-transport-security"),
            "no HSTS over plain HTTP"
        );
    }
}

async fn health_and_readiness_answer(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let c = app.client();
    assert_eq!(c.get("/healthz").await.0, StatusCode::OK);
    assert_eq!(c.get("/readyz").await.0, StatusCode::OK);
    let (status, doc) = c.get("/api/v1/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    for path in [
        "/api/v1/setup",
        "/api/v1/session",
        "/api/v1/session/reauthenticate",
        "/api/v1/me",
        "/api/v1/me/password",
        "/api/v1/me/sessions",
        "/api/v1/me/sessions/{id}",
        "/api/v1/practice/users",
        "/api/v1/practice/users/{id}",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} is documented");
    }
}

#[tokio::test]
async fn https_public_urls_get_hsts_and_host_prefixed_cookies() {
    let app = TestApp::with_args(
        Dialect::Sqlite,
        &["--public-url", "https://latch.example.com"],
    )
    .await;
    let c = app.client();
    let response = c
        .http
        .post(c.url("/api/v1/setup"))
        .json(&json!({"practice_name": "P", "owner": {"email": "o@p.test", "name": "O", "password": PASSWORD}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    assert!(response.headers().contains_key("strict-transport-security"));
    let cookie = response.headers()["set-cookie"].to_str().unwrap();
    assert!(
        cookie.starts_with("__Host-latch_session=") && cookie.contains("Secure"),
        "{cookie}"
    );
}

#[tokio::test]
async fn production_asks_for_the_setup_token_on_the_first_run() {
    // Production refuses to serve with the outbox until real delivery arrives, so this checks
    // the rule at the use case that the setup endpoint and page call.
    let key = [9u8; 32];
    let t = latch_store::testing::TestDatabase::sqlite();
    let db = latch_store::Db::connect(&t.url, &latch_store::DbOptions::default()).unwrap();
    db.migrate().await.unwrap();
    let store: std::sync::Arc<dyn latch_app::ports::Store> = std::sync::Arc::new(db);
    let clock: std::sync::Arc<dyn latch_app::clock::Clock> =
        std::sync::Arc::new(latch_app::clock::SystemClock);
    let latch = latch_app::Latch::new(
        store.clone(),
        clock.clone(),
        latch_app::crypto::Keys::derive(&key),
        std::sync::Arc::new(latch_messaging::OutboxDelivery::new(store, clock)),
        std::sync::Arc::new(latch_app::metrics::NoMetrics),
        latch_app::LatchSettings {
            hash_cost: latch_app::passwords::HashCost::DEFAULT,
            hash_concurrency: 2,
            production: true,
            product_name: "latch".into(),
            public_host: "latch.example.com".into(),
            public_url: "https://latch.example.com".into(),
            dev_outbox: true,
            email_outbox: true,
        },
    )
    .unwrap();
    let input = || latch_app::setup::PracticeInput {
        practice_name: "P".into(),
        country: None,
        time_zone: None,
        owner_email: "o@p.test".into(),
        owner_name: "O".into(),
        owner_password: latch_app::Secret::new(PASSWORD),
    };
    let client = latch_app::ClientInfo {
        ip: "127.0.0.1".into(),
        user_agent: String::new(),
    };
    let wrong = latch_app::Secret::new("0123456789abcdef0123456789abcdef");
    assert!(matches!(
        latch
            .setup
            .create_first_practice(input(), Some(&wrong), &client)
            .await,
        Err(latch_app::AppError::Forbidden)
    ));
    assert!(matches!(
        latch
            .setup
            .create_first_practice(input(), None, &client)
            .await,
        Err(latch_app::AppError::Forbidden)
    ));
    let token = latch
        .setup
        .pending_setup_token()
        .await
        .unwrap()
        .expect("a token before the first run");
    latch
        .setup
        .create_first_practice(input(), Some(&token), &client)
        .await
        .unwrap();
    assert!(
        latch.setup.pending_setup_token().await.unwrap().is_none(),
        "used once, then gone"
    );
}

async fn sessions_ip(app: &TestApp, forwarded_for: &str) -> String {
    let c = app.client();
    c.send(
        c.http
            .post(c.url("/api/v1/session"))
            .header("x-forwarded-for", forwarded_for)
            .json(&json!({"email": "o@p.test", "password": PASSWORD})),
    )
    .await;
    let (_, sessions) = c.get("/api/v1/me/sessions").await;
    let all = sessions["sessions"].as_array().cloned().unwrap_or_default();
    let current = all
        .iter()
        .find(|s| s["current"] == true)
        .expect("this session");
    current["ip"].as_str().unwrap_or_default().to_owned()
}

async fn practice_o(app: &TestApp) {
    let (status, _) = app
        .client()
        .post("/api/v1/setup", json!({"practice_name": "P", "owner": {"email": "o@p.test", "name": "O", "password": PASSWORD}}))
        .await;
    assert_eq!(status, StatusCode::CREATED);
}

#[tokio::test]
async fn a_forwarded_address_is_believed_only_from_a_trusted_proxy() {
    let app = TestApp::new(Dialect::Sqlite).await;
    practice_o(&app).await;
    assert_eq!(
        sessions_ip(&app, "203.0.113.9").await,
        "127.0.0.1",
        "nobody is trusted by default"
    );

    let app = TestApp::with_args(Dialect::Sqlite, &["--trusted-proxies", "127.0.0.1"]).await;
    practice_o(&app).await;
    assert_eq!(sessions_ip(&app, "203.0.113.9").await, "203.0.113.9");
    // The per-address limits follow the forwarded address.
    let guesser = app.client();
    for i in 0..100 {
        guesser
            .send(
                guesser
                    .http
                    .post(guesser.url("/api/v1/session"))
                    .header("x-forwarded-for", "198.51.100.66")
                    .json(&json!({"email": format!("g{i}@p.test"), "password": "wrong password!"})),
            )
            .await;
    }
    let blocked = guesser
        .send(
            guesser
                .http
                .post(guesser.url("/api/v1/session"))
                .header("x-forwarded-for", "198.51.100.66")
                .json(&json!({"email": "o@p.test", "password": PASSWORD})),
        )
        .await;
    assert_eq!(blocked.0, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        sessions_ip(&app, "203.0.113.10").await,
        "203.0.113.10",
        "another office is not blocked"
    );
}
