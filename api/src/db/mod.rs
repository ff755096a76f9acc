//! The database: SQLite (embedded default) or PostgreSQL, chosen once from
//! the URL scheme.
//!
//! Business code writes each statement once, with `$1` placeholders, and runs
//! it through [`on_db!`] or [`on_tx!`], which expand the same code for
//! whichever native pool is live. This keeps sqlx's native types (`time`,
//! `Json`, `bool`) and `#[derive(FromRow)]` on both backends, which sqlx's
//! `Any` driver cannot do. Statements that only one dialect has (`FOR UPDATE
//! SKIP LOCKED`, `LISTEN/NOTIFY`) live behind one function each.

mod connect;
pub mod constraint;

pub use connect::{DbError, connect};

use std::sync::Arc;
use std::time::Duration;

use sqlx::{PgPool, Postgres, Sqlite, SqlitePool, Transaction};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

#[derive(Clone, Debug)]
pub enum Db {
    /// The pool, and the gate its writers pass one at a time.
    Sqlite(SqlitePool, WriteGate),
    Postgres(PgPool),
}

/// A transaction on whichever backend is live. A SQLite transaction holds
/// its turn at the write gate until it ends.
pub enum Tx {
    Sqlite(Transaction<'static, Sqlite>, OwnedSemaphorePermit),
    Postgres(Transaction<'static, Postgres>),
}

/// SQLite has one writer at a time. Left to its busy handler, writers that
/// wait for the lock poll it with growing sleeps while each holds a pooled
/// connection: under load a waiting writer can starve for seconds, and the
/// readers behind it run out of connections. Writers of this process
/// therefore queue here, first come first served, before they take a
/// connection.
#[derive(Clone, Debug)]
pub struct WriteGate {
    turn: Arc<Semaphore>,
    /// How long a writer waits for its turn before the request fails (503),
    /// as SQLite's own busy timeout would have failed it.
    wait: Duration,
}

impl WriteGate {
    pub fn new(wait: Duration) -> WriteGate {
        WriteGate {
            turn: Arc::new(Semaphore::new(1)),
            wait,
        }
    }

    async fn enter(&self) -> Result<OwnedSemaphorePermit, sqlx::Error> {
        match tokio::time::timeout(self.wait, self.turn.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            Ok(Err(_)) => Err(sqlx::Error::PoolClosed),
            Err(_) => Err(sqlx::Error::PoolTimedOut),
        }
    }
}

/// `%word%` for `LIKE … ESCAPE '\\'`, with LIKE's own characters taken
/// literally: the substring search of every list that has one.
pub fn like_pattern(word: &str) -> String {
    let escaped: String = word
        .chars()
        .flat_map(|c| match c {
            '%' | '_' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    format!("%{escaped}%")
}

/// `$first, $first+1, …` for `n` values: the `IN (…)` list of a statement
/// whose values are all bound. Only these numbers are formatted into the
/// SQL, so the statement is safe to pass as `sqlx::AssertSqlSafe`.
pub fn placeholders(first: usize, n: usize) -> String {
    let list: Vec<String> = (first..first + n).map(|i| format!("${i}")).collect();
    list.join(", ")
}

/// How many values one `IN (…)` list binds: well under SQLite's 32 766
/// and PostgreSQL's 65 535 parameters.
const IN_CHUNK: usize = 500;

/// A row type that both backends can decode.
pub trait BothRows:
    for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
    + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
    + Send
    + Unpin
{
}

impl<T> BothRows for T where
    T: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
        + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
        + Send
        + Unpin
{
}

/// The chunks of `$values`, each as the statement `$select` (whose `{in}`
/// is the list) with its values bound, run by `$on` (`on_db`/`on_tx`) on
/// `$target`; every row, in order.
macro_rules! fetch_chunks {
    ($on:ident, $target:expr, $select:expr, $values:expr) => {{
        let mut out = Vec::new();
        for chunk in $values.chunks(IN_CHUNK) {
            let sql = $select.replace("{in}", &placeholders(1, chunk.len()));
            let rows: Vec<T> = crate::$on!($target, c => {
                let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()));
                for v in chunk {
                    q = q.bind(v.as_ref());
                }
                q.fetch_all(c).await
            })?;
            out.extend(rows);
        }
        Ok(out)
    }};
}

/// The rows of `select`, a statement with one `{in}` list, for every one
/// of `values` ([`IN_CHUNK`] to a statement): one query where a loop of
/// lookups would be one per value.
pub async fn fetch_in<T: BothRows, S: AsRef<str> + Sync>(
    db: &Db,
    select: &str,
    values: &[S],
) -> Result<Vec<T>, sqlx::Error> {
    fetch_chunks!(on_db, db, select, values)
}

/// [`fetch_in`] inside a transaction.
pub async fn fetch_in_tx<T: BothRows, S: AsRef<str> + Sync>(
    tx: &mut Tx,
    select: &str,
    values: &[S],
) -> Result<Vec<T>, sqlx::Error> {
    fetch_chunks!(on_tx, tx, select, values)
}

/// Runs `$body` with `$e` bound to the live pool (`&SqlitePool` or `&PgPool`).
#[macro_export]
macro_rules! on_db {
    ($db:expr, $e:ident => $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite($e, _) => $body,
            $crate::db::Db::Postgres($e) => $body,
        }
    };
}

/// Runs `$body` with `$e` bound to the transaction's connection.
#[macro_export]
macro_rules! on_tx {
    ($tx:expr, $e:ident => $body:expr) => {
        match $tx {
            $crate::db::Tx::Sqlite(t, _) => {
                let $e = &mut **t;
                $body
            }
            $crate::db::Tx::Postgres(t) => {
                let $e = &mut **t;
                $body
            }
        }
    };
}

static SQLITE_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

impl Db {
    pub fn backend(&self) -> &'static str {
        match self {
            Db::Sqlite(..) => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }

    /// Begins a transaction. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`): a deferred transaction that reads and then writes
    /// fails with `SQLITE_BUSY_SNAPSHOT` when another writer got in between,
    /// and `busy_timeout` cannot help it. Writers queue at the [`WriteGate`]
    /// instead.
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        Ok(match self {
            Db::Sqlite(p, gate) => {
                let turn = gate.enter().await?;
                Tx::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?, turn)
            }
            Db::Postgres(p) => Tx::Postgres(p.begin().await?),
        })
    }

    /// Applies every pending migration of this backend's folder. On SQLite
    /// it then refreshes the planner's statistics: without them SQLite
    /// assumes an equality on any indexed column is selective, and would
    /// walk every case of a status instead of the caller's few cases.
    /// (PostgreSQL's autovacuum keeps its own statistics.)
    pub async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        match self {
            Db::Sqlite(p, _) => {
                SQLITE_MIGRATOR.run(p).await?;
                // A sample of rows per index: milliseconds, whatever the size.
                sqlx::raw_sql("PRAGMA analysis_limit = 1000; ANALYZE;")
                    .execute(p)
                    .await?;
                Ok(())
            }
            Db::Postgres(p) => POSTGRES_MIGRATOR.run(p).await,
        }
    }

    /// Ready means: the database answers, and every migration this binary
    /// knows has been applied (so an old schema never serves a new binary).
    pub async fn check_ready(&self) -> Result<(), String> {
        let latest = match self {
            Db::Sqlite(..) => SQLITE_MIGRATOR.iter().map(|m| m.version).max(),
            Db::Postgres(_) => POSTGRES_MIGRATOR.iter().map(|m| m.version).max(),
        }
        .unwrap_or(0);
        const SQL: &str = "SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations WHERE success";
        let applied: i64 = on_db!(self, p => sqlx::query_scalar(SQL).fetch_one(p).await)
            .map_err(|e| format!("database unreachable: {e}"))?;
        if applied < latest {
            return Err(format!(
                "schema at version {applied}, binary needs {latest}"
            ));
        }
        Ok(())
    }

    pub async fn close(&self) {
        on_db!(self, p => p.close().await)
    }
}

impl Tx {
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Sqlite(t, _turn) => t.commit().await,
            Tx::Postgres(t) => t.commit().await,
        }
    }
}
