//! `Json<T>`: the JSON body extractor every handler uses instead of `actix_web::web::Json`.
//!
//! It answers as the contract says: a wrong content type or malformed JSON is a `400`, a body
//! over `TRIBUNE_BODY_LIMIT` a `413`, and well-formed JSON of the wrong shape (a missing field,
//! a string where a number belongs) a `422` whose `errors` name the field by its path
//! (`user.email`, `tags[2]`).

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{FromRequest, HttpRequest};
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

/// Deserializes a JSON document, telling syntax errors (400) from shape errors (422).
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer)
        .map_err(|e| json_error(e.path().to_string(), e.into_inner()))?;
    deserializer.end().map_err(|e| json_error(".".into(), e))?;
    Ok(value)
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
