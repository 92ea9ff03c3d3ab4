//! What the bench's people do, through latch's JSON API exactly as an outside tool would: the
//! first run, a full sign-in with a code read back from the outbox, a code alone, a remembered
//! browser, a signed-in page, and the health check that marks the server's floor.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{Context, bail, ensure};
use serde_json::json;

use crate::http::{Http, Reply};
use crate::load::{Outcome, Step, closed_loop, fixed_rate};
use crate::seed::{PASSWORD, PendingSignIn, StormPerson};

fn expect(reply: &Reply, status: u16, what: &str) -> anyhow::Result<()> {
    if reply.status != status {
        bail!(
            "{what}: answered {} ({})",
            reply.status,
            String::from_utf8_lossy(&reply.body)
        );
    }
    Ok(())
}

fn expect_state(reply: &Reply, state: &str, what: &str) -> anyhow::Result<()> {
    expect(reply, 200, what)?;
    let got = reply.json()?;
    ensure!(
        got["state"] == state,
        "{what}: state {} where {state} was expected",
        got["state"]
    );
    Ok(())
}

/// Creates the practice and its owner through `POST /api/v1/setup`; returns the practice id.
pub async fn set_up_practice(http: &Http) -> anyhow::Result<String> {
    let reply = http
        .post(
            "/api/v1/setup",
            &json!({
                "practice_name": "Bench Street Therapy",
                "country": "US",
                "owner": {"email": "owner@bench.example", "name": "Olive Owner", "password": PASSWORD},
            }),
            None,
        )
        .await?;
    expect(&reply, 201, "POST /api/v1/setup")?;
    reply.json()?["practice"]["id"]
        .as_str()
        .map(str::to_owned)
        .context("the new practice's id")
}

/// `GET /healthz` from `concurrency` workers: what the server answers when it does nothing.
pub async fn healthz(http: &Http, duration: Duration) -> Outcome {
    let http = http.clone();
    closed_loop(16, duration, move |_| {
        let http = http.clone();
        async move {
            expect(&http.get("/healthz", None).await?, 200, "GET /healthz")?;
            Ok(Step::Done)
        }
    })
    .await
}

/// `GET /api/v1/me` at `rate` a second, spread over the signed-in sessions.
pub async fn pages(http: &Http, sessions: &[String], rate: u32, duration: Duration) -> Outcome {
    let http = http.clone();
    let sessions = Arc::new(sessions.to_vec());
    fixed_rate(rate, duration, move |i| {
        let http = http.clone();
        let sessions = Arc::clone(&sessions);
        async move {
            let cookie = &sessions[usize::try_from(i).unwrap_or(0) % sessions.len()];
            expect(
                &http.get("/api/v1/me", Some(cookie)).await?,
                200,
                "GET /api/v1/me",
            )
        }
    })
    .await
}

/// The storm's people, taken in turn across every storm of a run, so each gets an equal few
/// codes and none reaches latch's limits of ten an hour per person and a day per number.
#[derive(Clone)]
pub struct Crowd {
    pub people: Arc<Vec<StormPerson>>,
    next: Arc<AtomicUsize>,
}

impl Crowd {
    pub fn new(people: Vec<StormPerson>) -> Self {
        Crowd {
            people: Arc::new(people),
            next: Arc::new(AtomicUsize::new(0)),
        }
    }

    fn next_person(&self) -> &StormPerson {
        &self.people[self.next.fetch_add(1, Ordering::Relaxed) % self.people.len()]
    }
}

/// Full sign-ins: the password, the code read back from the outbox, then the code.
pub async fn storm(http: &Http, crowd: &Crowd, concurrency: usize, duration: Duration) -> Outcome {
    let http = http.clone();
    let crowd = crowd.clone();
    closed_loop(concurrency, duration, move |_| {
        let http = http.clone();
        let crowd = crowd.clone();
        async move {
            sign_in_with_code(&http, crowd.next_person()).await?;
            Ok(Step::Done)
        }
    })
    .await
}

async fn sign_in_with_code(http: &Http, person: &StormPerson) -> anyhow::Result<()> {
    let reply = http
        .post(
            "/api/v1/session",
            &json!({"email": person.email, "password": PASSWORD}),
            None,
        )
        .await?;
    expect_state(&reply, "two_factor_required", "POST /api/v1/session")?;
    let cookie = reply.session.context("no session cookie")?;
    let outbox = http
        .get(
            &format!("/api/v1/dev/outbox?to={}", person.phone.replace('+', "%2B")),
            None,
        )
        .await?;
    expect(&outbox, 200, "GET /api/v1/dev/outbox")?;
    let messages = outbox.json()?;
    let code = messages["messages"][0]["code"]
        .as_str()
        .context("no code in the outbox")?
        .to_owned();
    let reply = http
        .post(
            "/api/v1/session/verify",
            &json!({"code": code, "remember_device": false}),
            Some(&cookie),
        )
        .await?;
    expect_state(&reply, "signed_in", "POST /api/v1/session/verify")
}

/// Codes alone: each seeded pending sign-in finished once, until they run out.
pub async fn verify(
    http: &Http,
    pending: Vec<PendingSignIn>,
    concurrency: usize,
    duration: Duration,
) -> Outcome {
    let http = http.clone();
    let pending = Arc::new(pending);
    closed_loop(concurrency, duration, move |i| {
        let http = http.clone();
        let pending = Arc::clone(&pending);
        async move {
            let Some(sign_in) = pending.get(usize::try_from(i).unwrap_or(usize::MAX)) else {
                return Ok(Step::Exhausted);
            };
            let reply = http
                .post(
                    "/api/v1/session/verify",
                    &json!({"code": sign_in.code, "remember_device": false}),
                    Some(&sign_in.cookie),
                )
                .await?;
            expect_state(&reply, "signed_in", "POST /api/v1/session/verify")?;
            Ok(Step::Done)
        }
    })
    .await
}

/// Sign-ins from a remembered browser: the password, and no code.
pub async fn remembered(
    http: &Http,
    people: &Arc<Vec<StormPerson>>,
    devices: &[String],
    concurrency: usize,
    duration: Duration,
) -> Outcome {
    let http = http.clone();
    let people = Arc::clone(people);
    let devices = Arc::new(devices.to_vec());
    closed_loop(concurrency, duration, move |i| {
        let http = http.clone();
        let people = Arc::clone(&people);
        let devices = Arc::clone(&devices);
        async move {
            let n = usize::try_from(i).unwrap_or(0) % people.len();
            let reply = http
                .post(
                    "/api/v1/session",
                    &json!({"email": people[n].email, "password": PASSWORD}),
                    Some(&devices[n]),
                )
                .await?;
            expect_state(&reply, "signed_in", "POST /api/v1/session (remembered)")?;
            Ok(Step::Done)
        }
    })
    .await
}
