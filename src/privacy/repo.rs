//! SQL of the export: every table's rows of one reader, a page at a time (keyset by id).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{
    comment_reports, comment_votes, comments, discussions, mutes, newsletter_subscribers,
    notification_settings, notifications, sessions, users,
};
use crate::timestamp::utc;

use super::dto::*;

/// Rows per page of a list.
pub const PAGE: i64 = 200;

/// The account, if it is live.
pub fn account(conn: &mut DbConn, user_id: i64) -> QueryResult<Option<ExportedAccount>> {
    type Row = (
        i64,
        String,
        String,
        String,
        String,
        NaiveDateTime,
        i64,
        Option<NaiveDateTime>,
        Option<NaiveDateTime>,
        Option<String>,
        Option<String>,
    );
    let row: Option<Row> = users::table
        .find(user_id)
        .filter(users::erased_at.is_null())
        .select((
            users::id,
            users::username,
            users::email,
            users::display_name,
            users::role,
            users::created_at,
            users::comments_count,
            users::banned_at,
            users::banned_until,
            users::ban_reason,
            users::language,
        ))
        .first(conn)
        .optional()?;
    Ok(row.map(|r| ExportedAccount {
        id: r.0,
        username: r.1,
        email: r.2,
        display_name: r.3,
        role: r.4,
        created_at: utc(r.5),
        comments_count: r.6,
        banned_at: r.7.map(utc),
        banned_until: r.8.map(utc),
        ban_reason: r.9,
        language: r.10,
    }))
}

pub fn notification_settings_of(
    conn: &mut DbConn,
    user_id: i64,
) -> QueryResult<Option<ExportedNotificationSettings>> {
    let row: Option<(String, String)> = notification_settings::table
        .find(user_id)
        .select((
            notification_settings::replies,
            notification_settings::mentions,
        ))
        .first(conn)
        .optional()?;
    Ok(row.map(|(replies, mentions)| ExportedNotificationSettings { replies, mentions }))
}

pub fn sessions_after(
    conn: &mut DbConn,
    user_id: i64,
    after: i64,
) -> QueryResult<Vec<(i64, ExportedSession)>> {
    type Row = (
        i64,
        Option<String>,
        NaiveDateTime,
        NaiveDateTime,
        NaiveDateTime,
        Option<NaiveDateTime>,
    );
    let rows: Vec<Row> = sessions::table
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::id.gt(after))
        .order(sessions::id)
        .limit(PAGE)
        .select((
            sessions::id,
            sessions::user_agent,
            sessions::created_at,
            sessions::last_used_at,
            sessions::expires_at,
            sessions::revoked_at,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                r.0,
                ExportedSession {
                    id: r.0,
                    user_agent: r.1,
                    created_at: utc(r.2),
                    last_used_at: utc(r.3),
                    expires_at: utc(r.4),
                    ended_at: r.5.map(utc),
                },
            )
        })
        .collect())
}

pub fn topics_after(
    conn: &mut DbConn,
    user_id: i64,
    after: i64,
) -> QueryResult<Vec<(i64, ExportedTopic)>> {
    type Row = (
        i64,
        String,
        Option<String>,
        NaiveDateTime,
        Option<NaiveDateTime>,
    );
    let rows: Vec<Row> = discussions::table
        .filter(discussions::author_id.eq(user_id))
        .filter(discussions::kind.eq(crate::discussions::Kind::Topic.as_str()))
        .filter(discussions::id.gt(after))
        .order(discussions::id)
        .limit(PAGE)
        .select((
            discussions::id,
            discussions::title,
            discussions::body,
            discussions::created_at,
            discussions::edited_at,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                r.0,
                ExportedTopic {
                    id: r.0,
                    title: r.1,
                    body: r.2,
                    created_at: utc(r.3),
                    edited_at: r.4.map(utc),
                },
            )
        })
        .collect())
}

pub fn comments_after(
    conn: &mut DbConn,
    user_id: i64,
    after: i64,
) -> QueryResult<Vec<(i64, ExportedComment)>> {
    type Row = (
        i64,
        i64,
        Option<i64>,
        String,
        Option<String>,
        i64,
        NaiveDateTime,
        Option<NaiveDateTime>,
    );
    let rows: Vec<Row> = comments::table
        .filter(comments::author_id.eq(user_id))
        .filter(comments::id.gt(after))
        .order(comments::id)
        .limit(PAGE)
        .select((
            comments::id,
            comments::discussion_id,
            comments::parent_id,
            comments::status,
            comments::body,
            comments::score,
            comments::created_at,
            comments::edited_at,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                r.0,
                ExportedComment {
                    id: r.0,
                    discussion_id: r.1,
                    parent_id: r.2,
                    status: r.3,
                    body: r.4,
                    score: r.5,
                    created_at: utc(r.6),
                    edited_at: r.7.map(utc),
                },
            )
        })
        .collect())
}

pub fn votes_after(
    conn: &mut DbConn,
    user_id: i64,
    after: i64,
) -> QueryResult<Vec<(i64, ExportedVote)>> {
    let rows: Vec<(i64, i32, NaiveDateTime)> = comment_votes::table
        .filter(comment_votes::user_id.eq(user_id))
        .filter(comment_votes::comment_id.gt(after))
        .order(comment_votes::comment_id)
        .limit(PAGE)
        .select((
            comment_votes::comment_id,
            comment_votes::value,
            comment_votes::created_at,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(comment_id, value, at)| {
            (
                comment_id,
                ExportedVote {
                    comment_id,
                    value,
                    created_at: utc(at),
                },
            )
        })
        .collect())
}

pub fn reports_after(
    conn: &mut DbConn,
    user_id: i64,
    after: i64,
) -> QueryResult<Vec<(i64, ExportedReport)>> {
    type Row = (
        i64,
        i64,
        String,
        String,
        NaiveDateTime,
        Option<NaiveDateTime>,
        Option<String>,
    );
    let rows: Vec<Row> = comment_reports::table
        .filter(comment_reports::reporter_id.eq(user_id))
        .filter(comment_reports::id.gt(after))
        .order(comment_reports::id)
        .limit(PAGE)
        .select((
            comment_reports::id,
            comment_reports::comment_id,
            comment_reports::reason,
            comment_reports::status,
            comment_reports::created_at,
            comment_reports::resolved_at,
            comment_reports::resolution,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                r.0,
                ExportedReport {
                    id: r.0,
                    comment_id: r.1,
                    reason: r.2,
                    status: r.3,
                    created_at: utc(r.4),
                    resolved_at: r.5.map(utc),
                    resolution: r.6,
                },
            )
        })
        .collect())
}

/// Subscriptions of the account, or of its address (`email_key`).
pub fn subscriptions_after(
    conn: &mut DbConn,
    (user_id, email_key): (i64, &str),
    after: i64,
) -> QueryResult<Vec<(i64, ExportedSubscription)>> {
    use newsletter_subscribers as s;
    type Row = (
        i64,
        String,
        String,
        NaiveDateTime,
        Option<NaiveDateTime>,
        Option<NaiveDateTime>,
    );
    let rows: Vec<Row> = s::table
        .filter(s::user_id.eq(user_id).or(s::email_key.eq(email_key)))
        .filter(s::id.gt(after))
        .order(s::id)
        .limit(PAGE)
        .select((
            s::id,
            s::email,
            s::status,
            s::created_at,
            s::confirmed_at,
            s::unsubscribed_at,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                r.0,
                ExportedSubscription {
                    email: r.1,
                    status: r.2,
                    created_at: utc(r.3),
                    confirmed_at: r.4.map(utc),
                    unsubscribed_at: r.5.map(utc),
                },
            )
        })
        .collect())
}

pub fn mutes_after(
    conn: &mut DbConn,
    user_id: i64,
    after: i64,
) -> QueryResult<Vec<(i64, ExportedMute)>> {
    let rows: Vec<(i64, NaiveDateTime)> = mutes::table
        .filter(mutes::user_id.eq(user_id))
        .filter(mutes::muted_id.gt(after))
        .order(mutes::muted_id)
        .limit(PAGE)
        .select((mutes::muted_id, mutes::created_at))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, at)| {
            (
                id,
                ExportedMute {
                    user_id: id,
                    created_at: utc(at),
                },
            )
        })
        .collect())
}

pub fn notifications_after(
    conn: &mut DbConn,
    user_id: i64,
    after: i64,
) -> QueryResult<Vec<(i64, ExportedNotification)>> {
    type Row = (
        i64,
        String,
        Option<i64>,
        i64,
        NaiveDateTime,
        Option<NaiveDateTime>,
    );
    let rows: Vec<Row> = notifications::table
        .filter(notifications::user_id.eq(user_id))
        .filter(notifications::id.gt(after))
        .order(notifications::id)
        .limit(PAGE)
        .select((
            notifications::id,
            notifications::kind,
            notifications::actor_id,
            notifications::comment_id,
            notifications::created_at,
            notifications::read_at,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                r.0,
                ExportedNotification {
                    id: r.0,
                    kind: r.1,
                    actor_id: r.2,
                    comment_id: r.3,
                    created_at: utc(r.4),
                    read_at: r.5.map(utc),
                },
            )
        })
        .collect())
}
