//! One error taxonomy for every API (quickwit's `ServiceErrorCode` shape): each [`ApiError`] has an
//! [`ErrorCode`] whose one `match` gives both its gRPC status and its HTTP status. Internal errors are
//! logged once here, with context, and leave as a bare `INTERNAL` that reveals nothing.

use http::StatusCode;
use tonic::{Code, Status};
use tonic_types::StatusExt;

pub use wf_types::FieldViolation;

/// What kind of failure an [`ApiError`] is; the one place codes are mapped to transports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// A well-formed request with fields that break the contract (each named).
    InvalidArgument,
    /// A request that could not be read at all (not UTF-8, not JSON, wrong shape).
    Malformed,
    Unauthenticated,
    PermissionDenied,
    NotFound,
    AlreadyExists,
    /// The record is not in a state that allows this step (e.g. a closed referral).
    FailedPrecondition,
    /// A concurrent change won; reading again and retrying may succeed.
    Aborted,
    Unavailable,
    /// An operation the contract names whose behaviour is not built yet.
    Unimplemented,
    Internal,
}

impl ErrorCode {
    pub fn grpc(self) -> Code {
        match self {
            ErrorCode::InvalidArgument | ErrorCode::Malformed => Code::InvalidArgument,
            ErrorCode::Unauthenticated => Code::Unauthenticated,
            ErrorCode::PermissionDenied => Code::PermissionDenied,
            ErrorCode::NotFound => Code::NotFound,
            ErrorCode::AlreadyExists => Code::AlreadyExists,
            ErrorCode::FailedPrecondition => Code::FailedPrecondition,
            ErrorCode::Aborted => Code::Aborted,
            ErrorCode::Unavailable => Code::Unavailable,
            ErrorCode::Unimplemented => Code::Unimplemented,
            ErrorCode::Internal => Code::Internal,
        }
    }

    pub fn http(self) -> StatusCode {
        match self {
            // The body was read; what it says breaks the contract.
            ErrorCode::InvalidArgument => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::Malformed => StatusCode::BAD_REQUEST,
            ErrorCode::Unauthenticated => StatusCode::UNAUTHORIZED,
            ErrorCode::PermissionDenied => StatusCode::FORBIDDEN,
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::AlreadyExists | ErrorCode::FailedPrecondition | ErrorCode::Aborted => StatusCode::CONFLICT,
            ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Unimplemented => StatusCode::NOT_IMPLEMENTED,
            ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("invalid request")]
    InvalidArgument(Vec<FieldViolation>),
    #[error("malformed request: {}: {}", .0.field, .0.description)]
    Malformed(FieldViolation),
    #[error("{0}")]
    Unauthenticated(String),
    /// A role-level refusal ("role hotline may not read the audit log"). A record outside the
    /// caller's scope is [`ApiError::NotFound`] instead, so its existence does not leak.
    #[error("{0}")]
    PermissionDenied(String),
    /// Also used where the caller may not know the record exists (no existence leaks).
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    AlreadyExists(String),
    #[error("{0}")]
    FailedPrecondition(String),
    #[error("{0}")]
    Aborted(String),
    #[error("{0}")]
    Unavailable(String),
    #[error("{0}")]
    Unimplemented(String),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    pub fn internal(err: impl Into<anyhow::Error>) -> Self {
        ApiError::Internal(err.into())
    }

    /// One invalid field.
    pub fn invalid(field: impl Into<String>, description: impl Into<String>) -> Self {
        ApiError::InvalidArgument(vec![FieldViolation::new(field, description)])
    }

    /// `Ok(())` when nothing was found wrong, else every violation at once.
    pub fn check(violations: Vec<FieldViolation>) -> Result<(), ApiError> {
        if violations.is_empty() { Ok(()) } else { Err(ApiError::InvalidArgument(violations)) }
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            ApiError::InvalidArgument(_) => ErrorCode::InvalidArgument,
            ApiError::Malformed(_) => ErrorCode::Malformed,
            ApiError::Unauthenticated(_) => ErrorCode::Unauthenticated,
            ApiError::PermissionDenied(_) => ErrorCode::PermissionDenied,
            ApiError::NotFound(_) => ErrorCode::NotFound,
            ApiError::AlreadyExists(_) => ErrorCode::AlreadyExists,
            ApiError::FailedPrecondition(_) => ErrorCode::FailedPrecondition,
            ApiError::Aborted(_) => ErrorCode::Aborted,
            ApiError::Unavailable(_) => ErrorCode::Unavailable,
            ApiError::Unimplemented(_) => ErrorCode::Unimplemented,
            ApiError::Internal(_) => ErrorCode::Internal,
        }
    }

    /// The HTTP status of this error (the gRPC status is its `Into<Status>`).
    pub fn http(&self) -> StatusCode {
        self.code().http()
    }

    /// What the caller may be told: the message, or for an internal error only "internal error"
    /// (which is logged here, once, with its cause).
    pub fn public_message(&self) -> String {
        match self {
            ApiError::InvalidArgument(violations) => {
                violations.iter().map(|v| format!("{}: {}", v.field, v.description)).collect::<Vec<_>>().join("; ")
            }
            ApiError::NotFound(what) => format!("{what} not found"),
            ApiError::Internal(source) => {
                tracing::error!(error = format!("{source:#}"), "internal error");
                "internal error".to_owned()
            }
            other => other.to_string(),
        }
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

impl From<anyhow::Error> for ApiError {
    fn from(err: anyhow::Error) -> Self {
        ApiError::Internal(err)
    }
}

impl From<ApiError> for Status {
    fn from(err: ApiError) -> Self {
        let code = err.code().grpc();
        match &err {
            ApiError::InvalidArgument(violations) => {
                // The readable message for people, plus google.rpc.BadRequest for programs.
                let mut bad_request = tonic_types::ErrorDetails::new();
                for violation in violations {
                    bad_request.add_bad_request_violation(violation.field.clone(), violation.description.clone());
                }
                Status::with_error_details(code, err.public_message(), bad_request)
            }
            ApiError::Malformed(violation) => {
                let mut bad_request = tonic_types::ErrorDetails::new();
                bad_request.add_bad_request_violation(violation.field.clone(), violation.description.clone());
                Status::with_error_details(code, err.public_message(), bad_request)
            }
            _ => Status::new(code, err.public_message()),
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
    fn one_table_gives_both_statuses() {
        let cases: Vec<(ApiError, Code, u16)> = vec![
            (ApiError::invalid("referral.site", "must be set"), Code::InvalidArgument, 422),
            (ApiError::Malformed(FieldViolation::new("body", "is not JSON")), Code::InvalidArgument, 400),
            (ApiError::Unauthenticated("signature does not match".into()), Code::Unauthenticated, 401),
            (ApiError::PermissionDenied("role hotline may not read the audit log".into()), Code::PermissionDenied, 403),
            (ApiError::NotFound("referral ref_1".into()), Code::NotFound, 404),
            (ApiError::AlreadyExists("policy v3".into()), Code::AlreadyExists, 409),
            (ApiError::FailedPrecondition("referral is closed".into()), Code::FailedPrecondition, 409),
            (ApiError::Aborted("the offer changed meanwhile".into()), Code::Aborted, 409),
            (ApiError::Unavailable("retry shortly".into()), Code::Unavailable, 503),
            (ApiError::Unimplemented("RunAnalysis X arrives in a later step".into()), Code::Unimplemented, 501),
            (ApiError::internal(anyhow::anyhow!("disk full")), Code::Internal, 500),
        ];
        for (err, grpc, http) in cases {
            assert_eq!(err.http().as_u16(), http, "{err:?}");
            let message = err.public_message();
            let status: Status = err.into();
            assert_eq!(status.code(), grpc);
            assert_eq!(status.message(), message);
        }
    }

    #[test]
    fn messages_say_what_was_wrong() {
        let status: Status = ApiError::NotFound("referral ref_1".into()).into();
        assert_eq!(status.message(), "referral ref_1 not found");
        let status: Status = ApiError::PermissionDenied("role hotline may not read the audit log".into()).into();
        assert_eq!(status.message(), "role hotline may not read the audit log");
        assert!(ApiError::check(vec![]).is_ok());
    }

    #[test]
    fn internal_errors_do_not_leak() {
        let status: Status = ApiError::internal(anyhow::anyhow!("connection to 10.0.0.3 refused")).into();
        assert_eq!(status.code(), Code::Internal);
        assert_eq!(status.message(), "internal error");
    }
}
