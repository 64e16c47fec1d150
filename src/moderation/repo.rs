//! SQL of moderation: the audit log, and the discussion flags moderators set.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{audit_log, discussions, users};

/// Appends an entry to the audit log, in the caller's transaction (the action and its record
/// commit together).
pub fn record(
    conn: &mut DbConn,
    actor_id: i64,
    action: &str,
    target_type: &str,
    target_id: i64,
    reason: Option<&str>,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::actor_id.eq(Some(actor_id)),
            audit_log::action.eq(action),
            audit_log::target_type.eq(target_type),
            audit_log::target_id.eq(target_id),
            audit_log::reason.eq(reason),
            audit_log::created_at.eq(at),
        ))
        .execute(conn)
}

#[derive(Debug, Clone, Queryable)]
pub struct Entry {
    pub id: i64,
    pub actor_id: Option<i64>,
    pub actor_username: Option<String>,
    pub action: String,
    pub target_type: String,
    pub target_id: i64,
    pub reason: Option<String>,
    pub created_at: NaiveDateTime,
}

/// What to list of the audit log.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub actor_id: Option<i64>,
    pub action: Option<String>,
    pub target_type: Option<String>,
    pub target_id: Option<i64>,
}

/// Audit entries newest first, before id `before`, as the filter says.
pub fn entries(
    conn: &mut DbConn,
    filter: &Filter,
    before: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<Entry>> {
    let mut query = audit_log::table
        .left_join(users::table.on(audit_log::actor_id.eq(users::id.nullable())))
        .select((
            audit_log::id,
            audit_log::actor_id,
            users::username.nullable(),
            audit_log::action,
            audit_log::target_type,
            audit_log::target_id,
            audit_log::reason,
            audit_log::created_at,
        ))
        .order(audit_log::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(actor) = filter.actor_id {
        query = query.filter(audit_log::actor_id.eq(actor));
    }
    if let Some(action) = &filter.action {
        query = query.filter(audit_log::action.eq(action.clone()));
    }
    if let Some(target_type) = &filter.target_type {
        query = query.filter(audit_log::target_type.eq(target_type.clone()));
    }
    if let Some(target_id) = filter.target_id {
        query = query.filter(audit_log::target_id.eq(target_id));
    }
    if let Some(before) = before {
        query = query.filter(audit_log::id.lt(before));
    }
    query.load(conn)
}

/// Sets a discussion's `locked` or `pinned` flag.
pub fn set_flag(conn: &mut DbConn, id: i64, flag: Flag, value: bool) -> QueryResult<usize> {
    let target = discussions::table.find(id);
    match flag {
        Flag::Locked => diesel::update(target)
            .set(discussions::locked.eq(value))
            .execute(conn),
        Flag::Pinned => diesel::update(target)
            .set(discussions::pinned.eq(value))
            .execute(conn),
    }
}

#[derive(Debug, Clone, Copy)]
pub enum Flag {
    Locked,
    Pinned,
}
