//! Notifications: what readers are told when someone answers them, names them, or a moderator
//! acts on their comment or report. The inbox (`/me/notifications`), the reader's own live
//! stream (`/me/stream`), batched mail (see [`mail`]), and mutes.
//!
//! A notification is written in the transaction of the change that causes it (posting a
//! comment, hiding one, resolving a report), through the functions below, and its live event
//! goes out with that change's events after the commit ([`crate::discussions::live::personal`]).
//! What readers may not see is filtered when the inbox is read, not only when it is written:
//! a comment hidden later, an author muted or banned later, take their notifications out of
//! the inbox, the unread count and the mails not sent yet.
//!
//! Fan-out is bounded: a comment notifies at most the author of the comment it replies to,
//! its topic's author and [`domain::MAX_MENTIONS`] mentioned readers.

pub mod domain;
pub mod dto;
mod handlers;
pub mod mail;
mod mutes;
mod repo;

use chrono::NaiveDateTime;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::db::DbConn;
use crate::discussions::AuthorRow;
use crate::discussions::live::personal;
use crate::error::ApiError;
use domain::Kind;
use dto::{Notification, NotificationRow};

pub use mutes::{MuteCache, mark_muted};

pub fn routes(cfg: &mut ServiceConfig) {
    use handlers::*;
    // `unread-count` and `read` before anything with a parameter.
    cfg.service(inbox)
        .service(unread_count)
        .service(mark_read)
        .service(my_stream)
        .service(stream_ticket)
        .service(get_settings)
        .service(put_settings)
        .service(notification_unsubscribe)
        .service(notification_unsubscribe_page)
        .service(list_mutes)
        .service(mute)
        .service(unmute);
}

/// A comment just posted, as the notifications feature needs to know it.
pub struct CommentPosted<'a> {
    pub comment_id: i64,
    pub discussion: &'a crate::discussions::Discussion,
    pub actor: &'a AuthorRow,
    /// The author of the comment it replies to.
    pub replied_to: Option<i64>,
    /// Its Markdown.
    pub body: &'a str,
    pub at: NaiveDateTime,
}

/// Notifies who a new comment concerns (in the posting transaction): the author of the comment
/// it replies to, the topic's author, and the readers it mentions (10 at most); never its
/// author, nobody who muted its author, nobody for a discussion readers cannot see yet.
/// Returns the live events to publish with the comment's.
pub fn comment_posted(conn: &mut DbConn, posted: &CommentPosted) -> Result<Vec<String>, ApiError> {
    let discussion = posted.discussion;
    if !crate::discussions::is_public(discussion) {
        return Ok(Vec::new());
    }
    let topic_author = match discussion.kind {
        crate::discussions::Kind::Topic => discussion.author_id,
        crate::discussions::Kind::Article => None,
    };
    let names = domain::mentions(posted.body);
    let mentioned = if names.is_empty() {
        Vec::new()
    } else {
        repo::ids_of_usernames(conn, &names)?
    };
    let wanted = domain::recipients(posted.actor.id, posted.replied_to, topic_author, &mentioned);
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    // Readers' mail choices are not read here (the busiest write): every mailable
    // notification waits in the `soon` queue, and the mail worker sorts it by the reader's
    // choice when it comes to it (see `mail`).
    let ids: Vec<i64> = wanted.iter().map(|(id, _)| *id).collect();
    let muted = repo::muted_among(conn, &ids, posted.actor.id)?;
    let rows: Vec<repo::NewNotification> = wanted
        .into_iter()
        .filter(|(user, _)| !muted.contains(user))
        .map(|(user, kind)| repo::NewNotification {
            user_id: user,
            kind: kind.as_str(),
            actor_id: Some(posted.actor.id),
            comment_id: posted.comment_id,
            detail: None,
            created_at: posted.at,
            mail: kind.topic().map(|_| domain::MailQueue::Soon.as_str()),
        })
        .collect();
    let ids = repo::insert(conn, &rows)?;
    // One notification as its readers see it; each reader's differs by id and kind.
    let mut shown = Notification::from(NotificationRow {
        id: 0,
        kind: Kind::Reply,
        actor: Some(posted.actor.clone()),
        discussion_id: discussion.id,
        title: discussion.title.clone(),
        article_slug: discussion.article_slug.clone(),
        comment_id: posted.comment_id,
        comment_body: Some(posted.body.to_string()),
        detail: None,
        created_at: posted.at,
        read_at: None,
    });
    let mut events = Vec::with_capacity(rows.len());
    for (row, id) in rows.iter().zip(ids) {
        shown.id = id;
        shown.kind = Kind::parse(row.kind).unwrap_or(Kind::Reply);
        events.extend(event_of(row.user_id, &shown));
    }
    Ok(events)
}

/// The kinds one mail choice covers.
pub(crate) fn kinds_of(topic: domain::Topic) -> Vec<&'static str> {
    Kind::ALL
        .into_iter()
        .filter(|k| k.topic() == Some(topic))
        .map(Kind::as_str)
        .collect()
}

/// What a moderator did to a comment, for its author's notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Moderated {
    Hidden,
    Deleted,
}

/// Tells a comment's author that a moderator hid or deleted it (in the moderator's
/// transaction); not when the moderator is the author. Returns the live events.
pub fn comment_moderated(
    conn: &mut DbConn,
    comment_id: i64,
    author: Option<i64>,
    moderator: i64,
    what: Moderated,
) -> Result<Vec<String>, ApiError> {
    let Some(author) = author.filter(|&a| a != moderator) else {
        return Ok(Vec::new());
    };
    let kind = match what {
        Moderated::Hidden => Kind::CommentHidden,
        Moderated::Deleted => Kind::CommentDeleted,
    };
    notify_of_moderation(conn, comment_id, &[author], kind, None)
}

/// Tells the readers who reported a comment that their reports were resolved, and how (in
/// the moderator's transaction); not the moderator. Returns the live events.
pub fn reports_resolved(
    conn: &mut DbConn,
    comment_id: i64,
    reporters: &[i64],
    moderator: i64,
    resolution: &'static str,
) -> Result<Vec<String>, ApiError> {
    let mut readers: Vec<i64> = reporters
        .iter()
        .copied()
        .filter(|&r| r != moderator)
        .collect();
    readers.sort_unstable();
    readers.dedup();
    notify_of_moderation(
        conn,
        comment_id,
        &readers,
        Kind::ReportResolved,
        Some(resolution),
    )
}

/// Stores moderation notifications (never mailed: the inbox and the stream only) and reads
/// them back as their readers see them, for the live events.
fn notify_of_moderation(
    conn: &mut DbConn,
    comment_id: i64,
    readers: &[i64],
    kind: Kind,
    detail: Option<&'static str>,
) -> Result<Vec<String>, ApiError> {
    let at = crate::db::now();
    let rows: Vec<repo::NewNotification> = readers
        .iter()
        .map(|&user| repo::NewNotification {
            user_id: user,
            kind: kind.as_str(),
            actor_id: None,
            comment_id,
            detail,
            created_at: at,
            mail: None,
        })
        .collect();
    let ids = repo::insert(conn, &rows)?;
    let mut events = Vec::new();
    for (row, id) in rows.iter().zip(ids) {
        for shown in repo::by_ids(conn, row.user_id, &[id], at)? {
            events.extend(event(row.user_id, shown));
        }
    }
    Ok(events)
}

/// The live event of one notification, for its reader's streams.
fn event(user: i64, row: NotificationRow) -> Option<String> {
    event_of(user, &Notification::from(row))
}

fn event_of(user: i64, notification: &Notification) -> Option<String> {
    let json = serde_json::to_string(notification).ok()?;
    Some(personal(user, &json))
}

/// Removes notifications read more than `days` ago, unread ones older than a year, and
/// expired stream tickets. Returns `(notifications, tickets)` removed.
pub fn purge(conn: &mut DbConn, days: u32) -> Result<(usize, usize), ApiError> {
    let now = crate::db::now();
    let read_before = now - chrono::Duration::days(days.into());
    let made_before = now - chrono::Duration::days(UNREAD_KEPT_DAYS);
    Ok((
        repo::purge(conn, read_before, made_before)?,
        repo::purge_tickets(conn, now)?,
    ))
}

/// Erasure of a reader (see `privacy`), in the caller's transaction: their inbox, settings,
/// mutes and stream tickets go; others' notifications of what they did lose their actor.
pub fn forget_reader(conn: &mut DbConn, user_id: i64) -> Result<(), ApiError> {
    Ok(repo::forget_user(conn, user_id)?)
}

/// How long an unread notification is kept.
pub const UNREAD_KEPT_DAYS: i64 = 365;
