//! Posting a comment: the one transaction that checks the account and the discussion, places
//! the comment in the tree, counts it, and moves the discussion.

use actix_web::{HttpResponse, web};
use chrono::Duration;
use diesel::OptionalExtension;

use super::domain;
use super::domain::CommentStatus;
use super::dto::*;
use super::paging::path_of;
use super::repo::{self, Comment};
use super::thread::{Thread, visible};
use crate::auth::{ActiveUser, AuthUser, Role};
use crate::config::Settings;
use crate::db::{Db, DbConn, now};
use crate::discussions;
use crate::discussions::live::Live;
use crate::error::ApiError;
use crate::markdown;
use crate::premoderation::{Hold, Premoderation};
use crate::ratelimit::RateLimits;

/// Posts a comment in the caller's transaction: places it in the tree, counts it for its
/// author (enforcing the per-account rate), moves the discussion's `replies` and
/// `last_activity_at`, and notifies who it concerns. A comment premoderation holds is written
/// `pending` and counted nowhere until a moderator approves it. Returns it, whether it was held,
/// and the live events to publish after the commit.
///
/// Locks are taken in one order everywhere (the discussion, then comments, then accounts), so
/// concurrent writers on PostgreSQL wait for each other instead of deadlocking.
pub(crate) fn post_comment(
    conn: &mut DbConn,
    (user, premoderation): (ActiveUser, &Premoderation),
    thread: &Thread,
    new: &NewComment,
    body_html: &str,
    rate_per_minute: Option<u32>,
) -> Result<(CommentView, Vec<String>), ApiError> {
    let editor = crate::auth::sees_unpublished(Some(user.role));
    let discussion_id = thread.id(conn)?;
    let at = now();
    let mut hold = premoderation.assess_comment(conn, &user, &new.body, body_html)?;
    // First the discussion (the lock order): checked and moved in one statement when the
    // comment is published at once.
    let exempt = crate::premoderation::exempt(&user);
    let published = match hold {
        None => discussions::comment_added(conn, discussion_id, (at, editor, exempt))?,
        Some(_) => None,
    };
    let (discussion, event) = match published {
        Some(published) => published,
        None => {
            let discussion = discussions::lock(conn, discussion_id)?
                .filter(|d| visible(d, editor))
                .ok_or_else(|| thread.missing())?;
            if discussion.locked {
                return Err(ApiError::Forbidden(
                    "this discussion is locked: it takes no new comments".into(),
                ));
            }
            // Open and visible: so held, by a rule or by the discussion's premoderation.
            if hold.is_none() && discussion.premoderated {
                hold = Some(Hold::discussion());
            }
            if hold.is_none() {
                return Err(thread.missing());
            }
            (discussion, None)
        }
    };
    let (parent_id, depth, parent_path, replied_to) = match new.parent_id {
        None => (None, 0, String::new(), None),
        Some(target) => reply_place(conn, discussion_id, target)?,
    };
    // This locks the account's row (PostgreSQL), so the count below is exact.
    let counted = i64::from(hold.is_none());
    let (username, display_name) = repo::count_author(conn, user.id, counted)?;
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
    let status = if hold.is_some() {
        CommentStatus::Pending
    } else {
        CommentStatus::Visible
    };
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
            status,
            created_at: at,
        },
    )?;
    // Held comments are indexed too: search shows only visible ones, so approval needs no
    // second write.
    crate::search::comment_posted(
        conn,
        &crate::search::CommentText {
            id,
            discussion_id,
            body,
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
        status,
        score: 0,
        created_at: at,
        edited_at: None,
    };
    let author = crate::discussions::AuthorRow {
        id: user.id,
        username,
        display_name,
    };
    if let Some(hold) = &hold {
        crate::premoderation::held(conn, id, user.id, hold, at)?;
        discussions::pending_moved(conn, discussion_id, 1)?;
        return Ok((
            CommentView::new(comment, Some(author), Vec::new()),
            Vec::new(),
        ));
    }
    let mut events: Vec<String> = event.into_iter().collect();
    events.extend(crate::notifications::comment_posted(
        conn,
        &crate::notifications::CommentPosted {
            comment_id: id,
            discussion: &discussion,
            actor: &author,
            replied_to,
            body,
            at,
        },
    )?);
    Ok((CommentView::new(comment, Some(author), Vec::new()), events))
}

/// Where a reply to comment `target` goes: `(parent_id, depth, parent's path, the target's
/// author)`. The comment it attaches to (the target, or past the depth cap the target's parent)
/// must be a visible comment of this discussion.
pub(crate) fn reply_place(
    conn: &mut DbConn,
    discussion_id: i64,
    target: i64,
) -> Result<(Option<i64>, i32, String, Option<i64>), ApiError> {
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
    if status != CommentStatus::Visible {
        return Err(ApiError::invalid(
            "parent_id",
            "is (or, past the deepest level, sits under) a hidden or deleted comment, which \
             takes no replies",
        ));
    }
    Ok((Some(parent), depth, path, target.author_id))
}

/// What posting a comment uses of the server's state.
pub(crate) struct Posting<'a> {
    pub(crate) db: &'a Db,
    pub(crate) live: &'a Live,
    pub(crate) settings: &'a Settings,
    pub(crate) limits: &'a RateLimits,
    pub(crate) premoderation: &'a web::Data<Premoderation>,
}

/// Posts a comment: `201`, or `202` with `status: "pending"` when it waits for a moderator.
/// The account is checked (session live, not banned, current role) inside the same
/// transaction as the write: posting is the busiest write, and this saves a round trip and a
/// connection checkout over the `ActiveUser` extractor.
pub(crate) async fn create(
    auth: AuthUser,
    posting: Posting<'_>,
    thread: Thread,
    mut new: NewComment,
) -> Result<HttpResponse, ApiError> {
    new.body = crate::validation::trimmed(&new.body).to_string();
    let body_html = markdown::to_html(&new.body);
    let rate = posting
        .limits
        .enabled()
        .then_some(posting.settings.comment_rate_per_minute);
    let premoderation = posting.premoderation.clone();
    let comment = posting
        .live
        .tx(posting.db, move |conn| {
            let user = ActiveUser::check(conn, auth)?;
            let rate = rate.filter(|_| !user.role.includes(Role::Moderator));
            let author = (user, premoderation.get_ref());
            post_comment(conn, author, &thread, &new, &body_html, rate)
        })
        .await?;
    Ok(if comment.status == CommentStatus::Pending {
        HttpResponse::Accepted().json(comment)
    } else {
        HttpResponse::Created().json(comment)
    })
}
