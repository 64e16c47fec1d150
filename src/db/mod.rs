//! The database: one connection type over SQLite and PostgreSQL.
//!
//! * [`DbConn`] is a diesel `MultiConnection`: queries written once run on both backends. Where
//!   a query must differ, a repo function matches on the variant (see [`per_backend!`]), and
//!   nowhere else.
//! * [`Db`] owns the r2d2 pool and runs closures on threads of its own (`threads.rs`): [`Db::run`]
//!   for reads and single statements, [`Db::tx`] for a transaction, [`Db::snapshot`] for reads
//!   that must see one instant. On SQLite a transaction starts with `BEGIN IMMEDIATE`, so a
//!   read that turns into a write cannot fail with SQLITE_BUSY halfway.
//! * Migrations are embedded from `migrations/sqlite` and `migrations/postgres` (same names).

pub mod cached;
pub mod checkpoint;
mod columns;
mod group_commit;
pub mod health;
pub mod repo;
pub mod schema;
mod threads;

pub use cached::cached;
pub use checkpoint::Checkpoints;
pub use columns::{FromName, Named, Stamp};
pub use repo::setting_or_insert;

use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel::r2d2::{self, R2D2Connection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::config::DatabaseTarget;
use crate::error::ApiError;

/// A connection to either backend.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Pg(PgConnection),
    Sqlite(SqliteConnection),
}

/// Runs the same expression against whichever backend `conn` is, with `$c` bound to the
/// concrete connection: queries the multi-backend cannot express (upserts, `SKIP LOCKED`), and
/// hot reads (it writes a query's SQL again at every pass). The body is compiled per backend.
#[macro_export]
macro_rules! per_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::DbConn::Pg($c) => $body,
            $crate::db::DbConn::Sqlite($c) => $body,
        }
    };
}

/// Runs a select with its rows locked until the caller's transaction ends: `FOR UPDATE` on
/// PostgreSQL; on SQLite a plain select (its `BEGIN IMMEDIATE` already serializes writers).
/// `locked!(conn, query, |q, c| q.first(c))`: `q` is the query, `c` the backend's connection
/// (write the query in the call: it is typed once per backend).
#[macro_export]
macro_rules! locked {
    ($conn:expr, $query:expr, |$q:ident, $c:ident| $load:expr) => {
        match $conn {
            $crate::db::DbConn::Pg($c) => {
                let $q = $query.for_update();
                $load
            }
            $crate::db::DbConn::Sqlite($c) => {
                let $q = $query;
                $load
            }
        }
    };
}

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Per-connection SQLite settings. WAL lets readers run beside the one writer; NORMAL sync is
/// durable across process crashes in WAL mode (a power cut may lose the last transactions);
/// the busy timeout makes a writer wait for the lock instead of failing at once.
const SQLITE_PRAGMAS: &str = "PRAGMA busy_timeout = 5000; \
                              PRAGMA journal_mode = WAL; \
                              PRAGMA synchronous = NORMAL; \
                              PRAGMA foreign_keys = ON;";

/// Per-connection PostgreSQL settings. diesel keeps its statements prepared, but PostgreSQL's
/// default (`auto`) plans a prepared statement again at every execution whenever its generic
/// plan looks costlier than a custom one, which for anything with `LIMIT $n` is always: the
/// feed's first page spent more time being planned than running. Our queries are index walks
/// whose plan does not depend on the values (see benches/explain.sh), so the generic plan is
/// the one wanted, made once per connection.
const POSTGRES_SETTINGS: &str = "SET plan_cache_mode = force_generic_plan";

/// Opens connections of the backend the URL names. (diesel's own `MultiConnection::establish`
/// tries each backend and hides the real error, e.g. a wrong password, behind
/// "Invalid connection url for multiconnection".)
#[derive(Debug, Clone)]
pub struct Manager {
    target: DatabaseTarget,
    /// SQLite: whether a missing file may be created (only the first connection, which
    /// migrates; a pooled connection must never make an empty database where the real one
    /// was removed or moved away).
    create: bool,
    /// The health probe's count of failures ([`health::Health::failures`]): a pooled
    /// connection made before the latest one may have died with the database.
    failures: Arc<AtomicU64>,
    /// SQLite: who copies the write-ahead log into the database.
    checkpoints: Checkpoints,
}

impl Manager {
    pub fn new(target: DatabaseTarget) -> Self {
        Manager {
            target,
            create: true,
            failures: Arc::default(),
            checkpoints: Checkpoints::OnCommit,
        }
    }

    /// Connections that open an existing SQLite file only.
    pub fn existing_only(target: DatabaseTarget) -> Self {
        Manager {
            create: false,
            ..Manager::new(target)
        }
    }

    pub fn connect(&self) -> Result<DbConn, r2d2::Error> {
        match &self.target {
            DatabaseTarget::Postgres(url) => {
                let mut conn =
                    PgConnection::establish(url.expose()).map_err(r2d2::Error::ConnectionError)?;
                conn.batch_execute(POSTGRES_SETTINGS)
                    .map_err(r2d2::Error::QueryError)?;
                Ok(DbConn::Pg(conn))
            }
            DatabaseTarget::Sqlite(path) => {
                let path = path.to_string_lossy();
                // `mode=rw`: open, never create (SQLite URI filenames; diesel opens with
                // SQLITE_OPEN_URI). Paths with URI syntax in them are opened as they are.
                let name = if self.create || path.contains(['?', '#', '%']) {
                    path.to_string()
                } else if path.starts_with('/') {
                    // `sqlite:////var/x.db` gives `//var/x.db`: one slash, or `var` would be
                    // read as a URI's authority.
                    format!("file:/{}?mode=rw", path.trim_start_matches('/'))
                } else {
                    format!("file:{path}?mode=rw")
                };
                let mut conn =
                    SqliteConnection::establish(&name).map_err(r2d2::Error::ConnectionError)?;
                conn.batch_execute(SQLITE_PRAGMAS)
                    .map_err(r2d2::Error::QueryError)?;
                if self.checkpoints == Checkpoints::Background {
                    conn.batch_execute(checkpoint::AUTOCHECKPOINT_BACKSTOP)
                        .map_err(r2d2::Error::QueryError)?;
                }
                Ok(DbConn::Sqlite(conn))
            }
        }
    }
}

/// A pooled connection: the connection, and what the pool needs to know to drop it.
///
/// The pool does not ping a connection at every checkout (on PostgreSQL that was one more
/// round trip per request). A connection is dropped instead when it may be dead:
/// * it was made before the health probe's latest failure (the database restarted, the
///   network was cut): checked at checkout, so no request runs on it;
/// * a request on it failed in a way that may mean a dead connection, and a ping then failed
///   ([`Db::run`]): a connection killed alone (an idle timeout, `pg_terminate_backend`) costs
///   one `503` with `Retry-After`, not one per request from then on;
/// * diesel finds its transaction state broken.
pub struct PooledConn {
    conn: DbConn,
    /// The probe's failure count when this connection was made.
    born_after: u64,
    broken: bool,
}

impl Deref for PooledConn {
    type Target = DbConn;
    fn deref(&self) -> &DbConn {
        &self.conn
    }
}

impl DerefMut for PooledConn {
    fn deref_mut(&mut self) -> &mut DbConn {
        &mut self.conn
    }
}

impl PooledConn {
    /// Whether this connection was made before the probe's `failures`-th failure, and so may
    /// have died with the database.
    fn outlived(&self, failures: u64) -> bool {
        self.born_after < failures
    }
}

impl r2d2::ManageConnection for Manager {
    type Connection = PooledConn;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<PooledConn, r2d2::Error> {
        let born_after = self.failures.load(Ordering::Acquire);
        Ok(PooledConn {
            conn: Manager::connect(self)?,
            born_after,
            broken: false,
        })
    }

    fn is_valid(&self, conn: &mut PooledConn) -> Result<(), r2d2::Error> {
        conn.conn.ping().map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut PooledConn) -> bool {
        conn.broken || conn.outlived(self.failures.load(Ordering::Acquire)) || conn.conn.is_broken()
    }
}

pub type Pool = r2d2::Pool<Manager>;

/// The pool plus the way every handler reaches the database.
#[derive(Clone)]
pub struct Db {
    pool: Pool,
    /// Whether the database answers, as [`health::run_probe`] last found.
    health: Arc<health::Health>,
    /// How long a request waits for a connection while the database answers.
    timeout: Duration,
    /// One permit per pooled connection: requests wait for a connection here, in the order
    /// they came (r2d2's own wait is a condition variable: a newcomer can take a connection
    /// before a request that has waited longer, which made a long tail under load), and on
    /// the async side, so that waiting holds no blocking thread.
    turns: Arc<tokio::sync::Semaphore>,
    /// SQLite: the transactions waiting for the write lock, committed together.
    writes: Option<Arc<group_commit::GroupCommit>>,
    threads: threads::Threads, // where closures run: one thread per connection
}

/// How often a request waiting for a connection looks at the database's health again.
const CHECKOUT_SLICE: Duration = Duration::from_millis(25);

/// A pooled connection, at once `503` while the database is known to be away; otherwise
/// waiting up to `timeout` for one (a busy pool), giving up as soon as the probe finds the
/// database gone. Connections made before the probe's latest failure are dropped here.
fn checkout(
    pool: &Pool,
    health: &health::Health,
    timeout: Duration,
) -> Result<r2d2::PooledConnection<Manager>, ApiError> {
    let started = Instant::now();
    loop {
        if !health.is_up() {
            return Err(health::unreachable());
        }
        match pool.get_timeout(CHECKOUT_SLICE.min(timeout)) {
            Ok(mut conn) if conn.outlived(health.failures()) => {
                conn.broken = true; // dropped, not returned, when `conn` goes out of scope
            }
            Ok(conn) => return Ok(conn),
            Err(e) if started.elapsed() >= timeout => return Err(e.into()),
            Err(_) => {}
        }
    }
}

/// After `f` failed on `conn`: whether the failure may mean a dead connection (the errors
/// that map to `503`), and a ping confirms it. Such a connection is dropped, not pooled.
fn mark_if_dead(conn: &mut PooledConn, error: &ApiError) {
    if matches!(error, ApiError::Unavailable(_)) && conn.conn.ping().is_err() {
        conn.broken = true;
    }
}

impl Db {
    /// Connects once (so that the operator sees the real error), runs pending migrations,
    /// then builds the pool.
    pub fn connect_and_migrate(
        target: &DatabaseTarget,
        pool_size: u32,
        timeout: Duration,
        checkpoints: Checkpoints,
    ) -> anyhow::Result<Db> {
        let mut conn = connect(target)?;
        run_migrations(&mut conn)?;
        // The one data step a migration cannot do in SQL: the search index needs the
        // program's stemmer (see `search`). Runs once, after the migration that asks for it.
        if let Some(count) = crate::search::build_if_asked(&mut conn)? {
            tracing::info!(documents = count, "search index built");
        }
        drop(conn);
        // After the first connection: it may have made the SQLite file the probe watches.
        let health = Arc::new(health::Health::new(target));
        let manager = Manager {
            failures: health.failure_count(),
            checkpoints,
            ..Manager::existing_only(health::with_timeouts(target, 5))
        };
        let pool = r2d2::Pool::builder()
            .max_size(pool_size)
            .min_idle(Some(1))
            .connection_timeout(timeout)
            .test_on_check_out(false)
            .error_handler(Box::new(LogPoolErrors))
            .build(manager)?;
        Ok(Db {
            pool,
            health,
            timeout,
            turns: Arc::new(tokio::sync::Semaphore::new(pool_size as usize)),
            writes: matches!(target, DatabaseTarget::Sqlite(_)).then(Arc::default),
            threads: threads::Threads::new(pool_size as usize)?,
        })
    }

    /// Whether the database answered the last probe.
    pub fn is_up(&self) -> bool {
        self.health.is_up()
    }

    pub(crate) fn health(&self) -> Arc<health::Health> {
        self.health.clone()
    }

    pub fn pool_state(&self) -> r2d2::State {
        self.pool.state()
    }

    /// Runs `f` with a pooled connection on a database thread.
    pub async fn run<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConn) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let turn = self.turn().await?;
        let (pool, health, timeout) = (self.pool.clone(), self.health.clone(), self.timeout);
        let work = move || {
            let mut conn = checkout(&pool, &health, timeout)?;
            let result = f(&mut conn).inspect_err(|e| mark_if_dead(&mut conn, e));
            drop((conn, turn));
            result
        };
        let panicked = |_| ApiError::internal(anyhow::anyhow!("a database task panicked"));
        self.threads.run(work).await.map_err(panicked)?
    }

    /// This request's turn at the pool, in arrival order: at once `503` while the database is
    /// away, and after `timeout` of waiting.
    async fn turn(&self) -> Result<tokio::sync::OwnedSemaphorePermit, ApiError> {
        // Most requests find a free turn: no timer, no clock read for them.
        if let Ok(permit) = self.turns.clone().try_acquire_owned() {
            return if self.health.is_up() {
                Ok(permit)
            } else {
                Err(health::unreachable())
            };
        }
        let started = Instant::now();
        // One wait, kept across the health checks: dropping it would lose the place in line.
        let wait = self.turns.clone().acquire_owned();
        tokio::pin!(wait);
        loop {
            if !self.health.is_up() {
                return Err(health::unreachable());
            }
            tokio::select! {
                permit = &mut wait => {
                    return permit.map_err(|e| ApiError::internal(anyhow::anyhow!("{e}")));
                }
                () = tokio::time::sleep(CHECKOUT_SLICE) => {}
            }
            if started.elapsed() >= self.timeout {
                return Err(ApiError::Unavailable(anyhow::anyhow!(
                    "no database connection free within {:?}",
                    self.timeout
                )));
            }
        }
    }

    /// Runs `f` in a read-only transaction that sees one instant: what it reads in several
    /// queries agrees (PostgreSQL: `REPEATABLE READ READ ONLY`; SQLite: a deferred
    /// transaction, one snapshot of the WAL). For pages built from several reads and cached.
    pub async fn snapshot<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConn) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        self.run(move |conn| {
            let begin = match conn {
                DbConn::Pg(_) => "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
                DbConn::Sqlite(_) => "BEGIN",
            };
            transaction_opened_by(conn, begin, f)
        })
        .await
    }

    /// Runs `f` inside one transaction: committed if it returns `Ok`, rolled back otherwise.
    /// On SQLite, in a savepoint of a transaction shared with the other writes waiting for
    /// the lock (see [`group_commit`]); the result comes after the commit either way.
    pub async fn tx<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConn) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let Some(writes) = self.writes.clone() else {
            return self.run(move |conn| transaction(conn, f)).await;
        };
        group_commit::tx(self, writes, f).await
    }

    /// Checks that the database answers within `timeout`, for `/readyz`: at once `503` while
    /// the probe finds it away.
    pub async fn ping(&self, timeout: Duration) -> Result<(), ApiError> {
        let (pool, health) = (self.pool.clone(), self.health.clone());
        actix_web::web::block(move || {
            let mut conn = checkout(&pool, &health, timeout)?;
            conn.batch_execute("SELECT 1")
                .map_err(ApiError::from)
                .inspect_err(|e| mark_if_dead(&mut conn, e))
        })
        .await
        .map_err(|e| ApiError::internal(anyhow::anyhow!("blocking task failed: {e}")))?
    }

    /// A connection for command-line tools, outside any request.
    pub fn get(&self) -> Result<r2d2::PooledConnection<Manager>, ApiError> {
        checkout(&self.pool, &self.health, self.timeout)
    }
}

/// One connection outside the pool (start-up, command-line tools), with the real error.
pub fn connect(target: &DatabaseTarget) -> anyhow::Result<DbConn> {
    Manager::new(target.clone())
        .connect()
        .map_err(|e| anyhow::anyhow!("cannot connect to {}: {e}", target.describe()))
}

/// A transaction on either backend; on SQLite it starts with `BEGIN IMMEDIATE`, taking the
/// write lock up front. Transactions nested inside `f` become savepoints, as usual.
pub fn transaction<T, E, F>(conn: &mut DbConn, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    match conn {
        DbConn::Pg(_) => conn.transaction(f),
        DbConn::Sqlite(sqlite) => {
            let outermost = matches!(
                AnsiTransactionManager::transaction_manager_status_mut(sqlite).transaction_depth(),
                Ok(None)
            );
            let _writer =
                outermost.then(|| SQLITE_WRITER.lock().unwrap_or_else(|e| e.into_inner()));
            transaction_opened_by(conn, "BEGIN IMMEDIATE", f)
        }
    }
}

/// This process's SQLite writers, one at a time. SQLite lets one writer in and makes the others
/// wait in its busy handler, which sleeps (1, 2, 5, ... 100 ms) and retries: under a burst of
/// comments most of the time went to sleeping, with a tail near a second. Writers queued here
/// wake as soon as the one before commits. (Other processes on the same file, the command-line
/// tools, still meet the busy timeout.)
static SQLITE_WRITER: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// A transaction begun by the statement `begin`: committed if `f` returns `Ok`, rolled back
/// otherwise.
fn transaction_opened_by<T, E, F>(conn: &mut DbConn, begin: &str, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    // The multi-connection's transaction manager keeps its state in the inner connection, so
    // beginning on the inner one and committing through it keeps diesel's bookkeeping right.
    per_backend!(&mut *conn, |c| {
        AnsiTransactionManager::begin_transaction_sql(c, begin)
    })?;
    match f(conn) {
        Ok(value) => {
            per_backend!(&mut *conn, |c| {
                if let Err(e) = AnsiTransactionManager::commit_transaction(c) {
                    let _ = AnsiTransactionManager::rollback_transaction(c);
                    return Err(e.into());
                }
            });
            Ok(value)
        }
        Err(e) => {
            per_backend!(
                &mut *conn,
                |c| AnsiTransactionManager::rollback_transaction(c)
            )?;
            Err(e)
        }
    }
}

/// Applies pending migrations. On PostgreSQL an advisory lock keeps several processes that
/// start together from migrating at once.
pub fn run_migrations(conn: &mut DbConn) -> anyhow::Result<Vec<String>> {
    const MIGRATION_LOCK: i64 = 0x7472_6962_756e; // "tribun"
    let applied = match conn {
        DbConn::Pg(pg) => {
            diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK})")).execute(pg)?;
            let result = pg.run_pending_migrations(POSTGRES_MIGRATIONS).map(names);
            diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"))
                .execute(pg)?;
            result
        }
        DbConn::Sqlite(sqlite) => sqlite.run_pending_migrations(SQLITE_MIGRATIONS).map(names),
    };
    let applied = applied.map_err(|e| anyhow::anyhow!("migration failed: {e}"))?;
    for name in &applied {
        tracing::info!(migration = %name, "applied migration");
    }
    Ok(applied)
}

fn names(versions: Vec<diesel::migration::MigrationVersion<'_>>) -> Vec<String> {
    versions.iter().map(|v| v.to_string()).collect()
}

/// r2d2 reports failed connection attempts here; without it they would go to stderr unformatted.
#[derive(Debug)]
struct LogPoolErrors;

impl r2d2::HandleError<r2d2::Error> for LogPoolErrors {
    fn handle_error(&self, error: r2d2::Error) {
        tracing::warn!(%error, "database connection failed");
    }
}

/// The current time as stored: UTC, without zone, microsecond precision (what PostgreSQL keeps).
pub fn now() -> chrono::NaiveDateTime {
    use chrono::{DurationRound, TimeDelta};
    let now = chrono::Utc::now().naive_utc();
    now.duration_trunc(TimeDelta::microseconds(1))
        .unwrap_or(now)
}
