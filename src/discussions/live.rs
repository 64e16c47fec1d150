//! Live updates: every process's SSE clients hear of every new discussion and new activity.
//!
//! A change runs in [`Live::tx`], which publishes the events it returns right after the commit.
//! On SQLite (one process) the event goes straight onto this process's broadcast channel. On
//! PostgreSQL it is queued for
//! [`run_pg_notifier`], which sends the queue in batches as `NOTIFY tribune_discussions`, and
//! every process's listener ([`run_pg_listener`]) puts what it hears on its own channel.
//!
//! Why not `NOTIFY` inside the writing transaction: PostgreSQL lets only one transaction that
//! has notified commit at a time (it holds a database-wide lock through the commit's fsync),
//! which capped comment posting at a few hundred a second. Live events are hints (clients
//! can always re-read the feed with `?since=`), so one lost in a crash between the commit and
//! the batch costs nothing that matters; the data itself is committed.
//!
//! Each SSE client has its own receiver: a client too slow to keep up misses events (and is
//! told how many) instead of slowing anyone.
//!
//! The same bus carries events meant for one signed-in reader (their notifications, made by
//! [`personal`]): each process hands them to that reader's own streams only
//! ([`Live::personal_stream`]), looked up by account, so a busy site's events do not wake every
//! open stream.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::web::Bytes;
use diesel::{Connection, PgConnection, RunQueryDsl};
use futures_util::Stream;
use tokio::sync::{broadcast, mpsc, watch};

use prometheus_client::metrics::gauge::Gauge;

use super::feed_cache::FeedCache;
use crate::config::DatabaseTarget;
use crate::db::Db;
use crate::error::ApiError;

pub const CHANNEL: &str = "tribune_discussions";
const KEEP_ALIVE: Duration = Duration::from_secs(15);
const BUFFER: usize = 1024;
/// Events waiting for the notifier; past this, new ones are dropped (with a warning).
const QUEUE: usize = 10_000;
/// Events sent in one `NOTIFY` round trip at most.
const BATCH: usize = 500;

/// The process's broadcast of discussion events (JSON texts).
#[derive(Clone)]
pub struct Live {
    sender: broadcast::Sender<Arc<str>>,
    /// Cached feed pages, forgotten at every event.
    feed_cache: Arc<FeedCache>,
    /// Turns true when the server starts to stop: open streams end, so shutdown need not wait.
    closing: watch::Receiver<bool>,
    /// PostgreSQL: the notifier's queue. `None` on SQLite.
    outgoing: Option<mpsc::Sender<String>>,
    /// The signed-in readers with a stream open in this process, by account.
    readers: Arc<Mutex<HashMap<i64, broadcast::Sender<Arc<str>>>>>,
}

/// Events one reader's streams buffer; a slower reader misses events (and is told how many).
const READER_BUFFER: usize = 64;

/// An event for one reader's own streams (a notification), to return from a [`Live::tx`]
/// closure with the other events: `@{user_id} {json}` on the bus.
pub fn personal(user_id: i64, json: &str) -> String {
    format!("@{user_id} {json}")
}

/// The reader and the JSON of a [`personal`] event; `None` for a discussion event.
fn parse_personal(payload: &str) -> Option<(i64, &str)> {
    let (user, json) = payload.strip_prefix('@')?.split_once(' ')?;
    Some((user.parse().ok()?, json))
}

impl Live {
    /// A broadcast for this process; with `outgoing` (PostgreSQL), events published here go
    /// to every process through [`run_pg_notifier`], which reads the other end.
    pub fn new(
        closing: watch::Receiver<bool>,
        feed_cache: Arc<FeedCache>,
        outgoing: Option<mpsc::Sender<String>>,
    ) -> Live {
        Live {
            sender: broadcast::channel(BUFFER).0,
            feed_cache,
            closing,
            outgoing,
            readers: Arc::default(),
        }
    }

    /// The notifier's queue, for a process on PostgreSQL.
    pub fn queue() -> (mpsc::Sender<String>, mpsc::Receiver<String>) {
        mpsc::channel(QUEUE)
    }

    /// Hands events to this process's clients only, and forgets the cached feed pages.
    pub fn deliver_all(&self, payloads: impl IntoIterator<Item = String>) {
        self.feed_cache.clear();
        for payload in payloads {
            if let Some((user, json)) = parse_personal(&payload) {
                let readers = self.readers.lock().unwrap_or_else(|e| e.into_inner());
                if let Some(sender) = readers.get(&user) {
                    let _ = sender.send(Arc::from(json));
                }
                continue;
            }
            let _ = self.sender.send(Arc::from(payload));
        }
    }

    /// After a commit that changed discussions: forgets this process's cached feed pages at
    /// once (its own writes are read back at once, before any notification comes round), and
    /// sends the events to every process's clients.
    fn publish_all(&self, payloads: impl IntoIterator<Item = String>) {
        let Some(outgoing) = &self.outgoing else {
            self.deliver_all(payloads);
            return;
        };
        self.feed_cache.clear();
        for payload in payloads {
            match outgoing.try_send(payload) {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Full(_)) => {
                    tracing::warn!("live updates: the notify queue is full; an event is dropped")
                }
                // The notifier has stopped: the process is shutting down.
                Err(mpsc::error::TrySendError::Closed(_)) => {
                    tracing::debug!("live updates: shutting down; an event is dropped")
                }
            }
        }
    }

    /// Runs `f` in a transaction and publishes the event it returns right after the commit, in
    /// a task of its own: a request cancelled meanwhile (a timeout, a client gone) still
    /// announces what it committed.
    /// The events are any collection of texts: `Option<String>` for one discussion's event,
    /// a `Vec` when a change also notifies readers ([`personal`]).
    pub async fn tx<T, E, F>(&self, db: &Db, f: F) -> Result<T, crate::error::ApiError>
    where
        F: FnOnce(&mut crate::db::DbConn) -> Result<(T, E), crate::error::ApiError>
            + Send
            + 'static,
        E: IntoIterator<Item = String> + Send + 'static,
        T: Send + 'static,
    {
        let (live, db) = (self.clone(), db.clone());
        actix_web::rt::spawn(async move {
            let (value, events) = db.tx(f).await?;
            live.publish_all(events);
            Ok(value)
        })
        .await
        .map_err(|e| crate::error::ApiError::internal(anyhow::anyhow!("write task failed: {e}")))?
    }

    /// An SSE body: `event: discussion` lines as changes happen, a keep-alive comment every
    /// 15 s; it ends when the client goes away, the server stops, or `slot`'s lifetime is
    /// over (then with a `retry:` so that the browser reconnects by itself). The slot is given
    /// back when the body is dropped.
    pub fn stream(
        &self,
        slot: StreamSlot,
    ) -> impl Stream<Item = Result<Bytes, Infallible>> + 'static {
        sse(
            self.sender.subscribe(),
            "discussion",
            self.closing.clone(),
            slot,
            None,
        )
    }

    /// One signed-in reader's SSE body: `event: notification` lines with their new
    /// notifications ([`personal`] events), otherwise as [`Live::stream`].
    pub fn personal_stream(
        &self,
        user_id: i64,
        slot: StreamSlot,
    ) -> impl Stream<Item = Result<Bytes, Infallible>> + 'static {
        let receiver = {
            let mut readers = self.readers.lock().unwrap_or_else(|e| e.into_inner());
            readers
                .entry(user_id)
                .or_insert_with(|| broadcast::channel(READER_BUFFER).0)
                .subscribe()
        };
        let reader = Reader {
            readers: self.readers.clone(),
            user_id,
        };
        sse(
            receiver,
            "notification",
            self.closing.clone(),
            slot,
            Some(reader),
        )
    }
}

/// A reader's open stream: when the last one goes, the reader's channel goes too.
struct Reader {
    readers: Arc<Mutex<HashMap<i64, broadcast::Sender<Arc<str>>>>>,
    user_id: i64,
}

impl Drop for Reader {
    fn drop(&mut self) {
        let mut readers = self.readers.lock().unwrap_or_else(|e| e.into_inner());
        if readers
            .get(&self.user_id)
            .is_some_and(|sender| sender.receiver_count() == 0)
        {
            readers.remove(&self.user_id);
        }
    }
}

/// What an open SSE body holds between chunks. The receiver is dropped before the reader
/// (fields drop in order), so the reader sees its channel's count without it.
struct Open {
    receiver: broadcast::Receiver<Arc<str>>,
    closing: watch::Receiver<bool>,
    hello: Option<Bytes>,
    slot: Option<StreamSlot>,
    _reader: Option<Reader>,
}

/// An SSE body of `event: {event}` lines from `receiver`; see [`Live::stream`].
fn sse(
    receiver: broadcast::Receiver<Arc<str>>,
    event: &'static str,
    closing: watch::Receiver<bool>,
    slot: StreamSlot,
    reader: Option<Reader>,
) -> impl Stream<Item = Result<Bytes, Infallible>> + 'static {
    let deadline = tokio::time::Instant::now() + slot.lifetime;
    let open = Open {
        receiver,
        closing,
        hello: Some(Bytes::from_static(b"retry: 3000\n: connected\n\n")),
        slot: Some(slot),
        _reader: reader,
    };
    futures_util::stream::unfold(open, move |mut open| async move {
        open.slot.as_ref()?;
        if let Some(hello) = open.hello.take() {
            return Some((Ok(hello), open));
        }
        if *open.closing.borrow() {
            return None;
        }
        let chunk = tokio::select! {
            _ = tokio::time::sleep_until(deadline) => {
                // The last chunk; the next poll finds no slot and ends the body.
                open.slot = None;
                Bytes::from_static(b"retry: 1000\n: this stream has reached its lifetime; reconnect\n\n")
            }
            received = open.receiver.recv() => match received {
                Ok(json) => Bytes::from(format!("event: {event}\ndata: {json}\n\n")),
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    Bytes::from(format!(": {missed} events missed\n\n"))
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            },
            _ = tokio::time::sleep(KEEP_ALIVE) => Bytes::from_static(b": keep-alive\n\n"),
            _ = open.closing.changed() => return None,
        };
        Some((Ok(chunk), open))
    })
}

/// The live streams this process holds open: a few per client address, a cap on all (each is
/// a file descriptor and a task). Kept per process on purpose: what they use up (descriptors,
/// memory) is each process's own.
pub struct StreamSlots {
    per_client: u32,
    max: u32,
    lifetime: Duration,
    open: Mutex<HashMap<String, u32>>,
    gauge: Gauge,
}

/// One open stream's place; given back when dropped.
pub struct StreamSlot {
    slots: Arc<StreamSlots>,
    client: String,
    lifetime: Duration,
}

impl StreamSlots {
    pub fn new(per_client: u32, max: u32, lifetime: Duration, gauge: Gauge) -> StreamSlots {
        StreamSlots {
            per_client,
            max,
            lifetime,
            open: Mutex::new(HashMap::new()),
            gauge,
        }
    }

    /// A place for one more stream of `client`: `429` when the client holds its share
    /// already, `503` when the process holds as many as it may.
    pub fn take(self: &Arc<Self>, client: String) -> Result<StreamSlot, ApiError> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let total: u32 = open.values().sum();
        if total >= self.max {
            return Err(ApiError::Unavailable(anyhow::anyhow!(
                "this server holds as many live streams as it may; try again later"
            )));
        }
        let held = open.entry(client.clone()).or_insert(0);
        if *held >= self.per_client {
            return Err(ApiError::RateLimited { retry_after: 30 });
        }
        *held += 1;
        self.gauge.set(i64::from(total + 1));
        Ok(StreamSlot {
            slots: self.clone(),
            client,
            lifetime: self.lifetime,
        })
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = self.slots.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(held) = open.get_mut(&self.client) {
            *held -= 1;
            if *held == 0 {
                open.remove(&self.client);
            }
        }
        let total: u32 = open.values().sum();
        self.slots.gauge.set(i64::from(total));
    }
}

/// On PostgreSQL: a connection that LISTENs and forwards every notification to `live`, until
/// `shutdown`. Reconnects after failures.
pub async fn run_pg_listener(
    target: DatabaseTarget,
    live: Live,
    mut shutdown: watch::Receiver<bool>,
) {
    let DatabaseTarget::Postgres(url) = target else {
        return;
    };
    let mut connection: Option<PgConnection> = None;
    loop {
        let mut conn = match connection.take() {
            Some(conn) => conn,
            None => {
                let url = url.clone();
                let connected = actix_web::rt::task::spawn_blocking(move || {
                    let mut conn = PgConnection::establish(url.expose())?;
                    diesel::sql_query(format!("LISTEN {CHANNEL}")).execute(&mut conn)?;
                    Ok::<_, anyhow::Error>(conn)
                })
                .await;
                match connected {
                    Ok(Ok(conn)) => conn,
                    Ok(Err(e)) => {
                        tracing::warn!(error = %e, "live updates: cannot listen; retrying");
                        if wait(&mut shutdown, Duration::from_secs(2)).await {
                            return;
                        }
                        continue;
                    }
                    Err(_) => return,
                }
            }
        };
        let polled = actix_web::rt::task::spawn_blocking(move || {
            let payloads: Result<Vec<String>, _> = conn
                .notifications_iter()
                .map(|n| n.map(|n| n.payload))
                .collect();
            (conn, payloads)
        })
        .await;
        match polled {
            Ok((conn, Ok(payloads))) => {
                live.deliver_all(payloads);
                connection = Some(conn);
            }
            Ok((_, Err(e))) => {
                tracing::warn!(error = %e, "live updates: listener connection lost; reconnecting");
            }
            Err(_) => return,
        }
        if wait(&mut shutdown, Duration::from_millis(50)).await {
            return;
        }
    }
}

/// On PostgreSQL: sends queued events as `NOTIFY`s, up to `BATCH` in one statement, until
/// `shutdown`; what is still queued then goes out before it returns.
pub async fn run_pg_notifier(
    db: Db,
    mut queue: mpsc::Receiver<String>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let first = tokio::select! {
            first = queue.recv() => first,
            _ = shutdown.changed() => None,
        };
        let Some(first) = first else { break };
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match queue.try_recv() {
                Ok(payload) => batch.push(payload),
                Err(_) => break,
            }
        }
        notify(&db, batch).await;
    }
    let mut rest = Vec::new();
    while let Ok(payload) = queue.try_recv() {
        rest.push(payload);
    }
    if !rest.is_empty() {
        notify(&db, rest).await;
    }
}

async fn notify(db: &Db, payloads: Vec<String>) {
    let count = payloads.len();
    let sent = db
        .run(move |conn| Ok(super::repo::notify_all(conn, CHANNEL, &payloads)?))
        .await;
    if let Err(error) = sent {
        tracing::warn!(%error, count, "live updates: cannot notify; events dropped");
    }
}

/// Sleeps `pause`; true when shutdown came first.
async fn wait(shutdown: &mut watch::Receiver<bool>, pause: Duration) -> bool {
    if *shutdown.borrow() {
        return true;
    }
    tokio::select! {
        _ = tokio::time::sleep(pause) => false,
        _ = shutdown.changed() => true,
    }
}
