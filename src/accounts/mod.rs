//! Accounts and sessions: registration, login, refresh tokens, password reset, `/me`, profiles.

pub mod domain;
pub mod dto;
pub mod handlers;
mod import;
pub mod repo;
mod reset;

use utoipa_actix_web::service_config::ServiceConfig;

// What other features use of accounts.
pub use handlers::{NewAccount, create_account, live_session};
pub use import::{ImportedAuthor, import_author};
pub use repo::{AccountState, User, account_state, revoke_sessions_of_user, user_by_id};

pub fn routes(cfg: &mut ServiceConfig) {
    use handlers::*;
    cfg.service(register)
        .service(login)
        .service(refresh)
        .service(logout)
        .service(reset::password_reset)
        .service(reset::password_reset_confirm)
        .service(me)
        .service(update_me)
        .service(change_password)
        .service(sessions)
        .service(end_session)
        .service(profile);
}

/// Removes sessions that ended (or expired) more than `days` ago, with their refresh tokens,
/// and refresh and reset tokens used or expired that long ago: `(sessions, tokens)` removed.
pub fn purge_expired(
    conn: &mut crate::db::DbConn,
    days: u32,
) -> Result<(usize, usize), crate::error::ApiError> {
    let before = crate::db::now() - chrono::Duration::days(days.into());
    Ok(repo::purge_expired(conn, before)?)
}

/// Frees the usernames of accounts erased more than `days` ago; how many.
pub fn release_usernames(
    conn: &mut crate::db::DbConn,
    days: u32,
) -> Result<usize, crate::error::ApiError> {
    let before = crate::db::now() - chrono::Duration::days(days.into());
    Ok(repo::release_usernames(conn, before)?)
}

/// Erases an account's personal data, in the caller's transaction, after every feature took
/// it off their rows (the account's row is locked last, in the lock order): see
/// [`repo::erase_user`]. Returns the email it had, or `None` if there is no such live account.
pub fn erase(
    conn: &mut crate::db::DbConn,
    user_id: i64,
) -> Result<Option<String>, crate::error::ApiError> {
    Ok(repo::erase_user(conn, user_id, crate::db::now())?)
}
