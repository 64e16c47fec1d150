//! The pure rules of premoderation: how text is folded and matched against word rules, what
//! counts as a link, and why a comment is held.

use std::collections::HashMap;

/// What a word rule does to a comment or topic that contains its phrase.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum RuleAction {
    /// Refused with `422`, naming the rule's public reason (never the word).
    Reject,
    /// Accepted, but held for a moderator.
    Hold,
}

impl RuleAction {
    pub fn as_str(self) -> &'static str {
        match self {
            RuleAction::Reject => "reject",
            RuleAction::Hold => "hold",
        }
    }
}

impl TryFrom<String> for RuleAction {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        match text.as_str() {
            "reject" => Ok(RuleAction::Reject),
            "hold" => Ok(RuleAction::Hold),
            other => Err(format!("`{other}` is not a word rule action")),
        }
    }
}

/// Why a comment waits for a moderator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HoldReason {
    /// It contains a word rule's phrase whose action is `hold`.
    WordRule,
    /// Its author has fewer published comments than `TRIBUNE_HOLD_FIRST_COMMENTS`.
    FirstComments,
    /// It has a link, and its author's account is younger than `TRIBUNE_HOLD_LINKS_DAYS`.
    NewAccountLink,
    /// Its discussion is premoderated.
    Discussion,
}

impl HoldReason {
    pub fn as_str(self) -> &'static str {
        match self {
            HoldReason::WordRule => "word_rule",
            HoldReason::FirstComments => "first_comments",
            HoldReason::NewAccountLink => "new_account_link",
            HoldReason::Discussion => "discussion",
        }
    }
}

impl TryFrom<String> for HoldReason {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        match text.as_str() {
            "word_rule" => Ok(HoldReason::WordRule),
            "first_comments" => Ok(HoldReason::FirstComments),
            "new_account_link" => Ok(HoldReason::NewAccountLink),
            "discussion" => Ok(HoldReason::Discussion),
            other => Err(format!("`{other}` is not a hold reason")),
        }
    }
}

/// A moderator's decision on a held comment.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    /// Published, as if just posted.
    Approve,
    /// Never published.
    Reject,
}

impl Decision {
    /// As the holds table and the audit log name it.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Approve => "approved",
            Decision::Reject => "rejected",
        }
    }

    pub fn audit_action(self) -> &'static str {
        match self {
            Decision::Approve => "approve",
            Decision::Reject => "reject",
        }
    }
}

/// Latin letters and the Cyrillic letters that look like them (in lowercase, or as capitals:
/// `B`/`В`, `H`/`Н`, `M`/`М`, `T`/`Т`).
const LOOK_ALIKES: &[(char, char)] = &[
    ('a', 'а'),
    ('b', 'в'),
    ('c', 'с'),
    ('e', 'е'),
    ('h', 'н'),
    ('i', 'і'),
    ('j', 'ј'),
    ('k', 'к'),
    ('m', 'м'),
    ('o', 'о'),
    ('p', 'р'),
    ('s', 'ѕ'),
    ('t', 'т'),
    ('x', 'х'),
    ('y', 'у'),
];

/// Letters common in both scripts that look alike in lowercase too: they say nothing about a
/// word's script.
fn ambiguous(c: char) -> bool {
    matches!(
        c,
        'a' | 'c'
            | 'e'
            | 'k'
            | 'o'
            | 'p'
            | 'x'
            | 'y'
            | 'а'
            | 'с'
            | 'е'
            | 'к'
            | 'о'
            | 'р'
            | 'х'
            | 'у'
    )
}

/// One word as matching sees it: lowercase, `ё` as `е`, and written in one script, the one
/// its unambiguous letters are in (Cyrillic when it has more of them; else Latin), its
/// look-alike letters of the other script turned into that one. So `дурaк` with a Latin `a`
/// is `дурак`, `idiоt` with a Cyrillic `о` is `idiot`, `ДУРAK` is `дурак`; and `вот` stays
/// Cyrillic (`в`, `т` do not look Latin in lowercase) while `bot` stays Latin.
fn fold_word(word: &str) -> String {
    let lower: Vec<char> = word
        .chars()
        .flat_map(char::to_lowercase)
        .map(|c| if c == 'ё' { 'е' } else { c })
        .collect();
    let is_cyrillic = |c: char| ('\u{400}'..='\u{52f}').contains(&c);
    let (mut cyrillic, mut latin) = (0, 0);
    for &c in lower.iter().filter(|&&c| !ambiguous(c)) {
        if is_cyrillic(c) {
            cyrillic += 1;
        } else if c.is_ascii_alphabetic() {
            latin += 1;
        }
    }
    let to_cyrillic = cyrillic > latin;
    lower
        .into_iter()
        .map(|c| {
            let pair = LOOK_ALIKES.iter().find(|&&(l, k)| c == l || c == k);
            match pair {
                Some(&(_, k)) if to_cyrillic => k,
                Some(&(l, _)) => l,
                None => c,
            }
        })
        .collect()
}

/// The words of `text` as matching sees them: runs of letters and digits, folded.
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(fold_word)
        .collect()
}

/// A phrase as it is stored and matched: its folded words, one space apart. Empty when the
/// phrase has no word.
pub fn fold(phrase: &str) -> String {
    words(phrase).join(" ")
}

/// Word rules ready to match: by their first word, so that a text costs one lookup per word
/// whatever the number of rules.
#[derive(Debug, Default)]
pub struct Matcher<R> {
    by_first: HashMap<String, Vec<(Vec<String>, R)>>,
}

impl<R: Clone> Matcher<R> {
    /// From `(folded phrase, rule)` pairs.
    pub fn new(rules: impl IntoIterator<Item = (String, R)>) -> Self {
        let mut by_first: HashMap<String, Vec<(Vec<String>, R)>> = HashMap::new();
        for (folded, rule) in rules {
            let words: Vec<String> = folded.split(' ').map(str::to_string).collect();
            if let Some(first) = words.first().filter(|w| !w.is_empty()) {
                by_first
                    .entry(first.clone())
                    .or_default()
                    .push((words, rule));
            }
        }
        Matcher { by_first }
    }

    pub fn is_empty(&self) -> bool {
        self.by_first.is_empty()
    }

    /// Every rule whose phrase appears in `text` as whole words, in the text's order.
    pub fn matches(&self, text: &str) -> Vec<R> {
        if self.is_empty() {
            return Vec::new();
        }
        let words = words(text);
        let mut found = Vec::new();
        for (i, word) in words.iter().enumerate() {
            for (phrase, rule) in self.by_first.get(word).into_iter().flatten() {
                if words[i..].starts_with(phrase) {
                    found.push(rule.clone());
                }
            }
        }
        found
    }
}

/// Whether a comment carries a link: a URL, a `www.` address, or a Markdown link (its HTML has
/// an anchor).
pub fn has_link(markdown: &str, html: &str) -> bool {
    let lower = markdown.to_lowercase();
    lower.contains("http://")
        || lower.contains("https://")
        || lower.contains("www.")
        || html.contains("<a ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matcher(rules: &[&str]) -> Matcher<usize> {
        Matcher::new(rules.iter().enumerate().map(|(i, r)| (fold(r), i)))
    }

    #[test]
    fn whole_words_any_case_with_yo_folded() {
        let m = matcher(&["ёлка", "bad word"]);
        assert_eq!(m.matches("Под ЕЛКОЙ"), Vec::<usize>::new());
        assert_eq!(m.matches("Зелёная Елка!"), vec![0]);
        assert_eq!(m.matches("a BAD   word, indeed"), vec![1]);
        assert!(m.matches("a badword").is_empty());
        assert!(m.matches("bad wording").is_empty());
        assert!(m.matches("bad").is_empty());
    }

    #[test]
    fn latin_and_cyrillic_look_alikes_are_one_letter() {
        let m = matcher(&["дурак", "idiot"]);
        // A Latin `a` in the Russian word, a Cyrillic `о` in the English one.
        assert_eq!(m.matches("ты дурaк"), vec![0]);
        assert_eq!(m.matches("what an idiоt"), vec![1]);
        assert_eq!(m.matches("ДУРАК"), vec![0]);
        assert_eq!(m.matches("ДУРAK"), vec![0]);
        assert_eq!(m.matches("IDIОТ"), vec![1]);
        // Capitals at a sentence's start, in words with letters that look Latin as capitals.
        let m = matcher(&["мразь", "тварь", "негодяй"]);
        assert_eq!(m.matches("Мразь. ТВАРЬ! Негодяй"), vec![0, 1, 2]);
        assert_eq!(m.matches("Mразь"), vec![0], "a Latin capital M");
        // `в` and `т` do not look Latin in lowercase: `вот` is not `bot`.
        assert!(matcher(&["bot"]).matches("вот ВОТ Вот").is_empty());
        assert!(matcher(&["вот"]).matches("bot BOT").is_empty());
    }

    #[test]
    fn phrases_without_words_match_nothing() {
        assert_eq!(fold("  !!! "), "");
        assert!(matcher(&["!!!"]).is_empty());
    }

    #[test]
    fn links_are_urls_addresses_and_markdown_links() {
        assert!(has_link("see https://example.com", ""));
        assert!(has_link("see WWW.example.com", ""));
        assert!(has_link("[x](y)", "<p><a href=\"y\">x</a></p>"));
        assert!(!has_link("no link here", "<p>no link here</p>"));
    }
}
