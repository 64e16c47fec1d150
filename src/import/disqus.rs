//! Disqus' XML export (`<disqus>` with `<category>`, `<thread dsq:id>` and `<post dsq:id>`
//! elements, threads first): <https://help.disqus.com/en/articles/1717164-comments-export>.

use super::domain::{Author, Post, PostState, Record, Thread, html_to_markdown};
use super::xml::Node;

/// The elements that are records.
pub const RECORDS: [&str; 2] = ["thread", "post"];

/// The record an element holds; `Err` names what is missing.
pub fn record(node: &Node) -> Result<Vec<Record>, String> {
    let id = node
        .attr("dsq:id")
        .ok_or_else(|| format!("a <{}> without dsq:id", node.name))?
        .to_owned();
    let created_at = super::date(node.text_of("createdAt"), &node.name)?;
    if node.name == "thread" {
        return Ok(vec![Record::Thread(Thread {
            id,
            link: node.text_of("link").map(Into::into),
            slug: node.text_of("id").map(Into::into),
            title: node.text_of("title").unwrap_or_default().to_owned(),
            created_at,
        })]);
    }
    let thread_id = node
        .child("thread")
        .and_then(|t| t.attr("dsq:id"))
        .ok_or_else(|| format!("post {id} names no thread"))?
        .to_owned();
    let flag = |name: &str| node.text_of(name) == Some("true");
    let state = if flag("isSpam") {
        PostState::Spam
    } else if flag("isDeleted") {
        PostState::Deleted
    } else {
        PostState::Approved
    };
    let author = node.child("author");
    let field = |name: &str| author.and_then(|a| a.text_of(name)).map(str::to_owned);
    Ok(vec![Record::Post(Post {
        id,
        thread_id,
        parent_id: node
            .child("parent")
            .and_then(|p| p.attr("dsq:id"))
            .map(Into::into),
        author: Author {
            name: field("name").unwrap_or_else(|| "Guest".into()),
            username: field("username"),
            email: field("email"),
        },
        body: html_to_markdown(node.text_of("message").unwrap_or_default()),
        state,
        created_at,
    })])
}
