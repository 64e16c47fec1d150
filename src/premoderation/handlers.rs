//! Admins' word rules and moderators' queue of held comments. Every rule change and every
//! decision is in the audit log, in the same transaction.

use std::collections::BTreeSet;

use actix_web::{HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use diesel::OptionalExtension;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::domain::{self, Decision, HoldReason, RuleAction};
use super::{History, Premoderation, repo};
use crate::auth::{ActiveUser, Role};
use crate::comments::{self, dto::CommentView};
use crate::db::{Db, DbConn, now};
use crate::discussions::live::Live;
use crate::error::{ApiError, Problem};
use crate::moderation;
use crate::pagination;

/// The most word rules a site may have (each post is checked against all of them).
pub const MAX_RULES: usize = 5_000;

/// A word rule.
#[derive(Debug, Serialize, ToSchema)]
pub struct WordRuleView {
    pub id: i64,
    /// As the admin wrote it.
    pub phrase: String,
    pub action: RuleAction,
    /// What a refused writer is told (for `reject`).
    pub reason: String,
    pub created_by: Option<i64>,
    pub created_at: DateTime<Utc>,
}

impl From<repo::WordRule> for WordRuleView {
    fn from(rule: repo::WordRule) -> Self {
        WordRuleView {
            id: rule.id,
            phrase: rule.phrase,
            action: rule.action,
            reason: rule.reason,
            created_by: rule.created_by,
            created_at: rule.created_at.and_utc(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WordRules {
    /// Oldest first; at most 5,000.
    pub items: Vec<WordRuleView>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct NewWordRule {
    /// A word or phrase, matched on whole words, in any case, with `ё` as `е` and Latin and
    /// Cyrillic look-alike letters as one. It must hold a letter or digit of any script (`422`
    /// otherwise), which a schema's `\w` (ASCII only) cannot say.
    #[validate(custom(function = "phrase_rule"))]
    #[schema(min_length = 1, max_length = 100, pattern = r"\S")]
    pub phrase: String,
    pub action: RuleAction,
    /// What a refused writer is told, instead of the word (default: "this text breaks the
    /// site's rules").
    #[validate(custom(function = "reason_rule"))]
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub reason: Option<String>,
}

fn phrase_rule(phrase: &str) -> Result<(), validator::ValidationError> {
    crate::validation::required_text(phrase, 100)?;
    if domain::fold(phrase).is_empty() {
        return Err(validator::ValidationError::new("words")
            .with_message("must contain a word (letters or digits)".into()));
    }
    Ok(())
}

fn reason_rule(reason: &str) -> Result<(), validator::ValidationError> {
    crate::validation::required_text(reason, 200)
}

const DEFAULT_REASON: &str = "this text breaks the site's rules";

/// The word rules.
#[utoipa::path(
    tag = "premoderation",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Every rule", body = WordRules),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/api/v1/admin/word-rules")]
pub async fn list_rules(
    user: ActiveUser,
    db: web::Data<Db>,
) -> Result<web::Json<WordRules>, ApiError> {
    user.require(Role::Admin)?;
    let rules = db.run(|conn| Ok(repo::rules(conn)?)).await?;
    Ok(web::Json(WordRules {
        items: rules.into_iter().map(WordRuleView::from).collect(),
    }))
}

/// Adds a word rule: new comments and topics containing the phrase are refused (`reject`) or
/// held for a moderator (`hold`). Applies in every process within two seconds.
#[utoipa::path(
    tag = "premoderation",
    security(("bearer" = [])),
    request_body = NewWordRule,
    responses(
        (status = 201, description = "The rule", body = WordRuleView),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A rule for this phrase exists", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid phrase, action or reason, or 5,000 rules already", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/admin/word-rules")]
pub async fn add_rule(
    user: ActiveUser,
    db: web::Data<Db>,
    premoderation: web::Data<Premoderation>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Admin)?;
    let new = crate::extract::parse::<NewWordRule>(&body)?;
    new.validate()?;
    let rule = db
        .tx(move |conn| {
            if repo::rules(conn)?.len() >= MAX_RULES {
                return Err(ApiError::invalid(
                    "phrase",
                    format!("a site has at most {MAX_RULES} word rules: delete some first"),
                ));
            }
            let phrase = crate::validation::trimmed(&new.phrase);
            let reason = new.reason.as_deref().map(crate::validation::trimmed);
            let id = repo::add_rule(
                conn,
                &repo::NewRule {
                    phrase,
                    folded: &domain::fold(phrase),
                    action: new.action,
                    reason: reason.unwrap_or(DEFAULT_REASON),
                    created_by: user.id,
                    at: now(),
                },
            )?
            .ok_or_else(|| ApiError::Conflict {
                field: "phrase".into(),
            })?;
            let noted = format!("{} `{phrase}`", new.action.as_str());
            moderation::audit_decision(conn, user.id, "add", ("word_rule", id), Some(&noted))?;
            let rule = repo::rules(conn)?.into_iter().find(|r| r.id == id);
            rule.ok_or_else(|| ApiError::internal(anyhow::anyhow!("word rule {id} vanished")))
        })
        .await?;
    premoderation.forget_rules();
    Ok(HttpResponse::Created().json(WordRuleView::from(rule)))
}

/// Deletes a word rule. Comments it held still wait for a moderator.
#[utoipa::path(
    tag = "premoderation",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The rule")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such rule", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/api/v1/admin/word-rules/{id}")]
pub async fn delete_rule(
    user: ActiveUser,
    db: web::Data<Db>,
    premoderation: web::Data<Premoderation>,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Admin)?;
    let id = path.into_inner();
    db.tx(move |conn| {
        if repo::delete_rule(conn, id)? == 0 {
            return Err(ApiError::NotFound("no such word rule".into()));
        }
        moderation::audit_decision(conn, user.id, "delete", ("word_rule", id), None)
    })
    .await?;
    premoderation.forget_rules();
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PendingQuery {
    /// Comments per page, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The rule that held a comment.
#[derive(Debug, Serialize, ToSchema)]
pub struct HoldingRule {
    /// Null when the rule was deleted since.
    pub id: Option<i64>,
    pub phrase: Option<String>,
}

/// What moderators know of a held comment's author.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuthorHistory {
    pub account_created_at: Option<DateTime<Utc>>,
    /// Whole days since the account was made.
    pub account_age_days: Option<i64>,
    /// Comments of theirs readers see now.
    pub published_comments: i64,
    /// Held comments of theirs moderators approved.
    pub approved: i64,
    /// Held comments of theirs moderators rejected.
    pub rejected: i64,
}

/// A comment waiting for a moderator.
#[derive(Debug, Serialize, ToSchema)]
pub struct PendingComment {
    /// The comment, as its author wrote it (`status: "pending"`).
    pub comment: CommentView,
    pub discussion_id: i64,
    pub discussion_title: String,
    pub reason: HoldReason,
    /// For `reason: "word_rule"`.
    pub rule: Option<HoldingRule>,
    pub held_at: DateTime<Utc>,
    pub author: AuthorHistory,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PendingPage {
    /// Oldest first.
    pub items: Vec<PendingComment>,
    pub next_cursor: Option<String>,
}

/// The premoderation queue: held comments, oldest first, with why each was held and its
/// author's history.
#[utoipa::path(
    tag = "premoderation",
    security(("bearer" = [])),
    params(PendingQuery),
    responses(
        (status = 200, description = "A page of the queue", body = PendingPage),
        (status = 400, description = "Bad cursor or limit", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a moderator", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/api/v1/admin/pending")]
pub async fn pending_queue(
    user: ActiveUser,
    db: web::Data<Db>,
    query: web::Query<PendingQuery>,
) -> Result<web::Json<PendingPage>, ApiError> {
    user.require(Role::Moderator)?;
    let query = query.into_inner();
    let limit = pagination::limit(query.limit)?;
    let after = pagination::time_id_cursor(query.cursor.as_deref())?;
    let (mut waiting, decisions, comments) = db
        .snapshot(move |conn| {
            let waiting = repo::queue(conn, after, limit + 1)?;
            let authors: Vec<i64> = waiting.iter().filter_map(|w| w.author_id).collect();
            let decisions = repo::decisions_of(conn, &authors)?;
            let mut comments = Vec::with_capacity(waiting.len());
            for entry in &waiting {
                comments.push(comments::by_id(conn, entry.comment_id).optional()?);
            }
            Ok((waiting, decisions, comments))
        })
        .await?;
    let next_cursor = pagination::cut(&mut waiting, limit, |w| {
        vec![pagination::time_part(w.held_at), w.comment_id.to_string()]
    });
    let today = now();
    let items = waiting
        .into_iter()
        .zip(comments)
        .filter_map(|(entry, comment)| {
            let (comment, author) = comment?;
            let history = entry
                .author_id
                .map(|id| History::of(decisions.clone(), id))
                .unwrap_or_default();
            Some(PendingComment {
                comment: CommentView::revealed(comment, author),
                discussion_id: entry.discussion_id,
                discussion_title: entry.discussion_title,
                rule: (entry.reason == HoldReason::WordRule).then_some(HoldingRule {
                    id: entry.rule_id,
                    phrase: entry.detail,
                }),
                reason: entry.reason,
                held_at: entry.held_at.and_utc(),
                author: AuthorHistory {
                    account_created_at: entry.account_created_at.map(|at| at.and_utc()),
                    account_age_days: entry.account_created_at.map(|at| (today - at).num_days()),
                    published_comments: entry.published_comments.unwrap_or(0),
                    approved: history.approved,
                    rejected: history.rejected,
                },
            })
        })
        .collect();
    Ok(web::Json(PendingPage { items, next_cursor }))
}

/// Decides on one held comment in the caller's transaction, with its record in the queue and
/// the audit log.
fn decide(
    conn: &mut DbConn,
    user: &ActiveUser,
    id: i64,
    decision: Decision,
    reason: Option<&str>,
) -> Result<(comments::CommentRow, Vec<String>), ApiError> {
    let (row, events) = comments::decide_held(conn, user, id, decision == Decision::Approve)?;
    repo::decide(conn, id, decision, user.id, now())?;
    moderation::audit_decision(
        conn,
        user.id,
        decision.audit_action(),
        ("comment", id),
        reason,
    )?;
    Ok((row, events))
}

async fn decide_one(
    user: ActiveUser,
    db: &Db,
    live: &Live,
    id: i64,
    decision: Decision,
    body: &[u8],
) -> Result<web::Json<CommentView>, ApiError> {
    user.require(Role::Moderator)?;
    let reason = moderation::reason_of(body)?;
    let (comment, author) = live
        .tx(db, move |conn| {
            decide(conn, &user, id, decision, reason.as_deref())
        })
        .await?;
    Ok(web::Json(CommentView::revealed(comment, author)))
}

/// Approves a held comment: it is published now, exactly as if just posted (counters, the
/// discussion's last activity, notifications, live events).
#[utoipa::path(
    tag = "premoderation",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The held comment")),
    request_body(content = Option<moderation::Reason>, description = "Optional: no body at all is fine"),
    responses(
        (status = 200, description = "The comment now", body = CommentView),
        (status = 403, description = "Not a moderator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such comment", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The comment does not wait for a moderator", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/admin/pending/{id}/approve")]
pub async fn approve_pending(
    user: ActiveUser,
    db: web::Data<Db>,
    live: web::Data<Live>,
    path: web::Path<i64>,
    body: web::Bytes,
) -> Result<web::Json<CommentView>, ApiError> {
    decide_one(
        user,
        &db,
        &live,
        path.into_inner(),
        Decision::Approve,
        &body,
    )
    .await
}

/// Rejects a held comment: it is never published; its author is told it was removed.
#[utoipa::path(
    tag = "premoderation",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The held comment")),
    request_body(content = Option<moderation::Reason>, description = "Optional: no body at all is fine"),
    responses(
        (status = 200, description = "The comment now", body = CommentView),
        (status = 403, description = "Not a moderator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such comment", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The comment does not wait for a moderator", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/admin/pending/{id}/reject")]
pub async fn reject_pending(
    user: ActiveUser,
    db: web::Data<Db>,
    live: web::Data<Live>,
    path: web::Path<i64>,
    body: web::Bytes,
) -> Result<web::Json<CommentView>, ApiError> {
    decide_one(user, &db, &live, path.into_inner(), Decision::Reject, &body).await
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct PendingResolveRequest {
    /// 1 to 100 held comments.
    #[validate(length(min = 1, max = 100, message = "must list 1 to 100 comment ids"))]
    #[schema(min_items = 1, max_items = 100)]
    #[serde(deserialize_with = "crate::extract::integers")]
    pub ids: Vec<i64>,
    pub action: Decision,
    /// Up to 1,000 characters; kept in the audit log.
    #[validate(length(max = 1000, message = "must be at most 1000 characters"))]
    #[schema(max_length = 1000)]
    pub reason: Option<String>,
}

/// A comment a bulk decision left alone, and why.
#[derive(Debug, Serialize, ToSchema)]
pub struct SkippedComment {
    pub id: i64,
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PendingResolution {
    /// The comments decided.
    pub resolved: Vec<i64>,
    /// Missing, or not waiting (decided by someone else meanwhile).
    pub skipped: Vec<SkippedComment>,
}

/// Approves or rejects several held comments; each is decided on its own, so one that no
/// longer waits does not stop the others.
#[utoipa::path(
    tag = "premoderation",
    security(("bearer" = [])),
    request_body = PendingResolveRequest,
    responses(
        (status = 200, description = "What was decided and what was skipped", body = PendingResolution),
        (status = 403, description = "Not a moderator", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No ids, more than 100, or not an action", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/admin/pending/resolve")]
pub async fn resolve_pending(
    user: ActiveUser,
    db: web::Data<Db>,
    live: web::Data<Live>,
    body: web::Bytes,
) -> Result<web::Json<PendingResolution>, ApiError> {
    user.require(Role::Moderator)?;
    let request = crate::extract::parse::<PendingResolveRequest>(&body)?;
    request.validate()?;
    let reason = request
        .reason
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty());
    let mut outcome = PendingResolution {
        resolved: Vec::new(),
        skipped: Vec::new(),
    };
    for id in request.ids.into_iter().collect::<BTreeSet<_>>() {
        let reason = reason.clone();
        let decided = live
            .tx(&db, move |conn| {
                decide(conn, &user, id, request.action, reason.as_deref())
            })
            .await;
        match decided {
            Ok(_) => outcome.resolved.push(id),
            Err(ApiError::NotFound(why) | ApiError::AlreadyDone(why)) => {
                outcome.skipped.push(SkippedComment { id, reason: why })
            }
            Err(other) => return Err(other),
        }
    }
    Ok(web::Json(outcome))
}
