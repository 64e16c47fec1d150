//! SQLite: the writes that wait for the write lock are committed together.
//!
//! SQLite lets one writer in at a time, and a commit costs what the pages it wrote cost: the
//! tail pages of the comments table and its indexes, the discussion's row and its place in
//! the feed's index, a new segment of the search index. Posting a comment wrote about 100 KB
//! that way, and writers spent their turn writing the same pages again one after another
//! (measured: 37 % of both cores idle while eight clients posted, the write lock the limit).
//!
//! So [`super::Db::tx`] on SQLite queues its work here, and whichever queued writer gets the
//! lock first runs every queued work in one transaction, each in a savepoint of its own: a work
//! that fails (or panics) is rolled back alone, exactly as its own transaction would have been,
//! and the others go on. Each caller hears its result only after the commit: nothing is
//! acknowledged before it is durable, and a failed commit fails every work of the batch. The
//! works of a batch run one after the other, each seeing the ones before it, as they would if
//! each had committed on its own in that order.
//!
//! Every queued work has its own caller's job on a database thread coming for the lock (the
//! caller holds a turn at the pool, and there is a thread per turn), so no work waits for a
//! writer that will not come; a caller that finds its work already done returns at once.
//!
//! Unlike [`super::Db::run`], a batch does not ping its connection after a `503`-kind error
//! to drop it if dead: a SQLite connection does not die the way a socket does. A connection
//! left in a transaction is dropped at check-in (`is_broken`), and a database file that
//! vanished is the health probe's to find (`db/health.rs`), for every connection at once.

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::result::Error as DieselError;

use super::{Db, DbConn, SQLITE_WRITER, checkout};
use crate::error::ApiError;

/// At most this many works share a commit: each waits for the whole batch.
const MAX_BATCH: usize = 32;

/// What a work's caller is told once the batch's fate is known.
type Deliver = Box<dyn FnOnce(Result<(), &DieselError>) + Send>;

/// A queued work: run on the batch's connection (or told why it cannot run), it answers
/// whether the transaction is still sound and how to tell its caller.
type Work = Box<dyn for<'a> FnOnce(Result<&'a mut DbConn, ApiError>) -> (bool, Deliver) + Send>;

/// [`super::Db::tx`] on SQLite: `f` queued, and this caller's turn at the lock taken (see the
/// module's documentation).
pub(super) async fn tx<T, F>(db: &Db, writes: Arc<GroupCommit>, f: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut DbConn) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    let turn = db.turn().await?;
    let (answer, result) = tokio::sync::oneshot::channel();
    // No await from here to the job's sending: every queued work has a writer coming for the
    // lock.
    let id = writes.push(f, answer);
    let (pool, health, timeout) = (db.pool.clone(), db.health.clone(), db.timeout);
    db.threads.spawn(move || {
        match checkout(&pool, &health, timeout) {
            Err(e) => writes.give_up(id, e),
            Ok(mut conn) => {
                let _writer = SQLITE_WRITER.lock().unwrap_or_else(|e| e.into_inner());
                writes.run_queued(&mut conn);
            }
        }
        drop(turn);
    });
    result.await.map_err(|_| {
        ApiError::internal(anyhow::anyhow!("a batched write ended without an answer"))
    })?
}

/// The works waiting for the write lock, in arrival order.
#[derive(Default)]
pub struct GroupCommit {
    queue: Mutex<VecDeque<(u64, Work)>>,
    next_id: AtomicU64,
}

impl GroupCommit {
    /// Queues `f`; `answer` receives its result after the commit. Returns the work's number,
    /// for [`GroupCommit::give_up`].
    pub fn push<T, F>(&self, f: F, answer: tokio::sync::oneshot::Sender<Result<T, ApiError>>) -> u64
    where
        F: FnOnce(&mut DbConn) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let work: Work = Box::new(move |conn| {
            let conn = match conn {
                Ok(conn) => conn,
                Err(e) => {
                    let _ = answer.send(Err(e));
                    return (true, Box::new(|_| ()));
                }
            };
            let (result, sound) = in_savepoint(conn, f);
            let deliver: Deliver = Box::new(move |committed| {
                let result = match (result, committed) {
                    (Ok(value), Ok(())) => Ok(value),
                    // Rolled back for another work's fault: retryable, 503.
                    (Ok(_), Err(DieselError::RollbackTransaction)) => Err(ApiError::Unavailable(
                        anyhow::anyhow!("the write was rolled back with its batch"),
                    )),
                    (Ok(_), Err(e)) => Err(ApiError::from(copy(e))),
                    (Err(e), _) => Err(e),
                };
                // The caller may have gone (a timeout): the work is done all the same.
                let _ = answer.send(result);
            });
            (sound, deliver)
        });
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.lock_queue().push_back((id, work));
        id
    }

    /// The caller of work `id` could not get a connection: it is told so, unless a batch has
    /// taken the work already.
    pub fn give_up(&self, id: u64, error: ApiError) {
        let work = {
            let mut queue = self.lock_queue();
            let at = queue.iter().position(|(queued, _)| *queued == id);
            at.and_then(|at| queue.remove(at))
        };
        if let Some((_, work)) = work {
            let (_, deliver) = work(Err(error));
            deliver(Ok(()));
        }
    }

    /// Runs every queued work on `conn`, which holds the process's write turn: in batches of
    /// [`MAX_BATCH`], one transaction each, until the queue is empty.
    pub fn run_queued(&self, conn: &mut DbConn) {
        loop {
            let batch: Vec<Work> = {
                let mut queue = self.lock_queue();
                let n = queue.len().min(MAX_BATCH);
                queue.drain(..n).map(|(_, work)| work).collect()
            };
            if batch.is_empty() {
                return;
            }
            run_batch(conn, batch);
            // A connection left in a transaction it could not end serves no one: the works
            // still queued have their own writers coming, on other connections.
            if depth(conn).is_some() || diesel::r2d2::R2D2Connection::is_broken(conn) {
                return;
            }
        }
    }

    fn lock_queue(&self) -> std::sync::MutexGuard<'_, VecDeque<(u64, Work)>> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// One transaction for `batch`. A work that leaves the transaction unsound (its savepoint
/// could not be ended, or it left a transaction of its own open) ends it: what ran before is
/// rolled back and told so, and the rest go on in a new transaction.
fn run_batch(conn: &mut DbConn, batch: Vec<Work>) {
    let mut works = batch.into_iter().peekable();
    while works.peek().is_some() {
        if depth(conn).is_some() {
            for work in works.by_ref() {
                let (_, deliver) = work(Err(ApiError::Unavailable(anyhow::anyhow!(
                    "the connection is stuck in a transaction"
                ))));
                deliver(Ok(()));
            }
            return;
        }
        if let Err(e) = crate::per_backend!(&mut *conn, |c| {
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")
        }) {
            for work in works.by_ref() {
                let (_, deliver) = work(Err(ApiError::from(copy(&e))));
                deliver(Ok(()));
            }
            return;
        }
        let mut delivers = Vec::new();
        let mut sound = true;
        for work in works.by_ref() {
            let (still_sound, deliver) = work(Ok(conn));
            delivers.push(deliver);
            if !still_sound {
                sound = false;
                break;
            }
        }
        let outcome = if sound && depth(conn) == Some(1) {
            crate::per_backend!(&mut *conn, |c| AnsiTransactionManager::commit_transaction(
                c
            ))
        } else {
            Err(DieselError::RollbackTransaction)
        };
        if outcome.is_err() {
            roll_back_everything(conn);
        }
        for deliver in delivers {
            deliver(outcome.as_ref().map(|_| ()));
        }
    }
}

/// Runs `f` in a savepoint: released when it returns `Ok`, rolled back when it returns an
/// error or panics. Also answers whether the transaction is still sound.
fn in_savepoint<T, F>(conn: &mut DbConn, f: F) -> (Result<T, ApiError>, bool)
where
    F: FnOnce(&mut DbConn) -> Result<T, ApiError>,
{
    let base = depth(conn);
    if let Err(e) =
        crate::per_backend!(&mut *conn, |c| AnsiTransactionManager::begin_transaction(c))
    {
        return (Err(e.into()), false);
    }
    let own = depth(conn);
    let result = catch_unwind(AssertUnwindSafe(|| f(&mut *conn))).unwrap_or_else(|_| {
        Err(ApiError::internal(anyhow::anyhow!(
            "a database write panicked"
        )))
    });
    // A transaction `f` opened and left open (a panic inside it): the work cannot be ended
    // alone, so the batch is rolled back.
    if depth(conn) != own {
        let left_open = Err(ApiError::internal(anyhow::anyhow!(
            "a database write left a transaction open"
        )));
        return (result.and(left_open), false);
    }
    let ended = match &result {
        Ok(_) => crate::per_backend!(&mut *conn, |c| AnsiTransactionManager::commit_transaction(
            c
        )),
        Err(_) => {
            crate::per_backend!(
                &mut *conn,
                |c| AnsiTransactionManager::rollback_transaction(c)
            )
        }
    };
    match ended {
        Ok(()) if depth(conn) == base => (result, true),
        Ok(()) => (result, false),
        Err(e) => (result.and(Err(e.into())), false),
    }
}

/// How deep in transactions `conn` is, as diesel counts: `None` outside any, 1 in the batch's
/// transaction, 2 in a work's savepoint.
fn depth(conn: &mut DbConn) -> Option<u32> {
    crate::per_backend!(&mut *conn, |c| {
        AnsiTransactionManager::transaction_manager_status_mut(c)
            .transaction_depth()
            .ok()
            .flatten()
            .map(|depth| depth.get())
    })
}

/// Rolls back every level of the connection's transaction, the batch's own included.
fn roll_back_everything(conn: &mut DbConn) {
    while depth(conn).is_some() {
        let rolled = crate::per_backend!(&mut *conn, |c| {
            AnsiTransactionManager::rollback_transaction(c)
        });
        if rolled.is_err() {
            // Broken: the pool drops the connection (and SQLite rolls back) when it returns.
            return;
        }
    }
}

/// A copy of a failed commit's error, for each caller of the batch.
fn copy(error: &DieselError) -> DieselError {
    match error {
        DieselError::DatabaseError(kind, info) => {
            DieselError::DatabaseError(*kind, Box::new(info.message().to_string()))
        }
        other => DieselError::DatabaseError(
            diesel::result::DatabaseErrorKind::Unknown,
            Box::new(other.to_string()),
        ),
    }
}
