//! WordPress' export (WXR: RSS 2.0 with the `wp:` namespace): each `<item>` is a post or page
//! with its `<wp:comment>`s: <https://developer.wordpress.org/apis/wxr/>.

use super::domain::{Author, Post, PostState, Record, Thread, html_to_markdown};
use super::xml::Node;

pub const RECORDS: [&str; 1] = ["item"];

/// The thread and comments an `<item>` holds (nothing for an item without comments).
pub fn record(item: &Node) -> Result<Vec<Record>, String> {
    let comments: Vec<&Node> = item.children("wp:comment").collect();
    if comments.is_empty() {
        return Ok(Vec::new());
    }
    let id = item
        .text_of("wp:post_id")
        .ok_or("an <item> with comments but no wp:post_id")?
        .to_owned();
    let created_at = super::date(
        item.text_of("wp:post_date_gmt")
            .filter(|d| !d.starts_with("0000"))
            .or(item.text_of("wp:post_date")),
        "item",
    )?;
    let mut records = vec![Record::Thread(Thread {
        id: id.clone(),
        link: item.text_of("link").map(Into::into),
        slug: item.text_of("wp:post_name").map(Into::into),
        title: item.text_of("title").unwrap_or_default().to_owned(),
        created_at,
    })];
    for comment in comments {
        let comment_id = comment
            .text_of("wp:comment_id")
            .ok_or_else(|| format!("a comment of post {id} without wp:comment_id"))?;
        let kind = comment.text_of("wp:comment_type").unwrap_or("comment");
        let state = match (kind, comment.text_of("wp:comment_approved").unwrap_or("0")) {
            ("pingback" | "trackback", _) => PostState::Pingback,
            (_, "1") => PostState::Approved,
            (_, "spam") => PostState::Spam,
            (_, "trash" | "post-trashed") => PostState::Deleted,
            _ => PostState::Unapproved,
        };
        let created_at = super::date(
            comment
                .text_of("wp:comment_date_gmt")
                .filter(|d| !d.starts_with("0000"))
                .or(comment.text_of("wp:comment_date")),
            "wp:comment",
        )?;
        records.push(Record::Post(Post {
            id: comment_id.to_owned(),
            thread_id: id.clone(),
            parent_id: comment
                .text_of("wp:comment_parent")
                .filter(|p| *p != "0")
                .map(Into::into),
            author: Author {
                name: comment
                    .text_of("wp:comment_author")
                    .unwrap_or("Guest")
                    .to_owned(),
                username: None,
                email: comment.text_of("wp:comment_author_email").map(Into::into),
            },
            body: html_to_markdown(comment.text_of("wp:comment_content").unwrap_or_default()),
            state,
            created_at,
        }));
    }
    Ok(records)
}
