//! Subscriptions: double opt-in, confirmation, unsubscription (with RFC 8058 one-click), and
//! the signed-in user's own subscription.

use actix_web::{HttpRequest, HttpResponse, get, post, put, web};
use chrono::{Duration, NaiveDateTime};

use super::dto::*;
use super::repo::{self, Subscriber};
use crate::accounts;
use crate::accounts::domain::key;
use crate::accounts::dto::Accepted;
use crate::auth::tokens::{random_token, token_hash};
use crate::auth::{ActiveUser, AuthUser};
use crate::config::Settings;
use crate::db::{Db, DbConn, now};
use crate::error::{ApiError, Problem};
use crate::extract::{Json, ValidJson};
use crate::i18n::Lang;
use crate::ids::{SubscriberId, UserId};
use crate::mail::{MailPace, NewMail, Outbox, SECRET, enqueue};
use crate::pages::{Page, page, url_encode, wants_html};
use crate::ratelimit::{ClientIp, Limit, RateLimits};
use crate::site::Site;

/// How long a confirmation link works.
const CONFIRM_TTL: Duration = Duration::hours(48);
/// A pending address gets one confirmation mail in this time after the last, however often it
/// is submitted (and twice as long after each further one).
const CONFIRM_INTERVAL: Duration = Duration::minutes(10);

const SUBSCRIBE_ACCEPTED: Accepted = Accepted {
    status: "accepted",
    message: "If this address can take the newsletter, a mail to confirm the subscription is \
              on its way.",
};

/// Starts (or restarts) the double opt-in of `email`, in the caller's transaction: a new
/// address becomes pending; a pending, unsubscribed or bouncing one gets a new confirmation
/// (at the pace of [`MailPace`]: 10 minutes after the last, then twice as long each time, and
/// a few a day at most); a confirmed one is left alone. The token mailed is tied to the account
/// that asked for it (`user_id`), which owns the subscription if that token is used. Returns
/// whether a mail was enqueued. What the caller answers must not depend on it.
pub(crate) fn request_subscription(
    conn: &mut DbConn,
    (email, asked): (&str, Option<Lang>),
    user_id: Option<i64>,
    settings: &Settings,
    at: NaiveDateTime,
) -> Result<bool, ApiError> {
    let email_key = key(email);
    if repo::by_email_key(conn, &email_key)?.is_none() {
        repo::insert_pending(conn, email.trim(), &email_key, &random_token(), at)?;
    }
    let subscriber = repo::by_email_key(conn, &email_key)?
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("subscriber vanished")))?;
    if let Some(lang) = asked
        && subscriber.status != SubscriberStatus::Confirmed
    {
        // The language of the latest request that named one (a confirmed subscription keeps
        // its own; none: the site's, whatever it is when the digest goes).
        repo::set_language(conn, subscriber.id, lang.as_str())?;
    }
    let lang = asked
        .or(subscriber.language.as_deref().and_then(Lang::parse))
        .unwrap_or(settings.default_language);
    if let Some(user_id) = user_id
        && subscriber.user_id != Some(user_id)
    {
        // Noted whatever the state, so that the account sees `pending` either way.
        repo::request_by_user(conn, SubscriberId(subscriber.id), UserId(user_id))?;
    }
    if subscriber.status == SubscriberStatus::Confirmed {
        return Ok(false);
    }
    let pace = MailPace {
        first_gap: CONFIRM_INTERVAL,
        per_day: settings.mails_per_address_per_day,
    };
    let window_open = subscriber
        .confirm_window_at
        .filter(|start| at - *start < Duration::days(1));
    let sent = window_open.map_or(0, |_| subscriber.confirm_count);
    if !pace.allows(sent.into(), subscriber.confirm_sent_at, at) {
        return Ok(false);
    }
    let token = random_token();
    let hash = token_hash(&token);
    let renewal = repo::Renewal {
        token_hash: &hash,
        at,
        ttl: CONFIRM_TTL,
        requested_by: user_id,
        count: sent + 1,
        window_at: window_open.unwrap_or(at),
    };
    if !repo::renew_confirmation(conn, &subscriber, &renewal)? {
        return Ok(false);
    }
    let site = Site::from_settings(settings);
    let mail = confirmation_mail(&subscriber, (&site, lang), token, &hash, at)?;
    enqueue(conn, &mail)?;
    Ok(true)
}

fn confirmation_mail(
    subscriber: &Subscriber,
    (site, lang): (&Site, Lang),
    token: String,
    hash: &str,
    at: NaiveDateTime,
) -> Result<NewMail, ApiError> {
    // The token goes in at send time and is erased from the outbox once the mail is sent.
    let link = format!(
        "{}/api/v1/newsletter/confirm?token={SECRET}",
        site.public_url
    );
    let subject = crate::i18n::text(
        lang,
        "confirm-subject",
        &[("site", crate::i18n::Arg::Text(site.name.clone()))],
    )
    .unwrap_or_default();
    let parts = crate::templates::render(
        "confirm",
        &minijinja::context! {
            lang => lang.as_str(), subject, preheader => subject, link,
            site_name => site.name, site_url => site.public_url, logo_url => site.logo_url,
        },
    )?;
    Ok(NewMail::with_secret(
        format!("newsletter-confirm:{hash}"),
        subscriber.email.clone(),
        &subject,
        (parts.text, parts.html),
        token,
        at,
    ))
}

/// Subscribes an address to the daily digest (double opt-in: a confirmation mail goes out).
/// The answer is the same whatever the address's state, so no one can learn who subscribes.
#[utoipa::path(
    tag = "newsletter",
    request_body = SubscribeRequest,
    responses(
        (status = 202, description = "Taken in", body = Accepted),
        (status = 422, description = "Not an email address", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many requests", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/newsletter/subscriptions")]
pub async fn subscribe(
    request: HttpRequest,
    client: ClientIp,
    limits: web::Data<RateLimits>,
    db: web::Data<Db>,
    settings: web::Data<Settings>,
    outbox: web::Data<Outbox>,
    body: ValidJson<SubscribeRequest>,
) -> Result<HttpResponse, ApiError> {
    limits.check_client(&db, Limit::Auth, client).await?;
    let body = body.into_inner();
    let settings = settings.into_inner();
    let asked = Lang::asked_by(&request);
    let enqueued = db
        .tx(move |conn| request_subscription(conn, (&body.email, asked), None, &settings, now()))
        .await?;
    if enqueued {
        outbox.wake();
    }
    Ok(HttpResponse::Accepted().json(SUBSCRIBE_ACCEPTED))
}

async fn confirm_token(db: &Db, token: String) -> Result<(), ApiError> {
    let hash = token_hash(token.trim());
    let confirmed = db
        .tx(move |conn| {
            let confirmed = repo::confirm(conn, &hash, now())?;
            if let Some(subscriber) = &confirmed {
                repo::link_confirmed(conn, subscriber.id, subscriber.confirm_user_id)?;
            }
            Ok(confirmed)
        })
        .await?;
    match confirmed {
        Some(_) => Ok(()),
        None => Err(ApiError::invalid(
            "token",
            "is not a valid confirmation token: unknown, used or expired (subscribe again for a \
             new one)",
        )),
    }
}

/// The token of a POST: `?token=` (the button of our pages, one-click unsubscribe: any body),
/// or a JSON body `{"token": ...}`.
fn posted_token(query: TokenQuery, body: &[u8]) -> Result<String, ApiError> {
    let token =
        match query.token {
            Some(token) => token,
            None => serde_json::from_slice::<TokenRequest>(body)
                .map_err(|e| {
                    ApiError::BadRequest(format!(
                        "give the token as `?token=` or as a JSON body `{{\"token\": ...}}`: {e}"
                    ))
                })?
                .token,
        };
    Ok(token.trim().to_string())
}

/// Confirms a subscription with the token from the confirmation mail. Single use; 48 hours.
/// The button of the link's page posts `?token=` and gets a page back; programs post JSON.
#[utoipa::path(
    tag = "newsletter",
    params(TokenQuery),
    request_body(content = TokenRequest, description = "The token as JSON, unless it is in the query (the page's button: then any body)"),
    responses(
        (status = 200, description = "Confirmed (a page saying so when the request accepts `text/html`)", body = SubscriptionStatus),
        (status = 400, description = "No token in the query and no JSON body", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown, used or expired token", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/newsletter/confirm")]
pub async fn confirm(
    req: HttpRequest,
    db: web::Data<Db>,
    query: web::Query<TokenQuery>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let token = posted_token(query.into_inner(), &body)?;
    confirm_token(&db, token).await?;
    if wants_html(&req) {
        return Ok(page(
            &req,
            Page {
                title: "page-confirmed-title",
                text: "page-confirmed-text",
                button: None,
            },
        ));
    }
    Ok(HttpResponse::Ok().json(SubscriptionStatus {
        status: "confirmed",
    }))
}

/// The link in the confirmation mail, opened in a browser: a page with a button that POSTs.
/// A GET never confirms: mail scanners and link previews open links.
#[utoipa::path(
    tag = "newsletter",
    params(TokenQuery),
    responses(
        (status = 200, description = "A page with a Confirm button", content_type = "text/html", body = String),
    )
)]
#[get("/api/v1/newsletter/confirm")]
pub async fn confirm_link(req: HttpRequest, query: web::Query<TokenQuery>) -> HttpResponse {
    link_page(
        &req,
        "/api/v1/newsletter/confirm",
        query.into_inner(),
        ("page-confirm-title", "page-confirm-text"),
        "page-confirm-button",
    )
}

/// The page a mail's link opens: a title and a text, and a button labelled `label` that posts
/// the link's token to `path`.
fn link_page(
    req: &HttpRequest,
    path: &str,
    query: TokenQuery,
    (title, text): (&str, &str),
    label: &str,
) -> HttpResponse {
    let token = query.token.unwrap_or_default();
    let action = format!("{path}?token={}", url_encode(token.trim()));
    page(
        req,
        Page {
            title,
            text,
            button: Some((&action, label)),
        },
    )
}

/// Unsubscribes with the token of a newsletter mail: `{token}` as JSON, or `?token=` with the
/// RFC 8058 one-click body (`List-Unsubscribe=One-Click`, form-encoded), which mail clients
/// send. Idempotent.
#[utoipa::path(
    tag = "newsletter",
    params(TokenQuery),
    request_body(content = TokenRequest, description = "The token as JSON, unless it is in the query (one-click: then any body, usually `List-Unsubscribe=One-Click`)"),
    responses(
        (status = 200, description = "Unsubscribed (a page saying so when the request accepts `text/html`)", body = SubscriptionStatus),
        (status = 400, description = "No token in the query and no JSON body", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown token", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/newsletter/unsubscribe")]
pub async fn unsubscribe(
    req: HttpRequest,
    db: web::Data<Db>,
    query: web::Query<TokenQuery>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let token = posted_token(query.into_inner(), &body)?;
    let found = db
        .tx(move |conn| {
            let Some(subscriber) = repo::by_unsubscribe_token(conn, &token)? else {
                return Ok(false);
            };
            repo::unsubscribe(conn, subscriber.id, now())?;
            Ok(true)
        })
        .await?;
    if !found {
        return Err(ApiError::invalid(
            "token",
            "is not the unsubscribe token of any subscription",
        ));
    }
    if wants_html(&req) {
        return Ok(page(
            &req,
            Page {
                title: "page-unsubscribed-title",
                text: "page-unsubscribed-text",
                button: None,
            },
        ));
    }
    Ok(HttpResponse::Ok().json(SubscriptionStatus {
        status: "unsubscribed",
    }))
}

/// The unsubscribe link of a mail, opened in a browser: a page with a button that POSTs. A GET
/// never unsubscribes (link scanners and previews open links).
#[utoipa::path(
    tag = "newsletter",
    params(TokenQuery),
    responses(
        (status = 200, description = "A page with an Unsubscribe button", content_type = "text/html", body = String),
    )
)]
#[get("/api/v1/newsletter/unsubscribe")]
pub async fn unsubscribe_page(req: HttpRequest, query: web::Query<TokenQuery>) -> HttpResponse {
    link_page(
        &req,
        "/api/v1/newsletter/unsubscribe",
        query.into_inner(),
        ("page-unsubscribe-title", "page-unsubscribe-text"),
        "page-unsubscribe-button",
    )
}

/// The subscription as the account may see it: its own (confirmed through the mail's link), or
/// one it asked for and that waits for the link; of anyone else's it learns nothing.
fn my_status(subscriber: Option<Subscriber>, user_id: i64) -> MyNewsletter {
    let status = match subscriber {
        Some(s) if s.user_id == Some(user_id) => Some(s.status),
        Some(s) if s.pending_user_id == Some(user_id) => Some(SubscriberStatus::Pending),
        _ => None,
    };
    MyNewsletter {
        subscribed: status == Some(SubscriberStatus::Confirmed),
        status: status.map_or("none", SubscriberStatus::as_str).to_string(),
    }
}

/// The signed-in user's subscription: that of the account's email.
#[utoipa::path(
    tag = "newsletter",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The subscription", body = MyNewsletter),
    )
)]
#[get("/api/v1/me/newsletter")]
pub async fn my_newsletter(
    user: AuthUser,
    db: web::Data<Db>,
) -> Result<web::Json<MyNewsletter>, ApiError> {
    let subscriber = db
        .run(move |conn| {
            let account = accounts::user_by_id(conn, user.id)?;
            Ok(repo::by_email_key(conn, &key(&account.email))?)
        })
        .await?;
    Ok(web::Json(my_status(subscriber, user.id)))
}

/// Turns the digest on (through the same double opt-in: the confirmation goes to the
/// account's email) or off for the signed-in user.
#[utoipa::path(
    tag = "newsletter",
    security(("bearer" = [])),
    request_body = MyNewsletterUpdate,
    responses(
        (status = 200, description = "The subscription now (`pending` until confirmed)", body = MyNewsletter),
        (status = 403, description = "The account is banned", body = Problem, content_type = "application/problem+json"),
    )
)]
#[put("/api/v1/me/newsletter")]
pub async fn set_my_newsletter(
    request: HttpRequest,
    user: ActiveUser,
    db: web::Data<Db>,
    settings: web::Data<Settings>,
    outbox: web::Data<Outbox>,
    body: Json<MyNewsletterUpdate>,
) -> Result<web::Json<MyNewsletter>, ApiError> {
    let wanted = body.into_inner().subscribed;
    let settings = settings.into_inner();
    let asked = Lang::asked_by(&request);
    let (subscriber, enqueued) = db
        .tx(move |conn| {
            let account = accounts::user_by_id(conn, user.id)?;
            let at = now();
            let mut enqueued = false;
            let existing = repo::by_email_key(conn, &key(&account.email))?;
            let owned = existing
                .as_ref()
                .is_some_and(|s| s.user_id == Some(user.id));
            if wanted
                && !(owned
                    && existing
                        .as_ref()
                        .is_some_and(|s| s.status == SubscriberStatus::Confirmed))
            {
                // Whatever the address's state, the account sees `pending` until the link in
                // the mail is used: it must not learn whether someone else subscribes.
                // The account's own choice, else the request's.
                let asked = account.language.as_deref().and_then(Lang::parse).or(asked);
                enqueued = request_subscription(
                    conn,
                    (&account.email, asked),
                    Some(user.id),
                    &settings,
                    at,
                )?;
            }
            if !wanted && let Some(subscriber) = &existing {
                if owned {
                    repo::unsubscribe(conn, subscriber.id, at)?;
                } else if subscriber.pending_user_id == Some(user.id) {
                    // A request this account takes back: no longer pending for it, and the
                    // token mailed for it (if it was its own) no longer confirms.
                    repo::withdraw_request(conn, SubscriberId(subscriber.id), UserId(user.id))?;
                }
            }
            Ok((repo::by_email_key(conn, &key(&account.email))?, enqueued))
        })
        .await?;
    if enqueued {
        outbox.wake();
    }
    Ok(web::Json(my_status(subscriber, user.id)))
}
