//! SQL of imports: what each record of an export became (`import_keys`).

use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::import_keys as keys;
use crate::per_backend;

/// The kinds of record remembered.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    Thread,
    Post,
    Author,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Thread => "thread",
            Kind::Post => "post",
            Kind::Author => "author",
        }
    }
}

/// What a record became: `(local_id, data)`; `None` when it was never seen.
pub fn get(
    conn: &mut DbConn,
    source: &str,
    kind: Kind,
    external_id: &str,
) -> QueryResult<Option<(Option<i64>, Option<String>)>> {
    keys::table
        .find((source, kind.as_str(), external_id))
        .select((keys::local_id, keys::data))
        .first(conn)
        .optional()
}

/// Records (or replaces) what a record became.
pub fn put(
    conn: &mut DbConn,
    source: &str,
    kind: Kind,
    external_id: &str,
    (local_id, data): (Option<i64>, Option<&str>),
) -> QueryResult<usize> {
    let row = (
        keys::source.eq(source),
        keys::kind.eq(kind.as_str()),
        keys::external_id.eq(external_id),
        keys::local_id.eq(local_id),
        keys::data.eq(data),
    );
    let changes = (keys::local_id.eq(local_id), keys::data.eq(data));
    per_backend!(conn, |c| diesel::insert_into(keys::table)
        .values(row)
        .on_conflict((keys::source, keys::kind, keys::external_id))
        .do_update()
        .set(changes)
        .execute(c))
}

/// Posts waiting for their parent or thread, after `after` in id order: `(id, post as JSON)`.
pub fn waiting(
    conn: &mut DbConn,
    source: &str,
    after: &str,
    limit: i64,
) -> QueryResult<Vec<(String, String)>> {
    let rows: Vec<(String, Option<String>)> = keys::table
        .filter(keys::source.eq(source))
        .filter(keys::kind.eq(Kind::Post.as_str()))
        .filter(keys::local_id.is_null())
        .filter(keys::data.is_not_null())
        .filter(keys::external_id.gt(after))
        .order(keys::external_id)
        .limit(limit)
        .select((keys::external_id, keys::data))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, data)| Some((id, data?)))
        .collect())
}
