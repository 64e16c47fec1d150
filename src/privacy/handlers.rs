//! `GET /api/v1/me/export`, `DELETE /api/v1/me`, `DELETE /api/v1/admin/users/{id}`.

use actix_web::http::header;
use actix_web::{HttpResponse, delete, get, web};
use validator::Validate;

use super::dto::*;
use super::export::{self, Owner};
use super::repo;
use super::{ErasedBy, erase};
use crate::auth::password::Hasher;
use crate::auth::{ActiveUser, AuthUser, Role};
use crate::db::Db;
use crate::discussions::live::Live;
use crate::error::{ApiError, Problem};
use crate::extract::ValidJson;
use crate::ratelimit::{ClientIp, Limit, RateLimits};

/// Everything Tribune holds about the signed-in reader, as one JSON document, streamed (see
/// `AccountExport`). Banned readers may export too. `TRIBUNE_EXPORT_RATE` a day.
#[utoipa::path(
    tag = "accounts",
    security(("bearer" = [])),
    responses(
        (status = 200, body = AccountExport, description = "The reader's data (an attachment)"),
        (status = 401, description = "Not signed in, or the session has ended", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many exports today", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/api/v1/me/export")]
pub async fn export_me(
    auth: AuthUser,
    db: web::Data<Db>,
    limits: web::Data<RateLimits>,
) -> Result<HttpResponse, ApiError> {
    let limits = **limits;
    let (account, settings) = db
        .run(move |conn| {
            crate::accounts::live_session(conn, auth)?;
            let account = repo::account(conn, auth.id)?
                .ok_or_else(|| ApiError::Unauthorized("this account is gone".into()))?;
            limits.hit(conn, Limit::Exports, &auth.id.to_string())?;
            Ok((account, repo::notification_settings_of(conn, auth.id)?))
        })
        .await?;
    let owner = Owner {
        user_id: account.id,
        email_key: crate::accounts::domain::key(&account.email),
    };
    let mut head = br#"{"exported_at":"#.to_vec();
    serde_json::to_writer(&mut head, &chrono::Utc::now()).map_err(ApiError::internal)?;
    head.extend_from_slice(br#","account":"#);
    serde_json::to_writer(&mut head, &account).map_err(ApiError::internal)?;
    head.extend_from_slice(br#","notification_settings":"#);
    serde_json::to_writer(&mut head, &settings).map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!(
                "attachment; filename=\"tribune-export-{}.json\"",
                account.id
            ),
        ))
        .streaming(export::body(db.get_ref().clone(), owner, head)))
}

/// Erases the signed-in reader's account (the current password confirms it): sessions end at
/// once; email, names and password are gone, with the newsletter subscription and every mail
/// to the address; votes go; comments and topics stay in their threads without an author,
/// their text removed unless `keep_comments`. Banned readers may erase theirs too. An admin's
/// account cannot be erased (another admin changes its role first).
#[utoipa::path(
    tag = "accounts",
    security(("bearer" = [])),
    request_body = EraseMe,
    responses(
        (status = 204, description = "Erased"),
        (status = 401, description = "Not signed in, or the session has ended", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "An admin's account", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Wrong password", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts from this address", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/api/v1/me")]
#[allow(clippy::too_many_arguments)] // a handler's arguments are its extractors
pub async fn erase_me(
    auth: AuthUser,
    client: ClientIp,
    limits: web::Data<RateLimits>,
    db: web::Data<Db>,
    hasher: web::Data<Hasher>,
    live: web::Data<Live>,
    body: ValidJson<EraseMe>,
) -> Result<HttpResponse, ApiError> {
    // A password check like a login's: the same per-address limit against guessing.
    limits.check_client(&db, Limit::Auth, client).await?;
    let EraseMe {
        password,
        keep_comments,
    } = body.into_inner();
    let account = db
        .run(move |conn| {
            crate::accounts::live_session(conn, auth)?;
            Ok(crate::accounts::user_by_id(conn, auth.id)?)
        })
        .await?;
    if !hasher.verify(password, Some(account.password_hash)).await? {
        return Err(ApiError::invalid("password", "is not the current password"));
    }
    live.tx(&db, move |conn| {
        Ok((
            (),
            erase(conn, auth.id, keep_comments, ErasedBy::Themselves)?,
        ))
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Erases a reader's account as `DELETE /api/v1/me` does, for them (a request they made to
/// the site, a court's order); audited with the reason. Admins only; not an admin's account,
/// nor one's own (that is `DELETE /api/v1/me`). The body may be left out.
#[utoipa::path(
    tag = "moderation",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The account")),
    request_body(content = Option<EraseUser>, description = "Optional: an empty body is `{}`"),
    responses(
        (status = 204, description = "Erased"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account (or erased already)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "An admin's account, or one's own", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A reason over 1000 characters", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/api/v1/admin/users/{id}")]
pub async fn erase_user(
    user: ActiveUser,
    db: web::Data<Db>,
    live: web::Data<Live>,
    path: web::Path<i64>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Admin)?;
    let request = if body.iter().all(u8::is_ascii_whitespace) {
        EraseUser::default()
    } else {
        crate::extract::parse::<Option<EraseUser>>(&body)?.unwrap_or_default()
    };
    request.validate()?;
    let id = path.into_inner();
    if id == user.id {
        return Err(ApiError::AlreadyDone(
            "erase your own account with DELETE /api/v1/me".into(),
        ));
    }
    let by = ErasedBy::Admin {
        id: user.id,
        reason: request.reason,
    };
    live.tx(&db, move |conn| {
        Ok(((), erase(conn, id, request.keep_comments, by)?))
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
