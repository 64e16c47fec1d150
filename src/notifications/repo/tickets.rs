//! SQL of stream tickets.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::stream_tickets;

pub fn add_ticket(
    conn: &mut DbConn,
    hash: &str,
    user: i64,
    expires_at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::insert_into(stream_tickets::table)
        .values((
            stream_tickets::token_hash.eq(hash),
            stream_tickets::user_id.eq(user),
            stream_tickets::expires_at.eq(expires_at),
        ))
        .execute(conn)
}

/// Uses a ticket up: its account, if it was there and not expired (then it is gone; a
/// second use finds nothing, on any process).
pub fn take_ticket(conn: &mut DbConn, hash: &str, now: NaiveDateTime) -> QueryResult<Option<i64>> {
    let user: Option<i64> = stream_tickets::table
        .find(hash)
        .filter(stream_tickets::expires_at.gt(now))
        .select(stream_tickets::user_id)
        .first(conn)
        .optional()?;
    let Some(user) = user else { return Ok(None) };
    let taken = diesel::delete(
        stream_tickets::table
            .find(hash)
            .filter(stream_tickets::expires_at.gt(now)),
    )
    .execute(conn)?;
    Ok((taken == 1).then_some(user))
}

/// A reader's live tickets (each costs a row until used or expired).
pub fn ticket_count(conn: &mut DbConn, user: i64, now: NaiveDateTime) -> QueryResult<i64> {
    stream_tickets::table
        .filter(stream_tickets::user_id.eq(user))
        .filter(stream_tickets::expires_at.gt(now))
        .count()
        .get_result(conn)
}

pub fn purge_tickets(conn: &mut DbConn, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(stream_tickets::table.filter(stream_tickets::expires_at.le(now))).execute(conn)
}
