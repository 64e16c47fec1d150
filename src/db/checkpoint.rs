//! SQLite: the write-ahead log copied into the database file by a task of its own.
//!
//! By default SQLite checkpoints inside the commit that takes the log past 1,000 pages: that
//! writer copies the log into the database while every other writer waits for its lock (4.5 %
//! of the server's time when posting comments, all of it in the one serialized section). The
//! server's pooled connections leave that to a backstop far out
//! ([`AUTOCHECKPOINT_BACKSTOP`], see [`Checkpoints`]) and this task runs a passive checkpoint every
//! [`CHECKPOINT_EVERY`] on a connection of its own instead: it takes no writer's lock and
//! waits for nobody, and a page written many times between two checkpoints is copied once.
//! Command-line tools keep SQLite's own checkpoints.
//!
//! A checkpoint moves committed pages from one file to the other; durability is the same
//! either way.

use std::time::Duration;

use diesel::connection::SimpleConnection;
use tokio::sync::watch;

use super::{DbConn, Manager};
use crate::config::DatabaseTarget;

/// SQLite: who copies the write-ahead log into the database file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checkpoints {
    /// SQLite itself, in the commit that takes the log past 1,000 pages (command-line tools).
    OnCommit,
    /// The server's own task ([`run_checkpointer`]), outside every writer's turn.
    Background,
}

/// The server's connections checkpoint on commit only past 10,000 pages (40 MB), a backstop
/// should this task fall behind or fail (SQLite's default is 1,000 pages).
pub const AUTOCHECKPOINT_BACKSTOP: &str = "PRAGMA wal_autocheckpoint = 10000";

/// How often the log is copied. At 1,000 comments a second the log grows by about 30,000
/// pages a second; a tenth of a second keeps it near 12 MB.
pub const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);

/// After this many failures in a row, the pause between tries stops doubling (100 ms << 7).
const MAX_BACKOFF: u32 = 7;

/// One passive checkpoint on `conn` (made first when there is none); the connection to keep,
/// `None` after a failure (the next look makes a new one).
fn checkpoint_once(target: &DatabaseTarget, conn: Option<DbConn>) -> Option<DbConn> {
    let mut conn = match conn {
        Some(conn) => conn,
        None => match Manager::existing_only(target.clone()).connect() {
            Ok(conn) => conn,
            Err(e) => {
                tracing::warn!(error = %e, "cannot open the database for checkpoints");
                return None;
            }
        },
    };
    match conn.batch_execute("PRAGMA wal_checkpoint(PASSIVE)") {
        Ok(()) => Some(conn),
        Err(e) => {
            tracing::warn!(error = %e, "checkpoint failed");
            None
        }
    }
}

/// The checkpoint task of `serve` on SQLite, until `shutdown`; it ends at once on PostgreSQL.
pub async fn run_checkpointer(target: DatabaseTarget, mut shutdown: watch::Receiver<bool>) {
    if !matches!(target, DatabaseTarget::Sqlite(_)) {
        return;
    }
    let mut conn = None;
    let mut failures = 0;
    loop {
        let target = target.clone();
        conn = actix_web::rt::task::spawn_blocking(move || checkpoint_once(&target, conn))
            .await
            .ok()
            .flatten();
        // While checkpoints fail (a full disk, the file's permissions), the next tries come
        // later and later, so that the log gets a warning every 12.8 s at most, not ten a
        // second; the connections' own checkpoints (the backstop) still bound the log.
        failures = if conn.is_some() {
            0
        } else {
            (failures + 1).min(MAX_BACKOFF)
        };
        tokio::select! {
            _ = tokio::time::sleep(CHECKPOINT_EVERY * (1 << failures)) => {}
            _ = shutdown.changed() => return,
        }
    }
}
