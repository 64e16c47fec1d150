//! Mail templates (minijinja): `layout.html` and, for each mail, `NAME.html` and `NAME.txt`
//! (the digest, the subscription confirmation, the password reset, the notifications). They are built in, and a
//! site changes them by putting its own files of the same names in `TRIBUNE_TEMPLATE_DIR`
//! (read once, at start). Texts come from `i18n` through `t("message-id", var=value)`, in the
//! language of the `lang` variable; `.html` templates escape every value.

use std::path::Path;
use std::sync::OnceLock;

use minijinja::value::Kwargs;
use minijinja::{Environment, Error, ErrorKind, State, Value};

use crate::i18n::{self, Arg, Lang};

const BUILT_IN: &[(&str, &str)] = &[
    ("layout.html", include_str!("layout.html")),
    ("digest.html", include_str!("digest.html")),
    ("digest.txt", include_str!("digest.txt")),
    ("confirm.html", include_str!("confirm.html")),
    ("confirm.txt", include_str!("confirm.txt")),
    ("reset.html", include_str!("reset.html")),
    ("reset.txt", include_str!("reset.txt")),
    ("notifications.html", include_str!("notifications.html")),
    ("notifications.txt", include_str!("notifications.txt")),
];

static ENV: OnceLock<Environment<'static>> = OnceLock::new();

/// Reads the site's own templates from `dir` (those it has; the built-in ones for the rest) and
/// checks that every template compiles. Called once at start; later calls change nothing.
pub fn init(dir: Option<&Path>) -> anyhow::Result<()> {
    if ENV.get().is_some() {
        return Ok(());
    }
    let env = environment(dir)?;
    let _ = ENV.set(env);
    Ok(())
}

fn environment(dir: Option<&Path>) -> anyhow::Result<Environment<'static>> {
    let mut env = Environment::new();
    for &(name, built_in) in BUILT_IN {
        let source: &'static str = match dir.map(|d| d.join(name)).filter(|p| p.exists()) {
            // Read once at start, kept for the life of the process.
            Some(path) => std::fs::read_to_string(&path)
                .map_err(|e| anyhow::anyhow!("TRIBUNE_TEMPLATE_DIR: {}: {e}", path.display()))?
                .leak(),
            None => built_in,
        };
        env.add_template(name, source)
            .map_err(|e| anyhow::anyhow!("the template {name} does not compile: {e}"))?;
        check_messages(name, source)?;
    }
    env.add_function("t", translate);
    // HTML-escaped as everywhere in Tribune: minijinja's own escaping also writes `/` as an
    // entity, which makes every link of a mail unreadable in its source.
    env.set_formatter(|out, state, value| {
        if state.auto_escape() == minijinja::AutoEscape::Html && !value.is_safe() {
            let text = if value.is_undefined() {
                String::new()
            } else {
                value.to_string()
            };
            out.write_str(&crate::mail::html_escape(&text))
                .map_err(|e| Error::new(ErrorKind::WriteFailure, e.to_string()))
        } else {
            minijinja::escape_formatter(out, state, value)
        }
    });
    Ok(env)
}

/// Every `t("message-id", ...)` of a template names a message that every language has: a
/// site's own template with a misspelt id is refused at start, not when its mail is made.
fn check_messages(name: &str, source: &str) -> anyhow::Result<()> {
    static CALL: OnceLock<regex::Regex> = OnceLock::new();
    let call = CALL
        .get_or_init(|| regex::Regex::new(r#"\bt\(\s*["']([^"']*)["']"#).expect("a valid pattern"));
    for id in call.captures_iter(source).map(|c| c.extract::<1>().1[0]) {
        if let Some(lang) = Lang::ALL.into_iter().find(|&lang| !i18n::has(lang, id)) {
            anyhow::bail!(
                "the template {name} asks for the message `{id}`, which {} does not have",
                lang.as_str()
            );
        }
    }
    Ok(())
}

fn env() -> &'static Environment<'static> {
    ENV.get_or_init(|| environment(None).expect("the built-in templates compile"))
}

/// `t("message-id", name=value, ...)`: the message in the template's `lang`.
fn translate(state: &State, id: String, kwargs: Kwargs) -> Result<String, Error> {
    let lang = state
        .lookup("lang")
        .and_then(|v| v.as_str().and_then(Lang::parse))
        .unwrap_or_default();
    let mut args = Vec::new();
    for name in kwargs.args() {
        let value: Value = kwargs.get(name)?;
        let arg = match value.as_i64() {
            Some(n) => Arg::Number(n),
            None => Arg::Text(value.to_string()),
        };
        args.push((name, arg));
    }
    i18n::text(lang, &id, &args).ok_or_else(|| {
        Error::new(
            ErrorKind::UndefinedError,
            format!(
                "no message `{id}` in {} with these variables",
                lang.as_str()
            ),
        )
    })
}

/// A mail's two parts.
#[derive(Debug, Clone)]
pub struct Parts {
    pub text: String,
    pub html: String,
}

/// Renders `NAME.txt` and `NAME.html` with `context` (which holds `lang`).
pub fn render(name: &str, context: &Value) -> Result<Parts, crate::error::ApiError> {
    let part = |ext: &str| {
        env()
            .get_template(&format!("{name}.{ext}"))
            .and_then(|t| t.render(context))
            .map_err(|e| crate::error::ApiError::internal(anyhow::anyhow!("{name}.{ext}: {e:#}")))
    };
    Ok(Parts {
        text: part("txt")?,
        html: part("html")?,
    })
}
