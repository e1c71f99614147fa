//! The password policy (NIST SP 800-63B, OWASP ASVS 5.0 level 2) and password hashing.
//!
//! - At least [`MIN_CHARS_SINGLE_FACTOR`] characters when the password is the only factor, at least
//!   [`MIN_CHARS_WITH_TOTP`] when a one-time code is also asked for; up to [`MAX_CHARS`], so long
//!   passphrases fit. Characters are Unicode scalar values; spaces count.
//! - No composition rules (no "one digit, one symbol").
//! - Refused: a password on the list of common passwords (`data/common-passwords.txt`, Django's list
//!   of 19,640, compared lowercased), the username itself, and one character repeated.
//! - Hashed with argon2id at the crate's defaults (19 MiB, 2 passes, 1 lane: OWASP's minimum), each
//!   with its own random salt, as a PHC string that names its own parameters.

use std::collections::HashSet;
use std::sync::LazyLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use wf_types::FieldViolation;

#[cfg(test)]
mod tests;

pub const MIN_CHARS_SINGLE_FACTOR: usize = 15;
pub const MIN_CHARS_WITH_TOTP: usize = 8;
/// NIST asks for at least 64; longer inputs are refused so hashing stays bounded.
pub const MAX_CHARS: usize = 128;

static COMMON: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| include_str!("../../../data/common-passwords.txt").lines().map(str::trim).collect());

/// Whether `password` (compared lowercased) is on the common-password list.
pub fn is_common(password: &str) -> bool {
    COMMON.contains(password.to_lowercase().as_str())
}

/// The violation of `password` for the account `username` (normalised), if any. `with_totp`: the
/// account also asks for a one-time code.
pub fn check(password: &str, username: &str, with_totp: bool) -> Result<(), FieldViolation> {
    let chars = password.chars().count();
    let min = if with_totp { MIN_CHARS_WITH_TOTP } else { MIN_CHARS_SINGLE_FACTOR };
    let refuse = |why: String| Err(FieldViolation::new("password", why));
    if chars < min {
        let why = if with_totp {
            format!("must be at least {min} characters (it has {chars})")
        } else {
            format!(
                "must be at least {min} characters (it has {chars}); a passphrase of several words works well, \
                 or turn on an authentication app to allow {MIN_CHARS_WITH_TOTP}"
            )
        };
        return refuse(why);
    }
    if chars > MAX_CHARS {
        return refuse(format!("must be at most {MAX_CHARS} characters (it has {chars})"));
    }
    if password.trim().to_lowercase() == username {
        return refuse("must not be the username".to_owned());
    }
    let mut distinct = password.chars();
    if let Some(first) = distinct.next()
        && distinct.all(|c| c == first)
    {
        return refuse("must not be one character repeated".to_owned());
    }
    if is_common(password) || is_common(password.trim()) {
        return refuse("is on the list of commonly used passwords; choose another".to_owned());
    }
    Ok(())
}

/// Whether `password` would be accepted without a second factor (so TOTP may be turned off).
pub fn long_enough_alone(password: &str) -> bool {
    password.chars().count() >= MIN_CHARS_SINGLE_FACTOR
}

/// The argon2id PHC string of `password` with a fresh random salt. CPU-heavy (tens of milliseconds):
/// callers on an async runtime run it on a blocking thread.
pub fn hash(password: &str) -> Result<String, HashError> {
    Argon2::default().hash_password(password.as_bytes()).map(|hash| hash.to_string()).map_err(|_| HashError)
}

/// Whether `password` matches the PHC string `hash` (constant time in the password). A malformed
/// hash never matches.
pub fn verify(password: &str, hash: &str) -> bool {
    Argon2::default().verify_password(password.as_bytes(), hash).is_ok()
}

/// A PHC string of the same cost as [`hash`] that no password matches: verified against when the
/// username is unknown, so a sign-in takes as long whether or not the account exists.
pub fn dummy_hash() -> &'static str {
    static DUMMY: LazyLock<String> = LazyLock::new(|| {
        // A random 32-byte secret nobody knows; if hashing fails the verify below fails quickly,
        // which only costs the timing equality, never a sign-in.
        let secret: String = (0..32).map(|_| char::from(b'a' + rand::random::<u8>() % 26)).collect();
        hash(&secret).unwrap_or_default()
    });
    &DUMMY
}

/// Hashing failed (the random source or the parameters).
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("password hashing failed")]
pub struct HashError;
