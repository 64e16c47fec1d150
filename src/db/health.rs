//! Whether the database answers: one probe task per process (`serve`) checks every
//! [`PROBE_EVERY`], and while it finds the database away every request that needs it answers
//! `503` at once instead of waiting out the pool's timeout; `/readyz` says `503` too. When the
//! database answers again, so does everything, without a restart.
//!
//! PostgreSQL: the probe keeps a connection of its own and runs `SELECT 1` (a new connection
//! after a failure, giving up after two seconds). SQLite: the probe also checks that the file
//! at the path is still the one the process opened: a file removed or replaced means that
//! writes would go to a file nobody will see again, so the database counts as away.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use diesel::connection::SimpleConnection;
use tokio::sync::watch;

use super::{DbConn, Manager};
use crate::config::{DatabaseTarget, Secret};
use crate::error::ApiError;

/// How often the probe looks.
pub const PROBE_EVERY: Duration = Duration::from_millis(100);
/// A probe that has not answered in this time counts as a failure (a silent network). Only
/// that long: a database that answers slowly is not away. On a host whose cores are saturated
/// (measured: a load run against `/healthz` on 2 cores), PostgreSQL's `SELECT 1` took up to
/// 1.9 s; a 1 s limit turned that into `503`s for every request and, by distrusting the pool's
/// connections, into a storm of new connections on a database that was already short of CPU.
/// A refused or closed connection still counts at once.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// The database's health, as the probe last found it.
pub struct Health {
    up: AtomicBool,
    /// How many looks have failed so far, the kept connection's included even when a fresh one
    /// then answered: pooled connections older than the latest failure are not trusted (the
    /// pool no longer pings at every checkout; see [`super::PooledConn`]).
    failures: Arc<AtomicU64>,
    target: DatabaseTarget,
    /// SQLite: the (device, inode) of the file opened at start.
    file: Option<(u64, u64)>,
}

impl Health {
    pub fn new(target: &DatabaseTarget) -> Health {
        let file = match target {
            DatabaseTarget::Sqlite(path) => file_id(path),
            DatabaseTarget::Postgres(_) => None,
        };
        Health {
            up: AtomicBool::new(true),
            failures: Arc::default(),
            target: probe_target(target),
            file,
        }
    }

    pub fn is_up(&self) -> bool {
        self.up.load(Ordering::Acquire)
    }

    /// How many looks have failed so far.
    pub fn failures(&self) -> u64 {
        self.failures.load(Ordering::Acquire)
    }

    /// The failure count, shared with the pool's manager.
    pub(crate) fn failure_count(&self) -> Arc<AtomicU64> {
        self.failures.clone()
    }

    fn failed(&self) {
        self.failures.fetch_add(1, Ordering::AcqRel);
    }

    fn set(&self, up: bool) {
        let was = self.up.swap(up, Ordering::AcqRel);
        match (was, up) {
            (true, false) => {
                tracing::error!("database unreachable: answering 503 until it is back")
            }
            (false, true) => tracing::warn!("database reachable again"),
            _ => {}
        }
    }
}

/// The answer while the database is away.
pub fn unreachable() -> ApiError {
    ApiError::Unavailable(anyhow::anyhow!("the database is unreachable"))
}

#[cfg(unix)]
fn file_id(path: &std::path::Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn file_id(_: &std::path::Path) -> Option<(u64, u64)> {
    None
}

/// A PostgreSQL target whose connections give up instead of hanging behind a silent network:
/// a connect timeout (`seconds`) and TCP keepalives, unless the URL sets its own.
pub(crate) fn with_timeouts(target: &DatabaseTarget, seconds: u32) -> DatabaseTarget {
    let DatabaseTarget::Postgres(url) = target else {
        return target.clone();
    };
    let mut url = url.expose().trim_end_matches(['?', '&']).to_string();
    for (key, value) in [
        ("connect_timeout", seconds.to_string()),
        ("keepalives_idle", "30".to_string()),
        ("keepalives_interval", "10".to_string()),
        ("keepalives_count", "3".to_string()),
    ] {
        if !url.contains(&format!("{key}=")) {
            let glue = if url.contains('?') { '&' } else { '?' };
            url = format!("{url}{glue}{key}={value}");
        }
    }
    DatabaseTarget::Postgres(Secret::new(url))
}

fn probe_target(target: &DatabaseTarget) -> DatabaseTarget {
    with_timeouts(target, 2)
}

/// One look: `(the connection to keep, whether the database answered)`.
fn probe_once(health: &Health, conn: Option<DbConn>) -> (Option<DbConn>, bool) {
    if let DatabaseTarget::Sqlite(path) = &health.target
        && health.file.is_some()
        && file_id(path) != health.file
    {
        return (None, false);
    }
    // A kept connection that fails (killed by the server, closed by a proxy) is not yet the
    // database gone: a fresh one decides. But the pool's connections may have died with it.
    if let Some(mut conn) = conn {
        if conn.batch_execute("SELECT 1").is_ok() {
            return (Some(conn), true);
        }
        health.failed();
    }
    let Ok(mut conn) = Manager::existing_only(health.target.clone()).connect() else {
        return (None, false);
    };
    match conn.batch_execute("SELECT 1") {
        Ok(()) => (Some(conn), true),
        Err(_) => (None, false),
    }
}

/// The probe task of `serve`, until `shutdown`.
pub async fn run_probe(health: Arc<Health>, mut shutdown: watch::Receiver<bool>) {
    let mut conn: Option<DbConn> = None;
    // A look that outlived its timeout is awaited again rather than doubled.
    let mut pending = None;
    loop {
        let mut look = pending.take().unwrap_or_else(|| {
            let (health, conn) = (health.clone(), conn.take());
            actix_web::rt::task::spawn_blocking(move || probe_once(&health, conn))
        });
        match tokio::time::timeout(PROBE_TIMEOUT, &mut look).await {
            Ok(Ok((kept, up))) => {
                conn = kept;
                if !up {
                    health.failed();
                }
                health.set(up);
            }
            Ok(Err(_)) => {
                health.failed();
                health.set(false);
            }
            Err(_) => {
                health.failed();
                health.set(false);
                pending = Some(look);
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(PROBE_EVERY) => {}
            _ = shutdown.changed() => return,
        }
    }
}
