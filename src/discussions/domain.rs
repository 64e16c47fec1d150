//! The vocabulary of discussions.

/// What a discussion is about: an article (editors'), or a topic a reader started. Stored as
/// its lowercase name.
#[derive(Debug, Clone, Copy, serde::Serialize, utoipa::ToSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Article,
    Topic,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Article => "article",
            Kind::Topic => "topic",
        }
    }
}

impl TryFrom<String> for Kind {
    type Error = String;

    fn try_from(text: String) -> Result<Kind, String> {
        match text.as_str() {
            "article" => Ok(Kind::Article),
            "topic" => Ok(Kind::Topic),
            other => Err(format!("`{other}` is not a kind of discussion")),
        }
    }
}

impl From<Kind> for String {
    fn from(kind: Kind) -> String {
        kind.as_str().to_string()
    }
}
