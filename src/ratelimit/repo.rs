//! SQL of the shared rate counters.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use crate::db::DbConn;
use crate::db::schema::rate_counters;

/// A counter after a hit: its current window and the hits in it and in the one before.
#[derive(Debug, Clone, Copy, QueryableByName)]
pub struct Counted {
    #[diesel(sql_type = BigInt)]
    pub window_start: i64,
    #[diesel(sql_type = BigInt)]
    pub hits: i64,
    #[diesel(sql_type = BigInt)]
    pub prev_hits: i64,
}

/// One upsert: adds `cost` to the key's counter in the window starting at `window_start`
/// (rolling the counter over when a new window has begun), and returns it. Both backends
/// evaluate the right-hand sides against the row as it was, so the CASEs see the old window.
/// A window never goes back: a hit whose clock was read before another's (a request that
/// waited for a connection) counts in the newer window instead of resetting the counter.
const HIT: &str = "INSERT INTO rate_counters (key, window_start, hits, prev_hits, last_at, expires_at) \
     VALUES (#1, #2, #3, 0, #4, #5) \
     ON CONFLICT (key) DO UPDATE SET \
       prev_hits = CASE WHEN rate_counters.window_start >= excluded.window_start \
                        THEN rate_counters.prev_hits \
                        WHEN rate_counters.window_start = excluded.window_start - #6 \
                        THEN rate_counters.hits ELSE 0 END, \
       hits = CASE WHEN rate_counters.window_start >= excluded.window_start \
                   THEN rate_counters.hits + excluded.hits ELSE excluded.hits END, \
       window_start = CASE WHEN rate_counters.window_start > excluded.window_start \
                           THEN rate_counters.window_start ELSE excluded.window_start END, \
       last_at = excluded.last_at, \
       expires_at = CASE WHEN rate_counters.expires_at > excluded.expires_at \
                         THEN rate_counters.expires_at ELSE excluded.expires_at END \
     RETURNING window_start, hits, prev_hits";

fn placeholders(sql: &str, pg: bool) -> String {
    (1..=6).fold(sql.to_string(), |sql, i| {
        sql.replace(
            &format!("#{i}"),
            &if pg { format!("${i}") } else { "?".into() },
        )
    })
}

static HIT_PG: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| placeholders(HIT, true));
static HIT_SQLITE: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| placeholders(HIT, false));

/// Counts `cost` hits of `key` at `now` (Unix seconds) in windows of `window` seconds.
pub fn hit(conn: &mut DbConn, key: &str, now: i64, window: i64, cost: i64) -> QueryResult<Counted> {
    let window_start = now - now.rem_euclid(window);
    let expires_at = window_start + 2 * window;
    macro_rules! run {
        ($c:expr, $sql:expr) => {
            diesel::sql_query($sql.as_str())
                .bind::<Text, _>(key)
                .bind::<BigInt, _>(window_start)
                .bind::<BigInt, _>(cost)
                .bind::<BigInt, _>(now)
                .bind::<BigInt, _>(expires_at)
                .bind::<BigInt, _>(window)
                .get_result($c)
        };
    }
    match conn {
        DbConn::Pg(pg) => run!(pg, HIT_PG),
        DbConn::Sqlite(sqlite) => run!(sqlite, HIT_SQLITE),
    }
}

/// Takes back `cost` hits counted in the window starting at `window_start` (a login that
/// turned out right): from the current window, or from the previous one if the counter has
/// rolled over since.
pub fn refund(
    conn: &mut DbConn,
    key: &str,
    window_start: i64,
    window: i64,
    cost: i64,
) -> QueryResult<usize> {
    let current = diesel::update(
        rate_counters::table
            .filter(rate_counters::key.eq(key))
            .filter(rate_counters::window_start.eq(window_start))
            .filter(rate_counters::hits.ge(cost)),
    )
    .set(rate_counters::hits.eq(rate_counters::hits - cost))
    .execute(conn)?;
    if current > 0 {
        return Ok(current);
    }
    diesel::update(
        rate_counters::table
            .filter(rate_counters::key.eq(key))
            .filter(rate_counters::window_start.eq(window_start + window))
            .filter(rate_counters::prev_hits.ge(cost)),
    )
    .set(rate_counters::prev_hits.eq(rate_counters::prev_hits - cost))
    .execute(conn)
}

/// Removes the counters whose windows are all over.
pub fn purge(conn: &mut DbConn, now: i64) -> QueryResult<usize> {
    diesel::delete(rate_counters::table.filter(rate_counters::expires_at.le(now))).execute(conn)
}
