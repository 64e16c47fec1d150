//! Ids of the things that meet in one signature, typed so that a call cannot swap them
//! (`vote_of(conn, CommentId(c), UserId(u))`). Rows and answers keep plain `i64`s: the database
//! and the clients know them as numbers.

/// An account's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UserId(pub i64);

/// A comment's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CommentId(pub i64);

/// A session's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionId(pub i64);

/// A newsletter subscriber's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SubscriberId(pub i64);
