//! Discussions: the feed ordered by last activity, topics, view and reply counters, and live
//! updates. Every article has a discussion; readers start topics.

pub mod dto;
pub mod feed_cache;
pub mod handlers;
pub mod live;
pub mod repo;
pub mod views;

use utoipa_actix_web::service_config::ServiceConfig;

use crate::db::DbConn;

// What other features use of discussions.
pub use repo::{AuthorRow, Discussion, NewDiscussion, by_id, delete, insert, lock, sync_article};
pub use views::viewer;

pub fn routes(cfg: &mut ServiceConfig) {
    use handlers::*;
    // `stream` before `{id}`: the first matching route wins.
    cfg.service(feed)
        .service(stream)
        .service(create_topic)
        .service(show_discussion)
        .service(edit_topic);
}

/// A new comment in an open discussion (the comments feature calls this in its
/// transaction): `replies` and `last_activity_at` move, so the discussion rises in the feed.
/// Returns the discussion and its `activity` event for `Live::publish_all` after the commit,
/// or `None` when the discussion is missing, locked, or (unless `include_scheduled`) not
/// visible yet.
pub fn comment_added(
    conn: &mut DbConn,
    discussion_id: i64,
    at: chrono::NaiveDateTime,
    include_scheduled: bool,
) -> Result<Option<(repo::Discussion, Option<String>)>, crate::error::ApiError> {
    let discussion = repo::comment_added(conn, discussion_id, at, include_scheduled)?;
    Ok(discussion.map(|d| {
        let event = hint("activity", &d);
        (d, event)
    }))
}

/// A comment went or came back (deleted, hidden, restored): `replies` moves by `delta`.
/// Returns the discussion and its `updated` event, as [`comment_added`] does.
pub fn replies_moved(
    conn: &mut DbConn,
    discussion_id: i64,
    delta: i64,
) -> Result<Option<(repo::Discussion, Option<String>)>, crate::error::ApiError> {
    let discussion = repo::replies_moved(conn, discussion_id, delta)?;
    Ok(discussion.map(|d| {
        let event = hint("updated", &d);
        (d, event)
    }))
}

/// The event, unless readers cannot see the discussion yet (a scheduled article's), whose
/// title must not show early.
fn hint(event: &'static str, discussion: &repo::Discussion) -> Option<String> {
    (discussion.visible_from <= crate::db::now()).then(|| announce(event, discussion))
}

/// The event that tells every process (and SSE client) that a discussion changed: `created`,
/// `activity`, `updated` or `deleted`. Hand it to `Live::publish_all` after the commit.
pub fn announce(event: &'static str, discussion: &repo::Discussion) -> String {
    dto::DiscussionEvent::new(event, discussion).json()
}
