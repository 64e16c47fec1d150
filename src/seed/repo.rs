//! Bulk inserts for `tribune seed`: many rows a statement (the multi-backend cannot batch, so
//! each goes through `per_backend!`).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::comments::CommentStatus;
use crate::db::DbConn;
use crate::db::schema::{
    article_tags, articles, comments, discussions, newsletter_subscribers, users,
};
use crate::per_backend;

pub type UserRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    NaiveDateTime,
);

pub fn insert_users(conn: &mut DbConn, rows: &[UserRow]) -> QueryResult<usize> {
    let values: Vec<_> = rows
        .iter()
        .map(
            |(username, username_key, email, email_key, display_name, hash, at)| {
                (
                    users::username.eq(username),
                    users::username_key.eq(username_key),
                    users::email.eq(email),
                    users::email_key.eq(email_key),
                    users::display_name.eq(display_name),
                    users::password_hash.eq(hash),
                    users::created_at.eq(at),
                )
            },
        )
        .collect();
    per_backend!(conn, |c| diesel::insert_into(users::table)
        .values(&values)
        .execute(c))
}

pub fn user_ids(conn: &mut DbConn) -> QueryResult<Vec<i64>> {
    users::table.select(users::id).order(users::id).load(conn)
}

pub struct DiscussionRow {
    pub kind: &'static str,
    pub title: String,
    pub body: Option<String>,
    pub body_html: Option<String>,
    pub author_id: Option<i64>,
    pub article_slug: Option<String>,
    pub views: i64,
    pub created_at: NaiveDateTime,
    pub last_activity_at: NaiveDateTime,
}

/// Inserts the rows; returns the articles' discussions among them, `(id, slug)`.
pub fn insert_discussions(
    conn: &mut DbConn,
    rows: &[DiscussionRow],
) -> QueryResult<Vec<(i64, String)>> {
    let values: Vec<_> = rows
        .iter()
        .map(|d| {
            (
                discussions::kind.eq(d.kind),
                discussions::title.eq(&d.title),
                discussions::body.eq(&d.body),
                discussions::body_html.eq(&d.body_html),
                discussions::author_id.eq(d.author_id),
                discussions::article_slug.eq(&d.article_slug),
                discussions::views.eq(d.views),
                discussions::visible_from.eq(d.created_at),
                discussions::created_at.eq(d.created_at),
                discussions::last_activity_at.eq(d.last_activity_at),
            )
        })
        .collect();
    let made: Vec<(i64, Option<String>)> =
        per_backend!(conn, |c| diesel::insert_into(discussions::table)
            .values(&values)
            .returning((discussions::id, discussions::article_slug))
            .get_results(c))?;
    Ok(made
        .into_iter()
        .filter_map(|(id, slug)| Some((id, slug?)))
        .collect())
}

/// The largest discussion id so far (0 when there is none).
pub fn max_discussion_id(conn: &mut DbConn) -> QueryResult<i64> {
    discussions::table
        .select(diesel::dsl::max(discussions::id))
        .first::<Option<i64>>(conn)
        .map(|id| id.unwrap_or(0))
}

pub struct ArticleRow {
    pub discussion_id: i64,
    pub slug: String,
    pub title: String,
    pub lead: String,
    pub body: String,
    pub published_at: NaiveDateTime,
}

/// Inserts the rows; returns the new articles' ids.
pub fn insert_articles(conn: &mut DbConn, rows: &[ArticleRow]) -> QueryResult<Vec<i64>> {
    let values: Vec<_> = rows
        .iter()
        .map(|a| {
            (
                articles::discussion_id.eq(a.discussion_id),
                articles::slug.eq(&a.slug),
                articles::title.eq(&a.title),
                articles::lead.eq(&a.lead),
                articles::body.eq(&a.body),
                articles::source.eq("Tribune demo"),
                articles::published_at.eq(a.published_at),
                articles::created_at.eq(a.published_at),
                articles::updated_at.eq(a.published_at),
            )
        })
        .collect();
    per_backend!(conn, |c| diesel::insert_into(articles::table)
        .values(&values)
        .returning(articles::id)
        .get_results(c))
}

pub fn insert_tags(conn: &mut DbConn, rows: &[(i64, String)]) -> QueryResult<usize> {
    let values: Vec<_> = rows
        .iter()
        .map(|(id, tag)| {
            (
                article_tags::article_id.eq(id),
                article_tags::tag.eq(tag),
                article_tags::tag_key.eq(tag.to_lowercase()),
            )
        })
        .collect();
    per_backend!(conn, |c| diesel::insert_into(article_tags::table)
        .values(&values)
        .execute(c))
}

/// `(id, created_at)` of the discussions with an id above `after`, in id order.
pub fn discussions_after(conn: &mut DbConn, after: i64) -> QueryResult<Vec<(i64, NaiveDateTime)>> {
    discussions::table
        .filter(discussions::id.gt(after))
        .order(discussions::id)
        .select((discussions::id, discussions::created_at))
        .load(conn)
}

/// `count` comment ids no one else will take, ascending. PostgreSQL: from the table's
/// sequence. SQLite: the ones after the largest ever given (the caller's `BEGIN IMMEDIATE`
/// keeps other writers out until the rows are in).
pub fn reserve_comment_ids(conn: &mut DbConn, count: usize) -> QueryResult<Vec<i64>> {
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let count = count as i64;
    match conn {
        DbConn::Pg(pg) => {
            let mut ids: Vec<i64> = diesel::sql_query(
                "SELECT nextval(pg_get_serial_sequence('comments', 'id')) AS n \
                 FROM generate_series(1, $1)",
            )
            .bind::<diesel::sql_types::BigInt, _>(count)
            .load::<Id>(pg)?
            .into_iter()
            .map(|id| id.n)
            .collect();
            ids.sort_unstable();
            Ok(ids)
        }
        DbConn::Sqlite(sqlite) => {
            let last = diesel::sql_query(
                "SELECT MAX(COALESCE((SELECT MAX(id) FROM comments), 0), \
                 COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'comments'), 0)) AS n",
            )
            .get_result::<Id>(sqlite)?
            .n;
            Ok((last + 1..=last + count).collect())
        }
    }
}

pub struct CommentRow {
    pub id: i64,
    pub discussion_id: i64,
    pub parent_id: Option<i64>,
    pub depth: i32,
    pub path: String,
    pub author_id: i64,
    pub body: Option<String>,
    pub body_html: Option<String>,
    pub deleted: bool,
    pub created_at: NaiveDateTime,
}

pub fn insert_comments(conn: &mut DbConn, rows: &[CommentRow]) -> QueryResult<usize> {
    let values: Vec<_> = rows
        .iter()
        .map(|c| {
            (
                comments::id.eq(c.id),
                comments::discussion_id.eq(c.discussion_id),
                comments::parent_id.eq(c.parent_id),
                comments::depth.eq(c.depth),
                comments::path.eq(&c.path),
                comments::author_id.eq(c.author_id),
                comments::body.eq(&c.body),
                comments::body_html.eq(&c.body_html),
                comments::status.eq(if c.deleted {
                    CommentStatus::Deleted.as_str()
                } else {
                    CommentStatus::Visible.as_str()
                }),
                comments::created_at.eq(c.created_at),
            )
        })
        .collect();
    per_backend!(conn, |c| diesel::insert_into(comments::table)
        .values(&values)
        .execute(c))
}

/// `replies` up by `delta`; `last_activity_at` moves to `last` if that is later.
pub fn add_replies(
    conn: &mut DbConn,
    id: i64,
    delta: i64,
    last: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(discussions::table.find(id))
        .set(discussions::replies.eq(discussions::replies + delta))
        .execute(conn)?;
    diesel::update(
        discussions::table
            .find(id)
            .filter(discussions::last_activity_at.lt(last)),
    )
    .set(discussions::last_activity_at.eq(last))
    .execute(conn)
}

pub fn add_comments_count(conn: &mut DbConn, id: i64, delta: i64) -> QueryResult<usize> {
    diesel::update(users::table.find(id))
        .set(users::comments_count.eq(users::comments_count + delta))
        .execute(conn)
}

/// Confirmed newsletter subscribers `name_<n>@example.net`, `n` in `range`.
pub fn insert_subscribers(
    conn: &mut DbConn,
    run: &str,
    range: std::ops::Range<u64>,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    let rows: Vec<_> = range
        .map(|n| {
            let email = format!("reader_{run}_{n}@example.net");
            (
                newsletter_subscribers::email.eq(email.clone()),
                newsletter_subscribers::email_key.eq(email),
                newsletter_subscribers::status.eq("confirmed"),
                newsletter_subscribers::unsubscribe_token.eq(crate::auth::tokens::random_token()),
                newsletter_subscribers::created_at.eq(at),
                newsletter_subscribers::confirmed_at.eq(Some(at)),
            )
        })
        .collect();
    per_backend!(conn, |c| diesel::insert_into(newsletter_subscribers::table)
        .values(&rows)
        .execute(c))
}

/// Accounts whose email is not in `domain`.
pub fn accounts_not_in(conn: &mut DbConn, domain: &str) -> QueryResult<i64> {
    users::table
        .filter(users::email_key.not_like(format!("%@{domain}")))
        .count()
        .get_result(conn)
}

/// After the bulk load, what PostgreSQL's autovacuum would do a minute later, while the first
/// readers are served: the planner's statistics, and the visibility map and hint bits (without
/// them every first read of a row writes to its page). SQLite has neither to settle.
pub fn settle(conn: &mut DbConn) -> QueryResult<()> {
    if let DbConn::Pg(c) = conn {
        diesel::sql_query("VACUUM (ANALYZE)").execute(c)?;
    }
    Ok(())
}
