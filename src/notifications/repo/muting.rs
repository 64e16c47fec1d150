//! SQL of mutes.

use chrono::NaiveDateTime;
use diesel::dsl::exists;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{mutes, users};
use crate::discussions::AuthorRow;
use crate::per_backend;

pub fn mute(conn: &mut DbConn, user: i64, muted: i64, at: NaiveDateTime) -> QueryResult<usize> {
    let row = (
        mutes::user_id.eq(user),
        mutes::muted_id.eq(muted),
        mutes::created_at.eq(at),
    );
    per_backend!(conn, |c| diesel::insert_into(mutes::table)
        .values(row)
        .on_conflict_do_nothing()
        .execute(c))
}

pub fn unmute(conn: &mut DbConn, user: i64, muted: i64) -> QueryResult<usize> {
    diesel::delete(mutes::table.find((user, muted))).execute(conn)
}

pub fn mute_count(conn: &mut DbConn, user: i64) -> QueryResult<i64> {
    mutes::table
        .filter(mutes::user_id.eq(user))
        .count()
        .get_result(conn)
}

pub fn muted_ids(conn: &mut DbConn, user: i64) -> QueryResult<Vec<i64>> {
    mutes::table
        .filter(mutes::user_id.eq(user))
        .select(mutes::muted_id)
        .order(mutes::muted_id.asc())
        .load(conn)
}

/// A page of the accounts a reader muted, by account id after `after`.
pub fn mutes_page(
    conn: &mut DbConn,
    user: i64,
    after: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<(AuthorRow, NaiveDateTime)>> {
    let mut query = mutes::table
        .inner_join(users::table.on(users::id.eq(mutes::muted_id)))
        .filter(mutes::user_id.eq(user))
        .select((
            (users::id, users::username, users::display_name),
            mutes::created_at,
        ))
        .order(mutes::muted_id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(mutes::muted_id.gt(after));
    }
    let rows: Vec<((i64, String, String), NaiveDateTime)> = query.load(conn)?;
    Ok(rows
        .into_iter()
        .map(|((id, username, display_name), at)| {
            (
                AuthorRow {
                    id,
                    username,
                    display_name,
                },
                at,
            )
        })
        .collect())
}

pub fn user_exists(conn: &mut DbConn, id: i64) -> QueryResult<bool> {
    diesel::select(exists(users::table.find(id))).get_result(conn)
}
