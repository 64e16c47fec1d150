//! Settings, read from the environment and from an optional `tribune.toml`.
//!
//! Every key is the name of its environment variable (`DATABASE_URL`, `TRIBUNE_LISTEN`, ...);
//! `tribune.toml` (or the file named by `TRIBUNE_CONFIG`) may hold the same keys, and the
//! environment wins over the file. Every value is checked here, once, at start: a bad one stops
//! the program with a message that names the variable. Secrets are wrapped in [`Secret`], whose
//! `Debug` and `Display` never show the value, so `Settings` can be logged whole.

use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A value that must never reach a log line.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself: call this only where it is used, never to print it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// Where the data lives, parsed from `DATABASE_URL`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DatabaseTarget {
    /// `sqlite://PATH`: an embedded database in that file.
    Sqlite(PathBuf),
    /// `postgres://...` or `postgresql://...`: kept whole, since it may hold a password.
    Postgres(Secret),
}

impl DatabaseTarget {
    pub fn parse(url: &str) -> Result<Self, String> {
        if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err("sqlite:// needs a file path, e.g. sqlite://tribune.db".into());
            }
            if path.contains(":memory:") {
                return Err("an in-memory SQLite database is not shared between pooled \
                            connections; give a file path"
                    .into());
            }
            Ok(DatabaseTarget::Sqlite(PathBuf::from(path)))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(DatabaseTarget::Postgres(Secret::new(url)))
        } else {
            Err("must start with sqlite:// or postgres://".into())
        }
    }

    /// A description safe to log: the SQLite path, or the PostgreSQL URL without its password.
    pub fn describe(&self) -> String {
        match self {
            DatabaseTarget::Sqlite(path) => format!("sqlite://{}", path.display()),
            DatabaseTarget::Postgres(url) => {
                let url = url.expose();
                // postgres://user:password@host/db -> postgres://user:***@host/db
                match (url.find("://"), url.rfind('@')) {
                    (Some(scheme_end), Some(at)) if at > scheme_end => {
                        let userinfo = &url[scheme_end + 3..at];
                        let user = userinfo.split(':').next().unwrap_or("");
                        let masked = if userinfo.contains(':') {
                            format!("{user}:***")
                        } else {
                            user.to_string()
                        };
                        format!("{}{}{}", &url[..scheme_end + 3], masked, &url[at..])
                    }
                    _ => url.to_string(),
                }
            }
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// A trusted proxy: one address or a CIDR block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpRange {
    addr: IpAddr,
    prefix: u8,
}

impl IpRange {
    pub fn parse(text: &str) -> Result<Self, String> {
        let (addr, prefix) = match text.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (text, None),
        };
        let addr: IpAddr = addr
            .trim()
            .parse()
            .map_err(|_| format!("`{text}` is not an IP address or CIDR block"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("`{text}` has a bad prefix length"))?,
        };
        Ok(IpRange { addr, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        fn masked(bits: u128, prefix: u8, width: u8) -> u128 {
            if prefix == 0 {
                0
            } else {
                bits >> (width - prefix)
            }
        }
        match (self.addr, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                masked(u32::from(net).into(), self.prefix, 32)
                    == masked(u32::from(ip).into(), self.prefix, 32)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                masked(u128::from(net), self.prefix, 128)
                    == masked(u128::from(ip), self.prefix, 128)
            }
            _ => false,
        }
    }
}

/// Everything the program can be told, validated.
#[derive(Clone, Debug)]
pub struct Settings {
    /// `DATABASE_URL`
    pub database: DatabaseTarget,
    /// `TRIBUNE_LISTEN`
    pub listen: String,
    /// `TRIBUNE_JWT_SECRET`; `None`: a random key is made once and kept in the database.
    pub jwt_secret: Option<Secret>,
    /// `TRIBUNE_PUBLIC_URL`, without a trailing slash.
    pub public_url: String,
    /// `TRIBUNE_SMTP_URL`; `None`: mail is written as `.eml` files under `mail_dir`.
    pub smtp_url: Option<Secret>,
    /// `TRIBUNE_MAIL_DIR`
    pub mail_dir: PathBuf,
    /// `TRIBUNE_MAIL_FROM`
    pub mail_from: String,
    /// `TRIBUNE_DIGEST_HOUR`, 0 to 23, UTC.
    pub digest_hour: u8,
    /// `TRIBUNE_MAIL_RATE`, mails per second at most.
    pub mail_rate: u32,
    /// `TRIBUNE_DIGEST_CHECK_MS`: how often `serve` checks whether the day's digest is due.
    pub digest_check: Duration,
    /// `TRIBUNE_TRUSTED_PROXIES`
    pub trusted_proxies: Vec<IpRange>,
    /// `TRIBUNE_CORS_ORIGINS`
    pub cors_origins: Vec<String>,
    /// `TRIBUNE_RATE_LIMITS`
    pub rate_limits: bool,
    /// `LOG_FORMAT`
    pub log_format: LogFormat,
    /// `RUST_LOG`
    pub log_filter: String,
    /// `TRIBUNE_DB_POOL_SIZE`: connections per process.
    pub db_pool_size: u32,
    /// `TRIBUNE_DB_TIMEOUT_MS`: how long a request waits for a connection before a 503.
    pub db_timeout: Duration,
    /// `TRIBUNE_BODY_LIMIT`: the largest request body accepted, in bytes.
    pub body_limit: usize,
    /// `TRIBUNE_REQUEST_TIMEOUT_MS`: a request still unanswered after this gets a 503.
    pub request_timeout: Duration,
    /// `TRIBUNE_WORKERS`: HTTP worker threads; default one per core.
    pub workers: usize,
    /// `TRIBUNE_JWT_ALG`: `HS256` (default), `HS384` or `HS512`.
    pub jwt_algorithm: jsonwebtoken::Algorithm,
    /// `TRIBUNE_AUTH_RATE`: register/login/refresh/reset requests per minute per address.
    pub auth_rate_per_minute: u32,
    /// `TRIBUNE_LOGIN_FAILURES_PER_HOUR`: failed logins per account per hour before a `429`.
    pub login_failures_per_hour: u32,
    /// `TRIBUNE_EDIT_WINDOW_MINUTES`: how long authors may edit what they posted.
    pub edit_window_minutes: i64,
    /// `TRIBUNE_COMMENT_RATE`: comments an account may post per minute (moderators: no limit).
    pub comment_rate_per_minute: u32,
    /// `TRIBUNE_WRITE_RATE`: votes, reports, edits and deletions an account may make per minute
    /// (per process).
    pub write_rate_per_minute: u32,
    /// `TRIBUNE_COMMENT_PAGE_MAX`: the most comments (roots and replies) one page may carry.
    pub comment_page_max: usize,
    /// `TRIBUNE_FEED_CACHE_MS`: how long a feed page may be served from memory (0: never).
    pub feed_cache: Duration,
    /// `TRIBUNE_LOGIN_FAILURE_RATE`: failed logins per minute from one client address.
    pub login_failures_per_minute: u32,
    /// `TRIBUNE_TOPIC_RATE`: topics an account may start or edit per hour.
    pub topic_rate_per_hour: u32,
    /// `TRIBUNE_VOTE_RATE`: votes an account may cast per minute.
    pub vote_rate_per_minute: u32,
    /// `TRIBUNE_REPORT_RATE`: reports an account may file per minute.
    pub report_rate_per_minute: u32,
    /// `TRIBUNE_MAILS_PER_ADDRESS_PER_DAY`: reset or confirmation mails one address may get a day.
    pub mails_per_address_per_day: u32,
    /// `TRIBUNE_STREAMS_PER_CLIENT`: live streams one client address may hold open (per process).
    pub streams_per_client: u32,
    /// `TRIBUNE_STREAMS_MAX`: live streams one process holds open at most.
    pub streams_max: u32,
    /// `TRIBUNE_STREAM_LIFETIME_SECONDS`: a live stream ends after this (clients reconnect).
    pub stream_lifetime: Duration,
    /// `TRIBUNE_SESSION_RETENTION_DAYS`: how long ended sessions and used tokens are kept.
    pub session_retention_days: u32,
    /// `TRIBUNE_MAIL_RETENTION_DAYS`: how long sent and failed mail stays in the outbox.
    pub mail_retention_days: u32,
}

/// A setting that could not be used; names the variable.
#[derive(Debug, thiserror::Error)]
#[error("{var}: {message}")]
pub struct ConfigError {
    pub var: String,
    pub message: String,
}

fn invalid(var: &str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        var: var.to_string(),
        message: message.into(),
    }
}

/// The values as given, before parsing: environment over file.
pub struct Source {
    values: HashMap<String, String>,
}

impl Source {
    /// The process environment over `TRIBUNE_CONFIG` (default `./tribune.toml`, if it exists).
    pub fn from_env() -> Result<Self, ConfigError> {
        let explicit = std::env::var("TRIBUNE_CONFIG").ok();
        let path = explicit
            .clone()
            .unwrap_or_else(|| "tribune.toml".to_string());
        let mut values = if explicit.is_some() || Path::new(&path).exists() {
            read_toml(Path::new(&path))?
        } else {
            HashMap::new()
        };
        values.extend(std::env::vars().filter(|(k, _)| is_known_key(k)));
        Ok(Source { values })
    }

    /// Only the given pairs (tests, tools).
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Source {
            values: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.values
            .get(key)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }
}

const KEYS: &[&str] = &[
    "DATABASE_URL",
    "TRIBUNE_LISTEN",
    "TRIBUNE_JWT_SECRET",
    "TRIBUNE_PUBLIC_URL",
    "TRIBUNE_SMTP_URL",
    "TRIBUNE_MAIL_DIR",
    "TRIBUNE_MAIL_FROM",
    "TRIBUNE_DIGEST_HOUR",
    "TRIBUNE_MAIL_RATE",
    "TRIBUNE_TRUSTED_PROXIES",
    "TRIBUNE_CORS_ORIGINS",
    "TRIBUNE_RATE_LIMITS",
    "LOG_FORMAT",
    "RUST_LOG",
    "TRIBUNE_DB_POOL_SIZE",
    "TRIBUNE_DB_TIMEOUT_MS",
    "TRIBUNE_BODY_LIMIT",
    "TRIBUNE_REQUEST_TIMEOUT_MS",
    "TRIBUNE_WORKERS",
    "TRIBUNE_JWT_ALG",
    "TRIBUNE_AUTH_RATE",
    "TRIBUNE_LOGIN_FAILURES_PER_HOUR",
    "TRIBUNE_EDIT_WINDOW_MINUTES",
    "TRIBUNE_COMMENT_RATE",
    "TRIBUNE_COMMENT_PAGE_MAX",
    "TRIBUNE_WRITE_RATE",
    "TRIBUNE_DIGEST_CHECK_MS",
    "TRIBUNE_FEED_CACHE_MS",
    "TRIBUNE_LOGIN_FAILURE_RATE",
    "TRIBUNE_TOPIC_RATE",
    "TRIBUNE_VOTE_RATE",
    "TRIBUNE_REPORT_RATE",
    "TRIBUNE_MAILS_PER_ADDRESS_PER_DAY",
    "TRIBUNE_STREAMS_PER_CLIENT",
    "TRIBUNE_STREAMS_MAX",
    "TRIBUNE_STREAM_LIFETIME_SECONDS",
    "TRIBUNE_SESSION_RETENTION_DAYS",
    "TRIBUNE_MAIL_RETENTION_DAYS",
];

fn is_known_key(key: &str) -> bool {
    KEYS.contains(&key)
}

fn read_toml(path: &Path) -> Result<HashMap<String, String>, ConfigError> {
    let var = "TRIBUNE_CONFIG";
    let text = std::fs::read_to_string(path)
        .map_err(|e| invalid(var, format!("cannot read {}: {e}", path.display())))?;
    let table: toml::Table = text
        .parse()
        .map_err(|e| invalid(var, format!("{} is not valid TOML: {e}", path.display())))?;
    let mut values = HashMap::new();
    for (key, value) in table {
        let key = key.to_ascii_uppercase();
        if !is_known_key(&key) {
            return Err(invalid(
                var,
                format!("{}: unknown key `{key}`", path.display()),
            ));
        }
        let value = match value {
            toml::Value::String(s) => s,
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Boolean(b) => if b { "on" } else { "off" }.to_string(),
            toml::Value::Array(items) => items
                .iter()
                .map(|item| match item {
                    toml::Value::String(s) => Ok(s.clone()),
                    _ => Err(invalid(
                        &key,
                        format!("{}: list items must be strings", path.display()),
                    )),
                })
                .collect::<Result<Vec<_>, _>>()?
                .join(","),
            _ => {
                return Err(invalid(
                    &key,
                    format!("{}: must be a string, number or boolean", path.display()),
                ));
            }
        };
        values.insert(key, value);
    }
    Ok(values)
}

fn number<T: std::str::FromStr>(
    source: &Source,
    var: &str,
    default: T,
    allowed: impl Fn(&T) -> bool,
    expected: &str,
) -> Result<T, ConfigError> {
    match source.get(var) {
        None => Ok(default),
        Some(text) => text
            .parse::<T>()
            .ok()
            .filter(|v| allowed(v))
            .ok_or_else(|| invalid(var, format!("`{text}` is not {expected}"))),
    }
}

fn list(source: &Source, var: &str) -> Vec<String> {
    source
        .get(var)
        .map(|text| {
            text.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}

fn http_url(var: &str, text: &str) -> Result<String, ConfigError> {
    let rest = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"))
        .ok_or_else(|| invalid(var, format!("`{text}` must start with http:// or https://")))?;
    if rest.is_empty() || rest.starts_with('/') || rest.contains(char::is_whitespace) {
        return Err(invalid(var, format!("`{text}` has no host")));
    }
    Ok(text.trim_end_matches('/').to_string())
}

impl Settings {
    /// Reads the environment (and `tribune.toml`) and validates every value.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_source(&Source::from_env()?)
    }

    pub fn from_source(source: &Source) -> Result<Self, ConfigError> {
        let database_url = source.get("DATABASE_URL").unwrap_or("sqlite://tribune.db");
        let database =
            DatabaseTarget::parse(database_url).map_err(|m| invalid("DATABASE_URL", m))?;

        let listen = source
            .get("TRIBUNE_LISTEN")
            .unwrap_or("127.0.0.1:8080")
            .to_string();
        match listen.to_socket_addrs().map(|mut addrs| addrs.next()) {
            Ok(Some(_)) => {}
            _ => {
                return Err(invalid(
                    "TRIBUNE_LISTEN",
                    format!("`{listen}` is not an address like 127.0.0.1:8080"),
                ));
            }
        }

        let jwt_secret = match source.get("TRIBUNE_JWT_SECRET") {
            None => None,
            Some(s) if s.len() < 32 => {
                return Err(invalid(
                    "TRIBUNE_JWT_SECRET",
                    "must be at least 32 characters (the value is not shown)",
                ));
            }
            Some(s) => Some(Secret::new(s)),
        };

        let public_url = http_url(
            "TRIBUNE_PUBLIC_URL",
            source
                .get("TRIBUNE_PUBLIC_URL")
                .unwrap_or("http://localhost:8080"),
        )?;

        let smtp_url = match source.get("TRIBUNE_SMTP_URL") {
            None => None,
            Some(s) if s.starts_with("smtp://") || s.starts_with("smtps://") => {
                Some(Secret::new(s))
            }
            Some(_) => {
                return Err(invalid(
                    "TRIBUNE_SMTP_URL",
                    "must start with smtp:// or smtps:// (the value is not shown)",
                ));
            }
        };

        let mail_dir = PathBuf::from(source.get("TRIBUNE_MAIL_DIR").unwrap_or("./mail"));
        let mail_from = source
            .get("TRIBUNE_MAIL_FROM")
            .unwrap_or("Tribune <noreply@localhost>")
            .to_string();
        if !mail_from.contains('@') {
            return Err(invalid(
                "TRIBUNE_MAIL_FROM",
                format!("`{mail_from}` is not a mailbox like `Tribune <noreply@example.com>`"),
            ));
        }

        let digest_hour = number(
            source,
            "TRIBUNE_DIGEST_HOUR",
            6u8,
            |h| *h <= 23,
            "an hour from 0 to 23",
        )?;
        let mail_rate = number(
            source,
            "TRIBUNE_MAIL_RATE",
            10u32,
            |r| *r >= 1,
            "a whole number of mails per second, 1 or more",
        )?;

        let trusted_proxies = list(source, "TRIBUNE_TRUSTED_PROXIES")
            .iter()
            .map(|p| IpRange::parse(p))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|m| invalid("TRIBUNE_TRUSTED_PROXIES", m))?;

        let cors_origins = list(source, "TRIBUNE_CORS_ORIGINS")
            .into_iter()
            .map(|origin| {
                let url = http_url("TRIBUNE_CORS_ORIGINS", &origin)?;
                let host = url.split_once("://").map(|(_, h)| h).unwrap_or("");
                if host.contains('/') {
                    return Err(invalid(
                        "TRIBUNE_CORS_ORIGINS",
                        format!("`{origin}` is not an origin: no path allowed"),
                    ));
                }
                Ok(url)
            })
            .collect::<Result<Vec<_>, _>>()?;

        let rate_limits = match source.get("TRIBUNE_RATE_LIMITS").unwrap_or("on") {
            "on" | "true" | "1" => true,
            "off" | "false" | "0" => false,
            other => {
                return Err(invalid(
                    "TRIBUNE_RATE_LIMITS",
                    format!("`{other}` is neither `on` nor `off`"),
                ));
            }
        };

        let log_format = match source.get("LOG_FORMAT").unwrap_or("text") {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            other => {
                return Err(invalid(
                    "LOG_FORMAT",
                    format!("`{other}` is neither `text` nor `json`"),
                ));
            }
        };

        let log_filter = source.get("RUST_LOG").unwrap_or("info").to_string();
        tracing_subscriber::EnvFilter::try_new(&log_filter)
            .map_err(|e| invalid("RUST_LOG", format!("`{log_filter}` is not a filter: {e}")))?;

        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let default_pool = match database {
            DatabaseTarget::Sqlite(_) => 8,
            DatabaseTarget::Postgres(_) => 10,
        };
        let db_pool_size = number(
            source,
            "TRIBUNE_DB_POOL_SIZE",
            default_pool,
            |n| (1..=1000).contains(n),
            "a pool size from 1 to 1000",
        )?;
        let db_timeout = Duration::from_millis(number(
            source,
            "TRIBUNE_DB_TIMEOUT_MS",
            5000u64,
            |ms| (100..=600_000).contains(ms),
            "a number of milliseconds from 100 to 600000",
        )?);
        let body_limit = number(
            source,
            "TRIBUNE_BODY_LIMIT",
            64 * 1024usize,
            |b| (1024..=64 * 1024 * 1024).contains(b),
            "a number of bytes from 1024 to 67108864",
        )?;
        let request_timeout = Duration::from_millis(number(
            source,
            "TRIBUNE_REQUEST_TIMEOUT_MS",
            30_000u64,
            |ms| (100..=3_600_000).contains(ms),
            "a number of milliseconds from 100 to 3600000",
        )?);
        let workers = number(
            source,
            "TRIBUNE_WORKERS",
            cores,
            |w| (1..=512).contains(w),
            "a number of worker threads from 1 to 512",
        )?;

        let jwt_algorithm = match source.get("TRIBUNE_JWT_ALG").unwrap_or("HS256") {
            "HS256" => jsonwebtoken::Algorithm::HS256,
            "HS384" => jsonwebtoken::Algorithm::HS384,
            "HS512" => jsonwebtoken::Algorithm::HS512,
            other => {
                return Err(invalid(
                    "TRIBUNE_JWT_ALG",
                    format!("`{other}` is not one of HS256, HS384, HS512"),
                ));
            }
        };
        let auth_rate_per_minute = number(
            source,
            "TRIBUNE_AUTH_RATE",
            30u32,
            |n| (1..=1_000_000).contains(n),
            "a number of requests per minute, 1 or more",
        )?;
        let login_failures_per_hour = number(
            source,
            "TRIBUNE_LOGIN_FAILURES_PER_HOUR",
            20u32,
            |n| (1..=1_000_000).contains(n),
            "a number of failed logins per hour, 1 or more",
        )?;
        let edit_window_minutes = number(
            source,
            "TRIBUNE_EDIT_WINDOW_MINUTES",
            15i64,
            |n| (0..=525_600).contains(n),
            "a number of minutes from 0 to 525600",
        )?;
        let comment_rate_per_minute = number(
            source,
            "TRIBUNE_COMMENT_RATE",
            6u32,
            |n| (1..=1_000_000).contains(n),
            "a number of comments per minute, 1 or more",
        )?;
        let digest_check = Duration::from_millis(number(
            source,
            "TRIBUNE_DIGEST_CHECK_MS",
            60_000u64,
            |ms| (100..=3_600_000).contains(ms),
            "a number of milliseconds from 100 to 3600000",
        )?);
        let write_rate_per_minute = number(
            source,
            "TRIBUNE_WRITE_RATE",
            60u32,
            |n| (1..=1_000_000).contains(n),
            "a number of requests per minute, 1 or more",
        )?;
        let comment_page_max = number(
            source,
            "TRIBUNE_COMMENT_PAGE_MAX",
            500usize,
            |n| (1..=100_000).contains(n),
            "a number of comments from 1 to 100000",
        )?;
        let feed_cache = Duration::from_millis(number(
            source,
            "TRIBUNE_FEED_CACHE_MS",
            500u64,
            |ms| *ms <= 60_000,
            "a number of milliseconds from 0 to 60000",
        )?);

        let per = |var: &str, default: u32, what: &str| {
            number(
                source,
                var,
                default,
                |n| (1..=1_000_000).contains(n),
                &format!("a number of {what}, 1 or more"),
            )
        };
        let login_failures_per_minute =
            per("TRIBUNE_LOGIN_FAILURE_RATE", 10, "failed logins per minute")?;
        let topic_rate_per_hour = per("TRIBUNE_TOPIC_RATE", 20, "topics per hour")?;
        let vote_rate_per_minute = per("TRIBUNE_VOTE_RATE", 60, "votes per minute")?;
        let report_rate_per_minute = per("TRIBUNE_REPORT_RATE", 10, "reports per minute")?;
        let mails_per_address_per_day = per(
            "TRIBUNE_MAILS_PER_ADDRESS_PER_DAY",
            5,
            "mails per address per day",
        )?;
        let streams_per_client = per("TRIBUNE_STREAMS_PER_CLIENT", 4, "streams per client")?;
        let streams_max = per("TRIBUNE_STREAMS_MAX", 512, "streams")?;
        let stream_lifetime = Duration::from_secs(number(
            source,
            "TRIBUNE_STREAM_LIFETIME_SECONDS",
            3600u64,
            |s| (1..=86_400).contains(s),
            "a number of seconds from 1 to 86400",
        )?);
        let session_retention_days = per("TRIBUNE_SESSION_RETENTION_DAYS", 30, "days")?;
        let mail_retention_days = per("TRIBUNE_MAIL_RETENTION_DAYS", 30, "days")?;

        Ok(Settings {
            login_failures_per_minute,
            topic_rate_per_hour,
            vote_rate_per_minute,
            report_rate_per_minute,
            mails_per_address_per_day,
            streams_per_client,
            streams_max,
            stream_lifetime,
            session_retention_days,
            mail_retention_days,
            database,
            listen,
            jwt_secret,
            public_url,
            smtp_url,
            mail_dir,
            mail_from,
            digest_hour,
            mail_rate,
            digest_check,
            trusted_proxies,
            cors_origins,
            rate_limits,
            log_format,
            log_filter,
            db_pool_size,
            db_timeout,
            body_limit,
            request_timeout,
            workers,
            jwt_algorithm,
            auth_rate_per_minute,
            login_failures_per_hour,
            edit_window_minutes,
            comment_rate_per_minute,
            comment_page_max,
            write_rate_per_minute,
            feed_cache,
        })
    }

    /// The address to bind, resolved.
    pub fn listen_addr(&self) -> std::io::Result<SocketAddr> {
        self.listen.to_socket_addrs()?.next().ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::NotFound, "no address to listen on")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(pairs: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        Settings::from_source(&Source::from_pairs(pairs.iter().copied()))
    }

    #[test]
    fn defaults_follow_the_contract() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.database, DatabaseTarget::Sqlite("tribune.db".into()));
        assert_eq!(s.listen, "127.0.0.1:8080");
        assert_eq!(s.public_url, "http://localhost:8080");
        assert_eq!(s.mail_dir, PathBuf::from("./mail"));
        assert_eq!(s.digest_hour, 6);
        assert_eq!(s.mail_rate, 10);
        assert!(s.rate_limits);
        assert_eq!(s.log_format, LogFormat::Text);
        assert_eq!(s.body_limit, 65536);
        assert!(s.jwt_secret.is_none() && s.smtp_url.is_none());
    }

    #[test]
    fn bad_values_name_their_variable() {
        for (var, value) in [
            ("DATABASE_URL", "mysql://x"),
            ("TRIBUNE_LISTEN", "nowhere"),
            ("TRIBUNE_JWT_SECRET", "short"),
            ("TRIBUNE_PUBLIC_URL", "ftp://x"),
            ("TRIBUNE_SMTP_URL", "http://x"),
            ("TRIBUNE_MAIL_FROM", "nobody"),
            ("TRIBUNE_DIGEST_HOUR", "24"),
            ("TRIBUNE_MAIL_RATE", "0"),
            ("TRIBUNE_TRUSTED_PROXIES", "10.0.0.0/33"),
            ("TRIBUNE_CORS_ORIGINS", "https://a.example/path"),
            ("TRIBUNE_RATE_LIMITS", "maybe"),
            ("LOG_FORMAT", "xml"),
            ("RUST_LOG", "info,[[["),
            ("TRIBUNE_DB_POOL_SIZE", "0"),
            ("TRIBUNE_WORKERS", "many"),
            ("TRIBUNE_JWT_ALG", "none"),
            ("TRIBUNE_AUTH_RATE", "0"),
            ("TRIBUNE_LOGIN_FAILURES_PER_HOUR", "-1"),
            ("TRIBUNE_LOGIN_FAILURE_RATE", "0"),
            ("TRIBUNE_STREAMS_PER_CLIENT", "none"),
            ("TRIBUNE_STREAM_LIFETIME_SECONDS", "0"),
        ] {
            let err = settings(&[(var, value)]).unwrap_err();
            assert_eq!(err.var, var, "{value}");
            assert!(err.to_string().starts_with(var));
        }
    }

    #[test]
    fn secrets_never_print() {
        let s = settings(&[
            ("TRIBUNE_JWT_SECRET", "0123456789abcdef0123456789abcdef-top"),
            ("DATABASE_URL", "postgres://app:hunter2@db.internal/tribune"),
            ("TRIBUNE_SMTP_URL", "smtp://mailer:pa55@mx.internal:587"),
        ])
        .unwrap();
        let printed = format!("{s:?}");
        for secret in ["0123456789abcdef", "hunter2", "pa55"] {
            assert!(!printed.contains(secret), "{secret} leaked: {printed}");
        }
        assert_eq!(
            s.database.describe(),
            "postgres://app:***@db.internal/tribune"
        );
    }

    #[test]
    fn trusted_proxy_ranges() {
        let net = IpRange::parse("10.0.0.0/8").unwrap();
        assert!(net.contains("10.1.2.3".parse().unwrap()));
        assert!(net.contains("::ffff:10.1.2.3".parse().unwrap()));
        assert!(!net.contains("11.0.0.1".parse().unwrap()));
        let one = IpRange::parse("::1").unwrap();
        assert!(one.contains("::1".parse().unwrap()));
        assert!(!one.contains("::2".parse().unwrap()));
        assert!(
            IpRange::parse("0.0.0.0/0")
                .unwrap()
                .contains("8.8.8.8".parse().unwrap())
        );
    }

    #[test]
    fn toml_file_holds_the_same_keys() {
        let dir = std::env::temp_dir().join(format!("tribune-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("tribune.toml");
        std::fs::write(
            &path,
            "DATABASE_URL = \"sqlite://x.db\"\ntribune_digest_hour = 7\nTRIBUNE_CORS_ORIGINS = [\"https://a.example\", \"https://b.example\"]\n",
        )
        .unwrap();
        let values = read_toml(&path).unwrap();
        let s = Settings::from_source(&Source { values }).unwrap();
        assert_eq!(s.database, DatabaseTarget::Sqlite("x.db".into()));
        assert_eq!(s.digest_hour, 7);
        assert_eq!(s.cors_origins, ["https://a.example", "https://b.example"]);

        std::fs::write(&path, "NOT_A_KEY = 1\n").unwrap();
        let err = read_toml(&path).unwrap_err();
        assert!(err.message.contains("NOT_A_KEY"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
