//! Accounts and sessions: registration, login, refresh tokens, password reset, `/me`, profiles.

pub mod domain;
pub mod dto;
pub mod handlers;
pub mod repo;
mod reset;

use utoipa_actix_web::service_config::ServiceConfig;

// What other features use of accounts.
pub use handlers::{NewAccount, create_account};
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
