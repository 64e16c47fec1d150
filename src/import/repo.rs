//! SQL of imports: what each record of an export became (`import_keys`).

use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::import_keys as keys;
use crate::per_backend;

/// The kinds of record remembered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
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

/// `(external_id, local_id, data)`: what a record became.
pub type KeyRow = (String, Option<i64>, Option<String>);

/// What these records of one kind became, in one read a thousand: `external_id -> (local_id,
/// data)` for those seen before.
pub fn get_many(
    conn: &mut DbConn,
    source: &str,
    kind: Kind,
    external_ids: &[&str],
) -> QueryResult<Vec<KeyRow>> {
    let mut found = Vec::new();
    for chunk in external_ids.chunks(1000) {
        found.extend(
            keys::table
                .filter(keys::source.eq(source))
                .filter(keys::kind.eq(kind.as_str()))
                .filter(keys::external_id.eq_any(chunk))
                .select((keys::external_id, keys::local_id, keys::data))
                .load::<KeyRow>(conn)?,
        );
    }
    Ok(found)
}

/// Records (or replaces) what records became: a statement a few hundred rows on PostgreSQL
/// (diesel has no multi-row insert with a conflict clause for SQLite: a statement a row there,
/// in process).
pub fn put_many(
    conn: &mut DbConn,
    source: &str,
    rows: &[(Kind, &str, Option<i64>, Option<&str>)],
) -> QueryResult<()> {
    use diesel::upsert::excluded;
    match conn {
        DbConn::Pg(c) => {
            for chunk in rows.chunks(500) {
                let values: Vec<_> = chunk
                    .iter()
                    .map(|&(kind, id, local_id, data)| {
                        (
                            keys::source.eq(source),
                            keys::kind.eq(kind.as_str()),
                            keys::external_id.eq(id),
                            keys::local_id.eq(local_id),
                            keys::data.eq(data),
                        )
                    })
                    .collect();
                diesel::insert_into(keys::table)
                    .values(&values)
                    .on_conflict((keys::source, keys::kind, keys::external_id))
                    .do_update()
                    .set((
                        keys::local_id.eq(excluded(keys::local_id)),
                        keys::data.eq(excluded(keys::data)),
                    ))
                    .execute(c)?;
            }
        }
        DbConn::Sqlite(_) => {
            for &(kind, id, local_id, data) in rows {
                put(conn, source, kind, id, (local_id, data))?;
            }
        }
    }
    Ok(())
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

/// Refreshes PostgreSQL's statistics of `import_keys`. An import grows the table from nothing
/// faster than autovacuum looks at it; with the statistics of an empty table, the planner reads
/// a batch's keys by `(source, kind)` alone and filters every row of that kind (seconds a batch
/// at a hundred thousand posts) instead of looking each key up. SQLite's planner takes the key.
pub fn analyze(conn: &mut DbConn) -> QueryResult<()> {
    if let DbConn::Pg(c) = conn {
        diesel::sql_query("ANALYZE import_keys").execute(c)?;
    }
    Ok(())
}
