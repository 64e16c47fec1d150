//! Articles: the news list, one article, and editors' create, update and delete.

use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use validator::Validate;

use super::dto::*;
use super::repo::{self, ArticleChanges, ArticleRow, NewArticle};
use crate::auth::{ActiveUser, AuthUser, Role, role_now, sees_unpublished};
use crate::db::{Db, DbConn, now};
use crate::discussions;
use crate::discussions::announce;
use crate::discussions::live::Live;
use crate::discussions::views::ViewCounter;
use crate::error::{ApiError, Problem};
use crate::extract::Json;
use crate::moderation::{self, StaffAction};
use crate::pagination;

fn with_tags(
    conn: &mut DbConn,
    rows: &[ArticleRow],
) -> Result<HashMap<i64, Vec<String>>, ApiError> {
    let ids: Vec<i64> = rows.iter().map(|row| row.article.id).collect();
    let mut tags: HashMap<i64, Vec<String>> = HashMap::new();
    for (id, tag) in repo::tags_of(conn, &ids)? {
        tags.entry(id).or_default().push(tag);
    }
    Ok(tags)
}

/// Published articles, newest first; `?tag=` filters.
#[utoipa::path(
    tag = "articles",
    params(ArticleQuery),
    responses(
        (status = 200, description = "A page of articles", body = ArticlePage),
        (status = 400, description = "Bad cursor or limit", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/api/v1/articles")]
pub async fn list_articles(
    db: web::Data<Db>,
    views: web::Data<ViewCounter>,
    query: web::Query<ArticleQuery>,
) -> Result<web::Json<ArticlePage>, ApiError> {
    let query = query.into_inner();
    let limit = pagination::limit(query.limit)?;
    let after = pagination::time_id_cursor(query.cursor.as_deref())?;
    let tag_key = query.tag.map(|t| t.trim().to_lowercase());
    let (mut rows, mut tags) = db
        .run(move |conn| {
            let rows = repo::list(conn, tag_key.as_deref(), after, limit + 1, now())?;
            let tags = with_tags(conn, &rows)?;
            Ok((rows, tags))
        })
        .await?;
    let next_cursor = pagination::cut(&mut rows, limit, |row| {
        let a = &row.article;
        vec![pagination::time_part(a.published_at), a.id.to_string()]
    });
    let items = rows
        .iter()
        .map(|row| {
            let pending = views.pending(row.article.discussion_id);
            ArticleItem::new(
                row,
                tags.remove(&row.article.id).unwrap_or_default(),
                pending,
            )
        })
        .collect();
    Ok(web::Json(ArticlePage { items, next_cursor }))
}

async fn load(db: &Db, slug: String) -> Result<(ArticleRow, Vec<String>), ApiError> {
    db.run(move |conn| {
        let row = repo::by_slug(conn, &slug)?
            .ok_or_else(|| ApiError::NotFound("no such article".into()))?;
        let tags = with_tags(conn, std::slice::from_ref(&row))?
            .remove(&row.article.id)
            .unwrap_or_default();
        Ok((row, tags))
    })
    .await
}

/// One article; counts a view of its discussion. Scheduled articles are visible to editors only.
#[utoipa::path(
    tag = "articles",
    params(("slug" = String, Path, description = "The article's slug")),
    responses(
        (status = 200, description = "The article", body = ArticleView),
        (status = 404, description = "No such published article", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/api/v1/articles/{slug}")]
pub async fn show_article(
    req: HttpRequest,
    auth: Option<AuthUser>,
    db: web::Data<Db>,
    views: web::Data<ViewCounter>,
    path: web::Path<String>,
) -> Result<web::Json<ArticleView>, ApiError> {
    let (row, tags) = load(&db, path.into_inner()).await?;
    // Scheduled: only for editors, by their role now (not the token's).
    if row.article.published_at > now()
        && !db
            .run(move |conn| Ok(sees_unpublished(role_now(conn, auth))))
            .await?
    {
        return Err(ApiError::NotFound("no such article".into()));
    }
    let pending = views.page_served(&req, row.article.discussion_id, auth);
    Ok(web::Json(ArticleView::new(row, tags, pending)))
}

fn trimmed(text: &Option<String>) -> Option<&str> {
    text.as_deref().map(crate::validation::trimmed)
}

/// Publishes (or schedules) an article, with its discussion.
#[utoipa::path(
    tag = "articles",
    security(("bearer" = [])),
    request_body = NewArticleRequest,
    responses(
        (status = 201, description = "The article", body = ArticleView),
        (status = 403, description = "Not an editor", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The slug is taken", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/articles")]
pub async fn create_article(
    user: ActiveUser,
    db: web::Data<Db>,
    live: web::Data<Live>,
    body: Json<NewArticleRequest>,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Editor)?;
    let new = body.into_inner();
    new.validate()?;
    let slug = live
        .tx(&db, move |conn| {
            let at = now();
            let published_at = new.published_at.map_or(at, |p| p.naive_utc());
            let slug = match &new.slug {
                Some(slug) => slug.clone(),
                None => free_slug(conn, &slug_from_title(&new.title))?,
            };
            let title = crate::validation::trimmed(&new.title);
            let discussion_id = discussions::insert(
                conn,
                &discussions::NewDiscussion {
                    kind: discussions::Kind::Article,
                    title,
                    body: None,
                    body_html: None,
                    author_id: Some(user.id),
                    article_slug: Some(&slug),
                    visible_from: published_at,
                    created_at: at,
                    last_activity_at: published_at,
                },
            )?;
            let article_id = repo::insert(
                conn,
                &NewArticle {
                    discussion_id,
                    slug: &slug,
                    title,
                    lead: crate::validation::trimmed(&new.lead),
                    body: &new.body,
                    dateline: trimmed(&new.dateline),
                    source: trimmed(&new.source),
                    image_url: trimmed(&new.image_url),
                    image_credit: trimmed(&new.image_credit),
                    rights_notice: trimmed(&new.rights_notice),
                    author_id: Some(user.id),
                    published_at,
                    created_at: at,
                    updated_at: at,
                },
            )?;
            repo::set_tags(conn, article_id, new.tags.as_deref().unwrap_or_default())?;
            crate::search::discussion_written(conn, discussion_id)?;
            moderation::audit(
                conn,
                &StaffAction {
                    actor_id: user.id,
                    action: "create",
                    target_type: "article",
                    target_id: article_id,
                    previous: None,
                },
            )?;
            let mut events = None;
            if published_at <= at {
                let (discussion, _) = discussions::by_id(conn, discussion_id)?;
                events = Some(announce("created", &discussion));
            }
            Ok((slug, events))
        })
        .await?;
    let (row, tags) = load(&db, slug).await?;
    Ok(HttpResponse::Created().json(ArticleView::new(row, tags, 0)))
}

/// Records an editor's change to an article in the audit log, with what it was before.
fn audit_article(
    conn: &mut DbConn,
    actor_id: i64,
    action: &str,
    before: &repo::Article,
) -> Result<(), ApiError> {
    let previous = serde_json::json!({
        "title": before.title,
        "lead": before.lead,
        "body": before.body,
        "published_at": before.published_at.and_utc(),
    })
    .to_string();
    moderation::audit(
        conn,
        &StaffAction {
            actor_id,
            action,
            target_type: "article",
            target_id: before.id,
            previous: Some(&previous),
        },
    )
}

/// `base`, or `base-2`, `base-3`, ... : the first slug no article has.
pub(crate) fn free_slug(conn: &mut DbConn, base: &str) -> Result<String, ApiError> {
    let mut candidate = base.to_string();
    for n in 2.. {
        if !repo::slug_taken(conn, &candidate)? {
            break;
        }
        candidate = format!("{base}-{n}");
    }
    Ok(candidate)
}

/// Changes an article; fields left out stay as they are, `null` clears an optional one.
/// The slug never changes.
#[utoipa::path(
    tag = "articles",
    security(("bearer" = [])),
    params(("slug" = String, Path, description = "The article's slug")),
    request_body = ArticleUpdate,
    responses(
        (status = 200, description = "The article", body = ArticleView),
        (status = 403, description = "Not an editor", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such article", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/api/v1/articles/{slug}")]
pub async fn update_article(
    user: ActiveUser,
    db: web::Data<Db>,
    views: web::Data<ViewCounter>,
    live: web::Data<Live>,
    path: web::Path<String>,
    body: Json<ArticleUpdate>,
) -> Result<web::Json<ArticleView>, ApiError> {
    user.require(Role::Editor)?;
    let update = body.into_inner();
    update.validate()?;
    update.validate_clearable()?;
    let slug = path.into_inner();
    let lookup = slug.clone();
    live.tx(&db, move |conn| {
        let article = repo::by_slug(conn, &lookup)?
            .ok_or_else(|| ApiError::NotFound("no such article".into()))?
            .article;
        // The discussion first: the lock order of every writer (see the comments feature).
        discussions::lock(conn, article.discussion_id)?;
        let at = now();
        let clean = |v: Option<Option<String>>| {
            v.map(|o| o.map(|s| crate::validation::trimmed(&s).to_string()))
        };
        let changes = ArticleChanges {
            title: update
                .title
                .as_ref()
                .map(|t| crate::validation::trimmed(t).to_string()),
            lead: update
                .lead
                .as_ref()
                .map(|t| crate::validation::trimmed(t).to_string()),
            body: update.body,
            dateline: clean(update.dateline),
            source: clean(update.source),
            image_url: clean(update.image_url),
            image_credit: clean(update.image_credit),
            rights_notice: clean(update.rights_notice),
            published_at: update.published_at.map(|p| p.naive_utc()),
            updated_at: Some(at),
        };
        repo::update(conn, article.id, &changes)?;
        audit_article(conn, user.id, "update", &article)?;
        if let Some(tags) = &update.tags {
            repo::set_tags(conn, article.id, tags)?;
        }
        let title = changes.title.as_deref().unwrap_or(&article.title);
        let published_at = changes.published_at.unwrap_or(article.published_at);
        // A scheduled article's activity starts when it is published.
        let was_scheduled = article.published_at > at;
        discussions::sync_article(
            conn,
            article.discussion_id,
            title,
            published_at,
            was_scheduled,
        )?;
        crate::search::discussion_written(conn, article.discussion_id)?;
        let (discussion, _) = discussions::by_id(conn, article.discussion_id)?;
        // A scheduled article's title must not show on the live stream before publication.
        Ok(((), discussions::announce_if_public("updated", &discussion)))
    })
    .await?;
    let (row, tags) = load(&db, slug).await?;
    let pending = views.pending(row.article.discussion_id);
    Ok(web::Json(ArticleView::new(row, tags, pending)))
}

/// Deletes an article with its discussion.
#[utoipa::path(
    tag = "articles",
    security(("bearer" = [])),
    params(("slug" = String, Path, description = "The article's slug")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Not an editor", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such article", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/api/v1/articles/{slug}")]
pub async fn delete_article(
    user: ActiveUser,
    db: web::Data<Db>,
    live: web::Data<Live>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Editor)?;
    let slug = path.into_inner();
    live.tx(&db, move |conn| {
        let article = repo::by_slug(conn, &slug)?
            .ok_or_else(|| ApiError::NotFound("no such article".into()))?
            .article;
        // The discussion first: the lock order of every writer (see the comments feature).
        let discussion = discussions::lock(conn, article.discussion_id)?
            .ok_or_else(|| ApiError::NotFound("no such article".into()))?;
        crate::comments::uncount_discussion(conn, article.discussion_id)?;
        audit_article(conn, user.id, "delete", &article)?;
        repo::delete(conn, article.id)?;
        discussions::delete(conn, article.discussion_id)?;
        Ok(((), discussions::announce_if_public("deleted", &discussion)))
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
