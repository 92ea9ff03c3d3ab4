//! The JSON shapes of the API, as snapshots (ids and times written as placeholders): a change
//! to a shape that outside tools read is seen in review.

use serde_json::{Value, json};

use crate::support::{Dialect, PASSWORD, TestApp};

crate::on_both_databases!(the_api_answers_in_its_documented_shapes);

/// Ids and times vary from run to run; their shape does not.
fn steady(mut v: Value) -> Value {
    fn walk(v: &mut Value) {
        match v {
            Value::Object(map) => {
                for (key, value) in map.iter_mut() {
                    match value {
                        Value::String(s) if key == "id" || key.ends_with("_id") => {
                            *s = "<id>".into()
                        }
                        Value::String(s) if key.ends_with("_at") || key.ends_with("_until") => {
                            *s = "<time>".into()
                        }
                        other => walk(other),
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut v);
    v
}

async fn the_api_answers_in_its_documented_shapes(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    let (_, me) = owner.get("/api/v1/me").await;
    let (_, security) = owner.get("/api/v1/practice/security").await;
    let (_, sessions) = owner.get("/api/v1/me/sessions").await;
    let (_, added) = owner
        .post(
            "/api/v1/practice/users",
            json!({"email": "sam@harbor.test", "name": "Sam Lee", "role": "staff", "password": PASSWORD}),
        )
        .await;
    let sam = added["user"]["id"].as_str().unwrap().to_owned();
    let (_, person) = owner.get(&format!("/api/v1/practice/users/{sam}")).await;
    let (_, wrong) = app
        .client()
        .sign_in("sam@harbor.test", "not the password")
        .await;
    app.turn_on_two_factor(&owner, "+14155552671").await;
    let (_, waiting) = app.client().sign_in("owner@harbor.test", PASSWORD).await;
    let (_, refused) = owner
        .post(
            "/api/v1/me/two-factor/setup",
            json!({"phone": "12", "channel": "sms"}),
        )
        .await;
    // The same shapes on both databases: one snapshot.
    insta::assert_json_snapshot!(
        "api_shapes",
        steady(json!({
            "GET /api/v1/me": me,
            "GET /api/v1/practice/security": security,
            "GET /api/v1/me/sessions": sessions,
            "POST /api/v1/practice/users": added,
            "GET /api/v1/practice/users/{id}": person,
            "POST /api/v1/session (wrong password)": wrong,
            "POST /api/v1/session (a code sent)": waiting,
            "POST /api/v1/me/two-factor/setup (not a number)": refused,
        }))
    );
}
