//! A reader's data: the export of everything Tribune holds about them (GDPR articles 15 and
//! 20) and the erasure of their account (article 17), by themselves or an admin. What is kept
//! and for how long: `docs/privacy.md`.
//!
//! Erasure asks each feature to forget the reader through its public interface, in one
//! transaction, in the lock order (discussions, comments, then the account).

mod dto;
mod export;
mod handlers;
mod repo;

pub use dto::{AccountExport, EraseMe, EraseUser};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::db::DbConn;
use crate::error::ApiError;
use crate::ids::UserId;

pub fn routes(cfg: &mut ServiceConfig) {
    use handlers::*;
    cfg.service(export_me).service(erase_me).service(erase_user);
}

/// Who erases an account.
#[derive(Debug)]
pub enum ErasedBy {
    Themselves,
    Admin { id: i64, reason: Option<String> },
}

/// Erases account `user_id` in the caller's transaction; the events to publish after the
/// commit. `404` when there is no such live account, `409` for an admin's.
pub fn erase(
    conn: &mut DbConn,
    user_id: i64,
    keep_text: bool,
    by: ErasedBy,
) -> Result<Vec<String>, ApiError> {
    let account =
        repo::account(conn, user_id)?.ok_or_else(|| ApiError::NotFound("no such user".into()))?;
    if crate::auth::Role::parse(&account.role) == Some(crate::auth::Role::Admin) {
        return Err(ApiError::AlreadyDone(
            "an admin's account cannot be erased: another admin changes its role first".into(),
        ));
    }
    crate::moderation::forget_texts_of(conn, user_id)?;
    let mut events = crate::discussions::erase_author(conn, user_id, keep_text)?;
    events.extend(crate::comments::erase_author(conn, user_id, keep_text)?);
    crate::articles::disown_author(conn, user_id)?;
    crate::premoderation::forget_author(conn, user_id)?;
    crate::notifications::forget_reader(conn, user_id)?;
    let email = crate::accounts::erase(conn, user_id)?
        .ok_or_else(|| ApiError::NotFound("no such user".into()))?;
    crate::newsletter::forget_reader(conn, UserId(user_id), &email)?;
    let (actor, reason) = match by {
        ErasedBy::Themselves => (user_id, None),
        ErasedBy::Admin { id, reason } => (id, reason),
    };
    crate::moderation::audit_decision(conn, actor, "erase", ("user", user_id), reason.as_deref())?;
    Ok(events)
}
