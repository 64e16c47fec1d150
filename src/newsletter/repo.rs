//! SQL of the newsletter: subscribers and their confirmations.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::newsletter_subscribers as subscribers;
use crate::per_backend;

pub const PENDING: &str = "pending";
pub const CONFIRMED: &str = "confirmed";
pub const UNSUBSCRIBED: &str = "unsubscribed";

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = subscribers)]
pub struct Subscriber {
    pub id: i64,
    pub email: String,
    pub status: String,
    pub user_id: Option<i64>,
    pub confirm_sent_at: Option<NaiveDateTime>,
    pub unsubscribe_token: String,
}

pub fn by_email_key(conn: &mut DbConn, email_key: &str) -> QueryResult<Option<Subscriber>> {
    subscribers::table
        .filter(subscribers::email_key.eq(email_key))
        .select(Subscriber::as_select())
        .first(conn)
        .optional()
}

pub fn by_unsubscribe_token(conn: &mut DbConn, token: &str) -> QueryResult<Option<Subscriber>> {
    subscribers::table
        .filter(subscribers::unsubscribe_token.eq(token))
        .select(Subscriber::as_select())
        .first(conn)
        .optional()
}

/// A new pending subscriber; `false` when the address is already there (a concurrent request
/// made it first).
pub fn insert_pending(
    conn: &mut DbConn,
    email: &str,
    email_key: &str,
    user_id: Option<i64>,
    unsubscribe_token: &str,
    at: NaiveDateTime,
) -> QueryResult<bool> {
    let row = (
        subscribers::email.eq(email),
        subscribers::email_key.eq(email_key),
        subscribers::status.eq(PENDING),
        subscribers::user_id.eq(user_id),
        subscribers::unsubscribe_token.eq(unsubscribe_token),
        subscribers::created_at.eq(at),
    );
    let inserted = per_backend!(conn, |c| diesel::insert_into(subscribers::table)
        .values(row)
        .on_conflict(subscribers::email_key)
        .do_nothing()
        .execute(c))?;
    Ok(inserted == 1)
}

/// Makes the subscriber pending with a new confirmation, unless one was sent less than
/// `interval` ago (so that repeated requests send one mail). Returns whether it did: the one
/// request that wins sends the mail, however many come at once.
pub fn renew_confirmation(
    conn: &mut DbConn,
    id: i64,
    token_hash: &str,
    at: NaiveDateTime,
    ttl: Duration,
    interval: Duration,
) -> QueryResult<bool> {
    let due = subscribers::confirm_sent_at
        .is_null()
        .or(subscribers::confirm_sent_at.lt(at - interval));
    let updated = diesel::update(
        subscribers::table
            .find(id)
            .filter(subscribers::status.ne(CONFIRMED))
            .filter(due),
    )
    .set((
        subscribers::status.eq(PENDING),
        subscribers::confirm_token_hash.eq(token_hash),
        subscribers::confirm_expires_at.eq(at + ttl),
        subscribers::confirm_sent_at.eq(at),
    ))
    .execute(conn)?;
    Ok(updated == 1)
}

/// Confirms the pending subscription whose token hashes to `token_hash`, if it has not expired;
/// the token is spent. Returns the subscriber, or `None` for an unknown, used or expired token.
pub fn confirm(
    conn: &mut DbConn,
    token_hash: &str,
    at: NaiveDateTime,
) -> QueryResult<Option<Subscriber>> {
    let target = subscribers::table
        .filter(subscribers::confirm_token_hash.eq(token_hash))
        .filter(subscribers::status.eq(PENDING))
        .filter(subscribers::confirm_expires_at.gt(at));
    per_backend!(conn, |c| diesel::update(target)
        .set((
            subscribers::status.eq(CONFIRMED),
            subscribers::confirm_token_hash.eq(None::<String>),
            subscribers::confirm_expires_at.eq(None::<NaiveDateTime>),
            subscribers::confirmed_at.eq(Some(at)),
        ))
        .returning(Subscriber::as_returning())
        .get_result(c)
        .optional())
}

/// Unsubscribes (idempotent: an unsubscribed address stays as it is). A pending confirmation
/// is voided.
pub fn unsubscribe(conn: &mut DbConn, id: i64, at: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        subscribers::table
            .find(id)
            .filter(subscribers::status.ne(UNSUBSCRIBED)),
    )
    .set((
        subscribers::status.eq(UNSUBSCRIBED),
        subscribers::confirm_token_hash.eq(None::<String>),
        subscribers::confirm_expires_at.eq(None::<NaiveDateTime>),
        subscribers::unsubscribed_at.eq(Some(at)),
    ))
    .execute(conn)
}

/// Links the address to an account (a signed-in subscription).
pub fn link_user(conn: &mut DbConn, id: i64, user_id: i64) -> QueryResult<usize> {
    diesel::update(subscribers::table.find(id))
        .set(subscribers::user_id.eq(Some(user_id)))
        .execute(conn)
}
