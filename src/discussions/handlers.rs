//! The feed, one discussion, topics, and the live stream.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use chrono::Duration;

use super::dto::*;
use super::feed_cache::FeedCache;
use super::live::{Live, StreamSlots};
use super::repo::{self, FeedKey, NewDiscussion};
use super::views::ViewCounter;
use crate::auth::{ActiveUser, AuthUser, Role, role_now, sees_unpublished};
use crate::config::Settings;
use crate::db::{Db, now};
use crate::error::{ApiError, Problem};
use crate::extract::ValidJson;
use crate::markdown;
use crate::moderation::{self, StaffAction};
use crate::page_cache::Page;
use crate::pagination;
use crate::premoderation::Premoderation;
use crate::ratelimit::{ClientIp, Limit, RateLimits};

/// The parts of the feed cursor after `discussion` (see [`parse_feed_cursor`]).
fn feed_cursor(discussion: &repo::FeedRow) -> Vec<String> {
    vec![
        u8::from(discussion.pinned).to_string(),
        pagination::time_part(discussion.last_activity_at),
        discussion.id.to_string(),
    ]
}

fn parse_feed_cursor(cursor: &str) -> Result<FeedKey, ApiError> {
    let parts = pagination::decode(cursor, 3)?;
    let pinned = match parts[0].as_str() {
        "1" => true,
        "0" => false,
        _ => {
            return Err(ApiError::BadRequest(
                "cursor is not one this API gave".into(),
            ));
        }
    };
    Ok(FeedKey {
        pinned,
        last_activity_at: pagination::time(&parts[1])?,
        id: pagination::number(&parts[2])?,
    })
}

/// The "Discussion" feed: articles' and readers' discussions, pinned first, then by last
/// activity. Answers `304` to a matching `If-None-Match`.
#[utoipa::path(
    tag = "discussions",
    params(FeedQuery),
    responses(
        (status = 200, description = "A page of the feed", body = FeedPage,
         headers(("ETag" = String, description = "Weak tag of this page"))),
        (status = 304, description = "Not modified since the `If-None-Match` tag"),
        (status = 400, description = "Bad cursor, limit or since", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/api/v1/discussions")]
pub async fn feed(
    req: HttpRequest,
    db: web::Data<Db>,
    views: web::Data<ViewCounter>,
    cache: web::Data<FeedCache>,
    query: web::Query<FeedQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let limit = pagination::limit(query.limit)?;
    let after = query.cursor.as_deref().map(parse_feed_cursor).transpose()?;
    if let Some(since) = &query.since
        && crate::validation::storable_time(since).is_err()
    {
        return Err(ApiError::BadRequest(
            "since must be a date between the years 1 and 9999".into(),
        ));
    }
    let since = query.since.map(|s| s.naive_utc());
    let build = async move {
        let mut rows = db
            .run(move |conn| Ok(repo::feed(conn, after, since, limit + 1, now())?))
            .await?;
        let next_cursor = pagination::cut(&mut rows, limit, |(d, _)| feed_cursor(d));
        let page = FeedPage {
            items: rows
                .into_iter()
                .map(|(d, author)| {
                    let pending = views.pending(d.id);
                    FeedItem::new(d, author, pending)
                })
                .collect(),
            next_cursor,
        };
        // About 300 bytes an item: one allocation, no regrowth.
        let mut body = Vec::with_capacity(320 * page.items.len() + 64);
        serde_json::to_writer(&mut body, &page).map_err(ApiError::internal)?;
        Ok(Page::new(body))
    };
    let page = cache.get_or_build(req.query_string(), build).await?;
    Ok(page.respond(&req))
}

/// Server-Sent Events: `event: discussion` each time a discussion is created or gets new
/// activity (data: a `DiscussionEvent`), and a keep-alive comment every 15 s. A stream ends
/// after `TRIBUNE_STREAM_LIFETIME_SECONDS` with a `retry:`, and browsers reconnect by
/// themselves (with `?since=` on the feed to catch up).
#[utoipa::path(
    tag = "discussions",
    responses(
        (status = 200, description = "An event stream", content_type = "text/event-stream", body = StreamEvent),
        (status = 429, description = "This client address holds as many streams as it may", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "This server holds as many streams as it may", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/api/v1/discussions/stream")]
pub async fn stream(
    client: ClientIp,
    live: web::Data<Live>,
    slots: web::Data<StreamSlots>,
) -> Result<HttpResponse, ApiError> {
    let slot = slots.into_inner().take(client.key())?;
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(live.stream(slot)))
}

/// Starts a topic.
#[utoipa::path(
    tag = "discussions",
    security(("bearer" = [])),
    request_body = NewTopic,
    responses(
        (status = 201, description = "The new topic", body = DiscussionView),
        (status = 403, description = "The account is banned", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid title or body, or one a word rule refuses", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many topics started or edited (`TRIBUNE_TOPIC_RATE`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/discussions")]
pub async fn create_topic(
    user: ActiveUser,
    db: web::Data<Db>,
    live: web::Data<Live>,
    limits: web::Data<RateLimits>,
    premoderation: web::Data<Premoderation>,
    body: ValidJson<NewTopic>,
) -> Result<HttpResponse, ApiError> {
    let topic = body.into_inner();
    let body_html = markdown::to_html(&topic.body);
    let row = live
        .tx(&db, move |conn| {
            premoderation.screen_topic(conn, &user, &topic.title, &topic.body)?;
            limits.hit_account(conn, Limit::Topics, &user)?;
            let at = now();
            let id = repo::insert(
                conn,
                &NewDiscussion {
                    kind: super::Kind::Topic,
                    title: crate::validation::trimmed(&topic.title),
                    body: Some(&topic.body),
                    body_html: Some(&body_html),
                    author_id: Some(user.id),
                    article_slug: None,
                    visible_from: at,
                    created_at: at,
                    last_activity_at: at,
                },
            )?;
            crate::search::discussion_written(conn, id)?;
            let row = repo::by_id(conn, id)?;
            let events = Some(super::announce("created", &row.0));
            Ok((row, events))
        })
        .await?;
    let (discussion, author) = row;
    Ok(HttpResponse::Created().json(DiscussionView::new(discussion, author, 0)))
}

/// One discussion; counts a view (one per viewer per day, from readers: see
/// `POST /discussions/{id}/views`).
#[utoipa::path(
    tag = "discussions",
    params(("id" = i64, Path, description = "The discussion")),
    responses(
        (status = 200, description = "The discussion", body = DiscussionView),
        (status = 404, description = "No such discussion", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/api/v1/discussions/{id}")]
pub async fn show_discussion(
    req: HttpRequest,
    auth: Option<AuthUser>,
    db: web::Data<Db>,
    views: web::Data<ViewCounter>,
    path: web::Path<i64>,
) -> Result<web::Json<DiscussionView>, ApiError> {
    let id = path.into_inner();
    let (discussion, author) = db
        .run(move |conn| Ok(repo::by_id(conn, id)?))
        .await
        .map_err(not_found)?;
    if !super::is_public(&discussion)
        && !db
            .run(move |conn| Ok(sees_unpublished(role_now(conn, auth))))
            .await?
    {
        return Err(not_found(ApiError::NotFound(String::new())));
    }
    let pending = views.page_served(&req, id, auth);
    Ok(web::Json(DiscussionView::new(discussion, author, pending)))
}

/// The page's signal that a reader sees the discussion (or its article): counts a view, one per
/// viewer per day, as the page's `GET` does, if the request is a reader's (not a crawler's, a
/// link preview's, a script's or a prefetch). With `TRIBUNE_VIEW_COUNTING=beacon`, the only way a
/// view counts: single-page frontends send it when the page is really shown.
#[utoipa::path(
    tag = "discussions",
    params(("id" = i64, Path, description = "The discussion")),
    responses(
        (status = 204, description = "Counted, if it was a reader's (one per viewer per day)"),
        (status = 404, description = "No such discussion", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/discussions/{id}/views")]
pub async fn discussion_viewed(
    req: HttpRequest,
    auth: Option<AuthUser>,
    db: web::Data<Db>,
    views: web::Data<ViewCounter>,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let state = db
        .run(move |conn| Ok(repo::thread_state(conn, id)?))
        .await?
        .ok_or_else(|| not_found(ApiError::NotFound(String::new())))?;
    if !state.visible(false)
        && !db
            .run(move |conn| Ok(sees_unpublished(role_now(conn, auth))))
            .await?
    {
        return Err(not_found(ApiError::NotFound(String::new())));
    }
    views.beacon(&req, id, auth);
    Ok(HttpResponse::NoContent().finish())
}

fn not_found(error: ApiError) -> ApiError {
    match error {
        ApiError::NotFound(_) => ApiError::NotFound("no such discussion".into()),
        other => other,
    }
}

/// Edits a topic: its author within the edit window, or a moderator.
#[utoipa::path(
    tag = "discussions",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The topic")),
    request_body = TopicEdit,
    responses(
        (status = 200, description = "The edited topic", body = DiscussionView),
        (status = 403, description = "Not the author, or the edit window has passed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such topic", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid title or body, or one a word rule refuses", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many topics started or edited (`TRIBUNE_TOPIC_RATE`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/api/v1/discussions/{id}")]
#[allow(clippy::too_many_arguments)] // a handler's arguments are its extractors
pub async fn edit_topic(
    user: ActiveUser,
    db: web::Data<Db>,
    limits: web::Data<RateLimits>,
    settings: web::Data<Settings>,
    views: web::Data<ViewCounter>,
    live: web::Data<Live>,
    premoderation: web::Data<Premoderation>,
    path: web::Path<i64>,
    body: ValidJson<TopicEdit>,
) -> Result<web::Json<DiscussionView>, ApiError> {
    let id = path.into_inner();
    let edit = body.into_inner();
    let window = Duration::minutes(settings.edit_window_minutes);
    let row = live
        .tx(&db, move |conn| {
            let (discussion, _) = repo::by_id(conn, id).map_err(|e| not_found(e.into()))?;
            if discussion.kind != super::Kind::Topic {
                return Err(ApiError::NotFound("no such topic".into()));
            }
            let at = now();
            let moderator = user.role.includes(Role::Moderator);
            if !moderator {
                if discussion.author_id != Some(user.id) {
                    return Err(ApiError::Forbidden(
                        "only its author may edit a topic".into(),
                    ));
                }
                if at - discussion.created_at > window {
                    return Err(ApiError::Forbidden(format!(
                        "topics can be edited for {} minutes after they are posted",
                        window.num_minutes()
                    )));
                }
            }
            let title =
                crate::validation::trimmed(edit.title.as_deref().unwrap_or(&discussion.title));
            let body = edit
                .body
                .as_deref()
                .or(discussion.body.as_deref())
                .unwrap_or("");
            premoderation.screen_topic(conn, &user, title, body)?;
            limits.hit_account(conn, Limit::Topics, &user)?;
            if discussion.author_id != Some(user.id) {
                let previous = serde_json::json!({
                    "title": discussion.title,
                    "body": discussion.body,
                })
                .to_string();
                moderation::audit(
                    conn,
                    &StaffAction {
                        actor_id: user.id,
                        action: "edit",
                        target_type: "discussion",
                        target_id: id,
                        previous: Some(&previous),
                    },
                )?;
            }
            repo::edit_topic(conn, id, title, body, &markdown::to_html(body), at)?;
            crate::search::discussion_written(conn, id)?;
            let row = repo::by_id(conn, id)?;
            let events = Some(super::announce("updated", &row.0));
            Ok((row, events))
        })
        .await?;
    let (discussion, author) = row;
    let pending = views.pending(id);
    Ok(web::Json(DiscussionView::new(discussion, author, pending)))
}
