//! The served OpenAPI document is exact: one schema per name, every reference resolves, and
//! every operation lists the answers the API's conventions give (the session cookie, 400, 401,
//! 403, 413, 415, 429, 503 where they apply), with the enums and ranges the server enforces.

use reqwest::StatusCode;
use serde_json::Value;

use crate::support::{Dialect, TestApp};

crate::on_both_databases!(the_openapi_document_is_exact);

fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref") {
                out.push(r);
            }
            map.values().for_each(|v| refs(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

async fn the_openapi_document_is_exact(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let (status, doc) = app.client().get("/api/v1/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    let schemas = &doc["components"]["schemas"];

    // The first run's body is the first run's, not the two-factor setup's of the same name.
    let setup = &doc["paths"]["/api/v1/setup"]["post"]["requestBody"]["content"]["application/json"]
        ["schema"]["$ref"];
    let name = setup
        .as_str()
        .unwrap()
        .trim_start_matches("#/components/schemas/");
    assert!(
        schemas[name]["properties"]["practice_name"].is_object(),
        "{name}"
    );
    assert!(schemas["TwoFactorSetupRequest"]["properties"]["phone"].is_object());

    let mut all = Vec::new();
    refs(&doc, &mut all);
    for r in all {
        let name = r.trim_start_matches("#/components/schemas/");
        assert!(schemas[name].is_object(), "{r} does not resolve");
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["session"],
        serde_json::json!({"type": "apiKey", "in": "cookie", "name": "latch_session",
                           "description": "The session cookie that signing in sets (`__Host-latch_session` over HTTPS)."})
    );

    let public = [
        ("post", "/api/v1/setup"),
        ("post", "/api/v1/session"),
        ("delete", "/api/v1/session"),
        ("get", "/healthz"),
        ("get", "/readyz"),
        ("get", "/api/v1/dev/outbox"),
        ("get", "/api/v1/dev/email-outbox"),
        ("post", "/api/v1/password-reset"),
        ("post", "/api/v1/password-reset/confirm"),
        ("get", "/api/v1/invitations/{token}"),
        ("post", "/api/v1/invitations/{token}/accept"),
        ("post", "/api/v1/me/email/confirm"),
        ("post", "/api/v1/session/passkey/options"),
        ("post", "/api/v1/session/passkey"),
    ];
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let answers = op["responses"].as_object().unwrap();
            let has = |status: &str| answers.contains_key(status);
            let label = format!("{method} {path}");
            if !path.ends_with("z") {
                assert!(has("429") && has("503"), "{label}");
            }
            if op.get("requestBody").is_some() {
                assert!(has("400") && has("413") && has("415"), "{label}");
            }
            if method != "get" {
                assert!(has("403"), "{label}: cross_site_request");
            }
            if public.contains(&(method.as_str(), path.as_str())) {
                assert!(op.get("security").is_none(), "{label}");
            } else {
                assert!(has("401"), "{label}");
                assert_eq!(
                    op["security"],
                    serde_json::json!([{"session": []}]),
                    "{label}"
                );
            }
            for (status, answer) in answers {
                if status.starts_with('4') || status.starts_with('5') {
                    assert_eq!(
                        answer["content"]["application/json"]["schema"]["$ref"],
                        "#/components/schemas/ErrorBody",
                        "{label} {status}"
                    );
                }
            }
        }
    }

    // The sets and ranges the server enforces.
    assert_eq!(
        schemas["RoleName"]["enum"],
        serde_json::json!(["owner", "manager", "staff", "client"])
    );
    let security = &schemas["SecurityRequest"]["properties"];
    assert_eq!(security["remember_device_days"]["maximum"], 365);
    assert_eq!(security["sign_out_after_idle_minutes"]["minimum"], 5);
    assert_eq!(security["allowed_countries"]["minItems"], 1);
    let audit = doc["paths"]["/api/v1/practice/audit"]["get"]["parameters"]
        .as_array()
        .unwrap();
    let limit = audit.iter().find(|p| p["name"] == "limit").unwrap();
    assert_eq!(
        (
            &limit["in"],
            &limit["schema"]["minimum"],
            &limit["schema"]["maximum"]
        ),
        (&Value::from("query"), &Value::from(1), &Value::from(500))
    );
}
