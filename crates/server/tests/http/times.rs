//! The practice's time zone: chosen at the first run or in Security, and the clock every page
//! shows times on, while the API stays UTC.

use latch_domain::Timestamp;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{Client, Dialect, PASSWORD, TestApp, code, refused_fields};

crate::on_both_databases!(
    a_new_practice_keeps_its_times_in_the_zone_its_country_or_owner_gives,
    a_country_of_several_zones_needs_one_chosen_when_it_was_asked_for,
    the_zone_is_changed_in_security_within_the_tz_database,
    pages_show_times_on_the_practices_clock_and_filter_its_days,
);

async fn setup(app: &TestApp, body: Value) -> (StatusCode, Value) {
    app.client().post("/api/v1/setup", body).await
}

fn first_run(country: &str, time_zone: Option<&str>) -> Value {
    let mut body = json!({"practice_name": "Harbor Counseling", "country": country,
        "owner": {"email": "owner@harbor.test", "name": "Olivia Owner", "password": PASSWORD}});
    if let Some(zone) = time_zone {
        body["time_zone"] = json!(zone);
    }
    body
}

async fn zone_of(c: &Client) -> String {
    let (status, security) = c.get("/api/v1/practice/security").await;
    assert_eq!(status, StatusCode::OK, "{security}");
    security["time_zone"].as_str().unwrap().to_owned()
}

async fn a_new_practice_keeps_its_times_in_the_zone_its_country_or_owner_gives(dialect: Dialect) {
    for (country, chosen, kept) in [
        ("CA", None, "America/Toronto"),
        ("DE", None, "Europe/Berlin"),
        ("US", Some("america/los_angeles"), "America/Los_Angeles"),
        // A zone outside the country is the owner's to choose.
        ("GB", Some("Asia/Kolkata"), "Asia/Kolkata"),
        ("DE", Some(""), "Europe/Berlin"),
    ] {
        let app = TestApp::new(dialect).await;
        let owner = app.client();
        let (status, body) = owner
            .post("/api/v1/setup", first_run(country, chosen))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{country} {chosen:?}: {body}");
        assert_eq!(zone_of(&owner).await, kept, "{country} {chosen:?}");
    }
}

async fn a_country_of_several_zones_needs_one_chosen_when_it_was_asked_for(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let (status, body) = setup(&app, first_run("CA", Some(""))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(refused_fields(&body), ["time_zone"]);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Canada has more than one time zone"),
        "{body}"
    );
    let (status, body) = setup(&app, first_run("US", Some("Mars/Olympus_Mons"))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(refused_fields(&body), ["time_zone"]);
    // Refused, so nothing was made: the first run is still open.
    let (status, body) = setup(&app, first_run("CA", Some("America/Vancouver"))).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

async fn the_zone_is_changed_in_security_within_the_tz_database(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    assert_eq!(zone_of(&owner).await, "America/New_York");
    owner.change_security(json!({})).await;
    for bad in [
        "Mars/Olympus_Mons",
        "",
        "../../etc/localtime",
        "EST5EDT,M3.2.0",
    ] {
        let (status, body) = owner
            .put("/api/v1/practice/security", json!({"time_zone": bad}))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad:?}: {body}");
        assert_eq!(code(&body), "invalid_setting");
        assert_eq!(refused_fields(&body), ["time_zone"], "{bad:?}");
    }
    assert_eq!(zone_of(&owner).await, "America/New_York", "nothing saved");
    let (status, body) = owner
        .put(
            "/api/v1/practice/security",
            json!({"time_zone": "America/Los_Angeles"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["time_zone"], "America/Los_Angeles");
    let (_, audit) = owner
        .get("/api/v1/practice/audit?kind=practice.security_changed")
        .await;
    assert_eq!(
        audit["events"][0]["detail"],
        "time_zone: America/New_York → America/Los_Angeles"
    );
}

/// `at` on a clock `offset` seconds ahead of UTC, as the pages write it: "Dec 1, 6:31 AM".
fn on_clock(at: Timestamp, offset: i64) -> (String, String) {
    let shifted = at.plus(offset).to_rfc3339();
    let (date, time) = shifted.split_once('T').unwrap();
    let month: usize = date[5..7].parse().unwrap();
    let day: u32 = date[8..10].parse().unwrap();
    let hour: u32 = time[0..2].parse().unwrap();
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let (h12, half) = match hour {
        0 => (12, "AM"),
        1..=11 => (hour, "AM"),
        12 => (12, "PM"),
        _ => (hour - 12, "PM"),
    };
    (
        format!("{} {day}, {h12}:{} {half}", months[month - 1], &time[3..5]),
        date.to_owned(),
    )
}

async fn page(c: &Client, path: &str) -> String {
    let response = c.http.get(c.url(path)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response.text().await.unwrap()
}

async fn pages_show_times_on_the_practices_clock_and_filter_its_days(dialect: Dialect) {
    let app = TestApp::new(dialect).await;
    let owner = app.with_practice().await;
    // India's clock is 5½ hours ahead of UTC all year, so no page can pass on UTC's.
    let (status, body) = owner
        .change_security(json!({"time_zone": "Asia/Kolkata"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, audit) = owner
        .get("/api/v1/practice/audit?kind=practice.security_changed")
        .await;
    let event = &audit["events"][0];
    let iso = event["at"].as_str().unwrap();
    assert!(iso.ends_with('Z'), "the API stays UTC: {iso}");
    let at = Timestamp::parse_rfc3339(iso).unwrap();
    let (local, local_date) = on_clock(at, 19_800);

    let html = page(&owner, "/practice/audit?kind=practice.security_changed").await;
    assert!(
        html.contains(&format!(r#"<time datetime="{iso}""#))
            && html.contains(&format!(">{local}</time>")),
        "the audit trail shows {local} (IST) for {iso}: {html}"
    );
    assert!(html.contains(" IST\">"), "the zone is named on hover");
    assert!(
        html.contains(">Security settings changed</td>")
            && html.contains("Time zone: America/New_York → Asia/Kolkata")
            && html.contains(r#"<option value="code.wrong">Wrong code entered</option>"#),
        "the trail and its filters are in words"
    );

    // A day is the practice's day: the event's own date in India finds it, the next one not.
    let found = page(
        &owner,
        &format!(
            "/practice/audit?kind=practice.security_changed&from={local_date}&to={local_date}"
        ),
    )
    .await;
    assert!(found.contains(&format!(">{local}</time>")), "{local_date}");
    let next_day = on_clock(at, 19_800 + 86_400).1;
    let missed = page(
        &owner,
        &format!("/practice/audit?kind=practice.security_changed&from={next_day}"),
    )
    .await;
    assert!(!missed.contains(&format!(">{local}</time>")), "{next_day}");

    let team = page(&owner, "/team").await;
    assert!(
        team.contains(">just now</time>"),
        "last sign-in in words: {team}"
    );
}
