//! View counting: one view per viewer (user, or else client address) per discussion per UTC
//! day, without a database write per page view.
//!
//! Views are deduplicated in memory (a set of hashed keys, cleared at midnight UTC and, to stay
//! bounded, when it reaches `MAX_SEEN` entries) and buffered as per-discussion deltas that a
//! task adds to `discussions.views` in one transaction about every second (`views = views + n`,
//! so several processes add up). A graceful stop flushes what is buffered. A crash loses at
//! most the last second of views; a failed flush keeps its deltas for the next one. With several
//! processes each deduplicates on its own, so a viewer whose requests reach N processes can
//! count up to N times a day.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, RandomState};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{NaiveDate, Utc};
use tokio::sync::watch;

use super::repo;
use crate::db::Db;

const MAX_SEEN: usize = 1_000_000;
const FLUSH_EVERY: Duration = Duration::from_secs(1);

/// Who is looking.
#[derive(Debug, Clone, Copy, Hash)]
pub enum Viewer {
    User(i64),
    Address(IpAddr),
}

struct State {
    day: NaiveDate,
    seen: HashSet<u64>,
    pending: HashMap<i64, i64>,
}

pub struct ViewCounter {
    hasher: RandomState,
    state: Mutex<State>,
}

impl Default for ViewCounter {
    fn default() -> Self {
        ViewCounter {
            hasher: RandomState::new(),
            state: Mutex::new(State {
                day: Utc::now().date_naive(),
                seen: HashSet::new(),
                pending: HashMap::new(),
            }),
        }
    }
}

impl ViewCounter {
    /// Counts the view unless this viewer already viewed this discussion today. Returns the
    /// views buffered for the discussion and not yet in the database.
    pub fn record(&self, discussion_id: i64, viewer: Viewer) -> i64 {
        let today = Utc::now().date_naive();
        let key = self.hasher.hash_one((discussion_id, viewer));
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if state.day != today {
            state.day = today;
            state.seen.clear();
        }
        if state.seen.len() >= MAX_SEEN {
            state.seen.clear();
        }
        if state.seen.insert(key) {
            *state.pending.entry(discussion_id).or_default() += 1;
        }
        state.pending.get(&discussion_id).copied().unwrap_or(0)
    }

    /// Views buffered for a discussion.
    pub fn pending(&self, discussion_id: i64) -> i64 {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.pending.get(&discussion_id).copied().unwrap_or(0)
    }

    fn take(&self) -> Vec<(i64, i64)> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let mut deltas: Vec<(i64, i64)> = state.pending.drain().collect();
        // One order for every process, so concurrent flushes cannot deadlock.
        deltas.sort_unstable();
        deltas
    }

    fn restore(&self, deltas: Vec<(i64, i64)>) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        for (id, delta) in deltas {
            *state.pending.entry(id).or_default() += delta;
        }
    }

    /// Writes the buffered deltas in one transaction; on failure keeps them for the next try.
    pub async fn flush(&self, db: &Db) {
        let deltas = self.take();
        if deltas.is_empty() {
            return;
        }
        let written = deltas.clone();
        if let Err(e) = db
            .tx(move |conn| Ok(repo::add_views(conn, &written)?))
            .await
        {
            tracing::warn!(error = %e, "cannot write view counts; keeping them for the next flush");
            self.restore(deltas);
        }
    }
}

/// Flushes about every second until `shutdown`, then once more.
pub async fn run_flusher(
    db: Db,
    counter: actix_web::web::Data<ViewCounter>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(FLUSH_EVERY) => counter.flush(&db).await,
            _ = shutdown.changed() => break,
        }
    }
    counter.flush(&db).await;
    tracing::info!("view counts flushed");
}

/// Who is viewing: the signed-in user, or else the client's address.
pub fn viewer(req: &actix_web::HttpRequest, auth: Option<crate::auth::AuthUser>) -> Viewer {
    match auth {
        Some(user) => Viewer::User(user.id),
        None => Viewer::Address(crate::ratelimit::ClientIp::of(req).0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_view_per_viewer_per_discussion() {
        let counter = ViewCounter::default();
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        assert_eq!(counter.record(1, Viewer::User(7)), 1);
        assert_eq!(counter.record(1, Viewer::User(7)), 1);
        assert_eq!(counter.record(1, Viewer::User(8)), 2);
        assert_eq!(counter.record(1, Viewer::Address(ip)), 3);
        assert_eq!(counter.record(2, Viewer::User(7)), 1);
        assert_eq!(counter.take(), vec![(1, 3), (2, 1)]);
        assert_eq!(counter.pending(1), 0);
        counter.restore(vec![(1, 3)]);
        assert_eq!(counter.pending(1), 3);
    }
}
