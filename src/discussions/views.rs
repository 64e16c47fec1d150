//! View counting: one view per viewer (user, or else client address) per discussion per UTC
//! day, for the whole site, without a database write per page view.
//!
//! Each process keeps the views it saw in memory (a set of hashed keys, cleared at midnight UTC
//! and, to stay bounded, when it reaches `MAX_SEEN` entries) and, about every second, writes
//! them as marks in `view_marks` (the viewer as a salted hash) in one transaction: only marks
//! no process wrote before count, and each discussion's `views` moves by that many. So a
//! reader whose requests reach several processes counts once. A graceful stop flushes what is
//! buffered; a crash loses at most the last second of views; a failed flush keeps its marks
//! for the next one. Yesterday's marks are purged by the retention task.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, RandomState};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{NaiveDate, Utc};
use sha2::Digest;
use tokio::sync::watch;

use super::readers::Readers;
use super::repo;
use crate::config::ViewCounting;
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
    /// Views seen here and not yet written: `(discussion, viewer's mark)`.
    marks: Vec<(i64, String)>,
    /// How many of `marks` each discussion has (shown until written).
    pending: HashMap<i64, i64>,
}

pub struct ViewCounter {
    /// Which requests are readers'.
    readers: Readers,
    /// On pages' `GET`s, or only on their beacons.
    counting: ViewCounting,
    hasher: RandomState,
    /// The site's salt for viewers' marks (kept in the `settings` table, the same in every
    /// process): an address is never stored as it is.
    salt: String,
    state: Mutex<State>,
}

impl ViewCounter {
    pub fn new(salt: String, readers: Readers, counting: ViewCounting) -> Self {
        ViewCounter {
            readers,
            counting,
            hasher: RandomState::new(),
            salt,
            state: Mutex::new(State {
                day: Utc::now().date_naive(),
                seen: HashSet::new(),
                marks: Vec::new(),
                pending: HashMap::new(),
            }),
        }
    }

    /// The viewer's mark for a day: the same in every process.
    fn mark(&self, day: NaiveDate, viewer: Viewer) -> String {
        let who = match viewer {
            Viewer::User(id) => format!("u{id}"),
            Viewer::Address(ip) => format!("a{ip}"),
        };
        let digest = sha2::Sha256::digest(format!("{}|{day}|{who}", self.salt));
        crate::auth::tokens::hex(&digest[..16])
    }

    /// A page of discussion `discussion_id` (an article's or a discussion's `GET`) was served
    /// for `req`: counts a view if views count on pages (`TRIBUNE_VIEW_COUNTING=get`) and the
    /// request is a reader's ([`Readers::is_reader`]). Returns the views buffered for the
    /// discussion and not yet in the database.
    pub fn page_served(
        &self,
        req: &actix_web::HttpRequest,
        discussion_id: i64,
        auth: Option<crate::auth::AuthUser>,
    ) -> i64 {
        if self.counting == ViewCounting::Get && self.readers.is_reader(req) {
            self.record(discussion_id, viewer(req, auth))
        } else {
            self.pending(discussion_id)
        }
    }

    /// The page's own signal that a reader sees it (`POST /discussions/{id}/views`): counts a
    /// view if the request is a reader's, whatever `TRIBUNE_VIEW_COUNTING` says (a reader's
    /// page and its beacon count once: one view per viewer per day). Returns whether it was a
    /// reader's.
    pub fn beacon(
        &self,
        req: &actix_web::HttpRequest,
        discussion_id: i64,
        auth: Option<crate::auth::AuthUser>,
    ) -> bool {
        let reader = self.readers.is_reader(req);
        if reader {
            self.record(discussion_id, viewer(req, auth));
        }
        reader
    }

    /// Counts the view unless this viewer already viewed this discussion today (here; the
    /// flush checks the other processes). Returns the views buffered for the discussion and
    /// not yet in the database.
    fn record(&self, discussion_id: i64, viewer: Viewer) -> i64 {
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
            let mark = self.mark(today, viewer);
            state.marks.push((discussion_id, mark));
            *state.pending.entry(discussion_id).or_default() += 1;
        }
        state.pending.get(&discussion_id).copied().unwrap_or(0)
    }

    /// Views buffered for a discussion.
    pub fn pending(&self, discussion_id: i64) -> i64 {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.pending.get(&discussion_id).copied().unwrap_or(0)
    }

    fn take(&self) -> (NaiveDate, Vec<(i64, String)>) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.pending.clear();
        let mut marks = std::mem::take(&mut state.marks);
        // One order for every process, so concurrent flushes cannot deadlock.
        marks.sort_unstable();
        (state.day, marks)
    }

    fn restore(&self, marks: Vec<(i64, String)>) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        for (id, mark) in marks {
            *state.pending.entry(id).or_default() += 1;
            state.marks.push((id, mark));
        }
    }

    /// Writes the buffered marks, and the views they add, in one transaction; on failure keeps
    /// them for the next try.
    pub async fn flush(&self, db: &Db) {
        let (day, marks) = self.take();
        if marks.is_empty() {
            return;
        }
        let written = marks.clone();
        let day = day.to_string();
        let result = db
            .tx(move |conn| {
                let counted = repo::add_view_marks(conn, &day, &written)?;
                let mut deltas: HashMap<i64, i64> = HashMap::new();
                for id in counted {
                    *deltas.entry(id).or_default() += 1;
                }
                let mut deltas: Vec<(i64, i64)> = deltas.into_iter().collect();
                deltas.sort_unstable();
                Ok(repo::add_views(conn, &deltas)?)
            })
            .await;
        if let Err(e) = result {
            tracing::warn!(error = %e, "cannot write view counts; keeping them for the next flush");
            self.restore(marks);
        }
    }
}

/// Forgets the view marks of days before today (the retention task).
pub fn purge_marks(conn: &mut crate::db::DbConn) -> Result<usize, crate::error::ApiError> {
    let today = Utc::now().date_naive().to_string();
    Ok(repo::purge_view_marks(conn, &today)?)
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

    impl ViewCounter {
        fn for_tests(salt: &str) -> ViewCounter {
            let readers = Readers::from_list("").unwrap();
            ViewCounter::new(salt.into(), readers, ViewCounting::Get)
        }
    }

    #[test]
    fn one_view_per_viewer_per_discussion() {
        let counter = ViewCounter::for_tests("salt");
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        assert_eq!(counter.record(1, Viewer::User(7)), 1);
        assert_eq!(counter.record(1, Viewer::User(7)), 1);
        assert_eq!(counter.record(1, Viewer::User(8)), 2);
        assert_eq!(counter.record(1, Viewer::Address(ip)), 3);
        assert_eq!(counter.record(2, Viewer::User(7)), 1);
        let (_, marks) = counter.take();
        let per_discussion: Vec<i64> = marks.iter().map(|(d, _)| *d).collect();
        assert_eq!(per_discussion, vec![1, 1, 1, 2]);
        assert_eq!(counter.pending(1), 0);
        counter.restore(marks);
        assert_eq!(counter.pending(1), 3);
    }

    #[test]
    fn marks_are_the_same_in_every_process_and_hide_the_viewer() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let one = ViewCounter::for_tests("salt").mark(day, Viewer::Address(ip));
        let two = ViewCounter::for_tests("salt").mark(day, Viewer::Address(ip));
        assert_eq!(one, two);
        assert!(!one.contains("192"));
        assert_ne!(
            one,
            ViewCounter::for_tests("pepper").mark(day, Viewer::Address(ip))
        );
    }
}
