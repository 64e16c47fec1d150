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

impl crate::db::FromName for Kind {
    fn from_name(name: &str) -> Option<Kind> {
        match name {
            "article" => Some(Kind::Article),
            "topic" => Some(Kind::Topic),
            _ => None,
        }
    }
}

impl From<crate::db::Named<Kind>> for Kind {
    fn from(named: crate::db::Named<Kind>) -> Kind {
        named.0
    }
}

impl From<Kind> for String {
    fn from(kind: Kind) -> String {
        kind.as_str().to_string()
    }
}
