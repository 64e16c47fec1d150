//! Comment threads: pages of threads, posting, editing, deleting, votes and reports.

use std::collections::HashSet;

use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{Duration, NaiveDateTime};
use diesel::OptionalExtension;
use validator::Validate;

use super::domain;
use super::dto::*;
use super::repo::{self, Comment, CommentRow, DELETED, VISIBLE};
use crate::articles;
use crate::auth::{ActiveUser, AuthUser, Role, role_now, sees_unpublished};
use crate::config::Settings;
use crate::db::{Db, DbConn, now};
use crate::discussions;
use crate::discussions::live::Live;
use crate::error::{ApiError, Problem};
use crate::extract::Json;
use crate::markdown;
use crate::moderation::{self, StaffAction};
use crate::pagination;
use crate::ratelimit::{Limit, RateLimits};

/// Whose comments a request is about: a discussion's, or an article's (its discussion's).
#[derive(Debug, Clone)]
enum Thread {
    Discussion(i64),
    Article(String),
}

fn no_discussion() -> ApiError {
    ApiError::NotFound("no such discussion".into())
}

fn no_comment() -> ApiError {
    ApiError::NotFound("no such comment".into())
}

impl Thread {
    /// The discussion's id (an article's is looked up by its slug).
    fn id(&self, conn: &mut DbConn) -> Result<i64, ApiError> {
        match self {
            Thread::Discussion(id) => Ok(*id),
            Thread::Article(slug) => {
                articles::discussion_of(conn, slug)?.ok_or_else(|| self.missing())
            }
        }
    }

    /// The discussion's id, if it exists and the caller may see it now.
    fn open(&self, conn: &mut DbConn, editor: bool) -> Result<i64, ApiError> {
        let id = self.id(conn)?;
        discussions::by_id(conn, id)
            .optional()?
            .filter(|(d, _)| visible(d, editor))
            .ok_or_else(|| self.missing())?;
        Ok(id)
    }

    /// The 404 for a thread that does not exist, or not yet for this caller: the same either
    /// way, so that unpublished articles do not show.
    fn missing(&self) -> ApiError {
        match self {
            Thread::Discussion(_) => no_discussion(),
            Thread::Article(_) => ApiError::NotFound("no such article".into()),
        }
    }
}

/// Readers see a discussion from its `visible_from` on (an article's publication); editors
/// see articles before.
fn visible(discussion: &discussions::Discussion, editor: bool) -> bool {
    discussion.visible_from <= now() || editor
}

/// Where the next page starts: after root `root`'s whole thread, or, for a thread too large
/// for one page, inside it after the comment at path `within`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PageKey {
    root: i64,
    within: Option<String>,
}

fn sort_tag(sort: Sort) -> &'static str {
    if sort == Sort::Newest { "n" } else { "o" }
}

fn page_cursor(sort: Sort, key: &PageKey) -> String {
    pagination::encode(&[
        sort_tag(sort).to_string(),
        key.root.to_string(),
        key.within.clone().unwrap_or_default(),
    ])
}

fn parse_page_cursor(sort: Sort, cursor: &str) -> Result<PageKey, ApiError> {
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

fn path_of(id: i64) -> Result<String, ApiError> {
    domain::segment(id).ok_or_else(|| {
        ApiError::internal(anyhow::anyhow!(
            "comment id {id} does not fit a path segment"
        ))
    })
}

/// What one page may carry: `TRIBUNE_COMMENT_PAGE_MAX` comments, and `PAGE_TEXT_BYTES` of
/// text, so that no request reads or sends an unbounded amount, whatever the threads hold;
/// and whether it shows hidden comments' text (to moderators, checked in the database).
#[derive(Debug, Clone, Copy)]
struct Budget {
    comments: usize,
    reveal_hidden: bool,
}

/// Bodies and their HTML on one page at most (a thread of maximal comments pages in parts).
const PAGE_TEXT_BYTES: usize = 2 * 1024 * 1024;

impl Budget {
    /// How many of `rows`, in order, fit: at least one, so that paging always moves on.
    fn fitting(&self, rows: &[CommentRow]) -> usize {
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
fn page(
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
        &from,
        &to,
        newest_first,
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
    let reveal = budget.reveal_hidden;
    Ok((
        domain::assemble(rows, &roots, |row, kids| view(row, kids, reveal)),
        next,
    ))
}

/// A page of one thread too large for a page: its comments after path `after` (from the root
/// when `None`), in reading order, as many as fit. Comments whose parent is on an earlier page
/// come as top-level items with their `parent_id`: clients attach them there.
fn thread_part(
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
    let mut rows = repo::threads(conn, discussion_id, &from, &end, false, limit)?;
    let fit = budget.fitting(&rows);
    let next = if fit < rows.len() {
        rows.truncate(fit);
        let within = rows.last().map(|(c, _)| c.path.clone());
        Some(PageKey { root, within })
    } else {
        let later = repo::root_ids(conn, discussion_id, newest_first, Some(&root_path), 1)?;
        (!later.is_empty()).then_some(PageKey { root, within: None })
    };
    let tops = domain::tops(&rows);
    let reveal = budget.reveal_hidden;
    Ok((
        domain::assemble(rows, &tops, |row, kids| view(row, kids, reveal)),
        next,
    ))
}

fn view(
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
fn sees_hidden(role: Option<Role>) -> bool {
    role.is_some_and(|role| role.includes(Role::Moderator))
}

async fn list(
    db: &Db,
    settings: &Settings,
    auth: Option<AuthUser>,
    thread: Thread,
    query: CommentQuery,
) -> Result<web::Json<CommentPage>, ApiError> {
    let sort = query.sort.unwrap_or_default();
    let limit = pagination::limit(query.limit)?;
    let after = query
        .cursor
        .as_deref()
        .map(|c| parse_page_cursor(sort, c))
        .transpose()?;
    let newest_first = sort == Sort::Newest;
    let mut budget = Budget {
        comments: settings.comment_page_max,
        reveal_hidden: false,
    };
    let (items, next) = db
        .run(move |conn| {
            let role = role_now(conn, auth);
            let id = thread.open(conn, sees_unpublished(role))?;
            budget.reveal_hidden = sees_hidden(role);
            if let Some(PageKey {
                root,
                within: Some(within),
            }) = &after
            {
                return thread_part(conn, id, *root, Some(within), newest_first, budget);
            }
            let after = after.map(|key| path_of(key.root)).transpose()?;
            let roots = repo::root_ids(conn, id, newest_first, after.as_deref(), limit + 1)?;
            page(conn, id, roots, limit as usize, newest_first, budget)
        })
        .await?;
    Ok(web::Json(CommentPage {
        items,
        next_cursor: next.map(|key| page_cursor(sort, &key)),
    }))
}

/// Posts a comment in the caller's transaction: places it in the tree, counts it for its
/// author (enforcing the per-account rate), and moves the discussion's `replies` and
/// `last_activity_at`. Returns it and the live event to publish after the commit.
///
/// Locks are taken in one order everywhere (the discussion, then comments, then accounts), so
/// concurrent writers on PostgreSQL wait for each other instead of deadlocking.
fn post_comment(
    conn: &mut DbConn,
    user: ActiveUser,
    thread: &Thread,
    new: &NewComment,
    body_html: &str,
    rate_per_minute: Option<u32>,
) -> Result<(CommentView, Option<String>), ApiError> {
    let editor = user.role.includes(Role::Editor);
    let discussion_id = thread.id(conn)?;
    let at = now();
    // First the discussion (the lock order), checked and moved in one statement.
    let Some((_, event)) = discussions::comment_added(conn, discussion_id, at, editor)? else {
        let discussion = discussions::by_id(conn, discussion_id)
            .optional()?
            .filter(|(d, _)| visible(d, editor))
            .ok_or_else(|| thread.missing())?;
        return Err(if discussion.0.locked {
            ApiError::Forbidden("this discussion is locked: it takes no new comments".into())
        } else {
            thread.missing()
        });
    };
    let (parent_id, depth, parent_path) = match new.parent_id {
        None => (None, 0, String::new()),
        Some(target) => reply_place(conn, discussion_id, target)?,
    };
    // This locks the account's row (PostgreSQL), so the count below is exact.
    let (username, display_name) = repo::count_author(conn, user.id, 1)?;
    if let Some(limit) = rate_per_minute {
        let window = Duration::minutes(1);
        let (posted, first) = repo::posted_since(conn, user.id, at - window)?;
        if posted >= i64::from(limit) {
            let wait = first.map_or(60, |first| (first + window - at).num_seconds());
            return Err(ApiError::RateLimited {
                retry_after: wait.max(1) as u64,
            });
        }
    }
    let body = new.body.as_str();
    let id = repo::insert(
        conn,
        &repo::NewComment {
            discussion_id,
            parent_id,
            depth,
            parent_path: &parent_path,
            author_id: Some(user.id),
            body: Some(body),
            body_html: Some(body_html),
            created_at: at,
        },
    )?;
    let comment = Comment {
        id,
        discussion_id,
        parent_id,
        depth,
        path: format!("{parent_path}{}", path_of(id)?),
        author_id: Some(user.id),
        body: Some(body.to_string()),
        body_html: Some(body_html.to_string()),
        status: VISIBLE.to_string(),
        score: 0,
        created_at: at,
        edited_at: None,
    };
    let author = Some((user.id, username, display_name));
    Ok((CommentView::new(comment, author, Vec::new()), event))
}

/// Where a reply to comment `target` goes: `(parent_id, depth, parent's path)`. The comment it
/// attaches to (the target, or past the depth cap the target's parent) must be a visible
/// comment of this discussion.
fn reply_place(
    conn: &mut DbConn,
    discussion_id: i64,
    target: i64,
) -> Result<(Option<i64>, i32, String), ApiError> {
    let not_here = || ApiError::invalid("parent_id", "is not a comment of this discussion");
    let target = repo::by_id(conn, target)
        .optional()?
        .map(|(c, _)| c)
        .filter(|c| c.discussion_id == discussion_id)
        .ok_or_else(not_here)?;
    let (parent, depth, path) =
        domain::attach_reply(target.id, target.parent_id, target.depth, &target.path);
    let status = if parent == target.id {
        target.status
    } else {
        repo::by_id(conn, parent)?.0.status
    };
    if status != VISIBLE {
        return Err(ApiError::invalid(
            "parent_id",
            "is (or, past the deepest level, sits under) a hidden or deleted comment, which \
             takes no replies",
        ));
    }
    Ok((Some(parent), depth, path))
}

/// Posts a comment. The account is checked (session live, not banned, current role) inside
/// the same transaction as the write: posting is the busiest write, and this saves a round
/// trip and a connection checkout over the `ActiveUser` extractor.
async fn create(
    auth: AuthUser,
    db: &Db,
    live: &Live,
    settings: &Settings,
    limits: &RateLimits,
    thread: Thread,
    mut new: NewComment,
) -> Result<HttpResponse, ApiError> {
    new.validate()?;
    new.body = new.body.trim().to_string();
    let body_html = markdown::to_html(&new.body);
    let rate = limits.enabled().then_some(settings.comment_rate_per_minute);
    let comment = live
        .tx(db, move |conn| {
            let user = ActiveUser::check(conn, auth)?;
            let rate = rate.filter(|_| !user.role.includes(Role::Moderator));
            post_comment(conn, user, &thread, &new, &body_html, rate)
        })
        .await?;
    Ok(HttpResponse::Created().json(comment))
}

/// The comment threads of a discussion: a page of root comments, each with all its replies
/// nested in `children`.
#[utoipa::path(
    tag = "comments",
    params(("id" = i64, Path, description = "The discussion"), CommentQuery),
    responses(
        (status = 200, description = "A page of threads", body = CommentPage),
        (status = 400, description = "Bad cursor, limit or sort", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such discussion", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/api/v1/discussions/{id}/comments")]
pub async fn discussion_comments(
    auth: Option<AuthUser>,
    db: web::Data<Db>,
    settings: web::Data<Settings>,
    path: web::Path<i64>,
    query: web::Query<CommentQuery>,
) -> Result<web::Json<CommentPage>, ApiError> {
    let thread = Thread::Discussion(path.into_inner());
    list(&db, &settings, auth, thread, query.into_inner()).await
}

/// The comment threads of an article's discussion, as for a discussion.
#[utoipa::path(
    tag = "comments",
    params(("slug" = String, Path, description = "The article"), CommentQuery),
    responses(
        (status = 200, description = "A page of threads", body = CommentPage),
        (status = 400, description = "Bad cursor, limit or sort", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such article", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/api/v1/articles/{slug}/comments")]
pub async fn article_comments(
    auth: Option<AuthUser>,
    db: web::Data<Db>,
    settings: web::Data<Settings>,
    path: web::Path<String>,
    query: web::Query<CommentQuery>,
) -> Result<web::Json<CommentPage>, ApiError> {
    let thread = Thread::Article(path.into_inner());
    list(&db, &settings, auth, thread, query.into_inner()).await
}

/// Posts a comment, or a reply with `parent_id`. Bumps the discussion's `last_activity_at`
/// and `replies`. A reply to a comment at the deepest level joins that comment's siblings.
#[utoipa::path(
    tag = "comments",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The discussion")),
    request_body = NewComment,
    responses(
        (status = 201, description = "The new comment", body = CommentView),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The discussion is locked, or the account is banned", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such discussion", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid body or parent_id", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many comments in the last minute", body = Problem, content_type = "application/problem+json",
         headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
#[post("/api/v1/discussions/{id}/comments")]
pub async fn post_discussion_comment(
    user: AuthUser,
    db: web::Data<Db>,
    live: web::Data<Live>,
    settings: web::Data<Settings>,
    limits: web::Data<RateLimits>,
    path: web::Path<i64>,
    body: Json<NewComment>,
) -> Result<HttpResponse, ApiError> {
    let thread = Thread::Discussion(path.into_inner());
    create(
        user,
        &db,
        &live,
        &settings,
        &limits,
        thread,
        body.into_inner(),
    )
    .await
}

/// Posts a comment on an article, as on a discussion.
#[utoipa::path(
    tag = "comments",
    security(("bearer" = [])),
    params(("slug" = String, Path, description = "The article")),
    request_body = NewComment,
    responses(
        (status = 201, description = "The new comment", body = CommentView),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The discussion is locked, or the account is banned", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such article", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid body or parent_id", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many comments in the last minute", body = Problem, content_type = "application/problem+json",
         headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
#[post("/api/v1/articles/{slug}/comments")]
pub async fn post_article_comment(
    user: AuthUser,
    db: web::Data<Db>,
    live: web::Data<Live>,
    settings: web::Data<Settings>,
    limits: web::Data<RateLimits>,
    path: web::Path<String>,
    body: Json<NewComment>,
) -> Result<HttpResponse, ApiError> {
    let thread = Thread::Article(path.into_inner());
    create(
        user,
        &db,
        &live,
        &settings,
        &limits,
        thread,
        body.into_inner(),
    )
    .await
}

/// One comment with its replies (a permalink), as many as a page of threads may carry.
#[utoipa::path(
    tag = "comments",
    params(("id" = i64, Path, description = "The comment")),
    responses(
        (status = 200, description = "The comment and its replies", body = CommentView),
        (status = 404, description = "No such comment", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/api/v1/comments/{id}")]
pub async fn show_comment(
    auth: Option<AuthUser>,
    db: web::Data<Db>,
    settings: web::Data<Settings>,
    path: web::Path<i64>,
) -> Result<web::Json<CommentView>, ApiError> {
    let id = path.into_inner();
    let budget = Budget {
        comments: settings.comment_page_max,
        reveal_hidden: false,
    };
    let comment = db
        .run(move |conn| {
            let role = role_now(conn, auth);
            let reveal = sees_hidden(role);
            let (comment, _) = repo::by_id(conn, id).optional()?.ok_or_else(no_comment)?;
            Thread::Discussion(comment.discussion_id)
                .open(conn, sees_unpublished(role))
                .map_err(|e| match e {
                    ApiError::NotFound(_) => no_comment(),
                    other => other,
                })?;
            let end = domain::thread_end(&comment.path);
            let limit = budget.comments as i64;
            let mut rows = repo::threads(
                conn,
                comment.discussion_id,
                &comment.path,
                &end,
                false,
                limit,
            )?;
            rows.truncate(budget.fitting(&rows));
            domain::assemble(rows, &[id], |row, kids| view(row, kids, reveal))
                .pop()
                .ok_or_else(no_comment)
        })
        .await?;
    Ok(web::Json(comment))
}

/// A comment to change, with its discussion: `404` when either is missing or the caller may
/// not see the discussion yet. The comment's row is locked. With `lock_discussion` (changes
/// that move the discussion's counters), the discussion's row is locked first, keeping the
/// one lock order (discussion, comment, account).
pub(crate) fn comment_to_change(
    conn: &mut DbConn,
    id: i64,
    user: &ActiveUser,
    lock_discussion: bool,
) -> Result<(Comment, discussions::Discussion), ApiError> {
    // Editors and moderators see discussions before publication.
    let editor = user.role.includes(Role::Editor) || user.role.includes(Role::Moderator);
    let discussion_id = if lock_discussion {
        repo::by_id(conn, id)
            .optional()?
            .ok_or_else(no_comment)?
            .0
            .discussion_id
    } else {
        repo::lock(conn, id)
            .optional()?
            .ok_or_else(no_comment)?
            .discussion_id
    };
    let discussion = if lock_discussion {
        discussions::lock(conn, discussion_id)?
    } else {
        discussions::by_id(conn, discussion_id)
            .optional()?
            .map(|(d, _)| d)
    };
    let discussion = discussion
        .filter(|d| visible(d, editor))
        .ok_or_else(no_comment)?;
    let comment = repo::lock(conn, id).optional()?.ok_or_else(no_comment)?;
    Ok((comment, discussion))
}

fn edit_rules(
    comment: &Comment,
    user: &ActiveUser,
    locked: bool,
    window: Duration,
    at: NaiveDateTime,
) -> Result<(), ApiError> {
    if comment.status == DELETED {
        return Err(ApiError::Forbidden(
            "a deleted comment cannot be edited".into(),
        ));
    }
    if user.role.includes(Role::Moderator) {
        return Ok(());
    }
    if comment.author_id != Some(user.id) {
        return Err(ApiError::Forbidden(
            "only its author or a moderator may edit a comment".into(),
        ));
    }
    if comment.status != VISIBLE {
        return Err(ApiError::Forbidden(
            "a hidden comment cannot be edited".into(),
        ));
    }
    if locked {
        return Err(ApiError::Forbidden(
            "this discussion is locked: its comments cannot be edited".into(),
        ));
    }
    if at - comment.created_at > window {
        return Err(ApiError::Forbidden(format!(
            "comments can be edited for {} minutes after they are posted",
            window.num_minutes()
        )));
    }
    Ok(())
}

/// Edits a comment: its author within the edit window, or a moderator at any time.
#[utoipa::path(
    tag = "comments",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The comment")),
    request_body = CommentEdit,
    responses(
        (status = 200, description = "The edited comment (without its replies)", body = CommentView),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the author, the edit window has passed, or the discussion is locked", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such comment", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid body", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many edits and deletions (`TRIBUNE_WRITE_RATE`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/api/v1/comments/{id}")]
pub async fn edit_comment(
    user: ActiveUser,
    db: web::Data<Db>,
    limits: web::Data<RateLimits>,
    settings: web::Data<Settings>,
    path: web::Path<i64>,
    body: Json<CommentEdit>,
) -> Result<web::Json<CommentView>, ApiError> {
    let id = path.into_inner();
    let mut edit = body.into_inner();
    edit.validate()?;
    edit.body = edit.body.trim().to_string();
    let body_html = markdown::to_html(&edit.body);
    let window = Duration::minutes(settings.edit_window_minutes);
    let row = db
        .tx(move |conn| {
            let (comment, discussion) = comment_to_change(conn, id, &user, false)?;
            let at = now();
            edit_rules(&comment, &user, discussion.locked, window, at)?;
            // Counted last, after the rows that come first in the lock order.
            limits.hit_account(conn, Limit::Writes, &user)?;
            repo::edit(conn, id, &edit.body, &body_html, at)?;
            if comment.author_id != Some(user.id) {
                moderation::audit(
                    conn,
                    &StaffAction {
                        actor_id: user.id,
                        action: "edit",
                        target_type: "comment",
                        target_id: id,
                        previous: comment.body.as_deref(),
                    },
                )?;
            }
            Ok(repo::by_id(conn, id)?)
        })
        .await?;
    let moderator = user.role.includes(Role::Moderator);
    Ok(web::Json(view(row, Vec::new(), moderator)))
}

/// Deletes a comment: its author, or a moderator. It keeps its place in the tree (`status:
/// "deleted"`, no body, no author) and its replies stay. An author's own deletion erases the
/// text; a moderator's keeps it on record for moderators. Deleting twice is a `204` too.
#[utoipa::path(
    tag = "comments",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The comment")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Neither its author nor a moderator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such comment", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many edits and deletions (`TRIBUNE_WRITE_RATE`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/api/v1/comments/{id}")]
pub async fn delete_comment(
    user: ActiveUser,
    db: web::Data<Db>,
    limits: web::Data<RateLimits>,
    live: web::Data<Live>,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    live.tx(&db, move |conn| {
        let (comment, _) = comment_to_change(conn, id, &user, true)?;
        let own = comment.author_id == Some(user.id);
        if !own && !user.role.includes(Role::Moderator) {
            return Err(ApiError::Forbidden(
                "only its author or a moderator may delete a comment".into(),
            ));
        }
        if comment.status == DELETED {
            return Ok(((), None));
        }
        limits.hit_account(conn, Limit::Writes, &user)?;
        if !own {
            moderation::audit(
                conn,
                &StaffAction {
                    actor_id: user.id,
                    action: "delete",
                    target_type: "comment",
                    target_id: id,
                    previous: comment.body.as_deref(),
                },
            )?;
        }
        let was_visible = comment.status == VISIBLE;
        repo::set_status(conn, id, DELETED, own && was_visible)?;
        if !was_visible {
            return Ok(((), None));
        }
        let (_, event) = discussions::replies_moved(conn, comment.discussion_id, -1)?
            .ok_or_else(no_discussion)?;
        if let Some(author) = comment.author_id {
            repo::count_author(conn, author, -1)?;
        }
        Ok(((), event))
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Votes on a comment: 1, -1, or 0 to take the vote back. One vote per user per comment (a new
/// vote replaces the old); not on one's own comment.
#[utoipa::path(
    tag = "comments",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The comment")),
    request_body = Vote,
    responses(
        (status = 200, description = "The comment's score now", body = Score),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "One's own comment, or one that is hidden or deleted", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such comment", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`value` is not 1, -1 or 0", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many votes (`TRIBUNE_VOTE_RATE`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/comments/{id}/vote")]
pub async fn vote(
    user: ActiveUser,
    db: web::Data<Db>,
    limits: web::Data<RateLimits>,
    path: web::Path<i64>,
    body: Json<Vote>,
) -> Result<web::Json<Score>, ApiError> {
    let id = path.into_inner();
    let value = body.into_inner();
    value.validate()?;
    let value = value.value;
    let score = db
        .tx(move |conn| {
            let (comment, _) = comment_to_change(conn, id, &user, false)?;
            if comment.author_id == Some(user.id) {
                return Err(ApiError::Forbidden(
                    "you cannot vote on your own comment".into(),
                ));
            }
            if comment.status != VISIBLE {
                return Err(ApiError::Forbidden(
                    "only visible comments take votes".into(),
                ));
            }
            limits.hit_account(conn, Limit::Votes, &user)?;
            let previous = repo::vote_of(conn, id, user.id)?;
            if previous == value {
                return Ok(comment.score);
            }
            Ok(repo::set_vote(conn, id, user.id, previous, value, now())?)
        })
        .await?;
    Ok(web::Json(Score { score, value }))
}

/// Reports a comment to the moderators, with a reason; once per user per comment.
#[utoipa::path(
    tag = "comments",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The comment")),
    request_body = NewReport,
    responses(
        (status = 202, description = "The report is in the moderators' queue", body = ReportReceipt),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "One's own comment, or a deleted one", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such comment", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already reported by this user", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid reason", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many reports (`TRIBUNE_REPORT_RATE`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/comments/{id}/report")]
pub async fn report(
    user: ActiveUser,
    db: web::Data<Db>,
    limits: web::Data<RateLimits>,
    path: web::Path<i64>,
    body: Json<NewReport>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let report = body.into_inner();
    report.validate()?;
    let receipt = db
        .tx(move |conn| {
            let (comment, _) = repo::by_id(conn, id).optional()?.ok_or_else(no_comment)?;
            let editor = user.role.includes(Role::Editor);
            discussions::by_id(conn, comment.discussion_id)
                .optional()?
                .filter(|(d, _)| visible(d, editor))
                .ok_or_else(no_comment)?;
            if comment.author_id == Some(user.id) {
                return Err(ApiError::Forbidden(
                    "you cannot report your own comment".into(),
                ));
            }
            if comment.status == DELETED {
                return Err(ApiError::Forbidden("this comment is deleted".into()));
            }
            limits.hit_account(conn, Limit::Reports, &user)?;
            let report_id = repo::report(conn, id, user.id, report.reason.trim(), now())?
                .ok_or_else(|| {
                    ApiError::AlreadyDone("you have already reported this comment".into())
                })?;
            Ok(ReportReceipt {
                id: report_id,
                comment_id: id,
                status: "open".into(),
            })
        })
        .await?;
    Ok(HttpResponse::Accepted().json(receipt))
}
