//! The export's body, streamed: the head (account, settings), then each list a page at a time,
//! each page read on its own connection turn. The document is not one snapshot: a comment
//! posted while the export runs may or may not be in it.

use actix_web::web::Bytes;
use futures_util::Stream;
use serde::Serialize;

use super::repo::{self, PAGE};
use crate::db::{Db, DbConn};
use crate::error::ApiError;

/// Whose data: the account, and the address its newsletter subscription may be under.
#[derive(Debug, Clone)]
pub struct Owner {
    pub user_id: i64,
    pub email_key: String,
}

/// The lists of [`super::dto::AccountExport`], in the document's order.
#[derive(Debug, Clone, Copy)]
enum List {
    Sessions,
    Topics,
    Comments,
    Votes,
    Reports,
    Newsletter,
    Mutes,
    Notifications,
}

const LISTS: [List; 8] = [
    List::Sessions,
    List::Topics,
    List::Comments,
    List::Votes,
    List::Reports,
    List::Newsletter,
    List::Mutes,
    List::Notifications,
];

impl List {
    fn name(self) -> &'static str {
        match self {
            List::Sessions => "sessions",
            List::Topics => "topics",
            List::Comments => "comments",
            List::Votes => "votes",
            List::Reports => "reports",
            List::Newsletter => "newsletter",
            List::Mutes => "mutes",
            List::Notifications => "notifications",
        }
    }

    /// The page after key `after`, written as JSON items (each preceded by a comma unless it
    /// opens the list): the bytes, the last key, how many.
    fn page(
        self,
        conn: &mut DbConn,
        owner: &Owner,
        after: i64,
        opens: bool,
    ) -> Result<Page, ApiError> {
        let id = owner.user_id;
        match self {
            List::Sessions => write(repo::sessions_after(conn, id, after)?, opens),
            List::Topics => write(repo::topics_after(conn, id, after)?, opens),
            List::Comments => write(repo::comments_after(conn, id, after)?, opens),
            List::Votes => write(repo::votes_after(conn, id, after)?, opens),
            List::Reports => write(repo::reports_after(conn, id, after)?, opens),
            List::Newsletter => write(
                repo::subscriptions_after(conn, (id, &owner.email_key), after)?,
                opens,
            ),
            List::Mutes => write(repo::mutes_after(conn, id, after)?, opens),
            List::Notifications => write(repo::notifications_after(conn, id, after)?, opens),
        }
    }
}

struct Page {
    bytes: Vec<u8>,
    last: i64,
    rows: usize,
}

fn write<T: Serialize>(rows: Vec<(i64, T)>, opens: bool) -> Result<Page, ApiError> {
    let mut bytes = Vec::with_capacity(rows.len() * 256);
    let (count, mut last) = (rows.len(), 0);
    for (i, (key, row)) in rows.into_iter().enumerate() {
        if i > 0 || !opens {
            bytes.push(b',');
        }
        serde_json::to_writer(&mut bytes, &row).map_err(ApiError::internal)?;
        last = key;
    }
    Ok(Page {
        bytes,
        last,
        rows: count,
    })
}

/// Where the stream is.
enum At {
    Head(Vec<u8>),
    /// In list `LISTS[index]`, after key `after`; `opens`: nothing of it is written yet.
    List {
        index: usize,
        after: i64,
        opens: bool,
    },
    End,
}

/// The document: `head` (an object's first members, without the closing brace), then the
/// lists, then `}`.
pub fn body(db: Db, owner: Owner, head: Vec<u8>) -> impl Stream<Item = Result<Bytes, ApiError>> {
    futures_util::stream::try_unfold(Some(At::Head(head)), move |at| {
        let (db, owner) = (db.clone(), owner.clone());
        async move {
            let Some(at) = at else {
                return Ok(None);
            };
            Ok(Some(match at {
                At::Head(head) => (Bytes::from(head), Some(next_list(0))),
                At::List {
                    index,
                    after,
                    opens,
                } => {
                    let list = LISTS[index];
                    let page = db
                        .run(move |conn| list.page(conn, &owner, after, opens))
                        .await?;
                    let mut bytes = Vec::with_capacity(page.bytes.len() + 32);
                    if opens {
                        bytes.extend_from_slice(format!(",\"{}\":[", list.name()).as_bytes());
                    }
                    bytes.extend_from_slice(&page.bytes);
                    let next = if page.rows < PAGE as usize {
                        bytes.push(b']');
                        next_list(index + 1)
                    } else {
                        At::List {
                            index,
                            after: page.last,
                            opens: false,
                        }
                    };
                    (Bytes::from(bytes), Some(next))
                }
                At::End => (Bytes::from_static(b"}"), None),
            }))
        }
    })
}

fn next_list(index: usize) -> At {
    if index < LISTS.len() {
        At::List {
            index,
            after: 0,
            opens: true,
        }
    } else {
        At::End
    }
}
