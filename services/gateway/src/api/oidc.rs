//! `POST /sign-in/oidc` (start signing in at the OpenID Connect provider) and
//! `GET /sign-in/oidc/callback` (the provider sends the browser back). Both answer 404 when no
//! provider is configured.
//!
//! The callback is a navigation from the provider's site, so the `SameSite=Strict` session cookie
//! is not sent with it and would not be sent with a redirect from it either. The browser is tied to
//! its sign-in by a second cookie, `__Host-wf-oidc` (`SameSite=Lax`, ten minutes, cleared by the
//! callback), and a successful callback answers a page that moves on to `/` itself: that navigation starts
//! on this site, so the new session's cookie goes with it.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::PageError;
use super::extract::{Visitor, cookie_value, session_cookie};
use super::layout::Layout;
use crate::app::{App, OidcRefusal, Resolved};
use crate::domain::oidc::PENDING_SECONDS;

/// The cookie tying a browser to the sign-in it started.
pub const BINDING_COOKIE: &str = "__Host-wf-oidc";

/// What the person reads when a sign-in through the provider did not work, whatever the reason.
pub const OIDC_FAILED: &str = "Signing in through your organization did not work. Try again; if it keeps \
                               failing, ask your Wayfinder administrator to check that your sign-in is linked \
                               to a Wayfinder account.";

fn binding_cookie(value: &str) -> Option<HeaderValue> {
    HeaderValue::from_str(&format!(
        "{BINDING_COOKIE}={value}; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age={PENDING_SECONDS}"
    ))
    .ok()
}

fn cleared_binding() -> HeaderValue {
    HeaderValue::from_static("__Host-wf-oidc=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0")
}

/// `POST /sign-in/oidc` (its CSRF token and Origin checked by the guard): to the provider.
pub async fn begin(State(app): State<App>, Visitor(resolved): Visitor) -> Result<Response, PageError> {
    let Some(oidc) = app.oidc.clone() else { return Err(PageError::NotFound) };
    if matches!(&*resolved, Resolved::Person(_)) {
        return Ok(Redirect::to("/").into_response());
    }
    let started = oidc.begin().await?;
    let mut response = Redirect::to(&started.location).into_response();
    if let Some(cookie) = binding_cookie(&started.binding) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

#[derive(Debug, Deserialize)]
pub struct Callback {
    #[serde(default)]
    state: String,
    #[serde(default)]
    code: String,
    /// Set by the provider when the person cancelled or the provider refused.
    #[serde(default)]
    error: Option<String>,
}

/// The page a successful callback answers: it moves on to `/` (a same-site navigation).
#[derive(Template, WebTemplate)]
#[template(path = "oidc_continue.html")]
pub struct ContinuePage {
    pub layout: Layout,
}

/// `GET /sign-in/oidc/callback?state=…&code=…`.
pub async fn callback(
    State(app): State<App>,
    headers: axum::http::HeaderMap,
    Query(callback): Query<Callback>,
) -> Result<Response, PageError> {
    let Some(oidc) = app.oidc.clone() else { return Err(PageError::NotFound) };
    let binding = cookie_value(&headers, BINDING_COOKIE);
    let outcome = match &callback.error {
        // The provider's own code (`access_denied`, …) is a fixed vocabulary, but it is the
        // provider's text: only whether there was one is logged.
        Some(_) => Err(OidcRefusal::Failed("provider_error")),
        None => oidc.finish(&app.sessions, &callback.state, &callback.code, binding.as_deref()).await,
    };
    let mut response = match outcome {
        Ok((session, _account)) => {
            let page = ContinuePage { layout: Layout::for_visitor(None, "Signing in") };
            let mut response = page.into_response();
            if let Some(cookie) = session_cookie(&session.token) {
                response.headers_mut().append(header::SET_COOKIE, cookie);
            }
            response
        }
        Err(OidcRefusal::Storage(err)) => return Err(err.into()),
        Err(OidcRefusal::Failed(reason)) => {
            tracing::warn!(reason, "OpenID Connect sign-in refused");
            // The sign-in page starts a session of its own (this navigation carries none).
            Redirect::to("/sign-in?failed=oidc").into_response()
        }
    };
    response.headers_mut().append(header::SET_COOKIE, cleared_binding());
    Ok(response)
}
