//! Finding discussions to act on: the last active ones, or those whose words match (topics,
//! then articles, titles first; scheduled ones too), through the search index, so that word
//! forms, case and `ё` fold as readers' searches do.

use actix_web::{get, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{ActiveUser, Role};
use crate::db::Db;
use crate::discussions::{self, dto::DiscussionView};
use crate::error::{ApiError, Problem};
use crate::search::{self, text::Query};

/// How many discussions a list holds at most.
const MAX: i64 = 50;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DiscussionQuery {
    /// Words of the title (or text); absent or blank: the last active discussions.
    #[param(max_length = 1000)]
    pub q: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AdminDiscussionList {
    /// Up to 50: topics then articles, each title matches first (25 of each at most), or the
    /// last active first.
    pub items: Vec<DiscussionView>,
}

/// Discussions for moderators and editors, scheduled articles' included, with their locks, pins and
/// premoderation.
#[utoipa::path(
    tag = "moderation",
    security(("bearer" = [])),
    params(DiscussionQuery),
    responses(
        (status = 200, description = "Discussions", body = AdminDiscussionList),
        (status = 403, description = "Neither a moderator nor an editor", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A query without words, or too long", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/api/v1/admin/discussions")]
pub async fn list_discussions(
    user: ActiveUser,
    db: web::Data<Db>,
    query: web::Query<DiscussionQuery>,
) -> Result<web::Json<AdminDiscussionList>, ApiError> {
    // Editors see the list too (the console shows them this page, without its buttons).
    user.require(Role::Moderator)
        .or_else(|_| user.require(Role::Editor))?;
    let q = query.into_inner().q.filter(|q| !q.trim().is_empty());
    let parsed = q.as_deref().map(Query::parse).transpose()?;
    let rows = db
        .snapshot(move |conn| {
            let Some(parsed) = parsed else {
                return Ok(discussions::recent(conn, MAX)?);
            };
            let mut ids = search::find_discussions(conn, &parsed, MAX / 2)?;
            ids.dedup();
            let mut rows = Vec::with_capacity(ids.len());
            for id in ids {
                if let Some(row) =
                    diesel::OptionalExtension::optional(discussions::by_id(conn, id))?
                {
                    rows.push(row);
                }
            }
            Ok(rows)
        })
        .await?;
    Ok(web::Json(AdminDiscussionList {
        items: rows
            .into_iter()
            .map(|(discussion, author)| DiscussionView::new(discussion, author, 0))
            .collect(),
    }))
}
