//! Rules of notifications that need no database: the kinds, the mail choices, who a new
//! comment notifies, and mentions.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What happened; stored as its `as_str` text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = NotificationKind)]
pub enum Kind {
    /// Someone replied to the reader's comment.
    Reply,
    /// Someone commented in the reader's topic.
    TopicComment,
    /// Someone named the reader (`@username`) in a comment.
    Mention,
    /// A moderator hid the reader's comment.
    CommentHidden,
    /// A moderator deleted the reader's comment.
    CommentDeleted,
    /// A report the reader made was resolved (`detail`: dismiss, hide or delete).
    ReportResolved,
}

impl Kind {
    pub const ALL: [Kind; 6] = [
        Kind::Reply,
        Kind::TopicComment,
        Kind::Mention,
        Kind::CommentHidden,
        Kind::CommentDeleted,
        Kind::ReportResolved,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Kind::Reply => "reply",
            Kind::TopicComment => "topic_comment",
            Kind::Mention => "mention",
            Kind::CommentHidden => "comment_hidden",
            Kind::CommentDeleted => "comment_deleted",
            Kind::ReportResolved => "report_resolved",
        }
    }

    pub fn parse(text: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// Which mail choice covers this kind; `None`: never mailed (shown in the inbox only).
    pub const fn topic(self) -> Option<Topic> {
        match self {
            Kind::Reply | Kind::TopicComment => Some(Topic::Replies),
            Kind::Mention => Some(Topic::Mentions),
            Kind::CommentHidden | Kind::CommentDeleted | Kind::ReportResolved => None,
        }
    }
}

impl TryFrom<String> for Kind {
    type Error = String;

    fn try_from(text: String) -> Result<Kind, String> {
        Kind::parse(&text).ok_or_else(|| format!("`{text}` is not a notification kind"))
    }
}

/// The two kinds of notification mail a reader chooses for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = MailTopic)]
pub enum Topic {
    /// Replies to the reader's comments and comments in the reader's topics.
    Replies,
    /// `@mentions` of the reader.
    Mentions,
}

impl Topic {
    pub const fn as_str(self) -> &'static str {
        match self {
            Topic::Replies => "replies",
            Topic::Mentions => "mentions",
        }
    }

    pub fn parse(text: &str) -> Option<Topic> {
        [Topic::Replies, Topic::Mentions]
            .into_iter()
            .find(|t| t.as_str() == text)
    }
}

/// How a reader wants to be mailed about a topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MailChoice {
    /// In a mail soon after (one mail per `TRIBUNE_NOTIFICATION_MAIL_INTERVAL_SECONDS` at
    /// most, bundling what came meanwhile).
    #[default]
    Immediately,
    /// In one mail a day, at the newsletter digest's hour.
    Daily,
    /// Never by mail (the inbox and the live stream still have them).
    Off,
}

impl MailChoice {
    pub const fn as_str(self) -> &'static str {
        match self {
            MailChoice::Immediately => "immediately",
            MailChoice::Daily => "daily",
            MailChoice::Off => "off",
        }
    }

    pub fn parse(text: &str) -> Option<MailChoice> {
        [MailChoice::Immediately, MailChoice::Daily, MailChoice::Off]
            .into_iter()
            .find(|c| c.as_str() == text)
    }

    /// The mail queue a new notification joins under this choice.
    pub const fn queue(self) -> Option<MailQueue> {
        match self {
            MailChoice::Immediately => Some(MailQueue::Soon),
            MailChoice::Daily => Some(MailQueue::Daily),
            MailChoice::Off => None,
        }
    }
}

/// Which mail a notification waits for (`notifications.mail`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MailQueue {
    Soon,
    Daily,
}

impl MailQueue {
    pub const fn as_str(self) -> &'static str {
        match self {
            MailQueue::Soon => "soon",
            MailQueue::Daily => "daily",
        }
    }
}

/// The most readers one comment may mention (the rest of its `@names` notify nobody).
pub const MAX_MENTIONS: usize = 10;

/// The usernames a comment mentions, lowercased, first-seen order, at most [`MAX_MENTIONS`]:
/// `@name` where `@` starts the text or follows a character that cannot be in a username or
/// an address (so `a@b.example` mentions nobody), and the name is a valid username.
pub fn mentions(body: &str) -> Vec<String> {
    let name_char = |c: char| c.is_alphanumeric() || c == '_' || c == '-';
    let mut found: Vec<String> = Vec::new();
    let mut previous: Option<char> = None;
    for (at, c) in body.char_indices() {
        let starts = c == '@' && !previous.is_some_and(|p| name_char(p) || p == '.' || p == '@');
        previous = Some(c);
        if !starts {
            continue;
        }
        let rest = &body[at + 1..];
        let end = rest.find(|c: char| !name_char(c)).unwrap_or(rest.len());
        // A name ends before trailing dashes ("@anna-" at the end of a clause).
        let name = rest[..end].trim_end_matches('-');
        if crate::accounts::domain::validate_username(name).is_err() {
            continue;
        }
        let key = crate::accounts::domain::key(name);
        if !found.contains(&key) {
            found.push(key);
            if found.len() == MAX_MENTIONS {
                break;
            }
        }
    }
    found
}

/// Who a new comment notifies, in priority order (one notification per reader: a reply to a
/// topic's author's comment is a reply, not also a topic comment), never its own author.
pub fn recipients(
    actor: i64,
    replied_to: Option<i64>,
    topic_author: Option<i64>,
    mentioned: &[i64],
) -> Vec<(i64, Kind)> {
    let mut out: Vec<(i64, Kind)> = Vec::new();
    let candidates = replied_to
        .map(|id| (id, Kind::Reply))
        .into_iter()
        .chain(topic_author.map(|id| (id, Kind::TopicComment)))
        .chain(mentioned.iter().map(|&id| (id, Kind::Mention)));
    for (id, kind) in candidates {
        if id != actor && !out.iter().any(|(seen, _)| *seen == id) {
            out.push((id, kind));
        }
    }
    out
}

/// A short plain-text excerpt of a comment's Markdown: at most `chars` characters, cut at a
/// word where it can be, with an ellipsis when cut.
pub fn excerpt(markdown: &str, chars: usize) -> String {
    let text = crate::markdown::to_plain_text(markdown);
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.chars().count() <= chars {
        return text;
    }
    let cut: String = text.chars().take(chars).collect();
    let cut = match cut.rfind(' ') {
        Some(space) if space > cut.len() / 2 => &cut[..space],
        _ => cut.as_str(),
    };
    format!("{}…", cut.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_are_names_after_an_at_sign_not_addresses() {
        assert_eq!(
            mentions("@Anna and @борис, see @anna again; mail a@b.example or @x"),
            vec!["anna", "борис"]
        );
        assert_eq!(mentions("(@carol_1) @dave-"), vec!["carol_1", "dave"]);
        assert!(mentions("no one@here.example").is_empty());
        let many: String = (0..30).map(|i| format!("@user{i} ")).collect();
        assert_eq!(mentions(&many).len(), MAX_MENTIONS);
    }

    #[test]
    fn a_comment_notifies_each_reader_once_and_never_its_author() {
        assert_eq!(
            recipients(1, Some(2), Some(2), &[3, 1, 2]),
            vec![(2, Kind::Reply), (3, Kind::Mention)]
        );
        assert_eq!(recipients(1, Some(1), Some(1), &[1]), vec![]);
        assert_eq!(
            recipients(1, None, Some(4), &[]),
            vec![(4, Kind::TopicComment)]
        );
    }

    #[test]
    fn excerpts_are_short_plain_text() {
        assert_eq!(excerpt("**Hello** _world_", 50), "Hello world");
        let long = "word ".repeat(100);
        let cut = excerpt(&long, 40);
        assert!(cut.chars().count() <= 41 && cut.ends_with('…'), "{cut}");
    }

    #[test]
    fn kinds_and_choices_round_trip_their_text() {
        for kind in Kind::ALL {
            assert_eq!(Kind::parse(kind.as_str()), Some(kind));
        }
        for choice in [MailChoice::Immediately, MailChoice::Daily, MailChoice::Off] {
            assert_eq!(MailChoice::parse(choice.as_str()), Some(choice));
        }
        assert_eq!(Topic::parse("mentions"), Some(Topic::Mentions));
    }
}
