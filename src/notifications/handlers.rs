//! The inbox, the reader's own stream, notification settings, the mail's unsubscribe link,
//! and mutes.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, post, put, web};
use chrono::Duration;

use super::MuteCache;
use super::domain::{MailChoice, Topic};
use super::dto::*;
use super::repo;
use crate::auth::tokens::{random_token, token_hash};
use crate::auth::{ActiveUser, AuthUser};
use crate::db::{Db, DbConn, now};
use crate::discussions::dto::Author;
use crate::discussions::live::{Live, StreamSlots};
use crate::error::{ApiError, Problem};
use crate::extract::{Json, ValidJson};
use crate::pages::{Page, page, url_encode, wants_html};
use crate::pagination;
use crate::ratelimit::ClientIp;

/// How long a stream ticket is good for.
const TICKET_LIFETIME: Duration = Duration::seconds(60);
/// Unused tickets one account may hold at once; then `429`.
const TICKETS_MAX: i64 = 10;
/// Accounts one reader may mute at most; then `409`.
pub const MUTES_MAX: i64 = 1_000;

/// The caller's account id, checked now (session live, not banned) on `conn`.
fn me(conn: &mut DbConn, auth: AuthUser) -> Result<i64, ApiError> {
    Ok(ActiveUser::check(conn, auth)?.id)
}

/// The signed-in reader's notifications, newest first.
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    params(NotificationQuery),
    responses(
        (status = 200, description = "A page of notifications", body = NotificationPage),
        (status = 400, description = "Bad cursor or limit", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/api/v1/me/notifications")]
pub async fn inbox(
    auth: AuthUser,
    db: web::Data<Db>,
    query: web::Query<NotificationQuery>,
) -> Result<web::Json<NotificationPage>, ApiError> {
    let query = query.into_inner();
    let limit = pagination::limit(query.limit)?;
    let before = pagination::id_cursor(query.cursor.as_deref())?;
    let unread = query.unread.unwrap_or(false);
    let mut rows = db
        .run(move |conn| {
            let user = me(conn, auth)?;
            Ok(repo::page(conn, user, unread, before, limit + 1, now())?)
        })
        .await?;
    let next_cursor = pagination::cut(&mut rows, limit, |r| vec![r.id.to_string()]);
    Ok(web::Json(NotificationPage {
        items: rows.into_iter().map(Notification::from).collect(),
        next_cursor,
    }))
}

/// How many notifications the reader has not read (for a badge). Polling clients send
/// `If-None-Match` and get `304` while it stays the same.
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The count", body = UnreadCount),
        (status = 304, description = "The count is the one of the ETag sent"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/api/v1/me/notifications/unread-count")]
pub async fn unread_count(
    req: HttpRequest,
    auth: AuthUser,
    db: web::Data<Db>,
) -> Result<HttpResponse, ApiError> {
    let count = db
        .run(move |conn| {
            let user = me(conn, auth)?;
            Ok(repo::unread_count(conn, user, UNREAD_COUNT_MAX, now())?)
        })
        .await?;
    let body = serde_json::to_vec(&UnreadCount { count }).map_err(ApiError::internal)?;
    let etag = pagination::etag_of(&body);
    let mut response = pagination::respond_with_etag(&req, body, &etag);
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("private, no-cache"),
    );
    Ok(response)
}

/// Marks notifications read: `{"ids": [...]}` (one's own; others are skipped) or
/// `{"all": true}`.
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    request_body = ReadRequest,
    responses(
        (status = 200, description = "How many were marked", body = Marked),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Neither `ids` nor `all: true`, both, or over 100 ids", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/me/notifications/read")]
pub async fn mark_read(
    auth: AuthUser,
    db: web::Data<Db>,
    body: ValidJson<ReadRequest>,
) -> Result<web::Json<Marked>, ApiError> {
    let request = body.into_inner();
    let ids = match (request.ids, request.all) {
        (Some(ids), None | Some(false)) => Some(ids),
        (None, Some(true)) => None,
        (Some(_), Some(true)) => {
            return Err(ApiError::invalid(
                "ids",
                "give either `ids` or `all: true`, not both",
            ));
        }
        (None, _) => {
            return Err(ApiError::invalid(
                "ids",
                "is required (or send {\"all\": true})",
            ));
        }
    };
    let marked = db
        .run(move |conn| {
            let user = me(conn, auth)?;
            Ok(repo::mark_read(conn, user, ids.as_deref(), now())?)
        })
        .await?;
    Ok(web::Json(Marked {
        marked: marked as i64,
    }))
}

/// The signed-in reader's own live stream: `event: notification` with each new notification
/// (data: a `Notification`), a keep-alive comment every 15 s. Authenticate with the access
/// token as `Authorization: Bearer`, or (browsers' `EventSource`) with `?ticket=` from
/// `POST /api/v1/me/stream/tickets`. Ends after `TRIBUNE_STREAM_LIFETIME_SECONDS` with a
/// `retry:`; a reconnecting browser needs a new ticket, and catches up with the inbox.
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    params(StreamQuery),
    responses(
        (status = 200, description = "An event stream", content_type = "text/event-stream", body = Notification),
        (status = 401, description = "No access token, or a ticket that is unknown, used or expired", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "This client address holds as many streams as it may", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "This server holds as many streams as it may", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/api/v1/me/stream")]
pub async fn my_stream(
    auth: Option<AuthUser>,
    client: ClientIp,
    db: web::Data<Db>,
    live: web::Data<Live>,
    slots: web::Data<StreamSlots>,
    query: web::Query<StreamQuery>,
) -> Result<HttpResponse, ApiError> {
    let ticket = query.into_inner().ticket;
    let user = match (ticket, auth) {
        (Some(ticket), _) => {
            let hash = token_hash(ticket.trim());
            db.run(move |conn| Ok(repo::take_ticket(conn, &hash, now())?))
                .await?
                .ok_or_else(|| {
                    ApiError::Unauthorized(
                        "this stream ticket is unknown, used or expired; ask for a new one".into(),
                    )
                })?
        }
        (None, Some(auth)) => db.run(move |conn| me(conn, auth)).await?,
        (None, None) => {
            return Err(ApiError::Unauthorized(
                "this needs an access token (Authorization: Bearer) or a `ticket`".into(),
            ));
        }
    };
    let slot = slots.into_inner().take(client.key())?;
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(live.personal_stream(user, slot)))
}

/// A single-use ticket for the reader's own stream, good for a minute: for browsers'
/// `EventSource`, which cannot send an `Authorization` header. (A ticket in a URL may be
/// logged on the way; it opens one stream once, within a minute, and nothing else.)
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The ticket", body = StreamTicket),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Ten unused tickets already", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/me/stream/tickets")]
pub async fn stream_ticket(auth: AuthUser, db: web::Data<Db>) -> Result<HttpResponse, ApiError> {
    let ticket = random_token();
    let hash = token_hash(&ticket);
    let expires_at = now() + TICKET_LIFETIME;
    db.tx(move |conn| {
        let user = me(conn, auth)?;
        if repo::ticket_count(conn, user, now())? >= TICKETS_MAX {
            return Err(ApiError::RateLimited {
                retry_after: TICKET_LIFETIME.num_seconds() as u64,
            });
        }
        repo::add_ticket(conn, &hash, user, expires_at)?;
        Ok(())
    })
    .await?;
    Ok(HttpResponse::Created().json(StreamTicket {
        ticket,
        expires_at: expires_at.and_utc(),
    }))
}

/// How the reader wants to hear of replies and mentions by mail.
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The settings (defaults until changed)", body = NotificationSettings),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/api/v1/me/notification-settings")]
pub async fn get_settings(
    auth: AuthUser,
    db: web::Data<Db>,
) -> Result<web::Json<NotificationSettings>, ApiError> {
    let settings = db
        .run(move |conn| {
            let user = me(conn, auth)?;
            Ok(repo::settings(conn, user)?
                .map(|s| s.choices())
                .unwrap_or_default())
        })
        .await?;
    Ok(web::Json(settings))
}

/// Changes how the reader hears of replies and mentions by mail; what is left out stays.
/// Turning a kind `off` also drops its notifications that wait for a mail.
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    request_body = SettingsUpdate,
    responses(
        (status = 200, description = "The settings now", body = NotificationSettings),
        (status = 400, description = "Not one of `immediately`, `daily`, `off`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    )
)]
#[put("/api/v1/me/notification-settings")]
pub async fn put_settings(
    auth: AuthUser,
    db: web::Data<Db>,
    body: Json<SettingsUpdate>,
) -> Result<web::Json<NotificationSettings>, ApiError> {
    let update = body.into_inner();
    let settings = db
        .tx(move |conn| {
            let user = me(conn, auth)?;
            let current = repo::settings_for_update(conn, user, &random_token())?.choices();
            let wanted = NotificationSettings {
                replies: update.replies.unwrap_or(current.replies),
                mentions: update.mentions.unwrap_or(current.mentions),
            };
            save(conn, user, current, wanted)?;
            Ok(wanted)
        })
        .await?;
    Ok(web::Json(settings))
}

/// Stores `wanted` over `current`; the notifications of a kind turned off leave the mail
/// queues at once (other changes are sorted by the mail worker).
fn save(
    conn: &mut DbConn,
    user: i64,
    current: NotificationSettings,
    wanted: NotificationSettings,
) -> Result<(), ApiError> {
    repo::set_choices(conn, user, wanted)?;
    for (topic, was, now) in [
        (Topic::Replies, current.replies, wanted.replies),
        (Topic::Mentions, current.mentions, wanted.mentions),
    ] {
        if now != was && now == MailChoice::Off {
            repo::requeue(conn, user, &super::kinds_of(topic), None)?;
        }
    }
    Ok(())
}

/// The topics of an unsubscribe link: `replies`, `mentions` or both, comma-separated.
fn topics_of(text: Option<&str>) -> Result<Vec<Topic>, ApiError> {
    let text = text.unwrap_or("replies,mentions");
    text.split(',')
        .map(|t| {
            Topic::parse(t.trim()).ok_or_else(|| {
                ApiError::invalid(
                    "topics",
                    "must be `replies`, `mentions` or both, comma-separated",
                )
            })
        })
        .collect()
}

/// Stops notification mails with the token of a notification mail's link: `?token=&topics=`
/// with the RFC 8058 one-click body (`List-Unsubscribe=One-Click`), which mail clients send,
/// or the button of the link's page. The inbox keeps everything. Idempotent.
#[utoipa::path(
    tag = "notifications",
    params(UnsubscribeQuery),
    responses(
        (status = 200, description = "Those mails are off (a page saying so when the request accepts `text/html`)", body = Unsubscribed),
        (status = 422, description = "Unknown token, or topics that are not `replies`/`mentions`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/notifications/unsubscribe")]
pub async fn notification_unsubscribe(
    req: HttpRequest,
    db: web::Data<Db>,
    query: web::Query<UnsubscribeQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let topics = topics_of(query.topics.as_deref())?;
    let token = query.token.unwrap_or_default().trim().to_string();
    let settings = db
        .tx(move |conn| {
            let Some(row) = repo::settings_by_token(conn, &token)? else {
                return Ok(None);
            };
            let current = repo::settings_for_update(conn, row.user_id, &token)?.choices();
            let mut wanted = current;
            for topic in topics {
                match topic {
                    Topic::Replies => wanted.replies = MailChoice::Off,
                    Topic::Mentions => wanted.mentions = MailChoice::Off,
                }
            }
            save(conn, row.user_id, current, wanted)?;
            Ok(Some(wanted))
        })
        .await?
        .ok_or_else(|| ApiError::invalid("token", "is not the token of any notification mail"))?;
    if wants_html(&req) {
        return Ok(page(
            &req,
            Page {
                title: "page-mails-stopped-title",
                text: "page-mails-stopped-text",
                button: None,
            },
        ));
    }
    Ok(HttpResponse::Ok().json(Unsubscribed { settings }))
}

/// A notification mail's unsubscribe link, opened in a browser: a page with a button that
/// POSTs. A GET never changes anything (link scanners and previews open links).
#[utoipa::path(
    tag = "notifications",
    params(UnsubscribeQuery),
    responses(
        (status = 200, description = "A page with a button", content_type = "text/html", body = String),
    )
)]
#[get("/api/v1/notifications/unsubscribe")]
pub async fn notification_unsubscribe_page(
    req: HttpRequest,
    query: web::Query<UnsubscribeQuery>,
) -> HttpResponse {
    let query = query.into_inner();
    let action = format!(
        "/api/v1/notifications/unsubscribe?token={}&topics={}",
        url_encode(query.token.unwrap_or_default().trim()),
        url_encode(query.topics.as_deref().unwrap_or("replies,mentions")),
    );
    page(
        &req,
        Page {
            title: "page-stop-mails-title",
            text: "page-stop-mails-text",
            button: Some((&action, "page-stop-mails-button")),
        },
    )
}

/// The accounts the reader muted.
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    params(MuteQuery),
    responses(
        (status = 200, description = "A page of muted accounts", body = MutePage),
        (status = 400, description = "Bad cursor or limit", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/api/v1/me/mutes")]
pub async fn list_mutes(
    auth: AuthUser,
    db: web::Data<Db>,
    query: web::Query<MuteQuery>,
) -> Result<web::Json<MutePage>, ApiError> {
    let query = query.into_inner();
    let limit = pagination::limit(query.limit)?;
    let after = pagination::id_cursor(query.cursor.as_deref())?;
    let mut rows = db
        .run(move |conn| {
            let user = me(conn, auth)?;
            Ok(repo::mutes_page(conn, user, after, limit + 1)?)
        })
        .await?;
    let next_cursor = pagination::cut(&mut rows, limit, |(u, _)| vec![u.id.to_string()]);
    Ok(web::Json(MutePage {
        items: rows
            .into_iter()
            .map(|(user, at)| Mute {
                user: Author::from(user),
                muted_at: at.and_utc(),
            })
            .collect(),
        next_cursor,
    }))
}

/// Mutes an account: its comments notify the reader of nothing, and are marked
/// `author_muted` in the thread pages the reader reads. Idempotent.
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    params(("user_id" = i64, Path, description = "The account to mute")),
    responses(
        (status = 204, description = "Muted"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "1000 accounts muted already", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "One's own account", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/me/mutes/{user_id}")]
pub async fn mute(
    auth: AuthUser,
    db: web::Data<Db>,
    cache: web::Data<MuteCache>,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let muted = path.into_inner();
    let user = db
        .tx(move |conn| {
            let user = me(conn, auth)?;
            if muted == user {
                return Err(ApiError::invalid("user_id", "is your own account"));
            }
            if !repo::user_exists(conn, muted)? {
                return Err(ApiError::NotFound("no such account".into()));
            }
            if repo::mute_count(conn, user)? >= MUTES_MAX {
                return Err(ApiError::AlreadyDone(format!(
                    "you have muted {MUTES_MAX} accounts, the most one may; unmute one first"
                )));
            }
            repo::mute(conn, user, muted, now())?;
            Ok(user)
        })
        .await?;
    cache.forget(user);
    Ok(HttpResponse::NoContent().finish())
}

/// Unmutes an account. Idempotent.
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    params(("user_id" = i64, Path, description = "The account to unmute")),
    responses(
        (status = 204, description = "Not muted (any more)"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/api/v1/me/mutes/{user_id}")]
pub async fn unmute(
    auth: AuthUser,
    db: web::Data<Db>,
    cache: web::Data<MuteCache>,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let muted = path.into_inner();
    let user = db
        .run(move |conn| {
            let user = me(conn, auth)?;
            repo::unmute(conn, user, muted)?;
            Ok(user)
        })
        .await?;
    cache.forget(user);
    Ok(HttpResponse::NoContent().finish())
}
