//! Time-based one-time codes (RFC 6238 over RFC 4226): HMAC-SHA-1, 6 digits, 30-second steps, one
//! step of clock drift either way, and a step once used never accepted again (the caller keeps the
//! last used step). Secrets are 20 random bytes (160 bits, RFC 4226's recommendation), shown to the
//! person as base32 (RFC 4648, no padding) and as an `otpauth://` URI for authenticator apps.

use hmac::{Hmac, Mac};
use sha1::Sha1;

#[cfg(test)]
mod tests;

pub const STEP_SECS: i64 = 30;
pub const DIGITS: u32 = 6;
/// Steps accepted either side of the current one.
pub const DRIFT_STEPS: i64 = 1;
pub const SECRET_BYTES: usize = 20;
/// The issuer authenticator apps show beside the account.
pub const ISSUER: &str = "Wayfinder";

/// The 30-second step holding the instant `unix_secs`.
pub fn step_at(unix_secs: i64) -> i64 {
    unix_secs.div_euclid(STEP_SECS)
}

/// The HOTP value of `secret` at counter `step`, as `digits` decimal digits (RFC 4226 §5.3).
pub fn code_at(secret: &[u8], step: u64, digits: u32) -> u32 {
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(secret) else {
        // HMAC takes keys of any length; unreachable, and a code nobody can type if it were.
        return u32::MAX;
    };
    mac.update(&step.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest[19] & 0x0f);
    let binary = (u32::from(digest[offset]) & 0x7f) << 24
        | u32::from(digest[offset + 1]) << 16
        | u32::from(digest[offset + 2]) << 8
        | u32::from(digest[offset + 3]);
    binary % 10u32.pow(digits)
}

/// The code as typed, reduced to its six digits (spaces and dashes, which apps show for
/// readability, are dropped); `None` when it is not six digits.
pub fn parse_code(input: &str) -> Option<u32> {
    let digits: String = input.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    if digits.len() != DIGITS as usize || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// The step `code` is valid for at `unix_secs` (the current step or one either side), provided it is
/// later than `last_used_step`; `None` when the code is wrong or was already used.
pub fn accepted_step(secret: &[u8], code: u32, unix_secs: i64, last_used_step: Option<i64>) -> Option<i64> {
    let now = step_at(unix_secs);
    let mut matched = None;
    // Every candidate is computed, so the time taken does not tell which step matched.
    for step in (now - DRIFT_STEPS)..=(now + DRIFT_STEPS) {
        let Ok(counter) = u64::try_from(step) else { continue };
        let fresh = last_used_step.is_none_or(|last| step > last);
        if code_at(secret, counter, DIGITS) == code && fresh && matched.is_none() {
            matched = Some(step);
        }
    }
    matched
}

/// RFC 4648 base32 (A–Z, 2–7) without padding.
pub fn base32_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for &byte in bytes {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 0x1f) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buffer << (5 - bits)) & 0x1f) as usize]));
    }
    out
}

/// The bytes of a base32 text (case-insensitive; spaces and `=` padding ignored); `None` when it
/// holds anything else.
pub fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 5 / 8);
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for c in text.chars().filter(|c| !matches!(c, ' ' | '=')) {
        let value = match c.to_ascii_uppercase() {
            c @ 'A'..='Z' => c as u32 - 'A' as u32,
            c @ '2'..='7' => c as u32 - '2' as u32 + 26,
            _ => return None,
        };
        buffer = (buffer << 5) | value;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(((buffer >> bits) & 0xff) as u8);
        }
    }
    Some(out)
}

/// The base32 secret grouped in fours, as the account page shows it for typing.
pub fn grouped(secret_base32: &str) -> String {
    secret_base32.as_bytes().chunks(4).map(|chunk| String::from_utf8_lossy(chunk)).collect::<Vec<_>>().join(" ")
}

/// The `otpauth://totp/…` URI authenticator apps read (Google Authenticator's key URI format).
/// Usernames hold only `a-z 0-9 . _ - @`, so only `@` needs escaping.
pub fn otpauth_uri(username: &str, secret: &[u8]) -> String {
    format!(
        "otpauth://totp/{ISSUER}:{label}?secret={secret}&issuer={ISSUER}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}",
        label = username.replace('@', "%40"),
        secret = base32_encode(secret),
    )
}
