//! Test support shared by the store suite and the HTTP tests: a fresh database of either
//! dialect that disappears when the test ends.

use latch_app::ids::{PersonId, PracticeId};
use std::path::PathBuf;

use crate::{Db, DbOptions};

/// Says that a test skipped part of itself, on the real standard error: libtest captures
/// `eprintln!` of passing tests, and a skip must be seen.
pub fn loud_skip(message: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{message}");
}

/// `LATCH_TEST_POSTGRES_URL`, or a loud skip of the PostgreSQL half of a suite (a failure when
/// `LATCH_REQUIRE_POSTGRES=1`, as CI sets it).
pub fn postgres_url() -> Option<String> {
    match std::env::var("LATCH_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("LATCH_REQUIRE_POSTGRES").as_deref() != Ok("1"),
                "LATCH_REQUIRE_POSTGRES=1 but LATCH_TEST_POSTGRES_URL is not set"
            );
            loud_skip(
                "SKIPPED on PostgreSQL: set LATCH_TEST_POSTGRES_URL to run the PostgreSQL half",
            );
            None
        }
    }
}

/// A database made for one test, dropped (PostgreSQL) or deleted (SQLite) with this guard.
pub struct TestDatabase {
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Sqlite(
        #[expect(dead_code, reason = "kept for its Drop, which deletes the folder")]
        tempfile::TempDir,
    ),
    Postgres {
        admin_url: String,
        name: String,
    },
}

impl TestDatabase {
    /// A SQLite file in a temporary folder: `sqlite::memory:` would give each pooled
    /// connection its own empty database.
    pub fn sqlite() -> TestDatabase {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let path: PathBuf = dir.path().join("latch.db");
        TestDatabase {
            url: format!("sqlite://{}", path.display()),
            cleanup: Cleanup::Sqlite(dir),
        }
    }

    /// A new PostgreSQL database beside the one `admin_url` names (whose role may create
    /// databases).
    pub async fn postgres(admin_url: &str) -> TestDatabase {
        let name = format!("latch_t_{}", latch_app::crypto::new_id());
        let admin = Db::connect(admin_url, &DbOptions::default()).expect("the PostgreSQL test URL");
        let Db::Postgres(pool) = &admin else {
            panic!("LATCH_TEST_POSTGRES_URL must be a postgres:// URL")
        };
        sqlx::query(sqlx::AssertSqlSafe(format!("create database {name}")))
            .execute(pool)
            .await
            .expect("create a test database (the role needs CREATEDB)");
        admin.close().await;
        let url = replace_database(admin_url, &name);
        TestDatabase {
            url,
            cleanup: Cleanup::Postgres {
                admin_url: admin_url.to_owned(),
                name,
            },
        }
    }
}

/// The same URL with another database name.
fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Cleanup::Postgres { admin_url, name } = &self.cleanup {
            let (admin_url, name) = (admin_url.clone(), name.clone());
            // Drop runs outside any runtime we may block, so the clean-up gets its own.
            let _ = std::thread::spawn(move || {
                let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    return;
                };
                rt.block_on(async {
                    if let Ok(Db::Postgres(pool)) = Db::connect(&admin_url, &DbOptions::default()) {
                        let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                            "drop database if exists {name} with (force)"
                        )))
                        .execute(&pool)
                        .await;
                        pool.close().await;
                    }
                });
            })
            .join();
        }
    }
}

/// Sets a person's consecutive wrong codes and clears any lock, as if that many wrong codes had
/// been entered long ago: tests of the lock's later steps start from here.
pub async fn set_code_failures(db: &Db, person_id: &PersonId, failures: u32) {
    async fn set(
        db: &Db,
        person_id: &PersonId,
        failures: u32,
    ) -> latch_app::ports::StoreResult<()> {
        crate::on_db!(write db, conn => {
            crate::sql::query(
                "update people set code_failures = $2, two_factor_locked_until = null, \
                 two_factor_locked_for_good = false where id = $1",
            )
            .bind(person_id.as_str())
            .bind(i64::from(failures))
            .execute(conn)
            .await
            .map_err(crate::db_error)?;
        });
        Ok(())
    }
    set(db, person_id, failures)
        .await
        .expect("set the failures");
}

/// Empties a practice's time zone, as in a practice made before the practice had one.
pub async fn forget_time_zone(db: &Db, practice_id: &PracticeId) {
    async fn forget(db: &Db, practice_id: &PracticeId) -> latch_app::ports::StoreResult<()> {
        crate::on_db!(write db, conn => {
            crate::sql::query("update practices set time_zone = '' where id = $1")
                .bind(practice_id.as_str())
                .execute(conn)
                .await
                .map_err(crate::db_error)?;
        });
        Ok(())
    }
    forget(db, practice_id).await.expect("forget the time zone");
}
