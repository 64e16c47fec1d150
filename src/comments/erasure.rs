//! What an erased account leaves in the threads (see `privacy`).

use super::domain::CommentStatus;
use super::repo;
use crate::db::DbConn;
use crate::discussions;
use crate::error::ApiError;

/// Takes an erased account off its comments and votes, in the caller's transaction, one
/// discussion at a time in the lock order (discussion, then its comments). Its votes go and
/// the scores move back. Its comments stay in their places without an author: with their text
/// when `keep_text`; otherwise published ones become `deleted` (a placeholder, so replies keep
/// their place; `replies` moves) and hidden ones lose their text. Comments still waiting for a
/// moderator are rejected either way: no one is left to answer for them. (The search index
/// drops erased text by itself: a trigger.) Returns the events to publish after the commit.
pub fn erase_author(
    conn: &mut DbConn,
    user_id: i64,
    keep_text: bool,
) -> Result<Vec<String>, ApiError> {
    let mut events = Vec::new();
    for discussion_id in repo::discussions_of(conn, user_id)? {
        if discussions::lock(conn, discussion_id)?.is_none() {
            continue;
        }
        repo::drop_votes_in(conn, user_id, discussion_id)?;
        let mut groups: Vec<(CommentStatus, Vec<i64>)> = Vec::new();
        let (mut unpublished, mut unheld) = (0, 0);
        for (id, from) in repo::authored_in(conn, user_id, discussion_id)? {
            let to = after_erasure(from, keep_text);
            unpublished += i64::from(from == CommentStatus::Visible && to != from);
            unheld += i64::from(from == CommentStatus::Pending);
            match groups.iter_mut().find(|(status, _)| *status == to) {
                Some((_, ids)) => ids.push(id),
                None => groups.push((to, vec![id])),
            }
        }
        for (status, ids) in &groups {
            repo::disown(conn, ids, *status, !keep_text)?;
        }
        if unheld != 0 {
            discussions::pending_moved(conn, discussion_id, -unheld)?;
        }
        if unpublished != 0
            && let Some((_, Some(event))) =
                discussions::replies_moved(conn, discussion_id, -unpublished)?
        {
            events.push(event);
        }
    }
    Ok(events)
}

/// A comment's status once its author is erased.
fn after_erasure(status: CommentStatus, keep_text: bool) -> CommentStatus {
    match status {
        CommentStatus::Pending => CommentStatus::Rejected,
        CommentStatus::Visible if !keep_text => CommentStatus::Deleted,
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erasure_unpublishes_only_without_kept_text() {
        use CommentStatus::*;
        assert_eq!(after_erasure(Visible, false), Deleted);
        assert_eq!(after_erasure(Visible, true), Visible);
        assert_eq!(after_erasure(Pending, true), Rejected);
        assert_eq!(after_erasure(Hidden, false), Hidden);
        assert_eq!(after_erasure(Deleted, true), Deleted);
    }
}
