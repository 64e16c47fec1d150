//! The newsletter: double opt-in subscriptions (anonymous, or of a signed-in account's email),
//! confirmation and unsubscription links (RFC 8058 one-click).
//!
//! Not built yet (issue 6, part two): the daily digest (`TRIBUNE_DIGEST_HOUR`,
//! `tribune newsletter send-digest`), the sending rate, bounces, and the admin lists.

pub mod dto;
pub mod handlers;
pub mod repo;

use utoipa_actix_web::service_config::ServiceConfig;

pub fn routes(cfg: &mut ServiceConfig) {
    use handlers::*;
    cfg.service(subscribe)
        .service(confirm)
        .service(confirm_link)
        .service(unsubscribe)
        .service(unsubscribe_page)
        .service(my_newsletter)
        .service(set_my_newsletter);
}
