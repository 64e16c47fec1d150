//! SQL of the mail outbox.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::outbox;
use crate::per_backend;

/// Where a mail is in its life; stored as its `as_str` text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Waiting for its time (`next_attempt_at`).
    Pending,
    /// Claimed by a sender until `locked_until`.
    Sending,
    Sent,
    /// Given up on: refused for good, or out of attempts.
    Failed,
}

impl Status {
    pub const fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Sending => "sending",
            Status::Sent => "sent",
            Status::Failed => "failed",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        [Self::Pending, Self::Sending, Self::Sent, Self::Failed]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

/// How the mails of one batch (a digest day) fared.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Delivery {
    pub sent: i64,
    pub failed: i64,
    /// Not sent yet: waiting or being sent.
    pub pending: i64,
}

impl Delivery {
    pub fn total(&self) -> i64 {
        self.sent + self.failed + self.pending
    }
}

/// A mail to enqueue.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = outbox, treat_none_as_default_value = false)]
pub struct NewMail {
    /// Unique per message: enqueueing the same key twice stores it once.
    pub dedup_key: String,
    pub recipient: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: Option<String>,
    pub next_attempt_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
    /// The one-click unsubscribe URL of a newsletter mail (RFC 8058 headers).
    pub list_unsubscribe: Option<String>,
    /// The newsletter subscriber it goes to, if any.
    pub subscriber_id: Option<i64>,
    /// The day of the digest it is (`YYYY-MM-DD`), if it is one.
    pub digest_day: Option<String>,
    /// A one-time secret (a reset or confirmation token) that the bodies name as
    /// [`super::SECRET`]: put in at send time, erased once the mail is sent or given up.
    pub secret: Option<String>,
}

impl NewMail {
    /// A one-off mail that carries a one-time `secret` (a reset or confirmation token, named
    /// in the bodies as [`super::SECRET`]), due at `at`.
    pub fn with_secret(
        dedup_key: String,
        recipient: String,
        subject: &str,
        (body_text, body_html): (String, String),
        secret: String,
        at: NaiveDateTime,
    ) -> Self {
        NewMail {
            dedup_key,
            recipient,
            subject: subject.to_string(),
            body_text,
            body_html: Some(body_html),
            next_attempt_at: at,
            created_at: at,
            list_unsubscribe: None,
            subscriber_id: None,
            digest_day: None,
            secret: Some(secret),
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = outbox)]
pub struct Mail {
    pub id: i64,
    pub dedup_key: String,
    pub recipient: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: Option<String>,
    pub attempts: i32,
    pub list_unsubscribe: Option<String>,
    pub subscriber_id: Option<i64>,
    pub secret: Option<String>,
}

/// Stores a mail in the caller's transaction; a second mail with the same key is ignored.
/// Returns whether it was new.
pub fn enqueue(conn: &mut DbConn, mail: &NewMail) -> QueryResult<bool> {
    let inserted = per_backend!(conn, |c| {
        diesel::insert_into(outbox::table)
            .values(mail)
            .on_conflict(outbox::dedup_key)
            .do_nothing()
            .execute(c)
    })?;
    Ok(inserted == 1)
}

/// Stores many mails in the caller's transaction, in one statement per 500; keys already there
/// are skipped. Returns how many were new.
pub fn enqueue_all(conn: &mut DbConn, mails: &[NewMail]) -> QueryResult<usize> {
    let mut inserted = 0;
    for chunk in mails.chunks(500) {
        inserted += per_backend!(conn, |c| {
            diesel::insert_into(outbox::table)
                .values(chunk)
                .on_conflict(outbox::dedup_key)
                .do_nothing()
                .execute(c)
        })?;
    }
    Ok(inserted)
}

/// Claims up to `limit` due mails for `claim` until `lease` from now: pending ones whose time
/// has come, and ones whose claim ran out (their worker died: a live worker renews its
/// claims, see [`renew_claims`]). On PostgreSQL, `SKIP LOCKED` lets several processes claim at
/// once without taking the same mail; SQLite's `BEGIN IMMEDIATE` (the caller's transaction)
/// serializes claims.
pub fn claim_due(
    conn: &mut DbConn,
    claim: &str,
    now: NaiveDateTime,
    limit: i64,
    lease: Duration,
) -> QueryResult<Vec<Mail>> {
    let due = outbox::table
        .filter(
            outbox::status
                .eq(Status::Pending.as_str())
                .and(outbox::next_attempt_at.le(now))
                .or(outbox::status
                    .eq(Status::Sending.as_str())
                    .and(outbox::locked_until.lt(now))),
        )
        .order(outbox::id)
        .limit(limit)
        .select(outbox::id);
    let ids: Vec<i64> = match conn {
        DbConn::Pg(pg) => due.for_update().skip_locked().load(pg)?,
        DbConn::Sqlite(sqlite) => due.load(sqlite)?,
    };
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    diesel::update(outbox::table.filter(outbox::id.eq_any(&ids)))
        .set((
            outbox::status.eq(Status::Sending.as_str()),
            outbox::claimed_by.eq(claim),
            outbox::locked_until.eq(Some(now + lease)),
            outbox::attempts.eq(outbox::attempts + 1),
        ))
        .execute(conn)?;
    outbox::table
        .filter(outbox::id.eq_any(&ids))
        .order(outbox::id)
        .select(Mail::as_select())
        .load(conn)
}

/// Extends the lease of every mail `claim` holds: the sender is alive.
pub fn renew_claims(conn: &mut DbConn, claim: &str, until: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        outbox::table
            .filter(outbox::claimed_by.eq(claim))
            .filter(outbox::status.eq(Status::Sending.as_str())),
    )
    .set(outbox::locked_until.eq(Some(until)))
    .execute(conn)
}

/// SQLite: the mails being sent, with their leases (for [`take_over_unchanged`]); none on
/// PostgreSQL, where leases running out are enough.
pub fn sending_claims(conn: &mut DbConn) -> QueryResult<Vec<(i64, Option<NaiveDateTime>)>> {
    let DbConn::Sqlite(sqlite) = conn else {
        return Ok(Vec::new());
    };
    outbox::table
        .filter(outbox::status.eq(Status::Sending.as_str()))
        .select((outbox::id, outbox::locked_until))
        .load(sqlite)
}

/// Makes due again the mails of `claims` whose lease has not moved since: nobody renews them.
pub fn take_over_unchanged(
    conn: &mut DbConn,
    claims: &[(i64, Option<NaiveDateTime>)],
) -> QueryResult<usize> {
    let mut taken = 0;
    for (id, lease) in claims {
        taken += diesel::update(
            outbox::table
                .find(id)
                .filter(outbox::status.eq(Status::Sending.as_str()))
                .filter(outbox::locked_until.eq(lease)),
        )
        .set((
            outbox::status.eq(Status::Pending.as_str()),
            outbox::claimed_by.eq(None::<String>),
            outbox::locked_until.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)?;
    }
    Ok(taken)
}

/// The mail `id` while `claim` still holds it.
macro_rules! held {
    ($id:expr, $claim:expr) => {
        outbox::table
            .find($id)
            .filter(outbox::claimed_by.eq($claim))
            .filter(outbox::status.eq(Status::Sending.as_str()))
    };
}

/// Records a mail as sent, if `claim` still holds it: `false` when the claim was lost (the
/// lease ran out and another worker took the mail).
pub fn mark_sent(conn: &mut DbConn, id: i64, claim: &str, now: NaiveDateTime) -> QueryResult<bool> {
    let updated = diesel::update(held!(id, claim))
        .set((
            outbox::status.eq(Status::Sent.as_str()),
            outbox::secret.eq(None::<String>),
            outbox::sent_at.eq(Some(now)),
            outbox::claimed_by.eq(None::<String>),
            outbox::locked_until.eq(None::<NaiveDateTime>),
            outbox::last_error.eq(None::<String>),
        ))
        .execute(conn)?;
    Ok(updated == 1)
}

/// Puts a mail back for another attempt at `retry_at`, or marks it failed when `retry_at` is
/// `None`, if `claim` still holds it (`false` otherwise).
pub fn mark_attempt_failed(
    conn: &mut DbConn,
    id: i64,
    claim: &str,
    error: &str,
    retry_at: Option<NaiveDateTime>,
) -> QueryResult<bool> {
    let status = if retry_at.is_some() {
        Status::Pending
    } else {
        Status::Failed
    };
    let changes = (
        outbox::status.eq(status.as_str()),
        outbox::claimed_by.eq(None::<String>),
        outbox::locked_until.eq(None::<NaiveDateTime>),
        outbox::last_error.eq(Some(error)),
    );
    let updated = match retry_at {
        Some(at) => diesel::update(held!(id, claim))
            .set((changes, outbox::next_attempt_at.eq(at)))
            .execute(conn),
        // Given up: nobody will send it, so its secret goes.
        None => diesel::update(held!(id, claim))
            .set((changes, outbox::secret.eq(None::<String>)))
            .execute(conn),
    }?;
    Ok(updated == 1)
}

/// Deletes sent and failed mails older than `before`. A digest's key is not needed after its
/// day (a rerun covers yesterday and today only), so nothing is sent twice for it.
pub fn purge(conn: &mut DbConn, before: NaiveDateTime) -> QueryResult<usize> {
    let sent = diesel::delete(
        outbox::table
            .filter(outbox::status.eq(Status::Sent.as_str()))
            .filter(outbox::sent_at.lt(before)),
    )
    .execute(conn)?;
    let failed = diesel::delete(
        outbox::table
            .filter(outbox::status.eq(Status::Failed.as_str()))
            .filter(outbox::created_at.lt(before)),
    )
    .execute(conn)?;
    Ok(sent + failed)
}

/// How the mails of digest day `day` (`YYYY-MM-DD`) fared.
pub fn digest_delivery(conn: &mut DbConn, day: &str) -> QueryResult<Delivery> {
    let counts: Vec<(String, i64)> = outbox::table
        .filter(outbox::digest_day.eq(day))
        .group_by(outbox::status)
        .select((outbox::status, diesel::dsl::count_star()))
        .load(conn)?;
    let mut delivery = Delivery::default();
    for (status, n) in counts {
        match Status::parse(&status) {
            Some(Status::Sent) => delivery.sent += n,
            Some(Status::Failed) => delivery.failed += n,
            Some(Status::Pending | Status::Sending) | None => delivery.pending += n,
        }
    }
    Ok(delivery)
}

/// Deletes every mail to `recipients` or tagged with one of `tags` (an erased reader's), in
/// whatever state: one a worker is sending meanwhile still goes, and its outcome finds no row.
pub fn forget(conn: &mut DbConn, recipients: &[String], tags: &[i64]) -> QueryResult<usize> {
    let mut gone = 0;
    for chunk in recipients.chunks(500) {
        gone +=
            diesel::delete(outbox::table.filter(outbox::recipient.eq_any(chunk))).execute(conn)?;
    }
    for chunk in tags.chunks(500) {
        gone += diesel::delete(outbox::table.filter(outbox::subscriber_id.eq_any(chunk)))
            .execute(conn)?;
    }
    Ok(gone)
}
