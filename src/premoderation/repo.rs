//! SQL of premoderation: word rules, holds and the queue, and what the holds know of an author.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::domain::{Decision, HoldReason, RuleAction};
use crate::db::DbConn;
use crate::db::schema::{comment_holds, comments, discussions, users, word_rules};
use crate::per_backend;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = word_rules)]
pub struct WordRule {
    pub id: i64,
    pub phrase: String,
    pub folded: String,
    #[diesel(deserialize_as = String)]
    pub action: RuleAction,
    pub reason: String,
    pub created_by: Option<i64>,
    pub created_at: NaiveDateTime,
}

/// Every word rule, oldest first.
pub fn rules(conn: &mut DbConn) -> QueryResult<Vec<WordRule>> {
    word_rules::table
        .select(WordRule::as_select())
        .order(word_rules::id)
        .load(conn)
}

pub struct NewRule<'a> {
    pub phrase: &'a str,
    pub folded: &'a str,
    pub action: RuleAction,
    pub reason: &'a str,
    pub created_by: i64,
    pub at: NaiveDateTime,
}

/// Adds a rule; `None` when a rule with the same folded phrase exists.
pub fn add_rule(conn: &mut DbConn, rule: &NewRule) -> QueryResult<Option<i64>> {
    per_backend!(conn, |c| diesel::insert_into(word_rules::table)
        .values((
            word_rules::phrase.eq(rule.phrase),
            word_rules::folded.eq(rule.folded),
            word_rules::action.eq(rule.action.as_str()),
            word_rules::reason.eq(rule.reason),
            word_rules::created_by.eq(Some(rule.created_by)),
            word_rules::created_at.eq(rule.at),
        ))
        .on_conflict(word_rules::folded)
        .do_nothing()
        .returning(word_rules::id)
        .get_result(c)
        .optional())
}

pub fn delete_rule(conn: &mut DbConn, id: i64) -> QueryResult<usize> {
    diesel::delete(word_rules::table.find(id)).execute(conn)
}

pub struct NewHold<'a> {
    pub comment_id: i64,
    pub author_id: i64,
    pub reason: HoldReason,
    pub rule_id: Option<i64>,
    pub detail: Option<&'a str>,
    pub at: NaiveDateTime,
}

/// Records why a comment is held; a comment held again (an edit) starts a new wait.
pub fn hold(conn: &mut DbConn, hold: &NewHold) -> QueryResult<usize> {
    let values = (
        comment_holds::comment_id.eq(hold.comment_id),
        comment_holds::author_id.eq(Some(hold.author_id)),
        comment_holds::reason.eq(hold.reason.as_str()),
        comment_holds::rule_id.eq(hold.rule_id),
        comment_holds::detail.eq(hold.detail),
        comment_holds::held_at.eq(hold.at),
        comment_holds::decision.eq(None::<String>),
        comment_holds::decided_by.eq(None::<i64>),
        comment_holds::decided_at.eq(None::<NaiveDateTime>),
    );
    per_backend!(conn, |c| diesel::insert_into(comment_holds::table)
        .values(values.clone())
        .on_conflict(comment_holds::comment_id)
        .do_update()
        .set(values)
        .execute(c))
}

/// Records a moderator's decision on a held comment.
pub fn decide(
    conn: &mut DbConn,
    comment_id: i64,
    decision: Decision,
    moderator: i64,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(comment_holds::table.find(comment_id))
        .set((
            comment_holds::decision.eq(Some(decision.as_str())),
            comment_holds::decided_by.eq(Some(moderator)),
            comment_holds::decided_at.eq(Some(at)),
        ))
        .execute(conn)
}

/// One entry of the queue: the hold, its comment's discussion, the author's account.
#[derive(Debug, Clone, Queryable)]
pub struct Waiting {
    pub comment_id: i64,
    #[diesel(deserialize_as = String)]
    pub reason: HoldReason,
    pub rule_id: Option<i64>,
    pub detail: Option<String>,
    pub held_at: NaiveDateTime,
    pub discussion_id: i64,
    pub discussion_title: String,
    pub author_id: Option<i64>,
    pub account_created_at: Option<NaiveDateTime>,
    pub published_comments: Option<i64>,
}

/// The queue, oldest first, after `(held_at, comment_id)`: holds not decided whose comment
/// still waits (an author may have deleted theirs meanwhile).
pub fn queue(
    conn: &mut DbConn,
    after: Option<(NaiveDateTime, i64)>,
    limit: i64,
) -> QueryResult<Vec<Waiting>> {
    let mut query = comment_holds::table
        .inner_join(comments::table.inner_join(discussions::table))
        .left_join(users::table.on(comment_holds::author_id.eq(users::id.nullable())))
        .filter(comment_holds::decision.is_null())
        .filter(comments::status.eq(crate::comments::CommentStatus::Pending.as_str()))
        .select((
            comment_holds::comment_id,
            comment_holds::reason,
            comment_holds::rule_id,
            comment_holds::detail,
            comment_holds::held_at,
            comments::discussion_id,
            discussions::title,
            comment_holds::author_id,
            users::created_at.nullable(),
            users::comments_count.nullable(),
        ))
        .order((comment_holds::held_at, comment_holds::comment_id))
        .limit(limit)
        .into_boxed();
    if let Some((at, id)) = after {
        query = query.filter(
            comment_holds::held_at.gt(at).or(comment_holds::held_at
                .eq(at)
                .and(comment_holds::comment_id.gt(id))),
        );
    }
    query.load(conn)
}

/// How many of each author's held comments moderators approved and rejected.
pub fn decisions_of(conn: &mut DbConn, authors: &[i64]) -> QueryResult<Vec<(i64, String, i64)>> {
    comment_holds::table
        .filter(comment_holds::author_id.eq_any(authors))
        .filter(comment_holds::decision.is_not_null())
        .group_by((comment_holds::author_id, comment_holds::decision))
        .select((
            comment_holds::author_id.assume_not_null(),
            comment_holds::decision.assume_not_null(),
            diesel::dsl::count_star(),
        ))
        .load(conn)
}

/// What the new-account holds look at: when the account was made and how many of its comments
/// are published.
pub fn account(conn: &mut DbConn, user_id: i64) -> QueryResult<(NaiveDateTime, i64)> {
    users::table
        .find(user_id)
        .select((users::created_at, users::comments_count))
        .first(conn)
}

/// Takes an erased account off the holds of its comments.
pub fn forget_author(conn: &mut DbConn, user_id: i64) -> QueryResult<usize> {
    diesel::update(comment_holds::table.filter(comment_holds::author_id.eq(user_id)))
        .set(comment_holds::author_id.eq(None::<i64>))
        .execute(conn)
}
