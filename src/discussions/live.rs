//! Live updates: every process's SSE clients hear of every new discussion and new activity.
//!
//! A change announces itself inside its transaction (`repo::notify`): on PostgreSQL that is a
//! `NOTIFY tribune_discussions`, delivered to every process when the transaction commits, and
//! each process's listener puts it on its local broadcast channel; on SQLite (one process) the
//! caller publishes on the channel after the commit. Each SSE client has its own receiver: a
//! client too slow to keep up misses events (and is told how many) instead of slowing anyone.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use actix_web::web::Bytes;
use diesel::{Connection, PgConnection, RunQueryDsl};
use futures_util::Stream;
use tokio::sync::{broadcast, watch};

use super::feed_cache::FeedCache;
use crate::config::DatabaseTarget;

pub const CHANNEL: &str = "tribune_discussions";
const KEEP_ALIVE: Duration = Duration::from_secs(15);
const BUFFER: usize = 1024;

/// The process's broadcast of discussion events (JSON texts).
#[derive(Clone)]
pub struct Live {
    sender: broadcast::Sender<Arc<str>>,
    /// Cached feed pages, forgotten at every event.
    feed_cache: Arc<FeedCache>,
    /// Turns true when the server starts to stop: open streams end, so shutdown need not wait.
    closing: watch::Receiver<bool>,
}

impl Live {
    pub fn new(closing: watch::Receiver<bool>, feed_cache: Arc<FeedCache>) -> Live {
        Live {
            sender: broadcast::channel(BUFFER).0,
            feed_cache,
            closing,
        }
    }

    /// Publishes to this process's clients (SQLite's path; PostgreSQL's goes through NOTIFY)
    /// and forgets the cached feed pages.
    pub fn publish(&self, payload: &str) {
        self.feed_cache.clear();
        let _ = self.sender.send(Arc::from(payload));
    }

    /// After a commit that changed discussions: forgets this process's cached feed pages at
    /// once (its own writes are read back at once, even before PostgreSQL's NOTIFY comes
    /// round) and publishes what `repo::notify` handed back, if anything.
    pub fn publish_all(&self, payloads: impl IntoIterator<Item = String>) {
        self.feed_cache.clear();
        for payload in payloads {
            self.publish(&payload);
        }
    }

    /// An SSE body: `event: discussion` lines as changes happen, a keep-alive comment every
    /// 15 s; it ends when the client goes away or the server stops.
    pub fn stream(&self) -> impl Stream<Item = Result<Bytes, Infallible>> + 'static {
        let receiver = self.sender.subscribe();
        let closing = self.closing.clone();
        let hello = Bytes::from_static(b"retry: 3000\n: connected\n\n");
        futures_util::stream::unfold(
            (receiver, closing, Some(hello)),
            |(mut receiver, mut closing, hello)| async move {
                if let Some(hello) = hello {
                    return Some((Ok(hello), (receiver, closing, None)));
                }
                if *closing.borrow() {
                    return None;
                }
                let chunk = tokio::select! {
                    event = receiver.recv() => match event {
                        Ok(json) => Bytes::from(format!("event: discussion\ndata: {json}\n\n")),
                        Err(broadcast::error::RecvError::Lagged(missed)) => {
                            Bytes::from(format!(": {missed} events missed\n\n"))
                        }
                        Err(broadcast::error::RecvError::Closed) => return None,
                    },
                    _ = tokio::time::sleep(KEEP_ALIVE) => Bytes::from_static(b": keep-alive\n\n"),
                    _ = closing.changed() => return None,
                };
                Some((Ok(chunk), (receiver, closing, None)))
            },
        )
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
                live.publish_all(payloads);
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
