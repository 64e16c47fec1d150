//! SQL of discussions: the feed, one discussion, topics, counters.

use chrono::NaiveDateTime;
use diesel::IntoSql;
use diesel::prelude::*;

use super::domain::Kind;
use crate::db::schema::{discussions, users};
use crate::db::{DbConn, Named, Stamp, cached};
use crate::per_backend;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = discussions)]
pub struct Discussion {
    pub id: i64,
    #[diesel(deserialize_as = Named<Kind>)]
    pub kind: Kind,
    pub title: String,
    pub body: Option<String>,
    pub body_html: Option<String>,
    pub author_id: Option<i64>,
    pub article_slug: Option<String>,
    pub views: i64,
    pub replies: i64,
    pub pinned: bool,
    pub locked: bool,
    pub visible_from: NaiveDateTime,
    pub created_at: NaiveDateTime,
    pub last_activity_at: NaiveDateTime,
    pub edited_at: Option<NaiveDateTime>,
    /// Every new comment here waits for a moderator.
    pub premoderated: bool,
}

/// What a page of a discussion's comments asks of the discussion before anything else: whether
/// the caller sees it (from `visible_from`) and the version of its thread, which a trigger
/// bumps at every change to its comments (see the `thread_version` migration).
#[derive(Debug, Clone, Copy, Queryable)]
pub struct ThreadState {
    pub discussion_id: i64,
    pub visible_from: NaiveDateTime,
    pub version: i64,
    /// How many of its comments wait for a moderator.
    pub pending: i64,
}

/// The columns of a [`ThreadState`], for whoever finds the discussion another way (an
/// article's slug).
pub type ThreadStateColumns = (
    discussions::id,
    discussions::visible_from,
    discussions::thread_version,
    discussions::pending,
);
pub const THREAD_STATE: ThreadStateColumns = (
    discussions::id,
    discussions::visible_from,
    discussions::thread_version,
    discussions::pending,
);

/// The discussion's [`ThreadState`]: one primary-key read, before every thread page (on the
/// backend's own connection, see `per_backend!`).
pub fn thread_state(conn: &mut DbConn, id: i64) -> QueryResult<Option<ThreadState>> {
    per_backend!(conn, |c| discussions::table
        .find(id)
        .select(THREAD_STATE)
        .first(c)
        .optional())
}

/// An author, as the rows name them.
#[derive(Debug, Clone, Queryable)]
pub struct AuthorRow {
    pub id: i64,
    pub username: String,
    pub display_name: String,
}

/// A discussion with its author, as lists and pages show it.
pub type DiscussionRow = (Discussion, Option<AuthorRow>);

/// What the feed shows of a discussion: no body (a topic's may be 20,000 characters that the
/// feed never sends).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = discussions)]
pub struct FeedRow {
    pub id: i64,
    #[diesel(deserialize_as = Named<Kind>)]
    pub kind: Kind,
    pub title: String,
    pub article_slug: Option<String>,
    pub views: i64,
    pub replies: i64,
    pub pinned: bool,
    pub locked: bool,
    #[diesel(deserialize_as = Stamp)]
    pub created_at: NaiveDateTime,
    #[diesel(deserialize_as = Stamp)]
    pub last_activity_at: NaiveDateTime,
}

impl FeedRow {
    pub fn of(d: &Discussion) -> FeedRow {
        FeedRow {
            id: d.id,
            kind: d.kind,
            title: d.title.clone(),
            article_slug: d.article_slug.clone(),
            views: d.views,
            replies: d.replies,
            pinned: d.pinned,
            locked: d.locked,
            created_at: d.created_at,
            last_activity_at: d.last_activity_at,
        }
    }
}

/// Where a feed page starts: after this item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeedKey {
    pub pinned: bool,
    pub last_activity_at: NaiveDateTime,
    pub id: i64,
}

/// Feed rows in order (pinned first, then last activity, then id, all descending), visible
/// at `now`, after `after`, active after `since`. The first page is one backward range read of
/// `discussions_feed` (pinned, last_activity_at, id) across both segments; a page after a
/// cursor reads its segment from the cursor on (and the unpinned one after the pinned one
/// runs out). No OFFSET, so deep pages cost what the first does.
pub fn feed(
    conn: &mut DbConn,
    after: Option<FeedKey>,
    since: Option<NaiveDateTime>,
    limit: i64,
    now: NaiveDateTime,
) -> QueryResult<Vec<FeedEntry>> {
    let Some(after) = after else {
        if since.is_none() {
            return first_page(conn, limit, now);
        }
        return feed_segment(conn, None, None, since, limit, now);
    };
    let mut rows = Vec::new();
    if after.pinned {
        let start = Some((after.last_activity_at, after.id));
        rows = feed_segment(conn, Some(true), start, since, limit, now)?;
        if rows.len() as i64 >= limit {
            return Ok(rows);
        }
    }
    let start = (!after.pinned).then_some((after.last_activity_at, after.id));
    let rest = feed_segment(
        conn,
        Some(false),
        start,
        since,
        limit - rows.len() as i64,
        now,
    )?;
    rows.extend(rest);
    Ok(rows)
}

/// `$query` in feed order, `$limit` rows of it, each a feed row and its author: the tail of
/// both shapes of the feed's query.
macro_rules! feed_rows {
    ($limit:expr, $query:expr) => {
        $query
            .order((
                discussions::pinned.desc(),
                discussions::last_activity_at.desc(),
                discussions::id.desc(),
            ))
            .limit($limit)
            .select((
                FeedRow::as_select(),
                (users::id, users::username, users::display_name).nullable(),
            ))
    };
}

/// The first page, the most read: the same as [`feed_segment`] gives, as a query of one fixed
/// shape, so that diesel keeps it prepared (a boxed query is parsed and planned again at
/// every call: on PostgreSQL the planning took longer than the execution).
///
/// Run on the backend's own connection: through the multi-backend connection diesel writes the
/// whole SQL text again at each of its passes over the query (a tenth of a feed request's CPU).
fn first_page(conn: &mut DbConn, limit: i64, now: NaiveDateTime) -> QueryResult<Vec<FeedEntry>> {
    per_backend!(conn, |c| feed_rows!(
        limit,
        discussions::table
            .left_join(users::table)
            .filter(discussions::visible_from.le(now))
    )
    .load(c))
}

/// The discussions last active, scheduled ones too, with their authors (moderators' list).
pub fn recent(conn: &mut DbConn, limit: i64) -> QueryResult<Vec<DiscussionRow>> {
    discussions::table
        .left_join(users::table)
        .order((discussions::last_activity_at.desc(), discussions::id.desc()))
        .limit(limit)
        .select((
            Discussion::as_select(),
            (users::id, users::username, users::display_name).nullable(),
        ))
        .load(conn)
}

/// A feed row with its author.
pub type FeedEntry = (FeedRow, Option<AuthorRow>);

/// Rows of one segment (`pinned`), or of both in feed order (`None`).
fn feed_segment(
    conn: &mut DbConn,
    pinned: Option<bool>,
    after: Option<(NaiveDateTime, i64)>,
    since: Option<NaiveDateTime>,
    limit: i64,
    now: NaiveDateTime,
) -> QueryResult<Vec<FeedEntry>> {
    per_backend!(conn, |c| {
        let mut query = discussions::table
            .left_join(users::table)
            .filter(discussions::visible_from.le(now))
            .into_boxed();
        if let Some(pinned) = pinned {
            query = query.filter(discussions::pinned.eq(pinned));
        }
        if let Some((at, id)) = after {
            // `at <= x` is the index range; the OR only decides ties on the timestamp.
            query = query.filter(discussions::last_activity_at.le(at)).filter(
                discussions::last_activity_at
                    .lt(at)
                    .or(discussions::id.lt(id)),
            );
        }
        if let Some(since) = since {
            query = query.filter(discussions::last_activity_at.gt(since));
        }
        feed_rows!(limit, query).load(c)
    })
}

pub fn by_id(conn: &mut DbConn, id: i64) -> QueryResult<DiscussionRow> {
    discussions::table
        .left_join(users::table)
        .filter(discussions::id.eq(id))
        .select((
            Discussion::as_select(),
            (users::id, users::username, users::display_name).nullable(),
        ))
        .first(conn)
}

/// The discussion, its row locked until the end of the caller's transaction (PostgreSQL;
/// SQLite's `BEGIN IMMEDIATE` already serializes writers). Writers lock in one order: the
/// discussion, then its comments, then accounts.
pub fn lock(conn: &mut DbConn, id: i64) -> QueryResult<Option<Discussion>> {
    crate::locked!(
        conn,
        discussions::table.find(id).select(Discussion::as_select()),
        |q, c| q.first(c).optional()
    )
}

#[derive(Clone, Insertable)]
#[diesel(table_name = discussions)]
pub struct NewDiscussion<'a> {
    #[diesel(serialize_as = String)]
    pub kind: Kind,
    pub title: &'a str,
    pub body: Option<&'a str>,
    pub body_html: Option<&'a str>,
    pub author_id: Option<i64>,
    pub article_slug: Option<&'a str>,
    pub visible_from: NaiveDateTime,
    pub created_at: NaiveDateTime,
    pub last_activity_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConn, new: &NewDiscussion) -> QueryResult<i64> {
    diesel::insert_into(discussions::table)
        .values(new.clone())
        .returning(discussions::id)
        .get_result(conn)
}

/// Changes a topic's title and body (and their rendering); marks it edited.
pub fn edit_topic(
    conn: &mut DbConn,
    id: i64,
    title: &str,
    body: &str,
    body_html: &str,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(discussions::table.find(id))
        .set((
            discussions::title.eq(title),
            discussions::body.eq(body),
            discussions::body_html.eq(body_html),
            discussions::edited_at.eq(Some(at)),
        ))
        .execute(conn)
}

/// The discussions the user started (topics; an editor's articles), in id order.
pub fn authored_by(conn: &mut DbConn, user_id: i64) -> QueryResult<Vec<i64>> {
    discussions::table
        .filter(discussions::author_id.eq(user_id))
        .order(discussions::id)
        .select(discussions::id)
        .load(conn)
}

/// Takes the author off a discussion; with `erase`, its own text goes too (a topic's body;
/// the title stays: it is the thread's name, which others' comments answer).
pub fn disown(conn: &mut DbConn, id: i64, erase: bool) -> QueryResult<Option<Discussion>> {
    let target = discussions::table.find(id);
    let author = discussions::author_id.eq(None::<i64>);
    per_backend!(conn, |c| {
        if erase {
            diesel::update(target)
                .set((
                    author,
                    discussions::body.eq(""),
                    discussions::body_html.eq(""),
                ))
                .returning(Discussion::as_returning())
                .get_result(c)
                .optional()
        } else {
            diesel::update(target)
                .set(author)
                .returning(Discussion::as_returning())
                .get_result(c)
                .optional()
        }
    })
}

/// What an article's changes mean for its discussion.
pub fn sync_article(
    conn: &mut DbConn,
    id: i64,
    title: &str,
    published_at: NaiveDateTime,
    moved_activity: bool,
) -> QueryResult<usize> {
    let target = discussions::table.find(id);
    if moved_activity {
        diesel::update(target)
            .set((
                discussions::title.eq(title),
                discussions::visible_from.eq(published_at),
                discussions::last_activity_at.eq(published_at),
            ))
            .execute(conn)
    } else {
        diesel::update(target)
            .set((
                discussions::title.eq(title),
                discussions::visible_from.eq(published_at),
            ))
            .execute(conn)
    }
}

pub fn delete(conn: &mut DbConn, id: i64) -> QueryResult<usize> {
    diesel::delete(discussions::table.find(id)).execute(conn)
}

/// A new comment: `replies` up by one and `last_activity_at` to `at` (never backwards: a
/// writer that waited for the row may carry an earlier instant), in one statement that also
/// locks the row until the caller's transaction ends. Only for an open discussion: not
/// locked, not premoderated (unless `exempt`), and visible at `at` unless `include_scheduled`. `None` when there is no such open
/// discussion (the caller finds out why, if it must).
pub fn comment_added(
    conn: &mut DbConn,
    id: i64,
    at: NaiveDateTime,
    (include_scheduled, exempt): (bool, bool),
) -> QueryResult<Option<Discussion>> {
    use diesel::dsl::case_when;
    let latest = case_when(
        discussions::last_activity_at.gt(at),
        discussions::last_activity_at,
    )
    .otherwise(at);
    let changes = (
        discussions::replies.eq(discussions::replies + 1),
        discussions::last_activity_at.eq(latest),
    );
    let open = discussions::id
        .eq(id)
        .and(discussions::locked.eq(false))
        .and(
            discussions::premoderated
                .eq(false)
                .or(exempt.into_sql::<diesel::sql_types::Bool>()),
        )
        .and(
            discussions::visible_from
                .le(at)
                .or(include_scheduled.into_sql::<diesel::sql_types::Bool>()),
        );
    per_backend!(conn, |c| cached(
        diesel::update(discussions::table.filter(open))
            .set(changes)
            .returning(Discussion::as_returning())
    )
    .get_result(c)
    .optional())
}

/// A held comment was approved: `replies` moves by one and `last_activity_at` to `at`, whether
/// or not the discussion is locked or premoderated now (a moderator publishes it).
pub fn comment_published(
    conn: &mut DbConn,
    id: i64,
    at: NaiveDateTime,
) -> QueryResult<Option<Discussion>> {
    use diesel::dsl::case_when;
    let latest = case_when(
        discussions::last_activity_at.gt(at),
        discussions::last_activity_at,
    )
    .otherwise(at);
    per_backend!(conn, |c| diesel::update(discussions::table.find(id))
        .set((
            discussions::replies.eq(discussions::replies + 1),
            discussions::last_activity_at.eq(latest),
            discussions::pending.eq(discussions::pending - 1),
        ))
        .returning(Discussion::as_returning())
        .get_result(c)
        .optional())
}

/// How many comments wait for a moderator in the discussion moves by `delta`.
pub fn pending_moved(conn: &mut DbConn, id: i64, delta: i64) -> QueryResult<usize> {
    diesel::update(discussions::table.find(id))
        .set(discussions::pending.eq(discussions::pending + delta))
        .execute(conn)
}

/// A comment went or came back (deleted, hidden, restored): `replies` moves by `delta`, in
/// the caller's transaction. Returns the discussion as it is now, if there is one.
pub fn replies_moved(conn: &mut DbConn, id: i64, delta: i64) -> QueryResult<Option<Discussion>> {
    per_backend!(conn, |c| diesel::update(discussions::table.find(id))
        .set(discussions::replies.eq(discussions::replies + delta))
        .returning(Discussion::as_returning())
        .get_result(c)
        .optional())
}

/// Imported comments: `replies` up by `added`, `last_activity_at` to `latest` if later.
pub fn imported(
    conn: &mut DbConn,
    id: i64,
    added: i64,
    latest: NaiveDateTime,
) -> QueryResult<usize> {
    use diesel::dsl::case_when;
    let later = case_when(
        discussions::last_activity_at.gt(latest),
        discussions::last_activity_at,
    )
    .otherwise(latest);
    diesel::update(discussions::table.find(id))
        .set((
            discussions::replies.eq(discussions::replies + added),
            discussions::last_activity_at.eq(later),
        ))
        .execute(conn)
}

/// Adds buffered view counts, as deltas so that several processes add up.
pub fn add_views(conn: &mut DbConn, deltas: &[(i64, i64)]) -> QueryResult<()> {
    for (id, delta) in deltas {
        diesel::update(discussions::table.find(id))
            .set(discussions::views.eq(discussions::views + delta))
            .execute(conn)?;
    }
    Ok(())
}

/// Marks `(discussion, viewer)` as viewed on `day`; returns the discussion of each mark that
/// was new (a viewer another process counted already returns nothing). Marks are written in
/// the order given: sort them, so that concurrent flushes lock in one order.
pub fn add_view_marks(
    conn: &mut DbConn,
    day: &str,
    marks: &[(i64, String)],
) -> QueryResult<Vec<i64>> {
    use crate::db::schema::view_marks;
    let mut counted = Vec::new();
    for chunk in marks.chunks(500) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|(discussion, viewer)| {
                (
                    view_marks::discussion_id.eq(*discussion),
                    view_marks::day.eq(day),
                    view_marks::viewer.eq(viewer.as_str()),
                )
            })
            .collect();
        counted.extend(per_backend!(conn, |c| diesel::insert_into(
            view_marks::table
        )
        .values(&rows)
        .on_conflict_do_nothing()
        .returning(view_marks::discussion_id)
        .get_results::<i64>(c))?);
    }
    Ok(counted)
}

/// Forgets the view marks of days before `day`.
pub fn purge_view_marks(conn: &mut DbConn, day: &str) -> QueryResult<usize> {
    use crate::db::schema::view_marks;
    diesel::delete(view_marks::table.filter(view_marks::day.lt(day))).execute(conn)
}

/// `NOTIFY channel, payload` for each payload, in one statement (PostgreSQL only; SQLite has
/// one process, whose events need no database).
pub fn notify_all(conn: &mut DbConn, channel: &str, payloads: &[String]) -> QueryResult<()> {
    if let DbConn::Pg(pg) = conn {
        use diesel::sql_types::{Array, Text};
        diesel::sql_query("SELECT pg_notify($1, payload) FROM unnest($2) AS payload")
            .bind::<Text, _>(channel)
            .bind::<Array<Text>, _>(payloads)
            .execute(pg)?;
    }
    Ok(())
}
