//! What admins see of the newsletter: subscribers, and each day's digest with its mails.

use actix_web::{get, web};

use super::dto::*;
use super::repo::{self};
use crate::auth::ActiveUser;
use crate::db::Db;
use crate::error::{ApiError, Problem};
use crate::pagination;

/// Newsletter subscribers, by id, optionally in one state. Admins only.
#[utoipa::path(
    tag = "newsletter",
    security(("bearer" = [])),
    params(SubscriberQuery),
    responses(
        (status = 200, description = "A page of subscribers", body = SubscriberPage),
        (status = 400, description = "Bad status, cursor or limit", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/api/v1/admin/newsletter/subscribers")]
pub async fn admin_subscribers(
    user: ActiveUser,
    db: web::Data<Db>,
    query: web::Query<SubscriberQuery>,
) -> Result<web::Json<SubscriberPage>, ApiError> {
    user.require(crate::auth::Role::Admin)?;
    let query = query.into_inner();
    let limit = pagination::limit(query.limit)?;
    let after = pagination::id_cursor(query.cursor.as_deref())?;
    let status = query.status.map(|s| s.as_str());
    let mut rows = db
        .run(move |conn| Ok(repo::list(conn, status, after, limit + 1)?))
        .await?;
    let next_cursor = pagination::cut(&mut rows, limit, |r| vec![r.id.to_string()]);
    let items = rows
        .into_iter()
        .map(|r| SubscriberView {
            id: r.id,
            email: r.email,
            status: r.status,
            user_id: r.user_id,
            bounces: r.bounces,
            created_at: r.created_at.and_utc(),
            confirmed_at: r.confirmed_at.map(|t| t.and_utc()),
            unsubscribed_at: r.unsubscribed_at.map(|t| t.and_utc()),
        })
        .collect();
    Ok(web::Json(SubscriberPage { items, next_cursor }))
}

/// The daily digests, newest first, with their mails enqueued, sent and failed. Admins only.
#[utoipa::path(
    tag = "newsletter",
    security(("bearer" = [])),
    params(DigestQuery),
    responses(
        (status = 200, description = "A page of digest days", body = DigestPage),
        (status = 400, description = "Bad cursor or limit", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/api/v1/admin/newsletter/digests")]
pub async fn admin_digests(
    user: ActiveUser,
    db: web::Data<Db>,
    query: web::Query<DigestQuery>,
) -> Result<web::Json<DigestPage>, ApiError> {
    user.require(crate::auth::Role::Admin)?;
    let query = query.into_inner();
    let limit = pagination::limit(query.limit)?;
    let before = query
        .cursor
        .as_deref()
        .map(|c| pagination::decode(c, 1).map(|mut p| p.remove(0)))
        .transpose()?;
    let (mut days, counts) = db
        .run(move |conn| {
            let days = repo::digests(conn, before.as_deref(), limit + 1)?;
            let mut counts = Vec::with_capacity(days.len());
            for day in days.iter().take(limit as usize) {
                counts.push(crate::mail::digest_delivery(conn, &day.day)?);
            }
            Ok((days, counts))
        })
        .await?;
    let next_cursor = pagination::cut(&mut days, limit, |d| vec![d.day.clone()]);
    let items = days
        .into_iter()
        .zip(counts)
        .map(|(day, counts)| DigestDay {
            enqueued: counts.total(),
            sent: counts.sent,
            failed: counts.failed,
            pending: counts.pending,
            day: day.day,
            articles: day.articles,
            started_at: day.started_at.and_utc(),
            finished_at: day.finished_at.map(|t| t.and_utc()),
        })
        .collect();
    Ok(web::Json(DigestPage { items, next_cursor }))
}
