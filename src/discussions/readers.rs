//! Which requests are readers: what a view counts. Not a crawler, a link-preview fetcher or a
//! scripted client (their user agents match a pattern of the list), not a `HEAD`, not a
//! browser's prefetch. Mobile apps' HTTP stacks (okhttp, CFNetwork, Dart, Dalvik) are readers.
//!
//! The list is `src/discussions/crawler-user-agents.txt` (its source and how to update it are in its
//! head), built in; `TRIBUNE_CRAWLER_PATTERNS` names another file, read at start.

use actix_web::HttpRequest;
use actix_web::http::{Method, header};
use regex::{RegexSet, RegexSetBuilder};

/// The list kept in the repository.
const BUILT_IN: &str = include_str!("crawler-user-agents.txt");

/// A compiled list of non-reader user agents.
pub struct Readers {
    crawlers: RegexSet,
}

impl Readers {
    /// From a list: one regular expression a line, matched anywhere in the user agent, as
    /// written (the list's patterns mind case: `[wW]get`); blank lines and lines starting with
    /// `#` are comments.
    pub fn from_list(list: &str) -> Result<Readers, regex::Error> {
        let patterns = list
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with('#'));
        let crawlers = RegexSetBuilder::new(patterns)
            .size_limit(64 << 20)
            .dfa_size_limit(16 << 20)
            .build()?;
        Ok(Readers { crawlers })
    }

    /// The built-in list, or the file `path`.
    pub fn load(path: Option<&std::path::Path>) -> anyhow::Result<Readers> {
        let list = match path {
            Some(path) => std::fs::read_to_string(path).map_err(|e| {
                anyhow::anyhow!(
                    "TRIBUNE_CRAWLER_PATTERNS: cannot read {}: {e}",
                    path.display()
                )
            })?,
            None => BUILT_IN.to_string(),
        };
        Readers::from_list(&list)
            .map_err(|e| anyhow::anyhow!("TRIBUNE_CRAWLER_PATTERNS: a pattern is not valid: {e}"))
    }

    /// Whether this user agent is a person's browser or app: it is there, and no pattern
    /// matches it.
    pub fn is_reader_agent(&self, user_agent: Option<&str>) -> bool {
        user_agent.is_some_and(|agent| !agent.trim().is_empty() && !self.crawlers.is_match(agent))
    }

    /// Whether the request is a reader looking: not a `HEAD`, not a prefetch or a preview, and a
    /// reader's user agent.
    pub fn is_reader(&self, req: &HttpRequest) -> bool {
        if req.method() == Method::HEAD {
            return false;
        }
        let headers = req.headers();
        let says = |name: &str, word: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.to_ascii_lowercase().contains(word))
        };
        if says("sec-purpose", "prefetch")
            || says("purpose", "prefetch")
            || says("x-purpose", "preview")
            || says("x-moz", "prefetch")
        {
            return false;
        }
        let agent = headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok());
        self.is_reader_agent(agent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_list_compiles_and_tells_bots_from_people() {
        let readers = Readers::load(None).unwrap();
        assert!(!readers.is_reader_agent(Some(
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
        )));
        assert!(!readers.is_reader_agent(Some("curl/8.5.0")));
        assert!(!readers.is_reader_agent(None));
        assert!(readers.is_reader_agent(Some("okhttp/4.12.0")));
        assert!(readers.is_reader_agent(Some(
            "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
        )));
    }

    #[test]
    fn comments_and_blank_lines_are_not_patterns() {
        let readers = Readers::from_list("# a comment\n\n[bB]ot\n").unwrap();
        assert!(!readers.is_reader_agent(Some("SomeBot/1.0")));
        assert!(readers.is_reader_agent(Some("a comment")));
        assert!(Readers::from_list("(unclosed").is_err());
    }
}
