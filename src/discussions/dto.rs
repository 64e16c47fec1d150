//! What discussions' endpoints take and give.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::repo::{AuthorRow, Discussion, FeedRow};
use crate::validation::required_text;

/// Who wrote something.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Author {
    pub id: i64,
    pub username: String,
    pub display_name: String,
}

impl From<AuthorRow> for Author {
    fn from(row: AuthorRow) -> Author {
        Author {
            id: row.id,
            username: row.username,
            display_name: row.display_name,
        }
    }
}

pub use super::domain::Kind;

/// A discussion as the feed shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedItem {
    pub id: i64,
    pub kind: Kind,
    pub title: String,
    /// The article's slug, for an article's discussion.
    pub article_slug: Option<String>,
    /// Null for articles' discussions.
    pub author: Option<Author>,
    pub views: i64,
    pub replies: i64,
    #[serde(serialize_with = "crate::timestamp::rfc3339")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::timestamp::rfc3339")]
    pub last_activity_at: DateTime<Utc>,
    pub pinned: bool,
    pub locked: bool,
}

fn utc(at: NaiveDateTime) -> DateTime<Utc> {
    at.and_utc()
}

impl FeedItem {
    pub fn new(discussion: FeedRow, author: Option<AuthorRow>, pending_views: i64) -> Self {
        let kind = discussion.kind;
        FeedItem {
            id: discussion.id,
            kind,
            title: discussion.title,
            article_slug: discussion.article_slug,
            author: if kind == Kind::Article {
                None
            } else {
                author.map(Author::from)
            },
            views: discussion.views + pending_views,
            replies: discussion.replies,
            created_at: utc(discussion.created_at),
            last_activity_at: utc(discussion.last_activity_at),
            pinned: discussion.pinned,
            locked: discussion.locked,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FeedPage {
    pub items: Vec<FeedItem>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    /// Items per page, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only discussions active after this instant (RFC 3339): the "Update" button.
    #[param(
        pattern = r"^(?!0000)\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[Tt]([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,9})?([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d)$"
    )]
    pub since: Option<DateTime<Utc>>,
}

/// One discussion, with the body of a topic.
#[derive(Debug, Serialize, ToSchema)]
pub struct DiscussionView {
    #[serde(flatten)]
    pub item: FeedItem,
    /// A topic's Markdown; null for articles (their text is the article's).
    pub body: Option<String>,
    /// `body` rendered to sanitized HTML.
    pub body_html: Option<String>,
    pub edited_at: Option<DateTime<Utc>>,
    /// Every new comment waits for a moderator (`POST /admin/discussions/{id}/premoderate`).
    pub premoderated: bool,
}

impl DiscussionView {
    pub fn new(discussion: Discussion, author: Option<AuthorRow>, pending_views: i64) -> Self {
        DiscussionView {
            item: FeedItem::new(FeedRow::of(&discussion), author, pending_views),
            edited_at: discussion.edited_at.map(utc),
            premoderated: discussion.premoderated,
            body: discussion.body,
            body_html: discussion.body_html,
        }
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct NewTopic {
    #[validate(custom(function = "crate::discussions::dto::title_rule"))]
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub title: String,
    /// Markdown, 1 to 20,000 characters.
    #[validate(custom(function = "crate::discussions::dto::body_rule"))]
    #[schema(min_length = 1, max_length = 20000, pattern = r"\S")]
    pub body: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct TopicEdit {
    #[validate(custom(function = "crate::discussions::dto::title_rule"))]
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub title: Option<String>,
    #[validate(custom(function = "crate::discussions::dto::body_rule"))]
    #[schema(min_length = 1, max_length = 20000, pattern = r"\S")]
    pub body: Option<String>,
}

pub fn title_rule(title: &str) -> Result<(), validator::ValidationError> {
    required_text(title, 200)
}

pub fn body_rule(body: &str) -> Result<(), validator::ValidationError> {
    required_text(body, 20_000)
}

/// One Server-Sent Event of `GET /api/v1/discussions/stream`, as its fields arrive (lines of
/// the stream that are only comments, the keep-alives, are not events).
#[derive(Debug, Serialize, ToSchema)]
pub struct StreamEvent {
    /// `discussion`.
    pub event: Option<String>,
    /// A [`DiscussionEvent`] as JSON.
    #[schema(content_media_type = "application/json")]
    pub data: Option<String>,
    /// Milliseconds a browser waits before it reconnects.
    pub retry: Option<i64>,
}

/// What SSE clients receive in each `event: discussion`, as the event's `data`.
#[derive(Debug, Serialize, ToSchema)]
pub struct DiscussionEvent {
    /// `created`, `activity` (a new comment), `updated` (an edit) or `deleted`.
    pub event: &'static str,
    pub id: i64,
    pub kind: Kind,
    pub title: String,
    pub views: i64,
    pub replies: i64,
    pub last_activity_at: DateTime<Utc>,
}

impl DiscussionEvent {
    pub fn new(event: &'static str, discussion: &Discussion) -> Self {
        let item = FeedItem::new(FeedRow::of(discussion), None, 0);
        DiscussionEvent {
            event,
            id: item.id,
            kind: item.kind,
            title: item.title,
            views: item.views,
            replies: item.replies,
            last_activity_at: item.last_activity_at,
        }
    }

    pub fn json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}
