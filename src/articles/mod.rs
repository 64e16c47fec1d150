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

/// An article made for an imported thread that matched none of the site's (see `import`).
pub struct ImportedArticle<'a> {
    /// The slug wanted (the old page's last path segment, or the title's); a free one near it
    /// is taken.
    pub slug: &'a str,
    pub title: &'a str,
    /// When the old thread began: the article is dated then, so it appears in no digest and
    /// no "latest" list.
    pub at: chrono::NaiveDateTime,
}

/// Creates the article (and its discussion, indexed for search) in the caller's transaction;
/// returns its discussion's id.
pub fn create_imported(
    conn: &mut crate::db::DbConn,
    new: &ImportedArticle,
) -> Result<i64, crate::error::ApiError> {
    let base = dto::slug_from_title(new.slug);
    let base = if base.is_empty() { "imported" } else { &base };
    let slug = handlers::free_slug(conn, base)?;
    let title = new.title.trim();
    let title = if title.is_empty() {
        slug.as_str()
    } else {
        title
    };
    let discussion_id = crate::discussions::insert(
        conn,
        &crate::discussions::NewDiscussion {
            kind: crate::discussions::Kind::Article,
            title,
            body: None,
            body_html: None,
            author_id: None,
            article_slug: Some(&slug),
            visible_from: new.at,
            created_at: new.at,
            last_activity_at: new.at,
        },
    )?;
    repo::insert(
        conn,
        &repo::NewArticle {
            discussion_id,
            slug: &slug,
            title,
            lead: "",
            body: "",
            dateline: None,
            source: None,
            image_url: None,
            image_credit: None,
            rights_notice: None,
            author_id: None,
            published_at: new.at,
            created_at: new.at,
            updated_at: new.at,
        },
    )?;
    crate::search::discussion_written(conn, discussion_id)?;
    Ok(discussion_id)
}
