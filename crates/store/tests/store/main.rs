//! The store behaviour suite: every store method, on SQLite always and on PostgreSQL when
//! `LATCH_TEST_POSTGRES_URL` is set (a loud skip otherwise; a failure with
//! `LATCH_REQUIRE_POSTGRES=1`).

use latch_app::ports::{
    AuditStore, CallStore, ChallengeStore, Conflict, DeliveryLogStore, DeviceStore,
    InstallationStore, MethodStore, OutboxStore, PersonStore, PracticeStore, SessionStore, Store,
    StoreError, SweepStore, ThrottleStore,
};
use latch_app::records::{
    AnswerJudgement, AuditQuery, Challenge, CodeJudgement, Consume, MethodRecord, NewAuditEvent,
    NewDevice, NewPerson, NewPractice, NewSession, PeopleFilter, Purpose, SessionChange,
    TwoFactorSetting,
};
use latch_app::{PersonId, PracticeId, SessionId};
use latch_domain::country::Country;
use latch_domain::method::MethodKind;
use latch_domain::phone::PhoneNumber;
use latch_domain::practice::{RequireTwoFactor, SecuritySettings};
use latch_domain::session::{SecondFactor, SessionState};
use latch_domain::two_factor::{Channel, LockAfterFailure, LockState, lock_after_failure};
use latch_domain::zone::PracticeZone;
use latch_domain::{Role, Timestamp};
use latch_store::testing::TestDatabase;
use latch_store::{Db, DbOptions};

const T0: Timestamp = Timestamp(1_795_000_000);

fn person_id(id: &str) -> PersonId {
    PersonId::from_stored(id)
}

fn practice_id(id: &str) -> PracticeId {
    PracticeId::from_stored(id)
}

fn session_id(id: &str) -> SessionId {
    SessionId::from_stored(id)
}

/// Practice p1's person o1 as stored now.
async fn o1(db: &Db) -> latch_app::Person {
    db.person_in_practice(&practice_id("p1"), &person_id("o1"))
        .await
        .unwrap()
        .unwrap()
}

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
    four_windows_count_in_one_statement_each_on_its_own_clock,
    counting_and_giving_back_the_same_windows_at_once_never_deadlocks,
    audit_events_are_read_newest_first_with_filters,
    audit_events_of_one_call_keep_their_order,
    security_settings_round_trip,
    a_practice_from_before_time_zones_reads_in_its_countrys_zone,
    a_migrated_database_answers_ping,
    two_factor_settings_failures_and_locks_round_trip,
    an_answer_uses_up_its_step_or_code_once_and_counts_the_rest,
    an_enrolment_is_kept_with_its_session_and_taken_once,
    a_challenge_is_replaced_resent_consumed_once_and_counted,
    a_lock_is_checked_and_written_where_the_guess_is_counted,
    remembered_devices_are_found_only_by_their_person_and_until_they_expire,
    the_outbox_keeps_messages_newest_first,
    windows_give_back_and_never_go_below_zero,
    a_failed_delivery_clears_the_resend_wait,
    deliveries_are_remembered_by_provider_id,
    device_counts_and_a_lowered_limit_work_per_practice,
    a_call_token_is_taken_once_and_not_after_it_expires,
    an_authorization_code_is_redeemed_once_whatever_arrives_at_once,
    application_tokens_are_found_by_kind_until_they_expire_and_end_with_their_grant,
    sweeping_removes_only_what_ran_out_in_batches,
    a_unit_of_work_commits_all_its_writes_or_none,
    no_session_of_a_deactivated_person_stands,
    units_of_work_at_once_each_see_what_the_one_before_wrote,
    writers_whose_callers_went_away_leave_nothing_and_hold_up_no_one,
    checkpoints_copy_the_whole_log_beside_the_writer,
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

/// Another process writing (a console command) holds SQLite's lock: a write waits for it,
/// trying again, and lets its thread run everything else meanwhile; the test's runtime has
/// one thread, so a write that slept in SQLite's busy handler would hold up the timer below
/// until it gave up.
#[tokio::test]
async fn a_write_waits_for_another_connections_lock_without_holding_its_thread() {
    use sqlx::Connection as _;
    let t = TestDatabase::sqlite();
    let db = open(&t).await;
    practice_with_owner(&db, "p1", "o1", "a@example.com").await;
    let mut console = sqlx::sqlite::SqliteConnection::connect(&t.url)
        .await
        .unwrap();
    sqlx::raw_sql("begin immediate")
        .execute(&mut console)
        .await
        .unwrap();
    let write = tokio::spawn({
        let db = db.clone();
        async move { db.insert_session(&session("s1", "hash-1", "o1", T0)).await }
    });
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert!(
        !write.is_finished(),
        "the write waits while the lock is held"
    );
    sqlx::raw_sql("commit").execute(&mut console).await.unwrap();
    write.await.unwrap().unwrap();
    assert!(db.session_by_token("hash-1").await.unwrap().is_some());
}

fn practice(id: &str) -> NewPractice {
    NewPractice {
        id: practice_id(id),
        name: format!("Practice {id}"),
        country: "US".into(),
        security: SecuritySettings::new_practice(Country::parse("US").unwrap()),
        created_at: T0,
    }
}

fn person(id: &str, practice: &str, email: &str, role: Role) -> NewPerson {
    NewPerson {
        id: person_id(id),
        practice_id: practice_id(practice),
        email: latch_domain::Email::parse(email).unwrap(),
        name: format!("Person {id}"),
        role,
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        created_at: T0,
        email_verified: false,
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
        matches!(again, Err(StoreError::Conflict(Conflict::AlreadySetUp))),
        "{again:?}"
    );
    assert!(
        db.practice(&practice_id("p2")).await.unwrap().is_none(),
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
    assert_eq!(account.person.email.as_str(), "Owner@Example.com");
    assert_eq!(account.person.role, Role::Owner);
    assert_eq!(account.practice.id, practice_id("p1"));
    assert_eq!(account.practice.security.sign_out_after_idle_minutes, 15);
    assert!(
        db.account_by_email("nobody@example.com")
            .await
            .unwrap()
            .is_none()
    );

    db.set_password_hash(&person_id("o1"), "$argon2id$new")
        .await
        .unwrap();
    db.record_sign_in(&person_id("o1"), T0.plus(5))
        .await
        .unwrap();
    let p = o1(&db).await;
    assert_eq!(p.password_hash, "$argon2id$new");
    assert_eq!(p.last_sign_in_at, Some(T0.plus(5)));
}

async fn an_email_is_unique_across_the_installation(db: Db) {
    practice_with_owner(&db, "p1", "o1", "dana@example.com").await;
    practice_with_owner(&db, "p2", "o2", "sam@example.com").await;
    let clash = db
        .insert_person(&person("x", "p2", "DANA@example.com", Role::Staff))
        .await;
    assert!(
        matches!(clash, Err(StoreError::Conflict(Conflict::EmailTaken))),
        "{clash:?}"
    );
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
    assert!(
        db.person_in_practice(&practice_id("p2"), &person_id("s1"))
            .await
            .unwrap()
            .is_none()
    );
    let all = db
        .people(&practice_id("p1"), &PeopleFilter::default())
        .await
        .unwrap();
    assert_eq!(all.len(), 3);
    assert_eq!(db.headcount(&practice_id("p1")).await.unwrap(), 3);
    assert_eq!(db.headcount(&practice_id("p2")).await.unwrap(), 1);
    assert_eq!(db.headcount(&practice_id("nowhere")).await.unwrap(), 0);
    let clients = db
        .people(
            &practice_id("p1"),
            &PeopleFilter {
                role: Some(Role::Client),
                deactivated: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        clients.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(),
        ["c1"]
    );
}

/// Deactivating ends a person's sessions; should one be left (written by a request that was
/// under way), it is not found either, by token or by id.
async fn no_session_of_a_deactivated_person_stands(db: Db) {
    practice_with_owner(&db, "p1", "o1", "a@example.com").await;
    db.insert_session(&session("s1", "hash-1", "o1", T0))
        .await
        .unwrap();
    assert!(db.session_by_token("hash-1").await.unwrap().is_some());
    db.set_deactivated(&person_id("o1"), Some(T0))
        .await
        .unwrap();
    assert!(db.session_by_token("hash-1").await.unwrap().is_none());
    let id = latch_app::SessionId::from_stored("s1");
    assert!(db.session_by_id(&id).await.unwrap().is_none());
    db.set_deactivated(&person_id("o1"), None).await.unwrap();
    assert!(db.session_by_token("hash-1").await.unwrap().is_some());
}

async fn a_unit_of_work_commits_all_its_writes_or_none(db: Db) {
    practice_with_owner(&db, "p1", "o1", "a@example.com").await;
    // Dropped uncommitted: neither write is there, not even the one a statement made alone.
    let unit = db.begin().await.unwrap();
    unit.insert_session(&session("s1", "hash-1", "o1", T0))
        .await
        .unwrap();
    unit.record_sign_in(&person_id("o1"), T0).await.unwrap();
    assert!(unit.session_by_token("hash-1").await.unwrap().is_some());
    assert!(
        matches!(unit.begin().await, Err(StoreError::Other(_))),
        "a unit of work does not nest"
    );
    drop(unit);
    assert!(db.session_by_token("hash-1").await.unwrap().is_none());
    let owner = o1(&db).await;
    assert_eq!(owner.last_sign_in_at, None);

    // Committed: both are, and the unit is over.
    let unit = db.begin().await.unwrap();
    unit.insert_session(&session("s1", "hash-1", "o1", T0))
        .await
        .unwrap();
    unit.record_sign_in(&person_id("o1"), T0).await.unwrap();
    unit.commit().await.unwrap();
    assert!(unit.session_by_token("hash-1").await.is_err());
    assert!(db.session_by_token("hash-1").await.unwrap().is_some());
    let owner = o1(&db).await;
    assert_eq!(owner.last_sign_in_at, Some(T0));
}

async fn units_of_work_at_once_each_see_what_the_one_before_wrote(db: Db) {
    // Twenty units read a window, then add to it, all at once. No count is ever lost (the
    // guarded statement), and on SQLite, whose units take turns at writing, each unit also
    // read what the one before it wrote.
    let sqlite = db.dialect() == "sqlite";
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(20));
    let units = (0..20).map(|_| {
        let (db, barrier) = (db.clone(), barrier.clone());
        tokio::spawn(async move {
            barrier.wait().await;
            let unit = db.begin().await.unwrap();
            let before = unit.window("k").await.unwrap().map_or(0, |w| w.count);
            let after = unit.bump_window("k", T0, 3600).await.unwrap().count;
            unit.commit().await.unwrap();
            (before, after)
        })
    });
    let mut seen = Vec::new();
    for unit in units.collect::<Vec<_>>() {
        let (before, after) = unit.await.unwrap();
        if sqlite {
            assert_eq!(after, before + 1);
        }
        seen.push(after);
    }
    seen.sort_unstable();
    assert_eq!(seen, (1..=20).collect::<Vec<i64>>());
}

async fn writers_whose_callers_went_away_leave_nothing_and_hold_up_no_one(db: Db) {
    practice_with_owner(&db, "p1", "o1", "a@example.com").await;
    // A unit whose task is aborted while it holds the write lock (a request whose client went
    // away) rolls back and lets the next writer in.
    let (begun, wait) = tokio::sync::oneshot::channel();
    let stalled = tokio::spawn({
        let db = db.clone();
        async move {
            let unit = db.begin().await.unwrap();
            unit.insert_session(&session("s1", "hash-1", "o1", T0))
                .await
                .unwrap();
            begun.send(()).unwrap();
            std::future::pending::<()>().await;
            drop(unit);
        }
    });
    wait.await.unwrap();
    stalled.abort();
    assert!(stalled.await.unwrap_err().is_cancelled());
    // Lone writes cut off after every number of steps, mid-statement included: SQLite's writer
    // takes that. PostgreSQL's connections do not (a connection cut off mid-statement can wait
    // for an answer that never comes), so latch never cuts a request's work off
    // (`run_to_completion` in the web layer), and this is shown on SQLite alone.
    let steps = if db.dialect() == "sqlite" { 12 } else { 0 };
    let cut_off = session("s2", "hash-2", "o1", T0);
    for steps in 0..steps {
        let mut write = Box::pin(db.insert_session(&cut_off));
        for _ in 0..steps {
            if futures_poll_once(write.as_mut()).await.is_some() {
                break;
            }
            tokio::task::yield_now().await;
        }
        drop(write);
        db.delete_session(&person_id("o1"), &session_id("s2"))
            .await
            .unwrap();
    }
    let unit = db.begin().await.unwrap();
    unit.insert_session(&session("s3", "hash-3", "o1", T0))
        .await
        .unwrap();
    unit.commit().await.unwrap();
    assert!(db.session_by_token("hash-1").await.unwrap().is_none());
    assert!(db.session_by_token("hash-3").await.unwrap().is_some());
}

async fn checkpoints_copy_the_whole_log_beside_the_writer(db: Db) {
    practice_with_owner(&db, "p1", "o1", "a@example.com").await;
    // Each insert is a commit of its own that writes a few pages to the log.
    for n in 0..600 {
        db.insert_session(&session(&format!("s{n}"), &format!("hash-{n}"), "o1", T0))
            .await
            .unwrap();
    }
    let first = db.checkpoint().await.unwrap();
    if db.dialect() == "sqlite" {
        // The writer left the log to the checkpoint, past the thousand pages after which
        // SQLite's default would have copied it within a writer's turn.
        assert!(first.log_pages > 1_000, "{first:?}");
        assert_eq!(first.copied_pages, first.log_pages, "{first:?}");
        db.insert_session(&session("s-after", "hash-after", "o1", T0))
            .await
            .unwrap();
        let second = db.checkpoint().await.unwrap();
        assert!(
            second.log_pages < first.log_pages,
            "the log started over once it was all copied: {first:?} then {second:?}"
        );
        assert!(db.session_by_token("hash-after").await.unwrap().is_some());
    } else {
        assert_eq!(first, latch_store::Checkpoint::default());
    }
}

/// Polls a future once: its output if it finished, none if it is still pending.
async fn futures_poll_once<F: std::future::Future>(
    mut future: std::pin::Pin<&mut F>,
) -> Option<F::Output> {
    std::future::poll_fn(|cx| {
        std::task::Poll::Ready(match future.as_mut().poll(cx) {
            std::task::Poll::Ready(out) => Some(out),
            std::task::Poll::Pending => None,
        })
    })
    .await
}

fn session(id: &str, token_hash: &str, person: &str, at: Timestamp) -> NewSession {
    NewSession {
        id: session_id(id),
        token_hash: token_hash.into(),
        person_id: person_id(person),
        state: SessionState::SignedIn,
        created_at: at,
        pending_until: None,
        ip: "192.0.2.7".into(),
        label: "Firefox on Linux".into(),
        second_factor: None,
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
    assert_eq!(account.practice.id, practice_id("p1"));
    assert_eq!(s.last_seen_at, T0);

    db.touch_session(&session_id("s1"), T0.plus(30))
        .await
        .unwrap();
    db.touch_session(&session_id("s1"), T0.plus(20))
        .await
        .unwrap();
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
        &session_id("s1"),
        "hash-1b",
        &SessionChange {
            state: SessionState::SignedIn,
            reauthenticated_until: Some(T0.plus(600)),
            pending_until: None,
            second_factor: Some(SecondFactor::CalledCode),
        },
        T0.plus(40),
    )
    .await
    .unwrap();
    assert!(
        db.session_by_token("hash-1").await.unwrap().is_none(),
        "the old token is dead"
    );
    let rotated = db.session_by_token("hash-1b").await.unwrap().unwrap().0;
    assert_eq!(rotated.id, session_id("s1"));
    assert_eq!(rotated.reauthenticated_until, Some(T0.plus(600)));
    assert_eq!(rotated.second_factor, Some(SecondFactor::CalledCode));
    db.rotate_session(
        &session_id("s1"),
        "hash-1c",
        &SessionChange {
            state: SessionState::SignedIn,
            reauthenticated_until: None,
            pending_until: None,
            second_factor: None,
        },
        T0.plus(41),
    )
    .await
    .unwrap();
    let again = db.session_by_token("hash-1c").await.unwrap().unwrap().0;
    assert_eq!(
        again.second_factor,
        Some(SecondFactor::CalledCode),
        "a later rotation (a re-entered password) keeps what the sign-in proved"
    );

    let listed: Vec<String> = db
        .sessions_of(&person_id("o1"))
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id.to_string())
        .collect();
    assert_eq!(listed, ["s1", "s2"], "most recently seen first");

    assert!(
        !db.delete_session(&person_id("o2"), &session_id("s1"))
            .await
            .unwrap(),
        "nobody ends another person's session"
    );
    assert_eq!(
        db.delete_sessions_of(&person_id("o1"), Some(&session_id("s1")))
            .await
            .unwrap(),
        1
    );
    assert!(db.session_by_token("hash-2").await.unwrap().is_none());
    assert!(
        db.delete_session(&person_id("o1"), &session_id("s1"))
            .await
            .unwrap()
    );
    assert!(db.sessions_of(&person_id("o1")).await.unwrap().is_empty());
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

async fn four_windows_count_in_one_statement_each_on_its_own_clock(db: Db) {
    db.bump_window("b", T0, 100).await.unwrap();
    db.bump_window("b", T0, 100).await.unwrap();
    db.bump_window("d", T0, 10).await.unwrap();
    let counted = db
        .bump_windows(
            &[("a", 3600), ("b", 100), ("c", 60), ("d", 10)],
            T0.plus(10),
        )
        .await
        .unwrap();
    let got: Vec<(i64, Timestamp)> = counted.iter().map(|w| (w.count, w.started_at)).collect();
    assert_eq!(
        got,
        vec![
            (1, T0.plus(10)),
            (3, T0),
            (1, T0.plus(10)),
            (1, T0.plus(10)),
        ],
        "answers in the order asked; d's window was over, so it started again"
    );
    let again = db
        .bump_windows(
            &[("a", 3600), ("b", 100), ("c", 60), ("d", 10)],
            T0.plus(70),
        )
        .await
        .unwrap();
    let counts: Vec<i64> = again.iter().map(|w| w.count).collect();
    assert_eq!(
        counts,
        vec![2, 4, 1, 1],
        "c's minute and d's ten seconds ran out"
    );
    let d = db.window("d").await.unwrap().unwrap();
    assert_eq!(d.started_at, T0.plus(70));
}

/// Sends (counting four windows) and right codes (giving two of them back) from many sign-ins at
/// once all touch the same address and number-range rows: on PostgreSQL, two statements that
/// lock those rows in opposite orders deadlock, and the database aborts one.
async fn counting_and_giving_back_the_same_windows_at_once_never_deadlocks(db: Db) {
    let tasks: Vec<_> = (0..8)
        .map(|t| {
            let db = db.clone();
            tokio::spawn(async move {
                for i in 0..150 {
                    let person = format!("send-person:{t}-{i}");
                    let number = format!("send-number:{t}-{i}");
                    db.bump_windows(
                        &[
                            (person.as_str(), 3600),
                            (number.as_str(), 86_400),
                            ("unverified-ip:127.0.0.1", 3600),
                            ("unverified-prefix:+1212200", 86_400),
                        ],
                        T0,
                    )
                    .await?;
                    db.unbump_windows(["unverified-ip:127.0.0.1", "unverified-prefix:+1212200"], 1)
                        .await?;
                }
                Ok::<(), latch_app::ports::StoreError>(())
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().expect("no statement fails");
    }
    assert_eq!(
        db.window("unverified-ip:127.0.0.1")
            .await
            .unwrap()
            .unwrap()
            .count,
        0,
        "every send was given back"
    );
}

fn event(practice: &str, at: Timestamp, kind: &'static str, subject: &str) -> NewAuditEvent {
    NewAuditEvent {
        practice_id: practice_id(practice),
        at,
        kind,
        actor_id: Some(person_id("o1")),
        subject_id: Some(person_id(subject)),
        ip: Some("192.0.2.7".into()),
        user_agent: Some("test".into()),
        detail: "detail".into(),
    }
}

/// A unit of work writes its events in one statement: they read back in the order it gave them.
async fn audit_events_of_one_call_keep_their_order(db: Db) {
    practice_with_owner(&db, "p1", "o1", "a@example.com").await;
    db.append_audit(&[]).await.unwrap();
    let kinds = ["code.verified", "sign_in.succeeded", "device.remembered"];
    let events: Vec<_> = kinds
        .iter()
        .map(|kind| event("p1", T0, kind, "o1"))
        .collect();
    db.append_audit(&events).await.unwrap();
    let read = db
        .audit_events(
            &practice_id("p1"),
            &AuditQuery {
                limit: 50,
                ..AuditQuery::default()
            },
        )
        .await
        .unwrap();
    let newest_first: Vec<&str> = read.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        newest_first,
        ["device.remembered", "sign_in.succeeded", "code.verified"]
    );
    assert_eq!(read[0].subject_id, Some(person_id("o1")));
}

async fn audit_events_are_read_newest_first_with_filters(db: Db) {
    practice_with_owner(&db, "p1", "o1", "a@example.com").await;
    practice_with_owner(&db, "p2", "o2", "b@example.com").await;
    for i in 0..5 {
        db.append_audit(&[event(
            "p1",
            T0.plus(i),
            "sign_in.succeeded",
            if i % 2 == 0 { "o1" } else { "s1" },
        )])
        .await
        .unwrap();
    }
    db.append_audit(&[event("p1", T0.plus(10), "password.changed", "o1")])
        .await
        .unwrap();
    db.append_audit(&[event("p2", T0.plus(11), "sign_in.failed", "o2")])
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
    let all = db
        .audit_events(&practice_id("p1"), &q(|_| {}))
        .await
        .unwrap();
    assert_eq!(all.len(), 6, "another practice's events are not here");
    assert!(all.windows(2).all(|w| w[0].id > w[1].id), "newest first");
    assert_eq!(all[0].kind, "password.changed");

    let page = db
        .audit_events(
            &practice_id("p1"),
            &AuditQuery {
                limit: 2,
                ..q(|_| {})
            },
        )
        .await
        .unwrap();
    let next = db
        .audit_events(
            &practice_id("p1"),
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
        .audit_events(
            &practice_id("p1"),
            &q(|q| q.subject_id = Some(person_id("s1"))),
        )
        .await
        .unwrap();
    assert_eq!(of_s1.len(), 2);
    let changed = db
        .audit_events(
            &practice_id("p1"),
            &q(|q| q.kind = Some("password.changed".into())),
        )
        .await
        .unwrap();
    assert_eq!(changed.len(), 1);
    let window = db
        .audit_events(
            &practice_id("p1"),
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
        time_zone: PracticeZone::parse("America/Los_Angeles").unwrap(),
        methods_allowed: vec![MethodKind::Passkey, MethodKind::Totp],
    };
    db.update_security(&practice_id("p1"), &settings)
        .await
        .unwrap();
    assert_eq!(
        db.practice(&practice_id("p1"))
            .await
            .unwrap()
            .unwrap()
            .security,
        settings
    );
    assert_eq!(db.practices().await.unwrap().len(), 1);
}

async fn a_practice_from_before_time_zones_reads_in_its_countrys_zone(db: Db) {
    let mut canadian = practice("p1");
    canadian.country = "CA".into();
    db.create_practice(&canadian, &person("o1", "p1", "o@example.com", Role::Owner))
        .await
        .unwrap();
    latch_store::testing::forget_time_zone(&db, &practice_id("p1")).await;
    let read = db.practice(&practice_id("p1")).await.unwrap().unwrap();
    assert_eq!(read.security.time_zone.name(), "America/Toronto");
}

async fn a_migrated_database_answers_ping(db: Db) {
    db.ping().await.unwrap();
    db.migrate().await.unwrap();
    db.ping().await.unwrap();
}

async fn two_factor_settings_failures_and_locks_round_trip(db: Db) {
    practice_with_owner(&db, "p1", "o1", "a@example.com").await;
    let setting = TwoFactorSetting {
        channel: Channel::Voice,
        phone: PhoneNumber::from_stored("+14155552671").unwrap(),
        extension: Some("204".into()),
    };
    db.set_two_factor(&person_id("o1"), Some(&setting), T0)
        .await
        .unwrap();
    let p = o1(&db).await;
    assert_eq!(p.two_factor, Some(setting));
    assert_eq!(p.phone_times.added_at, Some(T0));
    assert!(p.has_two_factor());
    latch_store::testing::set_code_failures(&db, &person_id("o1"), 2).await;
    db.set_two_factor_lock(&person_id("o1"), Some(T0.plus(900)), false)
        .await
        .unwrap();
    let p = o1(&db).await;
    assert_eq!(
        (p.code_failures, p.lock),
        (
            2,
            LockState {
                locked_until: Some(T0.seconds() + 900),
                locked_for_good: false
            }
        )
    );
    db.set_two_factor_lock(&person_id("o1"), None, true)
        .await
        .unwrap();
    assert!(o1(&db).await.lock.locked_for_good);
    db.clear_code_failures(&person_id("o1")).await.unwrap();
    let p = o1(&db).await;
    assert_eq!((p.code_failures, p.lock), (0, LockState::default()));
    db.set_two_factor(&person_id("o1"), None, T0).await.unwrap();
    let p = o1(&db).await;
    assert_eq!((p.two_factor, p.phone_times.added_at), (None, None));
}

fn app_method(id: &str, person: &str) -> MethodRecord {
    MethodRecord {
        id: id.into(),
        person_id: person_id(person),
        kind: MethodKind::Totp,
        label: "Authenticator app".into(),
        sealed_secret: "sealed".into(),
        last_step: Some(100),
        credential_id: None,
        created_at: T0,
        last_used_at: None,
    }
}

async fn an_answer_uses_up_its_step_or_code_once_and_counts_the_rest(db: Db) {
    practice_with_owner(&db, "p1", "o1", "a@example.com").await;
    let o = person_id("o1");
    db.insert_method(&app_method("m1", "o1")).await.unwrap();
    let p = o1(&db).await;
    assert!(p.other_methods.totp && p.has_two_factor());
    let judge = |consume| db.judge_answer(&o, consume, true, T0, lock_after_failure);
    let step = |step| Consume::AppStep {
        method_id: "m1",
        step,
    };
    // A step at or before the last one used is a wrong answer.
    assert_eq!(
        judge(step(100)).await.unwrap(),
        AnswerJudgement::Wrong {
            failures: 1,
            lock: LockAfterFailure::None
        }
    );
    assert_eq!(judge(step(101)).await.unwrap(), AnswerJudgement::Accepted);
    assert_eq!(
        o1(&db).await.code_failures,
        0,
        "a right answer clears failures"
    );
    assert_eq!(o1(&db).await.last_sign_in_at, Some(T0));
    assert!(matches!(
        judge(step(101)).await.unwrap(),
        AnswerJudgement::Wrong { failures: 1, .. }
    ));
    let hashes: Vec<String> = (0..10).map(|i| format!("hash-{i}")).collect();
    db.replace_recovery_codes(&o, &hashes, T0).await.unwrap();
    assert_eq!(db.recovery_codes_left(&o).await.unwrap(), 10);
    let code = Consume::RecoveryCode {
        code_hash: "hash-3",
    };
    assert_eq!(judge(code).await.unwrap(), AnswerJudgement::Accepted);
    assert!(matches!(
        judge(code).await.unwrap(),
        AnswerJudgement::Wrong { .. }
    ));
    assert_eq!(db.recovery_codes_left(&o).await.unwrap(), 9);
    let in_practice = db
        .recovery_codes_left_in_practice(&practice_id("p1"))
        .await
        .unwrap();
    assert_eq!(in_practice, vec![(o.clone(), 9)]);
    // While the step is locked nothing is used, not even a right answer.
    db.set_two_factor_lock(&o, None, true).await.unwrap();
    let code = Consume::RecoveryCode {
        code_hash: "hash-4",
    };
    assert!(matches!(
        judge(code).await.unwrap(),
        AnswerJudgement::Locked(_)
    ));
    assert_eq!(db.recovery_codes_left(&o).await.unwrap(), 9);
    db.clear_code_failures(&o).await.unwrap();
    db.delete_methods_of(&o).await.unwrap();
    let p = o1(&db).await;
    assert!(!p.has_two_factor());
    assert_eq!(db.recovery_codes_left(&o).await.unwrap(), 0);
}

async fn an_enrolment_is_kept_with_its_session_and_taken_once(db: Db) {
    practice_with_owner(&db, "p1", "o1", "a@example.com").await;
    db.insert_session(&session("s1", "hash-1", "o1", T0))
        .await
        .unwrap();
    let s1 = session_id("s1");
    db.put_enrolment(&s1, MethodKind::Totp, "first", T0.plus(600))
        .await
        .unwrap();
    db.put_enrolment(&s1, MethodKind::Totp, "second", T0.plus(600))
        .await
        .unwrap();
    assert_eq!(
        db.enrolment(&s1, MethodKind::Totp, T0)
            .await
            .unwrap()
            .as_deref(),
        Some("second")
    );
    assert_eq!(
        db.enrolment(&s1, MethodKind::Totp, T0.plus(600))
            .await
            .unwrap(),
        None
    );
    let take = Consume::Enrolment {
        session_id: &s1,
        kind: MethodKind::Totp,
    };
    let o = person_id("o1");
    let judged = db.judge_answer(&o, take, false, T0, lock_after_failure);
    assert_eq!(judged.await.unwrap(), AnswerJudgement::Accepted);
    let judged = db.judge_answer(&o, take, false, T0, lock_after_failure);
    assert!(matches!(
        judged.await.unwrap(),
        AnswerJudgement::Wrong { .. }
    ));
    assert_eq!(db.enrolment(&s1, MethodKind::Totp, T0).await.unwrap(), None);
}

/// Practice p1's owner o1, signing in with session s1, waits for code c1 ("code-a").
async fn owner_waiting_for_code_a(db: &Db) {
    practice_with_owner(db, "p1", "o1", "a@example.com").await;
    db.insert_session(&session("s1", "hash-1", "o1", T0))
        .await
        .unwrap();
    db.put_challenge(&challenge("c1", "s1", "code-a"))
        .await
        .unwrap();
}

fn challenge(id: &str, session: &str, code_hash: &str) -> Challenge {
    Challenge {
        id: id.into(),
        session_id: session_id(session),
        person_id: person_id("o1"),
        purpose: Purpose::SignIn,
        phone: PhoneNumber::from_stored("+14155552671").unwrap(),
        extension: None,
        channel: Channel::Sms,
        method: Channel::Sms,
        code_hash: code_hash.into(),
        expires_at: T0.plus(600),
        attempts: 0,
        sends: 1,
        last_sent_at: T0,
        created_at: T0,
    }
}

async fn a_challenge_is_replaced_resent_consumed_once_and_counted(db: Db) {
    owner_waiting_for_code_a(&db).await;
    db.put_challenge(&challenge("c2", "s1", "code-b"))
        .await
        .unwrap();
    let c = db
        .challenge(&session_id("s1"), Purpose::SignIn)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (c.id.as_str(), c.code_hash.as_str()),
        ("c2", "code-b"),
        "a new challenge replaces the old"
    );
    assert!(
        db.challenge(&session_id("s1"), Purpose::Setup)
            .await
            .unwrap()
            .is_none()
    );

    assert!(
        !db.resend_challenge(
            "c2",
            "code-c",
            Channel::Voice,
            T0.plus(629),
            T0.plus(29),
            5,
            30
        )
        .await
        .unwrap(),
        "too soon"
    );
    assert!(
        db.resend_challenge(
            "c2",
            "code-c",
            Channel::Voice,
            T0.plus(630),
            T0.plus(30),
            5,
            30
        )
        .await
        .unwrap()
    );
    let c = db
        .challenge(&session_id("s1"), Purpose::SignIn)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (c.sends, c.channel, c.code_hash.as_str()),
        (2, Channel::Voice, "code-c")
    );
    assert_eq!(
        c.method,
        Channel::Sms,
        "a call instead keeps the method chosen"
    );

    let wrong = judge(&db, "c2", T0.plus(40), "code-x").await;
    assert_eq!(
        wrong,
        CodeJudgement::Wrong {
            attempts: 1,
            failures: 1,
            lock: LockAfterFailure::None
        }
    );
    assert_eq!(
        judge(&db, "c2", T0.plus(40), "code-b").await,
        CodeJudgement::Wrong {
            attempts: 2,
            failures: 2,
            lock: LockAfterFailure::None
        },
        "the older code is dead"
    );
    assert_eq!(
        judge(&db, "c2", T0.plus(630), "code-c").await,
        CodeJudgement::Spent,
        "expired"
    );
    db.record_sign_in(&person_id("o1"), T0.plus(7))
        .await
        .unwrap();
    assert_eq!(
        judge_finishing(&db, "c2", T0.plus(40), "code-c", true).await,
        CodeJudgement::Accepted
    );
    assert!(
        db.challenge(&session_id("s1"), Purpose::SignIn)
            .await
            .unwrap()
            .is_none(),
        "a used code is gone"
    );
    let p = o1(&db).await;
    assert_eq!(p.code_failures, 0, "a right code clears the failures");
    assert_eq!(
        (p.previous_sign_in_at, p.last_sign_in_at),
        (Some(T0.plus(7)), Some(T0.plus(40))),
        "the sign-in the code finished is recorded"
    );
    assert_eq!(
        judge(&db, "c2", T0.plus(41), "code-c").await,
        CodeJudgement::Spent,
        "only once, and a used code counts nothing"
    );

    db.put_challenge(&challenge("c3", "s1", "code-d"))
        .await
        .unwrap();
    for n in 1..=5 {
        assert!(
            matches!(judge(&db, "c3", T0.plus(1), "code-x").await, CodeJudgement::Wrong { attempts, .. } if attempts == n)
        );
    }
    assert_eq!(
        judge(&db, "c3", T0.plus(1), "code-d").await,
        CodeJudgement::Spent,
        "five wrong tries end it"
    );

    db.put_challenge(&challenge("c4", "s1", "code-e"))
        .await
        .unwrap();
    assert_eq!(
        judge(&db, "c4", T0.plus(50), "code-e").await,
        CodeJudgement::Accepted
    );
    let p = o1(&db).await;
    assert_eq!(
        p.last_sign_in_at,
        Some(T0.plus(40)),
        "a code that finishes no sign-in records none"
    );
}

/// Judges `typed` against challenge `id` of person o1, with the design's lock schedule, for a
/// person already signed in (a setup or a change).
async fn judge(db: &Db, id: &str, now: Timestamp, typed: &str) -> CodeJudgement {
    judge_finishing(db, id, now, typed, false).await
}

async fn judge_finishing(
    db: &Db,
    id: &str,
    now: Timestamp,
    typed: &str,
    finishes_sign_in: bool,
) -> CodeJudgement {
    db.judge_code(
        id,
        &person_id("o1"),
        finishes_sign_in,
        now,
        5,
        &|stored| stored == typed,
        lock_after_failure,
    )
    .await
    .unwrap()
}

async fn a_lock_is_checked_and_written_where_the_guess_is_counted(db: Db) {
    owner_waiting_for_code_a(&db).await;
    latch_store::testing::set_code_failures(&db, &person_id("o1"), 9).await;
    assert_eq!(
        judge(&db, "c1", T0.plus(1), "code-x").await,
        CodeJudgement::Wrong {
            attempts: 1,
            failures: 10,
            lock: LockAfterFailure::For { seconds: 900 }
        },
        "the tenth wrong code locks"
    );
    let locked = LockState {
        locked_until: Some(T0.seconds() + 901),
        locked_for_good: false,
    };
    for typed in ["code-x", "code-a"] {
        assert_eq!(
            judge(&db, "c1", T0.plus(2), typed).await,
            CodeJudgement::Locked(locked),
            "while locked nothing is judged"
        );
    }
    let c = db
        .challenge(&session_id("s1"), Purpose::SignIn)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.attempts, 1, "a guess that found the lock counted nothing");
    let p = o1(&db).await;
    assert_eq!((p.code_failures, p.lock), (10, locked));
    db.put_challenge(&Challenge {
        expires_at: T0.plus(1500),
        ..challenge("c2", "s1", "code-a")
    })
    .await
    .unwrap();
    assert_eq!(
        judge(&db, "c2", T0.plus(901), "code-a").await,
        CodeJudgement::Accepted,
        "after the lock the right code works"
    );
    let p = o1(&db).await;
    assert_eq!((p.code_failures, p.lock), (0, LockState::default()));
}

async fn remembered_devices_are_found_only_by_their_person_and_until_they_expire(db: Db) {
    practice_with_owner(&db, "p1", "o1", "a@example.com").await;
    practice_with_owner(&db, "p2", "o2", "b@example.com").await;
    let device = |id: &str, hash: &str, person: &str, created: i64| NewDevice {
        id: id.into(),
        token_hash: hash.into(),
        person_id: person_id(person),
        label: "Safari on iOS".into(),
        created_at: T0.plus(created),
        expires_at: T0.plus(created + 1000),
    };
    db.insert_device(&device("d1", "t1", "o1", 0))
        .await
        .unwrap();
    db.insert_device(&device("d2", "t2", "o1", 10))
        .await
        .unwrap();
    assert!(
        db.device(&person_id("o1"), "t1", T0)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        db.device(&person_id("o2"), "t1", T0)
            .await
            .unwrap()
            .is_none(),
        "bound to one person"
    );
    assert!(
        db.device(&person_id("o1"), "t1", T0.plus(1000))
            .await
            .unwrap()
            .is_none(),
        "expired"
    );
    db.touch_device("d1", T0.plus(50)).await.unwrap();
    let listed: Vec<String> = db
        .devices_of(&person_id("o1"), T0.plus(20))
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.id)
        .collect();
    assert_eq!(listed, ["d1", "d2"], "most recently used first");
    assert_eq!(
        db.devices_of(&person_id("o1"), T0.plus(1005))
            .await
            .unwrap()
            .len(),
        1,
        "expired ones are not listed"
    );
    assert!(!db.delete_device(&person_id("o2"), "d1").await.unwrap());
    assert!(db.delete_device(&person_id("o1"), "d1").await.unwrap());
    assert_eq!(db.delete_devices_of(&person_id("o1")).await.unwrap(), 1);
}

async fn the_outbox_keeps_messages_newest_first(db: Db) {
    let a = db
        .append_outbox("+14155552671", Channel::Sms, "one", Some("01234567"), T0)
        .await
        .unwrap();
    let b = db
        .append_outbox("+14155552672", Channel::Voice, "two", None, T0.plus(1))
        .await
        .unwrap();
    assert!(b > a);
    let all = db.outbox(None, 10).await.unwrap();
    assert_eq!(
        all.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(),
        ["two", "one"]
    );
    let one = db.outbox(Some("+14155552671"), 10).await.unwrap();
    assert_eq!(one.len(), 1);
    assert_eq!(
        one[0].code.as_deref(),
        Some("01234567"),
        "leading zeros survive"
    );
}

async fn windows_give_back_and_never_go_below_zero(db: Db) {
    for _ in 0..3 {
        db.bump_window("k", T0, 3600).await.unwrap();
    }
    db.bump_window("other", T0, 3600).await.unwrap();
    db.unbump_windows(["k", "other"], 2).await.unwrap();
    assert_eq!(db.window("k").await.unwrap().unwrap().count, 1);
    assert_eq!(db.window("other").await.unwrap().unwrap().count, 0);
    db.bump_window("k", T0, 3600).await.unwrap();
    db.bump_window("k", T0, 3600).await.unwrap();
    db.unbump_windows(["k", "k"], 1).await.unwrap();
    assert_eq!(
        db.window("k").await.unwrap().unwrap().count,
        2,
        "a key named twice gives back once"
    );
    db.unbump_windows(["k", "k"], 5).await.unwrap();
    assert_eq!(db.window("k").await.unwrap().unwrap().count, 0);
    db.unbump_windows(["missing", "missing"], 1).await.unwrap();
}

async fn a_failed_delivery_clears_the_resend_wait(db: Db) {
    owner_waiting_for_code_a(&db).await;
    assert!(
        !db.resend_challenge(
            "c1",
            "code-b",
            Channel::Sms,
            T0.plus(600),
            T0.plus(1),
            5,
            30
        )
        .await
        .unwrap()
    );
    db.clear_resend_wait("c1").await.unwrap();
    assert!(
        db.resend_challenge(
            "c1",
            "code-b",
            Channel::Sms,
            T0.plus(600),
            T0.plus(1),
            5,
            30
        )
        .await
        .unwrap()
    );
}

async fn deliveries_are_remembered_by_provider_id(db: Db) {
    practice_with_owner(&db, "p1", "o1", "a@example.com").await;
    // A provider may report the same id twice: it is remembered once.
    for _ in 0..2 {
        db.record_delivery(
            "SM1",
            &practice_id("p1"),
            &person_id("o1"),
            Channel::Sms,
            T0,
        )
        .await
        .unwrap();
    }
    assert_eq!(
        db.delivery("SM1").await.unwrap(),
        Some((practice_id("p1"), Some(person_id("o1"))))
    );
    assert_eq!(db.delivery("SM2").await.unwrap(), None);
}

async fn device_counts_and_a_lowered_limit_work_per_practice(db: Db) {
    practice_with_owner(&db, "p1", "o1", "a@example.com").await;
    practice_with_owner(&db, "p2", "o2", "b@example.com").await;
    let device = |id: &str, person: &str, created: i64| NewDevice {
        id: id.into(),
        token_hash: format!("hash-{id}"),
        person_id: person_id(person),
        label: "Chrome on Linux".into(),
        created_at: T0.plus(created),
        expires_at: T0.plus(created + 100_000),
    };
    db.insert_device(&device("d1", "o1", 0)).await.unwrap();
    db.insert_device(&device("d2", "o1", 50)).await.unwrap();
    db.insert_device(&device("d3", "o2", 0)).await.unwrap();
    assert_eq!(
        db.device_counts(&practice_id("p1"), T0.plus(60))
            .await
            .unwrap(),
        vec![("o1".to_owned(), 2)]
    );
    assert_eq!(
        db.apply_remember_limit(&practice_id("p1"), 1000, T0.plus(1010))
            .await
            .unwrap(),
        1,
        "remembered 1010 s ago, past a limit of 1000"
    );
    let left = db.devices_of(&person_id("o1"), T0.plus(60)).await.unwrap();
    assert_eq!(
        (left.len(), left[0].expires_at),
        (1, T0.plus(1050)),
        "the younger one expires at its creation plus the limit"
    );
    assert_eq!(
        db.device_counts(&practice_id("p1"), T0.plus(60))
            .await
            .unwrap(),
        vec![("o1".to_owned(), 1)]
    );
    assert_eq!(
        db.device_counts(&practice_id("p2"), T0.plus(60))
            .await
            .unwrap(),
        vec![("o2".to_owned(), 1)],
        "another practice is untouched"
    );
}

async fn a_call_token_is_taken_once_and_not_after_it_expires(db: Db) {
    db.put_call("h1", "12345678", T0.plus(600)).await.unwrap();
    db.put_call("h2", "87654321", T0.plus(600)).await.unwrap();
    assert_eq!(
        db.take_call("h1", T0).await.unwrap().as_deref(),
        Some("12345678")
    );
    assert_eq!(db.take_call("h1", T0).await.unwrap(), None, "once");
    assert_eq!(
        db.take_call("h2", T0.plus(600)).await.unwrap(),
        None,
        "expired"
    );
}

/// The application `app1`, with one address.
async fn application_app1(db: &Db) {
    use latch_app::ports::ApplicationStore;
    db.put_application(&latch_app::records::Application {
        id: "app1".into(),
        name: "Harbor Practice".into(),
        secret_hash: Some("h".into()),
        redirect_uris: vec![latch_domain::application::AppUri::from_stored(
            "https://h.example/cb",
        )],
        post_logout_redirect_uris: vec![],
        backchannel_logout_uri: None,
        created_at: T0,
    })
    .await
    .unwrap();
}

async fn an_authorization_code_is_redeemed_once_whatever_arrives_at_once(db: Db) {
    use latch_app::ports::ApplicationStore;
    use latch_app::records::{AuthorizationCode, Redeemed};
    practice_with_owner(&db, "p1", "o1", "a@example.com").await;
    application_app1(&db).await;
    let code = |hash: &str| AuthorizationCode {
        code_hash: hash.into(),
        application_id: "app1".into(),
        session_id: session_id("s1"),
        person_id: person_id("o1"),
        redirect_uri: "https://h.example/cb".into(),
        scopes: "openid email".into(),
        nonce: Some("n-1".into()),
        code_challenge: None,
        created_at: T0,
        expires_at: T0.plus(60),
    };
    db.put_authorization_code(&code("c1")).await.unwrap();
    db.put_authorization_code(&code("c2")).await.unwrap();

    let at_once: Vec<_> = (0..8)
        .map(|_| {
            let db = db.clone();
            tokio::spawn(async move { db.redeem_authorization_code("c1", T0.plus(1)).await })
        })
        .collect();
    let mut now = 0;
    for redeemed in at_once {
        match redeemed.await.unwrap().unwrap() {
            Redeemed::Now(found) => {
                assert_eq!(found, code("c1"), "everything it is bound to comes back");
                now += 1;
            }
            Redeemed::Before(found) => assert_eq!(found.code_hash, "c1"),
            Redeemed::Not => panic!("the code was there"),
        }
    }
    assert_eq!(now, 1, "one request alone redeems a code");
    assert_eq!(
        db.redeem_authorization_code("c2", T0.plus(60))
            .await
            .unwrap(),
        Redeemed::Not,
        "60 seconds and no more"
    );
    assert_eq!(
        db.redeem_authorization_code("nope", T0).await.unwrap(),
        Redeemed::Not
    );
    assert_eq!(
        db.sweep(T0.plus(61), 10).await.unwrap(),
        2,
        "both codes swept once dead"
    );
}

async fn application_tokens_are_found_by_kind_until_they_expire_and_end_with_their_grant(db: Db) {
    use latch_app::ports::ApplicationStore;
    use latch_app::records::{ApplicationToken, TokenKind};
    practice_with_owner(&db, "p1", "o1", "a@example.com").await;
    application_app1(&db).await;
    let token = |hash: &str, kind, grant: &str, expires_at| ApplicationToken {
        token_hash: hash.into(),
        kind,
        grant_id: grant.into(),
        application_id: "app1".into(),
        session_id: session_id("s1"),
        person_id: person_id("o1"),
        scopes: "openid".into(),
        created_at: T0,
        expires_at,
    };
    for t in [
        token("a1", TokenKind::Access, "g1", T0.plus(600)),
        token("r1", TokenKind::Refresh, "g1", T0.plus(43_200)),
        token("a2", TokenKind::Access, "g2", T0.plus(600)),
    ] {
        db.put_application_token(&t).await.unwrap();
    }
    let found = db
        .application_token("a1", TokenKind::Access, T0)
        .await
        .unwrap();
    assert_eq!(
        found,
        Some(token("a1", TokenKind::Access, "g1", T0.plus(600)))
    );
    assert_eq!(
        db.application_token("a1", TokenKind::Refresh, T0)
            .await
            .unwrap(),
        None,
        "an access token is not a refresh token"
    );
    assert_eq!(
        db.application_token("a1", TokenKind::Access, T0.plus(600))
            .await
            .unwrap(),
        None,
        "10 minutes and no more"
    );
    // What userinfo reads: the access token's scopes with its session and account, at once.
    db.insert_session(&session("s1", "h-s1", "o1", T0))
        .await
        .unwrap();
    let (scopes, found, account) = db
        .access_token_session("a1", T0)
        .await
        .unwrap()
        .expect("the access token's session");
    assert_eq!(
        (
            scopes.as_str(),
            found.id.as_str(),
            account.person.id.as_str()
        ),
        ("openid", "s1", "o1")
    );
    assert!(
        db.access_token_session("r1", T0).await.unwrap().is_none(),
        "a refresh token is no access token"
    );
    assert!(
        db.access_token_session("a1", T0.plus(600))
            .await
            .unwrap()
            .is_none(),
        "10 minutes and no more"
    );
    assert_eq!(db.revoke_grant("g1").await.unwrap(), 2);
    assert_eq!(
        db.application_token("r1", TokenKind::Refresh, T0)
            .await
            .unwrap(),
        None
    );
    assert!(
        db.application_token("a2", TokenKind::Access, T0)
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        db.sweep(T0.plus(601), 10).await.unwrap(),
        1,
        "the expired one swept"
    );
}

async fn sweeping_removes_only_what_ran_out_in_batches(db: Db) {
    practice_with_owner(&db, "p1", "o1", "a@example.com").await;
    let now = T0.plus(13 * 3600);
    db.insert_session(&session("old", "h-old", "o1", T0))
        .await
        .unwrap();
    db.insert_session(&session("live", "h-live", "o1", now.minus(60)))
        .await
        .unwrap();
    db.insert_device(&NewDevice {
        id: "gone".into(),
        token_hash: "t-gone".into(),
        person_id: person_id("o1"),
        label: "x".into(),
        created_at: T0,
        expires_at: now.minus(1),
    })
    .await
    .unwrap();
    db.bump_window("old-window", T0, 60).await.unwrap();
    db.bump_window("live-window", now, 60).await.unwrap();
    db.put_call("old-call", "12345678", now.minus(1))
        .await
        .unwrap();
    // Password failures are forgotten a day after the last one.
    db.add_password_failure("forgotten@example.com", now.minus(86_401))
        .await
        .unwrap();
    db.add_password_failure("recent@example.com", now.minus(86_399))
        .await
        .unwrap();

    let swept = db.sweep(now, 1).await.unwrap();
    assert_eq!(swept, 5, "one of each expired kind per batch");
    assert_eq!(db.sweep(now, 1).await.unwrap(), 0);
    assert!(db.session_by_token("h-old").await.unwrap().is_none());
    assert!(
        db.session_by_token("h-live").await.unwrap().is_some(),
        "a live session stays"
    );
    assert!(db.window("live-window").await.unwrap().is_some());
    assert!(db.window("old-window").await.unwrap().is_none());
    assert!(
        db.password_failures("forgotten@example.com")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        db.password_failures("recent@example.com")
            .await
            .unwrap()
            .is_some()
    );
}

/// Two nodes starting at once and `latch migrate` beside them, on one PostgreSQL: PostgreSQL
/// serialises the migrations with an advisory lock, so all three succeed.
#[tokio::test]
async fn three_concurrent_migrations_on_one_postgresql_all_succeed() {
    let Some(t) = postgres().await else { return };
    let dbs: Vec<Db> = (0..3)
        .map(|_| Db::connect(&t.url, &DbOptions::default()).unwrap())
        .collect();
    let runs: Vec<_> = dbs
        .iter()
        .cloned()
        .map(|db| tokio::spawn(async move { db.migrate().await }))
        .collect();
    for run in runs {
        run.await.unwrap().unwrap();
    }
    for db in &dbs {
        db.ping().await.unwrap();
        db.close().await;
    }
}

/// Two units of work that each wait for a row the other holds: PostgreSQL ends one of them for
/// the deadlock, which comes back as `Contended` (so `Core::in_one_transaction` runs its use
/// case again), and the other commits. SQLite's units take turns and cannot deadlock.
#[tokio::test]
async fn of_two_deadlocked_units_on_postgresql_one_is_contended_and_the_other_commits() {
    let Some(t) = postgres().await else { return };
    let db = open(&t).await;
    practice_with_owner(&db, "p1", "o1", "a@example.com").await;
    for (id, hash) in [("s1", "hash-1"), ("s2", "hash-2")] {
        db.insert_session(&session(id, hash, "o1", T0))
            .await
            .unwrap();
    }
    let first = db.begin().await.unwrap();
    let second = db.begin().await.unwrap();
    first
        .touch_session(&session_id("s1"), T0.plus(1))
        .await
        .unwrap();
    second
        .touch_session(&session_id("s2"), T0.plus(2))
        .await
        .unwrap();
    let cross = |unit: std::sync::Arc<dyn latch_app::ports::UnitOfWork>, id: &'static str| {
        tokio::spawn(async move {
            unit.touch_session(&session_id(id), T0.plus(3)).await?;
            unit.commit().await
        })
    };
    let (a, b) = (cross(first, "s2"), cross(second, "s1"));
    let ended = [a.await.unwrap(), b.await.unwrap()];
    let contended = ended
        .iter()
        .filter(|r| matches!(r, Err(StoreError::Contended(_))))
        .count();
    let committed = ended.iter().filter(|r| r.is_ok()).count();
    assert_eq!((contended, committed), (1, 1), "{ended:?}");
    db.close().await;
}
