//! SQL of notifications, their settings, mutes and stream tickets.

use chrono::NaiveDateTime;
use diesel::dsl::{exists, not};
use diesel::prelude::*;

use super::domain::{Kind, MailChoice, MailQueue};
use super::dto::{NotificationRow, NotificationSettings};
use crate::db::DbConn;
use crate::db::schema::{
    comments, discussions, mutes, notification_settings, notifications, users,
};
use crate::discussions::AuthorRow;
use crate::{locked, per_backend};

mod erasure;
mod muting;
mod tickets;

pub use erasure::*;
pub use muting::*;
pub use tickets::*;

/// A notification to store.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = notifications)]
pub struct NewNotification {
    pub user_id: i64,
    pub kind: &'static str,
    pub actor_id: Option<i64>,
    pub comment_id: i64,
    pub detail: Option<&'static str>,
    pub created_at: NaiveDateTime,
    pub mail: Option<&'static str>,
}

/// Which of these readers muted `actor`.
pub fn muted_among(conn: &mut DbConn, ids: &[i64], actor: i64) -> QueryResult<Vec<i64>> {
    mutes::table
        .filter(mutes::muted_id.eq(actor))
        .filter(mutes::user_id.eq_any(ids))
        .select(mutes::user_id)
        .load(conn)
}

/// The accounts of these usernames (lowercased, as `users.username_key`).
pub fn ids_of_usernames(conn: &mut DbConn, keys: &[String]) -> QueryResult<Vec<i64>> {
    users::table
        .filter(users::username_key.eq_any(keys))
        .select(users::id)
        .load(conn)
}

/// Stores notifications, in one statement; their ids, in order.
pub fn insert(conn: &mut DbConn, rows: &[NewNotification]) -> QueryResult<Vec<i64>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    per_backend!(conn, |c| diesel::insert_into(notifications::table)
        .values(rows)
        .returning(notifications::id)
        .get_results(c))
}

/// The notifications a reader may see now: about a comment that is still visible (unless it
/// is the reader's own, or a moderator's act), in a discussion readers see, from nobody the
/// reader muted and nobody banned now.
macro_rules! visible_to {
    ($user:expr, $now:expr) => {{
        let (user, now): (i64, NaiveDateTime) = ($user, $now);
        notifications::table
            .inner_join(comments::table.on(comments::id.eq(notifications::comment_id)))
            .inner_join(discussions::table.on(discussions::id.eq(comments::discussion_id)))
            .left_join(users::table.on(users::id.nullable().eq(notifications::actor_id)))
            .filter(notifications::user_id.eq(user))
            .filter(discussions::visible_from.le(now))
            .filter(
                notifications::kind
                    .ne_all(OTHERS_COMMENTS)
                    .or(comments::status.eq(crate::comments::CommentStatus::Visible.as_str())),
            )
            .filter(notifications::actor_id.is_null().or(
                not(exists(mutes::table.filter(mutes::user_id.eq(user)).filter(
                    mutes::muted_id.nullable().eq(notifications::actor_id),
                ))),
            ))
            .filter(
                users::banned_at.is_null().or(users::banned_until
                    .is_not_null()
                    .and(users::banned_until.le(now))),
            )
    }};
}

/// The kinds about someone else's comment, which must still be visible for the notification
/// to show (a moderator's act on the reader's own comment shows whatever became of it).
const OTHERS_COMMENTS: [&str; 3] = [
    Kind::Reply.as_str(),
    Kind::TopicComment.as_str(),
    Kind::Mention.as_str(),
];

type RawRow = (
    i64,
    String,
    Option<(i64, String, String)>,
    i64,
    String,
    Option<String>,
    i64,
    Option<String>,
    String,
    Option<i64>,
    Option<String>,
    NaiveDateTime,
    Option<NaiveDateTime>,
);

macro_rules! row_columns {
    () => {
        (
            notifications::id,
            notifications::kind,
            (users::id, users::username, users::display_name).nullable(),
            discussions::id,
            discussions::title,
            discussions::article_slug,
            notifications::comment_id,
            comments::body,
            comments::status,
            comments::author_id,
            notifications::detail,
            notifications::created_at,
            notifications::read_at,
        )
    };
}

fn into_row(user: i64, raw: RawRow) -> Option<NotificationRow> {
    let (id, kind, actor, discussion_id, title, article_slug, comment_id, body, status) = (
        raw.0, raw.1, raw.2, raw.3, raw.4, raw.5, raw.6, raw.7, raw.8,
    );
    let own = raw.9 == Some(user);
    let readable = own || status == crate::comments::CommentStatus::Visible.as_str();
    Some(NotificationRow {
        id,
        kind: Kind::parse(&kind)?,
        actor: actor.map(|(id, username, display_name)| AuthorRow {
            id,
            username,
            display_name,
        }),
        discussion_id,
        title,
        article_slug,
        comment_id,
        comment_body: body.filter(|_| readable),
        detail: raw.10,
        created_at: raw.11,
        read_at: raw.12,
    })
}

/// A page of a reader's inbox, newest first: ids below `before`, `limit` of them.
pub fn page(
    conn: &mut DbConn,
    user: i64,
    unread_only: bool,
    before: Option<i64>,
    limit: i64,
    now: NaiveDateTime,
) -> QueryResult<Vec<NotificationRow>> {
    let mut query = visible_to!(user, now)
        .select(row_columns!())
        .order(notifications::id.desc())
        .limit(limit)
        .into_boxed();
    if unread_only {
        query = query.filter(notifications::read_at.is_null());
    }
    if let Some(before) = before {
        query = query.filter(notifications::id.lt(before));
    }
    let rows: Vec<RawRow> = query.load(conn)?;
    Ok(rows.into_iter().filter_map(|r| into_row(user, r)).collect())
}

/// These notifications of a reader, if the reader may see them (for the live stream).
pub fn by_ids(
    conn: &mut DbConn,
    user: i64,
    ids: &[i64],
    now: NaiveDateTime,
) -> QueryResult<Vec<NotificationRow>> {
    let rows: Vec<RawRow> = visible_to!(user, now)
        .filter(notifications::id.eq_any(ids))
        .select(row_columns!())
        .order(notifications::id.asc())
        .load(conn)?;
    Ok(rows.into_iter().filter_map(|r| into_row(user, r)).collect())
}

/// A reader's unread notifications, counted up to `max`.
pub fn unread_count(
    conn: &mut DbConn,
    user: i64,
    max: i64,
    now: NaiveDateTime,
) -> QueryResult<i64> {
    let ids: Vec<i64> = visible_to!(user, now)
        .filter(notifications::read_at.is_null())
        .select(notifications::id)
        .order(notifications::id.desc())
        .limit(max)
        .load(conn)?;
    Ok(ids.len() as i64)
}

/// Marks a reader's unread notifications read: these ids, or all. Returns how many.
pub fn mark_read(
    conn: &mut DbConn,
    user: i64,
    ids: Option<&[i64]>,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    let unread = notifications::table
        .filter(notifications::user_id.eq(user))
        .filter(notifications::read_at.is_null());
    match ids {
        Some(ids) => diesel::update(unread.filter(notifications::id.eq_any(ids)))
            .set(notifications::read_at.eq(Some(at)))
            .execute(conn),
        None => diesel::update(unread)
            .set(notifications::read_at.eq(Some(at)))
            .execute(conn),
    }
}

/// Removes notifications read before `read_before`, and the oldest ones made before
/// `made_before` (read or not, and those of deleted comments: the inbox hides them). Returns how
/// many.
pub fn purge(
    conn: &mut DbConn,
    read_before: NaiveDateTime,
    made_before: NaiveDateTime,
) -> QueryResult<usize> {
    let mut removed =
        diesel::delete(notifications::table.filter(notifications::read_at.lt(read_before)))
            .execute(conn)?;
    // There is no index on `created_at`: ids grow with time, so the old ones are the first
    // ids; take them a thousand at a time until one is young enough.
    loop {
        let oldest: Vec<(i64, NaiveDateTime)> = notifications::table
            .select((notifications::id, notifications::created_at))
            .order(notifications::id.asc())
            .limit(1000)
            .load(conn)?;
        let old: Vec<i64> = oldest
            .iter()
            .take_while(|(_, at)| *at < made_before)
            .map(|(id, _)| *id)
            .collect();
        if old.is_empty() {
            return Ok(removed);
        }
        let done = old.len() < oldest.len() || oldest.len() < 1000;
        removed += diesel::delete(notifications::table.filter(notifications::id.eq_any(&old)))
            .execute(conn)?;
        if done {
            return Ok(removed);
        }
    }
}

// Settings.

/// A reader's settings row: choices, unsubscribe token, last mail.
#[derive(Debug, Clone, Queryable)]
pub struct SettingsRow {
    pub user_id: i64,
    pub replies: String,
    pub mentions: String,
    pub unsubscribe_token: String,
    pub last_mailed_at: Option<NaiveDateTime>,
}

impl SettingsRow {
    pub fn choices(&self) -> NotificationSettings {
        NotificationSettings {
            replies: MailChoice::parse(&self.replies).unwrap_or_default(),
            mentions: MailChoice::parse(&self.mentions).unwrap_or_default(),
        }
    }
}

pub fn settings(conn: &mut DbConn, user: i64) -> QueryResult<Option<SettingsRow>> {
    notification_settings::table
        .find(user)
        .first(conn)
        .optional()
}

pub fn settings_by_token(conn: &mut DbConn, token: &str) -> QueryResult<Option<SettingsRow>> {
    notification_settings::table
        .filter(notification_settings::unsubscribe_token.eq(token))
        .first(conn)
        .optional()
}

/// Makes a reader's settings row with the defaults and `token`, unless there is one. Then
/// locks it (PostgreSQL) and returns it.
pub fn settings_for_update(conn: &mut DbConn, user: i64, token: &str) -> QueryResult<SettingsRow> {
    let defaults = NotificationSettings::default();
    let row = (
        notification_settings::user_id.eq(user),
        notification_settings::replies.eq(defaults.replies.as_str()),
        notification_settings::mentions.eq(defaults.mentions.as_str()),
        notification_settings::unsubscribe_token.eq(token),
    );
    per_backend!(conn, |c| diesel::insert_into(notification_settings::table)
        .values(row)
        .on_conflict_do_nothing()
        .execute(c))?;
    locked!(conn, notification_settings::table.find(user), |q, c| q
        .first(c))
}

pub fn set_choices(
    conn: &mut DbConn,
    user: i64,
    choices: NotificationSettings,
) -> QueryResult<usize> {
    diesel::update(notification_settings::table.find(user))
        .set((
            notification_settings::replies.eq(choices.replies.as_str()),
            notification_settings::mentions.eq(choices.mentions.as_str()),
        ))
        .execute(conn)
}

/// Puts a reader's waiting notifications of these kinds in `queue` (none: not to be mailed),
/// as the reader's choice for them says now.
pub fn requeue(
    conn: &mut DbConn,
    user: i64,
    kinds: &[&str],
    queue: Option<MailQueue>,
) -> QueryResult<usize> {
    diesel::update(
        notifications::table
            .filter(notifications::user_id.eq(user))
            .filter(notifications::mail.is_not_null())
            .filter(notifications::kind.eq_any(kinds)),
    )
    .set(notifications::mail.eq(queue.map(MailQueue::as_str)))
    .execute(conn)
}

// Mail.

/// Readers with notifications waiting in `queue` since `made_by` at least, whose last mail
/// went by `mailed_by` (or never): at most `limit`.
pub fn due_readers(
    conn: &mut DbConn,
    queue: MailQueue,
    made_by: NaiveDateTime,
    mailed_by: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<i64>> {
    notifications::table
        .left_join(
            notification_settings::table
                .on(notification_settings::user_id.eq(notifications::user_id)),
        )
        .filter(notifications::mail.eq(queue.as_str()))
        .filter(notifications::created_at.le(made_by))
        .filter(
            notification_settings::last_mailed_at
                .is_null()
                .or(notification_settings::last_mailed_at.le(mailed_by)),
        )
        .select(notifications::user_id)
        .distinct()
        .limit(limit)
        .load(conn)
}

/// What a reader's mail from `queue` holds: the first `limit` notifications the reader may
/// see, oldest first; how many of those there are in all; and the newest id waiting, seen or
/// not (to take them all out of the queue).
pub fn queued(
    conn: &mut DbConn,
    user: i64,
    queue: MailQueue,
    limit: i64,
    now: NaiveDateTime,
) -> QueryResult<(Vec<NotificationRow>, i64, Option<i64>)> {
    let rows: Vec<RawRow> = visible_to!(user, now)
        .filter(notifications::mail.eq(queue.as_str()))
        .select(row_columns!())
        .order(notifications::id.asc())
        .limit(limit)
        .load(conn)?;
    let shown: i64 = visible_to!(user, now)
        .filter(notifications::mail.eq(queue.as_str()))
        .select(diesel::dsl::count_star())
        .first(conn)?;
    let newest: Option<i64> = notifications::table
        .filter(notifications::user_id.eq(user))
        .filter(notifications::mail.eq(queue.as_str()))
        .select(diesel::dsl::max(notifications::id))
        .first(conn)?;
    let rows = rows.into_iter().filter_map(|r| into_row(user, r)).collect();
    Ok((rows, shown, newest))
}

/// Takes a reader's notifications up to `newest` out of `queue` (mailed, or not to be).
pub fn unqueue_up_to(
    conn: &mut DbConn,
    user: i64,
    queue: MailQueue,
    newest: i64,
) -> QueryResult<usize> {
    diesel::update(
        notifications::table
            .filter(notifications::user_id.eq(user))
            .filter(notifications::mail.eq(queue.as_str()))
            .filter(notifications::id.le(newest)),
    )
    .set(notifications::mail.eq(None::<String>))
    .execute(conn)
}

/// Notes when a reader's last notification mail went.
pub fn set_last_mailed(conn: &mut DbConn, user: i64, at: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(notification_settings::table.find(user))
        .set(notification_settings::last_mailed_at.eq(Some(at)))
        .execute(conn)
}

/// A reader's address and the language chosen for their mails, if the account exists and is
/// not banned now.
pub fn mail_address(
    conn: &mut DbConn,
    user: i64,
    now: NaiveDateTime,
) -> QueryResult<Option<(String, Option<String>)>> {
    users::table
        .find(user)
        .filter(
            users::banned_at.is_null().or(users::banned_until
                .is_not_null()
                .and(users::banned_until.le(now))),
        )
        .select((users::email, users::language))
        .first(conn)
        .optional()
}
