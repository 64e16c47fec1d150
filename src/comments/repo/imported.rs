//! SQL of imported comments: their places in the tree, ids reserved a batch at a time, rows
//! written a few hundred a statement.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::super::domain::CommentStatus;
use crate::db::DbConn;
use crate::db::schema::comments;
use crate::per_backend;

/// Where a comment stands in its thread's tree.
#[derive(Debug, Clone, Queryable)]
pub struct Place {
    pub id: i64,
    pub parent_id: Option<i64>,
    pub depth: i32,
    pub path: String,
}

/// The places of these comments (those that are here), in one read.
pub fn places(conn: &mut DbConn, ids: &[i64]) -> QueryResult<Vec<Place>> {
    let mut found = Vec::new();
    for chunk in ids.chunks(1000) {
        found.extend(
            comments::table
                .filter(comments::id.eq_any(chunk))
                .select((
                    comments::id,
                    comments::parent_id,
                    comments::depth,
                    comments::path,
                ))
                .load::<Place>(conn)?,
        );
    }
    Ok(found)
}

/// `n` new comment ids, in one statement: from the sequence on PostgreSQL; on SQLite, past both
/// the largest id and the largest ever given (`AUTOINCREMENT`'s record), which holds because
/// SQLite's writers are serialized and the caller is in a write transaction.
pub fn reserve_ids(conn: &mut DbConn, n: usize) -> QueryResult<Vec<i64>> {
    use diesel::sql_types::BigInt;
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = BigInt)]
        id: i64,
    }
    if n == 0 {
        return Ok(Vec::new());
    }
    match conn {
        DbConn::Pg(c) => Ok(diesel::sql_query(
            "SELECT nextval(pg_get_serial_sequence('comments', 'id')) AS id \
             FROM generate_series(1, $1)",
        )
        .bind::<BigInt, _>(n as i64)
        .load::<Id>(c)?
        .into_iter()
        .map(|row| row.id)
        .collect()),
        DbConn::Sqlite(c) => {
            let last = diesel::sql_query(
                "SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'comments'), 0), \
                 COALESCE((SELECT MAX(id) FROM comments), 0)) AS id",
            )
            .get_result::<Id>(c)?
            .id;
            Ok((last + 1..=last + n as i64).collect())
        }
    }
}

/// An imported comment's row, its id and path given.
pub struct ImportRow<'a> {
    pub place: Place,
    pub discussion_id: i64,
    pub author_id: Option<i64>,
    pub body: Option<&'a str>,
    pub body_html: Option<&'a str>,
    pub status: CommentStatus,
    pub created_at: NaiveDateTime,
}

/// Inserts imported comments, a few hundred rows a statement.
pub fn insert_imported(conn: &mut DbConn, rows: &[ImportRow]) -> QueryResult<usize> {
    let mut inserted = 0;
    for chunk in rows.chunks(500) {
        let values: Vec<_> = chunk
            .iter()
            .map(|row| {
                (
                    comments::id.eq(row.place.id),
                    comments::discussion_id.eq(row.discussion_id),
                    comments::parent_id.eq(row.place.parent_id),
                    comments::depth.eq(row.place.depth),
                    comments::path.eq(&row.place.path),
                    comments::author_id.eq(row.author_id),
                    comments::body.eq(row.body),
                    comments::body_html.eq(row.body_html),
                    comments::status.eq(row.status.as_str()),
                    comments::created_at.eq(row.created_at),
                )
            })
            .collect();
        inserted += per_backend!(conn, |c| diesel::insert_into(comments::table)
            .values(&values)
            .execute(c))?;
    }
    Ok(inserted)
}
