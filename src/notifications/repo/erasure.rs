//! What an erased account leaves in notifications.

use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{mutes, notification_settings, notifications, stream_tickets};

/// Deletes the account's inbox, settings, mutes (its own and others' of it) and stream
/// tickets; others' notifications of what it did stay, without it as their actor.
pub fn forget_user(conn: &mut DbConn, user_id: i64) -> QueryResult<()> {
    diesel::delete(notifications::table.filter(notifications::user_id.eq(user_id)))
        .execute(conn)?;
    diesel::update(notifications::table.filter(notifications::actor_id.eq(user_id)))
        .set(notifications::actor_id.eq(None::<i64>))
        .execute(conn)?;
    diesel::delete(notification_settings::table.find(user_id)).execute(conn)?;
    diesel::delete(mutes::table.filter(mutes::user_id.eq(user_id).or(mutes::muted_id.eq(user_id))))
        .execute(conn)?;
    diesel::delete(stream_tickets::table.filter(stream_tickets::user_id.eq(user_id)))
        .execute(conn)?;
    Ok(())
}
