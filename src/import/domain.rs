//! What an export holds, whatever its vendor: threads (one per page that had comments) and
//! posts (comments), and how they are read into Tribune's terms.

use std::collections::BTreeMap;
use std::fmt;

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

/// Whose export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vendor {
    Disqus,
    Wordpress,
}

impl Vendor {
    /// As stored in `import_keys.source`: one vendor's ids never meet another's.
    pub fn as_str(self) -> &'static str {
        match self {
            Vendor::Disqus => "disqus",
            Vendor::Wordpress => "wordpress",
        }
    }
}

/// A page of the old site that had comments.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Thread {
    /// The export's id of the thread.
    pub id: String,
    pub link: Option<String>,
    /// A slug the old system had for it (Disqus' identifier, WordPress' post name).
    pub slug: Option<String>,
    pub title: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PostState {
    Approved,
    /// Deleted in the old system: imported as a placeholder (its replies keep their place).
    Deleted,
    Spam,
    /// Waiting for a moderator in the old system.
    Unapproved,
    /// A WordPress pingback or trackback: not a reader's comment.
    Pingback,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Author {
    pub name: String,
    pub username: Option<String>,
    pub email: Option<String>,
}

impl Author {
    /// What makes two posts' authors one account: the address, else the old login, else the
    /// name.
    pub fn key(&self) -> String {
        match (&self.email, &self.username) {
            (Some(email), _) => format!("email:{}", email.trim().to_lowercase()),
            (None, Some(username)) => format!("user:{}", username.trim().to_lowercase()),
            (None, None) => format!("name:{}", self.name.trim()),
        }
    }
}

/// A comment.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Post {
    pub id: String,
    pub thread_id: String,
    pub parent_id: Option<String>,
    pub author: Author,
    /// Markdown (see [`html_to_markdown`]).
    pub body: String,
    pub state: PostState,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone)]
pub enum Record {
    Thread(Thread),
    Post(Post),
}

/// The longest comment imported (longer ones are skipped, with the reason).
pub const MAX_BODY: usize = 100_000;

/// Slugs an article of the site may have for this thread, best first: the old system's own,
/// then the last segment of the page's address (without `.html`).
pub fn slug_candidates(thread: &Thread) -> Vec<String> {
    let mut slugs = Vec::new();
    if let Some(slug) = thread
        .slug
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        slugs.push(slug.to_lowercase());
    }
    if let Some(link) = &thread.link {
        let address = link.split(['?', '#']).next().unwrap_or_default();
        // The path after the host (a bare host is no slug).
        let address = address.split_once("://").map_or(address, |(_, rest)| rest);
        let path = address.split_once('/').map_or("", |(_, path)| path);
        let last = path
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or_default();
        let last = last
            .strip_suffix(".html")
            .or_else(|| last.strip_suffix(".htm"))
            .unwrap_or(last);
        if !last.is_empty() {
            slugs.push(last.to_lowercase());
        }
    }
    slugs.dedup();
    slugs
}

/// A comment's HTML (Disqus keeps `<p>` paragraphs and `<br>` breaks) as the Markdown Tribune
/// stores: paragraph and block tags become blank lines, breaks become line breaks; inline
/// tags (links, emphasis) stay, as inline HTML that rendering sanitizes. Text is not touched:
/// entities such as `&amp;` mean the same in Markdown.
pub fn html_to_markdown(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        let tag_and_after = &rest[start..];
        let Some(end) = tag_and_after.find('>') else {
            out.push_str(tag_and_after);
            rest = "";
            break;
        };
        let tag = &tag_and_after[1..end];
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .collect::<String>()
            .to_ascii_lowercase();
        match name.as_str() {
            "p" | "div" | "blockquote" | "ul" | "ol" | "li" | "pre" | "h1" | "h2" | "h3" | "h4"
            | "h5" | "h6" | "hr" | "table" | "tr" => out.push_str("\n\n"),
            "br" => out.push_str("  \n"),
            _ => out.push_str(&tag_and_after[..=end]),
        }
        rest = &tag_and_after[end + 1..];
    }
    out.push_str(rest);
    let mut text = String::with_capacity(out.len());
    for paragraph in out.split("\n\n").map(str::trim).filter(|p| !p.is_empty()) {
        if !text.is_empty() {
            text.push_str("\n\n");
        }
        text.push_str(paragraph);
    }
    text
}

/// What an import did; printed at the end, and when it stops.
#[derive(Debug, Default)]
pub struct Summary {
    pub threads_matched: u64,
    pub threads_created: u64,
    pub comments: u64,
    /// Of `comments`: placeholders of deleted ones.
    pub deleted: u64,
    pub accounts: u64,
    /// Records a previous run imported (or skipped) already.
    pub already: u64,
    /// Replies whose parent is not in the export (or was skipped): imported as roots.
    pub orphans: u64,
    pub skipped: BTreeMap<&'static str, u64>,
    /// Complete batches committed.
    pub batches: u64,
}

impl Summary {
    pub fn skip(&mut self, reason: &'static str) {
        *self.skipped.entry(reason).or_default() += 1;
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "threads: {} matched to articles, {} new articles",
            self.threads_matched, self.threads_created
        )?;
        writeln!(
            f,
            "comments: {} imported ({} as deleted placeholders, {} replies without their parent as roots)",
            self.comments, self.deleted, self.orphans
        )?;
        writeln!(f, "accounts: {} made or matched", self.accounts)?;
        writeln!(f, "already imported before: {}", self.already)?;
        if self.skipped.is_empty() {
            write!(f, "skipped: none")
        } else {
            let reasons: Vec<String> = self
                .skipped
                .iter()
                .map(|(reason, n)| format!("{n} {reason}"))
                .collect();
            write!(f, "skipped: {}", reasons.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn thread(link: Option<&str>, slug: Option<&str>) -> Thread {
        Thread {
            id: "1".into(),
            link: link.map(Into::into),
            slug: slug.map(Into::into),
            title: String::new(),
            created_at: NaiveDateTime::default(),
        }
    }

    #[test]
    fn slugs_come_from_the_old_systems_name_then_the_address() {
        assert_eq!(
            slug_candidates(&thread(
                Some("https://news.example/2020/01/Rocket-Launch/?utm=x#c1"),
                Some("rocket")
            )),
            ["rocket", "rocket-launch"]
        );
        assert_eq!(
            slug_candidates(&thread(Some("https://news.example/news/launch.html"), None)),
            ["launch"]
        );
        assert!(slug_candidates(&thread(Some("https://news.example/"), None)).is_empty());
        assert!(slug_candidates(&thread(Some("https://news.example/?p=77"), None)).is_empty());
    }

    #[test]
    fn html_paragraphs_become_markdown_paragraphs() {
        assert_eq!(
            html_to_markdown("<p>First &amp; <b>bold</b></p><p>Second<br>line</p>"),
            "First &amp; <b>bold</b>\n\nSecond  \nline"
        );
        assert_eq!(html_to_markdown("plain text"), "plain text");
        assert_eq!(html_to_markdown("broken <a href"), "broken <a href");
    }
}
