//! Comment threads: pages of threads, posting, editing, deleting, votes and reports.

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::Duration;
use diesel::OptionalExtension;

use super::domain;
use super::domain::{CommentStatus, Held};
use super::dto::*;
use super::paging::{Budget, ThreadPages, held_shown, list, view};
use super::policy::{change_status, comment_to_change, edit_rules};
use super::posting::{Posting, create};
use super::repo;
use super::thread::{Thread, no_comment, visible};
use crate::auth::{ActiveUser, AuthUser, Role, role_now, sees_unpublished};
use crate::config::Settings;
use crate::db::{Db, now};
use crate::discussions;
use crate::discussions::live::Live;
use crate::error::{ApiError, Problem};
use crate::extract::ValidJson;
use crate::ids::{CommentId, UserId};
use crate::markdown;
use crate::moderation::{self, StaffAction};
use crate::premoderation::Premoderation;
use crate::ratelimit::{Limit, RateLimits};

/// The comment threads of a discussion: a page of root comments, each with all its replies
/// nested in `children`.
#[utoipa::path(
    tag = "comments",
    params(("id" = i64, Path, description = "The discussion"), CommentQuery),
    responses(
        (status = 200, description = "A page of threads", body = CommentPage,
         headers(("ETag" = String, description = "Weak tag of this page"))),
        (status = 304, description = "Not modified since the `If-None-Match` tag"),
        (status = 400, description = "Bad cursor, limit or sort", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such discussion", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/api/v1/discussions/{id}/comments")]
pub async fn discussion_comments(
    req: HttpRequest,
    auth: Option<AuthUser>,
    db: web::Data<Db>,
    settings: web::Data<Settings>,
    pages: web::Data<ThreadPages>,
    path: web::Path<i64>,
    query: web::Query<CommentQuery>,
) -> Result<HttpResponse, ApiError> {
    let thread = Thread::Discussion(path.into_inner());
    list(
        &req,
        &db,
        &settings,
        &pages,
        auth,
        thread,
        query.into_inner(),
    )
    .await
}

/// The comment threads of an article's discussion, as for a discussion.
#[utoipa::path(
    tag = "comments",
    params(("slug" = String, Path, description = "The article"), CommentQuery),
    responses(
        (status = 200, description = "A page of threads", body = CommentPage,
         headers(("ETag" = String, description = "Weak tag of this page"))),
        (status = 304, description = "Not modified since the `If-None-Match` tag"),
        (status = 400, description = "Bad cursor, limit or sort", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such article", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/api/v1/articles/{slug}/comments")]
pub async fn article_comments(
    req: HttpRequest,
    auth: Option<AuthUser>,
    db: web::Data<Db>,
    settings: web::Data<Settings>,
    pages: web::Data<ThreadPages>,
    path: web::Path<String>,
    query: web::Query<CommentQuery>,
) -> Result<HttpResponse, ApiError> {
    let thread = Thread::Article(path.into_inner());
    list(
        &req,
        &db,
        &settings,
        &pages,
        auth,
        thread,
        query.into_inner(),
    )
    .await
}

/// Posts a comment, or a reply with `parent_id`. Bumps the discussion's `last_activity_at`
/// and `replies`. A reply to a comment at the deepest level joins that comment's siblings.
#[utoipa::path(
    tag = "comments",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The discussion")),
    request_body = NewComment,
    responses(
        (status = 201, description = "The new comment", body = CommentView),
        (status = 202, description = "Held for a moderator (premoderation): `status` is `pending`; only its author and moderators see it until it is approved", body = CommentView),
        (status = 403, description = "The discussion is locked, or the account is banned", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such discussion", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid body or parent_id, or a word rule refuses the body (the message is the rule's public reason)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many comments in the last minute", body = Problem, content_type = "application/problem+json",
         headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
#[post("/api/v1/discussions/{id}/comments")]
#[allow(clippy::too_many_arguments)] // a handler's arguments are its extractors
pub async fn post_discussion_comment(
    user: AuthUser,
    db: web::Data<Db>,
    live: web::Data<Live>,
    settings: web::Data<Settings>,
    limits: web::Data<RateLimits>,
    premoderation: web::Data<Premoderation>,
    path: web::Path<i64>,
    body: ValidJson<NewComment>,
) -> Result<HttpResponse, ApiError> {
    let thread = Thread::Discussion(path.into_inner());
    let posting = Posting {
        db: &db,
        live: &live,
        settings: &settings,
        limits: &limits,
        premoderation: &premoderation,
    };
    create(user, posting, thread, body.into_inner()).await
}

/// Posts a comment on an article, as on a discussion.
#[utoipa::path(
    tag = "comments",
    security(("bearer" = [])),
    params(("slug" = String, Path, description = "The article")),
    request_body = NewComment,
    responses(
        (status = 201, description = "The new comment", body = CommentView),
        (status = 202, description = "Held for a moderator (premoderation): `status` is `pending`; only its author and moderators see it until it is approved", body = CommentView),
        (status = 403, description = "The discussion is locked, or the account is banned", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such article", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid body or parent_id, or a word rule refuses the body (the message is the rule's public reason)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many comments in the last minute", body = Problem, content_type = "application/problem+json",
         headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
#[post("/api/v1/articles/{slug}/comments")]
#[allow(clippy::too_many_arguments)] // a handler's arguments are its extractors
pub async fn post_article_comment(
    user: AuthUser,
    db: web::Data<Db>,
    live: web::Data<Live>,
    settings: web::Data<Settings>,
    limits: web::Data<RateLimits>,
    premoderation: web::Data<Premoderation>,
    path: web::Path<String>,
    body: ValidJson<NewComment>,
) -> Result<HttpResponse, ApiError> {
    let thread = Thread::Article(path.into_inner());
    let posting = Posting {
        db: &db,
        live: &live,
        settings: &settings,
        limits: &limits,
        premoderation: &premoderation,
    };
    create(user, posting, thread, body.into_inner()).await
}

/// One comment with its replies (a permalink), as many as a page of threads may carry.
#[utoipa::path(
    tag = "comments",
    params(("id" = i64, Path, description = "The comment")),
    responses(
        (status = 200, description = "The comment and its replies", body = CommentView),
        (status = 404, description = "No such comment", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/api/v1/comments/{id}")]
pub async fn show_comment(
    auth: Option<AuthUser>,
    db: web::Data<Db>,
    settings: web::Data<Settings>,
    path: web::Path<i64>,
) -> Result<web::Json<CommentView>, ApiError> {
    let id = path.into_inner();
    let max = settings.comment_page_max;
    let comment = db
        .run(move |conn| {
            let role = role_now(conn, auth);
            let (comment, _) = repo::by_id(conn, id).optional()?.ok_or_else(no_comment)?;
            // A held comment is its author's and moderators' only.
            let held = held_shown(role, auth, 1);
            let budget = Budget {
                comments: max,
                held,
            };
            let shown = match held {
                Held::All => true,
                Held::Of(reader) => {
                    comment.status.published()
                        || (comment.status == CommentStatus::Pending
                            && comment.author_id == Some(reader))
                }
                Held::None => comment.status.published(),
            };
            if !shown {
                return Err(no_comment());
            }
            Thread::Discussion(comment.discussion_id)
                .open(conn, sees_unpublished(role))
                .map_err(|e| match e {
                    ApiError::NotFound(_) => no_comment(),
                    other => other,
                })?;
            let end = domain::thread_end(&comment.path);
            let limit = budget.comments as i64;
            let mut rows = repo::threads(
                conn,
                comment.discussion_id,
                (&comment.path, &end),
                (false, held),
                limit,
            )?;
            rows.truncate(budget.fitting(&rows));
            let reveal = budget.reveals();
            domain::assemble(rows, &[id], |row, kids| view(row, kids, reveal))
                .pop()
                .ok_or_else(no_comment)
        })
        .await?;
    Ok(web::Json(comment))
}

/// Edits a comment: its author within the edit window, or a moderator at any time.
#[utoipa::path(
    tag = "comments",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The comment")),
    request_body = CommentEdit,
    responses(
        (status = 200, description = "The edited comment (without its replies)", body = CommentView),
        (status = 403, description = "Not the author, the edit window has passed, or the discussion is locked", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such comment", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid body, or one that a word rule refuses or would hold", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many edits and deletions (`TRIBUNE_WRITE_RATE`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/api/v1/comments/{id}")]
pub async fn edit_comment(
    user: ActiveUser,
    db: web::Data<Db>,
    limits: web::Data<RateLimits>,
    settings: web::Data<Settings>,
    premoderation: web::Data<Premoderation>,
    path: web::Path<i64>,
    body: ValidJson<CommentEdit>,
) -> Result<web::Json<CommentView>, ApiError> {
    let id = path.into_inner();
    let mut edit = body.into_inner();
    edit.body = crate::validation::trimmed(&edit.body).to_string();
    let body_html = markdown::to_html(&edit.body);
    let window = Duration::minutes(settings.edit_window_minutes);
    let row = db
        .tx(move |conn| {
            let (comment, discussion) = comment_to_change(conn, id, &user)?;
            let at = now();
            edit_rules(&comment, &user, discussion.locked, window, at)?;
            // An edit meets the word rules as a new comment does. A published comment cannot
            // go back to waiting (its replies would lose their place), so a text that would be
            // held is refused: the author may post it as a new comment, which waits.
            let hold = premoderation.screen(conn, &[("body", &edit.body)])?;
            if hold.is_some() && !crate::premoderation::exempt(&user) {
                return Err(ApiError::invalid(
                    "body",
                    "this text must wait for a moderator, which an edit cannot: post it as a \
                     new comment",
                ));
            }
            // Counted last, after the rows that come first in the lock order.
            limits.hit_account(conn, Limit::Writes, &user)?;
            repo::edit(conn, id, &edit.body, &body_html, at)?;
            crate::search::comment_edited(
                conn,
                &crate::search::CommentText {
                    id,
                    discussion_id: comment.discussion_id,
                    body: &edit.body,
                    created_at: comment.created_at,
                },
            )?;
            if comment.author_id != Some(user.id) {
                moderation::audit(
                    conn,
                    &StaffAction {
                        actor_id: user.id,
                        action: "edit",
                        target_type: "comment",
                        target_id: id,
                        previous: comment.body.as_deref(),
                    },
                )?;
            }
            Ok(repo::by_id(conn, id)?)
        })
        .await?;
    let moderator = user.role.includes(Role::Moderator);
    Ok(web::Json(view(row, Vec::new(), moderator)))
}

/// Deletes a comment: its author, or a moderator. It keeps its place in the tree (`status:
/// "deleted"`, no body, no author) and its replies stay. An author's own deletion erases the
/// text; a moderator's keeps it on record for moderators. Deleting twice is a `204` too.
#[utoipa::path(
    tag = "comments",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The comment")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Neither its author nor a moderator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such comment", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many edits and deletions (`TRIBUNE_WRITE_RATE`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/api/v1/comments/{id}")]
pub async fn delete_comment(
    user: ActiveUser,
    db: web::Data<Db>,
    limits: web::Data<RateLimits>,
    live: web::Data<Live>,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    live.tx(&db, move |conn| {
        let (comment, _) = comment_to_change(conn, id, &user)?;
        let own = comment.author_id == Some(user.id);
        if !own && !user.role.includes(Role::Moderator) {
            return Err(ApiError::Forbidden(
                "only its author or a moderator may delete a comment".into(),
            ));
        }
        if comment.status == CommentStatus::Deleted {
            return Ok(((), Vec::new()));
        }
        limits.hit_account(conn, Limit::Writes, &user)?;
        let mut events = Vec::new();
        if !own {
            moderation::audit(
                conn,
                &StaffAction {
                    actor_id: user.id,
                    action: "delete",
                    target_type: "comment",
                    target_id: id,
                    previous: comment.body.as_deref(),
                },
            )?;
            events.extend(crate::notifications::comment_moderated(
                conn,
                id,
                comment.author_id,
                user.id,
                crate::notifications::Moderated::Deleted,
            )?);
        }
        let erase = own
            && matches!(
                comment.status,
                CommentStatus::Visible | CommentStatus::Pending | CommentStatus::Rejected
            );
        // A comment never published stays unpublished (`rejected`): a deleted one keeps a
        // place in readers' threads.
        let to = if comment.status.published() {
            CommentStatus::Deleted
        } else {
            CommentStatus::Rejected
        };
        if comment.status == to && erase {
            repo::set_status(conn, id, to, true)?;
        }
        events.extend(change_status(conn, &comment, to, erase)?);
        Ok(((), events))
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Votes on a comment: 1, -1, or 0 to take the vote back. One vote per user per comment (a new
/// vote replaces the old); not on one's own comment.
#[utoipa::path(
    tag = "comments",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The comment")),
    request_body = Vote,
    responses(
        (status = 200, description = "The comment's score now", body = Score),
        (status = 403, description = "One's own comment, or one that is hidden or deleted", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such comment", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`value` is not 1, -1 or 0", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many votes (`TRIBUNE_VOTE_RATE`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/comments/{id}/vote")]
pub async fn vote(
    user: ActiveUser,
    db: web::Data<Db>,
    limits: web::Data<RateLimits>,
    path: web::Path<i64>,
    body: ValidJson<Vote>,
) -> Result<web::Json<Score>, ApiError> {
    let id = path.into_inner();
    let value = body.into_inner();
    let value = value.value;
    let score = db
        .tx(move |conn| {
            let (comment, _) = comment_to_change(conn, id, &user)?;
            if comment.author_id == Some(user.id) {
                return Err(ApiError::Forbidden(
                    "you cannot vote on your own comment".into(),
                ));
            }
            if comment.status != CommentStatus::Visible {
                return Err(ApiError::Forbidden(
                    "only visible comments take votes".into(),
                ));
            }
            limits.hit_account(conn, Limit::Votes, &user)?;
            let previous = repo::vote_of(conn, CommentId(id), UserId(user.id))?;
            if previous == value {
                return Ok(comment.score);
            }
            Ok(repo::set_vote(
                conn,
                CommentId(id),
                UserId(user.id),
                previous,
                value,
                now(),
            )?)
        })
        .await?;
    Ok(web::Json(Score { score, value }))
}

/// Reports a comment to the moderators, with a reason; once per user per comment.
#[utoipa::path(
    tag = "comments",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The comment")),
    request_body = NewReport,
    responses(
        (status = 202, description = "The report is in the moderators' queue", body = ReportReceipt),
        (status = 403, description = "One's own comment, or a deleted one", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such comment", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already reported by this user", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid reason", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many reports (`TRIBUNE_REPORT_RATE`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/comments/{id}/report")]
pub async fn report(
    user: ActiveUser,
    db: web::Data<Db>,
    limits: web::Data<RateLimits>,
    path: web::Path<i64>,
    body: ValidJson<NewReport>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let report = body.into_inner();
    let receipt = db
        .tx(move |conn| {
            let (comment, _) = repo::by_id(conn, id).optional()?.ok_or_else(no_comment)?;
            // A held comment is not there for anyone but its author (who cannot report it).
            if !comment.status.published() {
                return Err(no_comment());
            }
            let editor = sees_unpublished(Some(user.role));
            discussions::by_id(conn, comment.discussion_id)
                .optional()?
                .filter(|(d, _)| visible(d, editor))
                .ok_or_else(no_comment)?;
            if comment.author_id == Some(user.id) {
                return Err(ApiError::Forbidden(
                    "you cannot report your own comment".into(),
                ));
            }
            if comment.status == CommentStatus::Deleted {
                return Err(ApiError::Forbidden("this comment is deleted".into()));
            }
            limits.hit_account(conn, Limit::Reports, &user)?;
            let report_id = repo::report(
                conn,
                CommentId(id),
                UserId(user.id),
                crate::validation::trimmed(&report.reason),
                now(),
            )?
            .ok_or_else(|| {
                ApiError::AlreadyDone("you have already reported this comment".into())
            })?;
            Ok(ReportReceipt {
                id: report_id,
                comment_id: id,
                status: moderation::QueueStatus::Open.as_str().into(),
            })
        })
        .await?;
    Ok(HttpResponse::Accepted().json(receipt))
}
