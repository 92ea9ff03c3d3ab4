//! The store's statements on either database: one SQL text, the values bound to it, and rows
//! read by column name. SQLite's run in the calling task, on connections the store holds; a
//! statement on a local file takes tens of microseconds, where handing it to a connection's own
//! thread and back (as sqlx's SQLite driver does) cost more than running it. PostgreSQL's go
//! through sqlx, over the network, as before.

use std::borrow::Cow;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rusqlite::types::Value as Stored;
use sqlx::postgres::{PgConnection, PgRow, PgTransactionManager};
use sqlx::{AssertSqlSafe, Row as _};
use sqlx_core::transaction::TransactionManager;

/// One value bound to a statement. Nulls keep their type: PostgreSQL is told each parameter's.
#[derive(Debug, Clone)]
pub(crate) enum Value {
    Text(Option<String>),
    Int(Option<i64>),
    Bool(Option<bool>),
    Bytes(Option<Vec<u8>>),
}

/// What may be bound to a statement.
pub(crate) trait Bind {
    /// This type's null, for `None`.
    const NULL: Value;
    fn value(self) -> Value;
}

macro_rules! bind {
    ($($t:ty => $variant:ident $(($convert:expr))?),* $(,)?) => {$(
        impl Bind for $t {
            const NULL: Value = Value::$variant(None);
            fn value(self) -> Value {
                Value::$variant(Some(bind!(@ self $(, $convert)?)))
            }
        }
    )*};
    (@ $v:ident) => { $v };
    (@ $v:ident, $convert:expr) => { $convert($v) };
}

bind! {
    String => Text,
    &str => Text(str::to_owned),
    &String => Text(String::clone),
    i64 => Int,
    bool => Bool,
    Vec<u8> => Bytes,
}

impl<T: Bind> Bind for Option<T> {
    const NULL: Value = T::NULL;
    fn value(self) -> Value {
        self.map_or(T::NULL, Bind::value)
    }
}

impl Bind for &Option<String> {
    const NULL: Value = Value::Text(None);
    fn value(self) -> Value {
        Value::Text(self.clone())
    }
}

/// A failure of a statement, on whichever database ran it.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    #[error(transparent)]
    Postgres(#[from] sqlx::Error),
    #[error("column {column}: {problem}")]
    Column { column: String, problem: String },
    #[error("the statement returned no row")]
    NoRow,
}

/// One row, read by column name (or by position, for a scalar or a tuple).
pub(crate) enum Row {
    Sqlite(SqliteRow),
    Postgres(PgRow),
}

/// A SQLite row, copied out of its statement so the statement can run again.
pub(crate) struct SqliteRow {
    names: Arc<[String]>,
    values: Vec<Stored>,
}

impl Row {
    pub(crate) fn get<T: Column>(&self, name: &str) -> Result<T, Error> {
        match self {
            Row::Sqlite(row) => {
                let at = row
                    .names
                    .iter()
                    .position(|n| n == name)
                    .ok_or_else(|| Error::Column {
                        column: name.to_owned(),
                        problem: "not in the row".into(),
                    })?;
                T::from_sqlite(&row.values[at]).map_err(|problem| Error::Column {
                    column: name.to_owned(),
                    problem,
                })
            }
            Row::Postgres(row) => T::from_postgres(row, name),
        }
    }

    pub(crate) fn at<T: Column>(&self, index: usize) -> Result<T, Error> {
        match self {
            Row::Sqlite(row) => {
                let value = row.values.get(index).ok_or_else(|| Error::Column {
                    column: index.to_string(),
                    problem: "not in the row".into(),
                })?;
                T::from_sqlite(value).map_err(|problem| Error::Column {
                    column: index.to_string(),
                    problem,
                })
            }
            Row::Postgres(row) => T::from_postgres(row, index),
        }
    }
}

/// A column's value as a Rust type, from either database.
pub(crate) trait Column: Sized {
    fn from_sqlite(value: &Stored) -> Result<Self, String>;
    fn from_postgres<I: sqlx::ColumnIndex<PgRow>>(row: &PgRow, at: I) -> Result<Self, Error>;
}

macro_rules! column {
    ($($t:ty => |$v:ident| $from:expr),* $(,)?) => {$(
        impl Column for $t {
            fn from_sqlite(value: &Stored) -> Result<Self, String> {
                match value {
                    Stored::Null => Err("null where a value was expected".into()),
                    $v => $from,
                }
            }
            fn from_postgres<I: sqlx::ColumnIndex<PgRow>>(row: &PgRow, at: I) -> Result<Self, Error> {
                Ok(row.try_get::<$t, I>(at)?)
            }
        }
        impl Column for Option<$t> {
            fn from_sqlite(value: &Stored) -> Result<Self, String> {
                match value {
                    Stored::Null => Ok(None),
                    other => <$t>::from_sqlite(other).map(Some),
                }
            }
            fn from_postgres<I: sqlx::ColumnIndex<PgRow>>(row: &PgRow, at: I) -> Result<Self, Error> {
                Ok(row.try_get::<Option<$t>, I>(at)?)
            }
        }
    )*};
}

fn wrong(expected: &str, found: &Stored) -> String {
    format!("expected {expected}, found {:?}", found.data_type())
}

column! {
    String => |v| match v { Stored::Text(s) => Ok(s.clone()), other => Err(wrong("text", other)) },
    i64 => |v| match v { Stored::Integer(i) => Ok(*i), other => Err(wrong("an integer", other)) },
    bool => |v| match v { Stored::Integer(i) => Ok(*i != 0), other => Err(wrong("a boolean", other)) },
    Vec<u8> => |v| match v { Stored::Blob(b) => Ok(b.clone()), other => Err(wrong("bytes", other)) },
}

/// A row as a record: implemented by [`row!`] for the store's row structs, and for tuples by
/// position.
pub(crate) trait FromRow: Sized {
    fn from_row(row: &Row) -> Result<Self, Error>;
}

macro_rules! tuple_row {
    ($(($($t:ident $i:tt),*)),*) => {$(
        impl<$($t: Column),*> FromRow for ($($t,)*) {
            fn from_row(row: &Row) -> Result<Self, Error> {
                Ok(($(row.at::<$t>($i)?,)*))
            }
        }
    )*};
}
tuple_row!((A 0, B 1), (A 0, B 1, C 2), (A 0, B 1, C 2, D 3));

/// A struct read from a row by its fields' names; a field marked `#[flatten]` is itself read
/// from the same row.
macro_rules! row {
    ($(#[$meta:meta])* $vis:vis struct $name:ident {
        $($(#[$flat:ident])? $fvis:vis $field:ident : $ty:ty),* $(,)?
    }) => {
        $(#[$meta])* $vis struct $name { $($fvis $field: $ty),* }

        impl $crate::sql::FromRow for $name {
            fn from_row(row: &$crate::sql::Row) -> Result<Self, $crate::sql::Error> {
                Ok($name { $($field: $crate::sql::row!(@ row, $field, $ty $(, $flat)?)),* })
            }
        }
    };
    (@ $row:ident, $field:ident, $ty:ty) => { $row.get::<$ty>(stringify!($field))? };
    (@ $row:ident, $field:ident, $ty:ty, flatten) => {
        <$ty as $crate::sql::FromRow>::from_row($row)?
    };
}
pub(crate) use row;

/// A statement and its values.
pub(crate) struct Query {
    sql: Cow<'static, str>,
    args: Vec<Value>,
}

/// How much of a statement's answer is wanted.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Want {
    First,
    All,
}

pub(crate) fn query(sql: impl Into<Cow<'static, str>>) -> Query {
    Query {
        sql: sql.into(),
        args: Vec::new(),
    }
}

pub(crate) fn query_as<O: FromRow>(sql: impl Into<Cow<'static, str>>) -> Reading<O> {
    Reading {
        query: query(sql),
        read: O::from_row,
    }
}

pub(crate) fn query_scalar<O: Column>(sql: impl Into<Cow<'static, str>>) -> Reading<O> {
    Reading {
        query: query(sql),
        read: |row| row.at::<O>(0),
    }
}

/// What a statement that returns no rows did.
pub(crate) struct Done {
    rows_affected: u64,
}

impl Done {
    pub(crate) fn rows_affected(&self) -> u64 {
        self.rows_affected
    }
}

impl Query {
    pub(crate) fn bind(mut self, value: impl Bind) -> Self {
        self.args.push(value.value());
        self
    }

    pub(crate) async fn execute<C: Conn>(self, conn: &mut C) -> Result<Done, Error> {
        let rows_affected = conn.execute(self).await?;
        Ok(Done { rows_affected })
    }
}

/// A statement whose rows are each read as one `O`: a record, or a row's one value.
pub(crate) struct Reading<O> {
    query: Query,
    read: fn(&Row) -> Result<O, Error>,
}

impl<O> Reading<O> {
    pub(crate) fn bind(mut self, value: impl Bind) -> Self {
        self.query = self.query.bind(value);
        self
    }

    pub(crate) async fn fetch_optional<C: Conn>(self, conn: &mut C) -> Result<Option<O>, Error> {
        let rows = conn.rows(self.query, Want::First).await?;
        rows.first().map(self.read).transpose()
    }

    pub(crate) async fn fetch_one<C: Conn>(self, conn: &mut C) -> Result<O, Error> {
        self.fetch_optional(conn).await?.ok_or(Error::NoRow)
    }

    pub(crate) async fn fetch_all<C: Conn>(self, conn: &mut C) -> Result<Vec<O>, Error> {
        let rows = conn.rows(self.query, Want::All).await?;
        rows.iter().map(self.read).collect()
    }
}

/// A connection statements run on, and transactions (savepoints inside one) begin on.
pub(crate) trait Conn: Send {
    fn rows(
        &mut self,
        q: Query,
        want: Want,
    ) -> impl Future<Output = Result<Vec<Row>, Error>> + Send;
    fn execute(&mut self, q: Query) -> impl Future<Output = Result<u64, Error>> + Send;
    /// Begins a transaction that will write (on SQLite taking the write lock at once), or a
    /// savepoint inside the one under way.
    fn begin(&mut self) -> impl Future<Output = Result<(), Error>> + Send;
    fn commit(&mut self) -> impl Future<Output = Result<(), Error>> + Send;
    fn rollback(&mut self) -> impl Future<Output = Result<(), Error>> + Send;
    /// Undoes the innermost transaction without waiting for it: for a transaction dropped
    /// before it committed.
    fn start_rollback(&mut self);
}

/// A transaction on a connection, rolled back if dropped before [`Tx::commit`].
pub(crate) struct Tx<'c, C: Conn> {
    conn: &'c mut C,
    open: bool,
}

impl<'c, C: Conn> Tx<'c, C> {
    pub(crate) async fn begin(conn: &'c mut C) -> Result<Self, Error> {
        conn.begin().await?;
        Ok(Tx { conn, open: true })
    }

    pub(crate) async fn commit(mut self) -> Result<(), Error> {
        self.open = false;
        self.conn.commit().await
    }

    pub(crate) async fn rollback(mut self) -> Result<(), Error> {
        self.open = false;
        self.conn.rollback().await
    }
}

impl<C: Conn> Drop for Tx<'_, C> {
    fn drop(&mut self) {
        if self.open {
            self.conn.start_rollback();
        }
    }
}

impl<C: Conn> std::ops::Deref for Tx<'_, C> {
    type Target = C;
    fn deref(&self) -> &C {
        self.conn
    }
}

impl<C: Conn> std::ops::DerefMut for Tx<'_, C> {
    fn deref_mut(&mut self) -> &mut C {
        self.conn
    }
}

// PostgreSQL: sqlx, with the values bound by their types.

fn postgres_query(
    q: Query,
) -> sqlx::query::Query<'static, sqlx::Postgres, sqlx::postgres::PgArguments> {
    let mut query = sqlx::query(AssertSqlSafe(q.sql));
    for value in q.args {
        query = match value {
            Value::Text(v) => query.bind(v),
            Value::Int(v) => query.bind(v),
            Value::Bool(v) => query.bind(v),
            Value::Bytes(v) => query.bind(v),
        };
    }
    query
}

impl Conn for PgConnection {
    async fn rows(&mut self, q: Query, want: Want) -> Result<Vec<Row>, Error> {
        let query = postgres_query(q);
        let rows = match want {
            Want::First => query
                .fetch_optional(&mut *self)
                .await?
                .into_iter()
                .collect(),
            Want::All => query.fetch_all(&mut *self).await?,
        };
        Ok(rows.into_iter().map(Row::Postgres).collect())
    }

    async fn execute(&mut self, q: Query) -> Result<u64, Error> {
        Ok(postgres_query(q).execute(&mut *self).await?.rows_affected())
    }

    async fn begin(&mut self) -> Result<(), Error> {
        Ok(PgTransactionManager::begin(self, None).await?)
    }

    async fn commit(&mut self) -> Result<(), Error> {
        Ok(PgTransactionManager::commit(self).await?)
    }

    async fn rollback(&mut self) -> Result<(), Error> {
        Ok(PgTransactionManager::rollback(self).await?)
    }

    fn start_rollback(&mut self) {
        PgTransactionManager::start_rollback(self);
    }
}

// SQLite: rusqlite, in the calling task.

/// How long a statement that found the database locked by another process (a console command
/// writing) waits for it, trying again every millisecond without holding the task's thread.
const SQLITE_BUSY_WAIT: Duration = Duration::from_secs(5);

/// Statements each connection keeps prepared: more than the store has.
const SQLITE_STATEMENTS_KEPT: usize = 256;

/// A SQLite connection and how deep its transactions are.
pub struct SqliteConn {
    db: rusqlite::Connection,
    depth: u32,
}

impl SqliteConn {
    /// Opens (creating) the file for the store: its log written ahead, foreign keys enforced,
    /// and no busy handler, as a locked database is waited for by [`SqliteConn::retrying`].
    pub(crate) fn open(path: &std::path::Path, pragmas: &str) -> Result<Self, Error> {
        let db = rusqlite::Connection::open(path)?;
        db.busy_timeout(Duration::ZERO)?;
        db.set_prepared_statement_cache_capacity(SQLITE_STATEMENTS_KEPT);
        // WAL lets readers run beside the one writer; NORMAL is durable across a crash of
        // latch, and loses at most the last commits on a power cut.
        db.execute_batch(&format!(
            "pragma journal_mode = wal; pragma synchronous = normal; pragma foreign_keys = on; {pragmas}"
        ))?;
        Ok(SqliteConn { db, depth: 0 })
    }

    /// Runs `step` again while another process holds the database's lock, for as long as
    /// [`SQLITE_BUSY_WAIT`]: only where nothing of ours is under way, so trying again repeats
    /// nothing.
    async fn retrying<T>(
        &mut self,
        mut step: impl FnMut(&rusqlite::Connection) -> rusqlite::Result<T> + Send,
    ) -> Result<T, Error> {
        let started = Instant::now();
        loop {
            match step(&self.db) {
                Err(e)
                    if is_busy(&e)
                        && self.db.is_autocommit()
                        && started.elapsed() < SQLITE_BUSY_WAIT =>
                {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
                other => return Ok(other?),
            }
        }
    }

    /// Ends every transaction under way, undone.
    pub(crate) fn rollback_all(&mut self) {
        if self.depth > 0 {
            self.db.execute_batch("rollback").ok();
            self.depth = 0;
        }
    }

    /// The name of the savepoint the next `begin` makes.
    fn savepoint(&self) -> String {
        format!("latch_{}", self.depth)
    }

    /// The name of the innermost savepoint under way.
    fn savepoint_below(&self) -> String {
        format!("latch_{}", self.depth - 1)
    }
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

/// Runs one statement, binding `$N`, `?N` and `?` alike, and copies out its rows.
fn run_sqlite(
    db: &rusqlite::Connection,
    q: &Query,
    want: Option<Want>,
) -> rusqlite::Result<(Vec<Row>, u64)> {
    let mut statement = db.prepare_cached(&q.sql)?;
    for index in 1..=statement.parameter_count() {
        let position = match statement.parameter_name(index) {
            None => index,
            Some(name) => name[1..]
                .parse::<usize>()
                .map_err(|_| rusqlite::Error::InvalidParameterName(name.to_owned()))?,
        };
        let value = q
            .args
            .get(position - 1)
            .ok_or(rusqlite::Error::InvalidParameterCount(
                position,
                q.args.len(),
            ))?;
        match value {
            Value::Text(v) => statement.raw_bind_parameter(index, v)?,
            Value::Int(v) => statement.raw_bind_parameter(index, v)?,
            Value::Bool(v) => statement.raw_bind_parameter(index, v)?,
            Value::Bytes(v) => statement.raw_bind_parameter(index, v)?,
        }
    }
    let names: Arc<[String]> = match want {
        Some(_) => statement
            .column_names()
            .into_iter()
            .map(str::to_owned)
            .collect(),
        None => Arc::from([]),
    };
    let width = names.len();
    let mut rows = Vec::new();
    let mut stepping = statement.raw_query();
    // A write's rows (`returning`) are all made at its first step: stopping after the first
    // row loses none of its work.
    while let Some(row) = stepping.next()? {
        if want.is_none() {
            continue;
        }
        let values = (0..width)
            .map(|i| row.get::<_, Stored>(i))
            .collect::<rusqlite::Result<_>>()?;
        rows.push(Row::Sqlite(SqliteRow {
            names: Arc::clone(&names),
            values,
        }));
        if want == Some(Want::First) {
            break;
        }
    }
    drop(stepping);
    Ok((rows, db.changes()))
}

impl Conn for SqliteConn {
    async fn rows(&mut self, q: Query, want: Want) -> Result<Vec<Row>, Error> {
        self.retrying(|db| run_sqlite(db, &q, Some(want)))
            .await
            .map(|(rows, _)| rows)
    }

    async fn execute(&mut self, q: Query) -> Result<u64, Error> {
        self.retrying(|db| run_sqlite(db, &q, None))
            .await
            .map(|(_, changed)| changed)
    }

    async fn begin(&mut self) -> Result<(), Error> {
        if self.depth == 0 {
            self.retrying(|db| db.execute_batch("begin immediate"))
                .await?;
        } else {
            let savepoint = self.savepoint();
            self.db.execute_batch(&format!("savepoint {savepoint}"))?;
        }
        self.depth += 1;
        Ok(())
    }

    /// A commit that fails leaves the transaction under way, for its rollback.
    async fn commit(&mut self) -> Result<(), Error> {
        match self.depth {
            0 => return Ok(()),
            1 => self.db.execute_batch("commit")?,
            _ => {
                let savepoint = self.savepoint_below();
                self.db.execute_batch(&format!("release {savepoint}"))?;
            }
        }
        self.depth -= 1;
        Ok(())
    }

    async fn rollback(&mut self) -> Result<(), Error> {
        self.start_rollback();
        Ok(())
    }

    fn start_rollback(&mut self) {
        // A rollback that fails has nothing here to act on; SQLite ends the transaction with
        // the connection at the latest.
        match self.depth {
            0 => {}
            1 => self.rollback_all(),
            _ => {
                let savepoint = self.savepoint_below();
                self.db
                    .execute_batch(&format!("rollback to {savepoint}; release {savepoint}"))
                    .ok();
                self.depth -= 1;
            }
        }
    }
}

impl SqliteConn {
    /// Copies the write-ahead log back into the database, passively: the pages in the log and
    /// the pages copied.
    pub(crate) fn checkpoint(&self) -> Result<(i64, i64), Error> {
        Ok(self
            .db
            .query_row("pragma wal_checkpoint(passive)", [], |r| {
                Ok((r.get(1)?, r.get(2)?))
            })?)
    }
}
