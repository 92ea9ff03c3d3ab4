//! What latch keeps and writes about secrets: only hashes of session tokens, upgraded password
//! hashes, and no password, cookie or token in its log.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};

use latch_app::clock::Clock;
use latch_app::ports::{ChallengeStore, MailStore, PersonStore, SessionStore};
use reqwest::StatusCode;
use serde_json::json;

use crate::support::{Dialect, PASSWORD, TestApp};

crate::on_both_databases!(
    an_email_waits_in_the_queue_sealed,
    only_a_keyed_hash_of_a_code_is_stored,
    an_apps_secret_is_sealed_and_recovery_codes_are_keyed_hashes,
    a_passkey_and_its_ceremony_are_kept_sealed,
    only_the_hash_of_a_session_token_is_stored,
    a_password_hashed_at_a_lower_cost_is_hashed_again_at_sign_in,
);

/// With the mail server down the reset email waits in the queue: neither its address nor its
/// link can be read there.
async fn an_email_waits_in_the_queue_sealed(dialect: Dialect) {
    let down = "smtp://127.0.0.1:9?tls=none";
    let args = [
        "--email-delivery",
        "smtp",
        "--smtp-url",
        down,
        "--email-from",
        "no-reply@harbor.test",
    ];
    let app = TestApp::with_args(dialect, &args).await;
    let owner = app.with_practice().await;
    let (status, _) = owner
        .post(
            "/api/v1/password-reset",
            json!({"email": "owner@harbor.test"}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    // The request becomes the link's email once the queue has looked it up (and audited it).
    for _ in 0..100 {
        if owner.audited("password.reset_requested").await == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let later = app.clock.now().plus(86_400);
    let queued = app.db.claim_mail(later, later, 10).await.unwrap();
    assert!(!queued.is_empty(), "the email waits");
    for row in &queued {
        for plain in ["owner@harbor.test", "password-reset", "Harbor Counseling"] {
            assert!(!row.sealed.contains(plain), "{plain} in {}", row.sealed);
        }
    }
}

async fn only_a_keyed_hash_of_a_code_is_stored(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    owner.begin_setup("+14155552671", "sms").await;
    let code = app.last_code_to("+14155552671").await;
    let account = app
        .db
        .account_by_email("owner@harbor.test")
        .await
        .unwrap()
        .unwrap();
    let session = &app.db.sessions_of(&account.person.id).await.unwrap()[0];
    let challenge = app
        .db
        .challenge(&session.id, latch_app::records::Purpose::Setup)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(challenge.code_hash.len(), 64);
    assert!(!challenge.code_hash.contains(&code));
    assert_ne!(
        challenge.code_hash,
        latch_app::crypto::token_hash(&code),
        "not a plain hash of the code either: it takes the server key"
    );
}

async fn an_apps_secret_is_sealed_and_recovery_codes_are_keyed_hashes(dialect: Dialect) {
    use latch_app::ports::MethodStore;
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    owner.reauthenticate().await;
    let (status, begun) = owner.post("/api/v1/me/two-factor/totp", json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{begun}");
    let secret = begun["secret"].as_str().unwrap().to_owned();
    let code = crate::support::app_code(&secret, app.clock.now().seconds());
    let (status, body) = owner
        .post("/api/v1/me/two-factor/totp/confirm", json!({"code": code}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let recovery = body["recovery_codes"][0].as_str().unwrap().to_owned();
    let account = app
        .db
        .account_by_email("owner@harbor.test")
        .await
        .unwrap()
        .unwrap();
    let methods = app.db.methods_of(&account.person.id).await.unwrap();
    assert_eq!(methods.len(), 1);
    let sealed = &methods[0].sealed_secret;
    assert!(
        !sealed.contains(&secret),
        "the secret is not kept as it was shown"
    );
    assert!(
        !sealed.to_lowercase().contains(&secret.to_lowercase()),
        "nor in another case"
    );
    // A recovery code's plain SHA-256 finds nothing: only a hash under the server's key is kept.
    let plain = latch_app::crypto::token_hash(&recovery);
    let judged = app
        .db
        .judge_answer(
            &account.person.id,
            latch_app::records::Consume::RecoveryCode { code_hash: &plain },
            false,
            app.clock.now(),
            latch_domain::two_factor::lock_after_failure,
        )
        .await
        .unwrap();
    assert!(
        matches!(judged, latch_app::records::AnswerJudgement::Wrong { .. }),
        "{judged:?}"
    );
    assert_eq!(
        app.db
            .recovery_codes_left(&account.person.id)
            .await
            .unwrap(),
        10
    );
}

async fn a_passkey_and_its_ceremony_are_kept_sealed(dialect: Dialect) {
    use latch_app::ports::MethodStore;
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    owner.reauthenticate().await;
    let (status, options) = owner.post("/api/v1/me/passkeys/options", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{options}");
    let challenge = options["publicKey"]["challenge"].as_str().unwrap();
    let account = app
        .db
        .account_by_email("owner@harbor.test")
        .await
        .unwrap()
        .unwrap();
    let sessions = app.db.sessions_of(&account.person.id).await.unwrap();
    assert_eq!(sessions.len(), 1);
    let waiting = app
        .db
        .enrolment(
            &sessions[0].id,
            latch_domain::method::MethodKind::Passkey,
            app.clock.now(),
        )
        .await
        .unwrap()
        .expect("the ceremony waits in the database");
    assert!(!waiting.contains(challenge), "the challenge is sealed");
    assert!(!waiting.contains("challenge"), "and so is its shape");

    let mut key = crate::authenticator::Authenticator::for_latch(&owner.base);
    let credential = key.create(&options);
    let (status, body) = owner
        .post("/api/v1/me/passkeys", json!({"credential": credential}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let methods = app.db.methods_of(&account.person.id).await.unwrap();
    assert_eq!(methods.len(), 1);
    let sealed = &methods[0].sealed_secret;
    assert!(
        serde_json::from_str::<serde_json::Value>(sealed).is_err()
            && !sealed.contains("cred")
            && !sealed.contains("counter"),
        "the credential is sealed: {sealed}"
    );
    assert_eq!(
        methods[0].credential_id.as_deref(),
        credential["id"].as_str(),
        "only its id, public already, is kept as it is"
    );
}

async fn only_the_hash_of_a_session_token_is_stored(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    let token = owner.session_cookie().unwrap();
    assert!(
        app.db.session_by_token(&token).await.unwrap().is_none(),
        "the raw token is not a key"
    );
    let hashed = latch_app::crypto::token_hash(&token);
    assert!(app.db.session_by_token(&hashed).await.unwrap().is_some());
}

async fn a_password_hashed_at_a_lower_cost_is_hashed_again_at_sign_in(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    app.with_practice().await;
    let cheap = latch_app::passwords::Passwords::new(
        latch_app::passwords::HashCost {
            memory_kib: 64,
            iterations: 1,
            lanes: 1,
        },
        1,
    )
    .unwrap();
    let old_hash = cheap.hash(&latch_app::Secret::new(PASSWORD)).await.unwrap();
    let account = app
        .db
        .account_by_email("owner@harbor.test")
        .await
        .unwrap()
        .unwrap();
    app.db
        .set_password_hash(&account.person.id, &old_hash)
        .await
        .unwrap();

    assert_eq!(
        app.client().sign_in("owner@harbor.test", PASSWORD).await.0,
        StatusCode::OK
    );
    let upgraded = app
        .db
        .account_by_email("owner@harbor.test")
        .await
        .unwrap()
        .unwrap()
        .person
        .password_hash;
    assert!(upgraded.contains("m=19456,t=2,p=1"), "{upgraded}");
    assert_eq!(
        app.client().sign_in("owner@harbor.test", PASSWORD).await.0,
        StatusCode::OK
    );
}

/// Runs the real binary with JSON logs, signs in and out through it, and reads everything it
/// printed.
#[tokio::test]
async fn the_log_holds_no_password_cookie_or_token() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_latch"))
        .current_dir(dir.path())
        .env_clear()
        .env("LATCH_BIND", "127.0.0.1:0")
        .env("LATCH_LOG_FORMAT", "json")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start latch");
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut console = String::new();
    let base = loop {
        let mut line = String::new();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "latch exited early: {console}"
        );
        console.push_str(&line);
        if let Some(url) = line.trim().strip_prefix("latch is ready at ") {
            break url.to_owned();
        }
    };

    latch_messaging::install_crypto_provider();
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let setup = http
        .post(format!("{base}/api/v1/setup"))
        .json(&json!({"practice_name": "Harbor", "owner": {"email": "o@harbor.test", "name": "O", "password": PASSWORD}}))
        .send()
        .await
        .unwrap();
    assert_eq!(setup.status(), StatusCode::CREATED);
    let cookie = setup.headers()["set-cookie"].to_str().unwrap().to_owned();
    let token = cookie
        .split(';')
        .next()
        .unwrap()
        .split('=')
        .nth(1)
        .unwrap()
        .to_owned();
    let wrong = http
        .post(format!("{base}/api/v1/session?email=o@harbor.test"))
        .json(&json!({"email": "o@harbor.test", "password": "a wrong secret phrase"}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let signed_in = http
        .post(format!("{base}/api/v1/session"))
        .json(&json!({"email": "o@harbor.test", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let second_token = signed_in.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(
        http.get(format!("{base}/api/v1/me"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );

    // Two-factor on, then a sign-in with a code: neither the code nor the number is logged.
    let post =
        |path: &str, body: serde_json::Value| http.post(format!("{base}{path}")).json(&body).send();
    post(
        "/api/v1/session/reauthenticate",
        json!({"password": PASSWORD}),
    )
    .await
    .unwrap();
    let setup = post(
        "/api/v1/me/two-factor/setup",
        json!({"phone": "+14155552671", "channel": "sms"}),
    )
    .await
    .unwrap();
    assert_eq!(setup.status(), StatusCode::ACCEPTED);
    let outbox = |http: reqwest::Client, base: String| async move {
        let body: serde_json::Value = http
            .get(format!("{base}/api/v1/dev/outbox"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        body["messages"][0]["code"].as_str().unwrap().to_owned()
    };
    let setup_code = outbox(http.clone(), base.clone()).await;
    post(
        "/api/v1/me/two-factor/setup/confirm",
        json!({"code": setup_code}),
    )
    .await
    .unwrap();
    let fresh = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let pending = fresh
        .post(format!("{base}/api/v1/session"))
        .json(&json!({"email": "o@harbor.test", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        pending.json::<serde_json::Value>().await.unwrap()["state"],
        "two_factor_required"
    );
    let sign_in_code = outbox(http.clone(), base.clone()).await;
    let verified = fresh
        .post(format!("{base}/api/v1/session/verify"))
        .json(&json!({"code": sign_in_code, "remember_device": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(verified.status(), StatusCode::OK);

    // An invitation: its link's token and the password chosen with it are not logged either.
    let invited = post(
        "/api/v1/practice/invitations",
        json!({"email": "new@harbor.test", "name": "Nia New", "role": "staff"}),
    )
    .await
    .unwrap();
    assert_eq!(invited.status(), StatusCode::CREATED);
    let mut invitation = None;
    for _ in 0..100 {
        let body: serde_json::Value = http
            .get(format!("{base}/api/v1/dev/email-outbox?to=new@harbor.test"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        invitation = body["messages"][0]["link"].as_str().map(str::to_owned);
        if invitation.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let invitation = invitation.expect("the invitation email");
    let invitation_token = invitation.rsplit('/').next().unwrap().to_owned();
    let joiner = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    assert_eq!(
        joiner.get(&invitation).send().await.unwrap().status(),
        StatusCode::OK
    );
    let joined = joiner
        .post(format!(
            "{base}/api/v1/invitations/{invitation_token}/accept"
        ))
        .json(&json!({"password": "a joining harbor phrase 4"}))
        .send()
        .await
        .unwrap();
    assert_eq!(joined.status(), StatusCode::OK);

    // A forgotten password: the emailed link's token and the new password are not logged.
    let asked = post("/api/v1/password-reset", json!({"email": "o@harbor.test"}))
        .await
        .unwrap();
    assert_eq!(asked.status(), StatusCode::ACCEPTED);
    let mut link = None;
    for _ in 0..100 {
        let body: serde_json::Value = http
            .get(format!("{base}/api/v1/dev/email-outbox?to=o@harbor.test"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        link = body["messages"][0]["link"].as_str().map(str::to_owned);
        if link.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let link = link.expect("the reset email");
    let reset_token = link.rsplit('/').next().unwrap().to_owned();
    assert_eq!(
        http.get(&link).send().await.unwrap().status(),
        StatusCode::OK
    );
    let reset = post(
        "/api/v1/password-reset/confirm",
        json!({"token": reset_token, "new_password": "a fresh harbor phrase 9"}),
    )
    .await
    .unwrap();
    assert_eq!(reset.status(), StatusCode::NO_CONTENT);

    child.kill().unwrap();
    let mut log = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    stderr.read_to_string(&mut console).unwrap();
    let _ = child.wait();

    assert!(log.lines().count() >= 4, "one line per request: {log}");
    for line in log.lines() {
        serde_json::from_str::<serde_json::Value>(line)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
    }
    let everything = format!("{log}{console}");
    assert!(
        log.contains("outbox: message kept"),
        "the outbox says a message went: {log}"
    );
    assert!(
        log.contains("email outbox: message kept"),
        "the email outbox says an email went: {log}"
    );
    for secret in [
        PASSWORD,
        "a wrong secret phrase",
        &setup_code,
        &sign_in_code,
        "4155552671",
        &token,
        &second_token[second_token.find('=').unwrap() + 1..],
        &reset_token,
        "a fresh harbor phrase 9",
        &invitation_token,
        "a joining harbor phrase 4",
        "new@harbor.test",
        "o@harbor.test",
    ] {
        assert!(
            !everything.contains(secret),
            "{secret:?} reached the output:\n{everything}"
        );
    }
    assert!(
        !log.contains("email=o@harbor.test"),
        "no query string is logged"
    );
    assert!(log.contains("/api/v1/session"), "the route is logged");
}
