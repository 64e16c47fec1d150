//! Who may change which comment: the comment to change (locked, in the lock order) and the
//! rules of editing.

use chrono::{Duration, NaiveDateTime};
use diesel::OptionalExtension;

use super::domain::CommentStatus;
use super::repo::{self, Comment};
use super::thread::{no_comment, no_discussion, visible};
use crate::auth::{ActiveUser, Role};
use crate::db::DbConn;
use crate::discussions;
use crate::error::ApiError;

/// A comment to change, with its discussion: `404` when either is missing or the caller may
/// not see the discussion yet. Both rows are locked, in the one lock order (discussion,
/// comment, account): every change to a comment also bumps its discussion's
/// `thread_version` (a trigger), so every writer of comments takes the discussion first.
pub(crate) fn comment_to_change(
    conn: &mut DbConn,
    id: i64,
    user: &ActiveUser,
) -> Result<(Comment, discussions::Discussion), ApiError> {
    // Editors and moderators see discussions before publication.
    let editor = crate::auth::sees_unpublished(Some(user.role));
    let discussion_id = repo::by_id(conn, id)
        .optional()?
        .ok_or_else(no_comment)?
        .0
        .discussion_id;
    let discussion = discussions::lock(conn, discussion_id)?
        .filter(|d| visible(d, editor))
        .ok_or_else(no_comment)?;
    let comment = repo::lock(conn, id).optional()?.ok_or_else(no_comment)?;
    // A held or rejected comment is its author's and moderators' only.
    if !comment.status.published()
        && comment.author_id != Some(user.id)
        && !user.role.includes(Role::Moderator)
    {
        return Err(no_comment());
    }
    Ok((comment, discussion))
}

pub(crate) fn edit_rules(
    comment: &Comment,
    user: &ActiveUser,
    locked: bool,
    window: Duration,
    at: NaiveDateTime,
) -> Result<(), ApiError> {
    if comment.status == CommentStatus::Deleted {
        return Err(ApiError::Forbidden(
            "a deleted comment cannot be edited".into(),
        ));
    }
    if user.role.includes(Role::Moderator) {
        return Ok(());
    }
    if comment.author_id != Some(user.id) {
        return Err(ApiError::Forbidden(
            "only its author or a moderator may edit a comment".into(),
        ));
    }
    let unchangeable = match comment.status {
        CommentStatus::Visible => None,
        CommentStatus::Pending => Some("a comment waiting for a moderator cannot be edited"),
        CommentStatus::Rejected => Some("a rejected comment cannot be edited"),
        CommentStatus::Hidden | CommentStatus::Deleted => Some("a hidden comment cannot be edited"),
    };
    if let Some(message) = unchangeable {
        return Err(ApiError::Forbidden(message.into()));
    }
    if locked {
        return Err(ApiError::Forbidden(
            "this discussion is locked: its comments cannot be edited".into(),
        ));
    }
    if at - comment.created_at > window {
        return Err(ApiError::Forbidden(format!(
            "comments can be edited for {} minutes after they are posted",
            window.num_minutes()
        )));
    }
    Ok(())
}

/// Moves `comment` to status `to` in the caller's transaction, with the counters that count
/// visible comments: its discussion's `replies` (and the discussion's live event) and its
/// author's `comments_count`, and the discussion's count of held comments. A held comment
/// made visible (approved) moves its discussion as a new comment does (`last_activity_at`).
/// `erase` drops the text (an author's own deletion). The caller has the rows locked in the
/// lock order ([`comment_to_change`]). Returns the event to publish after the commit, if the
/// count moved.
pub(crate) fn change_status(
    conn: &mut DbConn,
    comment: &Comment,
    to: CommentStatus,
    erase: bool,
) -> Result<Option<String>, ApiError> {
    let from = comment.status;
    if from == to {
        return Ok(None);
    }
    repo::set_status(conn, comment.id, to, erase)?;
    let discussion_id = comment.discussion_id;
    let counted = |status| status == CommentStatus::Visible;
    let delta = match (counted(from), counted(to)) {
        (true, false) => -1,
        (false, true) => 1,
        _ => 0,
    };
    let event = if from == CommentStatus::Pending && counted(to) {
        // Published now, as if just posted.
        discussions::comment_published(conn, discussion_id, crate::db::now())?
            .ok_or_else(no_discussion)?
            .1
    } else {
        let held =
            i64::from(to == CommentStatus::Pending) - i64::from(from == CommentStatus::Pending);
        if held != 0 {
            discussions::pending_moved(conn, discussion_id, held)?;
        }
        if delta == 0 {
            return Ok(None);
        }
        discussions::replies_moved(conn, discussion_id, delta)?
            .ok_or_else(no_discussion)?
            .1
    };
    if let Some(author) = comment.author_id {
        repo::count_author(conn, author, delta)?;
    }
    Ok(event)
}
