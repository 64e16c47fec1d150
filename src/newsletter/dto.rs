//! What the newsletter's endpoints take and give.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct SubscribeRequest {
    #[validate(email(message = "is not an email address"), length(max = 254))]
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
