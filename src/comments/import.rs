//! Comments brought in from another system (see `import`): placed in the tree as replies are,
//! counted afterwards in bulk.

use chrono::NaiveDateTime;

use super::domain::{self, CommentStatus};
use super::repo;
use crate::db::DbConn;
use crate::discussions;
use crate::error::ApiError;

/// A comment to import. `parent_id` is a comment already here (in this discussion).
pub struct ImportedComment<'a> {
    pub discussion_id: i64,
    pub parent_id: Option<i64>,
    pub author_id: Option<i64>,
    /// Markdown (inline HTML allowed, sanitized as always); `None` for a deleted one.
    pub body: Option<&'a str>,
    /// `visible` or `deleted` (a placeholder that keeps its replies' place).
    pub status: CommentStatus,
    pub created_at: NaiveDateTime,
}

/// Inserts the comment in the caller's transaction (rendered, placed under its parent with
/// the depth cap, indexed for search); the counters are left to [`count_imported`]. The caller has
/// locked the discussion (the lock order).
pub fn import(conn: &mut DbConn, new: &ImportedComment) -> Result<i64, ApiError> {
    let (parent_id, depth, parent_path) = match new.parent_id {
        None => (None, 0, String::new()),
        Some(target) => {
            let target = repo::by_id(conn, target)?.0;
            let (parent, depth, path) =
                domain::attach_reply(target.id, target.parent_id, target.depth, &target.path);
            (Some(parent), depth, path)
        }
    };
    let html = new.body.map(crate::markdown::to_html);
    let id = repo::insert(
        conn,
        &repo::NewComment {
            discussion_id: new.discussion_id,
            parent_id,
            depth,
            parent_path: &parent_path,
            author_id: new.author_id,
            body: new.body,
            body_html: html.as_deref(),
            status: new.status,
            created_at: new.created_at,
        },
    )?;
    if domain::segment(id).is_none() {
        return Err(ApiError::internal(anyhow::anyhow!("comment ids ran out")));
    }
    if let Some(body) = new.body {
        crate::search::comment_posted(
            conn,
            &crate::search::CommentText {
                id,
                discussion_id: new.discussion_id,
                body,
                created_at: new.created_at,
            },
        )?;
    }
    Ok(id)
}

/// Moves the counters that count visible comments by what an import added, in the caller's
/// transaction: each discussion's `replies` by its count and `last_activity_at` to its latest
/// (never backwards), each author's `comments_count` by theirs. Both in id order (the lock
/// order; the discussions are locked already).
pub fn count_imported(
    conn: &mut DbConn,
    discussions_added: &[(i64, i64, NaiveDateTime)],
    authors_added: &[(i64, i64)],
) -> Result<(), ApiError> {
    for &(id, added, latest) in discussions_added {
        discussions::imported(conn, id, added, latest)?;
    }
    for &(id, added) in authors_added {
        repo::count_author(conn, id, added)?;
    }
    Ok(())
}
