//! Markdown in, sanitized HTML out: rendered once, when a text is written.
//!
//! pulldown-cmark renders CommonMark (tables and strikethrough too); ammonia then keeps only
//! safe tags and attributes: no scripts, styles or event handlers, only `http`, `https` and
//! `mailto` links, and every link gets `rel="nofollow ugc noopener noreferrer"`.
//!
//! No images: a remote image is a tracking pixel that tells its owner the address of every
//! reader and moderator who opens the thread. A Markdown image becomes a plain link to it (its
//! alt text as the link's text), and raw `<img>` tags are removed.

use std::collections::HashSet;
use std::sync::LazyLock;

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd, html};

static SANITIZER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut builder = ammonia::Builder::default();
    builder
        .url_schemes(HashSet::from(["http", "https", "mailto"]))
        .rm_tags(["img"])
        .link_rel(Some("nofollow ugc noopener noreferrer"));
    builder
});

/// The sanitized HTML of a Markdown text.
pub fn to_html(markdown: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let mut raw = String::with_capacity(markdown.len() * 3 / 2);
    let events = Parser::new_ext(markdown, options).map(|event| match event {
        Event::Start(Tag::Image {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }),
        Event::End(TagEnd::Image) => Event::End(TagEnd::Link),
        other => other,
    });
    html::push_html(&mut raw, events);
    SANITIZER.clean(&raw).to_string()
}

/// The words of a Markdown text without its markup (for search snippets): text and code as
/// written, blocks and line breaks as spaces, raw HTML left out.
pub fn to_plain_text(markdown: &str) -> String {
    let mut text = String::with_capacity(markdown.len());
    for event in Parser::new_ext(
        markdown,
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH,
    ) {
        match event {
            Event::Text(t) | Event::Code(t) => text.push_str(&t),
            Event::SoftBreak
            | Event::HardBreak
            | Event::Rule
            | Event::End(
                TagEnd::Paragraph
                | TagEnd::Heading(_)
                | TagEnd::Item
                | TagEnd::CodeBlock
                | TagEnd::BlockQuote(_)
                | TagEnd::TableCell,
            ) if !text.ends_with(' ') && !text.is_empty() => text.push(' '),
            _ => {}
        }
    }
    text.truncate(text.trim_end().len());
    text
}

#[cfg(test)]
mod tests {
    use super::{to_html, to_plain_text};

    #[test]
    fn plain_text_drops_the_markup() {
        assert_eq!(
            to_plain_text("# Title\n\n**bold** and `code`\n\n- one\n- two"),
            "Title bold and code one two"
        );
    }

    #[test]
    fn renders_markdown() {
        assert_eq!(
            to_html("**bold** and _it_"),
            "<p><strong>bold</strong> and <em>it</em></p>\n"
        );
    }

    #[test]
    fn neutralises_scripts_handlers_and_bad_links() {
        for attack in [
            "<script>alert(1)</script>",
            "<img src=x onerror=alert(1)>",
            "[x](javascript:alert(1))",
            "[x](data:text/html;base64,PHNjcmlwdD4=)",
            "<a href=\"javascript:alert(1)\">x</a>",
            "<iframe src=\"https://evil.example\"></iframe>",
            "<div style=\"background:url(javascript:alert(1))\">x</div>",
        ] {
            let html = to_html(attack);
            for bad in [
                "<script",
                "onerror",
                "javascript:",
                "data:",
                "<iframe",
                "style=",
            ] {
                assert!(!html.contains(bad), "{attack} -> {html}");
            }
        }
    }

    #[test]
    fn links_get_rel() {
        let html = to_html("[site](https://example.com)");
        assert!(
            html.contains(r#"rel="nofollow ugc noopener noreferrer""#),
            "{html}"
        );
    }

    #[test]
    fn images_become_links() {
        let html = to_html("![a pixel](https://tracker.example/p.png)");
        assert!(!html.contains("<img"), "{html}");
        assert!(
            html.contains(r#"<a href="https://tracker.example/p.png""#),
            "{html}"
        );
        assert!(html.contains(">a pixel</a>"), "{html}");
        let html = to_html(r#"<img src="https://tracker.example/p.png"> text"#);
        assert!(
            !html.contains("<img") && !html.contains("tracker"),
            "{html}"
        );
    }
}
