//! SQL of accounts, sessions, refresh tokens and password resets.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::auth::Role;
use crate::db::DbConn;
use crate::db::schema::{password_resets, refresh_tokens, sessions, users};
use crate::ids::{SessionId, UserId};
use crate::per_backend;

mod erasure;

pub use erasure::*;

/// How long a refresh token (and an idle session) lives.
pub const REFRESH_TTL: Duration = Duration::days(30);

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub email: String,
    pub display_name: String,
    pub password_hash: String,
    #[diesel(deserialize_as = String)]
    pub role: Role,
    pub banned_at: Option<NaiveDateTime>,
    pub banned_until: Option<NaiveDateTime>,
    pub comments_count: i64,
    pub created_at: NaiveDateTime,
    /// The language chosen for its mails (`en`, `ru`); `None`: each request's.
    pub language: Option<String>,
}

impl User {
    pub fn is_banned(&self, now: NaiveDateTime) -> bool {
        is_banned(self.banned_at, self.banned_until, now)
    }
}

fn is_banned(
    banned_at: Option<NaiveDateTime>,
    banned_until: Option<NaiveDateTime>,
    now: NaiveDateTime,
) -> bool {
    banned_at.is_some() && banned_until.is_none_or(|until| until > now)
}

#[derive(Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    pub username: &'a str,
    pub username_key: &'a str,
    pub email: &'a str,
    pub email_key: &'a str,
    pub display_name: &'a str,
    pub password_hash: &'a str,
    pub role: &'a str,
    pub created_at: NaiveDateTime,
}

pub fn insert_user(conn: &mut DbConn, user: &NewUser) -> QueryResult<User> {
    // (The multi-backend cannot return a whole `Selectable` row.)
    per_backend!(conn, |c| {
        diesel::insert_into(users::table)
            .values(user)
            .returning(User::as_returning())
            .get_result(c)
    })
}

/// Locks the account's row until the caller's transaction ends.
pub fn lock_user(conn: &mut DbConn, id: i64) -> QueryResult<i64> {
    crate::locked!(conn, users::table.find(id).select(users::id), |q, c| q
        .first::<i64>(c))
}

pub fn user_by_id(conn: &mut DbConn, id: i64) -> QueryResult<User> {
    users::table.find(id).select(User::as_select()).first(conn)
}

/// A live (not erased) account by its username, in any case.
pub fn user_by_username_key(conn: &mut DbConn, key: &str) -> QueryResult<Option<User>> {
    users::table
        .filter(users::username_key.eq(key))
        .filter(users::erased_at.is_null())
        .select(User::as_select())
        .first(conn)
        .optional()
}

pub fn user_by_email_key(conn: &mut DbConn, key: &str) -> QueryResult<Option<User>> {
    users::table
        .filter(users::email_key.eq(key))
        .select(User::as_select())
        .first(conn)
        .optional()
}

/// What every write needs to know of the caller, read now.
pub struct AccountState {
    pub role: Role,
    pub banned: bool,
    pub banned_until: Option<NaiveDateTime>,
    /// The token's session has not ended (logout, reset, ban, expiry).
    pub session_live: bool,
}

impl AccountState {
    /// `Some(" until …")` (or `Some("")` for a permanent ban) when the account is banned.
    pub fn banned_until_text(&self) -> Option<String> {
        self.banned.then(|| match self.banned_until {
            Some(until) => format!(" until {}", until.and_utc().to_rfc3339()),
            None => String::new(),
        })
    }
}

/// The account's role, ban and session state, if the account and that session of it exist.
/// (The session may have ended: a banned account must still hear that it is banned.)
pub fn account_state(
    conn: &mut DbConn,
    UserId(user_id): UserId,
    SessionId(session_id): SessionId,
) -> Result<Option<AccountState>, crate::error::ApiError> {
    let now = crate::db::now();
    type Row = (
        String,
        Option<NaiveDateTime>,
        Option<NaiveDateTime>,
        Option<NaiveDateTime>,
        NaiveDateTime,
    );
    let row: Option<Row> = users::table
        .inner_join(sessions::table)
        .filter(users::id.eq(user_id))
        .filter(sessions::id.eq(session_id))
        .select((
            users::role,
            users::banned_at,
            users::banned_until,
            sessions::revoked_at,
            sessions::expires_at,
        ))
        .first(conn)
        .optional()?;
    let Some((role, banned_at, banned_until, revoked_at, expires_at)) = row else {
        return Ok(None);
    };
    let role =
        Role::try_from(role).map_err(|e| crate::error::ApiError::internal(anyhow::anyhow!(e)))?;
    Ok(Some(AccountState {
        role,
        banned: is_banned(banned_at, banned_until, now),
        banned_until,
        session_live: revoked_at.is_none() && expires_at > now,
    }))
}

pub fn update_display_name(conn: &mut DbConn, id: i64, name: &str) -> QueryResult<User> {
    per_backend!(conn, |c| {
        diesel::update(users::table.find(id))
            .set(users::display_name.eq(name))
            .returning(User::as_returning())
            .get_result(c)
    })
}

pub fn set_language(conn: &mut DbConn, id: i64, language: &str) -> QueryResult<usize> {
    diesel::update(users::table.find(id))
        .set(users::language.eq(language))
        .execute(conn)
}

pub fn set_password_hash(conn: &mut DbConn, id: i64, hash: &str) -> QueryResult<usize> {
    diesel::update(users::table.find(id))
        .set(users::password_hash.eq(hash))
        .execute(conn)
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = sessions)]
pub struct Session {
    pub id: i64,
    pub user_id: i64,
    pub user_agent: Option<String>,
    pub created_at: NaiveDateTime,
    pub last_used_at: NaiveDateTime,
}

/// Starts a session and stores the hash of its first refresh token.
pub fn create_session(
    conn: &mut DbConn,
    user_id: i64,
    user_agent: Option<&str>,
    refresh_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<i64> {
    let session_id = diesel::insert_into(sessions::table)
        .values((
            sessions::user_id.eq(user_id),
            sessions::user_agent.eq(user_agent),
            sessions::created_at.eq(now),
            sessions::last_used_at.eq(now),
            sessions::expires_at.eq(now + REFRESH_TTL),
        ))
        .returning(sessions::id)
        .get_result(conn)?;
    insert_refresh_token(conn, session_id, refresh_hash, now)?;
    Ok(session_id)
}

fn insert_refresh_token(
    conn: &mut DbConn,
    session_id: i64,
    hash: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::token_hash.eq(hash),
            refresh_tokens::session_id.eq(session_id),
            refresh_tokens::created_at.eq(now),
            refresh_tokens::expires_at.eq(now + REFRESH_TTL),
        ))
        .execute(conn)
}

pub enum Refresh {
    /// The token was live: it is spent now, and `new_hash` is the session's token.
    Rotated { user: User, session_id: i64 },
    /// The token had been used already: the whole session is revoked.
    Reused,
    /// Unknown, expired, or its session ended.
    Invalid,
}

/// Spends a refresh token and stores its successor, in the caller's transaction.
pub fn rotate_refresh_token(
    conn: &mut DbConn,
    hash: &str,
    new_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<Refresh> {
    let found: Option<(i64, NaiveDateTime, Option<NaiveDateTime>, i64)> = refresh_tokens::table
        .inner_join(sessions::table)
        .filter(refresh_tokens::token_hash.eq(hash))
        .filter(sessions::revoked_at.is_null())
        .select((
            sessions::id,
            refresh_tokens::expires_at,
            refresh_tokens::used_at,
            sessions::user_id,
        ))
        .first(conn)
        .optional()?;
    let Some((session_id, expires_at, used_at, user_id)) = found else {
        return Ok(Refresh::Invalid);
    };
    // Spend it with a guard, so two concurrent refreshes cannot both succeed.
    let spent = diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::token_hash.eq(hash))
            .filter(refresh_tokens::used_at.is_null()),
    )
    .set(refresh_tokens::used_at.eq(Some(now)))
    .execute(conn)?;
    if used_at.is_some() || spent == 0 {
        revoke_session(conn, session_id, now)?;
        return Ok(Refresh::Reused);
    }
    if expires_at <= now {
        return Ok(Refresh::Invalid);
    }
    insert_refresh_token(conn, session_id, new_hash, now)?;
    diesel::update(sessions::table.find(session_id))
        .set((
            sessions::last_used_at.eq(now),
            sessions::expires_at.eq(now + REFRESH_TTL),
        ))
        .execute(conn)?;
    let user = user_by_id(conn, user_id)?;
    Ok(Refresh::Rotated { user, session_id })
}

pub fn revoke_session(
    conn: &mut DbConn,
    session_id: i64,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        sessions::table
            .find(session_id)
            .filter(sessions::revoked_at.is_null()),
    )
    .set(sessions::revoked_at.eq(Some(now)))
    .execute(conn)
}

/// Ends the session that `refresh_hash` belongs to (logout). Unknown tokens end nothing.
pub fn revoke_session_of_token(
    conn: &mut DbConn,
    refresh_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let session: Option<i64> = refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(refresh_hash))
        .select(refresh_tokens::session_id)
        .first(conn)
        .optional()?;
    match session {
        Some(id) => revoke_session(conn, id, now),
        None => Ok(0),
    }
}

/// Ends one of the user's own sessions; 0 when it is not theirs or already ended.
pub fn revoke_own_session(
    conn: &mut DbConn,
    UserId(user_id): UserId,
    SessionId(session_id): SessionId,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        sessions::table
            .filter(sessions::id.eq(session_id))
            .filter(sessions::user_id.eq(user_id))
            .filter(sessions::revoked_at.is_null()),
    )
    .set(sessions::revoked_at.eq(Some(now)))
    .execute(conn)
}

/// Ends every session of the user, but `except`.
pub fn revoke_sessions_of_user(
    conn: &mut DbConn,
    user_id: i64,
    except: Option<i64>,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        sessions::table
            .filter(sessions::user_id.eq(user_id))
            .filter(sessions::revoked_at.is_null())
            .filter(sessions::id.ne(except.unwrap_or(-1))),
    )
    .set(sessions::revoked_at.eq(Some(now)))
    .execute(conn)
}

pub fn live_sessions(
    conn: &mut DbConn,
    user_id: i64,
    now: NaiveDateTime,
) -> QueryResult<Vec<Session>> {
    sessions::table
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(now))
        .order((sessions::last_used_at.desc(), sessions::id.desc()))
        .limit(100)
        .select(Session::as_select())
        .load(conn)
}

pub fn create_password_reset(
    conn: &mut DbConn,
    user_id: i64,
    hash: &str,
    now: NaiveDateTime,
    ttl: Duration,
) -> QueryResult<usize> {
    diesel::insert_into(password_resets::table)
        .values((
            password_resets::token_hash.eq(hash),
            password_resets::user_id.eq(user_id),
            password_resets::created_at.eq(now),
            password_resets::expires_at.eq(now + ttl),
        ))
        .execute(conn)
}

/// How many resets were asked for the user after `since`, and when the last was.
pub fn resets_since(
    conn: &mut DbConn,
    user_id: i64,
    since: NaiveDateTime,
) -> QueryResult<(i64, Option<NaiveDateTime>)> {
    password_resets::table
        .filter(password_resets::user_id.eq(user_id))
        .filter(password_resets::created_at.gt(since))
        .select((
            diesel::dsl::count_star(),
            diesel::dsl::max(password_resets::created_at),
        ))
        .first(conn)
}

/// Whether a reset token is live (known, unused, unexpired), without spending it.
pub fn password_reset_is_live(
    conn: &mut DbConn,
    hash: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        password_resets::table
            .filter(password_resets::token_hash.eq(hash))
            .filter(password_resets::used_at.is_null())
            .filter(password_resets::expires_at.gt(now)),
    ))
    .get_result(conn)
}

/// Spends a live reset token; the user it was for.
pub fn consume_password_reset(
    conn: &mut DbConn,
    hash: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<i64>> {
    let user_id: Option<i64> = password_resets::table
        .filter(password_resets::token_hash.eq(hash))
        .filter(password_resets::used_at.is_null())
        .filter(password_resets::expires_at.gt(now))
        .select(password_resets::user_id)
        .first(conn)
        .optional()?;
    let Some(user_id) = user_id else {
        return Ok(None);
    };
    let spent = diesel::update(
        password_resets::table
            .filter(password_resets::token_hash.eq(hash))
            .filter(password_resets::used_at.is_null()),
    )
    .set(password_resets::used_at.eq(Some(now)))
    .execute(conn)?;
    if spent != 1 {
        return Ok(None);
    }
    end_password_resets(conn, user_id, now)?;
    Ok(Some(user_id))
}

/// Spends every unused reset token of the user: after a reset or a password change, links
/// asked for earlier must not work.
pub fn end_password_resets(
    conn: &mut DbConn,
    user_id: i64,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        password_resets::table
            .filter(password_resets::user_id.eq(user_id))
            .filter(password_resets::used_at.is_null()),
    )
    .set(password_resets::used_at.eq(Some(now)))
    .execute(conn)
}

/// Removes sessions ended or expired before `before` (their refresh tokens first), then
/// refresh and reset tokens used or expired before it: `(sessions, tokens)`.
pub fn purge_expired(conn: &mut DbConn, before: NaiveDateTime) -> QueryResult<(usize, usize)> {
    let gone = sessions::table
        .filter(
            sessions::revoked_at
                .lt(before)
                .or(sessions::expires_at.lt(before)),
        )
        .select(sessions::id);
    let mut tokens =
        diesel::delete(refresh_tokens::table.filter(refresh_tokens::session_id.eq_any(gone)))
            .execute(conn)?;
    let sessions = diesel::delete(
        sessions::table.filter(
            sessions::revoked_at
                .lt(before)
                .or(sessions::expires_at.lt(before)),
        ),
    )
    .execute(conn)?;
    tokens += diesel::delete(
        refresh_tokens::table.filter(
            refresh_tokens::used_at
                .lt(before)
                .or(refresh_tokens::expires_at.lt(before)),
        ),
    )
    .execute(conn)?;
    tokens += diesel::delete(
        password_resets::table.filter(
            password_resets::used_at
                .lt(before)
                .or(password_resets::expires_at.lt(before)),
        ),
    )
    .execute(conn)?;
    Ok((sessions, tokens))
}

/// Whether a username (its key) is held by any account, erased ones included.
pub fn username_taken(conn: &mut DbConn, key: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        users::table.filter(users::username_key.eq(key)),
    ))
    .get_result(conn)
}
