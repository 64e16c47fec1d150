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
/// the depth cap, indexed for search); the counters are left to [`recount`]. The caller has
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

/// Sets the counters that count visible comments from a recount, in the caller's transaction:
/// each discussion's `replies` and `last_activity_at` (never backwards), each author's
/// `comments_count`. For imports, after each batch; `discussions` in id order (the lock order).
pub fn recount(
    conn: &mut DbConn,
    discussion_ids: &[i64],
    author_ids: &[i64],
) -> Result<(), ApiError> {
    for &id in discussion_ids {
        let (visible, latest) = repo::visible_in(conn, id)?;
        discussions::recounted(conn, id, visible, latest)?;
    }
    for &id in author_ids {
        repo::recount_author(conn, id)?;
    }
    Ok(())
}
