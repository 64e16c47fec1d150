//! Comments brought in from another system (see `import`): placed in the tree as replies are,
//! a batch at a time (a few statements a batch, not a few a comment), counted afterwards in bulk.

use std::collections::HashMap;

use chrono::NaiveDateTime;

use super::domain::{self, CommentStatus};
use super::repo;
use crate::db::DbConn;
use crate::discussions;
use crate::error::ApiError;

/// Where an imported comment goes.
#[derive(Debug, Clone, Copy)]
pub enum ImportedParent {
    Root,
    /// A reply to a comment already here (in the same discussion).
    Comment(i64),
    /// A reply to the comment at this index of the same batch (an earlier one).
    Earlier(usize),
}

/// A comment to import.
pub struct ImportedComment<'a> {
    pub discussion_id: i64,
    pub parent: ImportedParent,
    pub author_id: Option<i64>,
    /// Markdown (inline HTML allowed, sanitized as always); `None` for a deleted one.
    pub body: Option<&'a str>,
    /// `visible` or `deleted` (a placeholder that keeps its replies' place).
    pub status: CommentStatus,
    pub created_at: NaiveDateTime,
}

/// What an imported batch became.
pub struct Imported {
    /// The comments' ids, in the batch's order.
    pub ids: Vec<i64>,
    /// Replies made roots because their parent ([`ImportedParent::Comment`]) is no longer here.
    pub orphans: u64,
}

/// Inserts the batch in the caller's transaction (rendered, placed under their parents with
/// the depth cap, indexed for search). The counters are left to [`count_imported`]. The caller
/// has locked the discussions (the lock order).
pub fn import(conn: &mut DbConn, batch: &[ImportedComment]) -> Result<Imported, ApiError> {
    if batch.is_empty() {
        return Ok(Imported {
            ids: Vec::new(),
            orphans: 0,
        });
    }
    let outside: Vec<i64> = batch
        .iter()
        .filter_map(|c| match c.parent {
            ImportedParent::Comment(id) => Some(id),
            _ => None,
        })
        .collect();
    let mut places: HashMap<i64, repo::Place> = repo::places(conn, &outside)?
        .into_iter()
        .map(|place| (place.id, place))
        .collect();
    let ids = repo::reserve_ids(conn, batch.len())?;
    if ids
        .iter()
        .max()
        .is_some_and(|&id| domain::segment(id).is_none())
    {
        return Err(ApiError::internal(anyhow::anyhow!("comment ids ran out")));
    }
    let html: Vec<Option<String>> = batch
        .iter()
        .map(|c| c.body.map(crate::markdown::to_html))
        .collect();
    let mut rows = Vec::with_capacity(batch.len());
    let mut orphans = 0;
    for (i, (new, &id)) in batch.iter().zip(&ids).enumerate() {
        let target = match new.parent {
            ImportedParent::Root => None,
            ImportedParent::Comment(target) => {
                let place = places.get(&target);
                orphans += u64::from(place.is_none());
                place
            }
            ImportedParent::Earlier(index) if index < i => places.get(&ids[index]),
            ImportedParent::Earlier(_) => {
                return Err(ApiError::internal(anyhow::anyhow!(
                    "an imported reply before its parent"
                )));
            }
        };
        let (parent_id, depth, parent_path) = match target {
            None => (None, 0, String::new()),
            Some(t) => {
                let (parent, depth, path) =
                    domain::attach_reply(t.id, t.parent_id, t.depth, &t.path);
                (Some(parent), depth, path)
            }
        };
        let place = repo::Place {
            id,
            parent_id,
            depth,
            path: format!("{parent_path}{id:0width$}", width = domain::SEGMENT),
        };
        rows.push(repo::ImportRow {
            place: place.clone(),
            discussion_id: new.discussion_id,
            author_id: new.author_id,
            body: new.body,
            body_html: html[i].as_deref(),
            status: new.status,
            created_at: new.created_at,
        });
        places.insert(id, place);
    }
    repo::insert_imported(conn, &rows)?;
    let texts: Vec<crate::search::CommentText> = batch
        .iter()
        .zip(&ids)
        .filter_map(|(new, &id)| {
            Some(crate::search::CommentText {
                id,
                discussion_id: new.discussion_id,
                body: new.body?,
                created_at: new.created_at,
            })
        })
        .collect();
    crate::search::comments_imported(conn, &texts)?;
    Ok(Imported { ids, orphans })
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
