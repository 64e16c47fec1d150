//! Accounts and sessions: registration, login, refresh tokens, password reset, `/me`, profiles.

pub mod domain;
pub mod dto;
pub mod handlers;
pub mod repo;

use utoipa_actix_web::service_config::ServiceConfig;

pub fn routes(cfg: &mut ServiceConfig) {
    use handlers::*;
    cfg.service(register)
        .service(login)
        .service(refresh)
        .service(logout)
        .service(password_reset)
        .service(password_reset_confirm)
        .service(me)
        .service(update_me)
        .service(change_password)
        .service(sessions)
        .service(end_session)
        .service(profile);
}
