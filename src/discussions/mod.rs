//! Discussions: the feed ordered by last activity, topics, view and reply counters, and live
//! updates. Every article has a discussion; readers start topics.

pub mod domain;
pub mod dto;
pub mod feed_cache;
pub mod handlers;
pub mod live;
pub mod readers;
pub mod repo;
pub mod views;

use utoipa_actix_web::service_config::ServiceConfig;

use crate::db::DbConn;

// What other features use of discussions.
pub use domain::Kind;
pub use repo::{
    AuthorRow, Discussion, NewDiscussion, THREAD_STATE, ThreadState, by_id, delete, insert, lock,
    recent, sync_article, thread_state,
};
pub use views::viewer;

pub fn routes(cfg: &mut ServiceConfig) {
    use handlers::*;
    // `stream` before `{id}`: the first matching route wins.
    cfg.service(feed)
        .service(stream)
        .service(create_topic)
        .service(show_discussion)
        .service(discussion_viewed)
        .service(edit_topic);
}

/// A new comment in an open discussion (the comments feature calls this in its
/// transaction): `replies` and `last_activity_at` move, so the discussion rises in the feed.
/// Returns the discussion and its `activity` event (return it from the `Live::tx` closure),
/// or `None` when the discussion is missing, locked, premoderated, or (unless `include_scheduled`) not
/// visible yet.
///
/// `(at, include_scheduled, exempt)`: `exempt` posts in a premoderated discussion too (a
/// moderator's comment).
pub fn comment_added(
    conn: &mut DbConn,
    discussion_id: i64,
    (at, include_scheduled, exempt): (chrono::NaiveDateTime, bool, bool),
) -> Result<Option<(repo::Discussion, Option<String>)>, crate::error::ApiError> {
    let discussion = repo::comment_added(conn, discussion_id, at, (include_scheduled, exempt))?;
    Ok(discussion.map(|d| {
        let event = announce_if_public("activity", &d);
        (d, event)
    }))
}

/// A held comment was approved (the premoderation feature calls this in its transaction):
/// the discussion moves as for a new comment, and one fewer comment waits. Returns what
/// [`comment_added`] returns.
pub fn comment_published(
    conn: &mut DbConn,
    discussion_id: i64,
    at: chrono::NaiveDateTime,
) -> Result<Option<(repo::Discussion, Option<String>)>, crate::error::ApiError> {
    let discussion = repo::comment_published(conn, discussion_id, at)?;
    Ok(discussion.map(|d| {
        let event = announce_if_public("activity", &d);
        (d, event)
    }))
}

/// How many of the discussion's comments wait for a moderator moves by `delta` (a comment was
/// held, or left the queue other than by approval).
pub fn pending_moved(
    conn: &mut DbConn,
    discussion_id: i64,
    delta: i64,
) -> Result<(), crate::error::ApiError> {
    repo::pending_moved(conn, discussion_id, delta)?;
    Ok(())
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
        let event = announce_if_public("updated", &d);
        (d, event)
    }))
}

/// Takes an erased account off the discussions it started, in the caller's transaction, in
/// the lock order: without `keep_text`, its topics' bodies go too (their titles stay, as the
/// threads' names). Re-indexes them for search. Returns the events to publish.
pub fn erase_author(
    conn: &mut DbConn,
    user_id: i64,
    keep_text: bool,
) -> Result<Vec<String>, crate::error::ApiError> {
    let mut events = Vec::new();
    for id in repo::authored_by(conn, user_id)? {
        let Some(discussion) = repo::lock(conn, id)? else {
            continue;
        };
        let erase = !keep_text && discussion.kind == Kind::Topic;
        if let Some(discussion) = repo::disown(conn, id, erase)? {
            crate::search::discussion_written(conn, id)?;
            events.extend(announce_if_public("updated", &discussion));
        }
    }
    Ok(events)
}

/// Comments imported into a discussion (see `import`): `replies` up by `added`,
/// `last_activity_at` to `latest` if that is later.
pub fn imported(
    conn: &mut DbConn,
    discussion_id: i64,
    added: i64,
    latest: chrono::NaiveDateTime,
) -> Result<(), crate::error::ApiError> {
    repo::imported(conn, discussion_id, added, latest)?;
    Ok(())
}

/// Whether everyone sees `discussion` now (a scheduled article's shows from its publication).
pub fn is_public(discussion: &repo::Discussion) -> bool {
    public_from(discussion.visible_from)
}

fn public_from(visible_from: chrono::NaiveDateTime) -> bool {
    visible_from <= crate::db::now()
}

/// Whether a caller sees `discussion`: everyone once it is public, and before that staff who
/// may see unpublished work (`staff`: [`crate::auth::sees_unpublished`] of the caller's role).
pub fn visible(discussion: &repo::Discussion, staff: bool) -> bool {
    staff || is_public(discussion)
}

impl ThreadState {
    /// Whether a caller sees the discussion, as [`visible`] says.
    pub fn visible(&self, staff: bool) -> bool {
        staff || public_from(self.visible_from)
    }
}

/// The event, unless readers cannot see the discussion yet (a scheduled article's), whose
/// title must not show early on the live stream.
pub fn announce_if_public(event: &'static str, discussion: &repo::Discussion) -> Option<String> {
    is_public(discussion).then(|| announce(event, discussion))
}

/// The event that tells every process (and SSE client) that a discussion changed: `created`,
/// `activity`, `updated` or `deleted`. Return it from the closure of `Live::tx`, which publishes
/// it right after the commit.
pub fn announce(event: &'static str, discussion: &repo::Discussion) -> String {
    dto::DiscussionEvent::new(event, discussion).json()
}
