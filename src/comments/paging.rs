//! Pages of threads: the cursor format, the page budget (comments and bytes), and the paging
//! algorithm (the next roots by keyset, then all their replies in one range read; a thread
//! larger than a page continues on the next).

use std::collections::HashSet;

use actix_web::{HttpRequest, HttpResponse};

use super::domain::{self, Held};
use super::dto::*;
use super::repo::{self, CommentRow};
use super::thread::Thread;
use crate::auth::{AuthUser, Role, role_now, sees_unpublished};
use crate::config::Settings;
use crate::db::{Db, DbConn};
use crate::error::ApiError;
use crate::page_cache::{Page, PageCache};
use crate::pagination;

/// Where the next page starts: after root `root`'s whole thread, or, for a thread too large
/// for one page, inside it after the comment at path `within`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct PageKey {
    pub(crate) root: i64,
    pub(crate) within: Option<String>,
}

pub(crate) fn sort_tag(sort: Sort) -> &'static str {
    if sort == Sort::Newest { "n" } else { "o" }
}

pub(crate) fn page_cursor(sort: Sort, key: &PageKey) -> String {
    pagination::encode(&[
        sort_tag(sort).to_string(),
        key.root.to_string(),
        key.within.clone().unwrap_or_default(),
    ])
}

pub(crate) fn parse_page_cursor(sort: Sort, cursor: &str) -> Result<PageKey, ApiError> {
    let parts = pagination::decode(cursor, 3)?;
    if parts[0] != sort_tag(sort) {
        return Err(ApiError::BadRequest(
            "this cursor belongs to the other sort order; pass the same `sort` as for the \
             page it came from"
                .into(),
        ));
    }
    let root = pagination::number(&parts[1])?;
    if domain::segment(root).is_none() {
        return Err(ApiError::BadRequest(
            "cursor is not one this API gave".into(),
        ));
    }
    let within = match parts[2].as_str() {
        "" => None,
        path if domain::is_path_in(path, root) => Some(path.to_string()),
        _ => {
            return Err(ApiError::BadRequest(
                "cursor is not one this API gave".into(),
            ));
        }
    };
    Ok(PageKey { root, within })
}

pub(crate) fn path_of(id: i64) -> Result<String, ApiError> {
    domain::segment(id).ok_or_else(|| {
        ApiError::internal(anyhow::anyhow!(
            "comment id {id} does not fit a path segment"
        ))
    })
}

/// What one page may carry: `TRIBUNE_COMMENT_PAGE_MAX` comments, and `PAGE_TEXT_BYTES` of
/// text, so that no request reads or sends an unbounded amount, whatever the threads hold;
/// and whose held comments it shows (all, with hidden comments' text, to moderators, checked
/// in the database).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Budget {
    pub(crate) comments: usize,
    pub(crate) held: Held,
}

/// Bodies and their HTML on one page at most (a thread of maximal comments pages in parts).
pub(crate) const PAGE_TEXT_BYTES: usize = 2 * 1024 * 1024;

impl Budget {
    /// Whether the page shows what moderators hid.
    pub(crate) fn reveals(&self) -> bool {
        self.held == Held::All
    }

    /// How many of `rows`, in order, fit: at least one, so that paging always moves on.
    pub(crate) fn fitting(&self, rows: &[CommentRow]) -> usize {
        let sizes = rows.iter().map(|(c, _)| {
            c.body.as_ref().map_or(0, String::len) + c.body_html.as_ref().map_or(0, String::len)
        });
        domain::fitting(sizes, self.comments, PAGE_TEXT_BYTES)
            .max(1)
            .min(rows.len())
    }
}

/// One page: the roots (ids, in page order, one more than `limit` if there are more) and all
/// their replies, read as one range of paths, then nested in memory. Returns the threads and
/// where the next page starts.
///
/// When the roots' threads pass the budget, the page ends early at the last root whose thread
/// fits whole; a first thread larger than a page alone is paged in parts ([`thread_part`]).
pub(crate) fn page(
    conn: &mut DbConn,
    discussion_id: i64,
    mut roots: Vec<i64>,
    limit: usize,
    newest_first: bool,
    budget: Budget,
) -> Result<(Vec<CommentView>, Option<PageKey>), ApiError> {
    let more = roots.len() > limit;
    roots.truncate(limit);
    let (Some(&low), Some(&high)) = (roots.iter().min(), roots.iter().max()) else {
        return Ok((Vec::new(), None));
    };
    let from = path_of(low)?;
    let to = domain::thread_end(&path_of(high)?);
    // Read in page order, so that when the page is too big the whole threads are the first.
    let mut rows = repo::threads(
        conn,
        discussion_id,
        (&from, &to),
        (newest_first, budget.held),
        budget.comments as i64 + 1,
    )?;
    let mut next = more.then(|| roots.last().copied()).flatten();
    let fit = budget.fitting(&rows);
    if fit < rows.len() {
        // The thread of the first row left out may be cut: end the page before it.
        // By order, not equality: on PostgreSQL a root committed between the two reads may
        // sit in the range without being one of `roots`.
        let cut = domain::root_of(&rows[fit].0.path).unwrap_or(0);
        let whole: Vec<i64> = roots
            .iter()
            .copied()
            .take_while(|&root| if newest_first { root > cut } else { root < cut })
            .collect();
        if whole.is_empty() {
            return thread_part(conn, discussion_id, roots[0], None, newest_first, budget);
        }
        let keep: HashSet<i64> = whole.iter().copied().collect();
        rows.truncate(fit);
        rows.retain(|(c, _)| domain::root_of(&c.path).is_some_and(|r| keep.contains(&r)));
        next = whole.last().copied();
        roots = whole;
    }
    if newest_first {
        rows.reverse();
    }
    let next = next.map(|root| PageKey { root, within: None });
    let reveal = budget.reveals();
    Ok((
        domain::assemble(rows, &roots, |row, kids| view(row, kids, reveal)),
        next,
    ))
}

/// A page of one thread too large for a page: its comments after path `after` (from the root
/// when `None`), in reading order, as many as fit. Comments whose parent is on an earlier page
/// come as top-level items with their `parent_id`: clients attach them there.
pub(crate) fn thread_part(
    conn: &mut DbConn,
    discussion_id: i64,
    root: i64,
    after: Option<&str>,
    newest_first: bool,
    budget: Budget,
) -> Result<(Vec<CommentView>, Option<PageKey>), ApiError> {
    let root_path = path_of(root)?;
    // Every path after `after` in order is at least `after` + "0" (paths are digits).
    let from = after.map_or_else(|| root_path.clone(), |after| format!("{after}0"));
    let end = domain::thread_end(&root_path);
    let limit = budget.comments as i64 + 1;
    let mut rows = repo::threads(
        conn,
        discussion_id,
        (&from, &end),
        (false, budget.held),
        limit,
    )?;
    let fit = budget.fitting(&rows);
    let next = if fit < rows.len() {
        rows.truncate(fit);
        let within = rows.last().map(|(c, _)| c.path.clone());
        Some(PageKey { root, within })
    } else {
        let order = (newest_first, budget.held);
        let later = repo::root_ids(conn, discussion_id, order, Some(&root_path), 1)?;
        (!later.is_empty()).then_some(PageKey { root, within: None })
    };
    let tops = domain::tops(&rows);
    let reveal = budget.reveals();
    Ok((
        domain::assemble(rows, &tops, |row, kids| view(row, kids, reveal)),
        next,
    ))
}

pub(crate) fn view(
    (comment, author): CommentRow,
    children: Vec<CommentView>,
    reveal_hidden: bool,
) -> CommentView {
    let mut view = if reveal_hidden {
        CommentView::revealed(comment, author)
    } else {
        CommentView::new(comment, author, Vec::new())
    };
    view.children = children;
    view
}

/// Whether the caller's role now lets it see what moderators hid.
pub(crate) fn sees_hidden(role: Option<Role>) -> bool {
    role.is_some_and(|role| role.includes(Role::Moderator))
}

/// Whose held comments the caller sees in a thread where `pending` comments wait: all of them
/// (moderators), their own (a signed-in reader, only while some wait, so that every other page
/// stays everyone's), or none.
pub(crate) fn held_shown(role: Option<Role>, auth: Option<AuthUser>, pending: i64) -> Held {
    match auth {
        _ if sees_hidden(role) => Held::All,
        Some(reader) if pending > 0 => Held::Of(reader.id),
        _ => Held::None,
    }
}

/// Which page of which thread, at which version, as whom: a cached page is served only for the
/// version the database holds now, so it is never stale (see [`ThreadPages`]). Pages are
/// everyone's (`Held::None`) or moderators' (`Held::All`); a reader's own (`Held::Of`) only
/// while the thread has held comments.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct CachedPageKey {
    discussion_id: i64,
    version: i64,
    held: Held,
    newest_first: bool,
    limit: i64,
    after: Option<PageKey>,
}

/// Pages of threads kept in memory (`TRIBUNE_THREAD_CACHE_MB`), by the version of their thread.
/// A reader's page costs one primary-key read (the discussion's visibility and version) when
/// nothing changed in the thread; a change to any of its comments makes a new version, and
/// the next reader builds the page again, once however many ask at that moment.
pub struct ThreadPages(PageCache<CachedPageKey>);

impl ThreadPages {
    pub fn new(max_bytes: u64) -> Self {
        ThreadPages(PageCache::new(max_bytes))
    }
}

pub(crate) async fn list(
    req: &HttpRequest,
    db: &Db,
    settings: &Settings,
    pages: &ThreadPages,
    auth: Option<AuthUser>,
    thread: Thread,
    query: CommentQuery,
) -> Result<HttpResponse, ApiError> {
    let sort = query.sort.unwrap_or_default();
    let limit = pagination::limit(query.limit)?;
    let after = query
        .cursor
        .as_deref()
        .map(|c| parse_page_cursor(sort, c))
        .transpose()?;
    let newest_first = sort == Sort::Newest;
    let (discussion_id, version, held) = db
        .run(move |conn| {
            let role = role_now(conn, auth);
            let state = thread.version(conn, sees_unpublished(role))?;
            let held = held_shown(role, auth, state.pending);
            Ok((state.discussion_id, state.version, held))
        })
        .await?;
    let key = CachedPageKey {
        discussion_id,
        version,
        held,
        newest_first,
        limit,
        after,
    };
    let budget = Budget {
        comments: settings.comment_page_max,
        held,
    };
    let build = {
        let (db, after) = (db.clone(), key.after.clone());
        async move {
            // One snapshot: the page shows the thread as it was at one instant.
            let (items, next) = db
                .snapshot(move |conn| {
                    build_page(conn, discussion_id, after, limit, newest_first, budget)
                })
                .await?;
            let page = CommentPage {
                items,
                next_cursor: next.map(|key| page_cursor(sort, &key)),
            };
            Ok(Page::new(
                serde_json::to_vec(&page).map_err(ApiError::internal)?,
            ))
        }
    };
    let page = pages.0.get_or_build(&key, build).await?;
    // The page is everyone's; a reader who muted someone gets it with those comments marked.
    let mutes = req.app_data::<actix_web::web::Data<crate::notifications::MuteCache>>();
    if let (Some(auth), Some(mutes)) = (auth, mutes) {
        let muted = mutes.of(db, auth.id).await?;
        if let Some(marked) = crate::notifications::mark_muted(&page.body, &muted) {
            return Ok(Page::new(marked).respond(req));
        }
    }
    Ok(page.respond(req))
}

/// The page of `discussion_id`'s threads after `after`.
fn build_page(
    conn: &mut DbConn,
    discussion_id: i64,
    after: Option<PageKey>,
    limit: i64,
    newest_first: bool,
    budget: Budget,
) -> Result<(Vec<CommentView>, Option<PageKey>), ApiError> {
    if let Some(PageKey {
        root,
        within: Some(within),
    }) = &after
    {
        return thread_part(
            conn,
            discussion_id,
            *root,
            Some(within),
            newest_first,
            budget,
        );
    }
    let after = after.map(|key| path_of(key.root)).transpose()?;
    let roots = repo::root_ids(
        conn,
        discussion_id,
        (newest_first, budget.held),
        after.as_deref(),
        limit + 1,
    )?;
    page(
        conn,
        discussion_id,
        roots,
        limit as usize,
        newest_first,
        budget,
    )
}
