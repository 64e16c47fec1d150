//! Texts readers see in mail and on Tribune's own pages, in English and Russian, from Fluent
//! files (`en.ftl`, `ru.ftl`): one message per text, plural forms by each language's rules
//! (1 комментарий, 2 комментария, 5 комментариев), dates written as each language writes them.
//! A language is a [`Lang`]; a reader's is taken from their request's `Accept-Language`.

use std::sync::LazyLock;

use chrono::{Datelike, NaiveDate};
use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};

/// A language Tribune writes in. Stored as its code (`en`, `ru`).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Default,
    serde::Serialize,
    serde::Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    En,
    Ru,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Ru];

    pub fn as_str(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ru => "ru",
        }
    }

    /// `en`, `ru`, or a tag of theirs (`ru-RU`, `en_GB`); any case.
    pub fn parse(code: &str) -> Option<Lang> {
        let primary = code
            .trim()
            .split(['-', '_'])
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        match primary.as_str() {
            "en" => Some(Lang::En),
            "ru" => Some(Lang::Ru),
            _ => None,
        }
    }

    /// The first language of an `Accept-Language` header that Tribune writes, by the reader's
    /// preference (`q`); `None` when it names none of them.
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        let mut offered: Vec<(f32, usize, Lang)> = header
            .split(',')
            .take(32)
            .enumerate()
            .filter_map(|(i, part)| {
                let mut pieces = part.split(';');
                let lang = Lang::parse(pieces.next()?)?;
                let q = pieces
                    .find_map(|p| p.trim().strip_prefix("q="))
                    .map_or(Some(1.0), |q| q.trim().parse::<f32>().ok())?;
                (q > 0.0).then_some((q, i, lang))
            })
            .collect();
        offered.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        offered.first().map(|&(_, _, lang)| lang)
    }

    /// The language a request asks for (`Accept-Language`), if it names one Tribune writes.
    pub fn asked_by(request: &actix_web::HttpRequest) -> Option<Lang> {
        request
            .headers()
            .get(actix_web::http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .and_then(Lang::from_accept_language)
    }

    /// The language a request asks for, or `default`.
    pub fn of_request(request: &actix_web::HttpRequest, default: Lang) -> Lang {
        Lang::asked_by(request).unwrap_or(default)
    }

    fn bundle(self) -> &'static FluentBundle<FluentResource> {
        &BUNDLES[self as usize]
    }
}

static BUNDLES: LazyLock<[FluentBundle<FluentResource>; 2]> = LazyLock::new(|| {
    [
        bundle("en", include_str!("en.ftl")),
        bundle("ru", include_str!("ru.ftl")),
    ]
});

fn bundle(code: &str, source: &str) -> FluentBundle<FluentResource> {
    let resource = FluentResource::try_new(source.to_owned())
        .unwrap_or_else(|(_, errors)| panic!("{code}.ftl does not parse: {errors:?}"));
    let mut bundle = FluentBundle::new_concurrent(vec![code.parse().expect("a language tag")]);
    // No Unicode isolation marks around values: mail clients show them as boxes.
    bundle.set_use_isolating(false);
    bundle
        .add_resource(resource)
        .unwrap_or_else(|errors| panic!("{code}.ftl defines a message twice: {errors:?}"));
    bundle
}

/// A value for a message's variable.
#[derive(Debug, Clone)]
pub enum Arg {
    Text(String),
    Number(i64),
}

/// The message `id` in `lang` with its variables, or `None` when `lang` has no such message or
/// a variable is missing (a test renders every template in every language).
pub fn text(lang: Lang, id: &str, args: &[(&str, Arg)]) -> Option<String> {
    let bundle = lang.bundle();
    let pattern = bundle.get_message(id)?.value()?;
    let mut fluent_args = FluentArgs::new();
    for (name, value) in args {
        match value {
            Arg::Text(text) => fluent_args.set(*name, FluentValue::from(text.as_str())),
            Arg::Number(n) => fluent_args.set(*name, FluentValue::from(*n)),
        }
    }
    let mut errors = Vec::new();
    let out = bundle.format_pattern(pattern, Some(&fluent_args), &mut errors);
    errors.is_empty().then(|| out.into_owned())
}

/// Whether `lang` has the message `id`.
pub fn has(lang: Lang, id: &str) -> bool {
    lang.bundle().has_message(id)
}

/// A date as `lang` writes it: "December 5, 2026", "5 декабря 2026".
pub fn date(lang: Lang, day: NaiveDate) -> String {
    let month = text(lang, &format!("month-{}", day.month()), &[]).unwrap_or_default();
    text(
        lang,
        "date",
        &[
            ("month", Arg::Text(month)),
            ("day", Arg::Number(i64::from(day.day()))),
            ("year", Arg::Text(day.year().to_string())),
        ],
    )
    .unwrap_or_else(|| day.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plurals_follow_each_language() {
        let comments =
            |lang, n| text(lang, "digest-comments", &[("count", Arg::Number(n))]).unwrap();
        assert_eq!(comments(Lang::En, 1), "1 comment");
        assert_eq!(comments(Lang::En, 2), "2 comments");
        assert_eq!(comments(Lang::Ru, 1), "1 комментарий");
        assert_eq!(comments(Lang::Ru, 2), "2 комментария");
        assert_eq!(comments(Lang::Ru, 5), "5 комментариев");
        assert_eq!(comments(Lang::Ru, 21), "21 комментарий");
        assert_eq!(comments(Lang::Ru, 11), "11 комментариев");
    }

    #[test]
    fn dates_and_languages() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 5).unwrap();
        assert_eq!(date(Lang::En, day), "December 5, 2026");
        assert_eq!(date(Lang::Ru, day), "5 декабря 2026");
        assert_eq!(
            Lang::from_accept_language("ru-RU,ru;q=0.9,en;q=0.8"),
            Some(Lang::Ru)
        );
        assert_eq!(
            Lang::from_accept_language("de, en;q=0.5, ru;q=0.7"),
            Some(Lang::Ru)
        );
        assert_eq!(Lang::from_accept_language("fr-FR"), None);
        assert_eq!(Lang::from_accept_language("ru;q=0, en"), Some(Lang::En));
    }

    #[test]
    fn both_languages_have_the_same_messages() {
        let ids = |source: &str| -> Vec<String> {
            let mut ids: Vec<String> = source
                .lines()
                .filter_map(|l| l.split_once(" =").map(|(id, _)| id.trim().to_string()))
                .filter(|id| !id.starts_with('#') && !id.is_empty() && !id.contains(' '))
                .collect();
            ids.sort();
            ids
        };
        assert_eq!(ids(include_str!("en.ftl")), ids(include_str!("ru.ftl")));
    }
}
