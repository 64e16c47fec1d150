//! `Json<T>`: the JSON body extractor every handler uses instead of `actix_web::web::Json`.
//!
//! It answers as the contract says: a wrong content type or malformed JSON is a `400`, a body
//! over `TRIBUNE_BODY_LIMIT` a `413`, and well-formed JSON of the wrong shape (a missing field,
//! a string where a number belongs) a `422` whose `errors` name the field by its path
//! (`user.email`, `tags[2]`).
//!
//! A NUL character in a string (`\u0000`) becomes U+FFFD: PostgreSQL cannot store it, SQLite
//! can, and text must mean the same on both.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{FromRequest, HttpRequest};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// The largest body accepted, in bytes; put in app data by `startup`.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// A JSON request body, deserialized into `T`.
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T> Json<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

fn is_json(req: &HttpRequest) -> bool {
    let Some(value) = req.headers().get(header::CONTENT_TYPE) else {
        return false;
    };
    let Ok(value) = value.to_str() else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = req
            .app_data::<BodyLimit>()
            .map_or(64 * 1024, |limit| limit.0);
        if !is_json(req) {
            return Box::pin(async {
                Err(ApiError::BadRequest(
                    "Content-Type must be application/json".into(),
                ))
            });
        }
        // `Bytes` honours the `PayloadConfig` limit, set to the same value in `startup`.
        let body = Bytes::from_request(req, payload);
        Box::pin(async move {
            let bytes = body.await.map_err(|e| {
                if e.as_response_error().status_code() == 413 {
                    ApiError::PayloadTooLarge { limit }
                } else {
                    ApiError::BadRequest(format!("cannot read the request body: {e}"))
                }
            })?;
            parse(&bytes).map(Json)
        })
    }
}

/// A JSON body that must also pass its `validator` rules: a `422` naming each field that does
/// not. What most handlers take; [`Json`] is for bodies checked later (after a role check, so
/// that a caller without the role hears `403` whatever it sent).
#[derive(Debug)]
pub struct ValidJson<T>(pub T);

impl<T> ValidJson<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: DeserializeOwned + validator::Validate + 'static> FromRequest for ValidJson<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = Json::<T>::from_request(req, payload);
        Box::pin(async move {
            let Json(value) = body.await?;
            value.validate()?;
            Ok(ValidJson(value))
        })
    }
}

/// Deserializes a JSON document, telling syntax errors (400) from shape errors (422).
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    // Every body is an object; serde would also take a struct from an array of its fields.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        return Err(ApiError::invalid("body", "must be a JSON object"));
    }
    let bytes = without_nul(bytes);
    let mut deserializer = serde_json::Deserializer::from_slice(&bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer)
        .map_err(|e| json_error(e.path().to_string(), e.into_inner()))?;
    deserializer.end().map_err(|e| json_error(".".into(), e))?;
    Ok(value)
}

/// A JSON integer, also when written as a number with a zero fraction (`1.0` is the integer 1
/// to JSON Schema). For `#[serde(deserialize_with = "...")]` on integer fields.
pub fn integer<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: TryFrom<i64>,
{
    use serde::de::Error;
    // 2^63: every float below it in magnitude with no fraction is an i64, exactly. Both ends
    // are excluded: an integer just past i64's range (-2^63 - 1) parses as the float -2^63,
    // so i64::MIN itself is taken only when written as an integer.
    const I64_BOUND: f64 = 9_223_372_036_854_775_808.0;
    let number = serde_json::Number::deserialize(deserializer)?;
    let whole = match (number.as_i64(), number.as_f64()) {
        (Some(n), _) => Some(n),
        (None, Some(f)) if f.fract() == 0.0 && f.abs() < I64_BOUND => Some(f as i64),
        _ => None,
    };
    whole
        .and_then(|n| T::try_from(n).ok())
        .ok_or_else(|| D::Error::custom(format!("{number} is not an integer in range")))
}

/// [`integer`] for an optional field.
pub fn optional_integer<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: TryFrom<i64>,
{
    #[derive(serde::Deserialize)]
    struct Whole<T: TryFrom<i64>>(#[serde(deserialize_with = "integer")] T);
    Ok(Option::<Whole<T>>::deserialize(deserializer)?.map(|w| w.0))
}

/// [`integer`] for every item of a list.
pub fn integers<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: TryFrom<i64>,
{
    #[derive(serde::Deserialize)]
    struct Whole<T: TryFrom<i64>>(#[serde(deserialize_with = "integer")] T);
    Ok(Vec::<Whole<T>>::deserialize(deserializer)?
        .into_iter()
        .map(|w| w.0)
        .collect())
}

/// The document with every `\u0000` escape written as `\ufffd` (a raw NUL byte is not JSON
/// at all, and the parser refuses it).
fn without_nul(bytes: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    const NUL: &[u8] = b"\\u0000";
    if !bytes.windows(NUL.len()).any(|w| w == NUL) {
        return std::borrow::Cow::Borrowed(bytes);
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            // An escape: two bytes at least, six for `\uXXXX`.
            if bytes[i..].starts_with(NUL) {
                out.extend_from_slice(b"\\ufffd");
                i += NUL.len();
            } else {
                out.extend_from_slice(&bytes[i..(i + 2).min(bytes.len())]);
                i += 2;
            }
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    std::borrow::Cow::Owned(out)
}

fn json_error(path: String, error: serde_json::Error) -> ApiError {
    if error.classify() != serde_json::error::Category::Data {
        return ApiError::BadRequest(format!("malformed JSON: {error}"));
    }
    let message = error.to_string();
    let message = message.split(" at line ").next().unwrap_or(&message);
    // serde reports "missing field `x`" at the parent's path: name `x` itself.
    let field = match (missing_field(message), path.as_str()) {
        (Some(f), ".") => f.to_string(),
        (Some(f), parent) => format!("{parent}.{f}"),
        (None, ".") => "body".to_string(),
        (None, _) => path.clone(),
    };
    ApiError::invalid(&field, message)
}

fn missing_field(message: &str) -> Option<&str> {
    message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::FieldErrors;

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        age: u32,
        tags: Vec<String>,
    }

    fn fields(err: ApiError) -> FieldErrors {
        match err {
            ApiError::Validation(f) => f,
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn shape_errors_name_the_field() {
        let err = parse::<Body>(br#"{"name":"a","age":"x","tags":[]}"#).unwrap_err();
        assert!(fields(err).contains_key("age"));
        let err = parse::<Body>(br#"{"name":"a","age":1,"tags":["x",2]}"#).unwrap_err();
        assert!(fields(err).contains_key("tags[1]"));
        let err = parse::<Body>(br#"{"name":"a","tags":[]}"#).unwrap_err();
        assert!(fields(err).contains_key("age"));
    }

    #[test]
    fn nul_characters_become_replacement_characters() {
        #[derive(serde::Deserialize)]
        struct Text {
            a: String,
            b: String,
        }
        let text: Text = parse(br#"{"a":"x\u0000y","b":"\\u0000"}"#).unwrap();
        assert_eq!(text.a, "x\u{fffd}y");
        assert_eq!(text.b, "\\u0000", "an escaped backslash is not an escape");
    }

    #[test]
    fn integers_may_be_written_with_a_zero_fraction_anywhere_in_range() {
        #[derive(serde::Deserialize)]
        struct Ids {
            #[serde(deserialize_with = "integers")]
            ids: Vec<i64>,
        }
        // 2251799813685247.0 came out as 2251799813685247.25 before serde_json's exact float
        // parsing (`float_roundtrip`, Cargo.toml) was on: the fuzzer's find.
        let body = br#"{"ids":[1,2.0,-9007199254740992.0,-9.2e18,9.2e18,2251799813685247.0]}"#;
        let ids: Ids = parse(body).unwrap();
        assert_eq!(
            ids.ids,
            [
                1,
                2,
                -9_007_199_254_740_992,
                -9_200_000_000_000_000_000,
                9_200_000_000_000_000_000,
                2_251_799_813_685_247
            ]
        );
        let past_the_ends = ["-9223372036854775809", "9223372036854775808"];
        for out in ["1.5", "9.3e18", "-9.3e18", "1e300"]
            .into_iter()
            .chain(past_the_ends)
        {
            let body = format!(r#"{{"ids":[{out}]}}"#);
            let err = parse::<Ids>(body.as_bytes()).err().expect(out);
            assert!(fields(err).contains_key("ids[0]"), "{out}");
        }
    }

    #[test]
    fn syntax_errors_are_bad_requests() {
        for body in [
            &b"{"[..],
            b"",
            b"{\"name\":",
            b"{\"name\":\"a\",\"age\":1,\"tags\":[]} x",
        ] {
            assert!(
                matches!(parse::<Body>(body), Err(ApiError::BadRequest(_))),
                "{:?}",
                String::from_utf8_lossy(body)
            );
        }
    }
}
