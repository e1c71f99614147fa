//! Throttling failed sign-ins, per account and per client address.
//!
//! Each attempt first **reserves** a place in its counters (so a burst of parallel attempts is
//! counted, not raced past); an attempt over a limit is refused without checking the password and
//! its reservation released. A failure keeps its reservation; a success clears the account's counter
//! and gives back the address's place.
//!
//! - Per account: [`PER_ACCOUNT`], 5 attempts in a 15-minute window, and after 100 consecutive
//!   failures the account is locked until an administrator resets its password (NIST SP 800-63B
//!   §5.2.2: no more than 100 consecutive failed attempts). The key is the normalised username as
//!   typed, whether or not such an account exists, so being throttled never tells that it does.
//! - Per address: [`PER_ADDRESS`], 30 attempts in 15 minutes from one IPv4 address or IPv6 /64.
//!
//! Keys are stored as SHA-256 hashes: a username field sometimes holds a mistyped password.

use std::net::IpAddr;

use sha2::{Digest, Sha256};

#[cfg(test)]
mod tests;

/// What a counter allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Attempts allowed in one window.
    pub per_window: u32,
    pub window_secs: i64,
    /// Consecutive failures after which the key is locked until reset; `None`: never locked.
    pub consecutive: Option<u32>,
}

pub const PER_ACCOUNT: Limits = Limits { per_window: 5, window_secs: 15 * 60, consecutive: Some(100) };
pub const PER_ADDRESS: Limits = Limits { per_window: 30, window_secs: 15 * 60, consecutive: None };

/// Which counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Account,
    Address,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Account => "account",
            Scope::Address => "address",
        }
    }

    pub fn limits(self) -> Limits {
        match self {
            Scope::Account => PER_ACCOUNT,
            Scope::Address => PER_ADDRESS,
        }
    }
}

/// One counter as stored (instants in microseconds on the service clock).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempts {
    /// Attempts counted in the current window.
    pub in_window: u32,
    pub window_started: i64,
    /// Failures since the last success (or reset).
    pub consecutive: u32,
}

/// What to do with an attempt whose place is reserved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Proceed,
    /// Over the window's limit: refused until `until`.
    Wait {
        until: i64,
    },
    /// Over the consecutive-failure limit: refused until an administrator resets the account.
    Locked,
}

impl Limits {
    fn window_micros(self) -> i64 {
        self.window_secs.saturating_mul(1_000_000)
    }

    /// The counter once one more attempt is reserved at `now`; a window that has run out starts
    /// again.
    pub fn reserve(self, before: Option<Attempts>, now: i64) -> Attempts {
        match before {
            Some(before) if now.saturating_sub(before.window_started) < self.window_micros() => Attempts {
                in_window: before.in_window.saturating_add(1),
                window_started: before.window_started,
                consecutive: before.consecutive.saturating_add(1),
            },
            Some(before) => {
                Attempts { in_window: 1, window_started: now, consecutive: before.consecutive.saturating_add(1) }
            }
            None => Attempts { in_window: 1, window_started: now, consecutive: 1 },
        }
    }

    /// Whether the attempt that made `reserved` may go ahead.
    pub fn verdict(self, reserved: &Attempts) -> Verdict {
        if self.consecutive.is_some_and(|limit| reserved.consecutive > limit) {
            return Verdict::Locked;
        }
        if reserved.in_window > self.per_window {
            return Verdict::Wait { until: reserved.window_started.saturating_add(self.window_micros()) };
        }
        Verdict::Proceed
    }

    /// Whether a stored counter can be forgotten at `now`: its window ended a day ago and it locks
    /// nothing.
    pub fn forgettable(self, attempts: &Attempts, now: i64) -> bool {
        let locked = self.consecutive.is_some_and(|limit| attempts.consecutive >= limit);
        !locked && now.saturating_sub(attempts.window_started) >= self.window_micros() + 86_400 * 1_000_000
    }
}

/// The counter after a successful sign-in gives back its reserved place (the address counter; the
/// account counter is cleared instead). Consecutive failures end with a success.
pub fn release(reserved: Attempts) -> Attempts {
    Attempts { in_window: reserved.in_window.saturating_sub(1), consecutive: 0, ..reserved }
}

/// The address a client is counted under: an IPv4 address, or the /64 network of an IPv6 address
/// (one household or office gets a whole /64). IPv4-mapped IPv6 addresses count as IPv4.
pub fn address_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

/// The stored form of a counter's key.
pub fn key_hash(scope: Scope, key: &str) -> String {
    let mut digest = Sha256::new();
    digest.update(scope.as_str().as_bytes());
    digest.update([0]);
    digest.update(key.as_bytes());
    hex::encode(digest.finalize())
}

/// The address a sign-in attempt is counted against: the connecting `peer`, unless it is one of
/// the `trusted` proxies; then the nearest address of `forwarded_for` (the `X-Forwarded-For`
/// values, in order) that is not itself a trusted proxy, read from the right, since each proxy
/// appends the address it saw and only the entries our own proxies added can be believed. An entry
/// that does not parse ends the walk: nothing to its left is believed, and the last address
/// believed stands.
pub fn client_address(peer: IpAddr, forwarded_for: &[&str], trusted: &[wf_config::TrustedProxy]) -> IpAddr {
    let is_trusted = |address: IpAddr| trusted.iter().any(|proxy| proxy.contains(address));
    let mut client = peer;
    if !is_trusted(client) {
        return client;
    }
    for entry in forwarded_for.iter().flat_map(|value| value.split(',')).rev() {
        match forwarded_address(entry) {
            Some(address) => {
                client = address;
                if !is_trusted(address) {
                    break;
                }
            }
            None => break,
        }
    }
    client
}

/// One `X-Forwarded-For` entry's address: `203.0.113.5`, `2001:db8::1`, or with the port some
/// proxies append (`203.0.113.5:4711`, `[2001:db8::1]:4711`).
fn forwarded_address(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    if let Ok(address) = entry.parse::<IpAddr>() {
        return Some(address);
    }
    if let Some(rest) = entry.strip_prefix('[') {
        return rest.split_once(']').and_then(|(address, _)| address.parse().ok());
    }
    entry.rsplit_once(':').and_then(|(address, port)| port.parse::<u16>().ok().and(address.parse().ok()))
}
