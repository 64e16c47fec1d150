//! Moderation and administration: locks, pins, topic deletion, hiding comments, and the
//! append-only audit log. Roles are checked against the database (`ActiveUser`).
//!
//! Accounts ([`users`]): search, bans (acting at once, ending by themselves), roles.
//!
//! The report queue ([`reports`]): grouped by comment, oldest first; resolving closes every
//! report of the comment.
//! Moderators (checked in the database) see hidden comments' text in thread pages too.

mod discussions;
pub mod handlers;
pub mod repo;
pub mod reports;
pub mod users;

use utoipa_actix_web::service_config::ServiceConfig;

pub use handlers::Reason;
pub(crate) use handlers::reason_of;
pub use reports::QueueStatus;

pub fn routes(cfg: &mut ServiceConfig) {
    use handlers::*;
    cfg.service(discussions::list_discussions)
        .service(lock_discussion)
        .service(unlock_discussion)
        .service(pin_discussion)
        .service(unpin_discussion)
        .service(premoderate_discussion)
        .service(unpremoderate_discussion)
        .service(delete_topic)
        .service(hide_comment)
        .service(restore_comment)
        .service(audit_log)
        .service(users::search_users)
        .service(users::user_profile)
        .service(users::ban_user)
        .service(users::unban_user)
        .service(users::set_role)
        .service(reports::report_queue)
        .service(reports::resolve_report);
}

/// A staff action on someone else's content, for the audit log.
pub struct StaffAction<'a> {
    pub actor_id: i64,
    /// e.g. `edit`, `delete`, `create`, `update`.
    pub action: &'a str,
    /// `comment`, `discussion`, `article`.
    pub target_type: &'a str,
    pub target_id: i64,
    /// The text the action replaced, if any.
    pub previous: Option<&'a str>,
}

/// Records `action` in the audit log, in the caller's transaction (the action and its record
/// commit together).
pub fn audit(
    conn: &mut crate::db::DbConn,
    action: &StaffAction,
) -> Result<(), crate::error::ApiError> {
    repo::record_with_previous(
        conn,
        action.actor_id,
        (action.action, action.target_type, action.target_id),
        None,
        action.previous,
        crate::db::now(),
    )?;
    Ok(())
}

/// Erasure (see `privacy`), before the account's comments lose their author: the audit log
/// forgets the texts it kept of them, keeping the actions.
pub fn forget_texts_of(
    conn: &mut crate::db::DbConn,
    user_id: i64,
) -> Result<(), crate::error::ApiError> {
    repo::forget_texts_of(conn, user_id)?;
    Ok(())
}

/// Records a moderator's decision (`action` on `(target_type, target_id)`) with its reason, in
/// the caller's transaction.
pub fn audit_decision(
    conn: &mut crate::db::DbConn,
    actor_id: i64,
    action: &str,
    (target_type, target_id): (&str, i64),
    reason: Option<&str>,
) -> Result<(), crate::error::ApiError> {
    repo::record(
        conn,
        crate::ids::UserId(actor_id),
        action,
        target_type,
        target_id,
        reason,
        crate::db::now(),
    )?;
    Ok(())
}
