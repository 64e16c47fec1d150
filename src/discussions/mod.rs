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

pub fn routes(cfg: &mut ServiceConfig) {
    use handlers::*;
    // `stream` before `{id}`: the first matching route wins.
    cfg.service(feed)
        .service(stream)
        .service(create_topic)
        .service(show_discussion)
        .service(edit_topic);
}

/// A comment came, went or came back (the comments feature calls this in its transaction):
/// moves `replies` by `replies_delta`; with `active_at` (a new comment) also sets
/// `last_activity_at`, so the discussion rises in the feed. Returns the discussion as it is
/// now, or `None` when there is none, and the event (`activity` or `updated`) to hand to
/// `Live::publish_all` after the commit: none for a discussion readers cannot see yet (a
/// scheduled article's), whose title must not show early.
pub fn record_activity(
    conn: &mut DbConn,
    discussion_id: i64,
    replies_delta: i64,
    active_at: Option<chrono::NaiveDateTime>,
) -> Result<Option<(repo::Discussion, Option<String>)>, crate::error::ApiError> {
    let Some(discussion) = repo::record_activity(conn, discussion_id, replies_delta, active_at)?
    else {
        return Ok(None);
    };
    let event = if active_at.is_some() {
        "activity"
    } else {
        "updated"
    };
    let event = (discussion.visible_from <= crate::db::now()).then(|| announce(event, &discussion));
    Ok(Some((discussion, event)))
}

/// The event that tells every process (and SSE client) that a discussion changed: `created`,
/// `activity`, `updated` or `deleted`. Hand it to `Live::publish_all` after the commit.
pub fn announce(event: &'static str, discussion: &repo::Discussion) -> String {
    dto::DiscussionEvent::new(event, discussion).json()
}
