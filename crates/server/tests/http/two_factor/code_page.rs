//! What the code page says of a wait or a lock: when another code can go, what the next wrong
//! code will do, until when the step is locked and who can unlock it.

use latch_app::ports::PersonStore;
use reqwest::StatusCode;
use serde_json::json;

use super::{OWNER, PHONE, owner_with_two_factor, pending_sign_in, wrong};
use crate::support::{Client, Dialect, TestApp};

crate::on_both_databases!(
    a_resend_too_soon_says_when_another_can_go,
    a_resend_that_worked_says_when_and_that_older_codes_end,
    the_wrong_code_before_a_lock_warns_and_the_lock_says_until_when,
);

async fn code_page(c: &Client) -> String {
    let response = c.http.get(c.url("/sign-in/code")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.text().await.unwrap()
}

/// Sends a code page's form and follows its redirect: where it led, and that page.
async fn post(c: &Client, path: &str, form: &[(&str, &str)]) -> (String, String) {
    let (to, status, html) = c.fill_in("/sign-in/code", path, form).await;
    assert_eq!(status, StatusCode::OK);
    (to, html)
}

/// "6:33 PM" for a UTC instant, worked out here from its RFC 3339 form.
fn clock_in_utc(at: latch_domain::Timestamp) -> String {
    let iso = at.to_rfc3339();
    let hour: u32 = iso[11..13].parse().unwrap();
    let (h12, half) = match hour {
        0 => (12, "AM"),
        1..=11 => (hour, "AM"),
        12 => (12, "PM"),
        _ => (hour - 12, "PM"),
    };
    format!("{h12}:{} {half}", &iso[14..16])
}

/// An owner with two-factor, in a practice that keeps UTC, waiting for a sign-in code.
async fn waiting_in_utc(app: &TestApp) -> Client {
    let owner = owner_with_two_factor(app).await;
    let (status, body) = owner.change_security(json!({"time_zone": "UTC"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    pending_sign_in(app).await
}

async fn a_resend_too_soon_says_when_another_can_go(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    owner_with_two_factor(&app).await;
    let c = pending_sign_in(&app).await;
    app.clock.advance(4);
    let (status, body) = c.post("/api/v1/session/resend", json!({})).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        body["error"]["message"], "We just sent a code. You can ask for another in 26 seconds.",
        "a wait, not too many attempts"
    );
    let (to, html) = post(&c, "/sign-in/code/resend", &[("channel", "sms")]).await;
    assert_eq!(to, "/sign-in/code");
    assert!(html.contains("We just sent a code. You can ask for another in 26 seconds."));
    assert!(
        html.contains(r#"action="/sign-in/code""#),
        "the code can still be entered"
    );
}

async fn a_resend_that_worked_says_when_and_that_older_codes_end(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let c = waiting_in_utc(&app).await;
    app.clock.advance(30);
    let (to, html) = post(&c, "/sign-in/code/resend", &[("channel", "sms")]).await;
    assert_eq!(to, "/sign-in/code?resent=1");
    let at = clock_in_utc(latch_app::clock::Clock::now(&app.clock));
    assert!(
        html.contains(&format!(
            "We sent a new code at {at}. Older codes no longer work."
        )),
        "{html}"
    );
    assert!(
        !code_page(&c).await.contains("We sent a new code"),
        "said once, after the resend"
    );
}

async fn the_wrong_code_before_a_lock_warns_and_the_lock_says_until_when(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let c = waiting_in_utc(&app).await;
    let account = app.db.account_by_email(OWNER).await.unwrap().unwrap();
    latch_store::testing::set_code_failures(&app.db, &account.person.id, 8).await;
    let right = app.last_code_to(PHONE).await;
    let (to, html) = post(&c, "/sign-in/code", &[("code", &wrong(&right))]).await;
    assert_eq!(to, "/sign-in/code");
    assert!(
        html.contains("One more wrong code locks two-factor sign-in for 15 minutes."),
        "the ninth wrong code warns of the tenth: {html}"
    );

    let (_, html) = post(&c, "/sign-in/code", &[("code", &wrong(&right))]).await;
    let until = clock_in_utc(latch_app::clock::Clock::now(&app.clock).plus(15 * 60));
    for page in [html, code_page(&c).await] {
        assert!(
            page.contains(&format!(
                "Too many wrong codes. Two-factor sign-in is locked until {until}. An owner or \
                 manager of your practice can unlock it sooner."
            )),
            "{page}"
        );
        assert!(
            !page.contains(r#"action="/sign-in/code""#)
                && !page.contains(r#"action="/sign-in/code/resend""#),
            "no button that cannot work"
        );
        assert!(page.contains(r#"action="/sign-out""#));
    }
}
