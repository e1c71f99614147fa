//! Which requests may change state. Every state change (any method but GET, HEAD, OPTIONS and
//! TRACE) must carry the session's CSRF token **and** come from the gateway's own pages: its
//! `Origin` must be the public origin, or, when a browser sends no `Origin`, its `Sec-Fetch-Site`
//! must be `same-origin`. A request with neither is refused: every browser the staff use sends one
//! of them, so only a forged or stripped request lacks both.

use subtle::ConstantTimeEq;

/// The form field and the header a state change carries its CSRF token in.
pub const CSRF_FIELD: &str = "csrf_token";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Why a state change was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// `Origin` names another site (or is `null`).
    ForeignOrigin,
    /// No `Origin`, and `Sec-Fetch-Site` is not `same-origin` (or absent).
    NotSameOrigin,
    /// No CSRF token, or not the session's.
    CsrfToken,
    /// No session to hold a CSRF token (never signed in here, or the cookie was refused).
    NoSession,
}

impl Refusal {
    /// A short code for logs and tests.
    pub fn code(self) -> &'static str {
        match self {
            Refusal::ForeignOrigin => "foreign_origin",
            Refusal::NotSameOrigin => "not_same_origin",
            Refusal::CsrfToken => "csrf_token",
            Refusal::NoSession => "no_session",
        }
    }
}

/// Whether `method` changes state (and so needs the checks).
pub fn is_state_change(method: &str) -> bool {
    !matches!(method, "GET" | "HEAD" | "OPTIONS" | "TRACE")
}

/// The Origin rule: `origin` and `sec_fetch_site` as the request's headers give them.
pub fn check_origin(origin: Option<&str>, sec_fetch_site: Option<&str>, public_origin: &str) -> Result<(), Refusal> {
    match origin {
        Some(origin) if origin.eq_ignore_ascii_case(public_origin) => Ok(()),
        Some(_) => Err(Refusal::ForeignOrigin),
        None if sec_fetch_site.is_some_and(|site| site.eq_ignore_ascii_case("same-origin")) => Ok(()),
        None => Err(Refusal::NotSameOrigin),
    }
}

/// The CSRF rule: `given` (from the form or the header) equals the session's token, compared in
/// constant time.
pub fn check_csrf(expected: &str, given: Option<&str>) -> Result<(), Refusal> {
    match given {
        Some(given) if !expected.is_empty() && bool::from(given.as_bytes().ct_eq(expected.as_bytes())) => Ok(()),
        _ => Err(Refusal::CsrfToken),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORIGIN: &str = "https://wayfinder.example.org";

    #[test]
    fn reads_are_not_state_changes() {
        for method in ["GET", "HEAD", "OPTIONS", "TRACE"] {
            assert!(!is_state_change(method));
        }
        for method in ["POST", "PUT", "PATCH", "DELETE", "PROPFIND"] {
            assert!(is_state_change(method));
        }
    }

    #[test]
    fn the_origin_must_be_ours_or_the_fetch_same_origin() {
        assert_eq!(check_origin(Some(ORIGIN), None, ORIGIN), Ok(()));
        assert_eq!(check_origin(Some("HTTPS://Wayfinder.example.org"), None, ORIGIN), Ok(()));
        assert_eq!(
            check_origin(Some("https://evil.example"), Some("same-origin"), ORIGIN),
            Err(Refusal::ForeignOrigin)
        );
        assert_eq!(check_origin(Some("null"), None, ORIGIN), Err(Refusal::ForeignOrigin));
        assert_eq!(check_origin(Some("http://wayfinder.example.org"), None, ORIGIN), Err(Refusal::ForeignOrigin));
        assert_eq!(check_origin(None, Some("same-origin"), ORIGIN), Ok(()));
        assert_eq!(check_origin(None, Some("same-site"), ORIGIN), Err(Refusal::NotSameOrigin));
        assert_eq!(check_origin(None, Some("cross-site"), ORIGIN), Err(Refusal::NotSameOrigin));
        assert_eq!(check_origin(None, None, ORIGIN), Err(Refusal::NotSameOrigin));
    }

    #[test]
    fn the_csrf_token_must_be_the_sessions() {
        assert_eq!(check_csrf("tok", Some("tok")), Ok(()));
        assert_eq!(check_csrf("tok", Some("tok2")), Err(Refusal::CsrfToken));
        assert_eq!(check_csrf("tok", Some("")), Err(Refusal::CsrfToken));
        assert_eq!(check_csrf("tok", None), Err(Refusal::CsrfToken));
        assert_eq!(check_csrf("", Some("")), Err(Refusal::CsrfToken));
    }
}
