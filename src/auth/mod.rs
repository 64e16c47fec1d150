//! Who is calling: password hashing, tokens, roles, and the extractors handlers use.
//!
//! * [`AuthUser`]: the caller as its access token says; enough for reads of one's own data.
//! * [`ActiveUser`]: the caller checked against the database now (account exists, session not
//!   ended, not banned, current role); every write takes this one, so a ban, a demotion or an
//!   ended session acts at once on tokens already issued.

pub mod password;
pub mod tokens;

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::accounts;
use crate::db::Db;
use crate::error::ApiError;
use crate::ids::{SessionId, UserId};
use tokens::TokenKeys;

/// A role. `user` < `moderator` < `admin`; `editor` publishes articles; `admin` may do anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Editor,
    Moderator,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Editor => "editor",
            Role::Moderator => "moderator",
            Role::Admin => "admin",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "user" => Some(Role::User),
            "editor" => Some(Role::Editor),
            "moderator" => Some(Role::Moderator),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    /// Whether this role may do what `required` may.
    pub fn includes(self, required: Role) -> bool {
        match required {
            Role::User => true,
            Role::Editor => matches!(self, Role::Editor | Role::Admin),
            Role::Moderator => matches!(self, Role::Moderator | Role::Admin),
            Role::Admin => self == Role::Admin,
        }
    }
}

impl TryFrom<String> for Role {
    type Error = String;

    /// A role as stored (`users.role`, a CHECK constraint keeps it one of the four).
    fn try_from(text: String) -> Result<Role, String> {
        Role::parse(&text).ok_or_else(|| format!("`{text}` is not a role"))
    }
}

/// The caller, from a valid access token alone.
#[derive(Debug, Clone, Copy)]
pub struct AuthUser {
    pub id: i64,
    pub role: Role,
    pub session_id: i64,
}

fn bearer(req: &HttpRequest) -> Result<&str, ApiError> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or_else(|| ApiError::Unauthorized("this needs an access token".into()))?;
    let value = value
        .to_str()
        .map_err(|_| ApiError::Unauthorized("malformed Authorization header".into()))?;
    match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() => {
            Ok(token.trim())
        }
        _ => Err(ApiError::Unauthorized(
            "the Authorization header must be `Bearer <access_token>`".into(),
        )),
    }
}

impl AuthUser {
    fn from_request_sync(req: &HttpRequest) -> Result<AuthUser, ApiError> {
        let token = bearer(req)?;
        let keys = req
            .app_data::<web::Data<TokenKeys>>()
            .ok_or_else(|| ApiError::internal(anyhow::anyhow!("TokenKeys missing")))?;
        let claims = keys.verify(token)?;
        let id = claims
            .sub
            .parse()
            .map_err(|_| ApiError::Unauthorized("invalid access token".into()))?;
        let role = Role::parse(&claims.role)
            .ok_or_else(|| ApiError::Unauthorized("invalid access token".into()))?;
        Ok(AuthUser {
            id,
            role,
            session_id: claims.sid,
        })
    }
}

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(AuthUser::from_request_sync(req))
    }
}

/// The caller, checked against the database now: for every write.
#[derive(Debug, Clone, Copy)]
pub struct ActiveUser {
    pub id: i64,
    /// The role the account has now (not the one in the token).
    pub role: Role,
    pub session_id: i64,
}

impl ActiveUser {
    /// `403` unless the account's current role includes `required`.
    pub fn require(&self, required: Role) -> Result<(), ApiError> {
        if self.role.includes(required) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "this needs the {} role",
                required.as_str()
            )))
        }
    }
}

impl ActiveUser {
    /// Checks the caller's account now, on the caller's connection: for a handler that wants
    /// the check inside its own transaction (one round trip fewer than the extractor's own
    /// checkout). `401` when the session has ended, `403` when the account is banned.
    pub fn check(conn: &mut crate::db::DbConn, auth: AuthUser) -> Result<ActiveUser, ApiError> {
        let Some(state) =
            accounts::account_state(conn, UserId(auth.id), SessionId(auth.session_id))?
        else {
            return Err(ApiError::Unauthorized(
                "this session has ended; sign in again".into(),
            ));
        };
        // The ban first: it ends the sessions too, and a banned account must hear why.
        if let Some(until) = state.banned_until_text() {
            return Err(ApiError::Forbidden(format!(
                "this account is banned{until}"
            )));
        }
        if !state.session_live {
            return Err(ApiError::Unauthorized(
                "this session has ended; sign in again".into(),
            ));
        }
        Ok(ActiveUser {
            id: auth.id,
            role: state.role,
            session_id: auth.session_id,
        })
    }
}

/// The caller's role now, as the database has it: `None` for an anonymous caller, and for a
/// token whose session has ended or whose account is banned. Reads that show staff more than
/// readers (scheduled articles, hidden comments) ask this, not the token: a demoted, banned or
/// logged-out editor must not keep reading for the token's last minutes.
///
/// No query without a token, nor for a token that claims only the `user` role: such a caller
/// reads what everyone reads, whatever the database says now (a promotion shows at the next
/// token refresh), so signed-in readers cost what anonymous ones do. See [`claims_staff`].
pub fn role_now(conn: &mut crate::db::DbConn, auth: Option<AuthUser>) -> Option<Role> {
    auth.filter(|auth| claims_staff(Some(*auth)))
        .and_then(|auth| ActiveUser::check(conn, auth).ok())
        .map(|user| user.role)
}

/// Whether the token claims a role that reads more than everyone does: only then does
/// [`role_now`] ask the database.
pub fn claims_staff(auth: Option<AuthUser>) -> bool {
    auth.is_some_and(|auth| auth.role != Role::User)
}

/// Whether `role` may see what is not published yet (scheduled articles and their threads):
/// editors, who write them, and moderators and admins, who keep their threads in order.
pub fn sees_unpublished(role: Option<Role>) -> bool {
    role.is_some_and(|role| role.includes(Role::Editor) || role.includes(Role::Moderator))
}

impl FromRequest for ActiveUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let auth = AuthUser::from_request_sync(req);
        let db = req.app_data::<web::Data<Db>>().cloned();
        Box::pin(async move {
            let auth = auth?;
            let db = db.ok_or_else(|| ApiError::internal(anyhow::anyhow!("Db missing")))?;
            db.run(move |conn| ActiveUser::check(conn, auth)).await
        })
    }
}
