//! What an application does through latch's OpenID Connect endpoints, as its relying-party
//! library would: sign a person in who is signed in to latch already (the authorization
//! request, the code's exchange, userinfo), and refresh its tokens.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail, ensure};
use hyper::Method;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, COOKIE};

use crate::http::{Http, Reply};
use crate::load::{Outcome, Step, closed_loop};

/// The address the bench's application registers; latch only redirects the browser there.
pub const REDIRECT_URI: &str = "https://bench.example/callback";

/// The application, as `latch client add` registered it.
#[derive(Clone)]
pub struct BenchApplication {
    pub id: String,
    pub secret: String,
}

fn form(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

fn ok(reply: &Reply, what: &str) -> anyhow::Result<serde_json::Value> {
    if reply.status != 200 {
        bail!(
            "{what}: answered {} ({})",
            reply.status,
            String::from_utf8_lossy(&reply.body)
        );
    }
    reply.json()
}

/// One application sign-in: the code for the browser's session, its exchange (the ID token
/// signed), and userinfo. Answers the refresh token when `offline_access` was asked.
pub async fn sign_in(
    http: &Http,
    app: &BenchApplication,
    session: &str,
    scope: &str,
) -> anyhow::Result<Option<String>> {
    let query = form(&[
        ("client_id", &app.id),
        ("redirect_uri", REDIRECT_URI),
        ("response_type", "code"),
        ("scope", scope),
        ("state", "bench"),
        ("nonce", "bench"),
    ]);
    let authorized = http
        .request(
            Method::GET,
            &format!("/oidc/authorize?{query}"),
            String::new(),
            &[(COOKIE.as_str(), session)],
        )
        .await?;
    let location = authorized
        .location
        .filter(|_| authorized.status == 303)
        .with_context(|| format!("GET /oidc/authorize answered {}", authorized.status))?;
    let url = url::Url::parse(&location).context("a redirect to the application")?;
    let code = url
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .with_context(|| format!("no code in {location}"))?;
    let body = form(&[
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("redirect_uri", REDIRECT_URI),
        ("client_id", &app.id),
        ("client_secret", &app.secret),
    ]);
    let tokens = token(http, body).await?;
    let tokens = ok(&tokens, "POST /oidc/token")?;
    ensure!(tokens["id_token"].is_string(), "no ID token");
    let access = tokens["access_token"].as_str().context("no access token")?;
    let bearer = format!("Bearer {access}");
    let info = http
        .request(
            Method::GET,
            "/oidc/userinfo",
            String::new(),
            &[(AUTHORIZATION.as_str(), &bearer)],
        )
        .await?;
    ok(&info, "GET /oidc/userinfo")?;
    Ok(tokens["refresh_token"].as_str().map(str::to_owned))
}

async fn token(http: &Http, body: String) -> anyhow::Result<Reply> {
    let form_type = "application/x-www-form-urlencoded";
    http.request(
        Method::POST,
        "/oidc/token",
        body,
        &[(CONTENT_TYPE.as_str(), form_type)],
    )
    .await
}

/// Application sign-ins for people signed in to latch already, one after another on each of
/// `concurrency` workers.
pub async fn sign_ins(
    http: &Http,
    app: &BenchApplication,
    sessions: &[String],
    concurrency: usize,
    duration: Duration,
) -> Outcome {
    let (http, app) = (http.clone(), app.clone());
    let sessions = Arc::new(sessions.to_vec());
    closed_loop(concurrency, duration, move |i| {
        let (http, app, sessions) = (http.clone(), app.clone(), Arc::clone(&sessions));
        async move {
            let session = &sessions[usize::try_from(i).unwrap_or(0) % sessions.len()];
            sign_in(&http, &app, session, "openid profile email").await?;
            Ok(Step::Done)
        }
    })
    .await
}

/// The token endpoint's refresh alone. Each refresh token works once, so each chain is held
/// by one worker at a time, which keeps the token its refresh gave.
pub async fn refreshes(
    http: &Http,
    app: &BenchApplication,
    tokens: Vec<String>,
    concurrency: usize,
    duration: Duration,
) -> Outcome {
    let (http, app) = (http.clone(), app.clone());
    let chains: Arc<Vec<tokio::sync::Mutex<String>>> =
        Arc::new(tokens.into_iter().map(tokio::sync::Mutex::new).collect());
    closed_loop(concurrency, duration, move |i| {
        let (http, app, chains) = (http.clone(), app.clone(), Arc::clone(&chains));
        async move {
            let mut held = chains[usize::try_from(i).unwrap_or(0) % chains.len()]
                .lock()
                .await;
            let body = form(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", &held),
                ("client_id", &app.id),
                ("client_secret", &app.secret),
            ]);
            let reply = token(&http, body).await?;
            let tokens = ok(&reply, "POST /oidc/token (refresh)")?;
            *held = tokens["refresh_token"]
                .as_str()
                .context("no new refresh token")?
                .to_owned();
            Ok(Step::Done)
        }
    })
    .await
}
