//! Serialized pages kept in memory: bounded in bytes, and built once per key at a time.
//!
//! Keys say exactly which state a page shows (the feed's generation and time slot, a
//! thread's version), so a page is never invalidated in place: a change makes new keys, and
//! pages under old keys are never asked for again and age out. While a page is being built,
//! every other request for the same key waits for it instead of building it too: a page
//! that expires or changes under a crowd of readers costs one database read, not one per
//! reader (a stampede would otherwise queue them all at the pool and make the long tail).

use std::future::Future;
use std::hash::Hash;
use std::sync::Arc;

use actix_web::web::Bytes;
use quick_cache::Weighter;
use quick_cache::sync::Cache;

use crate::error::ApiError;

/// A page as sent: its JSON and its weak ETag.
#[derive(Clone)]
pub struct Page {
    pub body: Bytes,
    pub etag: Arc<str>,
}

impl Page {
    pub fn new(body: Vec<u8>) -> Page {
        let etag = crate::pagination::etag_of(&body);
        Page {
            body: Bytes::from(body),
            etag: etag.into(),
        }
    }

    /// The answer: `200` with the page, or `304` to a matching `If-None-Match`.
    pub fn respond(&self, req: &actix_web::HttpRequest) -> actix_web::HttpResponse {
        crate::pagination::respond_with_etag(req, self.body.clone(), &self.etag)
    }
}

/// What an entry costs: its page and a fixed overhead for the key and the bookkeeping.
#[derive(Clone)]
struct PageBytes;

impl<K> Weighter<K, Page> for PageBytes {
    fn weight(&self, _: &K, page: &Page) -> u64 {
        (page.body.len() + page.etag.len() + 128) as u64
    }
}

pub struct PageCache<K> {
    /// `None` when turned off (a budget of 0).
    pages: Option<Cache<K, Page, PageBytes>>,
}

impl<K: Eq + Hash + Clone> PageCache<K> {
    /// A cache of at most `max_bytes` of pages (0: no cache; every request builds its page).
    pub fn new(max_bytes: u64) -> Self {
        // The item estimate only sizes the tables; pages of a few KiB are typical.
        let estimate = (max_bytes / 4096).clamp(16, 1 << 20) as usize;
        PageCache {
            pages: (max_bytes > 0).then(|| Cache::with_weighter(estimate, max_bytes, PageBytes)),
        }
    }

    /// The page under `key`: from memory, or from `build` (once, however many ask at once;
    /// a build that fails hands the key to the next waiter).
    pub async fn get_or_build<Fut>(&self, key: &K, build: Fut) -> Result<Page, ApiError>
    where
        Fut: Future<Output = Result<Page, ApiError>>,
    {
        match &self.pages {
            Some(pages) => pages.get_or_insert_async(key, build).await,
            None => build.await,
        }
    }
}
