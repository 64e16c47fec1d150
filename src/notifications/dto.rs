//! What notifications' endpoints take and give.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::domain::{Kind, MailChoice, excerpt};
use crate::discussions::AuthorRow;
use crate::discussions::dto::Author;

/// Characters of the comment an inbox entry quotes.
pub const EXCERPT_CHARS: usize = 160;

/// Where a notification points: the discussion (an article's has its slug) and the comment.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Place {
    pub discussion_id: i64,
    pub title: String,
    /// Set when the discussion is an article's: link to the article.
    pub article_slug: Option<String>,
    pub comment_id: i64,
}

/// One notification.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Notification {
    pub id: i64,
    /// What happened: `reply` (to the reader's comment), `topic_comment` (in the reader's
    /// topic), `mention` (`@username` in a comment), `comment_hidden` or `comment_deleted` (by
    /// a moderator, the reader's comment), `report_resolved` (a report the reader made).
    pub kind: Kind,
    /// Who did it; null for moderators' acts (moderators act for the site) and deleted accounts.
    pub actor: Option<Author>,
    pub place: Place,
    /// The comment's first words, as plain text; null when the reader may not read it any
    /// more (a comment they reported that was hidden).
    pub excerpt: Option<String>,
    /// For `report_resolved`: what was done, `dismiss`, `hide` or `delete`.
    pub detail: Option<String>,
    pub created_at: DateTime<Utc>,
    /// Null while unread.
    pub read_at: Option<DateTime<Utc>>,
}

/// A notification as read from the database (or made in the transaction that causes it).
#[derive(Debug, Clone)]
pub struct NotificationRow {
    pub id: i64,
    pub kind: Kind,
    pub actor: Option<AuthorRow>,
    pub discussion_id: i64,
    pub title: String,
    pub article_slug: Option<String>,
    pub comment_id: i64,
    /// The comment's Markdown, when the reader may read it.
    pub comment_body: Option<String>,
    pub detail: Option<String>,
    pub created_at: NaiveDateTime,
    pub read_at: Option<NaiveDateTime>,
}

impl From<NotificationRow> for Notification {
    fn from(row: NotificationRow) -> Notification {
        Notification {
            id: row.id,
            kind: row.kind,
            actor: row.actor.map(Author::from),
            place: Place {
                discussion_id: row.discussion_id,
                title: row.title,
                article_slug: row.article_slug,
                comment_id: row.comment_id,
            },
            excerpt: row
                .comment_body
                .as_deref()
                .map(|body| excerpt(body, EXCERPT_CHARS)),
            detail: row.detail,
            created_at: row.created_at.and_utc(),
            read_at: row.read_at.map(|at| at.and_utc()),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationPage {
    /// Newest first.
    pub items: Vec<Notification>,
    /// Pass as `cursor` for older ones; null on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NotificationQuery {
    /// Only the unread ones.
    pub unread: Option<bool>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Notifications per page, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
}

/// The most unread notifications counted: a larger count shows as this (a badge says "99+").
pub const UNREAD_COUNT_MAX: i64 = 100;

#[derive(Debug, Serialize, ToSchema)]
pub struct UnreadCount {
    /// Unread notifications, up to 100 (100 means "100 or more": show "99+").
    #[schema(maximum = 100)]
    pub count: i64,
}

/// Which notifications to mark read: `{"ids": [...]}` (up to 100 of one's own; others' and
/// unknown ids are skipped) or `{"all": true}`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadRequest {
    #[validate(length(
        max = 100,
        message = "at most 100 ids at once; or send {\"all\": true}"
    ))]
    #[schema(max_items = 100)]
    pub ids: Option<Vec<i64>>,
    pub all: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Marked {
    /// How many were unread and are read now.
    pub marked: i64,
}

/// How a reader wants to hear of notifications by mail.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct NotificationSettings {
    /// Replies to the reader's comments and comments in the reader's topics. `immediately`:
    /// a mail soon after (one every 15 minutes at most, bundling what came meanwhile);
    /// `daily`: one mail a day at the digest's hour; `off`: none.
    pub replies: MailChoice,
    /// `@mentions` of the reader, likewise.
    pub mentions: MailChoice,
}

impl Default for NotificationSettings {
    fn default() -> Self {
        NotificationSettings {
            replies: MailChoice::Immediately,
            mentions: MailChoice::Immediately,
        }
    }
}

/// A change of settings: what is left out stays as it is.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsUpdate {
    pub replies: Option<MailChoice>,
    pub mentions: Option<MailChoice>,
}

/// Someone the reader muted.
#[derive(Debug, Serialize, ToSchema)]
pub struct Mute {
    pub user: Author,
    pub muted_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MutePage {
    /// In the order they were muted, latest last.
    pub items: Vec<Mute>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MuteQuery {
    pub cursor: Option<String>,
    /// Accounts per page, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
}

/// A single-use ticket that opens the reader's own stream (`GET /api/v1/me/stream?ticket=`),
/// for browsers' `EventSource`, which cannot send an `Authorization` header.
#[derive(Debug, Serialize, ToSchema)]
pub struct StreamTicket {
    pub ticket: String,
    /// Use it before this (a minute from now).
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StreamQuery {
    /// A ticket from `POST /api/v1/me/stream/tickets` (or send the access token as
    /// `Authorization: Bearer`).
    pub ticket: Option<String>,
}

/// The one-click unsubscribe of notification mails (RFC 8058): the link's `token` and which
/// mails to stop.
#[derive(Debug, Deserialize, IntoParams, ToSchema)]
#[into_params(parameter_in = Query)]
pub struct UnsubscribeQuery {
    pub token: Option<String>,
    /// `replies`, `mentions`, or both comma-separated.
    pub topics: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Unsubscribed {
    /// The reader's settings now.
    pub settings: NotificationSettings,
}
