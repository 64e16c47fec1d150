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

/// Erasure of a reader (see `privacy`): their subscriptions (by account, or by `email`) are
/// deleted with every mail to them, in the caller's transaction.
pub fn forget_reader(
    conn: &mut crate::db::DbConn,
    user_id: crate::ids::UserId,
    email: &str,
) -> Result<(), crate::error::ApiError> {
    let gone = repo::forget(conn, user_id, &crate::accounts::domain::key(email))?;
    let (ids, mut addresses): (Vec<i64>, Vec<String>) = gone.into_iter().unzip();
    addresses.push(email.to_owned());
    crate::mail::forget(conn, &addresses, &ids)?;
    Ok(())
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
