//! What the newsletter's endpoints take and give.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct SubscribeRequest {
    #[validate(email(message = "is not an email address"), length(max = 254))]
    #[schema(format = Email, max_length = 254)]
    #[schema(example = "reader@example.com")]
    pub email: String,
}

/// A token from a newsletter mail.
#[derive(Debug, Deserialize, ToSchema)]
pub struct TokenRequest {
    pub token: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TokenQuery {
    /// The token from the mail's link.
    pub token: Option<String>,
}

/// Where a subscription stands.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubscriptionStatus {
    /// `confirmed` or `unsubscribed`.
    #[schema(example = "confirmed")]
    pub status: &'static str,
}

/// The signed-in user's subscription (of the account's email).
#[derive(Debug, Serialize, ToSchema)]
pub struct MyNewsletter {
    /// Whether the digest goes to the account's email (a confirmed subscription).
    pub subscribed: bool,
    /// `none`, `pending` (waiting for the confirmation link), `confirmed`, `unsubscribed` or
    /// `bouncing`.
    #[schema(example = "pending")]
    pub status: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct MyNewsletterUpdate {
    /// `true` starts the double opt-in (a confirmation mail to the account's email);
    /// `false` unsubscribes.
    pub subscribed: bool,
}

/// Where a subscription stands; stored as its lowercase name.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SubscriberStatus {
    Pending,
    Confirmed,
    Unsubscribed,
    Bouncing,
}

impl SubscriberStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            SubscriberStatus::Pending => "pending",
            SubscriberStatus::Confirmed => "confirmed",
            SubscriberStatus::Unsubscribed => "unsubscribed",
            SubscriberStatus::Bouncing => "bouncing",
        }
    }
}

impl TryFrom<String> for SubscriberStatus {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        [
            SubscriberStatus::Pending,
            SubscriberStatus::Confirmed,
            SubscriberStatus::Unsubscribed,
            SubscriberStatus::Bouncing,
        ]
        .into_iter()
        .find(|status| status.as_str() == text)
        .ok_or_else(|| format!("`{text}` is not a subscriber status"))
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SubscriberQuery {
    /// Only subscribers in this state.
    #[param(inline)]
    pub status: Option<SubscriberStatus>,
    /// Items per page, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A subscriber, as admins see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubscriberView {
    pub id: i64,
    pub email: String,
    pub status: String,
    /// The account whose email it is, when subscribed through `/me/newsletter`.
    pub user_id: Option<i64>,
    /// Permanent delivery failures in a row.
    pub bounces: i32,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub confirmed_at: Option<chrono::DateTime<chrono::Utc>>,
    pub unsubscribed_at: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SubscriberPage {
    pub items: Vec<SubscriberView>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DigestQuery {
    /// Days per page, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// One day's digest: its run and its mails.
#[derive(Debug, Serialize, ToSchema)]
pub struct DigestDay {
    /// `YYYY-MM-DD`.
    pub day: String,
    /// Articles in it (0: no news, no mail).
    pub articles: i32,
    /// Mails written into the outbox.
    pub enqueued: i64,
    pub sent: i64,
    /// Failed for good.
    pub failed: i64,
    /// Still to send (or being retried).
    pub pending: i64,
    pub started_at: chrono::DateTime<chrono::Utc>,
    /// Null while the run is going, or when it died (the next run resumes it).
    pub finished_at: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DigestPage {
    /// Newest day first.
    pub items: Vec<DigestDay>,
    pub next_cursor: Option<String>,
}
