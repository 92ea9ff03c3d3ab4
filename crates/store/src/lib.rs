//! latch's store: every port of `latch-app` on SQLite and on PostgreSQL, running one SQL text
//! on either pool wherever the dialects agree.
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use latch_app::ports::{Conflict, Store, StoreError, StoreResult, UnitOfWork};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteJournalMode};
use sqlx::{Connection, Postgres};
use tokio::sync::{Mutex, OwnedMappedMutexGuard, OwnedMutexGuard, OwnedSemaphorePermit, Semaphore};

use crate::sql::{Conn, SqliteConn, Tx};

mod applications;
mod audit;
mod challenges;
mod devices;
mod installation;
mod invitations;
mod mail;
mod methods;
mod outbox;
mod people;
mod practices;
mod rows;
mod sessions;
mod sql;
mod sweep;
#[cfg(feature = "testing")]
pub mod testing;
mod throttle;

/// One database, either dialect: its pool, or one unit of work's transaction on it. Each
/// method runs the same SQL on whichever this is.
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqliteWriter, SqliteReaders),
    Postgres(PgPool),
    SqliteWork(Arc<Work<WriterTurn>>),
    PostgresWork(Arc<Work<sqlx::Transaction<'static, Postgres>>>),
}

/// A SQLite database file and how latch opens it.
struct SqliteFile {
    path: PathBuf,
    /// For sqlx, which runs the migrations.
    migrating: SqliteConnectOptions,
}

impl SqliteFile {
    fn open(&self, pragmas: &str) -> StoreResult<SqliteConn> {
        SqliteConn::open(&self.path, pragmas).map_err(db_error)
    }
}

/// SQLite has one writer at a time, so latch writes through one connection, held here: writers
/// take turns on it at once, in the process, where writers that found the database's lock
/// taken would poll for it, sleeping a millisecond and more each time. Being the only writer,
/// that connection also keeps its page cache, which another connection's write would have made
/// it read again. Reads use the connections beside it.
#[derive(Clone)]
pub struct SqliteWriter {
    connection: Arc<Mutex<Option<SqliteConn>>>,
    file: Arc<SqliteFile>,
    wait: Duration,
}

impl std::fmt::Debug for SqliteWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SqliteWriter")
    }
}

impl SqliteWriter {
    fn new(file: Arc<SqliteFile>, wait: Duration) -> Self {
        SqliteWriter {
            connection: Arc::new(Mutex::new(None)),
            file,
            wait,
        }
    }

    /// The writer's turn, after the writers before it, waiting as long as a pool would; the
    /// first turn opens the connection (and a turn after a failed open tries again).
    pub(crate) async fn turn(&self) -> StoreResult<WriterTurn> {
        let mut held = tokio::time::timeout(self.wait, Arc::clone(&self.connection).lock_owned())
            .await
            .map_err(|_| StoreError::Unavailable("SQLite's writer stayed busy".into()))?;
        if held.is_none() {
            let pragmas = format!("pragma wal_autocheckpoint = {WRITER_CHECKPOINT_PAGES};");
            *held = Some(self.file.open(&pragmas)?);
        }
        OwnedMutexGuard::try_map(held, Option::as_mut)
            .map(WriterTurn)
            .map_err(|_| StoreError::Other("SQLite's writer did not open".into()))
    }

    /// Open connections and how many of them are idle.
    fn status(&self) -> (u32, u32) {
        match self.connection.try_lock() {
            Ok(held) => (u32::from(held.is_some()), u32::from(held.is_some())),
            Err(_) => (1, 0),
        }
    }

    async fn close(&self) {
        // Dropping the connection closes it, which ends the process's use of the file.
        self.connection.lock().await.take();
    }
}

/// The SQLite writer, held by one writer until this drops.
pub struct WriterTurn(OwnedMappedMutexGuard<Option<SqliteConn>, SqliteConn>);

impl std::ops::Deref for WriterTurn {
    type Target = SqliteConn;

    fn deref(&self) -> &SqliteConn {
        &self.0
    }
}

impl std::ops::DerefMut for WriterTurn {
    fn deref_mut(&mut self) -> &mut SqliteConn {
        &mut self.0
    }
}

impl Drop for WriterTurn {
    /// A turn that ends inside a transaction (a unit of work dropped uncommitted, a write whose
    /// client went away) undoes it before the next turn.
    fn drop(&mut self) {
        self.0.rollback_all();
    }
}

/// SQLite's connections for reading, beside the writer, as many as the pool size allows; each
/// opened when first needed and kept.
#[derive(Clone)]
pub struct SqliteReaders {
    idle: Arc<std::sync::Mutex<Vec<SqliteConn>>>,
    permits: Arc<Semaphore>,
    size: u32,
    file: Arc<SqliteFile>,
    wait: Duration,
}

impl std::fmt::Debug for SqliteReaders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SqliteReaders")
    }
}

impl SqliteReaders {
    pub(crate) async fn acquire(&self) -> StoreResult<Reader> {
        let permit = tokio::time::timeout(self.wait, Arc::clone(&self.permits).acquire_owned())
            .await
            .map_err(|_| StoreError::Unavailable("every SQLite reader stayed busy".into()))?
            .map_err(|_| StoreError::Unavailable("the database is closed".into()))?;
        let kept = self.idle().pop();
        let connection = match kept {
            Some(connection) => connection,
            None => self.file.open("")?,
        };
        Ok(Reader {
            connection: Some(connection),
            readers: self.clone(),
            _permit: permit,
        })
    }

    fn idle(&self) -> std::sync::MutexGuard<'_, Vec<SqliteConn>> {
        // The list is only pushed to and popped from: a panic elsewhere cannot leave it torn.
        self.idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Open connections and how many of them are idle.
    fn status(&self) -> (u32, u32) {
        let idle = u32::try_from(self.idle().len()).unwrap_or(u32::MAX);
        let busy = self.size - u32::try_from(self.permits.available_permits()).unwrap_or(0);
        (idle + busy, idle)
    }

    fn close(&self) {
        self.permits.close();
        self.idle().clear();
    }
}

/// A reading connection, back among the idle ones when this drops.
pub struct Reader {
    connection: Option<SqliteConn>,
    readers: SqliteReaders,
    _permit: OwnedSemaphorePermit,
}

impl std::ops::Deref for Reader {
    type Target = SqliteConn;

    fn deref(&self) -> &SqliteConn {
        self.connection
            .as_ref()
            .expect("a reader holds its connection until it drops")
    }
}

impl std::ops::DerefMut for Reader {
    fn deref_mut(&mut self) -> &mut SqliteConn {
        self.connection
            .as_mut()
            .expect("a reader holds its connection until it drops")
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        // Readers never begin a transaction (every `begin_write` is on the writer): the
        // connection is as it was taken.
        if let Some(connection) = self.connection.take()
            && !self.readers.permits.is_closed()
        {
            self.readers.idle().push(connection);
        }
    }
}

/// One unit of work: a transaction that every port's statements run in until it commits.
/// Dropped uncommitted, it rolls back.
pub struct Work<Held> {
    held: Mutex<Option<Held>>,
    /// The database it began on.
    home: Db,
}

impl<Held> std::fmt::Debug for Work<Held> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Work")
    }
}

/// Runs `$body` with `$conn` bound to a connection of whichever dialect `$db` is: one taken
/// from the pool for this call, or the unit of work's own. `write` outside a unit of work
/// takes SQLite's writer, so a lone write waits its turn behind a unit, never polling for the
/// lock the unit holds.
macro_rules! on_db {
    (write $db:expr, $conn:ident => $body:expr) => {
        $crate::on_db!(@ $db, $conn, writer, _readers => writer.turn().await?, $body)
    };
    ($db:expr, $conn:ident => $body:expr) => {
        $crate::on_db!(@ $db, $conn, _writer, readers => readers.acquire().await?, $body)
    };
    (@ $db:expr, $conn:ident, $writer:ident, $readers:ident => $sqlite:expr, $body:expr) => {
        match $db {
            $crate::Db::Sqlite($writer, $readers) => {
                let mut taken = $sqlite;
                let $conn = &mut *taken;
                $body
            }
            $crate::Db::Postgres(pool) => {
                let mut taken = pool.acquire().await.map_err($crate::db_error)?;
                let $conn = &mut *taken;
                $body
            }
            $crate::Db::SqliteWork(work) => {
                let mut tx = work.held.lock().await;
                let $conn = $crate::in_work(&mut tx)?;
                $body
            }
            $crate::Db::PostgresWork(work) => {
                let mut tx = work.held.lock().await;
                let $conn = $crate::in_work(&mut tx)?;
                $body
            }
        }
    };
}
pub(crate) use on_db;

/// The connection of a unit of work that has not ended.
pub(crate) fn in_work<Held: std::ops::DerefMut>(
    held: &mut Option<Held>,
) -> StoreResult<&mut Held::Target> {
    held.as_deref_mut()
        .ok_or_else(|| StoreError::Other("the unit of work has ended".into()))
}

/// What a checkpoint found in SQLite's write-ahead log and copied into the database.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Checkpoint {
    pub log_pages: i64,
    pub copied_pages: i64,
}

/// How to reach the database.
#[derive(Debug, Clone)]
pub struct DbOptions {
    /// How long a request waits for a connection before answering 503.
    pub acquire_timeout: Duration,
    /// Connections in the pool.
    pub pool_size: u32,
    /// Longest a single statement may run (PostgreSQL).
    pub statement_timeout: Duration,
}

impl Default for DbOptions {
    fn default() -> Self {
        DbOptions {
            acquire_timeout: Duration::from_secs(2),
            pool_size: 10,
            statement_timeout: Duration::from_secs(5),
        }
    }
}

/// Pages SQLite's write-ahead log may reach before the writer copies it back into the database
/// itself, inside its turn, with the checkpoint's writes and flushes to disk: SQLite's default
/// is 1,000, which a busy node reaches several times a second. Kept short instead by
/// [`Db::checkpoint`] off the writer's turn, this is the backstop for when that falls behind or
/// is not running (the console's commands).
const WRITER_CHECKPOINT_PAGES: u32 = 10_000;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl Db {
    /// Connects lazily: latch starts even while the database is down, and answers 503 until
    /// it returns.
    pub fn connect(url: &str, options: &DbOptions) -> StoreResult<Db> {
        if url.starts_with("sqlite:") {
            let migrating = SqliteConnectOptions::from_str(url)
                .map_err(|e| StoreError::Other(format!("bad SQLite URL: {e}").into()))?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .busy_timeout(Duration::from_secs(5))
                .foreign_keys(true);
            let file = Arc::new(SqliteFile {
                path: migrating.get_filename().to_owned(),
                migrating,
            });
            let size = options.pool_size.max(1);
            let readers = SqliteReaders {
                idle: Arc::default(),
                permits: Arc::new(Semaphore::new(size as usize)),
                size,
                file: Arc::clone(&file),
                wait: options.acquire_timeout,
            };
            Ok(Db::Sqlite(
                SqliteWriter::new(file, options.acquire_timeout),
                readers,
            ))
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let timeout = format!("{}", options.statement_timeout.as_millis());
            let connect = PgConnectOptions::from_str(url)
                .map_err(|e| StoreError::Other(format!("bad PostgreSQL URL: {e}").into()))?
                .application_name("latch")
                .options([("statement_timeout", timeout.as_str())]);
            // A connection used in the last second is all but certainly alive; one idle
            // longer (perhaps across a restart of PostgreSQL) is pinged before it is given out.
            let pool = PgPoolOptions::new()
                .test_before_acquire(false)
                .before_acquire(|conn, idle| {
                    Box::pin(async move {
                        if idle.idle_for >= Duration::from_secs(1) {
                            conn.ping().await?;
                        }
                        Ok(true)
                    })
                })
                .max_connections(options.pool_size.max(1))
                .acquire_timeout(options.acquire_timeout)
                .connect_lazy_with(connect);
            Ok(Db::Postgres(pool))
        } else {
            Err(StoreError::Other(
                "the database URL must start with sqlite:// or postgres://".into(),
            ))
        }
    }

    /// Applies pending migrations. PostgreSQL serialises concurrent runs with an advisory lock,
    /// so several nodes may start at once.
    pub async fn migrate(&self) -> StoreResult<()> {
        match self {
            Db::Sqlite(writer, _) => {
                // sqlx migrates, on a connection of its own, in the writer's turn.
                let _turn = writer.turn().await?;
                let mut migrating = SqliteConnection::connect_with(&writer.file.migrating)
                    .await
                    .map_err(db_error)?;
                let migrated = SQLITE_MIGRATIONS
                    .run_direct(None, &mut migrating, false)
                    .await;
                migrating.close().await.ok();
                migrated
            }
            Db::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await,
            Db::SqliteWork(_) | Db::PostgresWork(_) => {
                return Err(StoreError::Other(
                    "migrations run outside a unit of work".into(),
                ));
            }
        }
        .map_err(|e| match e {
            sqlx::migrate::MigrateError::Execute(e) => db_error(e),
            other => StoreError::Other(other.into()),
        })
    }

    /// SQLite: copies the write-ahead log back into the database on a connection of its own,
    /// so a checkpoint's writes and flushes to disk happen beside the writer, not in its turn.
    /// Passive: it copies what no reader still needs and waits for nobody; the log starts over
    /// once it is all copied. Nothing to do on PostgreSQL.
    pub async fn checkpoint(&self) -> StoreResult<Checkpoint> {
        let Db::Sqlite(_, readers) = self else {
            return Ok(Checkpoint::default());
        };
        let reader = readers.acquire().await?;
        // Its copying and flushing take milliseconds: off the async workers.
        let (reader, checkpoint) = tokio::task::spawn_blocking(move || {
            let checkpoint = reader.checkpoint();
            (reader, checkpoint)
        })
        .await
        .map_err(|e| StoreError::Other(e.into()))?;
        drop(reader);
        let (log_pages, copied_pages) = checkpoint.map_err(db_error)?;
        Ok(Checkpoint {
            log_pages,
            copied_pages,
        })
    }

    /// Names of the embedded migrations of each dialect, for the test that they match.
    pub fn migration_names() -> (Vec<String>, Vec<String>) {
        let names = |m: &sqlx::migrate::Migrator| {
            m.iter()
                .map(|m| format!("{}_{}", m.version, m.description))
                .collect()
        };
        (names(&SQLITE_MIGRATIONS), names(&POSTGRES_MIGRATIONS))
    }

    pub fn dialect(&self) -> &'static str {
        match self {
            Db::Sqlite(..) | Db::SqliteWork(_) => "sqlite",
            Db::Postgres(_) | Db::PostgresWork(_) => "postgres",
        }
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite(writer, readers) => {
                writer.close().await;
                readers.close();
            }
            Db::Postgres(pool) => pool.close().await,
            Db::SqliteWork(work) => Box::pin(work.home.close()).await,
            Db::PostgresWork(work) => Box::pin(work.home.close()).await,
        }
    }
}

#[async_trait]
impl Store for Db {
    fn pool_status(&self) -> (u32, u32) {
        fn status<DB: sqlx::Database>(pool: &sqlx::Pool<DB>) -> (u32, u32) {
            (
                pool.size(),
                u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
            )
        }
        match self {
            Db::Sqlite(writer, readers) => {
                let (open, idle) = readers.status();
                let (writing, writer_idle) = writer.status();
                (open + writing, idle + writer_idle)
            }
            Db::Postgres(pool) => status(pool),
            Db::SqliteWork(work) => work.home.pool_status(),
            Db::PostgresWork(work) => work.home.pool_status(),
        }
    }

    /// SQLite writes from the start (`begin immediate`, on the writer, after the process's other
    /// writers), so a work that reads and then writes never fails to upgrade its lock.
    async fn begin(&self) -> StoreResult<Arc<dyn UnitOfWork>> {
        let db = match self {
            Db::Sqlite(writer, _) => {
                let mut turn = writer.turn().await?;
                turn.begin().await.map_err(db_error)?;
                Db::SqliteWork(Arc::new(Work {
                    held: Mutex::new(Some(turn)),
                    home: self.clone(),
                }))
            }
            Db::Postgres(pool) => {
                let tx = pool.begin().await.map_err(db_error)?;
                Db::PostgresWork(Arc::new(Work {
                    held: Mutex::new(Some(tx)),
                    home: self.clone(),
                }))
            }
            Db::SqliteWork(_) | Db::PostgresWork(_) => {
                return Err(StoreError::Other(
                    "a unit of work is already under way".into(),
                ));
            }
        };
        Ok(Arc::new(db))
    }

    /// Answers only when the database is reachable and every embedded migration is applied.
    async fn ping(&self) -> StoreResult<()> {
        let (latest, wanted) = on_db!(self, pool => {
            let latest: Option<i64> = sql::query_scalar(
                "select max(version) from _sqlx_migrations where success",
            )
            .fetch_one(pool)
            .await
            .map_err(db_error)?;
            (latest, latest_version(self))
        });
        if latest.unwrap_or(0) < wanted {
            return Err(StoreError::Unavailable(
                "migrations are not applied yet".into(),
            ));
        }
        Ok(())
    }
}

#[async_trait]
impl UnitOfWork for Db {
    async fn commit(&self) -> StoreResult<()> {
        let ended = || StoreError::Other("the unit of work has ended".into());
        match self {
            Db::SqliteWork(work) => {
                let mut turn = work.held.lock().await.take().ok_or_else(ended)?;
                turn.commit().await.map_err(db_error)
            }
            Db::PostgresWork(work) => {
                let tx = work.held.lock().await.take().ok_or_else(ended)?;
                tx.commit().await.map_err(db_error)
            }
            Db::Sqlite(..) | Db::Postgres(_) => Err(StoreError::Other(
                "there is no unit of work to commit".into(),
            )),
        }
    }
}

fn latest_version(db: &Db) -> i64 {
    let migrator = match db {
        Db::Sqlite(..) | Db::SqliteWork(_) => &SQLITE_MIGRATIONS,
        Db::Postgres(_) | Db::PostgresWork(_) => &POSTGRES_MIGRATIONS,
    };
    migrator.iter().map(|m| m.version).max().unwrap_or(0)
}

/// Begins a transaction that will write, on a connection `on_db!` gave: inside a unit of work
/// a savepoint of it; otherwise SQLite takes the write lock at once (`begin immediate`), so two
/// writers queue instead of failing mid-way.
pub(crate) async fn begin_write<C: Conn>(conn: &mut C) -> StoreResult<Tx<'_, C>> {
    Tx::begin(conn).await.map_err(db_error)
}

/// The transaction of a method whose statements never need undoing (each guarded, none that
/// may fail once another has written): outside a unit of work its own, which SQLite begins
/// with the write lock; inside one, the unit's, with no savepoint to round-trip for.
pub(crate) enum Writing<'c, C: Conn> {
    Own(Tx<'c, C>),
    Unit(&'c mut C),
}

impl<'c, C: Conn> Writing<'c, C> {
    pub(crate) async fn begin(db: &Db, conn: &'c mut C) -> StoreResult<Self> {
        match db {
            Db::SqliteWork(_) | Db::PostgresWork(_) => Ok(Writing::Unit(conn)),
            Db::Sqlite(..) | Db::Postgres(_) => begin_write(conn).await.map(Writing::Own),
        }
    }

    /// Commits its own transaction; a unit's commits with the unit.
    pub(crate) async fn done(self) -> StoreResult<()> {
        match self {
            Writing::Own(tx) => tx.commit().await.map_err(db_error),
            Writing::Unit(_) => Ok(()),
        }
    }
}

impl<C: Conn> std::ops::Deref for Writing<'_, C> {
    type Target = C;

    fn deref(&self) -> &C {
        match self {
            Writing::Own(tx) => tx,
            Writing::Unit(conn) => conn,
        }
    }
}

impl<C: Conn> std::ops::DerefMut for Writing<'_, C> {
    fn deref_mut(&mut self) -> &mut C {
        match self {
            Writing::Own(tx) => tx,
            Writing::Unit(conn) => conn,
        }
    }
}

/// The rule a unique violation broke: PostgreSQL names the constraint, SQLite the column.
fn conflict_of(rule: &str) -> Conflict {
    if rule == "people_email_unique"
        || rule.contains("people.email_normalized")
        || rule == "invitations_email_unique"
        || rule.contains("invitations.email_normalized")
    {
        Conflict::EmailTaken
    } else if rule == "two_factor_methods_credential_unique"
        || rule.contains("two_factor_methods.credential_id")
    {
        Conflict::CredentialTaken
    } else {
        Conflict::Other(rule.to_owned())
    }
}

/// Sorts a database failure into what a use case can act on.
pub(crate) fn db_error(e: impl Into<sql::Error>) -> StoreError {
    match e.into() {
        sql::Error::Postgres(e) => postgres_error(e),
        sql::Error::Sqlite(e) => sqlite_error(e),
        e @ (sql::Error::Column { .. } | sql::Error::NoRow) => StoreError::Other(e.into()),
    }
}

fn sqlite_error(e: rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode;
    use rusqlite::ffi::{SQLITE_CONSTRAINT_PRIMARYKEY, SQLITE_CONSTRAINT_UNIQUE};
    match &e {
        rusqlite::Error::SqliteFailure(failure, message)
            if matches!(
                failure.extended_code,
                SQLITE_CONSTRAINT_UNIQUE | SQLITE_CONSTRAINT_PRIMARYKEY
            ) =>
        {
            StoreError::Conflict(conflict_of(message.as_deref().unwrap_or_default()))
        }
        // Another process held the file past the wait, or the disk is full, unreadable or
        // gone: the database is there but cannot serve now.
        rusqlite::Error::SqliteFailure(failure, _)
            if matches!(
                failure.code,
                ErrorCode::DatabaseBusy
                    | ErrorCode::DatabaseLocked
                    | ErrorCode::DiskFull
                    | ErrorCode::SystemIoFailure
                    | ErrorCode::CannotOpen
                    | ErrorCode::ReadOnly
            ) =>
        {
            StoreError::Unavailable(e.into())
        }
        _ => StoreError::Other(e.into()),
    }
}

fn postgres_error(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            let rule = d.constraint().unwrap_or_else(|| d.message());
            StoreError::Conflict(conflict_of(rule))
        }
        // A connection that drops or answers garbage (a database going away mid-handshake) is
        // an outage, not a bug.
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::WorkerCrashed => StoreError::Unavailable(e.into()),
        // Two transactions that each hold what the other waits for: one of them is ended, and
        // running it again succeeds.
        sqlx::Error::Database(d) if matches!(d.code().as_deref(), Some("40P01" | "40001")) => {
            StoreError::Contended(e.into())
        }
        // PostgreSQL's statement timeout and a server shutting down: the database is there but
        // cannot serve now.
        sqlx::Error::Database(d)
            if matches!(
                d.code().as_deref(),
                Some("57014" | "57P01" | "57P02" | "57P03")
            ) =>
        {
            StoreError::Unavailable(e.into())
        }
        _ => StoreError::Other(e.into()),
    }
}
