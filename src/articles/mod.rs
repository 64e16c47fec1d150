//! Articles (the news): editors publish, update and delete them; each has a discussion.

pub mod dto;
pub mod handlers;
pub mod repo;

use utoipa_actix_web::service_config::ServiceConfig;

// What other features use of articles.
pub use repo::{discussion_of, disown_author, thread_state_of};

pub fn routes(cfg: &mut ServiceConfig) {
    use handlers::*;
    cfg.service(list_articles)
        .service(create_article)
        .service(show_article)
        .service(update_article)
        .service(delete_article);
}
