//! A short-lived cache of serialized feed pages.
//!
//! The feed is the most requested page of the site and every poller asks for the same few
//! pages. Each process keeps a page (body and ETag, by query string) for
//! `TRIBUNE_FEED_CACHE_MS` (500 ms by default; 0 turns it off), and forgets every page as soon
//! as any discussion event reaches it (`Live::publish`: a new topic or article, new activity,
//! an edit, a deletion — from this process or, through PostgreSQL NOTIFY, from any other).
//! What a cached page can lag behind is therefore only the view counters, by at most the TTL.
//! Distinct query strings are bounded (`MAX_PAGES`): a flood of odd ones only empties it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const MAX_PAGES: usize = 1024;

#[derive(Clone)]
pub struct CachedPage {
    pub body: Arc<[u8]>,
    pub etag: Arc<str>,
}

pub struct FeedCache {
    ttl: Duration,
    pages: Mutex<HashMap<String, (Instant, CachedPage)>>,
}

impl FeedCache {
    pub fn new(ttl: Duration) -> Self {
        FeedCache {
            ttl,
            pages: Mutex::new(HashMap::new()),
        }
    }

    pub fn get(&self, query: &str) -> Option<CachedPage> {
        if self.ttl.is_zero() {
            return None;
        }
        let pages = self.pages.lock().unwrap_or_else(|e| e.into_inner());
        pages
            .get(query)
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, page)| page.clone())
    }

    pub fn put(&self, query: &str, page: CachedPage) {
        if self.ttl.is_zero() {
            return;
        }
        let mut pages = self.pages.lock().unwrap_or_else(|e| e.into_inner());
        if pages.len() >= MAX_PAGES {
            pages.retain(|_, (at, _)| at.elapsed() < self.ttl);
            if pages.len() >= MAX_PAGES {
                pages.clear();
            }
        }
        pages.insert(query.to_string(), (Instant::now(), page));
    }

    pub fn clear(&self) {
        self.pages.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}
