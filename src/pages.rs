//! Tribune's own small HTML pages (the links of its mails open them): no script, no style,
//! the API's security headers; a button is a form that POSTs (the only way they change
//! anything: a GET never does, since mail scanners and link previews open links).

use actix_web::http::header::{self, ContentType};
use actix_web::{HttpRequest, HttpResponse};

use crate::mail::html_escape;

/// A small page of ours: no script, no style, the API's security headers; `button` is a form
/// that POSTs to its action (the only way our pages change anything).
pub struct Page<'a> {
    pub title: &'a str,
    pub text: &'a str,
    /// `(action, label)`
    pub button: Option<(&'a str, &'a str)>,
}

pub fn page(page: Page) -> HttpResponse {
    let form = page.button.map_or(String::new(), |(action, label)| {
        format!(
            "<form method=\"post\" action=\"{}\"><button type=\"submit\">{}</button></form>",
            html_escape(action),
            html_escape(label),
        )
    });
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" \
         content=\"width=device-width\"><title>{title}</title></head><body><h1>{title}</h1>\
         <p>{text}</p>{form}</body></html>",
        title = html_escape(page.title),
        text = html_escape(page.text),
    );
    HttpResponse::Ok()
        .content_type(ContentType::html())
        .insert_header(("Cache-Control", "no-store"))
        .body(html)
}

/// A browser (our pages' buttons) rather than a program: it asks for HTML.
pub fn wants_html(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

/// Percent-encodes a query value (tokens are base64url already; this keeps anything else
/// harmless).
pub fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
