//! What articles' endpoints take and give.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::{Validate, ValidationError};

use super::repo::ArticleRow;
use crate::validation::required_text;

/// An article in lists.
#[derive(Debug, Serialize, ToSchema)]
pub struct ArticleItem {
    pub id: i64,
    pub slug: String,
    pub title: String,
    pub lead: String,
    pub image_url: Option<String>,
    pub published_at: DateTime<Utc>,
    /// The people, organisations and places the news mentions.
    pub tags: Vec<String>,
    pub discussion_id: i64,
    pub views: i64,
    pub replies: i64,
}

impl ArticleItem {
    pub fn new(row: &ArticleRow, tags: Vec<String>, pending: i64) -> Self {
        let ArticleRow {
            article,
            views,
            replies,
        } = row;
        ArticleItem {
            id: article.id,
            slug: article.slug.clone(),
            title: article.title.clone(),
            lead: article.lead.clone(),
            image_url: article.image_url.clone(),
            published_at: article.published_at.and_utc(),
            tags,
            discussion_id: article.discussion_id,
            views: views + pending,
            replies: *replies,
        }
    }
}

/// An article whole.
#[derive(Debug, Serialize, ToSchema)]
pub struct ArticleView {
    #[serde(flatten)]
    pub item: ArticleItem,
    pub body: String,
    pub dateline: Option<String>,
    pub source: Option<String>,
    pub image_credit: Option<String>,
    pub rights_notice: Option<String>,
    pub updated_at: DateTime<Utc>,
}

impl ArticleView {
    pub fn new(row: ArticleRow, tags: Vec<String>, pending: i64) -> Self {
        let item = ArticleItem::new(&row, tags, pending);
        let article = row.article;
        ArticleView {
            item,
            body: article.body,
            dateline: article.dateline,
            source: article.source,
            image_credit: article.image_credit,
            rights_notice: article.rights_notice,
            updated_at: article.updated_at.and_utc(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ArticlePage {
    pub items: Vec<ArticleItem>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ArticleQuery {
    /// Only articles with this tag (any case).
    pub tag: Option<String>,
    /// Items per page, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

fn title_rule(text: &str) -> Result<(), ValidationError> {
    required_text(text, 300)
}
fn lead_rule(text: &str) -> Result<(), ValidationError> {
    required_text(text, 2_000)
}
fn body_rule(text: &str) -> Result<(), ValidationError> {
    required_text(text, 200_000)
}
fn short_rule(text: &str) -> Result<(), ValidationError> {
    required_text(text, 300)
}
fn notice_rule(text: &str) -> Result<(), ValidationError> {
    required_text(text, 2_000)
}

fn slug_rule(slug: &str) -> Result<(), ValidationError> {
    let ok = (1..=120).contains(&slug.len())
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !slug.starts_with('-')
        && !slug.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(ValidationError::new("slug").with_message(
            "must be 1 to 120 lowercase Latin letters, digits and inner hyphens".into(),
        ))
    }
}

fn image_url_rule(url: &str) -> Result<(), ValidationError> {
    let ok = url.len() <= 2_000
        && (url.starts_with("https://") || url.starts_with("http://"))
        // No spaces or control characters (the schema's pattern says the same).
        && !url.contains(|c: char| c.is_whitespace() || c.is_control());
    if ok {
        Ok(())
    } else {
        Err(ValidationError::new("url").with_message("must be an http(s) URL".into()))
    }
}

/// The schema of one tag (tags travel as plain strings).
pub struct Tag;

impl utoipa::PartialSchema for Tag {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
        use utoipa::openapi::{ObjectBuilder, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some("A person, organisation or place the news mentions"))
            .min_length(Some(1))
            .max_length(Some(100))
            .pattern(Some(r"\S"))
            .into()
    }
}

impl utoipa::ToSchema for Tag {}

fn tags_rule(tags: &[String]) -> Result<(), ValidationError> {
    if tags.len() > 20 {
        return Err(ValidationError::new("count").with_message("at most 20 tags".into()));
    }
    if tags.iter().any(|t| required_text(t, 100).is_err()) {
        return Err(ValidationError::new("length")
            .with_message("each tag must be 1 to 100 characters".into()));
    }
    Ok(())
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct NewArticleRequest {
    #[validate(custom(function = "title_rule"))]
    #[schema(min_length = 1, max_length = 300, pattern = r"\S")]
    pub title: String,
    #[validate(custom(function = "lead_rule"))]
    #[schema(min_length = 1, max_length = 2000, pattern = r"\S")]
    pub lead: String,
    #[validate(custom(function = "body_rule"))]
    #[schema(min_length = 1, max_length = 200000, pattern = r"\S")]
    pub body: String,
    /// Made from the title when absent (transliterated: Cyrillic titles give readable slugs).
    #[validate(custom(function = "slug_rule"))]
    #[schema(
        min_length = 1,
        max_length = 120,
        pattern = r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$"
    )]
    pub slug: Option<String>,
    #[validate(custom(function = "short_rule"))]
    #[schema(min_length = 1, max_length = 300, pattern = r"\S")]
    pub dateline: Option<String>,
    #[validate(custom(function = "short_rule"))]
    #[schema(min_length = 1, max_length = 300, pattern = r"\S")]
    pub source: Option<String>,
    #[validate(custom(function = "image_url_rule"))]
    #[schema(max_length = 2000, pattern = r"^https?://[^\s\x00-\x1f\x7f-\x9f]*$")]
    pub image_url: Option<String>,
    #[validate(custom(function = "short_rule"))]
    #[schema(min_length = 1, max_length = 300, pattern = r"\S")]
    pub image_credit: Option<String>,
    #[validate(custom(function = "notice_rule"))]
    #[schema(min_length = 1, max_length = 2000, pattern = r"\S")]
    pub rights_notice: Option<String>,
    #[validate(custom(function = "tags_rule"))]
    #[schema(value_type = Option<Vec<Tag>>, max_items = 20)]
    pub tags: Option<Vec<String>>,
    /// Defaults to now; a future instant schedules the article (hidden until then).
    #[validate(custom(function = "crate::validation::storable_time"))]
    #[schema(
        pattern = r"^(?!0000)\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[Tt]([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,9})?([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d)$"
    )]
    pub published_at: Option<DateTime<Utc>>,
}

/// Absent: unchanged. `null`: cleared (for the optional fields).
fn present<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(deserializer).map(Some)
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct ArticleUpdate {
    #[validate(custom(function = "title_rule"))]
    #[schema(min_length = 1, max_length = 300, pattern = r"\S")]
    pub title: Option<String>,
    #[validate(custom(function = "lead_rule"))]
    #[schema(min_length = 1, max_length = 2000, pattern = r"\S")]
    pub lead: Option<String>,
    #[validate(custom(function = "body_rule"))]
    #[schema(min_length = 1, max_length = 200000, pattern = r"\S")]
    pub body: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 300, pattern = r"\S")]
    pub dateline: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 300, pattern = r"\S")]
    pub source: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, max_length = 2000, pattern = r"^https?://[^\s\x00-\x1f\x7f-\x9f]*$")]
    pub image_url: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 300, pattern = r"\S")]
    pub image_credit: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 2000, pattern = r"\S")]
    pub rights_notice: Option<Option<String>>,
    #[validate(custom(function = "tags_rule"))]
    #[schema(value_type = Option<Vec<Tag>>, max_items = 20)]
    pub tags: Option<Vec<String>>,
    #[validate(custom(function = "crate::validation::storable_time"))]
    #[schema(
        pattern = r"^(?!0000)\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[Tt]([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,9})?([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d)$"
    )]
    pub published_at: Option<DateTime<Utc>>,
}

impl ArticleUpdate {
    /// The rules for the clearable fields, which `validator` cannot see through two Options.
    pub fn validate_clearable(&self) -> Result<(), crate::error::ApiError> {
        type Rule = fn(&str) -> Result<(), ValidationError>;
        let checks: [(&str, &Option<Option<String>>, Rule); 5] = [
            ("dateline", &self.dateline, short_rule),
            ("source", &self.source, short_rule),
            ("image_url", &self.image_url, image_url_rule),
            ("image_credit", &self.image_credit, short_rule),
            ("rights_notice", &self.rights_notice, notice_rule),
        ];
        for (field, value, rule) in checks {
            if let Some(Some(text)) = value
                && let Err(e) = rule(text)
            {
                let message = e.message.map(|m| m.to_string()).unwrap_or_default();
                return Err(crate::error::ApiError::invalid(field, message));
            }
        }
        Ok(())
    }
}

/// A slug made from a title: transliterated to Latin, lowercase, hyphens, 80 characters at
/// most.
pub fn slug_from_title(title: &str) -> String {
    let slug = slug::slugify(title);
    let mut cut = String::new();
    for word in slug.split('-') {
        if !cut.is_empty() && cut.len() + 1 + word.len() > 80 {
            break;
        }
        if !cut.is_empty() {
            cut.push('-');
        }
        cut.push_str(word);
    }
    let cut: String = cut.chars().take(80).collect();
    let cut = cut.trim_matches('-').to_string();
    if cut.is_empty() {
        "article".to_string()
    } else {
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::slug_from_title;

    #[test]
    fn slugs_are_readable_for_cyrillic_titles() {
        assert_eq!(
            slug_from_title("Генсек НАТО призвал Россию к деэскалации"),
            "gensek-nato-prizval-rossiiu-k-deeskalatsii"
        );
        assert_eq!(slug_from_title("Hello, World!"), "hello-world");
        assert_eq!(slug_from_title("!!!"), "article");
        assert!(slug_from_title(&"word ".repeat(40)).len() <= 80);
    }
}
