//! Every setting, declared once: its variable, its default, its bounds (in its parser) and what
//! it means. The `Settings` struct, the list of known keys, the parsing and the README's table
//! (checked by a test) all come from this one table. Adding a setting is adding a line here.

use std::net::ToSocketAddrs;
use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use super::{
    ConfigError, DatabaseTarget, IpRange, LogFormat, Secret, Source, ViewCounting, http_url,
    invalid,
};

/// A setting's default.
#[derive(Debug, Clone, Copy)]
pub enum DefaultValue {
    /// Parsed like a value from the environment.
    Value(&'static str),
    /// None, or one that depends on other things (the parser decides); the text says which.
    Derived(&'static str),
}

/// One setting, as the README's table shows it.
#[derive(Debug, Clone, Copy)]
pub struct Setting {
    pub var: &'static str,
    pub default: DefaultValue,
    pub help: &'static str,
}

impl Setting {
    /// The README's row for this setting.
    pub fn readme_row(&self) -> String {
        let default = match self.default {
            DefaultValue::Value(value) => format!("`{value}`"),
            DefaultValue::Derived(text) => text.to_string(),
        };
        format!("| `{}` | {default} | {} |", self.var, self.help.trim())
    }
}

/// What a parser gets: the value given (or the default value), and everything else given.
type Parser<T> = fn(Option<&str>, &Source) -> Result<T, String>;

macro_rules! settings {
    ($(
        #[doc = $help:literal]
        $field:ident: $ty:ty = $var:literal, $default:expr, $parse:expr;
    )*) => {
        /// Everything the program can be told, validated.
        #[derive(Clone, Debug)]
        pub struct Settings {
            $(
                #[doc = concat!("`", $var, "`: ", $help)]
                pub $field: $ty,
            )*
        }

        /// Every setting, in the README's order.
        pub const SETTINGS: &[Setting] = &[
            $(Setting { var: $var, default: $default, help: $help },)*
        ];

        impl Settings {
            /// Parses and checks every setting of `source`; the first bad one stops it, named.
            pub fn from_source(source: &Source) -> Result<Self, ConfigError> {
                $(
                    let $field: $ty = {
                        let parse: Parser<$ty> = $parse;
                        let given = source.get($var).or(match $default {
                            DefaultValue::Value(value) => Some(value),
                            DefaultValue::Derived(_) => None,
                        });
                        parse(given, source).map_err(|message| invalid($var, message))?
                    };
                )*
                Ok(Settings { $($field),* })
            }
        }
    };
}

/// A number within `range`; `expected` says what, for the message.
fn number<T: FromStr + PartialOrd>(
    text: Option<&str>,
    range: RangeInclusive<T>,
    expected: &str,
) -> Result<T, String> {
    let text = text.unwrap_or("");
    text.parse::<T>()
        .ok()
        .filter(|n| range.contains(n))
        .ok_or_else(|| format!("`{text}` is not {expected}"))
}

/// A count from 1 to a million.
fn count(text: Option<&str>, what: &str) -> Result<u32, String> {
    number(
        text,
        1..=1_000_000,
        &format!("a number of {what}, 1 or more"),
    )
}

fn millis(text: Option<&str>, range: RangeInclusive<u64>) -> Result<Duration, String> {
    let expected = format!(
        "a number of milliseconds from {} to {}",
        range.start(),
        range.end()
    );
    number(text, range, &expected).map(Duration::from_millis)
}

fn text(value: Option<&str>) -> Result<String, String> {
    Ok(value.unwrap_or_default().to_string())
}

fn list(value: Option<&str>) -> Vec<String> {
    value
        .map(|text| {
            text.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}

fn database(value: Option<&str>, _: &Source) -> Result<DatabaseTarget, String> {
    DatabaseTarget::parse(value.unwrap_or_default())
}

fn listen(value: Option<&str>, _: &Source) -> Result<String, String> {
    let listen = value.unwrap_or_default().to_string();
    match listen.to_socket_addrs().map(|mut addrs| addrs.next()) {
        Ok(Some(_)) => Ok(listen),
        _ => Err(format!("`{listen}` is not an address like 127.0.0.1:8080")),
    }
}

fn jwt_secret(value: Option<&str>, _: &Source) -> Result<Option<Secret>, String> {
    match value {
        None => Ok(None),
        Some(s) if s.len() < 32 => {
            Err("must be at least 32 characters (the value is not shown)".into())
        }
        Some(s) => Ok(Some(Secret::new(s))),
    }
}

fn smtp_url(value: Option<&str>, _: &Source) -> Result<Option<Secret>, String> {
    match value {
        None => Ok(None),
        Some(s) if s.starts_with("smtp://") || s.starts_with("smtps://") => {
            Ok(Some(Secret::new(s)))
        }
        Some(_) => Err("must start with smtp:// or smtps:// (the value is not shown)".into()),
    }
}

fn mail_from(value: Option<&str>, _: &Source) -> Result<String, String> {
    let from = value.unwrap_or_default().to_string();
    if from.contains('@') {
        Ok(from)
    } else {
        Err(format!(
            "`{from}` is not a mailbox like `Tribune <noreply@example.com>`"
        ))
    }
}

fn reply_to(value: Option<&str>, source: &Source) -> Result<Option<String>, String> {
    value
        .filter(|v| !v.is_empty())
        .map(|v| mail_from(Some(v), source))
        .transpose()
}

fn nonempty(value: Option<&str>, what: &str) -> Result<String, String> {
    match value.map(str::trim) {
        Some(v) if !v.is_empty() => Ok(v.to_string()),
        _ => Err(format!("must be {what}")),
    }
}

/// A link template of the site's pages: an address (or `{page}...`) with these placeholders.
fn link_template(value: Option<&str>, placeholders: &[&str]) -> Result<Option<String>, String> {
    let Some(template) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if !template.starts_with("{page}") {
        http_url(template)?;
    }
    match placeholders.iter().find(|p| !template.contains(**p)) {
        Some(missing) => Err(format!("`{template}` has no {missing}")),
        None => Ok(Some(template.to_string())),
    }
}

fn trusted_proxies(value: Option<&str>, _: &Source) -> Result<Vec<IpRange>, String> {
    list(value).iter().map(|p| IpRange::parse(p)).collect()
}

fn cors_origins(value: Option<&str>, _: &Source) -> Result<Vec<String>, String> {
    list(value)
        .into_iter()
        .map(|origin| {
            let url = http_url(&origin)?;
            let host = url.split_once("://").map(|(_, h)| h).unwrap_or("");
            if host.contains('/') {
                return Err(format!("`{origin}` is not an origin: no path allowed"));
            }
            Ok(url)
        })
        .collect()
}

fn switch(value: Option<&str>, _: &Source) -> Result<bool, String> {
    match value.unwrap_or_default() {
        "on" | "true" | "1" => Ok(true),
        "off" | "false" | "0" => Ok(false),
        other => Err(format!("`{other}` is neither `on` nor `off`")),
    }
}

fn view_counting(value: Option<&str>, _: &Source) -> Result<ViewCounting, String> {
    match value.unwrap_or_default() {
        "get" => Ok(ViewCounting::Get),
        "beacon" => Ok(ViewCounting::Beacon),
        other => Err(format!("`{other}` is neither `get` nor `beacon`")),
    }
}

fn log_format(value: Option<&str>, _: &Source) -> Result<LogFormat, String> {
    match value.unwrap_or_default() {
        "text" => Ok(LogFormat::Text),
        "json" => Ok(LogFormat::Json),
        other => Err(format!("`{other}` is neither `text` nor `json`")),
    }
}

fn log_filter(value: Option<&str>, _: &Source) -> Result<String, String> {
    let filter = value.unwrap_or_default().to_string();
    tracing_subscriber::EnvFilter::try_new(&filter)
        .map(|_| filter.clone())
        .map_err(|e| format!("`{filter}` is not a filter: {e}"))
}

/// PostgreSQL: 4 per core, at least 4. More connections than that to a server on the same
/// cores only queue in the kernel's scheduler instead of in the pool's fair line, which made
/// the long tail (docs/benchmarks.md); a remote server with cores of its own may want more.
fn pool_size(value: Option<&str>, source: &Source) -> Result<u32, String> {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let default = match source.get("DATABASE_URL") {
        Some(url) if url.starts_with("postgres") => (4 * cores).clamp(4, 64).to_string(),
        _ => "8".to_string(),
    };
    number(
        Some(value.unwrap_or(&default)),
        1..=1000,
        "a pool size from 1 to 1000",
    )
}

fn workers(value: Option<&str>, _: &Source) -> Result<usize, String> {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    match value {
        None => Ok(cores),
        Some(_) => number(value, 1..=512, "a number of worker threads from 1 to 512"),
    }
}

fn jwt_algorithm(value: Option<&str>, _: &Source) -> Result<jsonwebtoken::Algorithm, String> {
    match value.unwrap_or_default() {
        "HS256" => Ok(jsonwebtoken::Algorithm::HS256),
        "HS384" => Ok(jsonwebtoken::Algorithm::HS384),
        "HS512" => Ok(jsonwebtoken::Algorithm::HS512),
        other => Err(format!("`{other}` is not one of HS256, HS384, HS512")),
    }
}

settings! {
    /// `sqlite://PATH` (embedded) or `postgres://...`
    database: DatabaseTarget = "DATABASE_URL", DefaultValue::Value("sqlite://tribune.db"), database;
    /// address to listen on
    listen: String = "TRIBUNE_LISTEN", DefaultValue::Value("127.0.0.1:8080"), listen;
    /// signing key (32 characters or more); without it a random one is made once and kept in the database
    jwt_secret: Option<Secret> = "TRIBUNE_JWT_SECRET", DefaultValue::Derived("none"), jwt_secret;
    /// base of links in emails
    public_url: String = "TRIBUNE_PUBLIC_URL", DefaultValue::Value("http://localhost:8080"),
        |v, _| http_url(v.unwrap_or_default());
    /// e.g. `smtp://127.0.0.1:2525`; without it, emails are written as `.eml` files under `TRIBUNE_MAIL_DIR`
    smtp_url: Option<Secret> = "TRIBUNE_SMTP_URL", DefaultValue::Derived("none"), smtp_url;
    /// where `.eml` files go when there is no SMTP server
    mail_dir: PathBuf = "TRIBUNE_MAIL_DIR", DefaultValue::Value("./mail"), |v, _| text(v).map(PathBuf::from);
    /// sender's address; with no name of its own (the default), mails come from `TRIBUNE_SITE_NAME`; `Newsroom <noreply@example.com>` names it otherwise
    mail_from: String = "TRIBUNE_MAIL_FROM", DefaultValue::Value("noreply@localhost"), mail_from;
    /// where replies to Tribune's mails go (`Reply-To`), e.g. `Newsroom <letters@example.com>`
    mail_reply_to: Option<String> = "TRIBUNE_MAIL_REPLY_TO", DefaultValue::Derived("none"),
        reply_to;
    /// DKIM signing key of the sender's domain: an RSA key in PKCS#1 PEM (`openssl genrsa -traditional 2048`) or an Ed25519 key as one line of base64; with `TRIBUNE_DKIM_SELECTOR`, every mail is signed
    dkim_key_file: Option<PathBuf> = "TRIBUNE_DKIM_KEY_FILE", DefaultValue::Derived("none"),
        |v, _| Ok(v.filter(|v| !v.is_empty()).map(PathBuf::from));
    /// the DKIM selector whose DNS record (`SELECTOR._domainkey.DOMAIN`) holds the public key
    dkim_selector: Option<String> = "TRIBUNE_DKIM_SELECTOR", DefaultValue::Derived("none"),
        |v, _| Ok(v.filter(|v| !v.is_empty()).map(str::to_string));
    /// the site's name, as mails and Tribune's pages show it
    site_name: String = "TRIBUNE_SITE_NAME", DefaultValue::Value("Tribune"), |v, _| nonempty(v, "a name");
    /// the site's logo (an `https://` image about 32 pixels high) at the top of mails; without it, the name
    site_logo_url: Option<String> = "TRIBUNE_SITE_LOGO_URL", DefaultValue::Derived("none"),
        |v, _| v.filter(|v| !v.is_empty()).map(http_url).transpose();
    /// the site's page of an article: `{slug}` is its slug
    article_url: Option<String> = "TRIBUNE_ARTICLE_URL", DefaultValue::Derived("`TRIBUNE_PUBLIC_URL/articles/{slug}`"),
        |v, _| link_template(v, &["{slug}"]);
    /// the site's page of a discussion (a reader's topic): `{id}` is its id
    discussion_url: Option<String> = "TRIBUNE_DISCUSSION_URL", DefaultValue::Derived("`TRIBUNE_PUBLIC_URL/discussions/{id}`"),
        |v, _| link_template(v, &["{id}"]);
    /// a comment's place: `{page}` is its article's or discussion's page (the two above), `{comment_id}` its id
    comment_url: String = "TRIBUNE_COMMENT_URL", DefaultValue::Value("{page}#comment-{comment_id}"),
        |v, _| link_template(v, &["{page}", "{comment_id}"]).map(Option::unwrap_or_default);
    /// the language of mails and pages when a reader's is not known: `en` or `ru`
    default_language: crate::i18n::Lang = "TRIBUNE_DEFAULT_LANGUAGE", DefaultValue::Value("en"),
        |v, _| crate::i18n::Lang::parse(v.unwrap_or_default()).ok_or_else(|| "must be `en` or `ru`".to_string());
    /// a directory of the site's own mail templates (`digest.html`, `digest.txt`, `confirm.*`, `reset.*`, `layout.html`: see docs/mail.md); those it lacks are the built-in ones
    template_dir: Option<PathBuf> = "TRIBUNE_TEMPLATE_DIR", DefaultValue::Derived("none"),
        |v, _| Ok(v.filter(|v| !v.is_empty()).map(PathBuf::from));
    /// UTC hour at which the daily digest goes out
    digest_hour: u8 = "TRIBUNE_DIGEST_HOUR", DefaultValue::Value("6"),
        |v, _| number(v, 0..=23, "an hour from 0 to 23");
    /// mails sent per second at most
    mail_rate: u32 = "TRIBUNE_MAIL_RATE", DefaultValue::Value("10"), |v, _| count(v, "mails per second");
    /// comma-separated addresses or CIDR blocks whose `X-Forwarded-For` is believed
    trusted_proxies: Vec<IpRange> = "TRIBUNE_TRUSTED_PROXIES", DefaultValue::Derived("none"), trusted_proxies;
    /// comma-separated origins allowed to call the API from a browser
    cors_origins: Vec<String> = "TRIBUNE_CORS_ORIGINS", DefaultValue::Derived("none"), cors_origins;
    /// `off` turns every rate limit off (load tests, test suites; never in production)
    rate_limits: bool = "TRIBUNE_RATE_LIMITS", DefaultValue::Value("on"), switch;
    /// `json` for JSON log lines
    log_format: LogFormat = "LOG_FORMAT", DefaultValue::Value("text"), log_format;
    /// log filter, e.g. `info,tribune=debug`
    log_filter: String = "RUST_LOG", DefaultValue::Value("info"), log_filter;
    /// database connections per process
    db_pool_size: u32 = "TRIBUNE_DB_POOL_SIZE", DefaultValue::Derived("`8` (SQLite), 4 per core (PostgreSQL)"), pool_size;
    /// how long a request waits for a database connection before a `503` (while the database answers; when it is away, at once)
    db_timeout: Duration = "TRIBUNE_DB_TIMEOUT_MS", DefaultValue::Value("5000"), |v, _| millis(v, 100..=600_000);
    /// largest request body in bytes; larger ones get a `413`
    body_limit: usize = "TRIBUNE_BODY_LIMIT", DefaultValue::Value("65536"),
        |v, _| number(v, 1024..=64 * 1024 * 1024, "a number of bytes from 1024 to 67108864");
    /// a request unanswered after this gets a `503`
    request_timeout: Duration = "TRIBUNE_REQUEST_TIMEOUT_MS", DefaultValue::Value("30000"),
        |v, _| millis(v, 100..=3_600_000);
    /// HTTP worker threads
    workers: usize = "TRIBUNE_WORKERS", DefaultValue::Derived("one per core"), workers;
    /// access-token signature: `HS256`, `HS384` or `HS512`
    jwt_algorithm: jsonwebtoken::Algorithm = "TRIBUNE_JWT_ALG", DefaultValue::Value("HS256"), jwt_algorithm;
    /// register, login, refresh, password-reset, subscribe and password-change requests per minute per client address
    auth_rate_per_minute: u32 = "TRIBUNE_AUTH_RATE", DefaultValue::Value("30"), |v, _| count(v, "requests per minute");
    /// failed logins per minute from one client address, whatever the accounts; then `429`
    login_failures_per_minute: u32 = "TRIBUNE_LOGIN_FAILURE_RATE", DefaultValue::Value("10"),
        |v, _| count(v, "failed logins per minute");
    /// failed logins to one account from one client address in an hour; then that address gets `429` for that account (the owner elsewhere signs in as ever)
    login_failures_per_hour: u32 = "TRIBUNE_LOGIN_FAILURES_PER_HOUR", DefaultValue::Value("20"),
        |v, _| count(v, "failed logins per hour");
    /// how long authors may edit their topics and comments
    edit_window_minutes: i64 = "TRIBUNE_EDIT_WINDOW_MINUTES", DefaultValue::Value("15"),
        |v, _| number(v, 0..=525_600, "a number of minutes from 0 to 525600");
    /// comments an account may post per minute (counted in the database, so across processes; moderators are not limited; off with `TRIBUNE_RATE_LIMITS=off`)
    comment_rate_per_minute: u32 = "TRIBUNE_COMMENT_RATE", DefaultValue::Value("6"), |v, _| count(v, "comments per minute");
    /// how often `serve` checks whether the day's digest is due
    digest_check: Duration = "TRIBUNE_DIGEST_CHECK_MS", DefaultValue::Value("60000"), |v, _| millis(v, 100..=3_600_000);
    /// comment edits and deletions an account may make per minute
    write_rate_per_minute: u32 = "TRIBUNE_WRITE_RATE", DefaultValue::Value("60"), |v, _| count(v, "requests per minute");
    /// topics an account may start or edit per hour
    topic_rate_per_hour: u32 = "TRIBUNE_TOPIC_RATE", DefaultValue::Value("20"), |v, _| count(v, "topics per hour");
    /// votes an account may cast per minute
    vote_rate_per_minute: u32 = "TRIBUNE_VOTE_RATE", DefaultValue::Value("60"), |v, _| count(v, "votes per minute");
    /// searches one client address may make per minute (each one reads the index; counted in the database, so across processes)
    search_rate_per_minute: u32 = "TRIBUNE_SEARCH_RATE", DefaultValue::Value("60"), |v, _| count(v, "searches per minute");
    /// exports of their data (`GET /api/v1/me/export`) an account may make a day
    exports_per_day: u32 = "TRIBUNE_EXPORT_RATE", DefaultValue::Value("3"), |v, _| count(v, "exports per day");
    /// reports an account may file per minute
    report_rate_per_minute: u32 = "TRIBUNE_REPORT_RATE", DefaultValue::Value("10"), |v, _| count(v, "reports per minute");
    /// password-reset or subscription-confirmation mails one address may get a day (they also back off: each waits twice as long as the one before)
    mails_per_address_per_day: u32 = "TRIBUNE_MAILS_PER_ADDRESS_PER_DAY", DefaultValue::Value("5"),
        |v, _| count(v, "mails per address per day");
    /// live streams one client address may hold open in a process; then `429`
    streams_per_client: u32 = "TRIBUNE_STREAMS_PER_CLIENT", DefaultValue::Value("4"), |v, _| count(v, "streams per client");
    /// live streams one process holds open at most; then `503` (keep it well under `ulimit -n`)
    streams_max: u32 = "TRIBUNE_STREAMS_MAX", DefaultValue::Value("512"), |v, _| count(v, "streams");
    /// a live stream ends after this with an SSE `retry:`; browsers reconnect by themselves
    stream_lifetime: Duration = "TRIBUNE_STREAM_LIFETIME_SECONDS", DefaultValue::Value("3600"),
        |v, _| number(v, 1..=86_400, "a number of seconds from 1 to 86400").map(Duration::from_secs);
    /// how long ended sessions and used or expired tokens are kept before the hourly purge removes them
    session_retention_days: u32 = "TRIBUNE_SESSION_RETENTION_DAYS", DefaultValue::Value("30"), |v, _| count(v, "days");
    /// an erased account's username stays taken this long (no one else can pass for its owner at once), then anyone may register it
    erased_username_days: u32 = "TRIBUNE_ERASED_USERNAME_DAYS", DefaultValue::Value("180"), |v, _| count(v, "days");
    /// how long sent and failed mails stay in the outbox
    mail_retention_days: u32 = "TRIBUNE_MAIL_RETENTION_DAYS", DefaultValue::Value("30"), |v, _| count(v, "days");
    /// a notification mail waits this long after the first notification it tells of, to bundle what follows (`immediately` in readers' settings)
    notification_mail_delay: Duration = "TRIBUNE_NOTIFICATION_MAIL_DELAY_SECONDS", DefaultValue::Value("60"),
        |v, _| number(v, 0..=86_400, "a number of seconds from 0 to 86400").map(Duration::from_secs);
    /// one notification mail per reader at most this often (what comes meanwhile waits for the next one)
    notification_mail_interval: Duration = "TRIBUNE_NOTIFICATION_MAIL_INTERVAL_SECONDS", DefaultValue::Value("900"),
        |v, _| number(v, 0..=604_800, "a number of seconds from 0 to 604800").map(Duration::from_secs);
    /// how long read notifications are kept before the hourly purge removes them (unread ones: a year)
    notification_retention_days: u32 = "TRIBUNE_NOTIFICATION_RETENTION_DAYS", DefaultValue::Value("90"), |v, _| count(v, "days");
    /// how many of an account's first comments wait for a moderator (premoderation); `0` turns it off
    hold_first_comments: u32 = "TRIBUNE_HOLD_FIRST_COMMENTS", DefaultValue::Value("0"),
        |v, _| number(v, 0..=1000, "a number of comments from 0 to 1000");
    /// comments with links from accounts younger than this many days wait for a moderator; `0` turns it off
    hold_links_days: u32 = "TRIBUNE_HOLD_LINKS_DAYS", DefaultValue::Value("0"),
        |v, _| number(v, 0..=3650, "a number of days from 0 to 3650");
    /// an account with this many approved comments and none rejected skips the two holds above
    trusted_after_approved: u32 = "TRIBUNE_TRUSTED_AFTER_APPROVED", DefaultValue::Value("3"),
        |v, _| number(v, 1..=1000, "a number of comments from 1 to 1000");
    /// when a view counts: `get` (a reader's page request, not a crawler's or a prefetch) or `beacon` (only `POST /api/v1/discussions/{id}/views`, sent by the page)
    view_counting: ViewCounting = "TRIBUNE_VIEW_COUNTING", DefaultValue::Value("get"), view_counting;
    /// a file of user-agent patterns (one regular expression a line, `#` comments) whose requests never count as views; the default is the list kept in the repository, `src/discussions/crawler-user-agents.txt`, built in
    crawler_patterns: Option<PathBuf> = "TRIBUNE_CRAWLER_PATTERNS", DefaultValue::Derived("the built-in list"),
        |v, _| Ok(v.filter(|v| !v.is_empty()).map(PathBuf::from));
    /// the most comments one page of threads carries (a larger thread continues on the next page)
    comment_page_max: usize = "TRIBUNE_COMMENT_PAGE_MAX", DefaultValue::Value("500"),
        |v, _| number(v, 1..=100_000, "a number of comments from 1 to 100000");
    /// how long a feed page may be served from memory (only its view counts can lag: every discussion event makes new pages); `0` turns it off
    feed_cache: Duration = "TRIBUNE_FEED_CACHE_MS", DefaultValue::Value("500"), |v, _| millis(v, 0..=60_000);
    /// memory for thread pages kept by the version of their thread (never stale: a change makes a new version); `0` turns it off
    thread_cache_bytes: u64 = "TRIBUNE_THREAD_CACHE_MB", DefaultValue::Value("16"),
        |v, _| number(v, 0..=4096u64, "a number of megabytes from 0 to 4096").map(|mb| mb << 20);
}
