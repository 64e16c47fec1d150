//! The newsletter: double opt-in subscriptions (anonymous, or of a signed-in account's email),
//! confirmation and unsubscription links (RFC 8058 one-click).
//!
//! The daily digest ([`digest`]): enqueued at `TRIBUNE_DIGEST_HOUR` by `serve`'s scheduler or
//! by `tribune newsletter send-digest`, sent by the outbox worker (`TRIBUNE_MAIL_RATE`);
//! permanent failures count as bounces (`bouncing` after three in a row). Admins list
//! subscribers and digest days.

pub mod admin;
pub mod digest;
pub mod dto;
pub mod handlers;
pub mod repo;

use utoipa_actix_web::service_config::ServiceConfig;

pub fn routes(cfg: &mut ServiceConfig) {
    use handlers::*;
    cfg.service(subscribe)
        .service(confirm)
        .service(confirm_link)
        .service(unsubscribe)
        .service(unsubscribe_page)
        .service(my_newsletter)
        .service(set_my_newsletter)
        .service(admin::admin_subscribers)
        .service(admin::admin_digests);
}

/// Voids confirmation tokens that have expired (the retention task); how many.
pub fn purge_expired(conn: &mut crate::db::DbConn) -> Result<usize, crate::error::ApiError> {
    Ok(repo::void_expired_confirmations(conn, crate::db::now())?)
}

/// The newsletter's side of mail delivery: digests go only to confirmed subscribers, a
/// delivery clears a subscriber's bounces, a permanent refusal counts one.
pub struct Subscribers;

impl crate::mail::Recipients for Subscribers {
    fn still_wanted(
        &self,
        conn: &mut crate::db::DbConn,
        tag: i64,
    ) -> Result<bool, crate::error::ApiError> {
        Ok(repo::is_confirmed(conn, tag)?)
    }

    fn delivered(
        &self,
        conn: &mut crate::db::DbConn,
        tag: i64,
    ) -> Result<(), crate::error::ApiError> {
        repo::clear_bounces(conn, tag)?;
        Ok(())
    }

    fn refused(
        &self,
        conn: &mut crate::db::DbConn,
        tag: i64,
    ) -> Result<(), crate::error::ApiError> {
        repo::record_bounce(conn, tag)?;
        Ok(())
    }
}
