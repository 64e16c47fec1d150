//! SQL of erasure: an account's personal data removed, its row kept (see `privacy`).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::auth::Role;
use crate::db::DbConn;
use crate::db::schema::{password_resets, refresh_tokens, sessions, users};

/// Erases the account's personal data, in the caller's transaction: its sessions (with their
/// refresh tokens) and reset tokens are gone; the row stays, for the ids that point at it
/// (audit log, reports), with no email, name or password and the role `user`. Its
/// `username_key` stays taken until [`release_usernames`]. Returns the email it had, or
/// `None` when there is no such live account.
pub fn erase_user(conn: &mut DbConn, id: i64, at: NaiveDateTime) -> QueryResult<Option<String>> {
    let email: Option<String> = crate::locked!(
        conn,
        users::table
            .find(id)
            .filter(users::erased_at.is_null())
            .select(users::email),
        |q, c| q.first(c).optional()
    )?;
    let Some(email) = email else {
        return Ok(None);
    };
    let own_sessions = sessions::table
        .filter(sessions::user_id.eq(id))
        .select(sessions::id);
    diesel::delete(refresh_tokens::table.filter(refresh_tokens::session_id.eq_any(own_sessions)))
        .execute(conn)?;
    diesel::delete(sessions::table.filter(sessions::user_id.eq(id))).execute(conn)?;
    diesel::delete(password_resets::table.filter(password_resets::user_id.eq(id))).execute(conn)?;
    diesel::update(users::table.find(id))
        .set((
            users::username.eq(format!("deleted-{id}")),
            users::email.eq(""),
            users::email_key.eq(format!("erased:{id}")),
            users::display_name.eq(""),
            users::password_hash.eq(""),
            users::role.eq(Role::User.as_str()),
            users::banned_at.eq(None::<NaiveDateTime>),
            users::banned_until.eq(None::<NaiveDateTime>),
            users::ban_reason.eq(None::<String>),
            users::comments_count.eq(0),
            users::erased_at.eq(Some(at)),
        ))
        .execute(conn)?;
    Ok(Some(email))
}

/// Frees the usernames of accounts erased before `before` for others to take.
pub fn release_usernames(conn: &mut DbConn, before: NaiveDateTime) -> QueryResult<usize> {
    let held: Vec<i64> = users::table
        .filter(users::erased_at.lt(before))
        .filter(users::username_key.not_like("erased:%"))
        .select(users::id)
        .load(conn)?;
    for id in &held {
        diesel::update(users::table.find(id))
            .set(users::username_key.eq(format!("erased:{id}")))
            .execute(conn)?;
    }
    Ok(held.len())
}
