//! The moderators' console: one page at `/console/` over the admin API, its script, style and
//! strings embedded in the binary (so `cargo run` is all it takes; no front-end toolchain).
//!
//! The page is plain HTML, CSS and JavaScript (`assets/`): it signs in with the API's login,
//! keeps the access token in memory and the refresh token in the tab's `sessionStorage`, and
//! calls the API with `Authorization: Bearer` (never cookies, so no other site can act through
//! it). Its Content-Security-Policy allows only its own files: no inline script, no `eval`, no
//! other origin. Every text that readers wrote is put on the page as text (`textContent`).
//! Strings are in `assets/en.json` and `assets/ru.json`, one file per language.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, web};

use crate::error::{ApiError, Problem};

/// What the console's files may do: load our own script, style, strings and images, and call
/// our own API; nothing inline, nothing from elsewhere, never framed.
const POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; \
    frame-ancestors 'none'";

/// The console's files: `(name, type, contents)`.
const ASSETS: &[(&str, &str, &str)] = &[
    (
        "index.html",
        "text/html; charset=utf-8",
        include_str!("assets/index.html"),
    ),
    (
        "console.js",
        "text/javascript; charset=utf-8",
        include_str!("assets/console.js"),
    ),
    (
        "console.css",
        "text/css; charset=utf-8",
        include_str!("assets/console.css"),
    ),
    (
        "en.json",
        "application/json",
        include_str!("assets/en.json"),
    ),
    (
        "ru.json",
        "application/json",
        include_str!("assets/ru.json"),
    ),
];

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(index).service(asset);
}

/// The moderators' console (an HTML page; see `docs/console.md`).
#[utoipa::path(
    tag = "console",
    responses(
        (status = 200, description = "The console's page", content_type = "text/html"),
        (status = 304, description = "Not modified since the `If-None-Match` tag"),
    )
)]
#[get("/console/")]
async fn index(request: HttpRequest) -> HttpResponse {
    serve(&request, ASSETS[0])
}

/// One of the console's files: its script, style or strings.
#[utoipa::path(
    tag = "console",
    params(("name" = String, Path, description = "`console.js`, `console.css`, `en.json` or `ru.json`")),
    responses(
        (status = 200, description = "The file"),
        (status = 304, description = "Not modified since the `If-None-Match` tag"),
        (status = 404, description = "No such file", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/console/{name}")]
async fn asset(request: HttpRequest, name: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let found = ASSETS
        .iter()
        .find(|(file, _, _)| *file == name.as_str())
        .ok_or_else(|| ApiError::NotFound("no such file of the console".into()))?;
    Ok(serve(&request, *found))
}

/// A file with its tag (a hash of its contents): browsers ask again each time (`no-cache`) and
/// get `304` while it is the same, so a new release is seen at once.
fn serve(
    request: &HttpRequest,
    (_, content_type, body): (&str, &str, &'static str),
) -> HttpResponse {
    let tag = crate::pagination::etag_of(body.as_bytes());
    let unchanged = crate::pagination::etag_matches(request, &tag);
    let mut response = if unchanged {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::ETAG, tag.as_str()))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::CONTENT_SECURITY_POLICY, POLICY));
    if unchanged {
        return response.finish();
    }
    response.content_type(content_type).body(body)
}
