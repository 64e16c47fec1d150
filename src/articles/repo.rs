//! SQL of articles and their tags.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{article_tags, articles, discussions};
use crate::per_backend;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = articles)]
pub struct Article {
    pub id: i64,
    pub discussion_id: i64,
    pub slug: String,
    pub title: String,
    pub lead: String,
    pub body: String,
    pub dateline: Option<String>,
    pub source: Option<String>,
    pub image_url: Option<String>,
    pub image_credit: Option<String>,
    pub rights_notice: Option<String>,
    pub published_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// An article with its discussion's counters.
#[derive(Debug, Clone, Queryable)]
pub struct ArticleRow {
    pub article: Article,
    pub views: i64,
    pub replies: i64,
}

#[derive(Insertable)]
#[diesel(table_name = articles)]
pub struct NewArticle<'a> {
    pub discussion_id: i64,
    pub slug: &'a str,
    pub title: &'a str,
    pub lead: &'a str,
    pub body: &'a str,
    pub dateline: Option<&'a str>,
    pub source: Option<&'a str>,
    pub image_url: Option<&'a str>,
    pub image_credit: Option<&'a str>,
    pub rights_notice: Option<&'a str>,
    pub author_id: Option<i64>,
    pub published_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A partial update; `None` leaves a column as it is, `Some(None)` clears a nullable one.
#[derive(Default, AsChangeset)]
#[diesel(table_name = articles)]
pub struct ArticleChanges {
    pub title: Option<String>,
    pub lead: Option<String>,
    pub body: Option<String>,
    pub dateline: Option<Option<String>>,
    pub source: Option<Option<String>>,
    pub image_url: Option<Option<String>>,
    pub image_credit: Option<Option<String>>,
    pub rights_notice: Option<Option<String>>,
    pub published_at: Option<NaiveDateTime>,
    pub updated_at: Option<NaiveDateTime>,
}

pub fn insert(conn: &mut DbConn, new: &NewArticle) -> QueryResult<i64> {
    diesel::insert_into(articles::table)
        .values(new)
        .returning(articles::id)
        .get_result(conn)
}

pub fn slug_taken(conn: &mut DbConn, slug: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        articles::table.filter(articles::slug.eq(slug)),
    ))
    .get_result(conn)
}

pub fn by_slug(conn: &mut DbConn, slug: &str) -> QueryResult<Option<ArticleRow>> {
    articles::table
        .inner_join(discussions::table)
        .filter(articles::slug.eq(slug))
        .select((
            Article::as_select(),
            discussions::views,
            discussions::replies,
        ))
        .first(conn)
        .optional()
}

/// Published articles, newest first, after `after` (`published_at`, `id`), with `tag` if given.
pub fn list(
    conn: &mut DbConn,
    tag_key: Option<&str>,
    after: Option<(NaiveDateTime, i64)>,
    limit: i64,
    now: NaiveDateTime,
) -> QueryResult<Vec<ArticleRow>> {
    let mut query = articles::table
        .inner_join(discussions::table)
        .filter(articles::published_at.le(now))
        .into_boxed();
    if let Some(tag_key) = tag_key {
        query = query.filter(
            articles::id.eq_any(
                article_tags::table
                    .filter(article_tags::tag_key.eq(tag_key.to_string()))
                    .select(article_tags::article_id),
            ),
        );
    }
    if let Some((at, id)) = after {
        query = query
            .filter(articles::published_at.le(at))
            .filter(articles::published_at.lt(at).or(articles::id.lt(id)));
    }
    query
        .order((articles::published_at.desc(), articles::id.desc()))
        .limit(limit)
        .select((
            Article::as_select(),
            discussions::views,
            discussions::replies,
        ))
        .load(conn)
}

/// The tags of these articles, alphabetically.
pub fn tags_of(conn: &mut DbConn, ids: &[i64]) -> QueryResult<Vec<(i64, String)>> {
    article_tags::table
        .filter(article_tags::article_id.eq_any(ids))
        .order((article_tags::article_id, article_tags::tag_key))
        .select((article_tags::article_id, article_tags::tag))
        .load(conn)
}

/// Replaces an article's tags.
pub fn set_tags(conn: &mut DbConn, article_id: i64, tags: &[String]) -> QueryResult<()> {
    diesel::delete(article_tags::table.filter(article_tags::article_id.eq(article_id)))
        .execute(conn)?;
    let mut seen = std::collections::HashSet::new();
    let rows: Vec<_> = tags
        .iter()
        .map(|tag| (tag.trim().to_string(), tag.trim().to_lowercase()))
        .filter(|(_, key)| seen.insert(key.clone()))
        .map(|(tag, key)| {
            (
                article_tags::article_id.eq(article_id),
                article_tags::tag.eq(tag),
                article_tags::tag_key.eq(key),
            )
        })
        .collect();
    if !rows.is_empty() {
        // (Multi-row inserts need the concrete backend.)
        per_backend!(conn, |c| diesel::insert_into(article_tags::table)
            .values(&rows)
            .execute(c))?;
    }
    Ok(())
}

pub fn update(conn: &mut DbConn, id: i64, changes: &ArticleChanges) -> QueryResult<usize> {
    diesel::update(articles::table.find(id))
        .set(changes)
        .execute(conn)
}

pub fn delete(conn: &mut DbConn, id: i64) -> QueryResult<usize> {
    diesel::delete(articles::table.find(id)).execute(conn)
}

/// The [`discussions::ThreadState`] of the article's discussion, found by the article's slug in
/// one read (a page of an article's comments asks this first; on the backend's own connection,
/// see `per_backend!`).
pub fn thread_state_of(
    conn: &mut DbConn,
    slug: &str,
) -> QueryResult<Option<crate::discussions::ThreadState>> {
    crate::per_backend!(conn, |c| articles::table
        .inner_join(discussions::table)
        .filter(articles::slug.eq(slug))
        .select(crate::discussions::THREAD_STATE)
        .first(c)
        .optional())
}

/// The discussion of the article with this slug.
pub fn discussion_of(conn: &mut DbConn, slug: &str) -> QueryResult<Option<i64>> {
    articles::table
        .filter(articles::slug.eq(slug))
        .select(articles::discussion_id)
        .first(conn)
        .optional()
}

/// Takes an erased account off the articles it wrote (they stay: the newsroom's work).
pub fn disown_author(conn: &mut DbConn, user_id: i64) -> QueryResult<usize> {
    diesel::update(articles::table.filter(articles::author_id.eq(user_id)))
        .set(articles::author_id.eq(None::<i64>))
        .execute(conn)
}
