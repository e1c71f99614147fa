//! `GET/POST /sign-in` and `POST /sign-out`.

use std::net::SocketAddr;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use serde::Deserialize;

use super::PageError;
use super::extract::{Visitor, cleared_cookie, redirect, session_cookie};
use super::layout::{FormErrors, Layout};
use crate::app::{App, Resolved, SignInAttempt, SignInRefusal};

/// The one message for every wrong credential: it never tells whether the account exists, is
/// disabled, or uses a code.
pub const SIGN_IN_FAILED: &str =
    "The username, password or authentication code is not right. Check them and try again.";

#[derive(Template, WebTemplate)]
#[template(path = "sign_in.html")]
pub struct SignInPage {
    pub layout: Layout,
    pub username: String,
    pub errors: FormErrors,
    /// Why the person is here (signed out, session ended).
    pub notice: Option<&'static str>,
    /// Why the last attempt failed.
    pub alert: Option<String>,
    /// The OpenID Connect provider's name, when people may sign in through it.
    pub oidc: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct SignInQuery {
    #[serde(default)]
    ended: Option<String>,
    /// `oidc`: signing in through the provider did not work.
    #[serde(default)]
    failed: Option<String>,
}

fn notice(ended: Option<&str>) -> Option<&'static str> {
    match ended? {
        "idle" => Some("You were signed out after 30 minutes without activity. Sign in again to continue."),
        "absolute" => Some("You were signed out: a session lasts at most 12 hours. Sign in again to continue."),
        "signed_out" => Some("You have signed out."),
        "ended" => Some("Your session has ended. Sign in again to continue."),
        _ => None,
    }
}

/// The provider's name for the sign-in page's second way in, when one is configured.
fn oidc_name(app: &App) -> Option<String> {
    app.oidc.as_ref().map(|oidc| oidc.display_name().to_owned())
}

fn with_cookie(mut response: Response, token: &str) -> Response {
    if let Some(cookie) = session_cookie(token) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// `GET /sign-in`: the form, on a visitor session of its own (started here when the request has none).
pub async fn form(
    State(app): State<App>,
    Visitor(resolved): Visitor,
    headers: HeaderMap,
    Query(query): Query<SignInQuery>,
) -> Result<Response, PageError> {
    let page = |csrf: &str| SignInPage {
        layout: Layout::for_visitor(Some(csrf), "Sign in"),
        username: String::new(),
        errors: FormErrors::default(),
        notice: notice(query.ended.as_deref()),
        alert: (query.failed.as_deref() == Some("oidc")).then(|| super::oidc::OIDC_FAILED.to_owned()),
        oidc: oidc_name(&app),
    };
    match &*resolved {
        Resolved::Person(who) if who.acknowledged => Ok(redirect(&headers, "/")),
        Resolved::Person(_) => Ok(redirect(&headers, "/acknowledge")),
        Resolved::Visitor(row) => Ok(page(&row.csrf_token).into_response()),
        _ => {
            let session = app.sessions.start_visitor().await?;
            Ok(with_cookie(page(&session.row.csrf_token).into_response(), &session.token))
        }
    }
}

#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    code: String,
}

/// `POST /sign-in` (its CSRF token and Origin were checked by the guard): a new session replacing
/// the visitor's, then the home page.
pub async fn submit(
    State(app): State<App>,
    Visitor(resolved): Visitor,
    client: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Result<Response, PageError> {
    let attempt = SignInAttempt {
        username: &form.username,
        password: &form.password,
        code: Some(form.code.as_str()).filter(|code| !code.trim().is_empty()),
        client: client.map(|Extension(ConnectInfo(addr))| app.client_address(addr.ip(), &headers)),
        replacing: resolved.session_id(),
    };
    let refusal = match app.sign_in(attempt).await {
        Ok((session, _account)) => return Ok(with_cookie(Redirect::to("/").into_response(), &session.token)),
        Err(refusal) => refusal,
    };
    let (status, errors, alert) = match refusal {
        SignInRefusal::Invalid(violations) => (StatusCode::UNPROCESSABLE_ENTITY, violations, None),
        SignInRefusal::Failed => (StatusCode::UNAUTHORIZED, Vec::new(), Some(SIGN_IN_FAILED.to_owned())),
        SignInRefusal::Wait { until } => {
            let minutes = (until - app.clock.now_micros()).max(1).saturating_add(59_999_999) / 60_000_000;
            let alert = format!(
                "Too many sign-in attempts. Try again in {minutes} minute{}.",
                if minutes == 1 { "" } else { "s" }
            );
            (StatusCode::TOO_MANY_REQUESTS, Vec::new(), Some(alert))
        }
        SignInRefusal::Locked => (
            StatusCode::TOO_MANY_REQUESTS,
            Vec::new(),
            Some(
                "Sign-in is locked after too many failed attempts. Ask your administrator to reset the password."
                    .to_owned(),
            ),
        ),
        SignInRefusal::Storage(err) => return Err(err.into()),
        SignInRefusal::Internal(err) => return Err(PageError::Internal(err)),
    };
    let page = SignInPage {
        layout: Layout::for_resolved(&resolved, "Sign in"),
        username: form.username.trim().to_owned(),
        errors: FormErrors::new(errors),
        notice: None,
        alert,
        oidc: oidc_name(&app),
    };
    Ok((status, page).into_response())
}

/// `POST /sign-out`: ends the session, and tells the browser to drop this site's cache, cookies
/// and storage, so Back shows nothing of what was open.
pub async fn sign_out(State(app): State<App>, Visitor(resolved): Visitor) -> Result<Response, PageError> {
    if let Some(session) = resolved.session_id() {
        app.sessions.end(session).await?;
        app.upstream.forget(session);
        tracing::info!(session_id = %session, "signed out");
    }
    let mut response = Redirect::to("/sign-in?ended=signed_out").into_response();
    let headers = response.headers_mut();
    headers.insert("clear-site-data", HeaderValue::from_static("\"cache\", \"cookies\", \"storage\""));
    headers.append(header::SET_COOKIE, cleared_cookie());
    Ok(response)
}
