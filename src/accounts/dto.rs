//! What accounts' endpoints take and give.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use super::domain::{validate_display_name, validate_username};
use super::repo::{Session, User};
use crate::auth::Role;

fn utc(at: NaiveDateTime) -> DateTime<Utc> {
    at.and_utc()
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct RegisterRequest {
    /// 3–32 letters (any script), digits, `_` or `-`; unique without regard to case.
    #[validate(custom(function = "validate_username"))]
    #[schema(
        example = "ivan_petrov",
        min_length = 3,
        max_length = 32,
        pattern = r"^[\w-]+$"
    )]
    pub username: String,
    #[validate(email(message = "is not an email address"), length(max = 254))]
    #[schema(example = "ivan@example.com", format = Email, max_length = 254)]
    pub email: String,
    /// 8 to 256 characters, not a common one.
    #[validate(length(min = 8, max = 256, message = "must be 8 to 256 characters"))]
    #[schema(min_length = 8, max_length = 256)]
    pub password: String,
    /// Defaults to the username.
    #[validate(custom(function = "validate_display_name"))]
    #[schema(
        min_length = 1,
        max_length = 64,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub display_name: Option<String>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct LoginRequest {
    /// A username or an email address.
    #[validate(length(min = 1, max = 254, message = "must be a username or an email"))]
    #[schema(min_length = 1, max_length = 254)]
    pub login: String,
    #[validate(length(min = 1, max = 1024, message = "must be given"))]
    #[schema(min_length = 1, max_length = 1024)]
    pub password: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct RefreshRequest {
    #[validate(length(min = 1, max = 256, message = "must be given"))]
    #[schema(min_length = 1, max_length = 256)]
    pub refresh_token: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct PasswordResetRequest {
    #[validate(email(message = "is not an email address"), length(max = 254))]
    #[schema(format = Email, max_length = 254)]
    pub email: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct PasswordResetConfirm {
    #[validate(length(min = 1, max = 256, message = "must be given"))]
    #[schema(min_length = 1, max_length = 256)]
    pub token: String,
    #[validate(length(min = 8, max = 256, message = "must be 8 to 256 characters"))]
    #[schema(min_length = 8, max_length = 256)]
    pub new_password: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct UpdateMe {
    #[validate(custom(function = "validate_display_name"))]
    #[schema(
        min_length = 1,
        max_length = 64,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub display_name: Option<String>,
    /// The language of the account's mails: `en` or `ru`.
    pub language: Option<crate::i18n::Lang>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct ChangePassword {
    #[validate(length(min = 1, max = 1024, message = "must be given"))]
    #[schema(min_length = 1, max_length = 1024)]
    pub current_password: String,
    #[validate(length(min = 8, max = 256, message = "must be 8 to 256 characters"))]
    #[schema(min_length = 8, max_length = 256)]
    pub new_password: String,
}

/// The signed-in user's own account.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub email: String,
    pub role: Role,
    pub created_at: DateTime<Utc>,
    /// The language of the account's mails; null: each request's (`Accept-Language`), and the
    /// site's for mails no request asks for (notifications).
    pub language: Option<crate::i18n::Lang>,
}

impl From<User> for Me {
    fn from(user: User) -> Me {
        Me {
            id: user.id,
            role: user.role,
            username: user.username,
            display_name: user.display_name,
            email: user.email,
            created_at: utc(user.created_at),
            language: user.language.as_deref().and_then(crate::i18n::Lang::parse),
        }
    }
}

/// Tokens for a session, with its user.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuthResponse {
    pub user: Me,
    /// A JWT for `Authorization: Bearer`, valid `expires_in` seconds.
    pub access_token: String,
    /// Single use: `POST /api/v1/auth/refresh` trades it for a new pair.
    pub refresh_token: String,
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    #[schema(example = 900)]
    pub expires_in: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionView {
    pub id: i64,
    pub created_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
    pub user_agent: Option<String>,
    /// Whether this is the session of the token making the request.
    pub current: bool,
}

impl SessionView {
    pub fn new(session: Session, current_id: i64) -> SessionView {
        SessionView {
            id: session.id,
            created_at: utc(session.created_at),
            last_used_at: utc(session.last_used_at),
            user_agent: session.user_agent,
            current: session.id == current_id,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionList {
    pub items: Vec<SessionView>,
    /// Always null: a user's live sessions fit in one page.
    pub next_cursor: Option<String>,
}

/// What anyone may see of an account.
#[derive(Debug, Serialize, ToSchema)]
pub struct Profile {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub created_at: DateTime<Utc>,
    pub comments_count: i64,
}

impl From<User> for Profile {
    fn from(user: User) -> Profile {
        Profile {
            id: user.id,
            role: user.role,
            username: user.username,
            display_name: user.display_name,
            created_at: utc(user.created_at),
            comments_count: user.comments_count,
        }
    }
}

/// The answer to a request that is taken in whatever the case (e.g. a reset for an unknown
/// address): the same body every time.
#[derive(Debug, Serialize, ToSchema)]
pub struct Accepted {
    #[schema(example = "accepted")]
    pub status: &'static str,
    pub message: &'static str,
}
