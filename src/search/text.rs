//! Words to index terms, the reader's query to each backend's query language, and snippets.
//!
//! One analysis for both backends, done here in Rust: words are runs of letters and digits,
//! lowercased, `ё` folded to `е`, and stemmed with Snowball (Russian for words with Cyrillic
//! letters, English for the rest). The index stores the stems as plain space-separated text;
//! PostgreSQL indexes it with the `simple` configuration (no stemming of its own), SQLite's FTS5
//! with the `unicode61` tokenizer: both see the same terms, so both find the same documents.

use std::sync::LazyLock;

use rust_stemmers::{Algorithm, Stemmer};

use crate::error::ApiError;

static RUSSIAN: LazyLock<Stemmer> = LazyLock::new(|| Stemmer::create(Algorithm::Russian));
static ENGLISH: LazyLock<Stemmer> = LazyLock::new(|| Stemmer::create(Algorithm::English));

/// The longest query a reader may send, in characters.
pub const QUERY_MAX_CHARS: usize = 200;
/// The most words a query may have.
pub const QUERY_MAX_WORDS: usize = 10;
/// Longer words are cut to this many characters (in the index and in queries alike).
const WORD_MAX_CHARS: usize = 64;

/// The words of `text` with their byte ranges.
fn words(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(move |w| (w.as_ptr() as usize - text.as_ptr() as usize, w))
}

/// A word as compared: lowercase, `ё` as `е`, at most [`WORD_MAX_CHARS`].
fn fold(word: &str) -> String {
    word.chars()
        .flat_map(char::to_lowercase)
        .map(|c| if c == 'ё' { 'е' } else { c })
        .take(WORD_MAX_CHARS)
        .collect()
}

/// The index term of a folded word.
fn stem(folded: &str) -> String {
    let stemmer = if folded.chars().any(|c| ('а'..='я').contains(&c)) {
        &RUSSIAN
    } else {
        &ENGLISH
    };
    stemmer.stem(folded).into_owned()
}

/// At most this many bytes of terms are indexed for one text (about 40,000 words): PostgreSQL
/// refuses a `tsvector` over 1 MB, which would refuse the text's write. (Today's longest texts,
/// articles of 200,000 characters, stay under it anyway; this keeps it so if they grow.)
const TERMS_MAX_BYTES: usize = 256 << 10;

/// The index terms of a text, in order, separated by spaces (the first [`TERMS_MAX_BYTES`]).
pub fn terms(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(TERMS_MAX_BYTES));
    for (_, word) in words(text) {
        let term = stem(&fold(word));
        if out.len() + term.len() + 1 > TERMS_MAX_BYTES {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&term);
    }
    out
}

/// One part of a query: all of them must match.
#[derive(Debug, PartialEq)]
enum Clause {
    /// A word; `prefix` is the word as typed when it is the last one and the reader may still
    /// be typing it ("ракет" finds "ракеты" by its stem, "раке" by this prefix).
    Word {
        stem: String,
        prefix: Option<String>,
    },
    /// Words in quotes: these terms next to each other, in order.
    Phrase(Vec<String>),
}

/// A reader's query, understood.
#[derive(Debug, PartialEq)]
pub struct Query {
    clauses: Vec<Clause>,
}

impl Query {
    /// Reads `q`: words, `"phrases"`; every other character only separates words, so no
    /// character is special to either backend's query language. A last word not followed by a
    /// space or a closing quote also matches as a prefix.
    pub fn parse(q: &str) -> Result<Query, ApiError> {
        let invalid = |why: &str| ApiError::invalid("q", why);
        if q.chars().count() > QUERY_MAX_CHARS {
            return Err(invalid(&format!(
                "must be at most {QUERY_MAX_CHARS} characters"
            )));
        }
        let mut clauses = Vec::new();
        let mut count = 0;
        for (i, part) in q.split('"').enumerate() {
            let folded: Vec<String> = words(part).map(|(_, w)| fold(w)).collect();
            count += folded.len();
            if i % 2 == 1 {
                if !folded.is_empty() {
                    clauses.push(Clause::Phrase(folded.iter().map(|w| stem(w)).collect()));
                }
            } else {
                clauses.extend(folded.iter().map(|w| Clause::Word {
                    stem: stem(w),
                    prefix: None,
                }));
            }
        }
        if count == 0 {
            return Err(invalid("must contain a word (letters or digits)"));
        }
        if count > QUERY_MAX_WORDS {
            return Err(invalid(&format!(
                "may have at most {QUERY_MAX_WORDS} words"
            )));
        }
        let typing = q.chars().last().is_some_and(char::is_alphanumeric)
            && q.matches('"').count().is_multiple_of(2);
        if typing && let Some(Clause::Word { prefix, .. }) = clauses.last_mut() {
            let last = words(q).last().map(|(_, w)| fold(w));
            *prefix = last;
        }
        Ok(Query { clauses })
    }

    /// The query for PostgreSQL's `to_tsquery('simple', …)`.
    pub fn to_tsquery(&self) -> String {
        self.tsquery("")
    }

    /// [`Query::to_tsquery`] matching the title alone (weight `A` in the index).
    pub fn to_tsquery_in_title(&self) -> String {
        self.tsquery("A")
    }

    /// The query for SQLite's FTS5 `MATCH` against the title alone.
    pub fn to_fts5_in_title(&self) -> String {
        format!("title_terms : ({})", self.to_fts5())
    }

    fn tsquery(&self, weight: &str) -> String {
        let quote = |term: &str| match weight {
            "" => format!("'{term}'"),
            w => format!("'{term}':{w}"),
        };
        self.clauses
            .iter()
            .map(|clause| match clause {
                Clause::Word { stem, prefix: None } => quote(stem),
                Clause::Word {
                    stem,
                    prefix: Some(p),
                } => format!("({} | '{p}':*{weight})", quote(stem)),
                Clause::Phrase(stems) => format!(
                    "({})",
                    stems
                        .iter()
                        .map(|s| quote(s))
                        .collect::<Vec<_>>()
                        .join(" <-> ")
                ),
            })
            .collect::<Vec<_>>()
            .join(" & ")
    }

    /// The query for SQLite's FTS5 `MATCH`.
    pub fn to_fts5(&self) -> String {
        self.clauses
            .iter()
            .map(|clause| match clause {
                Clause::Word { stem, prefix: None } => format!("\"{stem}\""),
                Clause::Word {
                    stem,
                    prefix: Some(p),
                } => format!("(\"{stem}\" OR \"{p}\"*)"),
                Clause::Phrase(stems) => format!("\"{}\"", stems.join(" ")),
            })
            .collect::<Vec<_>>()
            .join(" AND ")
    }

    /// Whether a word of a text is one the query looks for.
    fn matches(&self, folded: &str, stemmed: &str) -> bool {
        self.clauses.iter().any(|clause| match clause {
            Clause::Word { stem, prefix } => {
                stem == stemmed
                    || prefix
                        .as_ref()
                        .is_some_and(|p| folded.starts_with(p.as_str()))
            }
            Clause::Phrase(stems) => stems.iter().any(|s| s == stemmed),
        })
    }
}

/// About this many words of context in a snippet.
const SNIPPET_WORDS: usize = 30;

/// A passage of `text` around the first word the query looks for, as HTML: the text escaped,
/// the words found in `<mark>`, `…` where the passage cuts the text.
pub fn snippet(text: &str, query: &Query) -> String {
    let found: Vec<(usize, &str, bool)> = words(text)
        .map(|(at, w)| {
            let folded = fold(w);
            let hit = query.matches(&folded, &stem(&folded));
            (at, w, hit)
        })
        .collect();
    let first = found.iter().position(|(_, _, hit)| *hit).unwrap_or(0);
    let start = first.saturating_sub(SNIPPET_WORDS / 4);
    let end = (start + SNIPPET_WORDS).min(found.len());
    if found.is_empty() {
        return String::new();
    }
    let mut html = String::new();
    let from = if start == 0 { 0 } else { found[start].0 };
    if start > 0 {
        html.push('…');
    }
    let mut at = from;
    for &(word_at, word, hit) in &found[start..end] {
        html.push_str(&escape(&text[at..word_at]));
        if hit {
            html.push_str("<mark>");
            html.push_str(&escape(word));
            html.push_str("</mark>");
        } else {
            html.push_str(&escape(word));
        }
        at = word_at + word.len();
    }
    if end < found.len() {
        html.push('…');
    } else {
        html.push_str(&escape(&text[at..]));
    }
    html.trim().to_string()
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_forms_meet_in_one_term() {
        assert_eq!(terms("ракеты"), terms("Ракета"));
        assert_eq!(terms("missiles"), terms("missile"));
        assert_eq!(terms("ЁЛКА"), terms("елка"));
        assert_eq!(
            terms("Ракеты, missiles!"),
            format!("{} {}", terms("ракета"), terms("missile"))
        );
    }

    #[test]
    fn a_huge_text_is_indexed_up_to_a_bound() {
        let text: String = (0..200_000).map(|i| format!("w{i} ")).collect();
        let indexed = terms(&text);
        assert!(indexed.len() <= TERMS_MAX_BYTES, "{}", indexed.len());
        assert!(indexed.starts_with("w0 w1 w2"));
    }

    #[test]
    fn queries_carry_no_syntax_of_either_backend() {
        let q = Query::parse("a:* & (b | !c) \"x' y\" NUL\0 end").unwrap();
        assert_eq!(
            q.to_tsquery(),
            "'a' & 'b' & 'c' & ('x' <-> 'y') & 'nul' & ('end' | 'end':*)"
        );
        assert_eq!(
            q.to_fts5(),
            r#""a" AND "b" AND "c" AND "x y" AND "nul" AND ("end" OR "end"*)"#
        );
    }

    #[test]
    fn title_queries_ask_for_the_title_alone() {
        let q = Query::parse("\"x y\" end").unwrap();
        assert_eq!(
            q.to_tsquery_in_title(),
            "('x':A <-> 'y':A) & ('end':A | 'end':*A)"
        );
        assert_eq!(
            q.to_fts5_in_title(),
            r#"title_terms : ("x y" AND ("end" OR "end"*))"#
        );
    }

    #[test]
    fn the_last_word_is_a_prefix_while_typing() {
        let typing = Query::parse("ракеты запуск").unwrap();
        assert!(
            typing.to_fts5().ends_with(r#"("запуск" OR "запуск"*)"#),
            "{}",
            typing.to_fts5()
        );
        let done = Query::parse("ракеты запуск ").unwrap();
        assert!(!done.to_fts5().contains('*'));
    }

    #[test]
    fn bad_queries_are_refused_with_the_field_named() {
        for q in [
            "",
            "  ",
            "!!! ***",
            &"a".repeat(201),
            "1 2 3 4 5 6 7 8 9 10 11",
        ] {
            let err = Query::parse(q).unwrap_err();
            assert!(
                matches!(&err, ApiError::Validation(fields) if fields.contains_key("q")),
                "{q:?}: {err:?}"
            );
        }
    }

    #[test]
    fn snippets_mark_word_forms_and_escape_the_text() {
        let q = Query::parse("ракета ").unwrap();
        assert_eq!(
            snippet("<b>Две</b> ракеты & ещё", &q),
            "&lt;b&gt;Две&lt;/b&gt; <mark>ракеты</mark> &amp; ещё"
        );
    }
}
