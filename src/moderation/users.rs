//! Administering accounts: search, bans (acting at once on every token, ending by themselves
//! at `until`), and roles (admins only; the last admin stays).

use actix_web::{get, post, put, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::repo::{self, UserRow};
use crate::accounts;
use crate::auth::{ActiveUser, Role};
use crate::db::{Db, now, transaction};
use crate::error::{ApiError, Problem};
use crate::ids::UserId;
use crate::pagination;

/// An account as moderators see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdminUser {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub email: String,
    pub role: Role,
    /// Whether a ban holds now.
    pub banned: bool,
    /// When the ban ends by itself (null: permanent, or no ban).
    pub banned_until: Option<DateTime<Utc>>,
    pub ban_reason: Option<String>,
    pub comments_count: i64,
    pub created_at: DateTime<Utc>,
}

impl From<UserRow> for AdminUser {
    fn from(u: UserRow) -> AdminUser {
        let now = now();
        let banned = u.banned_at.is_some() && u.banned_until.is_none_or(|until| until > now);
        AdminUser {
            id: u.id,
            role: u.role,
            username: u.username,
            display_name: u.display_name,
            email: u.email,
            banned,
            banned_until: u.banned_until.filter(|_| banned).map(|t| t.and_utc()),
            ban_reason: u.ban_reason.filter(|_| banned),
            comments_count: u.comments_count,
            created_at: u.created_at.and_utc(),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserQuery {
    /// Part of a username or an email address (any case).
    pub q: Option<String>,
    /// Accounts per page, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AdminUserPage {
    pub items: Vec<AdminUser>,
    pub next_cursor: Option<String>,
}

/// Searches accounts by username or email. Moderators.
#[utoipa::path(
    tag = "moderation",
    security(("bearer" = [])),
    params(UserQuery),
    responses(
        (status = 200, description = "A page of accounts", body = AdminUserPage),
        (status = 400, description = "Bad cursor or limit", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a moderator", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/api/v1/admin/users")]
pub async fn search_users(
    user: ActiveUser,
    db: web::Data<Db>,
    query: web::Query<UserQuery>,
) -> Result<web::Json<AdminUserPage>, ApiError> {
    user.require(Role::Moderator)?;
    let query = query.into_inner();
    let limit = pagination::limit(query.limit)?;
    let after = pagination::id_cursor(query.cursor.as_deref())?;
    let q = query
        .q
        .map(|q| q.trim().to_string())
        .filter(|q| !q.is_empty());
    let mut rows = db
        .run(move |conn| Ok(repo::search_users(conn, q.as_deref(), after, limit + 1)?))
        .await?;
    let next_cursor = pagination::cut(&mut rows, limit, |r| vec![r.id.to_string()]);
    Ok(web::Json(AdminUserPage {
        items: rows.into_iter().map(AdminUser::from).collect(),
        next_cursor,
    }))
}

/// An account as moderators see it, with what it wrote lately and what moderators did to it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdminUserProfile {
    pub user: AdminUser,
    /// Its latest comments (up to 20), whatever their status, with their text.
    pub recent_comments: Vec<crate::comments::dto::CommentView>,
    /// Moderators' actions on the account (bans, roles, ...), newest first (up to 50).
    pub actions: Vec<super::handlers::AuditEntry>,
}

/// One account for moderators: the account, its latest comments and the actions on it.
#[utoipa::path(
    tag = "moderation",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The account")),
    responses(
        (status = 200, description = "The account", body = AdminUserProfile),
        (status = 403, description = "Not a moderator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/api/v1/admin/users/{id}")]
pub async fn user_profile(
    user: ActiveUser,
    db: web::Data<Db>,
    id: web::Path<i64>,
) -> Result<web::Json<AdminUserProfile>, ApiError> {
    user.require(Role::Moderator)?;
    let id = id.into_inner();
    let (row, comments, actions) = db
        .run(move |conn| {
            let row =
                repo::user(conn, id)?.ok_or_else(|| ApiError::NotFound("no such user".into()))?;
            let comments = crate::comments::recent_by_author(conn, id, 20)?;
            let filter = repo::Filter {
                target_type: Some("user".into()),
                target_id: Some(id),
                ..repo::Filter::default()
            };
            let actions = repo::entries(conn, &filter, None, 50)?;
            Ok((row, comments, actions))
        })
        .await?;
    Ok(web::Json(AdminUserProfile {
        user: AdminUser::from(row),
        recent_comments: comments
            .into_iter()
            .map(|(comment, author)| crate::comments::dto::CommentView::revealed(comment, author))
            .collect(),
        actions: actions.into_iter().map(Into::into).collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct BanRequest {
    /// Why, 1 to 1,000 characters; the user is told.
    #[schema(min_length = 1, max_length = 1000, pattern = r"\S")]
    pub reason: String,
    /// When the ban ends by itself (RFC 3339, in the future); absent: permanent.
    #[schema(
        pattern = r"^(?!0000)\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[Tt]([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,9})?([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d)$"
    )]
    pub until: Option<DateTime<Utc>>,
}

/// The target account, locked, if the caller may act on it: moderators act on users and
/// editors; moderators and admins only by an admin; nobody on themselves.
fn target(conn: &mut crate::db::DbConn, actor: &ActiveUser, id: i64) -> Result<UserRow, ApiError> {
    let target =
        repo::lock_user(conn, id)?.ok_or_else(|| ApiError::NotFound("no such user".into()))?;
    if target.id == actor.id {
        return Err(ApiError::Forbidden(
            "you cannot do this to your own account".into(),
        ));
    }
    let role = target.role;
    if role.includes(Role::Moderator) && actor.role != Role::Admin {
        return Err(ApiError::Forbidden(
            "only an admin may act on a moderator or an admin".into(),
        ));
    }
    Ok(target)
}

/// Bans an account: every write it tries gets `403` at once, whatever tokens it holds, and
/// its sessions end. With `until`, the ban ends by itself then.
#[utoipa::path(
    tag = "moderation",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The account")),
    request_body = BanRequest,
    responses(
        (status = 200, description = "The account now", body = AdminUser),
        (status = 403, description = "Not a moderator, or not allowed on this account", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid reason or until", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/admin/users/{id}/ban")]
pub async fn ban_user(
    user: ActiveUser,
    db: web::Data<Db>,
    path: web::Path<i64>,
    body: web::Bytes,
) -> Result<web::Json<AdminUser>, ApiError> {
    user.require(Role::Moderator)?;
    // The body is read after the role check: a plain user hears 403, whatever it sent.
    let ban: BanRequest = crate::extract::parse(&body)?;
    let id = path.into_inner();
    crate::validation::required_text(&ban.reason, 1_000)
        .map_err(|_| ApiError::invalid("reason", "must be 1 to 1000 characters"))?;
    let reason = crate::validation::trimmed(&ban.reason).to_string();
    crate::validation::check_time("until", ban.until.as_ref())?;
    let until = ban.until.map(|t| t.naive_utc());
    if until.is_some_and(|until| until <= now()) {
        return Err(ApiError::invalid("until", "must be in the future"));
    }
    let row = db
        .run(move |conn| {
            transaction(conn, |conn| {
                target(conn, &user, id)?;
                let at = now();
                repo::ban(conn, id, &reason, until, at)?;
                accounts::revoke_sessions_of_user(conn, id, None, at)?;
                let noted = match until {
                    Some(until) => format!("{reason} (until {})", until.and_utc().to_rfc3339()),
                    None => reason.clone(),
                };
                repo::record(conn, UserId(user.id), "ban", "user", id, Some(&noted), at)?;
                Ok(repo::lock_user(conn, id)?)
            })
        })
        .await?;
    let row = row.ok_or_else(|| ApiError::NotFound("no such user".into()))?;
    Ok(web::Json(row.into()))
}

/// Ends a ban.
#[utoipa::path(
    tag = "moderation",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The account")),
    responses(
        (status = 200, description = "The account now", body = AdminUser),
        (status = 403, description = "Not a moderator, or not allowed on this account", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/admin/users/{id}/unban")]
pub async fn unban_user(
    user: ActiveUser,
    db: web::Data<Db>,
    path: web::Path<i64>,
) -> Result<web::Json<AdminUser>, ApiError> {
    user.require(Role::Moderator)?;
    let id = path.into_inner();
    let row = db
        .tx(move |conn| {
            target(conn, &user, id)?;
            repo::unban(conn, id)?;
            repo::record(conn, UserId(user.id), "unban", "user", id, None, now())?;
            Ok(repo::lock_user(conn, id)?)
        })
        .await?;
    let row = row.ok_or_else(|| ApiError::NotFound("no such user".into()))?;
    Ok(web::Json(row.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RoleRequest {
    pub role: Role,
}

/// Changes an account's role. Admins only; the last admin cannot be demoted. Acts at once:
/// roles are read from the database on every write.
#[utoipa::path(
    tag = "moderation",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The account")),
    request_body = RoleRequest,
    responses(
        (status = 200, description = "The account now", body = AdminUser),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The last admin would be demoted", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a role", body = Problem, content_type = "application/problem+json"),
    )
)]
#[put("/api/v1/admin/users/{id}/role")]
pub async fn set_role(
    user: ActiveUser,
    db: web::Data<Db>,
    path: web::Path<i64>,
    body: web::Bytes,
) -> Result<web::Json<AdminUser>, ApiError> {
    user.require(Role::Admin)?;
    let role = crate::extract::parse::<RoleRequest>(&body)?.role;
    let id = path.into_inner();
    let row = db
        .tx(move |conn| {
            // The admins first (locked): two demotions at once cannot both pass the check.
            let admins = repo::lock_admins(conn)?;
            let target = repo::lock_user(conn, id)?
                .ok_or_else(|| ApiError::NotFound("no such user".into()))?;
            if target.role == Role::Admin && role != Role::Admin && admins.len() <= 1 {
                return Err(ApiError::AlreadyDone(
                    "the last admin cannot be demoted: make another admin first".into(),
                ));
            }
            repo::set_role(conn, id, role.as_str())?;
            let change = format!("{} -> {}", target.role.as_str(), role.as_str());
            repo::record(
                conn,
                UserId(user.id),
                "role",
                "user",
                id,
                Some(&change),
                now(),
            )?;
            Ok(repo::lock_user(conn, id)?)
        })
        .await?;
    let row = row.ok_or_else(|| ApiError::NotFound("no such user".into()))?;
    Ok(web::Json(row.into()))
}
