//! Who the client is (its address, through trusted proxies) and how often it may knock.
//!
//! Per-address limits use `governor` and live in each process's memory: with several
//! processes behind a load balancer, each enforces its own share (the effective limit is the
//! limit times the number of processes). Limits that must hold across processes, such as
//! failed logins per account, are kept in the database instead.

use std::net::{IpAddr, Ipv4Addr};
use std::num::NonZeroU32;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::config::{IpRange, Settings};
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
        let forwarded = req
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok());
        let ip = match req.app_data::<web::Data<TrustedProxies>>() {
            Some(proxies) => proxies.client_ip(peer, forwarded),
            None => peer,
        };
        ClientIp(ip.to_canonical())
    }
}

impl FromRequest for ClientIp {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(Ok(ClientIp::of(req)))
    }
}

/// The rate limits of one process.
pub struct RateLimits {
    enabled: bool,
    /// Register, login, refresh and password reset, per client address.
    auth: DefaultKeyedRateLimiter<IpAddr>,
    /// Votes, reports, edits and deletions, per account.
    writes: DefaultKeyedRateLimiter<i64>,
    /// Failed logins an account may have in an hour before logins to it wait.
    pub login_failures_per_hour: u32,
}

impl RateLimits {
    pub fn from_settings(settings: &Settings) -> RateLimits {
        let per_minute = NonZeroU32::new(settings.auth_rate_per_minute).unwrap_or(NonZeroU32::MIN);
        let writes = NonZeroU32::new(settings.write_rate_per_minute).unwrap_or(NonZeroU32::MIN);
        RateLimits {
            enabled: settings.rate_limits,
            auth: RateLimiter::keyed(Quota::per_minute(per_minute)),
            writes: RateLimiter::keyed(Quota::per_minute(writes)),
            login_failures_per_hour: settings.login_failures_per_hour,
        }
    }

    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// `429` once the address has used up its auth requests for now.
    pub fn check_auth(&self, client: ClientIp) -> Result<(), ApiError> {
        if !self.enabled {
            return Ok(());
        }
        self.auth.check_key(&client.0).map_err(too_many)
    }

    /// `429` once the account has used up its votes, reports, edits and deletions for now
    /// (`TRIBUNE_WRITE_RATE` a minute; kept per process).
    pub fn check_writes(&self, account: i64) -> Result<(), ApiError> {
        if !self.enabled {
            return Ok(());
        }
        self.writes.check_key(&account).map_err(too_many)
    }

    /// Forgets keys that have not been seen lately (bounds the memory of the limiters).
    pub fn prune(&self) {
        self.auth.retain_recent();
        self.auth.shrink_to_fit();
        self.writes.retain_recent();
        self.writes.shrink_to_fit();
    }
}

fn too_many(not_until: governor::NotUntil<<DefaultClock as Clock>::Instant>) -> ApiError {
    let wait = not_until.wait_time_from(DefaultClock::default().now());
    ApiError::RateLimited {
        retry_after: wait.as_secs().max(1),
    }
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
}
