//! The store behaviour suite: every store method, on SQLite always and on PostgreSQL when
//! `LATCH_TEST_POSTGRES_URL` is set (a loud skip otherwise; a failure with
//! `LATCH_REQUIRE_POSTGRES=1`).

use latch_app::ports::{
    AuditStore, InstallationStore, PersonStore, PracticeStore, SessionStore, Store, StoreError,
    ThrottleStore,
};
use latch_app::records::{
    AuditQuery, NewAuditEvent, NewPerson, NewPractice, NewSession, PeopleFilter,
};
use latch_domain::country::Country;
use latch_domain::practice::{RequireTwoFactor, SecuritySettings};
use latch_domain::session::SessionState;
use latch_domain::{Role, Timestamp};
use latch_store::testing::TestDatabase;
use latch_store::{Db, DbOptions};

const T0: Timestamp = Timestamp(1_795_000_000);

async fn open(t: &TestDatabase) -> Db {
    let db = Db::connect(&t.url, &DbOptions::default()).unwrap();
    db.migrate().await.unwrap();
    db
}

async fn postgres() -> Option<TestDatabase> {
    Some(TestDatabase::postgres(&latch_store::testing::postgres_url()?).await)
}

/// Runs each behaviour as one test on SQLite and one on PostgreSQL.
macro_rules! behaviours {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    let t = latch_store::testing::TestDatabase::sqlite();
                    super::$name(super::open(&t).await).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    let Some(t) = super::postgres().await else { return };
                    let db = super::open(&t).await;
                    super::$name(db.clone()).await;
                    db.close().await;
                }
            )*
        }
    };
}

behaviours!(
    the_installation_row_is_made_once_and_claimed_once,
    people_are_found_by_email_whatever_its_case,
    an_email_is_unique_across_the_installation,
    people_of_another_practice_do_not_exist_here,
    sessions_are_found_by_token_hash_rotated_and_ended,
    password_failures_count_atomically,
    windows_count_and_start_again_when_over,
    audit_events_are_read_newest_first_with_filters,
    security_settings_round_trip,
    a_migrated_database_answers_ping,
);

#[test]
fn both_dialects_have_the_same_migrations() {
    let (sqlite, postgres) = Db::migration_names();
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, postgres);
}

#[tokio::test]
async fn an_unmigrated_database_is_not_ready() {
    let t = TestDatabase::sqlite();
    let db = Db::connect(&t.url, &DbOptions::default()).unwrap();
    assert!(db.ping().await.is_err());
}

fn practice(id: &str) -> NewPractice {
    NewPractice {
        id: id.into(),
        name: format!("Practice {id}"),
        country: "US".into(),
        security: SecuritySettings::new_practice(Country::parse("US").unwrap()),
        created_at: T0,
    }
}

fn person(id: &str, practice_id: &str, email: &str, role: Role) -> NewPerson {
    NewPerson {
        id: id.into(),
        practice_id: practice_id.into(),
        email: email.into(),
        email_normalized: email.to_lowercase(),
        name: format!("Person {id}"),
        role,
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        created_at: T0,
    }
}

async fn practice_with_owner(db: &Db, practice_id: &str, owner_id: &str, email: &str) {
    db.create_practice(
        &practice(practice_id),
        &person(owner_id, practice_id, email, Role::Owner),
    )
    .await
    .unwrap();
}

async fn the_installation_row_is_made_once_and_claimed_once(db: Db) {
    let first = db.installation("nonce-1").await.unwrap();
    assert_eq!(first.setup_nonce, "nonce-1");
    assert!(!first.set_up);
    assert_eq!(
        db.installation("nonce-2").await.unwrap().setup_nonce,
        "nonce-1"
    );

    let p = practice("p1");
    db.create_first_practice(&p, &person("o1", "p1", "o@example.com", Role::Owner), T0)
        .await
        .unwrap();
    let again = db
        .create_first_practice(
            &practice("p2"),
            &person("o2", "p2", "o2@example.com", Role::Owner),
            T0,
        )
        .await;
    assert!(
        matches!(again, Err(StoreError::Conflict("already_set_up"))),
        "{again:?}"
    );
    assert!(
        db.practice("p2").await.unwrap().is_none(),
        "the refused setup left nothing behind"
    );
    assert!(db.installation("nonce-3").await.unwrap().set_up);
}

async fn people_are_found_by_email_whatever_its_case(db: Db) {
    practice_with_owner(&db, "p1", "o1", "Owner@Example.com").await;
    let account = db
        .account_by_email("owner@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(account.person.email, "Owner@Example.com");
    assert_eq!(account.person.role, Role::Owner);
    assert_eq!(account.practice.id, "p1");
    assert_eq!(account.practice.security.sign_out_after_idle_minutes, 15);
    assert!(
        db.account_by_email("nobody@example.com")
            .await
            .unwrap()
            .is_none()
    );

    db.set_password_hash("o1", "$argon2id$new").await.unwrap();
    db.record_sign_in("o1", T0.plus(5)).await.unwrap();
    let p = db.person_in_practice("p1", "o1").await.unwrap().unwrap();
    assert_eq!(p.password_hash, "$argon2id$new");
    assert_eq!(p.last_sign_in_at, Some(T0.plus(5)));
}

async fn an_email_is_unique_across_the_installation(db: Db) {
    practice_with_owner(&db, "p1", "o1", "dana@example.com").await;
    practice_with_owner(&db, "p2", "o2", "sam@example.com").await;
    let clash = db
        .insert_person(&person("x", "p2", "DANA@example.com", Role::Staff))
        .await;
    assert!(matches!(clash, Err(StoreError::Conflict(_))), "{clash:?}");
}

async fn people_of_another_practice_do_not_exist_here(db: Db) {
    practice_with_owner(&db, "p1", "o1", "a@example.com").await;
    practice_with_owner(&db, "p2", "o2", "b@example.com").await;
    db.insert_person(&person("s1", "p1", "staff@example.com", Role::Staff))
        .await
        .unwrap();
    db.insert_person(&person("c1", "p1", "client@example.com", Role::Client))
        .await
        .unwrap();
    assert!(db.person_in_practice("p2", "s1").await.unwrap().is_none());
    let all = db.people("p1", &PeopleFilter::default()).await.unwrap();
    assert_eq!(all.len(), 3);
    let clients = db
        .people(
            "p1",
            &PeopleFilter {
                role: Some(Role::Client),
            },
        )
        .await
        .unwrap();
    assert_eq!(
        clients.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(),
        ["c1"]
    );
}

fn session(id: &str, token_hash: &str, person_id: &str, at: Timestamp) -> NewSession {
    NewSession {
        id: id.into(),
        token_hash: token_hash.into(),
        person_id: person_id.into(),
        state: SessionState::SignedIn,
        created_at: at,
        pending_until: None,
        ip: "192.0.2.7".into(),
        label: "Firefox on Linux".into(),
    }
}

async fn sessions_are_found_by_token_hash_rotated_and_ended(db: Db) {
    practice_with_owner(&db, "p1", "o1", "a@example.com").await;
    practice_with_owner(&db, "p2", "o2", "b@example.com").await;
    db.insert_session(&session("s1", "hash-1", "o1", T0))
        .await
        .unwrap();
    db.insert_session(&session("s2", "hash-2", "o1", T0.plus(1)))
        .await
        .unwrap();

    let (s, account) = db.session_by_token("hash-1").await.unwrap().unwrap();
    assert_eq!(
        (s.id.as_str(), s.person_id.as_str(), s.state),
        ("s1", "o1", SessionState::SignedIn)
    );
    assert_eq!(account.practice.id, "p1");
    assert_eq!(s.last_seen_at, T0);

    db.touch_session("s1", T0.plus(30)).await.unwrap();
    db.touch_session("s1", T0.plus(20)).await.unwrap();
    assert_eq!(
        db.session_by_token("hash-1")
            .await
            .unwrap()
            .unwrap()
            .0
            .last_seen_at,
        T0.plus(30),
        "time never goes back"
    );

    db.rotate_session(
        "s1",
        "hash-1b",
        SessionState::SignedIn,
        Some(T0.plus(600)),
        None,
        T0.plus(40),
    )
    .await
    .unwrap();
    assert!(
        db.session_by_token("hash-1").await.unwrap().is_none(),
        "the old token is dead"
    );
    let rotated = db.session_by_token("hash-1b").await.unwrap().unwrap().0;
    assert_eq!(rotated.id, "s1");
    assert_eq!(rotated.reauthenticated_until, Some(T0.plus(600)));

    let listed: Vec<String> = db
        .sessions_of("o1")
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(listed, ["s1", "s2"], "most recently seen first");

    assert!(
        !db.delete_session("o2", "s1").await.unwrap(),
        "nobody ends another person's session"
    );
    assert_eq!(db.delete_sessions_of("o1", Some("s1")).await.unwrap(), 1);
    assert!(db.session_by_token("hash-2").await.unwrap().is_none());
    assert!(db.delete_session("o1", "s1").await.unwrap());
    assert!(db.sessions_of("o1").await.unwrap().is_empty());
}

async fn password_failures_count_atomically(db: Db) {
    assert_eq!(db.password_failures("x@example.com").await.unwrap(), None);
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            db.add_password_failure("x@example.com", T0).await.unwrap()
        }));
    }
    let mut counts = Vec::new();
    for t in tasks {
        counts.push(t.await.unwrap());
    }
    counts.sort_unstable();
    assert_eq!(
        counts,
        (1..=20).collect::<Vec<u32>>(),
        "each failure got its own count"
    );
    db.set_password_retry_at("x@example.com", T0.plus(8))
        .await
        .unwrap();
    assert_eq!(
        db.password_failures("x@example.com").await.unwrap(),
        Some((20, Some(T0.plus(8))))
    );
    db.clear_password_failures("x@example.com").await.unwrap();
    assert_eq!(db.password_failures("x@example.com").await.unwrap(), None);
}

async fn windows_count_and_start_again_when_over(db: Db) {
    assert!(db.window("k").await.unwrap().is_none());
    assert_eq!(db.bump_window("k", T0, 900).await.unwrap().count, 1);
    assert_eq!(
        db.bump_window("k", T0.plus(899), 900).await.unwrap().count,
        2
    );
    let w = db.window("k").await.unwrap().unwrap();
    assert_eq!((w.count, w.started_at), (2, T0));
    let fresh = db.bump_window("k", T0.plus(900), 900).await.unwrap();
    assert_eq!((fresh.count, fresh.started_at), (1, T0.plus(900)));
}

fn event(practice_id: &str, at: Timestamp, kind: &'static str, subject: &str) -> NewAuditEvent {
    NewAuditEvent {
        practice_id: practice_id.into(),
        at,
        kind,
        actor_id: Some("o1".into()),
        subject_id: Some(subject.into()),
        ip: Some("192.0.2.7".into()),
        user_agent: Some("test".into()),
        detail: "detail".into(),
    }
}

async fn audit_events_are_read_newest_first_with_filters(db: Db) {
    practice_with_owner(&db, "p1", "o1", "a@example.com").await;
    practice_with_owner(&db, "p2", "o2", "b@example.com").await;
    for i in 0..5 {
        db.append_audit(&event(
            "p1",
            T0.plus(i),
            "sign_in.succeeded",
            if i % 2 == 0 { "o1" } else { "s1" },
        ))
        .await
        .unwrap();
    }
    db.append_audit(&event("p1", T0.plus(10), "password.changed", "o1"))
        .await
        .unwrap();
    db.append_audit(&event("p2", T0.plus(11), "sign_in.failed", "o2"))
        .await
        .unwrap();

    let q = |f: fn(&mut AuditQuery)| {
        let mut q = AuditQuery {
            limit: 50,
            ..AuditQuery::default()
        };
        f(&mut q);
        q
    };
    let all = db.audit_events("p1", &q(|_| {})).await.unwrap();
    assert_eq!(all.len(), 6, "another practice's events are not here");
    assert!(all.windows(2).all(|w| w[0].id > w[1].id), "newest first");
    assert_eq!(all[0].kind, "password.changed");

    let page = db
        .audit_events(
            "p1",
            &AuditQuery {
                limit: 2,
                ..q(|_| {})
            },
        )
        .await
        .unwrap();
    let next = db
        .audit_events(
            "p1",
            &AuditQuery {
                limit: 2,
                before_id: Some(page[1].id),
                ..q(|_| {})
            },
        )
        .await
        .unwrap();
    assert!(next[0].id < page[1].id);

    let of_s1 = db
        .audit_events("p1", &q(|q| q.subject_id = Some("s1".into())))
        .await
        .unwrap();
    assert_eq!(of_s1.len(), 2);
    let changed = db
        .audit_events("p1", &q(|q| q.kind = Some("password.changed".into())))
        .await
        .unwrap();
    assert_eq!(changed.len(), 1);
    let window = db
        .audit_events(
            "p1",
            &q(|q| {
                q.from = Some(T0.plus(1));
                q.to = Some(T0.plus(3));
            }),
        )
        .await
        .unwrap();
    assert_eq!(window.len(), 3);
}

async fn security_settings_round_trip(db: Db) {
    practice_with_owner(&db, "p1", "o1", "a@example.com").await;
    let settings = SecuritySettings {
        require_two_factor: RequireTwoFactor::StaffAndClients,
        remember_device_days: 30,
        sign_out_after_idle_minutes: 60,
        allowed_countries: vec![Country::parse("US").unwrap(), Country::parse("CA").unwrap()],
        daily_send_budget: 1000,
    };
    db.update_security("p1", &settings).await.unwrap();
    assert_eq!(db.practice("p1").await.unwrap().unwrap().security, settings);
    assert_eq!(db.practices().await.unwrap().len(), 1);
}

async fn a_migrated_database_answers_ping(db: Db) {
    db.ping().await.unwrap();
    db.migrate().await.unwrap();
    db.ping().await.unwrap();
}
