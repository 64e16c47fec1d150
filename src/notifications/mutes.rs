//! Mutes as thread pages use them: whom a reader muted (kept in memory a short while), and
//! the marks on a page's comments by them.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::repo;
use crate::db::Db;
use crate::error::ApiError;

/// How long a reader's mutes are read from memory. A mute made on this process shows at once
/// (it forgets the reader's entry); one made on another process shows here within this.
pub const FRESH: Duration = Duration::from_secs(30);
/// Readers whose mutes are kept in memory at most (the least used go first).
const READERS: usize = 10_000;

/// Whom each reader muted, as read lately: thread pages are shared by every reader (and
/// cached), and only readers who muted someone pay for the marks.
pub struct MuteCache {
    entries: quick_cache::sync::Cache<i64, (Instant, Arc<[i64]>)>,
}

impl Default for MuteCache {
    fn default() -> Self {
        MuteCache {
            entries: quick_cache::sync::Cache::new(READERS),
        }
    }
}

impl MuteCache {
    /// The accounts `user` muted (sorted).
    pub async fn of(&self, db: &Db, user: i64) -> Result<Arc<[i64]>, ApiError> {
        if let Some((at, muted)) = self.entries.get(&user)
            && at.elapsed() < FRESH
        {
            return Ok(muted);
        }
        let muted: Arc<[i64]> = db
            .run(move |conn| Ok(repo::muted_ids(conn, user)?))
            .await?
            .into();
        self.entries.insert(user, (Instant::now(), muted.clone()));
        Ok(muted)
    }

    /// `user`'s mutes changed: read them again next time.
    pub(super) fn forget(&self, user: i64) {
        self.entries.remove(&user);
    }
}

/// A thread page's JSON with `"author_muted": true` on every comment (nested ones too) by an
/// account in `muted` (sorted); `None` when the page has none (send it as it is).
pub fn mark_muted(page: &[u8], muted: &[i64]) -> Option<Vec<u8>> {
    if muted.is_empty() {
        return None;
    }
    let mut page: Value = serde_json::from_slice(page).ok()?;
    let items = page.get_mut("items")?.as_array_mut()?;
    if !items
        .iter_mut()
        .fold(false, |marked, c| mark(c, muted) | marked)
    {
        return None;
    }
    serde_json::to_vec(&page).ok()
}

/// Marks one comment and its children; whether any was marked.
fn mark(comment: &mut Value, muted: &[i64]) -> bool {
    let mut marked = false;
    if let Some(children) = comment.get_mut("children").and_then(Value::as_array_mut) {
        for child in children {
            marked |= mark(child, muted);
        }
    }
    let author = comment
        .get("author")
        .and_then(|a| a.get("id"))
        .and_then(Value::as_i64);
    if author.is_some_and(|id| muted.binary_search(&id).is_ok())
        && let Some(object) = comment.as_object_mut()
    {
        object.insert("author_muted".into(), Value::Bool(true));
        marked = true;
    }
    marked
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_muted_authors_at_every_depth_and_nobody_else() {
        let page = serde_json::json!({"items": [
            {"id": 1, "author": {"id": 7}, "children": [
                {"id": 2, "author": {"id": 9}, "children": []},
                {"id": 3, "author": null, "children": []}
            ]}
        ], "next_cursor": null});
        let body = serde_json::to_vec(&page).unwrap();
        assert!(mark_muted(&body, &[5]).is_none());
        assert!(mark_muted(&body, &[]).is_none());
        let marked: Value = serde_json::from_slice(&mark_muted(&body, &[3, 9]).unwrap()).unwrap();
        let root = &marked["items"][0];
        assert!(root.get("author_muted").is_none());
        assert_eq!(root["children"][0]["author_muted"], true);
        assert!(root["children"][1].get("author_muted").is_none());
    }
}
