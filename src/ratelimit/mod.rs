//! Who the client is (its address, through trusted proxies) and how often it may knock.
//!
//! Every limit is counted in the database (`rate_counters`, see [`repo`]): one upsert per
//! check, so a limit holds for the whole site however many processes serve it. A counter keeps
//! its current fixed window and the one before, and a check weighs the previous window by how
//! much of it still lies within a window's length of now (the usual sliding-window estimate):
//! no doubled burst at a window's edge. Per-address limits key IPv4 clients by their address
//! and IPv6 clients by their /64, the block one subscriber usually holds.
//!
//! Writes count their hit inside their own transaction: a write refused or rolled back counts
//! nothing. Staff (moderators, admins) are not limited on content writes.

pub mod repo;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};

use crate::auth::{ActiveUser, Role};
use crate::config::{IpRange, Settings};
use crate::db::{Db, DbConn};
use crate::error::ApiError;

/// The proxies whose `X-Forwarded-For` we believe.
pub struct TrustedProxies(pub Vec<IpRange>);

impl TrustedProxies {
    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|range| range.contains(ip))
    }

    /// The client: the peer itself, or, when the peer is a trusted proxy, the right-most
    /// address of `X-Forwarded-For` that is not a trusted proxy (left of it, anyone can write).
    pub fn client_ip(&self, peer: IpAddr, forwarded_for: Option<&str>) -> IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        let Some(chain) = forwarded_for else {
            return peer;
        };
        let mut client = peer;
        for hop in chain.rsplit(',') {
            match hop.trim().parse::<IpAddr>() {
                Ok(ip) => {
                    client = ip;
                    if !self.trusts(ip) {
                        break;
                    }
                }
                Err(_) => break,
            }
        }
        client
    }
}

/// The client's address, as [`TrustedProxies::client_ip`] decides.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

impl ClientIp {
    pub fn of(req: &HttpRequest) -> ClientIp {
        let peer = req
            .peer_addr()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |a| a.ip());
        let ip = match req.app_data::<web::Data<TrustedProxies>>() {
            Some(proxies) => {
                // A proxy may add a line of its own instead of extending the first one: the
                // hops are every line's, in order (RFC 9110 5.3), and the client wrote only the
                // left-most.
                let lines: Vec<&str> = req
                    .headers()
                    .get_all("x-forwarded-for")
                    .filter_map(|v| v.to_str().ok())
                    .collect();
                let chain = lines.join(",");
                proxies.client_ip(peer, (!lines.is_empty()).then_some(chain.as_str()))
            }
            None => peer,
        };
        ClientIp(ip.to_canonical())
    }

    /// The key per-address limits count under: an IPv4 address, or an IPv6 client's /64
    /// (one host holds a whole /64; counting single addresses would give it 2^64 of each).
    pub fn key(&self) -> String {
        match self.0 {
            IpAddr::V4(ip) => ip.to_string(),
            IpAddr::V6(ip) => {
                let network = u128::from(ip) & !((1u128 << 64) - 1);
                format!("{}/64", Ipv6Addr::from(network))
            }
        }
    }
}

impl FromRequest for ClientIp {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(Ok(ClientIp::of(req)))
    }
}

/// A limit: at most `max` in any `window` seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub max: u32,
    pub window: i64,
}

impl Rule {
    pub const fn per_minute(max: u32) -> Rule {
        Rule { max, window: 60 }
    }

    pub const fn per_hour(max: u32) -> Rule {
        Rule { max, window: 3600 }
    }

    pub const fn per_day(max: u32) -> Rule {
        Rule {
            max,
            window: 86_400,
        }
    }
}

/// What is limited. Each has its own setting (see [`RateLimits::from_settings`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// Register, login, refresh, password resets, subscriptions, password changes: per address.
    Auth,
    /// Failed logins from one address, whatever the accounts.
    LoginFailures,
    /// Failed logins to one account from one address: an attacker elsewhere never locks the
    /// owner out.
    AccountLoginFailures,
    /// Topics started or edited, per account.
    Topics,
    /// Votes, per account.
    Votes,
    /// Reports, per account.
    Reports,
    /// Comment edits and deletions, per account.
    Writes,
    /// Searches, per address.
    Search,
    /// Exports of one's data, per account.
    Exports,
}

impl Limit {
    fn prefix(self) -> &'static str {
        match self {
            Limit::Auth => "auth",
            Limit::LoginFailures => "login-fail",
            Limit::AccountLoginFailures => "login-account",
            Limit::Topics => "topic",
            Limit::Votes => "vote",
            Limit::Reports => "report",
            Limit::Writes => "write",
            Limit::Search => "search",
            Limit::Exports => "export",
        }
    }
}

/// A hit that was counted and may be taken back (see [`RateLimits::refund`]).
#[derive(Debug, Clone)]
pub struct Ticket {
    key: String,
    window_start: i64,
    window: i64,
}

/// The site's rate limits.
#[derive(Clone, Copy)]
pub struct RateLimits {
    enabled: bool,
    auth: Rule,
    login_failures: Rule,
    account_login_failures: Rule,
    topics: Rule,
    votes: Rule,
    reports: Rule,
    writes: Rule,
    search: Rule,
    exports: Rule,
}

impl RateLimits {
    pub fn from_settings(settings: &Settings) -> RateLimits {
        RateLimits {
            enabled: settings.rate_limits,
            auth: Rule::per_minute(settings.auth_rate_per_minute),
            login_failures: Rule::per_minute(settings.login_failures_per_minute),
            account_login_failures: Rule::per_hour(settings.login_failures_per_hour),
            topics: Rule::per_hour(settings.topic_rate_per_hour),
            votes: Rule::per_minute(settings.vote_rate_per_minute),
            reports: Rule::per_minute(settings.report_rate_per_minute),
            writes: Rule::per_minute(settings.write_rate_per_minute),
            search: Rule::per_minute(settings.search_rate_per_minute),
            exports: Rule::per_day(settings.exports_per_day),
        }
    }

    pub fn enabled(&self) -> bool {
        self.enabled
    }

    fn rule(&self, limit: Limit) -> Rule {
        match limit {
            Limit::Auth => self.auth,
            Limit::LoginFailures => self.login_failures,
            Limit::AccountLoginFailures => self.account_login_failures,
            Limit::Topics => self.topics,
            Limit::Votes => self.votes,
            Limit::Reports => self.reports,
            Limit::Writes => self.writes,
            Limit::Search => self.search,
            Limit::Exports => self.exports,
        }
    }

    /// Counts one hit of `limit` for `key` on the caller's connection (in its transaction, if
    /// it has one): `429` with `Retry-After` once the key is over its limit. The ticket can
    /// take the hit back. `None` when rate limits are off.
    pub fn hit(
        &self,
        conn: &mut DbConn,
        limit: Limit,
        key: &str,
    ) -> Result<Option<Ticket>, ApiError> {
        if !self.enabled {
            return Ok(None);
        }
        let rule = self.rule(limit);
        let key = format!("{}:{key}", limit.prefix());
        let now = chrono::Utc::now().timestamp();
        let counted = repo::hit(conn, &key, now, rule.window, 1)?;
        if let Some(retry_after) = over(rule, counted, now) {
            return Err(ApiError::RateLimited { retry_after });
        }
        Ok(Some(Ticket {
            key,
            window_start: counted.window_start,
            window: rule.window,
        }))
    }

    /// [`RateLimits::hit`] for a per-address limit, in a statement of its own.
    pub async fn check_client(
        &self,
        db: &Db,
        limit: Limit,
        client: ClientIp,
    ) -> Result<(), ApiError> {
        self.check_key(db, limit, client.key()).await.map(drop)
    }

    /// [`RateLimits::hit`] in a statement of its own.
    pub async fn check_key(
        &self,
        db: &Db,
        limit: Limit,
        key: String,
    ) -> Result<Option<Ticket>, ApiError> {
        if !self.enabled {
            return Ok(None);
        }
        // The clock is read next to the write (in `hit`), not before the wait for a connection.
        let limits = *self;
        db.run(move |conn| limits.hit(conn, limit, &key)).await
    }

    /// Counts a content write of `user` (in the write's transaction); staff are not limited.
    pub fn hit_account(
        &self,
        conn: &mut DbConn,
        limit: Limit,
        user: &ActiveUser,
    ) -> Result<(), ApiError> {
        if user.role.includes(Role::Moderator) {
            return Ok(());
        }
        self.hit(conn, limit, &user.id.to_string()).map(drop)
    }

    /// Takes back the hits of `tickets`.
    pub fn refund(conn: &mut DbConn, tickets: &[Ticket]) -> Result<(), ApiError> {
        for ticket in tickets {
            repo::refund(conn, &ticket.key, ticket.window_start, ticket.window, 1)?;
        }
        Ok(())
    }
}

/// Whether a counter is over its rule, and if so the seconds until the next hit would pass.
fn over(rule: Rule, counted: repo::Counted, now: i64) -> Option<u64> {
    // A clock read before the counter's window began counts from that window's start.
    let now = now.max(counted.window_start);
    let estimate = |at: i64| {
        let elapsed = at - counted.window_start;
        let (hits, prev) = match elapsed / rule.window {
            0 => (counted.hits, counted.prev_hits),
            1 => (0, counted.hits),
            _ => (0, 0),
        };
        let elapsed = elapsed.rem_euclid(rule.window);
        hits as f64 + prev as f64 * (rule.window - elapsed) as f64 / rule.window as f64
    };
    if estimate(now) <= f64::from(rule.max) {
        return None;
    }
    // The first second at which one more hit would fit (at most two windows away).
    let wait = (1..=2 * rule.window)
        .find(|s| estimate(now + s) + 1.0 <= f64::from(rule.max))
        .unwrap_or(2 * rule.window);
    Some(wait.max(1) as u64)
}

/// A slot of a site-wide rate: `true` when fewer than `per_second` took one this second,
/// whatever process asks (the mail senders share `TRIBUNE_MAIL_RATE` so). Always counted,
/// whatever `TRIBUNE_RATE_LIMITS` says: it protects a provider's limit, not the site.
pub fn take_slot(conn: &mut DbConn, key: &str, per_second: u32) -> Result<bool, ApiError> {
    let now = chrono::Utc::now().timestamp();
    let counted = repo::hit(conn, &format!("slot:{key}"), now, 1, 1)?;
    Ok(counted.window_start > now || counted.hits <= i64::from(per_second))
}

/// Removes counters whose windows are over (the retention task).
pub fn purge(conn: &mut DbConn) -> Result<usize, ApiError> {
    Ok(repo::purge(conn, chrono::Utc::now().timestamp())?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let proxies = TrustedProxies(vec![IpRange::parse("10.0.0.0/8").unwrap()]);
        // From an untrusted peer, the header is ignored.
        assert_eq!(
            proxies.client_ip(ip("203.0.113.9"), Some("1.2.3.4")),
            ip("203.0.113.9")
        );
        // From a trusted proxy, the right-most untrusted hop is the client.
        assert_eq!(
            proxies.client_ip(ip("10.0.0.2"), Some("6.6.6.6, 198.51.100.7, 10.0.0.3")),
            ip("198.51.100.7")
        );
        assert_eq!(proxies.client_ip(ip("10.0.0.2"), None), ip("10.0.0.2"));
        assert_eq!(
            proxies.client_ip(ip("10.0.0.2"), Some("garbage")),
            ip("10.0.0.2")
        );
    }

    #[test]
    fn ipv6_clients_are_keyed_by_their_64() {
        let a = ClientIp(ip("2001:db8:1:2:aaaa::1")).key();
        let b = ClientIp(ip("2001:db8:1:2:bbbb::9")).key();
        let c = ClientIp(ip("2001:db8:1:3::1")).key();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(ClientIp(ip("192.0.2.7")).key(), "192.0.2.7");
    }

    fn counted(window_start: i64, hits: i64, prev_hits: i64) -> repo::Counted {
        repo::Counted {
            window_start,
            hits,
            prev_hits,
        }
    }

    #[test]
    fn a_clock_behind_the_window_counts_from_its_start() {
        let rule = Rule::per_minute(10);
        assert_eq!(over(rule, counted(60, 10, 0), 59), None);
        assert!(over(rule, counted(60, 11, 0), 59).is_some());
    }

    #[test]
    fn the_previous_window_weighs_by_its_overlap() {
        let rule = Rule::per_minute(10);
        // 10 hits last window, now at its very start: 10 + 0 -> still allowed at 10.
        assert_eq!(over(rule, counted(60, 1, 9), 60), None);
        // Half way through, the 10 earlier hits weigh 5: 5 + 6 = 11 > 10.
        let wait = over(rule, counted(60, 6, 10), 90).expect("over");
        assert!((1..=60).contains(&wait), "{wait}");
        assert_eq!(over(rule, counted(60, 5, 10), 90), None);
    }
}
