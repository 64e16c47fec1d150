//! Full-text search over articles, topics and comments, in Russian and English.
//!
//! Words are analysed here ([`text`]: folding and Snowball stems), the same for both backends;
//! the database indexes the terms (PostgreSQL: a `tsvector` with a GIN index; SQLite: FTS5).
//! Writers call [`discussion_written`], [`comment_posted`] and [`comment_edited`] in the
//! transaction that writes the text, so the index never lags behind a commit; deletions and erased comment texts leave
//! the index by foreign keys and a trigger. Visibility (hidden comments, scheduled articles)
//! is decided at search time from the documents' own rows, so hiding needs no index change.

pub mod dto;
pub mod handlers;
pub(crate) mod repo;
pub mod text;

use anyhow::Context;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::db::DbConn;
use crate::error::ApiError;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(handlers::search);
}

/// What a search result is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum SearchKind {
    Article,
    Topic,
    Comment,
}

impl SearchKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SearchKind::Article => "article",
            SearchKind::Topic => "topic",
            SearchKind::Comment => "comment",
        }
    }

    fn parse(text: &str) -> Option<SearchKind> {
        match text {
            "article" => Some(SearchKind::Article),
            "topic" => Some(SearchKind::Topic),
            "comment" => Some(SearchKind::Comment),
            _ => None,
        }
    }
}

/// (Re)indexes a discussion's own text (an article's title, lead and body, a topic's title and
/// body) in the caller's transaction. Call after every write of it.
pub fn discussion_written(conn: &mut DbConn, discussion_id: i64) -> Result<(), ApiError> {
    let Some((kind, title, body, created_at)) = repo::discussion_source(conn, discussion_id)?
    else {
        return Ok(());
    };
    let kind = if kind == "article" {
        SearchKind::Article
    } else {
        SearchKind::Topic
    };
    let (title_terms, body_terms) = (text::terms(&title), text::terms(&plain(&body)));
    repo::put_discussion(
        conn,
        &repo::NewDocument {
            kind: kind.as_str(),
            discussion_id,
            comment_id: None,
            created_at,
            title_terms: &title_terms,
            body_terms: &body_terms,
        },
    )?;
    Ok(())
}

/// A comment's searchable text.
pub struct CommentText<'a> {
    pub id: i64,
    pub discussion_id: i64,
    /// Markdown.
    pub body: &'a str,
    pub created_at: chrono::NaiveDateTime,
}

/// Indexes a new comment in the caller's transaction: one insert.
pub fn comment_posted(conn: &mut DbConn, comment: &CommentText) -> Result<(), ApiError> {
    let body_terms = text::terms(&plain(comment.body));
    repo::insert_comment(conn, &comment_document(comment, &body_terms))?;
    Ok(())
}

/// Indexes imported comments in the caller's transaction, a few statements for the lot.
pub fn comments_imported(conn: &mut DbConn, comments: &[CommentText]) -> Result<(), ApiError> {
    let terms: Vec<String> = comments
        .iter()
        .map(|c| text::terms(&plain(c.body)))
        .collect();
    let docs: Vec<repo::NewDocument> = comments
        .iter()
        .zip(&terms)
        .map(|(c, terms)| comment_document(c, terms))
        .collect();
    for chunk in docs.chunks(1000) {
        repo::insert_many(conn, chunk)?;
    }
    Ok(())
}

/// Indexes an edited comment's new text in the caller's transaction.
pub fn comment_edited(conn: &mut DbConn, comment: &CommentText) -> Result<(), ApiError> {
    let body_terms = text::terms(&plain(comment.body));
    repo::put_comment(conn, &comment_document(comment, &body_terms))?;
    Ok(())
}

fn comment_document<'a>(comment: &CommentText, body_terms: &'a str) -> repo::NewDocument<'a> {
    repo::NewDocument {
        kind: SearchKind::Comment.as_str(),
        discussion_id: comment.discussion_id,
        comment_id: Some(comment.id),
        created_at: comment.created_at,
        title_terms: "",
        body_terms,
    }
}

/// The search kind of a discussion of kind `kind` (as stored).
fn kind_of(kind: &str) -> SearchKind {
    if kind == crate::discussions::Kind::Article.as_str() {
        SearchKind::Article
    } else {
        SearchKind::Topic
    }
}

/// What a search asks for.
pub struct Search<'a> {
    pub query: &'a text::Query,
    pub kind: Option<SearchKind>,
    pub include_hidden: bool,
    pub limit: i64,
    pub offset: i64,
}

/// A page of results (`limit` of them, and one more when there is a next page), best first
/// (title matches, then the rest, each newest first: see `repo::search`) among the newest 100
/// matches (or as many as the page's depth needs). Ranking every match of a common word in a
/// million documents costs hundreds of milliseconds; the newest matches are found by walking
/// the newest documents, and through the index when the words are too rare for that (see
/// `repo::search`). A news site's readers look for the recent first; an old text is found by
/// rarer words or by its kind. Run it in a transaction (`Db::snapshot`: the plan's `SET LOCAL`
/// needs one).
pub fn find(conn: &mut DbConn, search: &Search) -> Result<Vec<repo::HitRow>, ApiError> {
    let q = repo::Match::of(search.query);
    let need = (search.offset + search.limit + 1).max(repo::RANKED);
    repo::plan_for_the_values(conn)?;
    Ok(repo::search(
        conn,
        &q,
        need,
        repo::RANKED,
        crate::db::now(),
        search.include_hidden,
        search.kind,
        search.limit + 1,
        search.offset,
    )?)
}

/// Discussions (topics, then articles, scheduled ones too) whose title or text match, each
/// kind's title matches first: for moderators. Every match is ranked (no window: staff searches
/// are few), so an old discussion is found by a common word too. Their ids, `limit` a kind.
pub fn find_discussions(
    conn: &mut DbConn,
    query: &text::Query,
    limit: i64,
) -> Result<Vec<i64>, ApiError> {
    let q = repo::Match::of(query);
    // Scheduled articles too: visible "now" at the end of the calendar.
    let end = chrono::NaiveDate::from_ymd_opt(9999, 12, 31)
        .and_then(|d| d.and_hms_opt(23, 59, 59))
        .expect("a date");
    repo::plan_for_the_values(conn)?;
    let mut ids = Vec::new();
    for kind in [SearchKind::Topic, SearchKind::Article] {
        let rows = repo::search(
            conn,
            &q,
            i64::MAX,
            i64::MAX,
            end,
            true,
            Some(kind),
            limit,
            0,
        )?;
        ids.extend(rows.into_iter().map(|row| row.discussion_id));
    }
    Ok(ids)
}

fn plain(markdown: &str) -> String {
    crate::markdown::to_plain_text(markdown)
}

/// Rows read and indexed at a time by [`reindex`].
const REINDEX_BATCH: i64 = 2_000;

/// Builds the whole index again from the documents, in batches (each its own transaction
/// when `conn` is not in one); returns how many documents it holds. Searches meanwhile find
/// what is indexed so far.
pub fn reindex(conn: &mut DbConn) -> anyhow::Result<u64> {
    repo::clear(conn).context("clearing the search index")?;
    let mut count = 0u64;
    let mut after = 0;
    loop {
        let rows = repo::discussions_after(conn, after, REINDEX_BATCH)?;
        let Some(last) = rows.last() else { break };
        after = last.id;
        let terms: Vec<(String, String)> = rows
            .iter()
            .map(|d| (text::terms(&d.title), text::terms(&plain(&d.text))))
            .collect();
        let docs: Vec<repo::NewDocument> = rows
            .iter()
            .zip(&terms)
            .map(|(d, (title, body))| repo::NewDocument {
                kind: kind_of(&d.kind).as_str(),
                discussion_id: d.id,
                comment_id: None,
                created_at: d.created_at,
                title_terms: title,
                body_terms: body,
            })
            .collect();
        count += crate::db::transaction(conn, |c| repo::insert_many(c, &docs))? as u64;
    }
    let mut after = 0;
    loop {
        let rows = repo::comments_after(conn, after, REINDEX_BATCH)?;
        let Some(last) = rows.last() else { break };
        after = last.0;
        let terms: Vec<String> = rows
            .iter()
            .map(|(_, _, body, _)| text::terms(&plain(body)))
            .collect();
        let docs: Vec<repo::NewDocument> = rows
            .iter()
            .zip(&terms)
            .map(|((id, discussion_id, _, at), body)| repo::NewDocument {
                kind: SearchKind::Comment.as_str(),
                discussion_id: *discussion_id,
                comment_id: Some(*id),
                created_at: *at,
                title_terms: "",
                body_terms: body,
            })
            .collect();
        count += crate::db::transaction(conn, |c| repo::insert_many(c, &docs))? as u64;
    }
    repo::analyze(conn)?;
    repo::mark_built(conn)?;
    Ok(count)
}

/// Builds the index if the migration that made it asked for a build (once, on the first start
/// or `tribune migrate` after it; of several processes starting together, one builds and the
/// others serve meanwhile). Returns how many documents were indexed, if it ran. A process
/// killed during the build leaves it unfinished: `tribune search reindex` finishes it.
pub fn build_if_asked(conn: &mut DbConn) -> anyhow::Result<Option<u64>> {
    if !repo::claim_rebuild(conn)? {
        return Ok(None);
    }
    reindex(conn).map(Some).inspect_err(|_| {
        let _ = repo::release_rebuild(conn);
    })
}
