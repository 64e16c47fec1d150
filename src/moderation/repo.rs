//! SQL of moderation: the audit log, and the discussion flags moderators set.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::reports::QueueStatus;
use crate::db::DbConn;
use crate::db::schema::{audit_log, discussions, users};
use crate::ids::UserId;

/// Appends an entry to the audit log, in the caller's transaction (the action and its record
/// commit together).
pub fn record(
    conn: &mut DbConn,
    UserId(actor_id): UserId,
    action: &str,
    target_type: &str,
    target_id: i64,
    reason: Option<&str>,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    record_with_previous(
        conn,
        actor_id,
        (action, target_type, target_id),
        reason,
        None,
        at,
    )
}

/// [`record`], with the text the action replaced (an edit's or a deletion's).
pub fn record_with_previous(
    conn: &mut DbConn,
    actor_id: i64,
    (action, target_type, target_id): (&str, &str, i64),
    reason: Option<&str>,
    previous: Option<&str>,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::actor_id.eq(Some(actor_id)),
            audit_log::action.eq(action),
            audit_log::target_type.eq(target_type),
            audit_log::target_id.eq(target_id),
            audit_log::reason.eq(reason),
            audit_log::previous.eq(previous),
            audit_log::created_at.eq(at),
        ))
        .execute(conn)
}

#[derive(Debug, Clone, Queryable)]
pub struct Entry {
    pub id: i64,
    pub actor_id: Option<i64>,
    pub actor_username: Option<String>,
    pub action: String,
    pub target_type: String,
    pub target_id: i64,
    pub reason: Option<String>,
    pub created_at: NaiveDateTime,
    pub previous: Option<String>,
}

/// What to list of the audit log.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub actor_id: Option<i64>,
    pub action: Option<String>,
    pub target_type: Option<String>,
    pub target_id: Option<i64>,
    /// At or after.
    pub since: Option<NaiveDateTime>,
    /// Before.
    pub until: Option<NaiveDateTime>,
}

/// Audit entries newest first, before id `before`, as the filter says.
pub fn entries(
    conn: &mut DbConn,
    filter: &Filter,
    before: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<Entry>> {
    let mut query = audit_log::table
        .left_join(users::table.on(audit_log::actor_id.eq(users::id.nullable())))
        .select((
            audit_log::id,
            audit_log::actor_id,
            users::username.nullable(),
            audit_log::action,
            audit_log::target_type,
            audit_log::target_id,
            audit_log::reason,
            audit_log::created_at,
            audit_log::previous,
        ))
        .order(audit_log::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(actor) = filter.actor_id {
        query = query.filter(audit_log::actor_id.eq(actor));
    }
    if let Some(action) = &filter.action {
        query = query.filter(audit_log::action.eq(action.clone()));
    }
    if let Some(since) = filter.since {
        query = query.filter(audit_log::created_at.ge(since));
    }
    if let Some(until) = filter.until {
        query = query.filter(audit_log::created_at.lt(until));
    }
    if let Some(target_type) = &filter.target_type {
        query = query.filter(audit_log::target_type.eq(target_type.clone()));
    }
    if let Some(target_id) = filter.target_id {
        query = query.filter(audit_log::target_id.eq(target_id));
    }
    if let Some(before) = before {
        query = query.filter(audit_log::id.lt(before));
    }
    query.load(conn)
}

/// Sets a discussion's `locked` or `pinned` flag.
pub fn set_flag(conn: &mut DbConn, id: i64, flag: Flag, value: bool) -> QueryResult<usize> {
    let target = discussions::table.find(id);
    match flag {
        Flag::Locked => diesel::update(target)
            .set(discussions::locked.eq(value))
            .execute(conn),
        Flag::Pinned => diesel::update(target)
            .set(discussions::pinned.eq(value))
            .execute(conn),
        Flag::Premoderated => diesel::update(target)
            .set(discussions::premoderated.eq(value))
            .execute(conn),
    }
}

#[derive(Debug, Clone, Copy)]
pub enum Flag {
    Locked,
    Pinned,
    /// Every new comment waits for a moderator.
    Premoderated,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub email: String,
    #[diesel(deserialize_as = String)]
    pub role: crate::auth::Role,
    pub banned_at: Option<NaiveDateTime>,
    pub banned_until: Option<NaiveDateTime>,
    pub ban_reason: Option<String>,
    pub comments_count: i64,
    pub created_at: NaiveDateTime,
}

/// Accounts whose username or email contains `q` (any case), by id after `after`.
pub fn search_users(
    conn: &mut DbConn,
    q: Option<&str>,
    after: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<UserRow>> {
    let mut query = users::table
        .select(UserRow::as_select())
        .order(users::id)
        .limit(limit)
        .into_boxed();
    if let Some(q) = q {
        let escaped: String = q
            .to_lowercase()
            .chars()
            .flat_map(|c| match c {
                '%' | '_' | '\\' => vec!['\\', c],
                c => vec![c],
            })
            .collect();
        let pattern = format!("%{escaped}%");
        query = query.filter(
            users::username_key
                .like(pattern.clone())
                .escape('\\')
                .or(users::email_key.like(pattern).escape('\\')),
        );
    }
    if let Some(after) = after {
        query = query.filter(users::id.gt(after));
    }
    query.load(conn)
}

/// The account, its row locked until the caller's transaction ends (PostgreSQL).
pub fn user(conn: &mut DbConn, id: i64) -> QueryResult<Option<UserRow>> {
    users::table
        .find(id)
        .select(UserRow::as_select())
        .first(conn)
        .optional()
}

pub fn lock_user(conn: &mut DbConn, id: i64) -> QueryResult<Option<UserRow>> {
    crate::locked!(
        conn,
        users::table.find(id).select(UserRow::as_select()),
        |q, c| q.first(c).optional()
    )
}

pub fn ban(
    conn: &mut DbConn,
    id: i64,
    reason: &str,
    until: Option<NaiveDateTime>,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(users::table.find(id))
        .set((
            users::banned_at.eq(Some(at)),
            users::banned_until.eq(until),
            users::ban_reason.eq(Some(reason)),
        ))
        .execute(conn)
}

pub fn unban(conn: &mut DbConn, id: i64) -> QueryResult<usize> {
    diesel::update(users::table.find(id))
        .set((
            users::banned_at.eq(None::<NaiveDateTime>),
            users::banned_until.eq(None::<NaiveDateTime>),
            users::ban_reason.eq(None::<String>),
        ))
        .execute(conn)
}

pub fn set_role(conn: &mut DbConn, id: i64, role: &str) -> QueryResult<usize> {
    diesel::update(users::table.find(id))
        .set(users::role.eq(role))
        .execute(conn)
}

/// The admins, their rows locked (PostgreSQL), so that two demotions cannot both pass the
/// "not the last admin" check.
pub fn lock_admins(conn: &mut DbConn) -> QueryResult<Vec<i64>> {
    let query = users::table
        .filter(users::role.eq("admin"))
        .order(users::id)
        .select(users::id);
    crate::locked!(conn, query, |q, c| q.load(c))
}

/// A comment in the report queue: `(comment_id, first reported, reports)`.
pub type Reported = (i64, NaiveDateTime, i64);

/// Reported comments with reports in `status`, oldest first report first, after `after`.
pub fn reported(
    conn: &mut DbConn,
    status: &str,
    after: Option<(NaiveDateTime, i64)>,
    limit: i64,
) -> QueryResult<Vec<Reported>> {
    use crate::db::schema::comment_reports as reports;
    use diesel::dsl::{count_star, min};
    let first = min(reports::created_at);
    let mut query = reports::table
        .filter(reports::status.eq(status.to_string()))
        .group_by(reports::comment_id)
        .select((reports::comment_id, first.assume_not_null(), count_star()))
        .order((first, reports::comment_id))
        .limit(limit)
        .into_boxed();
    if let Some((at, id)) = after {
        query = query.having(
            first
                .gt(at)
                .or(first.eq(at).and(reports::comment_id.gt(id))),
        );
    }
    query.load(conn)
}

/// A report of the queue, with its reporter's name.
#[derive(Debug, Clone, Queryable)]
pub struct ReportRow {
    pub id: i64,
    pub comment_id: i64,
    pub reporter_id: i64,
    pub reporter_username: String,
    pub reason: String,
    pub created_at: NaiveDateTime,
}

/// The reports in `status` of these comments, oldest first.
pub fn reports_of(
    conn: &mut DbConn,
    status: &str,
    comment_ids: &[i64],
) -> QueryResult<Vec<ReportRow>> {
    use crate::db::schema::comment_reports as reports;
    reports::table
        .inner_join(users::table.on(reports::reporter_id.eq(users::id)))
        .filter(reports::status.eq(status.to_string()))
        .filter(reports::comment_id.eq_any(comment_ids))
        .order((reports::created_at, reports::id))
        .select((
            reports::id,
            reports::comment_id,
            reports::reporter_id,
            users::username,
            reports::reason,
            reports::created_at,
        ))
        .load(conn)
}

/// The comment a report is about, and whether the report is still open.
pub fn report_comment(conn: &mut DbConn, report_id: i64) -> QueryResult<Option<(i64, bool)>> {
    use crate::db::schema::comment_reports as reports;
    reports::table
        .find(report_id)
        .select((
            reports::comment_id,
            reports::status.eq(QueueStatus::Open.as_str()),
        ))
        .first(conn)
        .optional()
}

/// Closes every open report of a comment with `resolution`. Returns their reporters.
pub fn resolve_reports(
    conn: &mut DbConn,
    comment_id: i64,
    moderator: i64,
    resolution: &str,
    at: NaiveDateTime,
) -> QueryResult<Vec<i64>> {
    use crate::db::schema::comment_reports as reports;
    diesel::update(
        reports::table
            .filter(reports::comment_id.eq(comment_id))
            .filter(reports::status.eq(QueueStatus::Open.as_str())),
    )
    .set((
        reports::status.eq(QueueStatus::Resolved.as_str()),
        reports::resolved_at.eq(Some(at)),
        reports::resolved_by.eq(Some(moderator)),
        reports::resolution.eq(Some(resolution)),
    ))
    .returning(reports::reporter_id)
    .get_results(conn)
}

/// Drops the texts the audit log kept of an account's comments and topics (what a staff
/// action replaced): the log keeps the actions and ids, not the erased reader's words.
pub fn forget_texts_of(conn: &mut DbConn, user_id: i64) -> QueryResult<usize> {
    use crate::db::schema::comments;
    let their_comments = comments::table
        .filter(comments::author_id.eq(user_id))
        .select(comments::id);
    let their_topics = discussions::table
        .filter(discussions::author_id.eq(user_id))
        .select(discussions::id);
    let of_comments = audit_log::target_type
        .eq("comment")
        .and(audit_log::target_id.eq_any(their_comments));
    let of_topics = audit_log::target_type
        .eq("discussion")
        .and(audit_log::target_id.eq_any(their_topics));
    diesel::update(
        audit_log::table
            .filter(audit_log::previous.is_not_null())
            .filter(of_comments.or(of_topics)),
    )
    .set(audit_log::previous.eq(None::<String>))
    .execute(conn)
}
