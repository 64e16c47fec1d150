//! Feed pages kept in memory for a moment.
//!
//! The feed is the most requested page of the site and every poller asks for the same few
//! pages. Each process keeps a page (body and ETag, by query string) for at most
//! `TRIBUNE_FEED_CACHE_MS` (500 ms by default; 0 turns it off). A page is kept under its
//! query, the feed's generation and the time slot it was built in: every discussion event
//! (`Live::publish`: a new topic or article, new activity, an edit, a deletion — from this
//! process at once, from any other through PostgreSQL NOTIFY) starts a new generation, so
//! what a page served from memory can lag behind is only the view counters, by at most the
//! TTL. When a page expires or a generation starts under a crowd of readers, one of them
//! builds the page and the others wait for it ([`PageCache`]). Memory is bounded in bytes:
//! a flood of odd query strings only evicts pages.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::error::ApiError;
use crate::page_cache::{Page, PageCache};

/// Memory for feed pages (a page of 100 items is about 40 KiB).
const MAX_BYTES: u64 = 8 << 20;

pub struct FeedCache {
    ttl: Duration,
    generation: AtomicU64,
    started: Instant,
    pages: PageCache<(u64, u64, Box<str>)>,
}

impl FeedCache {
    pub fn new(ttl: Duration) -> Self {
        FeedCache {
            ttl,
            generation: AtomicU64::new(0),
            started: Instant::now(),
            pages: PageCache::new(if ttl.is_zero() { 0 } else { MAX_BYTES }),
        }
    }

    /// The page for `query`: from memory while it is current, else from `build`.
    pub async fn get_or_build<Fut>(&self, query: &str, build: Fut) -> Result<Page, ApiError>
    where
        Fut: std::future::Future<Output = Result<Page, ApiError>>,
    {
        let slot = (self.started.elapsed().as_millis() / self.ttl.as_millis().max(1)) as u64;
        let key = (self.generation.load(Ordering::Acquire), slot, query.into());
        self.pages.get_or_build(&key, build).await
    }

    /// A discussion changed: pages built before are not served again.
    pub fn clear(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }
}
