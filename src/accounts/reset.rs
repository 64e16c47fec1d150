//! Password reset by mail: the request (the same answer for every address; mails paced per
//! address) and the confirmation (the token checked before any hashing).

use actix_web::{HttpResponse, post, web};
use chrono::Duration;

use super::domain::key;
use super::dto::*;
use super::repo::{self, User};
use crate::auth::password::{Hasher, check_strength};
use crate::auth::tokens::{random_token, token_hash};
use crate::config::Settings;
use crate::db::{Db, now};
use crate::error::{ApiError, Problem};
use crate::extract::ValidJson;
use crate::mail::{MailPace, NewMail, Outbox, SECRET, enqueue};
use crate::ratelimit::{ClientIp, Limit, RateLimits};

const RESET_TTL: Duration = Duration::hours(1);
/// Reset mails to one address: a minute after the first, then twice as long after each one,
/// however many requests come (see [`MailPace`]).
const RESET_MAIL_INTERVAL: Duration = Duration::minutes(1);

const RESET_ACCEPTED: Accepted = Accepted {
    status: "accepted",
    message: "If an account has this address, a link to reset its password is on its way.",
};

/// Mails a password-reset link to the address if an account has it. The answer is the same
/// whether or not one does.
#[utoipa::path(
    tag = "accounts",
    request_body = PasswordResetRequest,
    responses(
        (status = 202, description = "Taken in", body = Accepted),
        (status = 422, description = "Not an email address", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many requests", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/auth/password-reset")]
pub async fn password_reset(
    request: actix_web::HttpRequest,
    client: ClientIp,
    limits: web::Data<RateLimits>,
    db: web::Data<Db>,
    settings: web::Data<Settings>,
    outbox: web::Data<Outbox>,
    body: ValidJson<PasswordResetRequest>,
) -> Result<HttpResponse, ApiError> {
    limits.check_client(&db, Limit::Auth, client).await?;
    let body = body.into_inner();
    let email_key = key(&body.email);
    let site = crate::site::Site::from_settings(&settings);
    let lang = crate::i18n::Lang::of_request(&request, settings.default_language);
    let pace = MailPace {
        first_gap: RESET_MAIL_INTERVAL,
        per_day: settings.mails_per_address_per_day,
    };
    let enqueued = db
        .tx(move |conn| {
            let Some(user) = repo::user_by_email_key(conn, &email_key)? else {
                return Ok(false);
            };
            // The account's row locked: requests at once for one address count one by one.
            repo::lock_user(conn, user.id)?;
            let current = now();
            let (sent, last) = repo::resets_since(conn, user.id, current - Duration::days(1))?;
            if !pace.allows(sent, last, current) {
                return Ok(false);
            }
            let token = random_token();
            let hash = token_hash(&token);
            repo::create_password_reset(conn, user.id, &hash, current, RESET_TTL)?;
            // The account's own language, else the request's.
            let lang = user
                .language
                .as_deref()
                .and_then(crate::i18n::Lang::parse)
                .unwrap_or(lang);
            let mail = reset_mail(&user, (&site, lang), token, &hash, current)?;
            enqueue(conn, &mail)?;
            Ok(true)
        })
        .await?;
    if enqueued {
        outbox.wake();
    }
    Ok(HttpResponse::Accepted().json(RESET_ACCEPTED))
}

fn reset_mail(
    user: &User,
    (site, lang): (&crate::site::Site, crate::i18n::Lang),
    token: String,
    hash: &str,
    at: chrono::NaiveDateTime,
) -> Result<NewMail, ApiError> {
    // The token goes in at send time and is erased from the outbox once the mail is sent.
    let link = format!("{}/reset-password?token={SECRET}", site.public_url);
    let subject = crate::i18n::text(
        lang,
        "reset-subject",
        &[("site", crate::i18n::Arg::Text(site.name.clone()))],
    )
    .unwrap_or_default();
    let parts = crate::templates::render(
        "reset",
        &minijinja::context! {
            lang => lang.as_str(), subject, preheader => subject, link,
            name => user.display_name, username => user.username,
            site_name => site.name, site_url => site.public_url, logo_url => site.logo_url,
        },
    )?;
    Ok(NewMail::with_secret(
        format!("password-reset:{hash}"),
        user.email.clone(),
        &subject,
        (parts.text, parts.html),
        token,
        at,
    ))
}

/// Sets a new password with a reset token (single use, one hour). Ends every session.
#[utoipa::path(
    tag = "accounts",
    request_body = PasswordResetConfirm,
    responses(
        (status = 204, description = "Password changed; every session has ended"),
        (status = 422, description = "Invalid, used or expired token (checked first), or a weak password", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many requests from this address", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/auth/password-reset/confirm")]
pub async fn password_reset_confirm(
    client: ClientIp,
    limits: web::Data<RateLimits>,
    db: web::Data<Db>,
    hasher: web::Data<Hasher>,
    body: ValidJson<PasswordResetConfirm>,
) -> Result<HttpResponse, ApiError> {
    limits.check_client(&db, Limit::Auth, client).await?;
    let body = body.into_inner();
    let token_hash = token_hash(&body.token);
    // The token first: a made-up one must not cost a password hash (nor compete with logins
    // for the hashing permits). It is spent below, in the transaction that changes the hash.
    let probe = token_hash.clone();
    let live = db
        .run(move |conn| Ok(repo::password_reset_is_live(conn, &probe, now())?))
        .await?;
    if !live {
        return Err(invalid_reset_token());
    }
    check_strength(&body.new_password, &[])?;
    let hash = hasher.hash(body.new_password).await?;
    db.tx(move |conn| {
        let current = now();
        let Some(user_id) = repo::consume_password_reset(conn, &token_hash, current)? else {
            return Err(invalid_reset_token());
        };
        repo::set_password_hash(conn, user_id, &hash)?;
        repo::revoke_sessions_of_user(conn, user_id, None, current)?;
        Ok(())
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

fn invalid_reset_token() -> ApiError {
    ApiError::invalid("token", "is invalid, used or expired")
}
