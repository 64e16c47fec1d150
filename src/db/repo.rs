//! SQL of the `settings` table.

use diesel::prelude::*;

use super::DbConn;
use super::schema::settings;
use crate::per_backend;

/// The value stored under `key`, storing `candidate` first if there is none. Two processes
/// that race here both end up with the first value written.
pub fn setting_or_insert(conn: &mut DbConn, key: &str, candidate: &str) -> QueryResult<String> {
    per_backend!(conn, |c| {
        diesel::insert_into(settings::table)
            .values((settings::key.eq(key), settings::value.eq(candidate)))
            .on_conflict_do_nothing()
            .execute(c)
    })?;
    settings::table
        .find(key)
        .select(settings::value)
        .first(conn)
}
