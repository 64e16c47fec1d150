//! Premoderation: comments held back before anyone sees them. Admins' word rules (`reject` or
//! `hold`), holds for new and risky writers (an account's first comments, links from young
//! accounts), a per-discussion switch, and the moderators' queue where held comments are
//! approved (published as if just posted) or rejected.
//!
//! The comments feature asks [`Premoderation::assess_comment`] in its posting transaction and,
//! for a held comment, writes it `pending` and calls [`held`]; a moderator's decision goes
//! through [`crate::comments::decide_held`]. Topics do not wait: a topic that a rule would
//! hold is refused like one a rule rejects ([`Premoderation::screen_topic`]).
//!
//! Word rules are read from the database at most every [`RULES_FRESH`] by each process (a rule
//! changed in one process applies in every other within that time, and at once in its own),
//! so posting costs no query for them.

pub mod domain;
mod handlers;
mod repo;

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::{ActiveUser, Role};
use crate::config::Settings;
use crate::db::DbConn;
use crate::error::ApiError;
use domain::{HoldReason, Matcher, RuleAction};

pub use domain::Decision;

pub fn routes(cfg: &mut ServiceConfig) {
    use handlers::*;
    cfg.service(list_rules)
        .service(add_rule)
        .service(delete_rule)
        .service(pending_queue)
        .service(resolve_pending)
        .service(approve_pending)
        .service(reject_pending);
}

/// How long a process uses its copy of the word rules before reading them again.
pub const RULES_FRESH: Duration = Duration::from_secs(2);

/// A rule as matching needs it.
#[derive(Debug, Clone)]
struct Rule {
    id: i64,
    action: RuleAction,
    phrase: Arc<str>,
    reason: Arc<str>,
}

/// Why a comment is held, for the queue.
#[derive(Debug, Clone)]
pub struct Hold {
    pub reason: HoldReason,
    pub rule_id: Option<i64>,
    /// The rule's phrase, for moderators.
    pub detail: Option<String>,
}

impl Hold {
    /// Held because its discussion is premoderated.
    pub fn discussion() -> Hold {
        Hold::because(HoldReason::Discussion)
    }

    fn because(reason: HoldReason) -> Hold {
        Hold {
            reason,
            rule_id: None,
            detail: None,
        }
    }
}

/// The holds for new writers, from the settings.
#[derive(Debug, Clone, Copy)]
struct Policy {
    first_comments: i64,
    links_days: i64,
    trusted_after: i64,
}

/// Premoderation's state in a process: the policy and the word rules' copy.
pub struct Premoderation {
    policy: Policy,
    rules: RwLock<Option<(Instant, Arc<Matcher<Rule>>)>>,
}

impl Premoderation {
    pub fn new(settings: &Settings) -> Self {
        Premoderation {
            policy: Policy {
                first_comments: i64::from(settings.hold_first_comments),
                links_days: i64::from(settings.hold_links_days),
                trusted_after: i64::from(settings.trusted_after_approved),
            },
            rules: RwLock::new(None),
        }
    }

    /// The word rules, read again when this process's copy is older than [`RULES_FRESH`].
    fn matcher(&self, conn: &mut DbConn) -> Result<Arc<Matcher<Rule>>, ApiError> {
        if let Some((at, matcher)) = &*self.rules.read().unwrap_or_else(|e| e.into_inner())
            && at.elapsed() < RULES_FRESH
        {
            return Ok(matcher.clone());
        }
        let rules = repo::rules(conn)?;
        let matcher = Arc::new(Matcher::new(rules.into_iter().map(|r| {
            let rule = Rule {
                id: r.id,
                action: r.action,
                phrase: r.phrase.into(),
                reason: r.reason.into(),
            };
            (r.folded, rule)
        })));
        *self.rules.write().unwrap_or_else(|e| e.into_inner()) =
            Some((Instant::now(), matcher.clone()));
        Ok(matcher)
    }

    /// After a rule changed here: the next check reads them again.
    fn forget_rules(&self) {
        *self.rules.write().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// Checks texts (`(field, text)`) against the word rules: `422` naming the field and the
    /// first `reject` rule's public reason (never its word), else the first `hold` rule's hold.
    pub fn screen(
        &self,
        conn: &mut DbConn,
        fields: &[(&str, &str)],
    ) -> Result<Option<Hold>, ApiError> {
        let matcher = self.matcher(conn)?;
        let mut hold = None;
        for (field, text) in fields {
            for rule in matcher.matches(text) {
                match rule.action {
                    RuleAction::Reject => {
                        return Err(ApiError::invalid(field, rule.reason.to_string()));
                    }
                    RuleAction::Hold => {
                        hold.get_or_insert(Hold {
                            reason: HoldReason::WordRule,
                            rule_id: Some(rule.id),
                            detail: Some(rule.phrase.to_string()),
                        });
                    }
                }
            }
        }
        Ok(hold)
    }

    /// Checks a topic (new or edited) by `author`: `422` for a `reject` rule, and for a `hold`
    /// rule too (from anyone but moderators and admins): topics do not wait for moderators,
    /// so a text that would be held is refused, with a message that says so.
    pub fn screen_topic(
        &self,
        conn: &mut DbConn,
        author: &ActiveUser,
        title: &str,
        body: &str,
    ) -> Result<(), ApiError> {
        let hold = self.screen(conn, &[("title", title), ("body", body)])?;
        if hold.is_some() && !exempt(author) {
            return Err(ApiError::invalid(
                "body",
                "this text must be reviewed by a moderator, which a topic cannot be: rephrase \
                 it, or say it in a comment",
            ));
        }
        Ok(())
    }

    /// Whether a comment by `author` (its Markdown and HTML) must wait for a moderator, apart
    /// from its discussion's switch: `422` for a `reject` rule; a hold for a `hold` rule, for
    /// an account's first comments, or for a link from a young account, unless the account has
    /// earned trust. Moderators and admins are never held.
    pub fn assess_comment(
        &self,
        conn: &mut DbConn,
        author: &ActiveUser,
        markdown: &str,
        html: &str,
    ) -> Result<Option<Hold>, ApiError> {
        let hold = self.screen(conn, &[("body", markdown)])?;
        if exempt(author) {
            return Ok(None);
        }
        if hold.is_some() {
            return Ok(hold);
        }
        let policy = self.policy;
        let link = policy.links_days > 0 && domain::has_link(markdown, html);
        if policy.first_comments == 0 && !link {
            return Ok(None);
        }
        let (created_at, published) = repo::account(conn, author.id)?;
        let reason = if published < policy.first_comments {
            HoldReason::FirstComments
        } else if link && crate::db::now() - created_at < chrono::Duration::days(policy.links_days)
        {
            HoldReason::NewAccountLink
        } else {
            return Ok(None);
        };
        if self.trusted(conn, author.id)? {
            return Ok(None);
        }
        Ok(Some(Hold::because(reason)))
    }

    /// Whether the account has `TRIBUNE_TRUSTED_AFTER_APPROVED` approved comments and no
    /// rejected one.
    fn trusted(&self, conn: &mut DbConn, author: i64) -> Result<bool, ApiError> {
        let history = History::of(repo::decisions_of(conn, &[author])?, author);
        Ok(history.rejected == 0 && history.approved >= self.policy.trusted_after)
    }
}

/// Erasure of an account (see `privacy`): its holds stay (the queue's history) without it.
pub fn forget_author(conn: &mut DbConn, user_id: i64) -> Result<(), ApiError> {
    repo::forget_author(conn, user_id)?;
    Ok(())
}

/// Whether `user` is never held: moderators and admins.
pub fn exempt(user: &ActiveUser) -> bool {
    user.role.includes(Role::Moderator)
}

/// Records why comment `comment_id` waits (in the posting transaction).
pub fn held(
    conn: &mut DbConn,
    comment_id: i64,
    author_id: i64,
    hold: &Hold,
    at: NaiveDateTime,
) -> Result<(), ApiError> {
    repo::hold(
        conn,
        &repo::NewHold {
            comment_id,
            author_id,
            reason: hold.reason,
            rule_id: hold.rule_id,
            detail: hold.detail.as_deref(),
            at,
        },
    )?;
    Ok(())
}

/// An author's record with moderators.
#[derive(Debug, Clone, Copy, Default)]
struct History {
    approved: i64,
    rejected: i64,
}

impl History {
    fn of(rows: Vec<(i64, String, i64)>, author: i64) -> History {
        let mut history = History::default();
        for (id, decision, count) in rows {
            if id != author {
                continue;
            }
            if decision == Decision::Approve.as_str() {
                history.approved += count;
            } else if decision == Decision::Reject.as_str() {
                history.rejected += count;
            }
        }
        history
    }
}
