//! Comment threads under every discussion (articles' and topics'): nested replies with a depth
//! cap, Markdown rendered once to sanitized HTML, edits within a window, deletion that keeps
//! the tree, votes and reports.
//!
//! A page is N root comments by keyset, then all their replies in one range read of the
//! materialized `path`, nested in memory: two queries a page whatever the thread's size.

pub mod domain;
pub mod dto;
mod erasure;
pub mod handlers;
mod held;
mod import;
mod paging;
mod policy;
mod posting;
pub mod repo;
mod thread;

use utoipa_actix_web::service_config::ServiceConfig;

// What other features use of comments (moderation acts on them; deleting an article takes its
// comments off their authors' counts).
pub use domain::CommentStatus;
pub use erasure::erase_author;
pub use held::decide_held;
pub use import::{Imported, ImportedComment, ImportedParent, count_imported, import};
pub use paging::ThreadPages;
pub(crate) use policy::{change_status, comment_to_change};
pub use repo::{
    Comment, CommentRow, by_id, count_author, recent_by_author, set_status, uncount_discussion,
};

pub fn routes(cfg: &mut ServiceConfig) {
    use handlers::*;
    cfg.service(discussion_comments)
        .service(post_discussion_comment)
        .service(article_comments)
        .service(post_article_comment)
        .service(show_comment)
        .service(edit_comment)
        .service(delete_comment)
        .service(vote)
        .service(report);
}
