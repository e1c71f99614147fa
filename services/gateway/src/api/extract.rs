//! The session cookie and the extractors handlers take:
//! - [`SignedIn`] — a signed-in person who has accepted the confidentiality acknowledgment; anyone
//!   else is sent to sign in (or to the acknowledgment). Every screen takes this, so nothing is
//!   reachable before sign-in and acknowledgment.
//! - [`Acknowledging`] — a signed-in person whether or not they have accepted (the acknowledgment
//!   page and sign-out).
//! - [`Visitor`] — whatever session the request has (the sign-in page).

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use crate::app::{Resolved, SignedIn};
use crate::domain::session::COOKIE_NAME;

/// The resolved session, put in the request's extensions by the guard.
#[derive(Debug, Clone)]
pub struct RequestSession(pub Arc<Resolved>);

/// The `Set-Cookie` value carrying a new session token: `__Host-` (Secure, Path=/, no Domain),
/// HttpOnly (no script reads it), SameSite=Strict (no other site's page sends it), and no expiry
/// (the browser forgets it when closed; the server's limits apply either way).
pub fn session_cookie(token: &str) -> Option<HeaderValue> {
    HeaderValue::from_str(&format!("{COOKIE_NAME}={token}; Path=/; Secure; HttpOnly; SameSite=Strict")).ok()
}

/// The `Set-Cookie` value removing the session cookie.
pub fn cleared_cookie() -> HeaderValue {
    HeaderValue::from_static("__Host-wf-session=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0")
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
        .filter(|value| !value.is_empty())
}

/// Whether the request was made by htmx (then redirects are `HX-Redirect`, which htmx follows as a
/// full navigation, rather than a 303 whose page it would swap into a fragment).
pub fn is_htmx(headers: &HeaderMap) -> bool {
    headers.get("hx-request").is_some_and(|value| value == "true")
}

/// A redirect that works for plain requests and htmx requests alike.
pub fn redirect(headers: &HeaderMap, to: &str) -> Response {
    if is_htmx(headers) {
        let mut response = StatusCode::OK.into_response();
        if let Ok(value) = HeaderValue::from_str(to) {
            response.headers_mut().insert("hx-redirect", value);
        }
        response
    } else {
        Redirect::to(to).into_response()
    }
}

/// Where someone without a usable session is sent: the sign-in page, saying why the session ended.
pub fn to_sign_in(headers: &HeaderMap, resolved: &Resolved) -> Response {
    let to = match resolved {
        Resolved::Ended { reason, signed_in: true } => format!("/sign-in?ended={}", reason.as_str()),
        _ => "/sign-in".to_owned(),
    };
    redirect(headers, &to)
}

fn resolved(parts: &Parts) -> Arc<Resolved> {
    parts.extensions.get::<RequestSession>().map(|s| s.0.clone()).unwrap_or_else(|| Arc::new(Resolved::None))
}

/// Whatever session the request has.
#[derive(Debug, Clone)]
pub struct Visitor(pub Arc<Resolved>);

impl<S: Send + Sync> FromRequestParts<S> for Visitor {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Visitor(resolved(parts)))
    }
}

/// A signed-in person, acknowledged or not.
#[derive(Debug, Clone)]
pub struct Acknowledging(pub SignedIn);

impl<S: Send + Sync> FromRequestParts<S> for Acknowledging {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        match &*resolved(parts) {
            Resolved::Person(who) => Ok(Acknowledging(who.clone())),
            other => Err(to_sign_in(&parts.headers, other)),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        match &*resolved(parts) {
            Resolved::Person(who) if who.acknowledged => Ok(who.clone()),
            Resolved::Person(_) => Err(redirect(&parts.headers, "/acknowledge")),
            other => Err(to_sign_in(&parts.headers, other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_cookie_is_read_among_others() {
        let mut headers = HeaderMap::new();
        headers.append(header::COOKIE, HeaderValue::from_static("a=1; __Host-wf-session=tok; b=2"));
        assert_eq!(cookie_value(&headers, COOKIE_NAME).as_deref(), Some("tok"));
        let mut headers = HeaderMap::new();
        headers.append(header::COOKIE, HeaderValue::from_static("x-__Host-wf-session=no"));
        assert_eq!(cookie_value(&headers, COOKIE_NAME), None);
    }

    #[test]
    fn the_cookie_is_host_only_secure_http_only_and_strict() {
        let cookie = session_cookie("tok").unwrap();
        assert_eq!(cookie.to_str().unwrap(), "__Host-wf-session=tok; Path=/; Secure; HttpOnly; SameSite=Strict");
    }
}
