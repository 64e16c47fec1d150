//! Bulk inserts for `tribune seed`: many rows a statement (the multi-backend cannot batch, so
//! each goes through `per_backend!`).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{article_tags, articles, discussions, users};
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

pub fn insert_discussions(conn: &mut DbConn, rows: &[DiscussionRow]) -> QueryResult<usize> {
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
    per_backend!(conn, |c| diesel::insert_into(discussions::table)
        .values(&values)
        .execute(c))
}

/// The largest discussion id so far (0 when there is none).
pub fn max_discussion_id(conn: &mut DbConn) -> QueryResult<i64> {
    discussions::table
        .select(diesel::dsl::max(discussions::id))
        .first::<Option<i64>>(conn)
        .map(|id| id.unwrap_or(0))
}

/// `(discussion id, slug)` of the articles' discussions with these slugs, among those with an
/// id above `after` (a primary-key range: `article_slug` has no index of its own).
pub fn discussion_ids(
    conn: &mut DbConn,
    after: i64,
    slugs: &[String],
) -> QueryResult<Vec<(i64, String)>> {
    discussions::table
        .filter(discussions::id.gt(after))
        .filter(discussions::article_slug.eq_any(slugs))
        .select((discussions::id, discussions::article_slug.assume_not_null()))
        .load(conn)
}

pub struct ArticleRow {
    pub discussion_id: i64,
    pub slug: String,
    pub title: String,
    pub lead: String,
    pub body: String,
    pub published_at: NaiveDateTime,
}

pub fn insert_articles(conn: &mut DbConn, rows: &[ArticleRow]) -> QueryResult<usize> {
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
        .execute(c))
}

/// `(article id, slug)` for these slugs.
pub fn article_ids(conn: &mut DbConn, slugs: &[String]) -> QueryResult<Vec<(i64, String)>> {
    articles::table
        .filter(articles::slug.eq_any(slugs))
        .select((articles::id, articles::slug))
        .load(conn)
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
