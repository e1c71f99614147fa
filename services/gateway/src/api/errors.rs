//! What a handler answers when it cannot show its page. [`PageError`] carries the status; the
//! session guard renders it as a full page in the layout (`templates/error.html`), so a partner
//! asking for another partner's record gets exactly the page of a record that does not exist.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use wf_types::FieldViolation;

use crate::app::{SignedIn, UpstreamFailure};

#[derive(Debug)]
pub enum PageError {
    /// Does not exist, or is not the person's to see: one page for both.
    NotFound,
    /// The person's role may not do this (never for partners: they get [`PageError::NotFound`]).
    Forbidden(String),
    /// Fields that break the contract (a form usually shows these beside its fields instead).
    Invalid(Vec<FieldViolation>),
    /// Not allowed in the record's state, or it changed meanwhile.
    Conflict(String),
    /// The services or the database cannot be reached.
    Unavailable,
    /// Logged here with its cause; the person sees only that something went wrong.
    Internal(anyhow::Error),
}

/// The page a [`PageError`] asks the guard to render.
#[derive(Debug, Clone)]
pub struct ErrorPage {
    pub heading: &'static str,
    pub message: String,
    pub violations: Vec<FieldViolation>,
}

pub const NOT_FOUND_MESSAGE: &str =
    "There is nothing at this address that you can open. Check the address, or go back to the home page.";

impl PageError {
    pub fn status(&self) -> StatusCode {
        match self {
            PageError::NotFound => StatusCode::NOT_FOUND,
            PageError::Forbidden(_) => StatusCode::FORBIDDEN,
            PageError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            PageError::Conflict(_) => StatusCode::CONFLICT,
            PageError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            PageError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            PageError::NotFound => "NOT_FOUND",
            PageError::Forbidden(_) => "PERMISSION_DENIED",
            PageError::Invalid(_) => "INVALID_ARGUMENT",
            PageError::Conflict(_) => "FAILED_PRECONDITION",
            PageError::Unavailable => "UNAVAILABLE",
            PageError::Internal(_) => "INTERNAL",
        }
    }

    fn page(&self) -> ErrorPage {
        let (heading, message, violations) = match self {
            PageError::NotFound => ("Page not found", NOT_FOUND_MESSAGE.to_owned(), Vec::new()),
            PageError::Forbidden(why) => {
                ("You cannot do this", format!("Your role does not allow it ({why})."), Vec::new())
            }
            PageError::Invalid(violations) => {
                ("There is a problem", "Some of what was sent is not valid:".to_owned(), violations.clone())
            }
            PageError::Conflict(why) => (
                "This could not be done",
                format!("The record does not allow this now ({why}). Reload the page to see its current state."),
                Vec::new(),
            ),
            PageError::Unavailable => (
                "Wayfinder is not available",
                "Wayfinder cannot reach its services just now. Try again in a minute.".to_owned(),
                Vec::new(),
            ),
            PageError::Internal(err) => {
                tracing::error!(error = format!("{err:#}"), "internal error");
                (
                    "Something went wrong",
                    "Something went wrong on our side; nothing was changed by this request. Try again, and \
                     tell your administrator if it keeps happening."
                        .to_owned(),
                    Vec::new(),
                )
            }
        };
        ErrorPage { heading, message, violations }
    }

    /// The JSON answer of the same error (`/api/v1`): its code, a message and, for invalid
    /// requests, each field's violation, as gRPC's `BadRequest` lists them.
    pub fn json(&self) -> (StatusCode, Json<serde_json::Value>) {
        let page = self.page();
        let violations: Vec<serde_json::Value> = page
            .violations
            .iter()
            .map(|v| serde_json::json!({ "field": v.field, "description": v.description }))
            .collect();
        (
            self.status(),
            Json(serde_json::json!({ "code": self.code(), "message": page.message, "violations": violations })),
        )
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let page = self.page();
        // The plain body is replaced by the rendered page in the session guard.
        let mut response = (self.status(), page.message.clone()).into_response();
        response.extensions_mut().insert(page);
        response
    }
}

impl From<UpstreamFailure> for PageError {
    fn from(failure: UpstreamFailure) -> Self {
        match failure {
            UpstreamFailure::NotFound => PageError::NotFound,
            UpstreamFailure::Forbidden(why) => PageError::Forbidden(why),
            UpstreamFailure::Invalid(violations) => PageError::Invalid(violations),
            UpstreamFailure::Conflict(why) => PageError::Conflict(why),
            UpstreamFailure::Unavailable => PageError::Unavailable,
            UpstreamFailure::Internal(err) => PageError::Internal(err),
        }
    }
}

impl From<wf_db::DbError> for PageError {
    fn from(err: wf_db::DbError) -> Self {
        if err.is_transient() { PageError::Unavailable } else { PageError::Internal(err.into()) }
    }
}

impl From<crate::app::AccountError> for PageError {
    fn from(err: crate::app::AccountError) -> Self {
        match err {
            crate::app::AccountError::Storage(db) => db.into(),
            other => PageError::Internal(anyhow::anyhow!("{other}")),
        }
    }
}

/// A services call's answer as a page result, for the person it was made for:
/// `client.get_case(request).await.or_page(&who)?`.
pub trait OrPage<T> {
    fn or_page(self, who: &SignedIn) -> Result<T, PageError>;
}

impl<T> OrPage<T> for Result<tonic::Response<T>, tonic::Status> {
    fn or_page(self, who: &SignedIn) -> Result<T, PageError> {
        self.map(tonic::Response::into_inner).map_err(|status| UpstreamFailure::from_status(status, who).into())
    }
}

/// `templates/error.html`.
#[derive(askama::Template)]
#[template(path = "error.html")]
pub struct ErrorTemplate {
    pub layout: super::layout::Layout,
    pub heading: &'static str,
    pub message: String,
    pub violations: Vec<FieldViolation>,
}
