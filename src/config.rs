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

/// When a reader's view of an article or discussion counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ViewCounting {
    /// On the page's `GET` (from a reader, not a crawler or a prefetch), and on the beacon.
    Get,
    /// Only on the page's explicit signal, `POST /api/v1/discussions/{id}/views`.
    Beacon,
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

mod declared;
pub use declared::{DefaultValue, SETTINGS, Setting, Settings};

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

fn is_known_key(key: &str) -> bool {
    SETTINGS.iter().any(|setting| setting.var == key)
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

fn http_url(text: &str) -> Result<String, String> {
    let rest = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"))
        .ok_or_else(|| format!("`{text}` must start with http:// or https://"))?;
    if rest.is_empty() || rest.starts_with('/') || rest.contains(char::is_whitespace) {
        return Err(format!("`{text}` has no host"));
    }
    Ok(text.trim_end_matches('/').to_string())
}

impl Settings {
    /// Reads the environment (and `tribune.toml`) and validates every value.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_source(&Source::from_env()?)
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

    /// The README's table of settings is the declaration's (`UPDATE_README=1 cargo test --lib
    /// config` rewrites it).
    #[test]
    fn the_readme_lists_every_setting_as_declared() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
        let readme = std::fs::read_to_string(&path).unwrap();
        let header = "| variable | default | meaning |\n|---|---|---|\n";
        let start = readme.find(header).expect("the README's settings table") + header.len();
        let end = readme[start..]
            .find("\n\n")
            .map_or(readme.len(), |n| start + n + 1);
        let declared: String = SETTINGS
            .iter()
            .map(|setting| setting.readme_row() + "\n")
            .collect();
        if std::env::var("UPDATE_README").is_ok() {
            let updated = format!("{}{declared}{}", &readme[..start], &readme[end..]);
            std::fs::write(&path, updated).unwrap();
            return;
        }
        assert_eq!(
            &readme[start..end],
            declared,
            "README.md's settings table differs from src/config/declared.rs \
             (UPDATE_README=1 cargo test --lib config rewrites it)"
        );
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
