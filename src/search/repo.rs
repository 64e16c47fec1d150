//! SQL of search: the documents' index rows, and the search itself. Searching joins the
//! documents' own tables (discussions, articles, comments, users) read-only: what a reader may
//! see is theirs to say, at the moment of the search.

use chrono::NaiveDateTime;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Nullable, Text, Timestamp};

use crate::db::schema::{articles, comments, discussions, search_documents, settings};
use crate::db::{DbConn, cached};

use super::SearchKind;

/// An index row to write.
#[derive(Insertable)]
#[diesel(table_name = search_documents)]
pub struct NewDocument<'a> {
    pub kind: &'a str,
    pub discussion_id: i64,
    pub comment_id: Option<i64>,
    pub created_at: NaiveDateTime,
    pub title_terms: &'a str,
    pub body_terms: &'a str,
}

/// What a discussion's document is made of: `(kind, title, text, created_at)` (an article's
/// text is its lead and body, a topic's its body).
pub fn discussion_source(
    conn: &mut DbConn,
    id: i64,
) -> QueryResult<Option<(String, String, String, NaiveDateTime)>> {
    let Some((kind, title, body, created_at)) = discussions::table
        .find(id)
        .select((
            discussions::kind,
            discussions::title,
            discussions::body,
            discussions::created_at,
        ))
        .first::<(String, String, Option<String>, NaiveDateTime)>(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let text = match articles::table
        .filter(articles::discussion_id.eq(id))
        .select((articles::title, articles::lead, articles::body))
        .first::<(String, String, String)>(conn)
        .optional()?
    {
        Some((_, lead, body)) => format!("{lead}\n\n{body}"),
        None => body.unwrap_or_default(),
    };
    Ok(Some((kind, title, text, created_at)))
}

/// Replaces a discussion's own document (not its comments').
pub fn put_discussion(conn: &mut DbConn, doc: &NewDocument) -> QueryResult<()> {
    diesel::delete(
        search_documents::table
            .filter(search_documents::discussion_id.eq(doc.discussion_id))
            .filter(search_documents::comment_id.is_null()),
    )
    .execute(conn)?;
    diesel::insert_into(search_documents::table)
        .values(doc)
        .execute(conn)?;
    Ok(())
}

/// A new comment's document.
pub fn insert_comment(conn: &mut DbConn, doc: &NewDocument) -> QueryResult<()> {
    cached(diesel::insert_into(search_documents::table).values(doc)).execute(conn)?;
    Ok(())
}

/// Replaces a comment's document.
pub fn put_comment(conn: &mut DbConn, doc: &NewDocument) -> QueryResult<()> {
    diesel::delete(search_documents::table.filter(search_documents::comment_id.eq(doc.comment_id)))
        .execute(conn)?;
    diesel::insert_into(search_documents::table)
        .values(doc)
        .execute(conn)?;
    Ok(())
}

/// PostgreSQL: fresh statistics for the index's table after a bulk change (the planner's
/// choices for a search's last steps depend on them; autovacuum would take a minute or more).
pub fn analyze(conn: &mut DbConn) -> QueryResult<()> {
    if let DbConn::Pg(c) = conn {
        diesel::sql_query("ANALYZE search_documents").execute(c)?;
    }
    Ok(())
}

/// Removes every document (a rebuild starts here).
pub fn clear(conn: &mut DbConn) -> QueryResult<usize> {
    diesel::delete(search_documents::table).execute(conn)
}

/// Adds documents, skipping those a writer indexed meanwhile (a rebuild runs beside writers).
pub fn insert_many(conn: &mut DbConn, docs: &[NewDocument]) -> QueryResult<usize> {
    match conn {
        DbConn::Pg(c) => diesel::insert_into(search_documents::table)
            .values(docs)
            .on_conflict_do_nothing()
            .execute(c),
        // (diesel has no multi-row insert with a conflict clause for SQLite; one statement a
        // row inside the caller's transaction costs little there.)
        DbConn::Sqlite(c) => docs.iter().try_fold(0, |count, doc| {
            diesel::insert_or_ignore_into(search_documents::table)
                .values(doc)
                .execute(c)
                .map(|n| count + n)
        }),
    }
}

/// A discussion's searchable text, as read for a rebuild.
pub struct DiscussionText {
    pub id: i64,
    pub kind: String,
    pub title: String,
    /// An article's lead and body, a topic's body.
    pub text: String,
    pub created_at: NaiveDateTime,
}

/// Discussions after `after`, by id.
pub fn discussions_after(
    conn: &mut DbConn,
    after: i64,
    limit: i64,
) -> QueryResult<Vec<DiscussionText>> {
    type Row = (
        i64,
        String,
        String,
        Option<String>,
        NaiveDateTime,
        Option<(String, String)>,
    );
    let rows: Vec<Row> = discussions::table
        .left_join(articles::table.on(articles::discussion_id.eq(discussions::id)))
        .filter(discussions::id.gt(after))
        .order(discussions::id)
        .limit(limit)
        .select((
            discussions::id,
            discussions::kind,
            discussions::title,
            discussions::body,
            discussions::created_at,
            (articles::lead, articles::body).nullable(),
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(id, kind, title, body, created_at, article)| DiscussionText {
                id,
                kind,
                title,
                text: match article {
                    Some((lead, body)) => format!("{lead}\n\n{body}"),
                    None => body.unwrap_or_default(),
                },
                created_at,
            },
        )
        .collect())
}

/// Comments with text after `after`, by id: `(id, discussion_id, body, created_at)`.
pub fn comments_after(
    conn: &mut DbConn,
    after: i64,
    limit: i64,
) -> QueryResult<Vec<(i64, i64, String, NaiveDateTime)>> {
    let rows: Vec<(i64, i64, Option<String>, NaiveDateTime)> = comments::table
        .filter(comments::id.gt(after))
        .filter(comments::body.is_not_null())
        .order(comments::id)
        .limit(limit)
        .select((
            comments::id,
            comments::discussion_id,
            comments::body,
            comments::created_at,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, d, body, at)| body.map(|b| (id, d, b, at)))
        .collect())
}

const STATE_KEY: &str = "search_index";

/// Takes the build that the migration asked for: true for one process only, however many
/// start together (the state moves from `rebuild` to `building` in one statement).
pub fn claim_rebuild(conn: &mut DbConn) -> QueryResult<bool> {
    let claimed = diesel::update(
        settings::table
            .filter(settings::key.eq(STATE_KEY))
            .filter(settings::value.eq("rebuild")),
    )
    .set(settings::value.eq("building"))
    .execute(conn)?;
    Ok(claimed == 1)
}

/// Gives a claimed build back (it failed): the next process to start takes it.
pub fn release_rebuild(conn: &mut DbConn) -> QueryResult<usize> {
    diesel::update(settings::table.find(STATE_KEY))
        .set(settings::value.eq("rebuild"))
        .execute(conn)
}

pub fn mark_built(conn: &mut DbConn) -> QueryResult<usize> {
    diesel::update(settings::table.find(STATE_KEY))
        .set(settings::value.eq("built"))
        .execute(conn)
}

/// A search result as read.
#[derive(QueryableByName, Debug)]
pub struct HitRow {
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = BigInt)]
    pub discussion_id: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub comment_id: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub article_id: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    pub article_slug: Option<String>,
    #[diesel(sql_type = Text)]
    pub title: String,
    /// The document's text (Markdown), for the snippet.
    #[diesel(sql_type = Nullable<Text>)]
    pub text: Option<String>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub author_id: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    pub username: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub display_name: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub status: Option<String>,
    #[diesel(sql_type = Timestamp)]
    pub created_at: NaiveDateTime,
}

/// How many of the newest matches a reader's search ranks (title matches first among them).
pub const RANKED: i64 = 100;

/// What both backends' searches run; `{candidates}` (the definition of a table of that name
/// and of what it needs) and `{title_match}` are each backend's own. Three steps in one
/// statement: the newest `need` matches that the reader may see (of the kind asked, if any);
/// the page among them; and only then the page's texts and authors. Title matches go first
/// among the newest `ranked` candidates only, the rest follow newest first (by id, the order
/// the candidates are taken in), so a deeper page, which takes more candidates, only adds
/// rows after those of the pages before. Bind order: query, now, include_hidden, kind ('' for
/// any), limit, offset, need, the query in the title alone, ranked.
const SEARCH_SQL: &str = "
WITH {candidates},
page AS MATERIALIZED (
    SELECT sd.id, sd.kind, sd.discussion_id, sd.comment_id, sd.created_at,
           CASE WHEN sd.id >= (SELECT MIN(id) FROM (SELECT id FROM candidates
                                                    ORDER BY id DESC LIMIT $9) ranked)
                     AND {title_match} THEN 1 ELSE 0 END AS rank
    FROM candidates
    JOIN search_documents sd ON sd.id = candidates.id
    ORDER BY rank DESC, sd.id DESC
    LIMIT $5 OFFSET $6
)
SELECT p.kind, p.discussion_id, p.comment_id, a.id AS article_id, d.article_slug, d.title,
       CASE p.kind WHEN 'comment' THEN c.body
                   WHEN 'topic' THEN d.body
                   ELSE a.lead || ' ' || a.body END AS text,
       u.id AS author_id, u.username, u.display_name, c.status, p.created_at
FROM page p
JOIN discussions d ON d.id = p.discussion_id
LEFT JOIN comments c ON c.id = p.comment_id
LEFT JOIN articles a ON a.discussion_id = p.discussion_id AND p.kind = 'article'
LEFT JOIN users u ON u.id = CASE p.kind WHEN 'comment' THEN c.author_id
                                        WHEN 'topic' THEN d.author_id END
ORDER BY p.rank DESC, p.id DESC";

/// What a reader may see of a document `sd` (with its discussion `d` and comment `c` joined):
/// candidates are counted after this check, so a wave of hidden spam hides nothing else.
const VISIBLE: &str = "d.visible_from <= $2
      AND (sd.kind <> 'comment' OR c.status = 'visible' OR ($3 AND c.status = 'hidden'))";

/// What a document's (`sd`) visibility depends on.
const VISIBILITY_JOINS: &str = "JOIN discussions d ON d.id = sd.discussion_id
    LEFT JOIN comments c ON c.id = sd.comment_id";

/// A backend's candidates with the visibility check written in.
fn candidates(sql: &str) -> String {
    sql.replace("{joins}", VISIBILITY_JOINS)
        .replace("{visible}", VISIBLE)
}

/// PostgreSQL's newest matches: walk the newest 50,000 documents, testing each
/// (`ts_match_vq` is `@@` that the planner cannot take to the GIN index: a walk's cost is
/// bounded whatever the statistics say; with none, right after a bulk load, the planner took a
/// common word to be rare and read 100,000 rows through the index for every search); when they
/// hold too few matches, the words are rare and the GIN index gives the newest of all
/// (`id + 0` keeps the planner from walking again).
const PG_CANDIDATES: &str = "
recent AS MATERIALIZED (
    SELECT sd.id FROM search_documents sd {joins}
    WHERE ts_match_vq(sd.terms, to_tsquery('simple', $1)) AND ($4 = '' OR sd.kind = $4)
      AND sd.id > (SELECT MAX(id) FROM search_documents) - 50000
      AND {visible}
    ORDER BY sd.id DESC LIMIT $7),
candidates AS MATERIALIZED (
    SELECT id FROM recent WHERE (SELECT COUNT(*) FROM recent) >= $7
    UNION ALL
    (SELECT sd.id FROM search_documents sd {joins}
     WHERE sd.terms @@ to_tsquery('simple', $1) AND ($4 = '' OR sd.kind = $4)
       AND {visible}
       AND (SELECT COUNT(*) FROM recent) < $7
     ORDER BY sd.id + 0 DESC LIMIT $7))";

/// PostgreSQL's newest matches among articles or topics: a walk of their own index (migration
/// 000016, a few percent of all documents), not past every comment.
const PG_DISCUSSION_CANDIDATES: &str = "
candidates AS MATERIALIZED (
    SELECT sd.id FROM search_documents sd {joins}
    WHERE sd.comment_id IS NULL AND sd.kind = $4
      AND ts_match_vq(sd.terms, to_tsquery('simple', $1))
      AND {visible}
    ORDER BY sd.id DESC LIMIT $7)";

/// SQLite's newest matches: FTS5 reads the words' entries newest first and stops at `need`.
const SQLITE_CANDIDATES: &str = "
candidates AS MATERIALIZED (
    SELECT sd.id FROM search_fts
    JOIN search_documents sd ON sd.id = search_fts.rowid {joins}
    WHERE search_fts MATCH $1 AND ($4 = '' OR sd.kind = $4)
      AND {visible}
    ORDER BY search_fts.rowid DESC LIMIT $7)";

/// The query as each backend takes it, and the same for the title alone.
pub struct Match {
    pub tsquery: String,
    pub fts5: String,
    pub tsquery_in_title: String,
    pub fts5_in_title: String,
}

impl Match {
    pub fn of(query: &super::text::Query) -> Match {
        Match {
            tsquery: query.to_tsquery(),
            fts5: query.to_fts5(),
            tsquery_in_title: query.to_tsquery_in_title(),
            fts5_in_title: query.to_fts5_in_title(),
        }
    }
}

/// PostgreSQL: plan this transaction's searches for their values (the connections' generic
/// plans suit everything else): the kind's `$4 = ''` folds away, the GIN index is read for
/// rare words only, and the page's joins are planned for the hundred rows they get. Neither
/// parallel workers nor JIT: the fallback's estimated cost (never run for a common word) made
/// the planner start two workers for a walk of a few hundred rows (7 ms to start them, for
/// 0.5 ms of work), and compile the statement (30 ms, for 1.7 ms of work). Call inside a
/// transaction.
pub fn plan_for_the_values(conn: &mut DbConn) -> QueryResult<()> {
    if let DbConn::Pg(c) = conn {
        c.batch_execute(
            "SET LOCAL plan_cache_mode = force_custom_plan; \
             SET LOCAL max_parallel_workers_per_gather = 0; SET LOCAL jit = off",
        )?;
    }
    Ok(())
}

/// One page of results among the newest `need` matches, best first (title matches first among
/// the newest `ranked`).
#[allow(clippy::too_many_arguments)]
pub fn search(
    conn: &mut DbConn,
    q: &Match,
    need: i64,
    ranked: i64,
    now: NaiveDateTime,
    include_hidden: bool,
    kind: Option<SearchKind>,
    limit: i64,
    offset: i64,
) -> QueryResult<Vec<HitRow>> {
    let discussions_only = matches!(kind, Some(SearchKind::Article | SearchKind::Topic));
    let kind = kind.map_or("", SearchKind::as_str);
    let (sql, query, in_title) = match conn {
        DbConn::Pg(_) => (
            SEARCH_SQL
                .replace(
                    "{candidates}",
                    &candidates(if discussions_only {
                        PG_DISCUSSION_CANDIDATES
                    } else {
                        PG_CANDIDATES
                    }),
                )
                .replace("{title_match}", "sd.terms @@ to_tsquery('simple', $8)"),
            &q.tsquery,
            &q.tsquery_in_title,
        ),
        DbConn::Sqlite(_) => (
            SEARCH_SQL
                .replace("{candidates}", &candidates(SQLITE_CANDIDATES))
                .replace(
                    "{title_match}",
                    "sd.id IN (SELECT rowid FROM search_fts WHERE search_fts MATCH $8 \
                     AND rowid >= (SELECT MIN(id) FROM candidates))",
                )
                .replace('$', "?"),
            &q.fts5,
            &q.fts5_in_title,
        ),
    };
    crate::per_backend!(conn, |c| {
        diesel::sql_query(&sql)
            .bind::<Text, _>(query)
            .bind::<Timestamp, _>(now)
            .bind::<Bool, _>(include_hidden)
            .bind::<Text, _>(kind)
            .bind::<BigInt, _>(limit)
            .bind::<BigInt, _>(offset)
            .bind::<BigInt, _>(need)
            .bind::<Text, _>(in_title)
            .bind::<BigInt, _>(ranked)
            .load(c)
    })
}
