//! Accounts and sessions: register, log in, refresh, log out, reset a password, `/me`, profiles.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use validator::Validate;

use super::domain::key;
use super::dto::*;
use super::repo::{self, NewUser, Refresh, User};
use crate::auth::password::{Hasher, check_strength};
use crate::auth::tokens::{ACCESS_TTL_SECONDS, TokenKeys, random_token, token_hash};
use crate::auth::{ActiveUser, AuthUser, Role};
use crate::db::{Db, now};
use crate::error::{ApiError, Problem};
use crate::extract::{Json, ValidJson};
use crate::ids::{SessionId, UserId};
use crate::ratelimit::{ClientIp, Limit, RateLimits};

/// Answers that carry tokens must not be kept by any cache.
const NO_STORE: (header::HeaderName, &str) = (header::CACHE_CONTROL, "no-store");

/// What `create_account` needs besides the request.
pub struct NewAccount {
    pub request: RegisterRequest,
    pub role: Role,
}

/// Validates, hashes and stores a new account (register and `tribune user create`).
pub async fn create_account(
    db: &Db,
    hasher: &Hasher,
    account: NewAccount,
) -> Result<User, ApiError> {
    let NewAccount { request, role } = account;
    request.validate()?;
    let username = request.username.trim().to_string();
    let email = request.email.trim().to_string();
    check_strength(&request.password, &[&username, &email])?;
    let password_hash = hasher.hash(request.password).await?;
    let display_name = request
        .display_name
        .map(|d| d.trim().to_string())
        .unwrap_or_else(|| username.clone());
    db.run(move |conn| {
        let user = repo::insert_user(
            conn,
            &NewUser {
                username: &username,
                username_key: &key(&username),
                email: &email,
                email_key: &key(&email),
                display_name: &display_name,
                password_hash: &password_hash,
                role: role.as_str(),
                created_at: now(),
            },
        )?;
        Ok(user)
    })
    .await
}

fn user_agent(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|ua| ua.chars().take(256).collect())
}

/// Starts a session for `user` and answers with its tokens.
async fn start_session(
    db: &Db,
    keys: &TokenKeys,
    user: User,
    user_agent: Option<String>,
) -> Result<AuthResponse, ApiError> {
    let refresh_token = random_token();
    let refresh_hash = token_hash(&refresh_token);
    let user_id = user.id;
    let session_id = db
        .tx(move |conn| {
            Ok(repo::create_session(
                conn,
                user_id,
                user_agent.as_deref(),
                &refresh_hash,
                now(),
            )?)
        })
        .await?;
    token_response(keys, user, session_id, refresh_token)
}

fn token_response(
    keys: &TokenKeys,
    user: User,
    session_id: i64,
    refresh_token: String,
) -> Result<AuthResponse, ApiError> {
    let access_token = keys.issue(user.id, user.role.as_str(), session_id)?;
    Ok(AuthResponse {
        user: user.into(),
        access_token,
        refresh_token,
        token_type: "Bearer",
        expires_in: ACCESS_TTL_SECONDS,
    })
}

/// Creates an account and signs it in.
#[utoipa::path(
    tag = "accounts",
    request_body = RegisterRequest,
    responses(
        (status = 201, description = "Registered and signed in", body = AuthResponse),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The username or email is taken", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many requests", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/auth/register")]
pub async fn register(
    req: HttpRequest,
    client: ClientIp,
    limits: web::Data<RateLimits>,
    db: web::Data<Db>,
    hasher: web::Data<Hasher>,
    keys: web::Data<TokenKeys>,
    body: Json<RegisterRequest>,
) -> Result<HttpResponse, ApiError> {
    limits.check_client(&db, Limit::Auth, client).await?;
    let account = NewAccount {
        request: body.into_inner(),
        role: Role::User,
    };
    let user = create_account(&db, &hasher, account).await?;
    let response = start_session(&db, &keys, user, user_agent(&req)).await?;
    Ok(HttpResponse::Created()
        .insert_header(NO_STORE)
        .json(response))
}

/// Signs in with a username or an email. A wrong password and an unknown login get the same
/// answer in the same time.
#[utoipa::path(
    tag = "accounts",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = AuthResponse),
        (status = 401, description = "Wrong login or password", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The account is banned", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many requests or failed logins from this address, or failed logins to this account from this address", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/auth/login")]
pub async fn login(
    req: HttpRequest,
    client: ClientIp,
    limits: web::Data<RateLimits>,
    db: web::Data<Db>,
    hasher: web::Data<Hasher>,
    keys: web::Data<TokenKeys>,
    body: ValidJson<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    limits.check_client(&db, Limit::Auth, client).await?;
    let body = body.into_inner();
    let login_key = key(&body.login);
    let address = client.key();
    let counting = limits.clone();
    // Every attempt counts as a failure before the password is checked (so parallel guesses
    // cannot slip past a limit together); a right password takes its hits back. An unknown
    // login is counted under a digest of what was typed, so that known and unknown names
    // throttle alike: same statuses, same bodies, same work.
    let (user, tickets) = db
        .tx(move |conn| {
            let user = if login_key.contains('@') {
                repo::user_by_email_key(conn, &login_key)?
            } else {
                repo::user_by_username_key(conn, &login_key)?
            };
            let account = match &user {
                Some(user) => format!("user-{}", user.id),
                None => format!("login-{}", &token_hash(&login_key)[..16]),
            };
            let mut tickets = Vec::new();
            tickets.extend(counting.hit(conn, Limit::LoginFailures, &address)?);
            tickets.extend(counting.hit(
                conn,
                Limit::AccountLoginFailures,
                &format!("{account}@{address}"),
            )?);
            Ok((user, tickets))
        })
        .await?;
    let hash = user.as_ref().map(|u| u.password_hash.clone());
    let matches = hasher.verify(body.password, hash).await?;
    let (Some(user), true) = (user, matches) else {
        return Err(wrong_login());
    };
    if !tickets.is_empty() {
        db.run(move |conn| RateLimits::refund(conn, &tickets))
            .await?;
    }
    if user.is_banned(now()) {
        return Err(ApiError::Forbidden("this account is banned".into()));
    }
    let response = start_session(&db, &keys, user, user_agent(&req)).await?;
    Ok(HttpResponse::Ok().insert_header(NO_STORE).json(response))
}

fn wrong_login() -> ApiError {
    ApiError::Unauthorized("wrong login or password".into())
}

/// Trades a refresh token for a new pair. Each refresh token works once: presenting a spent
/// one ends its whole session.
#[utoipa::path(
    tag = "accounts",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "A new token pair", body = AuthResponse),
        (status = 401, description = "Unknown, expired or spent refresh token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The account is banned", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many requests", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/auth/refresh")]
pub async fn refresh(
    client: ClientIp,
    limits: web::Data<RateLimits>,
    db: web::Data<Db>,
    keys: web::Data<TokenKeys>,
    body: ValidJson<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    limits.check_client(&db, Limit::Auth, client).await?;
    let body = body.into_inner();
    let new_token = random_token();
    let new_hash = token_hash(&new_token);
    let old_hash = token_hash(&body.refresh_token);
    let outcome = db
        .tx(move |conn| {
            let current = now();
            let outcome = repo::rotate_refresh_token(conn, &old_hash, &new_hash, current)?;
            if let Refresh::Rotated { user, .. } = &outcome
                && user.is_banned(current)
            {
                // Rolled back: the token stays as it was.
                return Err(ApiError::Forbidden("this account is banned".into()));
            }
            Ok(outcome)
        })
        .await?;
    match outcome {
        Refresh::Rotated { user, session_id } => Ok(HttpResponse::Ok()
            .insert_header(NO_STORE)
            .json(token_response(&keys, user, session_id, new_token)?)),
        Refresh::Reused => Err(ApiError::Unauthorized(
            "this refresh token was already used; its session has been ended".into(),
        )),
        Refresh::Invalid => Err(ApiError::Unauthorized(
            "unknown or expired refresh token".into(),
        )),
    }
}

/// Ends the session of a refresh token. Answers `204` for unknown tokens too.
#[utoipa::path(
    tag = "accounts",
    request_body = RefreshRequest,
    responses((status = 204, description = "The session has ended"))
)]
#[post("/api/v1/auth/logout")]
pub async fn logout(
    db: web::Data<Db>,
    body: ValidJson<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let hash = token_hash(&body.refresh_token);
    db.run(move |conn| Ok(repo::revoke_session_of_token(conn, &hash, now())?))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The signed-in user's account.
#[utoipa::path(
    tag = "accounts",
    security(("bearer" = [])),
    responses(
        (status = 200, body = Me, description = "The account"),
    )
)]
#[get("/api/v1/me")]
pub async fn me(auth: AuthUser, db: web::Data<Db>) -> Result<web::Json<Me>, ApiError> {
    let user = db
        .run(move |conn| {
            live_session(conn, auth)?;
            Ok(repo::user_by_id(conn, auth.id)?)
        })
        .await?;
    Ok(web::Json(user.into()))
}

/// `401` unless the token's session is still live (reads of one's own account see a logout,
/// a reset or a reuse-revocation at once, as writes do).
pub fn live_session(conn: &mut crate::db::DbConn, auth: AuthUser) -> Result<(), ApiError> {
    match repo::account_state(conn, UserId(auth.id), SessionId(auth.session_id))? {
        Some(state) if state.session_live => Ok(()),
        _ => Err(ApiError::Unauthorized(
            "this session has ended; sign in again".into(),
        )),
    }
}

/// Changes the signed-in user's display name.
#[utoipa::path(
    tag = "accounts",
    security(("bearer" = [])),
    request_body = UpdateMe,
    responses(
        (status = 200, body = Me, description = "The updated account"),
        (status = 403, description = "The account is banned", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/api/v1/me")]
pub async fn update_me(
    user: ActiveUser,
    db: web::Data<Db>,
    body: ValidJson<UpdateMe>,
) -> Result<web::Json<Me>, ApiError> {
    let body = body.into_inner();
    let updated = db
        .run(move |conn| {
            if let Some(lang) = body.language {
                repo::set_language(conn, user.id, lang.as_str())?;
            }
            Ok(match body.display_name {
                Some(name) => repo::update_display_name(conn, user.id, name.trim())?,
                None => repo::user_by_id(conn, user.id)?,
            })
        })
        .await?;
    Ok(web::Json(updated.into()))
}

/// Changes the password; the user's other sessions end.
#[utoipa::path(
    tag = "accounts",
    security(("bearer" = [])),
    request_body = ChangePassword,
    responses(
        (status = 204, description = "Changed; other sessions have ended"),
        (status = 403, description = "The account is banned", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Wrong current password, or a weak new one", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts from this address", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/me/password")]
pub async fn change_password(
    user: ActiveUser,
    client: ClientIp,
    limits: web::Data<RateLimits>,
    db: web::Data<Db>,
    hasher: web::Data<Hasher>,
    body: ValidJson<ChangePassword>,
) -> Result<HttpResponse, ApiError> {
    // A password check like a login's: the same per-address limit against guessing.
    limits.check_client(&db, Limit::Auth, client).await?;
    let body = body.into_inner();
    let account = db
        .run(move |conn| Ok(repo::user_by_id(conn, user.id)?))
        .await?;
    let matches = hasher
        .verify(body.current_password, Some(account.password_hash.clone()))
        .await?;
    if !matches {
        return Err(ApiError::invalid(
            "current_password",
            "is not the current password",
        ));
    }
    check_strength(&body.new_password, &[&account.username, &account.email])?;
    let hash = hasher.hash(body.new_password).await?;
    db.tx(move |conn| {
        let at = now();
        repo::set_password_hash(conn, user.id, &hash)?;
        repo::revoke_sessions_of_user(conn, user.id, Some(user.session_id), at)?;
        repo::end_password_resets(conn, user.id, at)?;
        Ok(())
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The signed-in user's live sessions, most recently used first.
#[utoipa::path(
    tag = "accounts",
    security(("bearer" = [])),
    responses(
        (status = 200, body = SessionList, description = "Live sessions"),
    )
)]
#[get("/api/v1/me/sessions")]
pub async fn sessions(
    auth: AuthUser,
    db: web::Data<Db>,
) -> Result<web::Json<SessionList>, ApiError> {
    let sessions = db
        .run(move |conn| {
            live_session(conn, auth)?;
            Ok(repo::live_sessions(conn, auth.id, now())?)
        })
        .await?;
    Ok(web::Json(SessionList {
        items: sessions
            .into_iter()
            .map(|s| SessionView::new(s, auth.session_id))
            .collect(),
        next_cursor: None,
    }))
}

/// Ends one of the signed-in user's sessions.
#[utoipa::path(
    tag = "accounts",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The session")),
    responses(
        (status = 204, description = "Ended"),
        (status = 404, description = "No such live session of this user", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/api/v1/me/sessions/{id}")]
pub async fn end_session(
    user: ActiveUser,
    db: web::Data<Db>,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let session_id = path.into_inner();
    let ended = db
        .run(move |conn| {
            Ok(repo::revoke_own_session(
                conn,
                UserId(user.id),
                SessionId(session_id),
                now(),
            )?)
        })
        .await?;
    if ended == 0 {
        return Err(ApiError::NotFound("no such session".into()));
    }
    Ok(HttpResponse::NoContent().finish())
}

/// A user's public profile (no email).
#[utoipa::path(
    tag = "accounts",
    params(("username" = String, Path, description = "Any case")),
    responses(
        (status = 200, body = Profile, description = "The profile"),
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/api/v1/users/{username}")]
pub async fn profile(
    db: web::Data<Db>,
    path: web::Path<String>,
) -> Result<web::Json<Profile>, ApiError> {
    let username_key = key(&path.into_inner());
    let user = db
        .run(move |conn| Ok(repo::user_by_username_key(conn, &username_key)?))
        .await?
        .ok_or_else(|| ApiError::NotFound("no such user".into()))?;
    Ok(web::Json(user.into()))
}
