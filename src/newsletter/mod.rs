//! The newsletter: double opt-in subscriptions (anonymous, or of a signed-in account's email),
//! confirmation and unsubscription links (RFC 8058 one-click).
//!
//! The daily digest ([`digest`]) is enqueued by `tribune newsletter send-digest`.
//! Not built yet (issue 6, part two): the digest at `TRIBUNE_DIGEST_HOUR` inside `serve`,
//! bounces marking subscribers `bouncing`, the admin lists, the 100k-subscriber benchmark.

pub mod digest;
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
