//! Tribune's own small HTML pages (the links of its mails open them): no script, no style,
//! the API's security headers; a button is a form that POSTs (the only way they change
//! anything: a GET never does, since mail scanners and link previews open links).

use actix_web::http::header::{self, ContentType};
use actix_web::{HttpRequest, HttpResponse};

use crate::i18n::Lang;
use crate::mail::html_escape;

/// A small page of ours: no script, no style, the API's security headers; `button` is a form
/// that POSTs to its action (the only way our pages change anything). Texts are message ids
/// of `i18n`, written in the language the browser asks for (`Accept-Language`), else the
/// site's (`TRIBUNE_DEFAULT_LANGUAGE`).
pub struct Page<'a> {
    pub title: &'a str,
    pub text: &'a str,
    /// `(action, label)`
    pub button: Option<(&'a str, &'a str)>,
}

pub fn page(req: &HttpRequest, page: Page) -> HttpResponse {
    let default = req
        .app_data::<actix_web::web::Data<crate::config::Settings>>()
        .map(|s| s.default_language)
        .unwrap_or_default();
    let lang = Lang::of_request(req, default);
    let say = |id: &str| crate::i18n::text(lang, id, &[]).unwrap_or_else(|| id.to_string());
    let form = page.button.map_or(String::new(), |(action, label)| {
        format!(
            "<form method=\"post\" action=\"{}\"><button type=\"submit\">{}</button></form>",
            html_escape(action),
            html_escape(&say(label)),
        )
    });
    let html = format!(
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" \
         content=\"width=device-width\"><title>{title}</title></head><body><h1>{title}</h1>\
         <p>{text}</p>{form}</body></html>",
        lang = lang.as_str(),
        title = html_escape(&say(page.title)),
        text = html_escape(&say(page.text)),
    );
    HttpResponse::Ok()
        .content_type(ContentType::html())
        .insert_header(("Cache-Control", "no-store"))
        .insert_header((header::CONTENT_LANGUAGE, lang.as_str()))
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
