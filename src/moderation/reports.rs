//! The report queue: readers' reports grouped by comment, oldest first; resolving one closes
//! every open report of its comment, with `dismiss`, `hide` or `delete`.

use std::collections::HashMap;

use actix_web::{get, post, web};
use chrono::{DateTime, Utc};
use diesel::OptionalExtension;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::handlers::{change_visibility, delete_as_moderator};
use super::repo;
use crate::auth::{ActiveUser, Role};
use crate::comments;
use crate::comments::dto::CommentView;
use crate::db::{Db, now};
use crate::discussions;
use crate::discussions::live::Live;
use crate::error::{ApiError, Problem};
use crate::ids::UserId;
use crate::pagination;

/// Where a report stands; stored as its lowercase name.
#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum QueueStatus {
    #[default]
    Open,
    Resolved,
}

impl QueueStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            QueueStatus::Open => "open",
            QueueStatus::Resolved => "resolved",
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// `open` (the default) or `resolved`.
    #[param(inline)]
    pub status: Option<QueueStatus>,
    /// Comments per page, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// One reader's report.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportView {
    pub id: i64,
    pub reporter_id: i64,
    pub reporter_username: String,
    pub reason: String,
    pub created_at: DateTime<Utc>,
}

/// A reported comment with every report of it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportedComment {
    /// The comment, with its text even when hidden (moderators see it).
    pub comment: CommentView,
    /// The comment it answers (null for a root), with its text: the context of the report.
    pub parent: Option<CommentView>,
    pub discussion_id: i64,
    pub discussion_title: String,
    pub report_count: i64,
    pub first_reported_at: DateTime<Utc>,
    pub reports: Vec<ReportView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReportPage {
    /// Oldest first report first.
    pub items: Vec<ReportedComment>,
    pub next_cursor: Option<String>,
}

/// The report queue: reported comments, oldest first, each with its reports.
#[utoipa::path(
    tag = "moderation",
    security(("bearer" = [])),
    params(ReportQuery),
    responses(
        (status = 200, description = "A page of the queue", body = ReportPage),
        (status = 304, description = "Not modified since the `If-None-Match` tag"),
        (status = 400, description = "Bad status, cursor or limit", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a moderator", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/api/v1/admin/reports")]
pub async fn report_queue(
    req: actix_web::HttpRequest,
    user: ActiveUser,
    db: web::Data<Db>,
    query: web::Query<ReportQuery>,
) -> Result<actix_web::HttpResponse, ApiError> {
    user.require(Role::Moderator)?;
    let query = query.into_inner();
    let status = query.status.unwrap_or_default().as_str();
    let limit = pagination::limit(query.limit)?;
    let after = pagination::time_id_cursor(query.cursor.as_deref())?;
    let (mut queue, reports, rows) = db
        .run(move |conn| {
            let queue = repo::reported(conn, status, after, limit + 1)?;
            let ids: Vec<i64> = queue.iter().map(|(id, _, _)| *id).collect();
            let reports = repo::reports_of(conn, status, &ids)?;
            let mut rows = HashMap::new();
            for id in &ids {
                if let Some((comment, author)) = comments::by_id(conn, *id).optional()? {
                    let (discussion, _) = discussions::by_id(conn, comment.discussion_id)?;
                    let parent = match comment.parent_id {
                        Some(parent) => comments::by_id(conn, parent).optional()?,
                        None => None,
                    };
                    rows.insert(*id, (comment, author, discussion.title, parent));
                }
            }
            Ok((queue, reports, rows))
        })
        .await?;
    let next_cursor = pagination::cut(&mut queue, limit, |(id, at, _)| {
        vec![pagination::time_part(*at), id.to_string()]
    });
    let mut rows = rows;
    let items = queue
        .into_iter()
        .filter_map(|(id, first, count)| {
            let (comment, author, title, parent) = rows.remove(&id)?;
            Some(ReportedComment {
                parent: parent.map(|(parent, author)| CommentView::revealed(parent, author)),
                discussion_id: comment.discussion_id,
                discussion_title: title,
                comment: CommentView::revealed(comment, author),
                report_count: count,
                first_reported_at: first.and_utc(),
                reports: reports
                    .iter()
                    .filter(|r| r.comment_id == id)
                    .map(|r| ReportView {
                        id: r.id,
                        reporter_id: r.reporter_id,
                        reporter_username: r.reporter_username.clone(),
                        reason: r.reason.clone(),
                        created_at: r.created_at.and_utc(),
                    })
                    .collect(),
            })
        })
        .collect();
    // Tagged, so that a console polling for new reports gets `304` while nothing changed.
    let body =
        serde_json::to_vec(&ReportPage { items, next_cursor }).map_err(ApiError::internal)?;
    let etag = pagination::etag_of(&body);
    Ok(pagination::respond_with_etag(&req, body, &etag))
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Resolution {
    /// Nothing wrong: the comment stays.
    Dismiss,
    Hide,
    Delete,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ResolveRequest {
    pub action: Resolution,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Resolved {
    pub comment_id: i64,
    /// `dismiss`, `hide` or `delete`.
    pub resolution: &'static str,
    /// The open reports of the comment this closed.
    pub reports_closed: i64,
}

/// Resolves a report, and with it every open report of its comment.
#[utoipa::path(
    tag = "moderation",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "A report of the comment")),
    request_body = ResolveRequest,
    responses(
        (status = 200, description = "Resolved", body = Resolved),
        (status = 403, description = "Not a moderator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such report", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The report is resolved already", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not an action", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/admin/reports/{id}/resolve")]
pub async fn resolve_report(
    user: ActiveUser,
    db: web::Data<Db>,
    live: web::Data<Live>,
    path: web::Path<i64>,
    body: web::Bytes,
) -> Result<web::Json<Resolved>, ApiError> {
    user.require(Role::Moderator)?;
    // The body is read after the role check: a plain user hears 403, whatever it sent.
    let action = crate::extract::parse::<ResolveRequest>(&body)?.action;
    let report_id = path.into_inner();
    let resolution = match action {
        Resolution::Dismiss => "dismiss",
        Resolution::Hide => "hide",
        Resolution::Delete => "delete",
    };
    let resolved = live
        .tx(&db, move |conn| {
            let (comment_id, open) = repo::report_comment(conn, report_id)?
                .ok_or_else(|| ApiError::NotFound("no such report".into()))?;
            if !open {
                return Err(ApiError::AlreadyDone(
                    "this report is resolved already".into(),
                ));
            }
            let deleted = comments::by_id(conn, comment_id)
                .optional()?
                .is_none_or(|(c, _)| c.status == comments::CommentStatus::Deleted);
            let mut events = match action {
                Resolution::Dismiss => Vec::new(),
                // A comment deleted meanwhile is handled already.
                Resolution::Hide if deleted => Vec::new(),
                Resolution::Hide => {
                    change_visibility(conn, &user, comment_id, true, Some("reported"))?.1
                }
                Resolution::Delete => delete_as_moderator(conn, &user, comment_id)?,
            };
            let reporters = repo::resolve_reports(conn, comment_id, user.id, resolution, now())?;
            let closed = reporters.len();
            events.extend(crate::notifications::reports_resolved(
                conn, comment_id, &reporters, user.id, resolution,
            )?);
            repo::record(
                conn,
                UserId(user.id),
                "resolve",
                "comment",
                comment_id,
                Some(resolution),
                now(),
            )?;
            let resolved = Resolved {
                comment_id,
                resolution,
                reports_closed: closed as i64,
            };
            Ok((resolved, events))
        })
        .await?;
    Ok(web::Json(resolved))
}
