//! A moderator's decision on a held comment (premoderation): approved, it is published as if
//! just posted; rejected, it is never published.

use diesel::OptionalExtension;

use super::domain::CommentStatus;
use super::policy::{change_status, comment_to_change};
use super::repo::{self, CommentRow};
use super::thread::no_comment;
use crate::auth::ActiveUser;
use crate::db::{DbConn, now};
use crate::discussions;
use crate::error::ApiError;
use crate::notifications;

/// Approves (`publish`) or rejects held comment `id` in the caller's transaction. Approved, it
/// counts in its discussion's `replies` and its author's `comments_count`, moves the
/// discussion's `last_activity_at`, and notifies and reaches live streams as a new comment
/// does, at this moment. Rejected, its author is told it was removed. `409` when it does not
/// wait (any more). Returns the comment as it is now and the live events.
pub fn decide_held(
    conn: &mut DbConn,
    moderator: &ActiveUser,
    id: i64,
    publish: bool,
) -> Result<(CommentRow, Vec<String>), ApiError> {
    let (comment, _) = comment_to_change(conn, id, moderator)?;
    if comment.status != CommentStatus::Pending {
        return Err(ApiError::AlreadyDone(format!(
            "this comment is not waiting for a moderator (it is {})",
            comment.status.as_str()
        )));
    }
    let mut events = Vec::new();
    if publish {
        events.extend(change_status(
            conn,
            &comment,
            CommentStatus::Visible,
            false,
        )?);
        let (discussion, _) = discussions::by_id(conn, comment.discussion_id)?;
        let (_, author) = repo::by_id(conn, id)?;
        let replied_to = match comment.parent_id {
            Some(parent) => repo::by_id(conn, parent)
                .optional()?
                .and_then(|(c, _)| c.author_id),
            None => None,
        };
        if let Some(author) = &author {
            events.extend(notifications::comment_posted(
                conn,
                &notifications::CommentPosted {
                    comment_id: id,
                    discussion: &discussion,
                    actor: author,
                    replied_to,
                    body: comment.body.as_deref().unwrap_or_default(),
                    at: now(),
                },
            )?);
        }
    } else {
        change_status(conn, &comment, CommentStatus::Rejected, false)?;
        events.extend(notifications::comment_moderated(
            conn,
            id,
            comment.author_id,
            moderator.id,
            notifications::Moderated::Deleted,
        )?);
    }
    let row = repo::by_id(conn, id).optional()?.ok_or_else(no_comment)?;
    Ok((row, events))
}
