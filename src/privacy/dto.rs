//! What a reader's export holds, and the erasure requests.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

/// Everything Tribune holds about the signed-in reader (`GET /api/v1/me/export`). Streamed:
/// the lists arrive as they are read, so a long history costs the server a page at a time.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountExport {
    pub exported_at: DateTime<Utc>,
    pub account: ExportedAccount,
    /// The reader's mail choices for notifications, if they ever set them.
    pub notification_settings: Option<ExportedNotificationSettings>,
    /// Sessions not yet purged (live and recently ended), with the user agent each signed in
    /// with. Tribune keeps no IP address with a session.
    pub sessions: Vec<ExportedSession>,
    pub topics: Vec<ExportedTopic>,
    /// Every comment, in its current text (edits replace it; no history is kept).
    pub comments: Vec<ExportedComment>,
    pub votes: Vec<ExportedVote>,
    pub reports: Vec<ExportedReport>,
    /// Newsletter subscriptions of the account or its address.
    pub newsletter: Vec<ExportedSubscription>,
    pub mutes: Vec<ExportedMute>,
    pub notifications: Vec<ExportedNotification>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExportedAccount {
    pub id: i64,
    pub username: String,
    pub email: String,
    pub display_name: String,
    pub role: String,
    pub created_at: DateTime<Utc>,
    pub comments_count: i64,
    pub banned_at: Option<DateTime<Utc>>,
    pub banned_until: Option<DateTime<Utc>>,
    pub ban_reason: Option<String>,
    /// The language chosen for the account's mails, if any.
    pub language: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExportedSession {
    pub id: i64,
    pub user_agent: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExportedTopic {
    pub id: i64,
    pub title: String,
    /// Markdown, as written.
    pub body: Option<String>,
    pub created_at: DateTime<Utc>,
    pub edited_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExportedComment {
    pub id: i64,
    pub discussion_id: i64,
    pub parent_id: Option<i64>,
    /// `visible`, `hidden`, `deleted`, `pending` or `rejected`.
    pub status: String,
    /// Markdown, as last written; null once deleted by its author.
    pub body: Option<String>,
    pub score: i64,
    pub created_at: DateTime<Utc>,
    pub edited_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExportedVote {
    pub comment_id: i64,
    /// 1 or -1.
    pub value: i32,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExportedReport {
    pub id: i64,
    pub comment_id: i64,
    pub reason: String,
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolution: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExportedSubscription {
    pub email: String,
    /// `pending`, `confirmed`, `unsubscribed` or `bouncing`.
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub unsubscribed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExportedNotificationSettings {
    pub replies: String,
    pub mentions: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExportedMute {
    pub user_id: i64,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExportedNotification {
    pub id: i64,
    pub kind: String,
    pub actor_id: Option<i64>,
    pub comment_id: i64,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

/// `DELETE /api/v1/me`: the reader erases their own account.
#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct EraseMe {
    /// The current password.
    #[validate(length(min = 1, max = 1024))]
    pub password: String,
    /// Keep the comments' (and topics') text, without the author; by default the text goes.
    #[serde(default)]
    pub keep_comments: bool,
}

/// `DELETE /api/v1/admin/users/{id}` (the body may be left out).
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
pub struct EraseUser {
    /// Why, for the audit log.
    #[validate(length(max = 1000))]
    pub reason: Option<String>,
    #[serde(default)]
    pub keep_comments: bool,
}
