//! `POST /session/extend` (the idle warning's "Stay signed in"), `GET /healthz`, and the fallback.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::PageError;
use super::extract::{Acknowledging, is_htmx, redirect};
use crate::app::{App, SignedIn};

pub async fn extend(
    State(app): State<App>,
    Acknowledging(who): Acknowledging,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    app.sessions.extend(&who.session_id).await?;
    // The script calls it with fetch (no page to show); a plain form post goes home.
    if is_htmx(&headers) || headers.contains_key("x-csrf-token") {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    Ok(redirect(&headers, "/"))
}

/// For container health checks: the gateway answers and its database does.
pub async fn healthz(State(app): State<App>) -> Response {
    match app.db.ping().await {
        Ok(()) => (StatusCode::OK, "ok").into_response(),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response(),
    }
}

/// Any other address: the one "not found" page (after sign-in; before it, the sign-in page).
pub async fn not_found(_who: SignedIn) -> PageError {
    PageError::NotFound
}
