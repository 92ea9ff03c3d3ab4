//! Filling a latch database fast, straight through SQL rather than the API: the people of the
//! storm, signed-in sessions, pending sign-ins with known codes (texted, or an app's),
//! remembered browsers, and a large base of other practices. Secrets are made the way latch
//! makes them (its key derivation, its token hash), so the server accepts what the bench hands
//! it.

use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use latch_app::crypto::{Keys, hex, new_token, random_u32, token_hash};
use latch_domain::totp::TotpSecret;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};

pub enum Database {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs `$body` with `$pool` bound to whichever pool `$db` holds: the SQL is the same text.
macro_rules! on_pool {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            Database::Sqlite($pool) => $body,
            Database::Postgres($pool) => $body,
        }
    };
}

/// SQLite's rows 0..$1, for an `insert ... select ... from n`.
macro_rules! numbers {
    () => {
        "with recursive n(i) as (select 0 union all select i + 1 from n where i < $1 - 1) "
    };
}

/// One person of the storm, as the load generator signs them in.
#[derive(Clone)]
pub struct StormPerson {
    pub id: String,
    pub email: String,
    pub phone: String,
}

/// A pending sign-in: its session cookie and the code that finishes it.
pub struct PendingSignIn {
    pub cookie: String,
    pub code: String,
}

const INSERT_SESSION: &str = "insert into sessions \
    (id, token_hash, person_id, state, created_at, last_seen_at, ip, label, pending_until) \
    values ($1, $2, $3, $4, $5, $5, '127.0.0.1', 'latch-bench', $6)";

pub const PASSWORD: &str = "correct horse battery staple 42";

impl Database {
    pub async fn connect(url: &str) -> anyhow::Result<Database> {
        if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)?
                .journal_mode(SqliteJournalMode::Wal)
                .busy_timeout(Duration::from_secs(30))
                // A large page cache for the bulk fill only; latch keeps its own settings.
                .pragma("cache_size", "-1000000");
            let pool = SqlitePoolOptions::new()
                .max_connections(1)
                .connect_with(options)
                .await?;
            Ok(Database::Sqlite(pool))
        } else {
            let pool = PgPoolOptions::new().max_connections(2).connect(url).await?;
            Ok(Database::Postgres(pool))
        }
    }

    pub async fn close(&self) {
        on_pool!(self, pool => pool.close().await)
    }

    /// Leaves the database as a long-running one would be after a bulk fill: statistics
    /// gathered, and on PostgreSQL vacuumed (so autovacuum does not start mid-measurement),
    /// on SQLite with the write-ahead log copied back and emptied.
    pub async fn settle(&self) -> anyhow::Result<()> {
        match self {
            Database::Sqlite(pool) => {
                sqlx::query("pragma wal_checkpoint(truncate)")
                    .execute(pool)
                    .await?;
                sqlx::query("analyze").execute(pool).await?;
            }
            Database::Postgres(pool) => {
                sqlx::query("vacuum analyze").execute(pool).await?;
            }
        }
        Ok(())
    }

    /// The practice's limits stay as the practice set them, except the daily budget of texts
    /// and calls, which would end the storm: it goes to the highest value latch allows.
    pub async fn lift_send_budget(&self, practice_id: &str) -> anyhow::Result<()> {
        on_pool!(self, pool => {
            sqlx::query("update practices set daily_send_budget = 100000 where id = $1")
                .bind(practice_id)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Staff of `practice_id` with two-factor by text, each with a phone number of their own.
    pub async fn storm_people(
        &self,
        practice_id: &str,
        count: usize,
        password_hash: &str,
        now: i64,
    ) -> anyhow::Result<Vec<StormPerson>> {
        let people: Vec<StormPerson> = (0..count)
            .map(|i| StormPerson {
                id: format!("bench-person-{i:07}"),
                email: format!("staff{i}@bench.example"),
                phone: format!("+1212{}", 2_000_000 + i),
            })
            .collect();
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            for (i, p) in people.iter().enumerate() {
                sqlx::query(
                    "insert into people (id, practice_id, email, email_normalized, name, role, password_hash, \
                     two_factor_channel, two_factor_phone, created_at) \
                     values ($1, $2, $3, $3, $4, 'staff', $5, 'sms', $6, $7)",
                )
                .bind(&p.id)
                .bind(practice_id)
                .bind(&p.email)
                .bind(format!("Staff Member {i}"))
                .bind(password_hash)
                .bind(&p.phone)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
        });
        Ok(people)
    }

    /// Signed-in sessions, one per person in turn: their cookies.
    pub async fn signed_in_sessions(
        &self,
        people: &[StormPerson],
        count: usize,
        now: i64,
    ) -> anyhow::Result<Vec<String>> {
        let mut cookies = Vec::with_capacity(count);
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            for i in 0..count {
                let token = new_token();
                sqlx::query(INSERT_SESSION)
                .bind(format!("bench-session-{}", hex(&latch_app::crypto::random_bytes::<8>())))
                .bind(token_hash(token.expose()))
                .bind(&people[i % people.len()].id)
                .bind("signed_in")
                .bind(now)
                .bind(None::<i64>)
                .execute(&mut *tx)
                .await?;
                cookies.push(format!("latch_session={}", token.expose()));
            }
            tx.commit().await?;
        });
        Ok(cookies)
    }

    /// Sign-ins waiting for their code, each with a code of its own kept only as latch keeps
    /// it (the keyed hash), so verifying them needs no hashing and no sending.
    pub async fn pending_sign_ins(
        &self,
        keys: &Keys,
        people: &[StormPerson],
        count: usize,
        now: i64,
    ) -> anyhow::Result<Vec<PendingSignIn>> {
        let mut pending = Vec::with_capacity(count);
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            for i in 0..count {
                let person = &people[i % people.len()];
                let suffix = hex(&latch_app::crypto::random_bytes::<8>());
                let session_id = format!("bench-pending-{suffix}");
                let challenge_id = format!("bench-challenge-{suffix}");
                let token = new_token();
                let code = format!("{:08}", random_u32() % 100_000_000);
                sqlx::query(INSERT_SESSION)
                .bind(&session_id)
                .bind(token_hash(token.expose()))
                .bind(&person.id)
                .bind("two_factor_required")
                .bind(now)
                .bind(Some(now + 30 * 60))
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "insert into challenges (id, session_id, person_id, purpose, phone, channel, code_hash, expires_at, \
                     last_sent_at, created_at) values ($1, $2, $3, 'sign_in', $4, 'sms', $5, $6, $7, $7)",
                )
                .bind(&challenge_id)
                .bind(&session_id)
                .bind(&person.id)
                .bind(&person.phone)
                .bind(keys.code_hash(&challenge_id, &code))
                .bind(now + 10 * 60)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                pending.push(PendingSignIn {
                    cookie: format!("latch_session={}", token.expose()),
                    code,
                });
            }
            tx.commit().await?;
        });
        Ok(pending)
    }

    /// An authenticator app for each person beside their phone, and sign-ins waiting for its
    /// code: one round of everyone at the step of `now`, then one at the next (the step after
    /// stays within the one step of drift latch accepts, and each step works once). The
    /// verifications must run within the 30 seconds after `now`.
    pub async fn app_sign_ins(
        &self,
        keys: &Keys,
        people: &[StormPerson],
        now: i64,
    ) -> anyhow::Result<Vec<PendingSignIn>> {
        let step = latch_domain::totp::step_of(now);
        let mut secrets = Vec::with_capacity(people.len());
        let mut pending = Vec::with_capacity(2 * people.len());
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            for person in people {
                let secret = TotpSecret::from_bytes(latch_app::crypto::random_bytes());
                let method_id = format!("bench-app-{}", hex(&latch_app::crypto::random_bytes::<8>()));
                sqlx::query(
                    "insert into two_factor_methods (id, person_id, kind, label, sealed_secret, created_at) \
                     values ($1, $2, 'totp', 'Authenticator app', $3, $4) \
                     on conflict do nothing",
                )
                .bind(&method_id)
                .bind(&person.id)
                .bind(keys.seal_method_secret(&method_id, secret.as_bytes()))
                .bind(now)
                .execute(&mut *tx)
                .await?;
                secrets.push(secret);
            }
            for round in 0..2 {
                for (person, secret) in people.iter().zip(&secrets) {
                    let token = new_token();
                    sqlx::query(INSERT_SESSION)
                        .bind(format!("bench-app-pending-{}", hex(&latch_app::crypto::random_bytes::<8>())))
                        .bind(token_hash(token.expose()))
                        .bind(&person.id)
                        .bind("two_factor_required")
                        .bind(now)
                        .bind(Some(now + 30 * 60))
                        .execute(&mut *tx)
                        .await?;
                    pending.push(PendingSignIn {
                        cookie: format!("latch_session={}", token.expose()),
                        code: format!("{:06}", secret.code_at(step + round)),
                    });
                }
            }
            tx.commit().await?;
        });
        Ok(pending)
    }

    /// Signed-in sessions with the password re-entered just now, one per person in turn: what
    /// adding a passkey takes.
    pub async fn reauthenticated_sessions(
        &self,
        people: &[StormPerson],
        count: usize,
        now: i64,
    ) -> anyhow::Result<Vec<String>> {
        let cookies = self.signed_in_sessions(people, count, now).await?;
        on_pool!(self, pool => {
            sqlx::query("update sessions set reauthenticated_until = $1 where label = 'latch-bench'")
                .bind(now + 10 * 60)
                .execute(pool)
                .await?;
        });
        Ok(cookies)
    }

    /// A browser remembered for each person: the cookie that browser sends.
    pub async fn remembered_devices(
        &self,
        keys: &Keys,
        people: &[StormPerson],
        now: i64,
    ) -> anyhow::Result<Vec<String>> {
        let mut cookies = Vec::with_capacity(people.len());
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            for person in people {
                let token = new_token();
                sqlx::query(
                    "insert into remembered_devices (id, token_hash, person_id, label, created_at, last_used_at, expires_at) \
                     values ($1, $2, $3, 'latch-bench', $4, $4, $5)",
                )
                .bind(format!("bench-device-{}", hex(&latch_app::crypto::random_bytes::<8>())))
                .bind(token_hash(token.expose()))
                .bind(&person.id)
                .bind(now)
                .bind(now + 365 * 86_400)
                .execute(&mut *tx)
                .await?;
                cookies.push(format!(
                    "latch_device={}~{}",
                    keys.device_tag(&latch_app::PersonId::from_stored(person.id.as_str())),
                    token.expose()
                ));
            }
            tx.commit().await?;
        });
        Ok(cookies)
    }

    /// Other practices of 100 people each, every person with two-factor on, and `devices`
    /// remembered browsers spread over them: generated inside the database, in one statement
    /// per table.
    pub async fn large_base(
        &self,
        people: u64,
        devices: u64,
        password_hash: &str,
        now: i64,
    ) -> anyhow::Result<()> {
        let practices = people.div_ceil(100);
        let people = i64::try_from(people)?;
        let devices = i64::try_from(devices)?;
        let practices = i64::try_from(practices)?;
        let year = 365 * 86_400_i64;
        match self {
            Database::Sqlite(pool) => {
                sqlx::query(concat!(
                    numbers!(),
                    "insert into practices (id, name, country, allowed_countries, created_at) \
                     select 'large-practice-' || i, 'Practice ' || i, 'US', 'US', $2 from n"
                ))
                .bind(practices)
                .bind(now)
                .execute(pool)
                .await
                .context("fill practices")?;
                sqlx::query(concat!(
                    numbers!(),
                    "insert into people (id, practice_id, email, email_normalized, name, role, password_hash, \
                     two_factor_channel, two_factor_phone, last_sign_in_at, created_at) \
                     select 'large-person-' || i, 'large-practice-' || (i / 100), 'person' || i || '@large.example', \
                     'person' || i || '@large.example', 'Person ' || i, \
                     case when i % 10 = 0 then 'staff' else 'client' end, $2, 'sms', \
                     '+1213' || (2000000 + i), $3, $3 from n"
                ))
                .bind(people)
                .bind(password_hash)
                .bind(now)
                .execute(pool)
                .await
                .context("fill people")?;
                sqlx::query(concat!(
                    numbers!(),
                    "insert into remembered_devices (id, token_hash, person_id, label, created_at, last_used_at, expires_at) \
                     select 'large-device-' || i, lower(hex(randomblob(32))), 'large-person-' || (i % $2), \
                     'Chrome on Windows', $3, $3, $3 + $4 - (i % 300) * 86400 from n"
                ))
                .bind(devices)
                .bind(people)
                .bind(now)
                .bind(year)
                .execute(pool)
                .await
                .context("fill remembered devices")?;
            }
            Database::Postgres(pool) => {
                sqlx::query(
                    "insert into practices (id, name, country, allowed_countries, created_at) \
                     select 'large-practice-' || i, 'Practice ' || i, 'US', 'US', $2 from generate_series(0, $1 - 1) i",
                )
                .bind(practices)
                .bind(now)
                .execute(pool)
                .await
                .context("fill practices")?;
                sqlx::query(
                    "insert into people (id, practice_id, email, email_normalized, name, role, password_hash, \
                     two_factor_channel, two_factor_phone, last_sign_in_at, created_at) \
                     select 'large-person-' || i, 'large-practice-' || (i / 100), 'person' || i || '@large.example', \
                     'person' || i || '@large.example', 'Person ' || i, \
                     case when i % 10 = 0 then 'staff' else 'client' end, $2, 'sms', \
                     '+1213' || (2000000 + i), $3, $3 from generate_series(0, $1 - 1) i",
                )
                .bind(people)
                .bind(password_hash)
                .bind(now)
                .execute(pool)
                .await
                .context("fill people")?;
                sqlx::query(
                    "insert into remembered_devices (id, token_hash, person_id, label, created_at, last_used_at, expires_at) \
                     select 'large-device-' || i, encode(sha256(('large-device-' || i)::bytea), 'hex'), \
                     'large-person-' || (i % $2), 'Chrome on Windows', $3, $3, $3 + $4 - (i % 300) * 86400 \
                     from generate_series(0, $1 - 1) i",
                )
                .bind(devices)
                .bind(people)
                .bind(now)
                .bind(year)
                .execute(pool)
                .await
                .context("fill remembered devices")?;
            }
        }
        self.settle().await
    }
}
