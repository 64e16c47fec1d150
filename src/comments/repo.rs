//! SQL of comments: pages of threads, posting, editing, deleting, votes and reports.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::domain::{CommentStatus, Held, SEGMENT};
use crate::db::schema::{comment_reports, comment_votes, comments, users};
use crate::db::{DbConn, Named, Stamp, cached};
use crate::discussions::AuthorRow;
use crate::ids::{CommentId, UserId};
use crate::per_backend;

mod imported;
pub use imported::{ImportRow, Place, insert_imported, places, reserve_ids};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = comments)]
pub struct Comment {
    pub id: i64,
    pub discussion_id: i64,
    pub parent_id: Option<i64>,
    pub depth: i32,
    pub path: String,
    pub author_id: Option<i64>,
    pub body: Option<String>,
    pub body_html: Option<String>,
    #[diesel(deserialize_as = Named<CommentStatus>)]
    pub status: CommentStatus,
    pub score: i64,
    #[diesel(deserialize_as = Stamp)]
    pub created_at: NaiveDateTime,
    pub edited_at: Option<NaiveDateTime>,
}

/// A comment with its author.
pub type CommentRow = (Comment, Option<AuthorRow>);

/// Keeps in `query` the comments a page shows: the published ones, and the `held` ones.
macro_rules! shown {
    ($query:expr, $held:expr) => {{
        let published = comments::status
            .ne(CommentStatus::Pending.as_str())
            .and(comments::status.ne(CommentStatus::Rejected.as_str()));
        match $held {
            Held::All => $query,
            Held::None => $query.filter(published),
            Held::Of(reader) => $query.filter(
                published.or(comments::status
                    .eq(CommentStatus::Pending.as_str())
                    .and(comments::author_id.eq(reader))),
            ),
        }
    }};
}

/// Ids of the roots of a page: after the root whose path is `after` (in the page's order),
/// `limit` of them, of those shown (`held`). One range read of the partial index
/// `comments_roots`. A hot read: on the backend's own connection (see `per_backend!`).
pub fn root_ids(
    conn: &mut DbConn,
    discussion_id: i64,
    (newest_first, held): (bool, Held),
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<i64>> {
    per_backend!(conn, |c| {
        let query = comments::table
            .filter(comments::discussion_id.eq(discussion_id))
            .filter(comments::parent_id.is_null())
            .select(comments::id)
            .limit(limit)
            .into_boxed();
        let mut query = shown!(query, held);
        query = match (newest_first, after) {
            (false, Some(path)) => query.filter(comments::path.gt(path.to_string())),
            (true, Some(path)) => query.filter(comments::path.lt(path.to_string())),
            (_, None) => query,
        };
        if newest_first {
            query.order(comments::path.desc()).load(c)
        } else {
            query.order(comments::path.asc()).load(c)
        }
    })
}

/// The comments of a discussion whose paths lie in `[from, to)`, of those shown (`held`), with
/// their authors: whole threads, in one range read of `comments_thread`. `descending` reads
/// from the end of the range (so that a cut at `limit` keeps the threads at the range's end
/// whole). A hot read: on the backend's own connection (see `per_backend!`).
pub fn threads(
    conn: &mut DbConn,
    discussion_id: i64,
    (from, to): (&str, &str),
    (descending, held): (bool, Held),
    limit: i64,
) -> QueryResult<Vec<CommentRow>> {
    per_backend!(conn, |c| {
        let query = comments::table
            .left_join(users::table)
            .filter(comments::discussion_id.eq(discussion_id))
            .filter(comments::path.ge(from))
            .filter(comments::path.lt(to))
            .select((
                Comment::as_select(),
                (users::id, users::username, users::display_name).nullable(),
            ))
            .limit(limit)
            .into_boxed();
        let query = shown!(query, held);
        if descending {
            query.order(comments::path.desc()).load(c)
        } else {
            query.order(comments::path.asc()).load(c)
        }
    })
}

pub fn by_id(conn: &mut DbConn, id: i64) -> QueryResult<CommentRow> {
    comments::table
        .left_join(users::table)
        .filter(comments::id.eq(id))
        .select((
            Comment::as_select(),
            (users::id, users::username, users::display_name).nullable(),
        ))
        .first(conn)
}

/// The comment, its row locked until the end of the caller's transaction (on PostgreSQL; SQLite's
/// `BEGIN IMMEDIATE` already serializes writers), so that concurrent votes or moderation of
/// one comment apply one after the other.
pub fn lock(conn: &mut DbConn, id: i64) -> QueryResult<Comment> {
    crate::locked!(
        conn,
        comments::table.find(id).select(Comment::as_select()),
        |q, c| q.first(c)
    )
}

pub struct NewComment<'a> {
    pub discussion_id: i64,
    pub parent_id: Option<i64>,
    pub depth: i32,
    /// The parent's path (empty for a root): the comment's path is this and its own segment.
    pub parent_path: &'a str,
    pub author_id: Option<i64>,
    pub body: Option<&'a str>,
    pub body_html: Option<&'a str>,
    /// Visible, or pending when held for a moderator.
    pub status: CommentStatus,
    pub created_at: NaiveDateTime,
}

/// Inserts a comment with its path: the parent's path, then its own id in 12 digits (the
/// caller refuses ids past 12 digits, checking them against `domain::segment`).
///
/// PostgreSQL: the id comes first from the sequence, so the row is written once, path and all
/// (writing the path afterwards would update every index of the row a second time; one raw
/// statement doing both was measured slower, as it is parsed and planned on every call).
/// SQLite, in process: inserted, then given its path.
pub fn insert(conn: &mut DbConn, new: &NewComment) -> QueryResult<i64> {
    let values = (
        comments::discussion_id.eq(new.discussion_id),
        comments::parent_id.eq(new.parent_id),
        comments::depth.eq(new.depth),
        comments::author_id.eq(new.author_id),
        comments::body.eq(new.body),
        comments::body_html.eq(new.body_html),
        comments::status.eq(new.status.as_str()),
        comments::created_at.eq(new.created_at),
    );
    match conn {
        DbConn::Pg(pg) => {
            let id: i64 = diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
                "nextval(pg_get_serial_sequence('comments', 'id'))",
            ))
            .get_result(pg)?;
            let path = format!("{}{id:0width$}", new.parent_path, width = SEGMENT);
            cached(diesel::insert_into(comments::table).values((
                comments::id.eq(id),
                comments::path.eq(path),
                values,
            )))
            .execute(pg)?;
            Ok(id)
        }
        DbConn::Sqlite(sqlite) => {
            let id: i64 = cached(
                diesel::insert_into(comments::table)
                    .values((comments::path.eq(""), values))
                    .returning(comments::id),
            )
            .get_result(sqlite)?;
            let path = format!("{}{id:0width$}", new.parent_path, width = SEGMENT);
            cached(diesel::update(comments::table.find(id)).set(comments::path.eq(path)))
                .execute(sqlite)?;
            Ok(id)
        }
    }
}

/// Moves the author's `comments_count` (visible comments) by `delta`; on PostgreSQL this also
/// locks the account's row until the transaction ends, which serializes one account's posts
/// (what makes the per-account rate limit exact). Returns `(username, display_name)`.
pub fn count_author(conn: &mut DbConn, user_id: i64, delta: i64) -> QueryResult<(String, String)> {
    per_backend!(conn, |c| {
        cached(
            diesel::update(users::table.find(user_id))
                .set(users::comments_count.eq(users::comments_count + delta))
                .returning((users::username, users::display_name)),
        )
        .get_result(c)
    })
}

/// How many comments the account posted since `since`, and the first of them: what the
/// per-account rate limit looks at.
pub fn posted_since(
    conn: &mut DbConn,
    user_id: i64,
    since: NaiveDateTime,
) -> QueryResult<(i64, Option<NaiveDateTime>)> {
    comments::table
        .filter(comments::author_id.eq(user_id))
        .filter(comments::created_at.gt(since))
        .select((
            diesel::dsl::count_star(),
            diesel::dsl::min(comments::created_at),
        ))
        .first(conn)
}

pub fn edit(
    conn: &mut DbConn,
    id: i64,
    body: &str,
    body_html: &str,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(comments::table.find(id))
        .set((
            comments::body.eq(body),
            comments::body_html.eq(body_html),
            comments::edited_at.eq(Some(at)),
        ))
        .execute(conn)
}

/// Sets a comment's status; with `erase`, its text goes too (an author deleting their own).
pub fn set_status(
    conn: &mut DbConn,
    id: i64,
    status: CommentStatus,
    erase: bool,
) -> QueryResult<usize> {
    let target = comments::table.find(id);
    let status = status.as_str();
    if erase {
        diesel::update(target)
            .set((
                comments::status.eq(status),
                comments::body.eq(None::<String>),
                comments::body_html.eq(None::<String>),
            ))
            .execute(conn)
    } else {
        diesel::update(target)
            .set(comments::status.eq(status))
            .execute(conn)
    }
}

/// The user's vote on a comment: 1, -1, or 0 for none.
pub fn vote_of(
    conn: &mut DbConn,
    CommentId(comment_id): CommentId,
    UserId(user_id): UserId,
) -> QueryResult<i32> {
    comment_votes::table
        .find((comment_id, user_id))
        .select(comment_votes::value)
        .first(conn)
        .optional()
        .map(|v| v.unwrap_or(0))
}

/// Records the user's vote (0 removes it) and moves the comment's `score` by the difference.
/// The caller holds the comment's lock ([`lock`]) and knows the previous vote. Returns the score.
pub fn set_vote(
    conn: &mut DbConn,
    CommentId(comment_id): CommentId,
    UserId(user_id): UserId,
    previous: i32,
    value: i32,
    at: NaiveDateTime,
) -> QueryResult<i64> {
    let target = comment_votes::table.find((comment_id, user_id));
    if value == 0 {
        diesel::delete(target).execute(conn)?;
    } else if previous == 0 {
        diesel::insert_into(comment_votes::table)
            .values((
                comment_votes::comment_id.eq(comment_id),
                comment_votes::user_id.eq(user_id),
                comment_votes::value.eq(value),
                comment_votes::created_at.eq(at),
            ))
            .execute(conn)?;
    } else {
        diesel::update(target)
            .set(comment_votes::value.eq(value))
            .execute(conn)?;
    }
    let delta = i64::from(value - previous);
    per_backend!(conn, |c| {
        diesel::update(comments::table.find(comment_id))
            .set(comments::score.eq(comments::score + delta))
            .returning(comments::score)
            .get_result(c)
    })
}

/// Files a report; `None` when this user has already reported this comment.
pub fn report(
    conn: &mut DbConn,
    CommentId(comment_id): CommentId,
    UserId(reporter_id): UserId,
    reason: &str,
    at: NaiveDateTime,
) -> QueryResult<Option<i64>> {
    per_backend!(conn, |c| {
        diesel::insert_into(comment_reports::table)
            .values((
                comment_reports::comment_id.eq(comment_id),
                comment_reports::reporter_id.eq(reporter_id),
                comment_reports::reason.eq(reason),
                comment_reports::created_at.eq(at),
            ))
            .on_conflict((comment_reports::comment_id, comment_reports::reporter_id))
            .do_nothing()
            .returning(comment_reports::id)
            .get_result(c)
            .optional()
    })
}

/// Before a discussion is deleted (its comments go with it, by cascade): takes its visible
/// comments off their authors' `comments_count`. One statement per author, in id order (so
/// that two of these never wait for each other in a circle). The caller has locked the
/// discussion, so no comment arrives in between.
pub fn uncount_discussion(conn: &mut DbConn, discussion_id: i64) -> QueryResult<()> {
    let per_author: Vec<(Option<i64>, i64)> = comments::table
        .filter(comments::discussion_id.eq(discussion_id))
        .filter(comments::status.eq(CommentStatus::Visible.as_str()))
        .filter(comments::author_id.is_not_null())
        .group_by(comments::author_id)
        .order(comments::author_id)
        .select((comments::author_id, diesel::dsl::count_star()))
        .load(conn)?;
    for (author, count) in per_author {
        if let Some(author) = author {
            diesel::update(users::table.find(author))
                .set(users::comments_count.eq(users::comments_count - count))
                .execute(conn)?;
        }
    }
    Ok(())
}

/// The discussions where the user wrote comments or voted, in id order (the lock order).
pub fn discussions_of(conn: &mut DbConn, user_id: i64) -> QueryResult<Vec<i64>> {
    let mut ids: Vec<i64> = comments::table
        .filter(comments::author_id.eq(user_id))
        .select(comments::discussion_id)
        .distinct()
        .load(conn)?;
    ids.extend(
        comment_votes::table
            .inner_join(comments::table)
            .filter(comment_votes::user_id.eq(user_id))
            .select(comments::discussion_id)
            .distinct()
            .load::<i64>(conn)?,
    );
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

/// Removes the user's votes on one discussion's comments, moving each comment's score back.
pub fn drop_votes_in(conn: &mut DbConn, user_id: i64, discussion_id: i64) -> QueryResult<usize> {
    let votes: Vec<(i64, i32)> = comment_votes::table
        .inner_join(comments::table)
        .filter(comment_votes::user_id.eq(user_id))
        .filter(comments::discussion_id.eq(discussion_id))
        .order(comment_votes::comment_id)
        .select((comment_votes::comment_id, comment_votes::value))
        .load(conn)?;
    for (comment_id, value) in &votes {
        diesel::update(comments::table.find(comment_id))
            .set(comments::score.eq(comments::score - i64::from(*value)))
            .execute(conn)?;
        diesel::delete(comment_votes::table.find((comment_id, user_id))).execute(conn)?;
    }
    Ok(votes.len())
}

/// The user's comments in one discussion: id and status.
pub fn authored_in(
    conn: &mut DbConn,
    user_id: i64,
    discussion_id: i64,
) -> QueryResult<Vec<(i64, CommentStatus)>> {
    let rows: Vec<(i64, Named<CommentStatus>)> = comments::table
        .filter(comments::author_id.eq(user_id))
        .filter(comments::discussion_id.eq(discussion_id))
        .order(comments::id)
        .select((comments::id, comments::status))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, status)| (id, status.into()))
        .collect())
}

/// Takes the author off comments `ids` and gives them `status`; with `erase`, their text goes
/// too (an erased account's).
pub fn disown(
    conn: &mut DbConn,
    ids: &[i64],
    status: CommentStatus,
    erase: bool,
) -> QueryResult<usize> {
    let mut changed = 0;
    for chunk in ids.chunks(500) {
        let target = comments::table.filter(comments::id.eq_any(chunk));
        let author = comments::author_id.eq(None::<i64>);
        let status = comments::status.eq(status.as_str());
        changed += if erase {
            diesel::update(target)
                .set((
                    author,
                    status,
                    comments::body.eq(None::<String>),
                    comments::body_html.eq(None::<String>),
                ))
                .execute(conn)?
        } else {
            diesel::update(target).set((author, status)).execute(conn)?
        };
    }
    Ok(changed)
}

/// An author's latest comments, whatever their status, newest first (moderators' view of an
/// account).
pub fn recent_by_author(
    conn: &mut DbConn,
    author_id: i64,
    limit: i64,
) -> QueryResult<Vec<CommentRow>> {
    comments::table
        .left_join(users::table)
        .filter(comments::author_id.eq(author_id))
        .order((comments::created_at.desc(), comments::id.desc()))
        .limit(limit)
        .select((
            Comment::as_select(),
            (users::id, users::username, users::display_name).nullable(),
        ))
        .load(conn)
}
