//! Passkeys as the bench's people use them: registered through the API (not measured), then
//! signing in with a passkey alone, the options and the assertion, answered by the tests'
//! software authenticator.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, bail, ensure};
use serde_json::json;

use crate::http::{Http, Reply};
use crate::load::{Outcome, Step, closed_loop};

#[path = "../../server/tests/http/authenticator.rs"]
#[allow(
    dead_code,
    reason = "the tests' authenticator: the bench only answers faithfully"
)]
mod authenticator;

use authenticator::Authenticator;

fn ok(reply: &Reply, status: u16, what: &str) -> anyhow::Result<serde_json::Value> {
    if reply.status != status {
        bail!(
            "{what}: answered {} ({})",
            reply.status,
            String::from_utf8_lossy(&reply.body)
        );
    }
    reply.json()
}

/// Registers a passkey for each of these sessions (the password re-entered), each on an
/// authenticator of its own that keeps no counter, as synced passkeys do.
pub async fn register(http: &Http, sessions: &[String]) -> anyhow::Result<Vec<Authenticator>> {
    let mut keys = Vec::with_capacity(sessions.len());
    for session in sessions {
        let mut key = Authenticator::for_latch(http.base());
        key.counting = false;
        let options = http
            .post("/api/v1/me/passkeys/options", &json!({}), Some(session))
            .await?;
        let options = ok(&options, 200, "POST /api/v1/me/passkeys/options")?;
        let credential = key.create(&options);
        let added = http
            .post(
                "/api/v1/me/passkeys",
                &json!({"label": "Bench key", "credential": credential}),
                Some(session),
            )
            .await?;
        ok(&added, 201, "POST /api/v1/me/passkeys")?;
        keys.push(key);
    }
    Ok(keys)
}

/// Sign-ins with a passkey alone from `concurrency` workers: the options (and the cookie that
/// ties them to this browser), the authenticator's answer, and the signed-in answer.
pub async fn sign_ins(
    http: &Http,
    keys: Vec<Authenticator>,
    concurrency: usize,
    duration: Duration,
) -> Outcome {
    let http = http.clone();
    let keys: Arc<Vec<Mutex<Authenticator>>> = Arc::new(keys.into_iter().map(Mutex::new).collect());
    closed_loop(concurrency, duration, move |i| {
        let http = http.clone();
        let keys = Arc::clone(&keys);
        async move {
            let begun = http
                .post("/api/v1/session/passkey/options", &json!({}), None)
                .await?;
            let options = ok(&begun, 200, "POST /api/v1/session/passkey/options")?;
            let cookie = begun
                .cookie("latch_passkey")
                .context("the passkey sign-in's cookie")?
                .to_owned();
            let key = &keys[usize::try_from(i).unwrap_or(0) % keys.len()];
            let answer = key
                .lock()
                .map_err(|_| anyhow::anyhow!("an authenticator's lock"))?
                .get(&options);
            let reply = http
                .post(
                    "/api/v1/session/passkey",
                    &json!({"credential": answer}),
                    Some(&cookie),
                )
                .await?;
            let body = ok(&reply, 200, "POST /api/v1/session/passkey")?;
            ensure!(body["state"] == "signed_in", "not signed in: {body}");
            Ok(Step::Done)
        }
    })
    .await
}
