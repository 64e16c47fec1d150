//! SQL of the newsletter: subscribers and their confirmations.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::newsletter_subscribers as subscribers;
use crate::ids::{SubscriberId, UserId};
use crate::per_backend;

use super::dto::SubscriberStatus;

// As stored, for the queries.
const PENDING: &str = SubscriberStatus::Pending.as_str();
const CONFIRMED: &str = SubscriberStatus::Confirmed.as_str();
const UNSUBSCRIBED: &str = SubscriberStatus::Unsubscribed.as_str();

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = subscribers)]
pub struct Subscriber {
    pub id: i64,
    pub email: String,
    #[diesel(deserialize_as = String)]
    pub status: SubscriberStatus,
    pub user_id: Option<i64>,
    pub pending_user_id: Option<i64>,
    pub confirm_sent_at: Option<NaiveDateTime>,
    pub unsubscribe_token: String,
    pub confirm_count: i32,
    pub confirm_window_at: Option<NaiveDateTime>,
    /// The account that asked for the current confirmation token, if one did.
    pub confirm_user_id: Option<i64>,
    /// The language of the latest request that named one.
    pub language: Option<String>,
}

pub fn by_email_key(conn: &mut DbConn, email_key: &str) -> QueryResult<Option<Subscriber>> {
    subscribers::table
        .filter(subscribers::email_key.eq(email_key))
        .select(Subscriber::as_select())
        .first(conn)
        .optional()
}

pub fn by_unsubscribe_token(conn: &mut DbConn, token: &str) -> QueryResult<Option<Subscriber>> {
    subscribers::table
        .filter(subscribers::unsubscribe_token.eq(token))
        .select(Subscriber::as_select())
        .first(conn)
        .optional()
}

/// A new pending subscriber; `false` when the address is already there (a concurrent request
/// made it first).
pub fn insert_pending(
    conn: &mut DbConn,
    email: &str,
    email_key: &str,
    unsubscribe_token: &str,
    at: NaiveDateTime,
) -> QueryResult<bool> {
    let row = (
        subscribers::email.eq(email),
        subscribers::email_key.eq(email_key),
        subscribers::status.eq(PENDING),
        subscribers::unsubscribe_token.eq(unsubscribe_token),
        subscribers::created_at.eq(at),
    );
    let inserted = per_backend!(conn, |c| diesel::insert_into(subscribers::table)
        .values(row)
        .on_conflict(subscribers::email_key)
        .do_nothing()
        .execute(c))?;
    Ok(inserted == 1)
}

/// A new confirmation for a subscriber.
pub struct Renewal<'a> {
    pub token_hash: &'a str,
    pub at: NaiveDateTime,
    pub ttl: Duration,
    /// The account that asked for it: the owner if this token is used.
    pub requested_by: Option<i64>,
    /// Confirmation mails to the address since `window_at`, this one included.
    pub count: i32,
    pub window_at: NaiveDateTime,
}

/// Makes the subscriber pending with a new confirmation, provided no other request renewed it
/// since `subscriber` was read (its `confirm_sent_at` unchanged): of requests that come at
/// once, the one that wins sends the mail. Returns whether this one did.
pub fn renew_confirmation(
    conn: &mut DbConn,
    subscriber: &Subscriber,
    renewal: &Renewal,
) -> QueryResult<bool> {
    use diesel::IntoSql;
    use diesel::sql_types::Bool;
    let sent = subscriber.confirm_sent_at;
    // `confirm_sent_at IS NOT DISTINCT FROM sent`, in SQL both backends speak.
    let unchanged = subscribers::confirm_sent_at
        .eq(sent)
        .or(subscribers::confirm_sent_at
            .is_null()
            .and(sent.is_none().into_sql::<Bool>()));
    let updated = diesel::update(
        subscribers::table
            .find(subscriber.id)
            .filter(subscribers::status.ne(CONFIRMED))
            .filter(unchanged),
    )
    .set((
        subscribers::status.eq(PENDING),
        subscribers::confirm_token_hash.eq(renewal.token_hash),
        subscribers::confirm_expires_at.eq(renewal.at + renewal.ttl),
        subscribers::confirm_sent_at.eq(renewal.at),
        subscribers::confirm_user_id.eq(renewal.requested_by),
        subscribers::confirm_count.eq(renewal.count),
        subscribers::confirm_window_at.eq(renewal.window_at),
    ))
    .execute(conn)?;
    Ok(updated == 1)
}

/// Confirms the pending subscription whose token hashes to `token_hash`, if it has not expired;
/// the token is spent. Returns the subscriber, or `None` for an unknown, used or expired token.
pub fn confirm(
    conn: &mut DbConn,
    token_hash: &str,
    at: NaiveDateTime,
) -> QueryResult<Option<Subscriber>> {
    let target = subscribers::table
        .filter(subscribers::confirm_token_hash.eq(token_hash))
        .filter(subscribers::status.eq(PENDING))
        .filter(subscribers::confirm_expires_at.gt(at));
    per_backend!(conn, |c| diesel::update(target)
        .set((
            subscribers::status.eq(CONFIRMED),
            subscribers::confirm_token_hash.eq(None::<String>),
            subscribers::confirm_expires_at.eq(None::<NaiveDateTime>),
            subscribers::confirmed_at.eq(Some(at)),
            subscribers::bounces.eq(0),
        ))
        .returning(Subscriber::as_returning())
        .get_result(c)
        .optional())
}

/// Unsubscribes (idempotent: an unsubscribed address stays as it is). A pending confirmation
/// is voided.
pub fn unsubscribe(conn: &mut DbConn, id: i64, at: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        subscribers::table
            .find(id)
            .filter(subscribers::status.ne(UNSUBSCRIBED)),
    )
    .set((
        subscribers::status.eq(UNSUBSCRIBED),
        subscribers::confirm_token_hash.eq(None::<String>),
        subscribers::confirm_expires_at.eq(None::<NaiveDateTime>),
        subscribers::unsubscribed_at.eq(Some(at)),
    ))
    .execute(conn)
}

/// Notes that this account asked for the address's subscription, so that it sees `pending`
/// (whatever the address's state: it must not learn whether someone else subscribes).
/// Ownership is not this: it goes with the token (see [`link_confirmed`]).
pub fn request_by_user(
    conn: &mut DbConn,
    SubscriberId(id): SubscriberId,
    UserId(user_id): UserId,
) -> QueryResult<usize> {
    diesel::update(subscribers::table.find(id))
        .set(subscribers::pending_user_id.eq(Some(user_id)))
        .execute(conn)
}

/// Takes back an account's pending request: it no longer sees `pending`, and the confirmation
/// token it asked for (if the current one is its) stops working.
pub fn withdraw_request(
    conn: &mut DbConn,
    SubscriberId(id): SubscriberId,
    UserId(user_id): UserId,
) -> QueryResult<usize> {
    diesel::update(
        subscribers::table
            .find(id)
            .filter(subscribers::pending_user_id.eq(user_id)),
    )
    .set(subscribers::pending_user_id.eq(None::<i64>))
    .execute(conn)?;
    diesel::update(
        subscribers::table
            .find(id)
            .filter(subscribers::confirm_user_id.eq(user_id))
            .filter(subscribers::status.eq(PENDING)),
    )
    .set((
        subscribers::confirm_token_hash.eq(None::<String>),
        subscribers::confirm_expires_at.eq(None::<NaiveDateTime>),
    ))
    .execute(conn)
}

/// On confirmation with the token that `confirmed_by` asked for (if an account did): that
/// account owns the subscription now. Nobody else's later request changes this.
pub fn link_confirmed(conn: &mut DbConn, id: i64, confirmed_by: Option<i64>) -> QueryResult<usize> {
    let target = subscribers::table.find(id);
    match confirmed_by {
        Some(owner) => diesel::update(target)
            .set((
                subscribers::user_id.eq(Some(owner)),
                subscribers::pending_user_id.eq(None::<i64>),
            ))
            .execute(conn),
        None => diesel::update(target)
            .set(subscribers::pending_user_id.eq(None::<i64>))
            .execute(conn),
    }
}

/// A subscriber the digest goes to.
#[derive(Debug, Clone, Queryable)]
pub struct Recipient {
    pub id: i64,
    pub email: String,
    pub unsubscribe_token: String,
    /// The language they subscribed in (`en`, `ru`); `None`: the site's.
    pub language: Option<String>,
}

/// Confirmed subscribers after id `after`, in id order, `limit` of them: one batch of a digest.
/// Each one's language: their account's choice, else the one they subscribed in.
pub fn confirmed_after(conn: &mut DbConn, after: i64, limit: i64) -> QueryResult<Vec<Recipient>> {
    use crate::db::schema::users;
    // (id, email, unsubscribe token, the account's language, the subscription's)
    type Row = (i64, String, String, Option<String>, Option<String>);
    let rows: Vec<Row> = subscribers::table
        .left_join(users::table.on(subscribers::user_id.eq(users::id.nullable())))
        .filter(subscribers::status.eq(CONFIRMED))
        .filter(subscribers::id.gt(after))
        .order(subscribers::id)
        .limit(limit)
        .select((
            subscribers::id,
            subscribers::email,
            subscribers::unsubscribe_token,
            users::language.nullable(),
            subscribers::language,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, email, unsubscribe_token, chosen, asked)| Recipient {
            id,
            email,
            unsubscribe_token,
            language: chosen.or(asked),
        })
        .collect())
}

/// The language a subscriber's mails are written in, from their latest request.
pub fn set_language(conn: &mut DbConn, id: i64, language: &str) -> QueryResult<usize> {
    diesel::update(subscribers::table.find(id))
        .set(subscribers::language.eq(language))
        .execute(conn)
}

/// An article of a digest, with its discussion's counters.
#[derive(Debug, Clone, Queryable)]
pub struct DigestArticle {
    pub slug: String,
    pub title: String,
    pub lead: String,
    pub image_url: Option<String>,
    pub image_credit: Option<String>,
    pub views: i64,
    pub replies: i64,
}

/// The articles published in `[from, to)`, newest first.
pub fn articles_between(
    conn: &mut DbConn,
    from: NaiveDateTime,
    to: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<DigestArticle>> {
    use crate::db::schema::{articles, discussions};
    articles::table
        .inner_join(discussions::table)
        .filter(articles::published_at.ge(from))
        .filter(articles::published_at.lt(to))
        .order((articles::published_at.desc(), articles::id.desc()))
        .limit(limit)
        .select((
            articles::slug,
            articles::title,
            articles::lead,
            articles::image_url,
            articles::image_credit,
            discussions::views,
            discussions::replies,
        ))
        .load(conn)
}

/// A discussion of a digest.
#[derive(Debug, Clone)]
pub struct ActiveDiscussion {
    pub id: i64,
    pub title: String,
    /// Its article's slug, for an article's discussion.
    pub article_slug: Option<String>,
    /// Visible comments in the window.
    pub comments: i64,
}

/// The discussions with the most new comments in `[from, to)`.
pub fn most_active(
    conn: &mut DbConn,
    from: NaiveDateTime,
    to: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<ActiveDiscussion>> {
    use crate::db::schema::{articles, comments, discussions};
    let counts: Vec<(i64, i64)> = comments::table
        .filter(comments::created_at.ge(from))
        .filter(comments::created_at.lt(to))
        .filter(comments::status.eq(crate::comments::CommentStatus::Visible.as_str()))
        .group_by(comments::discussion_id)
        .select((comments::discussion_id, diesel::dsl::count_star()))
        .order_by(diesel::dsl::count_star().desc())
        .limit(limit)
        .load(conn)?;
    let ids: Vec<i64> = counts.iter().map(|(id, _)| *id).collect();
    let titles: std::collections::HashMap<i64, (String, Option<String>)> = discussions::table
        .left_join(articles::table)
        .filter(discussions::id.eq_any(&ids))
        .filter(discussions::visible_from.lt(to))
        .select((
            discussions::id,
            discussions::title,
            articles::slug.nullable(),
        ))
        .load::<(i64, String, Option<String>)>(conn)?
        .into_iter()
        .map(|(id, title, slug)| (id, (title, slug)))
        .collect();
    Ok(counts
        .into_iter()
        .filter_map(|(id, comments)| {
            let (title, article_slug) = titles.get(&id)?.clone();
            Some(ActiveDiscussion {
                id,
                title,
                article_slug,
                comments,
            })
        })
        .collect())
}

/// Records that the digest of `day` started (once; a rerun keeps the first start).
pub fn start_digest(conn: &mut DbConn, day: &str, at: NaiveDateTime) -> QueryResult<usize> {
    use crate::db::schema::newsletter_digests as digests;
    per_backend!(conn, |c| diesel::insert_into(digests::table)
        .values((digests::day.eq(day), digests::started_at.eq(at)))
        .on_conflict(digests::day)
        .do_nothing()
        .execute(c))
}

pub fn finish_digest(
    conn: &mut DbConn,
    day: &str,
    articles: i32,
    enqueued: i64,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    use crate::db::schema::newsletter_digests as digests;
    diesel::update(digests::table.find(day))
        .set((
            digests::finished_at.eq(Some(at)),
            digests::articles.eq(articles),
            digests::enqueued.eq(digests::enqueued + enqueued),
        ))
        .execute(conn)
}

/// Permanent failures in a row after which a subscriber is `bouncing` (no more digests).
pub const BOUNCE_LIMIT: i32 = 3;

/// A newsletter mail to this subscriber failed for good: one more bounce; at `BOUNCE_LIMIT` in
/// a row, a confirmed subscriber becomes `bouncing`.
pub fn record_bounce(conn: &mut DbConn, id: i64) -> QueryResult<usize> {
    diesel::update(subscribers::table.find(id))
        .set(subscribers::bounces.eq(subscribers::bounces + 1))
        .execute(conn)?;
    diesel::update(
        subscribers::table
            .find(id)
            .filter(subscribers::bounces.ge(BOUNCE_LIMIT))
            .filter(subscribers::status.eq(CONFIRMED)),
    )
    .set(subscribers::status.eq(SubscriberStatus::Bouncing.as_str()))
    .execute(conn)
}

/// A newsletter mail to this subscriber went through: the bounces in a row start again.
pub fn clear_bounces(conn: &mut DbConn, id: i64) -> QueryResult<usize> {
    diesel::update(
        subscribers::table
            .find(id)
            .filter(subscribers::bounces.gt(0)),
    )
    .set(subscribers::bounces.eq(0))
    .execute(conn)
}

/// Whether the digest of `day` ran to its end.
pub fn digest_finished(conn: &mut DbConn, day: &str) -> QueryResult<bool> {
    use crate::db::schema::newsletter_digests as digests;
    digests::table
        .find(day)
        .select(digests::finished_at.is_not_null())
        .first(conn)
        .optional()
        .map(|done| done.unwrap_or(false))
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = subscribers)]
pub struct SubscriberRow {
    pub id: i64,
    pub email: String,
    pub status: String,
    pub user_id: Option<i64>,
    pub bounces: i32,
    pub created_at: NaiveDateTime,
    pub confirmed_at: Option<NaiveDateTime>,
    pub unsubscribed_at: Option<NaiveDateTime>,
}

/// Subscribers by id, after `after`, in a status if given.
pub fn list(
    conn: &mut DbConn,
    status: Option<&str>,
    after: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<SubscriberRow>> {
    let mut query = subscribers::table
        .select(SubscriberRow::as_select())
        .order(subscribers::id)
        .limit(limit)
        .into_boxed();
    if let Some(status) = status {
        query = query.filter(subscribers::status.eq(status.to_string()));
    }
    if let Some(after) = after {
        query = query.filter(subscribers::id.gt(after));
    }
    query.load(conn)
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = crate::db::schema::newsletter_digests)]
pub struct DigestRow {
    pub day: String,
    pub started_at: NaiveDateTime,
    pub finished_at: Option<NaiveDateTime>,
    pub articles: i32,
    pub enqueued: i64,
}

/// Digest days, newest first, before `before`.
pub fn digests(conn: &mut DbConn, before: Option<&str>, limit: i64) -> QueryResult<Vec<DigestRow>> {
    use crate::db::schema::newsletter_digests as digests;
    let mut query = digests::table
        .select(DigestRow::as_select())
        .order(digests::day.desc())
        .limit(limit)
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(digests::day.lt(before.to_string()));
    }
    query.load(conn)
}

/// Whether the subscriber still takes the newsletter (checked just before each digest mail).
pub fn is_confirmed(conn: &mut DbConn, id: i64) -> QueryResult<bool> {
    subscribers::table
        .find(id)
        .select(subscribers::status.eq(CONFIRMED))
        .first(conn)
        .optional()
        .map(|confirmed| confirmed.unwrap_or(false))
}

/// Forgets confirmation tokens that expired before `now`.
pub fn void_expired_confirmations(conn: &mut DbConn, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        subscribers::table
            .filter(subscribers::confirm_token_hash.is_not_null())
            .filter(subscribers::confirm_expires_at.lt(now)),
    )
    .set((
        subscribers::confirm_token_hash.eq(None::<String>),
        subscribers::confirm_expires_at.eq(None::<NaiveDateTime>),
    ))
    .execute(conn)
}

/// Deletes the subscriptions of an account or of its address (an erased reader's): their
/// `(id, email)`, for the mails to forget with them.
pub fn forget(
    conn: &mut DbConn,
    UserId(user_id): UserId,
    email_key: &str,
) -> QueryResult<Vec<(i64, String)>> {
    let theirs = subscribers::user_id
        .eq(user_id)
        .or(subscribers::pending_user_id.eq(user_id))
        .or(subscribers::confirm_user_id.eq(user_id))
        .or(subscribers::email_key.eq(email_key));
    let gone: Vec<(i64, String)> = subscribers::table
        .filter(theirs)
        .select((subscribers::id, subscribers::email))
        .load(conn)?;
    let ids: Vec<i64> = gone.iter().map(|(id, _)| *id).collect();
    diesel::delete(subscribers::table.filter(subscribers::id.eq_any(&ids))).execute(conn)?;
    Ok(gone)
}
