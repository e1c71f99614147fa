//! The session guard, in front of every page: resolves the session cookie, refuses state changes
//! that fail the Origin or CSRF rule (`domain::request`) with a 403 page, sends a request on an
//! ended session to sign in, renders [`PageError`](super::PageError)s as full pages in the layout,
//! and clears a cookie that names no live session.

use std::sync::Arc;

use askama::Template as _;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::errors::{ErrorPage, ErrorTemplate};
use super::extract::{RequestSession, cleared_cookie, cookie_value, to_sign_in};
use super::layout::Layout;
use crate::app::{App, Resolved};
use crate::domain::request::{self, CSRF_FIELD, CSRF_HEADER, Refusal};
use crate::domain::session::COOKIE_NAME;

/// Form bodies are read whole for their CSRF field up to this size; larger ones are refused.
pub const FORM_LIMIT: usize = 64 * 1024;

pub async fn guard(State(app): State<App>, request: Request, next: Next) -> Response {
    let resolved = match cookie_value(request.headers(), COOKIE_NAME) {
        None => Resolved::None,
        Some(token) => match app.sessions.resolve(&token).await {
            Ok(resolved) => resolved,
            Err(err) => {
                let error: super::PageError = err.into();
                return render(&Resolved::None, error.into_response());
            }
        },
    };
    let resolved = Arc::new(resolved);
    let mut request = request;
    if request::is_state_change(request.method().as_str()) {
        request = match check_state_change(&app, &resolved, request).await {
            Ok(request) => request,
            Err(response) => return finish(&resolved, response),
        };
    }
    request.extensions_mut().insert(RequestSession(resolved.clone()));
    let response = next.run(request).await;
    finish(&resolved, response)
}

/// The Origin rule, then the session, then the CSRF token (from the header, or the form's field).
async fn check_state_change(app: &App, resolved: &Resolved, request: Request) -> Result<Request, Response> {
    let (origin, fetch_site, csrf_header, content_type) = {
        let header = |name: &str| request.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        (header("origin"), header("sec-fetch-site"), header(CSRF_HEADER), header(header::CONTENT_TYPE.as_str()))
    };
    if let Err(refusal) = request::check_origin(origin.as_deref(), fetch_site.as_deref(), &app.public_origin) {
        return Err(refused(app, refusal));
    }
    let expected = match resolved {
        Resolved::Ended { .. } => return Err(to_sign_in(request.headers(), resolved)),
        Resolved::None | Resolved::Unknown => return Err(refused(app, Refusal::NoSession)),
        live => live.csrf_token().unwrap_or_default().to_owned(),
    };
    if let Some(given) = csrf_header {
        return match request::check_csrf(&expected, Some(&given)) {
            Ok(()) => Ok(request),
            Err(refusal) => Err(refused(app, refusal)),
        };
    }
    let is_form = content_type.is_some_and(|value| value.trim_start().starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(refused(app, Refusal::CsrfToken));
    }
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, FORM_LIMIT).await else {
        return Err((StatusCode::PAYLOAD_TOO_LARGE, "the form is larger than 64 KiB").into_response());
    };
    let given = url::form_urlencoded::parse(&bytes).find(|(key, _)| key == CSRF_FIELD).map(|(_, value)| value);
    match request::check_csrf(&expected, given.as_deref()) {
        Ok(()) => Ok(Request::from_parts(parts, Body::from(bytes))),
        Err(refusal) => Err(refused(app, refusal)),
    }
}

fn refused(app: &App, refusal: Refusal) -> Response {
    tracing::warn!(reason = refusal.code(), "state change refused");
    let message = match refusal {
        Refusal::ForeignOrigin | Refusal::NotSameOrigin => format!(
            "This change was not sent from a Wayfinder page at {}, so it was not made. If you opened Wayfinder \
             at another address, open {} instead and try again.",
            app.public_origin, app.public_origin
        ),
        Refusal::CsrfToken => "This form has expired or was not sent from your current session, so nothing was \
                               changed. Go back, reload the page and try again."
            .to_owned(),
        Refusal::NoSession => "Your browser sent no session with this change, so nothing was changed. Check that \
                               cookies are allowed for this site, then sign in and try again."
            .to_owned(),
    };
    let mut response = StatusCode::FORBIDDEN.into_response();
    response.extensions_mut().insert(ErrorPage {
        heading: "This request was refused",
        message,
        violations: Vec::new(),
    });
    response
}

/// Renders an error page, and clears a stale cookie.
fn finish(resolved: &Resolved, response: Response) -> Response {
    let mut response = render(resolved, response);
    if resolved.cookie_is_stale() && !response.headers().contains_key(header::SET_COOKIE) {
        response.headers_mut().append(header::SET_COOKIE, cleared_cookie());
    }
    response
}

/// A response carrying an [`ErrorPage`] as a full page in the layout, keeping its status and headers.
fn render(resolved: &Resolved, response: Response) -> Response {
    let Some(page) = response.extensions().get::<ErrorPage>().cloned() else { return response };
    let template = ErrorTemplate {
        layout: Layout::for_resolved(resolved, page.heading),
        heading: page.heading,
        message: page.message,
        violations: page.violations,
    };
    let (mut parts, _) = response.into_parts();
    let body = match template.render() {
        Ok(html) => html,
        Err(err) => {
            tracing::error!(error = %err, "rendering an error page");
            "Something went wrong.".to_owned()
        }
    };
    parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(body))
}
