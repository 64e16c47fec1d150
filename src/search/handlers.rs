//! `GET /api/v1/search`.

use actix_web::{HttpResponse, get, web};

use super::dto::{SearchHit, SearchPage, SearchQuery};
use super::text::{self, Query};
use super::{SearchKind, repo};

use crate::auth::{AuthUser, Role, role_now};
use crate::db::Db;
use crate::discussions::dto::Author;
use crate::error::{ApiError, Problem};
use crate::pagination;
use crate::ratelimit::{ClientIp, Limit, RateLimits};

/// How deep a search may page: results past this many are not worth a reader's time and would
/// make every deeper page rank everything before it again.
const MAX_RESULTS: i64 = 1_000;

/// Full-text search over articles, topics and comments that the reader may see.
#[utoipa::path(
    tag = "search",
    params(SearchQuery),
    responses(
        (status = 200, description = "A page of results, best first", body = SearchPage),
        (status = 400, description = "Bad cursor, limit, type or include_hidden", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`include_hidden` from someone who is not a moderator", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No query, or one that is too long or has no word", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many searches from this address (`TRIBUNE_SEARCH_RATE`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/api/v1/search")]
pub async fn search(
    auth: Option<AuthUser>,
    db: web::Data<Db>,
    limits: web::Data<RateLimits>,
    client: ClientIp,
    query: web::Query<SearchQuery>,
) -> Result<HttpResponse, ApiError> {
    let params = query.into_inner();
    let limit = pagination::limit(params.limit)?;
    let kind = params.kind;
    let offset = match params.cursor.as_deref() {
        None => 0,
        Some(cursor) => {
            let offset = pagination::number(&pagination::decode(cursor, 1)?[0])?;
            if !(0..MAX_RESULTS).contains(&offset) {
                return Err(ApiError::BadRequest(
                    "cursor is not one this API gave".into(),
                ));
            }
            offset
        }
    };
    let parsed = Query::parse(&params.q)?;
    let include_hidden = params.include_hidden.unwrap_or(false);
    limits.check_client(&db, Limit::Search, client).await?;
    let (mut rows, parsed) = db
        .snapshot(move |conn| {
            if include_hidden && !role_now(conn, auth).is_some_and(|r| r.includes(Role::Moderator))
            {
                return Err(ApiError::Forbidden(
                    "include_hidden is for moderators".into(),
                ));
            }
            super::find(
                conn,
                &super::Search {
                    query: &parsed,
                    kind,
                    include_hidden,
                    limit,
                    offset,
                },
            )
            .map(|rows| (rows, parsed))
        })
        .await?;
    let more = rows.len() as i64 > limit && offset + limit < MAX_RESULTS;
    rows.truncate(limit as usize);
    let next_cursor = more.then(|| pagination::encode(&[(offset + limit).to_string()]));
    let items = rows.into_iter().map(|row| hit(row, &parsed)).collect();
    Ok(HttpResponse::Ok().json(SearchPage { items, next_cursor }))
}

fn hit(row: repo::HitRow, query: &Query) -> SearchHit {
    let kind = SearchKind::parse(&row.kind).unwrap_or(SearchKind::Comment);
    let text = crate::markdown::to_plain_text(row.text.as_deref().unwrap_or_default());
    let snippet_html = match kind {
        // A match in the title only still shows the text's beginning.
        SearchKind::Article | SearchKind::Topic if text.is_empty() => {
            text::snippet(&row.title, query)
        }
        _ => text::snippet(&text, query),
    };
    let id = match kind {
        SearchKind::Article => row.article_id.unwrap_or(row.discussion_id),
        SearchKind::Topic => row.discussion_id,
        SearchKind::Comment => row.comment_id.unwrap_or_default(),
    };
    let author = match (row.author_id, row.username, row.display_name) {
        (Some(id), Some(username), Some(display_name)) => Some(Author {
            id,
            username,
            display_name,
        }),
        _ => None,
    };
    SearchHit {
        kind,
        id,
        discussion_id: row.discussion_id,
        comment_id: row.comment_id,
        article_slug: row.article_slug,
        title: row.title,
        snippet_html,
        author,
        hidden: row.status.as_deref() == Some("hidden"),
        created_at: row.created_at.and_utc(),
    }
}
