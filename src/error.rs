//! `ApiError`: every non-2xx answer of the API, rendered as RFC 9457 `application/problem+json`.
//!
//! Handlers return `Result<_, ApiError>`; diesel, r2d2 and extractor errors convert into it
//! here, once. A 5xx tells the client only what kind of failure it was and logs the whole cause.
//! Responses made elsewhere (actix's own 404s, CORS refusals) are rewritten into problem+json by
//! [`problem_json_for_all_errors`], so a client never sees another error format.

use std::collections::BTreeMap;

use actix_web::body::{BoxBody, EitherBody};
use actix_web::dev::ServiceResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// Field name -> messages, as in the `errors` member of a 422.
pub type FieldErrors = BTreeMap<String, Vec<String>>;

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, serde::Deserialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem, `urn:tribune:problem:<slug>`; stable, for clients
    /// to switch on.
    #[serde(rename = "type")]
    #[schema(example = "urn:tribune:problem:validation")]
    pub kind: String,
    /// A short summary of the kind of problem.
    #[schema(example = "Unprocessable Content")]
    pub title: String,
    /// The HTTP status code.
    #[schema(example = 422)]
    pub status: u16,
    /// What happened this time, for a human.
    #[schema(example = "some fields are invalid")]
    pub detail: String,
    /// On validation errors: the messages for each offending field.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<std::collections::HashMap<String, Vec<String>>>,
             example = json!({"email": ["is already taken"]}))]
    pub errors: Option<FieldErrors>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Malformed input: bad JSON, wrong content type, bad path or query parameter.
    #[error("{0}")]
    BadRequest(String),
    /// No valid credentials; answered with `WWW-Authenticate: Bearer`.
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    /// No route has this path.
    #[error("no such route: {0}")]
    NoRoute(String),
    /// The path exists with other methods, listed in `Allow`.
    #[error("method not allowed; allowed: {}", .0.join(", "))]
    MethodNotAllowed(Vec<String>),
    /// A unique value is taken; names the field.
    #[error("{field} is already taken")]
    Conflict { field: String },
    /// What the client asks was done already and may be done only once (e.g. a report).
    #[error("{0}")]
    AlreadyDone(String),
    #[error("some fields are invalid")]
    Validation(FieldErrors),
    #[error("the request body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("too many requests; retry in {retry_after} s")]
    RateLimited { retry_after: u64 },
    /// The database (or another dependency) cannot be reached right now; retryable.
    #[error("the service is unavailable right now; try again shortly")]
    Unavailable(#[source] anyhow::Error),
    #[error("the request took too long")]
    Timeout,
    /// A bug or an unexpected failure: logged whole, told to nobody.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    pub fn internal(cause: impl Into<anyhow::Error>) -> Self {
        ApiError::Internal(cause.into())
    }

    /// One field's validation error.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        ApiError::Validation(BTreeMap::from([(field.to_string(), vec![message.into()])]))
    }

    fn slug(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "bad-request",
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) => "not-found",
            ApiError::NoRoute(_) => "no-route",
            ApiError::MethodNotAllowed(_) => "method-not-allowed",
            ApiError::Conflict { .. } => "conflict",
            ApiError::AlreadyDone(_) => "already-done",
            ApiError::Validation(_) => "validation",
            ApiError::PayloadTooLarge { .. } => "payload-too-large",
            ApiError::RateLimited { .. } => "rate-limited",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Timeout => "timeout",
            ApiError::Internal(_) => "internal",
        }
    }

    fn problem(&self) -> Problem {
        let status = self.status_code();
        let errors = match self {
            ApiError::Validation(errors) => Some(errors.clone()),
            ApiError::Conflict { field } => Some(BTreeMap::from([(
                field.clone(),
                vec!["is already taken".to_string()],
            )])),
            _ => None,
        };
        problem(status, self.slug(), self.to_string(), errors)
    }
}

fn problem(status: StatusCode, slug: &str, detail: String, errors: Option<FieldErrors>) -> Problem {
    Problem {
        kind: format!("urn:tribune:problem:{slug}"),
        title: status.canonical_reason().unwrap_or("Error").to_string(),
        status: status.as_u16(),
        detail,
        errors,
    }
}

fn problem_response(status: StatusCode, problem: &Problem) -> HttpResponse {
    let body = serde_json::to_string(problem).unwrap_or_else(|_| String::from("{}"));
    HttpResponse::build(status)
        .content_type(PROBLEM_JSON)
        .body(body)
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) | ApiError::NoRoute(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict { .. } | ApiError::AlreadyDone(_) => StatusCode::CONFLICT,
            ApiError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) | ApiError::Timeout => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            ApiError::Internal(cause) => tracing::error!(error = ?cause, "internal error"),
            ApiError::Unavailable(cause) => {
                tracing::warn!(error = %format!("{cause:#}"), "unavailable")
            }
            _ => {}
        }
        let status = self.status_code();
        let mut response = problem_response(status, &self.problem());
        let headers = response.headers_mut();
        match self {
            ApiError::Unauthorized(_) => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            ApiError::MethodNotAllowed(methods) => {
                if let Ok(allow) = HeaderValue::from_str(&methods.join(", ")) {
                    headers.insert(header::ALLOW, allow);
                }
            }
            ApiError::RateLimited { retry_after } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after));
            }
            ApiError::Unavailable(_) | ApiError::Timeout => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            _ => {}
        }
        response
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(error: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind as Kind, Error};
        match error {
            Error::NotFound => ApiError::NotFound("not found".into()),
            Error::DatabaseError(Kind::UniqueViolation, ref info) => ApiError::Conflict {
                field: conflicting_field(info.constraint_name(), info.message()),
            },
            // What the row refers to went away meanwhile (e.g. a report racing the deletion
            // of its discussion).
            Error::DatabaseError(Kind::ForeignKeyViolation, _) => {
                ApiError::NotFound("what this refers to no longer exists".into())
            }
            Error::DatabaseError(Kind::ClosedConnection | Kind::SerializationFailure, _) => {
                ApiError::Unavailable(error.into())
            }
            // PostgreSQL chose this transaction to break a deadlock: retryable.
            Error::DatabaseError(_, ref info) if info.message().contains("deadlock detected") => {
                ApiError::Unavailable(error.into())
            }
            // SQLite: another writer kept the lock past busy_timeout.
            Error::DatabaseError(_, ref info) if info.message().contains("database is locked") => {
                ApiError::Unavailable(error.into())
            }
            // The database went away under a query (PostgreSQL's connection lost, SQLite's
            // file unwritable or gone): retryable, never the client's fault.
            Error::DatabaseError(_, ref info) if is_database_away(info.message()) => {
                ApiError::Unavailable(error.into())
            }
            // PostgreSQL refuses NUL characters in text and dates beyond its range: the
            // client's input, so a 400, never a 500.
            Error::DatabaseError(_, ref info)
                if info.message().contains("invalid byte sequence")
                    || info.message().contains("0x00") =>
            {
                ApiError::BadRequest("text may not contain NUL characters".into())
            }
            // The DTOs check ranges and name the field; this is the net under them. The
            // database's own words never reach a client (they name tables and types).
            Error::DatabaseError(_, ref info) if info.message().contains("out of range") => {
                tracing::warn!(error = %info.message(), "a value out of range reached the database");
                ApiError::BadRequest("a value is out of range".into())
            }
            other => ApiError::Internal(other.into()),
        }
    }
}

/// Whether a database error says the database itself is unreachable or unusable now.
fn is_database_away(message: &str) -> bool {
    const AWAY: [&str; 10] = [
        "server closed the connection",
        "no connection to the server",
        "could not receive data",
        "could not send data",
        "terminating connection",
        "connection to server",
        "readonly database",
        "unable to open database file",
        "disk I/O error",
        "database or disk is full",
    ];
    AWAY.iter().any(|words| message.contains(words))
}

/// The field behind a unique violation. PostgreSQL names the constraint
/// (`users_email_key_key` -> `email`), SQLite the column (`UNIQUE constraint failed:
/// users.email_key` -> `email`). Case-insensitive unique values live in `<field>_key` columns,
/// so `_key` suffixes are dropped.
fn conflicting_field(constraint: Option<&str>, message: &str) -> String {
    let name = match message.strip_prefix("UNIQUE constraint failed: ") {
        Some(columns) => {
            let first = columns.split(',').next().unwrap_or(columns).trim();
            first.rsplit('.').next().unwrap_or(first)
        }
        // PostgreSQL: `<table>_<column>_key`. Only `users` has unique columns a client can
        // collide with, and its name has no underscore (`newsletter_subscribers` and
        // `comment_reports` do: their conflicts are answered before the database is asked).
        None => match constraint {
            Some(name) => name.split_once('_').map_or(name, |(_, rest)| rest),
            None => return "value".to_string(),
        },
    };
    let mut name = name;
    while let Some(stripped) = name.strip_suffix("_key") {
        name = stripped;
    }
    name.to_string()
}

impl From<validator::ValidationErrors> for ApiError {
    fn from(errors: validator::ValidationErrors) -> Self {
        let fields = errors
            .field_errors()
            .into_iter()
            .map(|(field, errors)| {
                let messages = errors
                    .iter()
                    .map(|e| match &e.message {
                        Some(message) => message.to_string(),
                        None => format!("is invalid ({})", e.code),
                    })
                    .collect();
                (field.to_string(), messages)
            })
            .collect();
        ApiError::Validation(fields)
    }
}

impl From<diesel::r2d2::PoolError> for ApiError {
    fn from(error: diesel::r2d2::PoolError) -> Self {
        ApiError::Unavailable(anyhow::anyhow!("database pool: {error}"))
    }
}

impl From<actix_web::error::QueryPayloadError> for ApiError {
    fn from(error: actix_web::error::QueryPayloadError) -> Self {
        ApiError::BadRequest(format!("bad query string: {error}"))
    }
}

impl From<actix_web::error::PathError> for ApiError {
    fn from(error: actix_web::error::PathError) -> Self {
        ApiError::BadRequest(format!("bad path parameter: {error}"))
    }
}

/// The `ErrorHandlers` middleware's hook: any error response that is not problem+json yet
/// (actix's defaults, CORS refusals, ...) gets a problem body for its status. Headers are kept.
pub fn problem_json_for_all_errors<B>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let already = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|ct| ct.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
    if already {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let detail = res
        .response()
        .error()
        .map(|e| e.to_string())
        .filter(|d| !d.is_empty() && !status.is_server_error())
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_lowercase());
    let slug = status
        .canonical_reason()
        .unwrap_or("error")
        .to_lowercase()
        .replace(' ', "-");
    let body = serde_json::to_string(&problem(status, &slug, detail, None)).unwrap_or_default();
    let res = res.map_body(|head, _| {
        head.headers
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        head.headers.remove(header::CONTENT_LENGTH);
        EitherBody::<B, BoxBody>::right(BoxBody::new(body))
    });
    Ok(ErrorHandlerResponse::Response(res))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_violations_name_the_field() {
        assert_eq!(
            conflicting_field(None, "UNIQUE constraint failed: users.email_key"),
            "email"
        );
        assert_eq!(
            conflicting_field(Some("users_username_key_key"), "duplicate key value"),
            "username"
        );
        assert_eq!(
            conflicting_field(Some("articles_slug_key"), "duplicate key value"),
            "slug"
        );
    }

    #[test]
    fn server_errors_hide_their_cause() {
        let err = ApiError::internal(anyhow::anyhow!("password=hunter2 at db.internal"));
        let body = serde_json::to_string(&err.problem()).unwrap();
        assert!(!body.contains("hunter2"), "{body}");
        assert_eq!(err.status_code(), StatusCode::INTERNAL_SERVER_ERROR);
        let err = ApiError::Unavailable(anyhow::anyhow!("connection refused to db.internal"));
        let body = serde_json::to_string(&err.problem()).unwrap();
        assert!(!body.contains("db.internal"), "{body}");
    }
}
