//! What the search endpoint takes and gives.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::SearchKind;
use crate::discussions::dto::Author;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// What to look for: words (any form: "ракеты" finds "ракета", "missiles" finds
    /// "missile"), `"a phrase"` in quotes; the last word also matches as a prefix unless the
    /// query ends with a space. Other characters only separate words.
    /// (Required; a missing one is answered like an empty one: `422` naming `q`.)
    #[param(required = true, min_length = 1, max_length = 200)]
    #[serde(default)]
    pub q: String,
    /// Only this kind of result.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub kind: Option<SearchKind>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Results per page, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// Moderators: find hidden comments too.
    pub include_hidden: Option<bool>,
}

/// One result.
#[derive(Debug, Serialize, ToSchema)]
pub struct SearchHit {
    pub kind: SearchKind,
    /// The article's id, the topic's (its discussion's) id, or the comment's id.
    pub id: i64,
    /// Where it is: the discussion (an article's discussion for the article and its comments).
    pub discussion_id: i64,
    /// The comment, for a comment (link: the discussion, then `#c{comment_id}`).
    pub comment_id: Option<i64>,
    /// The article's slug, for an article and for comments under one.
    pub article_slug: Option<String>,
    /// The article's or topic's title (for a comment: its discussion's).
    pub title: String,
    /// A passage of the text around what was found, as sanitized HTML: the text escaped, the
    /// words found in `<mark>`.
    pub snippet_html: String,
    /// Null for articles, and for comments of deleted accounts.
    pub author: Option<Author>,
    /// Hidden comments (moderators' `include_hidden` only) say so.
    pub hidden: bool,
    #[serde(serialize_with = "crate::timestamp::rfc3339")]
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SearchPage {
    /// Best first (ties: newest first).
    pub items: Vec<SearchHit>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}
