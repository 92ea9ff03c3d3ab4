//! The two-factor rules under requests that arrive at the same instant, each on a connection
//! of its own, on one node and across two: at most five guesses judged per code, each judged
//! guess counted once, one lock with one notice and one audit event, a lock that never shrinks,
//! and a right code that is not followed by a lock from the guesses it raced.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{Client, Dialect, PASSWORD, TestApp, code, post_at_once};

const PHONE: &str = "+14155552671";
const OWNER: &str = "owner@harbor.test";

crate::on_both_databases!(
    threads:
    ninety_guesses_at_once_are_judged_five_times,
    guesses_from_many_sign_ins_at_once_lock_once_with_one_notice,
    the_last_guesses_before_the_lock_for_good_lock_it_once,
    a_right_code_racing_wrong_guesses_is_never_followed_by_their_lock,
);

/// A practice whose owner has two-factor on with `PHONE`: the owner's signed-in client and id.
async fn owner_with_two_factor(app: &TestApp) -> (Client, String) {
    let owner = app.with_practice().await;
    app.turn_on_two_factor(&owner, PHONE).await;
    let (_, me) = owner.get("/api/v1/me").await;
    (owner, me["user"]["id"].as_str().unwrap().to_owned())
}

/// A sign-in waiting for its code in a fresh browser on `base`, and the code it was sent.
async fn pending_sign_in(app: &TestApp, base: &str) -> (Client, String) {
    let c = app.client().on(base);
    let (status, body) = c.sign_in(OWNER, PASSWORD).await;
    assert_eq!(
        (status, body["state"].as_str()),
        (StatusCode::OK, Some("two_factor_required")),
        "{body}"
    );
    (c, app.last_code_to(PHONE).await)
}

fn wrong(code: &str, n: usize) -> String {
    let value: u64 = code.parse().unwrap();
    format!("{:08}", (value + 1 + n as u64 % 1000) % 100_000_000)
}

fn guess(c: &Client, code: String) -> (Client, &'static str, Value) {
    (
        c.clone(),
        "/api/v1/session/verify",
        json!({"code": code, "remember_device": false}),
    )
}

async fn status_of(owner: &Client, id: &str) -> String {
    let (_, person) = owner.get(&format!("/api/v1/practice/users/{id}")).await;
    person["status"].as_str().unwrap().to_owned()
}

async fn lock_notices(app: &TestApp) -> usize {
    app.outbox_to(PHONE)
        .await
        .iter()
        .filter(|m| m["code"].is_null() && m["body"].as_str().unwrap().contains("change it"))
        .count()
}

async fn ninety_guesses_at_once_are_judged_five_times(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let (owner, _) = owner_with_two_factor(&app).await;
    let (c, right) = pending_sign_in(&app, &app.base).await;
    // The right code is among them: it is accepted only if it is one of the five judged.
    let mut guesses: Vec<_> = (0..89).map(|n| guess(&c, wrong(&right, n))).collect();
    guesses.insert(45, guess(&c, right.clone()));
    let answers = post_at_once(guesses).await;

    let wrong_answers = answers
        .iter()
        .filter(|(s, b)| *s == StatusCode::BAD_REQUEST && code(b) == "invalid_code")
        .count();
    let accepted = answers.iter().filter(|(s, _)| *s == StatusCode::OK).count();
    for (status, body) in &answers {
        assert!(
            matches!(
                code(body),
                "invalid_code" | "code_expired" | "not_signed_in"
            ) || *status == StatusCode::OK,
            "{status} {body}"
        );
    }
    assert!(
        wrong_answers + accepted <= 5,
        "{wrong_answers} wrong and {accepted} right were judged"
    );
    assert_eq!(
        owner.audited("code.wrong").await,
        wrong_answers,
        "each judged guess is counted once"
    );
    assert_eq!(owner.audited("two_factor.locked").await, 0);
    assert_eq!(lock_notices(&app).await, 0);
}

async fn guesses_from_many_sign_ins_at_once_lock_once_with_one_notice(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let (owner, id) = owner_with_two_factor(&app).await;
    let (second, _node) = app.second_node().await;
    // Four sign-ins, two on each node, each guessing ten times at once: forty guesses, of
    // which the first ten judged reach the lock and the rest find it.
    let mut guesses = Vec::new();
    for n in 0..4 {
        let base = if n % 2 == 0 { &app.base } else { &second };
        let (c, right) = pending_sign_in(&app, base).await;
        guesses.extend((0..10).map(|i| guess(&c, wrong(&right, i))));
    }
    let answers = post_at_once(guesses).await;

    let judged = answers
        .iter()
        .filter(|(_, b)| code(b) == "invalid_code")
        .count();
    let locked_now = answers
        .iter()
        .filter(|(s, b)| {
            *s == StatusCode::TOO_MANY_REQUESTS && b["error"]["retry_after_seconds"] == 900
        })
        .count();
    assert_eq!(judged, 9, "nine wrong codes before the lock: {answers:?}");
    assert_eq!(owner.audited("code.wrong").await, 10);
    assert_eq!(owner.audited("two_factor.locked").await, 1);
    assert_eq!(lock_notices(&app).await, 1, "one lock, one text");
    assert!(locked_now >= 1, "the tenth locks for fifteen minutes");
    assert_eq!(status_of(&owner, &id).await, "locked");
}

async fn the_last_guesses_before_the_lock_for_good_lock_it_once(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let (owner, id) = owner_with_two_factor(&app).await;
    app.person(&owner, "manager", "max@harbor.test").await;
    let mut sign_ins = Vec::new();
    for _ in 0..3 {
        sign_ins.push(pending_sign_in(&app, &app.base).await);
    }
    // Two short of the lock for good: the 49th locks for an hour, and nothing judged while
    // that lock holds may count on to the 50th or write a shorter lock over a longer one.
    latch_store::testing::set_code_failures(
        &app.db,
        &latch_app::PersonId::from_stored(id.as_str()),
        48,
    )
    .await;
    let guesses = sign_ins
        .iter()
        .flat_map(|(c, right)| (0..5).map(|i| guess(c, wrong(right, i))))
        .collect();
    let answers = post_at_once(guesses).await;
    assert_eq!(owner.audited("code.wrong").await, 1, "{answers:?}");
    assert_eq!(owner.audited("two_factor.locked").await, 1);
    assert_eq!(status_of(&owner, &id).await, "locked");

    app.clock.advance(3600);
    // The owner's own session idled out meanwhile; a manager reads the trail from here on.
    let owner = app.client();
    let (status, body) = owner.sign_in("max@harbor.test", PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut sign_ins = Vec::new();
    for _ in 0..3 {
        sign_ins.push(pending_sign_in(&app, &app.base).await);
    }
    let guesses = sign_ins
        .iter()
        .flat_map(|(c, right)| (0..5).map(|i| guess(c, wrong(right, i))))
        .collect();
    let answers = post_at_once(guesses).await;
    assert_eq!(owner.audited("code.wrong").await, 2, "{answers:?}");
    assert_eq!(owner.audited("two_factor.locked").await, 2);
    assert_eq!(lock_notices(&app).await, 2);
    assert_eq!(status_of(&owner, &id).await, "locked_until_unlocked");
    let forbidden = answers
        .iter()
        .filter(|(s, b)| *s == StatusCode::FORBIDDEN && code(b) == "two_factor_locked")
        .count();
    assert_eq!(forbidden, answers.len(), "{answers:?}");
}

async fn a_right_code_racing_wrong_guesses_is_never_followed_by_their_lock(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let (_, id) = owner_with_two_factor(&app).await;
    for round in 0..3 {
        // A fresh day each round, so the send limits have room for five sign-ins.
        app.clock.advance(25 * 3600);
        let owner = app.client();
        owner.sign_in(OWNER, PASSWORD).await;
        let owner_code = app.last_code_to(PHONE).await;
        let (status, _) = owner
            .post(
                "/api/v1/session/verify",
                json!({"code": owner_code, "remember_device": false}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "round {round}");

        let (person, right) = pending_sign_in(&app, &app.base).await;
        let mut guesses = vec![guess(&person, right)];
        for _ in 0..3 {
            let (c, their_code) = pending_sign_in(&app, &app.base).await;
            guesses.extend((0..3).map(|i| guess(&c, wrong(&their_code, i))));
        }
        latch_store::testing::set_code_failures(
            &app.db,
            &latch_app::PersonId::from_stored(id.as_str()),
            9,
        )
        .await;
        let locks_before = owner.audited("two_factor.locked").await;
        let answers = post_at_once(guesses).await;
        let locks = owner.audited("two_factor.locked").await - locks_before;
        let status = status_of(&owner, &id).await;
        if answers[0].0 == StatusCode::OK {
            assert_eq!(
                (locks, status.as_str()),
                (0, "active"),
                "round {round}: the right code won, so no raced guess locks: {answers:?}"
            );
        } else {
            assert_eq!(
                (answers[0].0, locks, status.as_str()),
                (StatusCode::TOO_MANY_REQUESTS, 1, "locked"),
                "round {round}: a wrong guess locked first, so the right code found the lock"
            );
        }
    }
}
