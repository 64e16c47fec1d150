//! Comment threads for `tribune seed --comments C`: most discussions get a few, a few get very
//! many (half of all the comments go to one discussion, a tenth to another, a twentieth to a
//! third: the benchmarks' big threads). Inside a discussion, comments come thread by thread:
//! a root, then its replies, each to a random earlier comment of the same thread (depth capped
//! as the API caps it). Most roots get no reply, a few get dozens, as on a real site.
//!
//! Ids are reserved before the rows are written (so that each path can hold its own id), and
//! every batch moves the counters it affects in its own transaction: `replies`,
//! `last_activity_at` and `comments_count` always equal a recount.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDateTime};
use rand::Rng;
use rand::rngs::StdRng;

use super::repo::{self, CommentRow};
use super::{OBJECTS, PEOPLE, SUBJECTS, VERBS, pick};
use crate::comments::domain::{attach_reply, segment};
use crate::db::{DbConn, transaction};
use crate::error::ApiError;
use crate::markdown;

const BATCH: usize = 5_000;
const ROWS_PER_STATEMENT: usize = 500;

/// How many comments each discussion gets: `(discussion, created_at, count)`, in id order.
fn plan(
    rng: &mut StdRng,
    discussions: &[(i64, NaiveDateTime)],
    comments: u64,
) -> Vec<(i64, NaiveDateTime, u64)> {
    let mut counts = vec![0u64; discussions.len()];
    if discussions.is_empty() {
        return Vec::new();
    }
    let mut left = comments;
    if discussions.len() >= 4 && comments >= 100 {
        for share in [2, 10, 20] {
            let at = rng.random_range(0..discussions.len());
            counts[at] += comments / share;
            left -= comments / share;
        }
    }
    for _ in 0..left {
        counts[rng.random_range(0..discussions.len())] += 1;
    }
    discussions
        .iter()
        .zip(counts)
        .filter(|(_, n)| *n > 0)
        .map(|(&(id, at), n)| (id, at, n))
        .collect()
}

/// Replies a root gets: none for most, dozens for a few.
fn replies_of_a_root(rng: &mut StdRng) -> u64 {
    let x: f64 = rng.random();
    if x < 0.6 {
        0
    } else if x < 0.85 {
        rng.random_range(1..=2)
    } else if x < 0.97 {
        rng.random_range(3..=10)
    } else {
        rng.random_range(11..=60)
    }
}

fn sentence(rng: &mut StdRng) -> String {
    format!(
        "{} {} {}",
        pick(rng, SUBJECTS),
        pick(rng, VERBS),
        pick(rng, OBJECTS)
    )
}

/// Makes comments one at a time, given each one's id.
struct Generator {
    plan: Vec<(i64, NaiveDateTime, u64)>,
    at: usize,
    made_here: u64,
    /// The current root's thread: `(id, parent_id, depth, path)`.
    thread: Vec<(i64, Option<i64>, i32, String)>,
    replies_left: u64,
    users: Vec<i64>,
    now: NaiveDateTime,
}

impl Generator {
    fn next(&mut self, rng: &mut StdRng, id: i64) -> Option<CommentRow> {
        while self.plan.get(self.at)?.2 <= self.made_here {
            self.at += 1;
            self.made_here = 0;
            self.thread.clear();
            self.replies_left = 0;
        }
        let (discussion_id, from, count) = self.plan[self.at];
        // Spread over the discussion's life, in id order.
        let span = (self.now - from).num_seconds().max(1);
        let created_at = from
            + Duration::seconds(
                (i128::from(span) * i128::from(self.made_here + 1) / i128::from(count + 1)) as i64,
            );
        self.made_here += 1;
        let own = segment(id)?;
        let (parent_id, depth, path) = if self.replies_left == 0 {
            self.thread.clear();
            self.replies_left = replies_of_a_root(rng);
            (None, 0, own)
        } else {
            self.replies_left -= 1;
            let (target, target_parent, target_depth, target_path) =
                &self.thread[rng.random_range(0..self.thread.len())];
            let (parent, depth, parent_path) =
                attach_reply(*target, *target_parent, *target_depth, target_path);
            (Some(parent), depth, format!("{parent_path}{own}"))
        };
        self.thread.push((id, parent_id, depth, path.clone()));
        let deleted = rng.random_ratio(1, 50);
        let body = match rng.random_range(0..4) {
            0 => format!("{}? **{}**.", sentence(rng), pick(rng, PEOPLE)),
            1 => format!("{}.\n\n> {}", sentence(rng), sentence(rng)),
            _ => format!("{}.", sentence(rng)),
        };
        Some(CommentRow {
            id,
            discussion_id,
            parent_id,
            depth,
            path,
            author_id: self.users[rng.random_range(0..self.users.len())],
            body_html: (!deleted).then(|| markdown::to_html(&body)),
            body: (!deleted).then_some(body),
            deleted,
            created_at,
        })
    }
}

/// Adds `comments` comments to the discussions with an id above `after`. Returns how many were
/// added and the largest thread `(discussion, comments)`.
pub fn seed(
    conn: &mut DbConn,
    rng: &mut StdRng,
    after: i64,
    users: &[i64],
    comments: u64,
    now: NaiveDateTime,
) -> Result<(u64, Option<(i64, u64)>), ApiError> {
    if comments == 0 {
        return Ok((0, None));
    }
    if users.is_empty() {
        return Err(ApiError::BadRequest(
            "comments need users: seed some".into(),
        ));
    }
    let discussions = repo::discussions_after(conn, after)?;
    let plan = plan(rng, &discussions, comments);
    let largest = plan.iter().max_by_key(|p| p.2).map(|p| (p.0, p.2));
    let mut generator = Generator {
        plan,
        at: 0,
        made_here: 0,
        thread: Vec::new(),
        replies_left: 0,
        users: users.to_vec(),
        now,
    };
    let mut made = 0u64;
    while made < comments {
        let batch = (comments - made).min(BATCH as u64) as usize;
        let added = transaction(conn, |conn| {
            let ids = repo::reserve_comment_ids(conn, batch)?;
            let rows: Vec<CommentRow> = ids
                .into_iter()
                .map_while(|id| generator.next(rng, id))
                .collect();
            for chunk in rows.chunks(ROWS_PER_STATEMENT) {
                repo::insert_comments(conn, chunk)?;
            }
            count(conn, &rows)?;
            Ok::<_, ApiError>(rows.len() as u64)
        })?;
        if added == 0 {
            break;
        }
        made += added;
        if made.is_multiple_of(100_000) || made == comments {
            tracing::info!(comments = made, "seeding");
        }
    }
    Ok((made, largest))
}

/// Moves the counters a batch of comments affects.
fn count(conn: &mut DbConn, rows: &[CommentRow]) -> Result<(), ApiError> {
    // In id order: the order every writer locks rows in.
    let mut discussions: BTreeMap<i64, (i64, NaiveDateTime)> = BTreeMap::new();
    let mut authors: BTreeMap<i64, i64> = BTreeMap::new();
    for row in rows {
        let entry = discussions
            .entry(row.discussion_id)
            .or_insert((0, row.created_at));
        entry.1 = entry.1.max(row.created_at);
        if !row.deleted {
            entry.0 += 1;
            *authors.entry(row.author_id).or_default() += 1;
        }
    }
    for (id, (replies, last)) in discussions {
        repo::add_replies(conn, id, replies, last)?;
    }
    for (id, n) in authors {
        repo::add_comments_count(conn, id, n)?;
    }
    Ok(())
}
