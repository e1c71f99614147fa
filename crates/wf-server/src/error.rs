//! One error taxonomy for every API: each variant maps to one gRPC status (and
//! later one HTTP status). Internal errors are logged once here, with context,
//! and leave as a bare `INTERNAL` that reveals nothing.

use tonic::{Code, Status};
use tonic_types::StatusExt;

/// One problem with one field of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    /// Path of the field, e.g. `referral.personal.date_of_birth.month`.
    pub field: String,
    /// What was wrong and what is allowed.
    pub description: String,
}

impl FieldViolation {
    pub fn new(field: impl Into<String>, description: impl Into<String>) -> Self {
        Self { field: field.into(), description: description.into() }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("invalid request")]
    InvalidArgument(Vec<FieldViolation>),
    /// Also used where the caller may not know the record exists (no existence leaks).
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    FailedPrecondition(String),
    #[error("{0}")]
    Unavailable(String),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    pub fn internal(err: impl Into<anyhow::Error>) -> Self {
        ApiError::Internal(err.into())
    }
}

impl From<wf_db::DbError> for ApiError {
    fn from(err: wf_db::DbError) -> Self {
        if err.is_transient() {
            ApiError::Unavailable("storage is busy or unavailable, retry shortly".into())
        } else {
            ApiError::Internal(err.into())
        }
    }
}

impl From<wf_db::sqlx::Error> for ApiError {
    fn from(err: wf_db::sqlx::Error) -> Self {
        wf_db::DbError::from(err).into()
    }
}

impl From<ApiError> for Status {
    fn from(err: ApiError) -> Self {
        match err {
            ApiError::InvalidArgument(violations) => {
                let details: Vec<String> =
                    violations.iter().map(|v| format!("{}: {}", v.field, v.description)).collect();
                // The readable message for people, plus google.rpc.BadRequest for programs.
                let mut bad_request = tonic_types::ErrorDetails::new();
                for violation in &violations {
                    bad_request.add_bad_request_violation(violation.field.clone(), violation.description.clone());
                }
                Status::with_error_details(Code::InvalidArgument, details.join("; "), bad_request)
            }
            ApiError::NotFound(what) => Status::not_found(format!("{what} not found")),
            ApiError::FailedPrecondition(message) => Status::failed_precondition(message),
            ApiError::Unavailable(message) => Status::unavailable(message),
            ApiError::Internal(source) => {
                tracing::error!(error = format!("{source:#}"), "internal error");
                Status::internal("internal error")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn violations_name_each_field() {
        let status: Status = ApiError::InvalidArgument(vec![
            FieldViolation::new("referral.source", "must be set; allowed: REFERRAL_SOURCE_HOTLINE, …"),
            FieldViolation::new("referral.site", "must be set"),
        ])
        .into();
        assert_eq!(status.code(), Code::InvalidArgument);
        assert!(status.message().contains("referral.source: must be set"));
        assert!(status.message().contains("referral.site: must be set"));
        let details = status.get_error_details();
        let bad_request = details.bad_request().expect("BadRequest details");
        let fields: Vec<&str> = bad_request.field_violations.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(fields, vec!["referral.source", "referral.site"]);
        assert_eq!(bad_request.field_violations[1].description, "must be set");
    }

    #[test]
    fn internal_errors_do_not_leak() {
        let status: Status = ApiError::internal(anyhow::anyhow!("connection to 10.0.0.3 refused")).into();
        assert_eq!(status.code(), Code::Internal);
        assert_eq!(status.message(), "internal error");
    }
}
