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
/// `last_activity_at`, so the discussion rises in the feed. Announces it (`activity` or
/// `updated`). Returns the discussion as it is now, or `None` when there is none, and what to
/// hand to `Live::publish_all` after the commit.
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
    let events = announce(conn, event, &discussion)?;
    Ok(Some((discussion, events)))
}

/// Tells every process (and SSE client) that a discussion changed, in the caller's
/// transaction: `created`, `activity`, `updated` or `deleted`. Returns what to hand to
/// `Live::publish_all` after the commit (SQLite; PostgreSQL delivers on commit by itself).
pub fn announce(
    conn: &mut DbConn,
    event: &'static str,
    discussion: &repo::Discussion,
) -> Result<Option<String>, crate::error::ApiError> {
    let payload = dto::DiscussionEvent::new(event, discussion).json();
    Ok(repo::notify(conn, live::CHANNEL, &payload)?)
}
