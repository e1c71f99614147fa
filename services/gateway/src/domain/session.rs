//! When a session ends (OWASP ASVS 5.0 level 2: 30 minutes idle, 12 hours absolute), how often
//! activity is written down, and how the cookie's token is kept: only its SHA-256 is stored, so a
//! copy of the database opens no session.

use sha2::{Digest, Sha256};

pub const IDLE_LIMIT_SECS: i64 = 30 * 60;
pub const ABSOLUTE_LIMIT_SECS: i64 = 12 * 3600;
/// Activity is written at most this often, so a page with several requests writes once. A session
/// therefore ends up to this much before its idle limit, never after it.
pub const TOUCH_EVERY_SECS: i64 = 30;
/// The idle warning shows this long before the idle limit (Primero warns 5 minutes ahead).
pub const WARN_BEFORE_SECS: i64 = 5 * 60;
/// Random bytes in a session token (256 bits; ASVS asks for at least 128).
pub const TOKEN_BYTES: usize = 32;
/// The cookie carrying the token. `__Host-`: Secure, Path=/ and no Domain, so no other host sets it.
pub const COOKIE_NAME: &str = "__Host-wf-session";

const MICROS: i64 = 1_000_000;

/// Whether a session may still be used at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Liveness {
    Live,
    /// No request for [`IDLE_LIMIT_SECS`].
    Idle,
    /// Signed in more than [`ABSOLUTE_LIMIT_SECS`] ago.
    Absolute,
}

/// The liveness at `now` of a session created at `created` and last active at `last_seen`
/// (microseconds on the service clock).
pub fn liveness(created: i64, last_seen: i64, now: i64) -> Liveness {
    if now.saturating_sub(created) >= ABSOLUTE_LIMIT_SECS * MICROS {
        Liveness::Absolute
    } else if now.saturating_sub(last_seen) >= IDLE_LIMIT_SECS * MICROS {
        Liveness::Idle
    } else {
        Liveness::Live
    }
}

/// Whether a request at `now` should record activity.
pub fn should_touch(last_seen: i64, now: i64) -> bool {
    now.saturating_sub(last_seen) >= TOUCH_EVERY_SECS * MICROS
}

/// Seconds until the session ends without further activity (the earlier of its two limits).
pub fn seconds_left(created: i64, last_seen: i64, now: i64) -> i64 {
    let idle_end = last_seen.saturating_add(IDLE_LIMIT_SECS * MICROS);
    let absolute_end = created.saturating_add(ABSOLUTE_LIMIT_SECS * MICROS);
    (idle_end.min(absolute_end).saturating_sub(now) / MICROS).max(0)
}

/// What is stored for a token: the lowercase hex SHA-256 of the cookie value.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The instant before which a session is past one of its limits, for the sweeper: sessions last seen
/// before the first or created before the second have ended.
pub fn ended_before(now: i64) -> (i64, i64) {
    (now.saturating_sub(IDLE_LIMIT_SECS * MICROS), now.saturating_sub(ABSOLUTE_LIMIT_SECS * MICROS))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60 * MICROS;

    #[test]
    fn thirty_minutes_idle_or_twelve_hours_in_all() {
        let t0 = 1_800_000_000 * MICROS;
        assert_eq!(liveness(t0, t0, t0 + 29 * MIN), Liveness::Live);
        assert_eq!(liveness(t0, t0, t0 + 30 * MIN), Liveness::Idle);
        // Active every 20 minutes for 12 hours: still ended at 12 hours.
        assert_eq!(liveness(t0, t0 + 700 * MIN, t0 + 719 * MIN), Liveness::Live);
        assert_eq!(liveness(t0, t0 + 710 * MIN, t0 + 720 * MIN), Liveness::Absolute);
    }

    #[test]
    fn activity_is_written_at_most_every_thirty_seconds() {
        let t0 = 1_800_000_000 * MICROS;
        assert!(!should_touch(t0, t0 + 29 * MICROS));
        assert!(should_touch(t0, t0 + 30 * MICROS));
    }

    #[test]
    fn seconds_left_is_the_earlier_limit() {
        let t0 = 1_800_000_000 * MICROS;
        assert_eq!(seconds_left(t0, t0, t0 + 10 * MIN), 20 * 60);
        assert_eq!(seconds_left(t0, t0 + 715 * MIN, t0 + 716 * MIN), 4 * 60);
        assert_eq!(seconds_left(t0, t0, t0 + 31 * MIN), 0);
    }

    #[test]
    fn only_a_hash_of_the_token_is_kept() {
        let hash = token_hash("abc");
        assert_eq!(hash, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_ne!(token_hash("abd"), hash);
    }
}
