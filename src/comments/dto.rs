//! What comments' endpoints take and give.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::repo::{self, Comment};
use crate::discussions::AuthorRow;
use crate::discussions::dto::Author;
use crate::validation::required_text;

pub use super::domain::CommentStatus;

/// A comment, with its replies nested in `children` (oldest first).
#[derive(Debug, Serialize, ToSchema)]
pub struct CommentView {
    pub id: i64,
    pub discussion_id: i64,
    /// The comment this one replies to; null for a root.
    pub parent_id: Option<i64>,
    /// 0 for a root; at most 7 (replies deeper than that join their parent's replies).
    pub depth: i32,
    /// Null once the comment is deleted.
    pub author: Option<Author>,
    /// Markdown; null when hidden, deleted or rejected (moderators see hidden and rejected
    /// text). A `pending` comment (held for a moderator) reaches only its author and
    /// moderators.
    pub body: Option<String>,
    /// `body` rendered to sanitized HTML; null when `body` is.
    pub body_html: Option<String>,
    /// Upvotes minus downvotes.
    pub score: i64,
    pub created_at: DateTime<Utc>,
    pub edited_at: Option<DateTime<Utc>>,
    pub status: CommentStatus,
    /// Present (true) only in the pages of a signed-in reader who muted the author: clients
    /// may collapse the comment.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub author_muted: bool,
    #[schema(no_recursion)]
    pub children: Vec<CommentView>,
}

impl CommentView {
    pub fn new(comment: Comment, author: Option<AuthorRow>, children: Vec<CommentView>) -> Self {
        let status = comment.status;
        // A pending comment reaches only its author and moderators.
        let shown = matches!(status, CommentStatus::Visible | CommentStatus::Pending);
        CommentView {
            id: comment.id,
            discussion_id: comment.discussion_id,
            parent_id: comment.parent_id,
            depth: comment.depth,
            author: if status == CommentStatus::Deleted {
                None
            } else {
                author.map(Author::from)
            },
            body: comment.body.filter(|_| shown),
            body_html: comment.body_html.filter(|_| shown),
            score: comment.score,
            created_at: comment.created_at.and_utc(),
            edited_at: comment.edited_at.map(|at| at.and_utc()),
            status,
            author_muted: false,
            children,
        }
    }
}

impl CommentView {
    /// As moderators see it: a hidden or rejected comment's text too (a deleted one's stays
    /// null).
    pub fn revealed(comment: Comment, author: Option<AuthorRow>) -> Self {
        let hidden = matches!(
            comment.status,
            CommentStatus::Hidden | CommentStatus::Rejected
        );
        let (body, body_html) = (comment.body.clone(), comment.body_html.clone());
        let mut view = CommentView::new(comment, author, Vec::new());
        if hidden {
            view.body = body;
            view.body_html = body_html;
        }
        view
    }
}

impl super::domain::Node for repo::CommentRow {
    fn id(&self) -> i64 {
        self.0.id
    }
    fn parent_id(&self) -> Option<i64> {
        self.0.parent_id
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CommentPage {
    /// Root comments, each with all its replies. A thread too large for one page continues on
    /// the next: that page starts with the rest of it, as items whose `parent_id` is a comment
    /// of an earlier page (attach them there).
    pub items: Vec<CommentView>,
    /// Pass as `cursor` for the next page of roots; null on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Sort {
    /// Oldest roots first (the default).
    #[default]
    Oldest,
    Newest,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CommentQuery {
    /// Order of the root comments; replies are always oldest first.
    #[param(inline)]
    pub sort: Option<Sort>,
    /// Root comments per page, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page (with the same `sort`).
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct NewComment {
    /// Markdown, 1 to 10,000 characters.
    #[validate(custom(function = "crate::comments::dto::body_rule"))]
    #[schema(min_length = 1, max_length = 10000, pattern = r"\S")]
    pub body: String,
    /// The comment this replies to, in the same discussion; absent for a root comment.
    #[serde(default, deserialize_with = "crate::extract::optional_integer")]
    pub parent_id: Option<i64>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct CommentEdit {
    /// Markdown, 1 to 10,000 characters.
    #[validate(custom(function = "crate::comments::dto::body_rule"))]
    #[schema(min_length = 1, max_length = 10000, pattern = r"\S")]
    pub body: String,
}

pub fn body_rule(body: &str) -> Result<(), validator::ValidationError> {
    required_text(body, 10_000)
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct Vote {
    /// 1 (up), -1 (down), or 0 to take one's vote back.
    #[validate(range(min = -1, max = 1, message = "must be 1, -1 or 0"))]
    #[schema(minimum = -1, maximum = 1)]
    #[serde(deserialize_with = "crate::extract::integer")]
    pub value: i32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Score {
    /// The comment's score after this vote.
    pub score: i64,
    /// The caller's vote now: 1, -1 or 0.
    pub value: i32,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct NewReport {
    /// Why the comment should be looked at, 1 to 1,000 characters.
    #[validate(custom(function = "crate::comments::dto::reason_rule"))]
    #[schema(min_length = 1, max_length = 1000, pattern = r"\S")]
    pub reason: String,
}

pub fn reason_rule(reason: &str) -> Result<(), validator::ValidationError> {
    required_text(reason, 1_000)
}

/// A report, received for the moderators.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportReceipt {
    pub id: i64,
    pub comment_id: i64,
    /// `open` until a moderator resolves it.
    pub status: String,
}
