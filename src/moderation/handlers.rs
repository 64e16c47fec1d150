//! Moderators' endpoints: discussions (lock, unlock, pin, unpin, delete a topic), comments
//! (hide, restore) and the audit log. Every action is recorded in the audit log in the same
//! transaction as the action.

use actix_web::{HttpResponse, delete, get, post, web};
use diesel::OptionalExtension;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::repo::{self, Flag};
use crate::auth::{ActiveUser, Role};
use crate::comments::dto::CommentView;
use crate::comments::{self, CommentStatus, comment_to_change};
use crate::db::{Db, now};
use crate::discussions;
use crate::discussions::dto::DiscussionView;
use crate::discussions::live::Live;
use crate::discussions::views::ViewCounter;
use crate::error::{ApiError, Problem};
use crate::ids::UserId;
use crate::notifications;
use crate::pagination;

/// Why a moderator acted; optional.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct Reason {
    /// Up to 1,000 characters; kept in the audit log.
    #[schema(max_length = 1000)]
    pub reason: Option<String>,
}

/// An optional JSON body `{reason}`: none at all is fine too.
pub(crate) fn reason_of(body: &[u8]) -> Result<Option<String>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let reason: Reason = crate::extract::parse::<Option<Reason>>(body)?.unwrap_or_default();
    if reason
        .reason
        .as_ref()
        .is_some_and(|r| r.chars().count() > 1_000)
    {
        return Err(ApiError::invalid(
            "reason",
            "must be at most 1000 characters",
        ));
    }
    Ok(reason
        .reason
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty()))
}

fn no_discussion() -> ApiError {
    ApiError::NotFound("no such discussion".into())
}

/// Sets a discussion flag: `(which, value, the action's name in the audit log)`.
async fn set_flag(
    user: ActiveUser,
    db: &Db,
    live: &Live,
    views: &ViewCounter,
    id: i64,
    (flag, value, action): (Flag, bool, &'static str),
) -> Result<web::Json<DiscussionView>, ApiError> {
    user.require(Role::Moderator)?;
    let row = live
        .tx(db, move |conn| {
            discussions::lock(conn, id)?.ok_or_else(no_discussion)?;
            repo::set_flag(conn, id, flag, value)?;
            repo::record(conn, UserId(user.id), action, "discussion", id, None, now())?;
            let row = discussions::by_id(conn, id)?;
            let event = discussions::announce_if_public("updated", &row.0);
            Ok((row, event))
        })
        .await?;
    let pending = views.pending(id);
    Ok(web::Json(DiscussionView::new(row.0, row.1, pending)))
}

macro_rules! flag_route {
    ($name:ident, $method:ident $path:literal, $flag:expr, $value:expr, $action:literal, $doc:literal) => {
        #[doc = $doc]
        #[utoipa::path(
            tag = "moderation",
            security(("bearer" = [])),
            params(("id" = i64, Path, description = "The discussion")),
            responses(
                (status = 200, description = "The discussion now", body = DiscussionView),
                (status = 403, description = "Not a moderator", body = Problem, content_type = "application/problem+json"),
                (status = 404, description = "No such discussion", body = Problem, content_type = "application/problem+json"),
            )
        )]
        #[$method($path)]
        pub async fn $name(
            user: ActiveUser,
            db: web::Data<Db>,
            live: web::Data<Live>,
            views: web::Data<ViewCounter>,
            path: web::Path<i64>,
        ) -> Result<web::Json<DiscussionView>, ApiError> {
            let change = ($flag, $value, $action);
            set_flag(user, &db, &live, &views, path.into_inner(), change).await
        }
    };
}

flag_route!(
    lock_discussion,
    post "/api/v1/admin/discussions/{id}/lock",
    Flag::Locked,
    true,
    "lock",
    "Locks a discussion: no new comments (403 with a clear message), no edits by authors."
);
flag_route!(
    unlock_discussion,
    post "/api/v1/admin/discussions/{id}/unlock",
    Flag::Locked,
    false,
    "unlock",
    "Unlocks a discussion."
);
flag_route!(
    pin_discussion,
    post "/api/v1/admin/discussions/{id}/pin",
    Flag::Pinned,
    true,
    "pin",
    "Pins a discussion: first in the feed."
);
flag_route!(
    unpin_discussion,
    post "/api/v1/admin/discussions/{id}/unpin",
    Flag::Pinned,
    false,
    "unpin",
    "Unpins a discussion."
);
flag_route!(
    premoderate_discussion,
    post "/api/v1/admin/discussions/{id}/premoderate",
    Flag::Premoderated,
    true,
    "premoderate",
    "Premoderates a discussion: every new comment waits for a moderator (`202`, `status: \"pending\"`)."
);
flag_route!(
    unpremoderate_discussion,
    delete "/api/v1/admin/discussions/{id}/premoderate",
    Flag::Premoderated,
    false,
    "unpremoderate",
    "Ends a discussion's premoderation: new comments are published at once again (those waiting still wait)."
);

/// Deletes a topic with its comments. An article's discussion goes only with its article.
#[utoipa::path(
    tag = "moderation",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The topic")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Not a moderator, or an article's discussion", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such discussion", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/api/v1/admin/discussions/{id}")]
pub async fn delete_topic(
    user: ActiveUser,
    db: web::Data<Db>,
    live: web::Data<Live>,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Moderator)?;
    let id = path.into_inner();
    live.tx(&db, move |conn| {
        let discussion = discussions::lock(conn, id)?.ok_or_else(no_discussion)?;
        if discussion.kind != discussions::Kind::Topic {
            return Err(ApiError::Forbidden(
                "an article's discussion goes with its article: delete the article".into(),
            ));
        }
        comments::uncount_discussion(conn, id)?;
        discussions::delete(conn, id)?;
        repo::record(
            conn,
            UserId(user.id),
            "delete",
            "discussion",
            id,
            None,
            now(),
        )?;
        let event = discussions::announce_if_public("deleted", &discussion);
        Ok(((), event))
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Hides (`visible` -> `hidden`) or restores (`hidden` -> `visible`) a comment in the caller's
/// transaction, moving the counters, records it, and tells its author of a hiding. Returns
/// the comment and the live events.
pub(crate) fn change_visibility(
    conn: &mut crate::db::DbConn,
    user: &ActiveUser,
    id: i64,
    hide: bool,
    reason: Option<&str>,
) -> Result<(comments::CommentRow, Vec<String>), ApiError> {
    let (comment, _) = comment_to_change(conn, id, user)?;
    if comment.status == CommentStatus::Deleted {
        return Err(ApiError::Forbidden("this comment is deleted".into()));
    }
    if !comment.status.published() {
        return Err(ApiError::AlreadyDone(
            "this comment was held for premoderation and never published: approve or reject it \
             in the queue (/api/v1/admin/pending)"
                .into(),
        ));
    }
    let (from, to, action) = if hide {
        (CommentStatus::Visible, CommentStatus::Hidden, "hide")
    } else {
        (CommentStatus::Hidden, CommentStatus::Visible, "restore")
    };
    let mut events = Vec::new();
    if comment.status == from {
        events.extend(comments::change_status(conn, &comment, to, false)?);
        if hide {
            events.extend(notifications::comment_moderated(
                conn,
                id,
                comment.author_id,
                user.id,
                notifications::Moderated::Hidden,
            )?);
        }
    }
    repo::record(conn, UserId(user.id), action, "comment", id, reason, now())?;
    let row = comments::by_id(conn, id)
        .optional()?
        .ok_or_else(|| ApiError::NotFound("no such comment".into()))?;
    Ok((row, events))
}

/// A moderator deletes a comment (its text is kept for the record), in the caller's
/// transaction, moving the counters if it was visible, and tells its author. Returns the
/// live events.
pub(crate) fn delete_as_moderator(
    conn: &mut crate::db::DbConn,
    user: &ActiveUser,
    id: i64,
) -> Result<Vec<String>, ApiError> {
    let (comment, _) = comment_to_change(conn, id, user)?;
    if comment.status == CommentStatus::Deleted {
        return Ok(Vec::new());
    }
    // A comment never published stays unpublished.
    let to = if comment.status.published() {
        CommentStatus::Deleted
    } else {
        CommentStatus::Rejected
    };
    let mut events: Vec<String> = comments::change_status(conn, &comment, to, false)?
        .into_iter()
        .collect();
    events.extend(notifications::comment_moderated(
        conn,
        id,
        comment.author_id,
        user.id,
        notifications::Moderated::Deleted,
    )?);
    Ok(events)
}

async fn set_hidden(
    user: ActiveUser,
    db: &Db,
    live: &Live,
    id: i64,
    body: &[u8],
    hide: bool,
) -> Result<web::Json<CommentView>, ApiError> {
    user.require(Role::Moderator)?;
    let reason = reason_of(body)?;
    let (comment, author) = live
        .tx(db, move |conn| {
            change_visibility(conn, &user, id, hide, reason.as_deref())
        })
        .await?;
    // Moderators see what they hid.
    Ok(web::Json(CommentView::revealed(comment, author)))
}

/// Hides a comment: it keeps its place in the tree with null bodies for readers.
#[utoipa::path(
    tag = "moderation",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The comment")),
    request_body(content = Option<Reason>, description = "Optional: no body at all is fine"),
    responses(
        (status = 200, description = "The comment now, as moderators see it", body = CommentView),
        (status = 403, description = "Not a moderator, or a deleted comment", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such comment", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A comment held for premoderation (decide it in the queue)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/admin/comments/{id}/hide")]
pub async fn hide_comment(
    user: ActiveUser,
    db: web::Data<Db>,
    live: web::Data<Live>,
    path: web::Path<i64>,
    body: web::Bytes,
) -> Result<web::Json<CommentView>, ApiError> {
    set_hidden(user, &db, &live, path.into_inner(), &body, true).await
}

/// Restores a hidden comment.
#[utoipa::path(
    tag = "moderation",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The comment")),
    request_body(content = Option<Reason>, description = "Optional: no body at all is fine"),
    responses(
        (status = 200, description = "The comment now", body = CommentView),
        (status = 403, description = "Not a moderator, or a deleted comment", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such comment", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A comment held for premoderation (decide it in the queue)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/admin/comments/{id}/restore")]
pub async fn restore_comment(
    user: ActiveUser,
    db: web::Data<Db>,
    live: web::Data<Live>,
    path: web::Path<i64>,
    body: web::Bytes,
) -> Result<web::Json<CommentView>, ApiError> {
    set_hidden(user, &db, &live, path.into_inner(), &body, false).await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only actions by this moderator (user id).
    pub actor_id: Option<i64>,
    /// Only this action, e.g. `hide`, `lock`, `ban`.
    pub action: Option<String>,
    /// Only actions on this kind of target: `comment`, `discussion`, `user`, `report`.
    pub target_type: Option<String>,
    /// Only actions on this target (with `target_type`).
    pub target_id: Option<i64>,
    /// Only actions at or after this time (RFC 3339).
    #[param(
        pattern = r"^(?!0000)\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[Tt]([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,9})?([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d)$"
    )]
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    /// Only actions before this time (RFC 3339).
    #[param(
        pattern = r"^(?!0000)\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[Tt]([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,9})?([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d)$"
    )]
    pub until: Option<chrono::DateTime<chrono::Utc>>,
    /// Entries per page, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// One moderation or admin action.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntry {
    pub id: i64,
    /// Who did it (null if that account is gone).
    pub actor_id: Option<i64>,
    pub actor_username: Option<String>,
    pub action: String,
    pub target_type: String,
    pub target_id: i64,
    pub reason: Option<String>,
    /// What an edit or deletion of someone else's content replaced: the text before (for an
    /// article, its title, lead and body as JSON).
    pub previous: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl From<repo::Entry> for AuditEntry {
    fn from(r: repo::Entry) -> Self {
        AuditEntry {
            id: r.id,
            actor_id: r.actor_id,
            actor_username: r.actor_username,
            action: r.action,
            target_type: r.target_type,
            target_id: r.target_id,
            reason: r.reason,
            previous: r.previous,
            created_at: r.created_at.and_utc(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    /// Newest first.
    pub items: Vec<AuditEntry>,
    pub next_cursor: Option<String>,
}

/// The audit log: every moderation and admin action, newest first.
#[utoipa::path(
    tag = "moderation",
    security(("bearer" = [])),
    params(AuditQuery),
    responses(
        (status = 200, description = "A page of the log", body = AuditPage),
        (status = 400, description = "Bad cursor, limit, since or until", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a moderator", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/api/v1/admin/audit-log")]
pub async fn audit_log(
    user: ActiveUser,
    db: web::Data<Db>,
    query: web::Query<AuditQuery>,
) -> Result<web::Json<AuditPage>, ApiError> {
    user.require(Role::Moderator)?;
    let query = query.into_inner();
    let limit = pagination::limit(query.limit)?;
    let before = pagination::id_cursor(query.cursor.as_deref())?;
    for (name, at) in [("since", &query.since), ("until", &query.until)] {
        if let Some(at) = at
            && crate::validation::storable_time(at).is_err()
        {
            return Err(ApiError::BadRequest(format!(
                "{name} must be a date between the years 1 and 9999"
            )));
        }
    }
    let filter = repo::Filter {
        actor_id: query.actor_id,
        action: query.action,
        target_type: query.target_type,
        target_id: query.target_id,
        since: query.since.map(|at| at.naive_utc()),
        until: query.until.map(|at| at.naive_utc()),
    };
    let mut rows = db
        .run(move |conn| Ok(repo::entries(conn, &filter, before, limit + 1)?))
        .await?;
    let next_cursor = pagination::cut(&mut rows, limit, |r| vec![r.id.to_string()]);
    let items = rows.into_iter().map(AuditEntry::from).collect();
    Ok(web::Json(AuditPage { items, next_cursor }))
}
