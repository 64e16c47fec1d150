//! Statements kept prepared that diesel would prepare again at every execution.
//!
//! diesel keeps a prepared statement per connection only for queries it can prove have one
//! shape: never an `UPDATE` (its `SET` list could vary), an `INSERT` with an optional value
//! (SQLite writes `NULL` or the value's placeholder), a multi-row `INSERT` or raw SQL. Posting
//! a comment is such statements only, and on SQLite parsing them again took 12 % of the
//! server's time, most of it under the write lock that every writer waits for (on PostgreSQL
//! each one is parsed and planned again on the server).
//!
//! [`cached`] marks a query as safe to keep: diesel then keys it by its SQL text. Use it only
//! on statements whose text takes a bounded number of shapes (a fixed statement, or a
//! multi-row insert whose row count is bounded), never on an `IN` list of the caller's ids:
//! each shape is one statement kept open on every pooled connection.

use diesel::backend::Backend;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::{QueryResult, RunQueryDsl};

/// A query diesel keeps prepared, keyed by its SQL (see the module's documentation).
#[derive(Debug, Clone, Copy)]
pub struct Cached<Q>(Q);

/// Marks `query` as one to keep prepared: a statement of a bounded number of shapes.
pub fn cached<Q>(query: Q) -> Cached<Q> {
    Cached(query)
}

impl<Q: Query> Query for Cached<Q> {
    type SqlType = Q::SqlType;
}

/// No static id: the statement cache keys the query by its SQL text.
impl<Q> QueryId for Cached<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<DB: Backend, Q: QueryFragment<DB>> QueryFragment<DB> for Cached<Q> {
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.0.walk_ast(pass)
    }

    fn is_safe_to_cache_prepared(&self, _backend: &DB) -> QueryResult<bool> {
        Ok(true)
    }
}

impl<Q, Conn> RunQueryDsl<Conn> for Cached<Q> {}
