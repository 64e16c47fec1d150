//! The site Tribune serves: its name, its logo, and the addresses of its own pages (an
//! article, a discussion, a comment), from link templates (`TRIBUNE_ARTICLE_URL`, ...) with
//! defaults under `TRIBUNE_PUBLIC_URL`. Every link Tribune writes to a page of the site comes
//! from here.

use crate::config::Settings;
use crate::i18n::Lang;

#[derive(Debug, Clone)]
pub struct Site {
    pub name: String,
    pub logo_url: Option<String>,
    /// Where Tribune itself answers (its API and pages), and the site's front page.
    pub public_url: String,
    pub default_language: Lang,
    article: String,
    discussion: String,
    comment: String,
}

/// Where a comment is: its discussion, and the article's slug for an article's.
#[derive(Debug, Clone, Copy)]
pub struct Place<'a> {
    pub discussion_id: i64,
    pub article_slug: Option<&'a str>,
}

impl Site {
    pub fn from_settings(settings: &Settings) -> Site {
        let public = &settings.public_url;
        Site {
            name: settings.site_name.clone(),
            logo_url: settings.site_logo_url.clone(),
            public_url: public.clone(),
            default_language: settings.default_language,
            article: settings
                .article_url
                .clone()
                .unwrap_or_else(|| format!("{public}/articles/{{slug}}")),
            discussion: settings
                .discussion_url
                .clone()
                .unwrap_or_else(|| format!("{public}/discussions/{{id}}")),
            comment: settings.comment_url.clone(),
        }
    }

    pub fn article_url(&self, slug: &str) -> String {
        self.article.replace("{slug}", &encode(slug))
    }

    pub fn discussion_url(&self, id: i64) -> String {
        self.discussion.replace("{id}", &id.to_string())
    }

    /// An article's discussion has the article's page; a topic, its own.
    pub fn page_url(&self, place: Place) -> String {
        match place.article_slug {
            Some(slug) => self.article_url(slug),
            None => self.discussion_url(place.discussion_id),
        }
    }

    pub fn comment_url(&self, place: Place, comment_id: i64) -> String {
        self.comment
            .replace("{page}", &self.page_url(place))
            .replace("{comment_id}", &comment_id.to_string())
    }
}

/// A slug as a path segment: anything but unreserved characters percent-encoded (slugs are
/// ASCII words and hyphens, so this changes nothing of ours; an imported one may differ).
fn encode(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}
