//! Lists: `?limit=` (1–100, default 20) and opaque keyset cursors.
//!
//! A cursor is the sort key of the last item of a page, encoded (base64url of `:`-joined
//! parts) so that clients treat it as opaque. It is never an offset: the next page is a range
//! read from an index, as fast at page 500 as at page 1. A cursor that does not decode is a 400.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, NaiveDateTime};

use crate::error::ApiError;

pub const DEFAULT_LIMIT: i64 = 20;
pub const MAX_LIMIT: i64 = 100;

/// `?limit=`: 1 to 100, 20 when absent; anything else is a 400.
pub fn limit(requested: Option<i64>) -> Result<i64, ApiError> {
    match requested {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        Some(_) => Err(ApiError::BadRequest(format!(
            "limit must be from 1 to {MAX_LIMIT}"
        ))),
    }
}

/// Encodes a cursor from its parts.
pub fn encode(parts: &[String]) -> String {
    URL_SAFE_NO_PAD.encode(parts.join(":"))
}

fn bad_cursor() -> ApiError {
    ApiError::BadRequest("cursor is not one this API gave".into())
}

/// Decodes a cursor into exactly `count` parts.
pub fn decode(cursor: &str, count: usize) -> Result<Vec<String>, ApiError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(cursor.trim())
        .map_err(|_| bad_cursor())?;
    let text = String::from_utf8(bytes).map_err(|_| bad_cursor())?;
    let parts: Vec<String> = text.split(':').map(String::from).collect();
    if parts.len() != count {
        return Err(bad_cursor());
    }
    Ok(parts)
}

/// A cursor part back into a number.
pub fn number(part: &str) -> Result<i64, ApiError> {
    part.parse().map_err(|_| bad_cursor())
}

/// A timestamp as a cursor part: microseconds since the epoch.
pub fn time_part(at: NaiveDateTime) -> String {
    at.and_utc().timestamp_micros().to_string()
}

pub fn time(part: &str) -> Result<NaiveDateTime, ApiError> {
    use chrono::Datelike;
    DateTime::from_timestamp_micros(number(part)?)
        .map(|t| t.naive_utc())
        // Both backends can store these years; a crafted cursor outside them is a 400.
        .filter(|t| (1..=9999).contains(&t.year()))
        .ok_or_else(bad_cursor)
}

/// A cursor of one id (`?cursor=` of lists ordered by id), or none.
pub fn id_cursor(cursor: Option<&str>) -> Result<Option<i64>, ApiError> {
    cursor
        .map(|c| decode(c, 1).and_then(|p| number(&p[0])))
        .transpose()
}

/// A cursor of a time and an id (`?cursor=` of lists ordered by a timestamp, ties by id), or
/// none.
pub fn time_id_cursor(cursor: Option<&str>) -> Result<Option<(NaiveDateTime, i64)>, ApiError> {
    cursor
        .map(|c| decode(c, 2).and_then(|p| Ok((time(&p[0])?, number(&p[1])?))))
        .transpose()
}

/// Ends a page read with `limit + 1` rows: keeps `limit` and, when there were more, returns the
/// cursor of the last one kept, made by `key`.
pub fn cut<T>(rows: &mut Vec<T>, limit: i64, key: impl Fn(&T) -> Vec<String>) -> Option<String> {
    if rows.len() as i64 <= limit {
        return None;
    }
    rows.truncate(limit as usize);
    rows.last().map(|last| encode(&key(last)))
}

/// A weak `ETag` for a body.
pub fn etag_of(body: &[u8]) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(body);
    format!("W/\"{}\"", crate::auth::tokens::hex(&digest[..12]))
}

/// Whether the request's `If-None-Match` names `etag`.
pub fn etag_matches(req: &actix_web::HttpRequest, etag: &str) -> bool {
    req.headers()
        .get(actix_web::http::header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
}

/// A JSON answer with its `ETag`; `304 Not Modified` (no body) when the request's
/// `If-None-Match` names that tag, so polling clients pay nothing when nothing changed.
pub fn respond_with_etag(
    req: &actix_web::HttpRequest,
    body: impl Into<actix_web::web::Bytes>,
    etag: &str,
) -> actix_web::HttpResponse {
    use actix_web::http::header;
    if etag_matches(req, etag) {
        actix_web::HttpResponse::NotModified()
            .insert_header((header::ETAG, etag))
            .finish()
    } else {
        actix_web::HttpResponse::Ok()
            .insert_header((header::ETAG, etag))
            .content_type("application/json")
            .body(body.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let at = crate::db::now();
        let cursor = encode(&["1".into(), time_part(at), "42".into()]);
        let parts = decode(&cursor, 3).unwrap();
        assert_eq!(time(&parts[1]).unwrap(), at);
        assert_eq!(number(&parts[2]).unwrap(), 42);
        assert!(time("-300000000000000000").is_err(), "year 7500 BC");
        for garbage in ["", "!!!", "bm90IGEgY3Vyc29y", &encode(&["x".into()])] {
            let parsed = decode(garbage, 3).and_then(|p| number(&p[2]));
            assert!(parsed.is_err(), "{garbage}");
        }
    }
}
