//! The JSON API's one error shape, and the one table from a refusal to its HTTP status:
//!
//! ```json
//! {"error": {"code": "invalid_argument", "message": "…",
//!            "field_violations": [{"field": "triage_tier", "description": "…"}]}}
//! ```
//!
//! `code` is the gRPC status name in snake case (what the services answered, or what the gateway
//! decided before calling them); `field_violations` lists gRPC's `BadRequest` field violations and is
//! empty for every other code. A partner's `PERMISSION_DENIED` is `not_found` with the very body of
//! an id that does not exist. Internal errors are logged here, once, and answered without detail.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;
use wf_types::FieldViolation;

use crate::app::UpstreamFailure;

/// What went wrong, as the services' gRPC codes name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    InvalidArgument,
    /// The body is over the size limit.
    ResourceExhausted,
    /// The body is not JSON (`Content-Type`).
    UnsupportedMediaType,
    NotFound,
    PermissionDenied,
    FailedPrecondition,
    Aborted,
    AlreadyExists,
    Unauthenticated,
    Unavailable,
    Internal,
}

impl Code {
    /// The one table: each code's HTTP status.
    pub fn http_status(self) -> StatusCode {
        match self {
            Code::InvalidArgument => StatusCode::UNPROCESSABLE_ENTITY,
            Code::ResourceExhausted => StatusCode::PAYLOAD_TOO_LARGE,
            Code::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Code::NotFound => StatusCode::NOT_FOUND,
            Code::PermissionDenied => StatusCode::FORBIDDEN,
            Code::FailedPrecondition | Code::Aborted | Code::AlreadyExists => StatusCode::CONFLICT,
            Code::Unauthenticated => StatusCode::UNAUTHORIZED,
            Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Code::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Code::InvalidArgument => "invalid_argument",
            Code::ResourceExhausted => "resource_exhausted",
            Code::UnsupportedMediaType => "unsupported_media_type",
            Code::NotFound => "not_found",
            Code::PermissionDenied => "permission_denied",
            Code::FailedPrecondition => "failed_precondition",
            Code::Aborted => "aborted",
            Code::AlreadyExists => "already_exists",
            Code::Unauthenticated => "unauthenticated",
            Code::Unavailable => "unavailable",
            Code::Internal => "internal",
        }
    }
}

pub const NOT_FOUND_MESSAGE: &str =
    "there is nothing at this address that you can open: check the id, and that it is one you may see";
pub const UNAUTHENTICATED_MESSAGE: &str = "this request carries no credential the gateway accepts: sign in \
     (the session cookie, and the X-CSRF-Token header on every change) or send Authorization: Bearer with a \
     current user or partner token";
const UNAVAILABLE_MESSAGE: &str = "Wayfinder cannot reach its services just now; try again in a minute";
const INTERNAL_MESSAGE: &str = "something went wrong on our side; nothing was changed by this request. Try again, and tell your administrator \
     if it keeps happening";

/// A refusal of the JSON API.
#[derive(Debug)]
pub struct ApiError {
    pub code: Code,
    pub message: String,
    pub violations: Vec<FieldViolation>,
}

/// The body of every error answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// The gRPC status name in snake case: `invalid_argument`, `not_found`, `permission_denied`,
    /// `failed_precondition`, `aborted`, `already_exists`, `unauthenticated`, `unavailable`,
    /// `resource_exhausted` (body too large), `unsupported_media_type`, `internal`.
    #[schema(example = "invalid_argument")]
    pub code: &'static str,
    pub message: String,
    /// Each field that broke the contract (`invalid_argument` only; empty otherwise).
    pub field_violations: Vec<Violation>,
}

/// One field that broke the contract, as gRPC's `BadRequest.FieldViolation`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Violation {
    /// The field's path in the request body, or the query parameter's name (`triage_tier`,
    /// `outcomes.living_situation`, `status`).
    #[schema(example = "triage_tier")]
    pub field: String,
    /// What was wrong and what is allowed.
    pub description: String,
}

impl ApiError {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        ApiError { code, message: message.into(), violations: Vec::new() }
    }

    /// Does not exist, or is not the caller's to see: one body for both.
    pub fn not_found() -> Self {
        ApiError::new(Code::NotFound, NOT_FOUND_MESSAGE)
    }

    pub fn unauthenticated() -> Self {
        ApiError::new(Code::Unauthenticated, UNAUTHENTICATED_MESSAGE)
    }

    pub fn forbidden(why: impl Into<String>) -> Self {
        ApiError::new(Code::PermissionDenied, why)
    }

    pub fn invalid(violations: Vec<FieldViolation>) -> Self {
        let fields: Vec<&str> = violations.iter().map(|v| v.field.as_str()).collect();
        let message = format!("the request is not valid: see field_violations ({})", fields.join(", "));
        ApiError { code: Code::InvalidArgument, message, violations }
    }

    pub fn invalid_field(field: impl Into<String>, description: impl Into<String>) -> Self {
        ApiError::invalid(vec![FieldViolation::new(field, description)])
    }

    pub fn unavailable() -> Self {
        ApiError::new(Code::Unavailable, UNAVAILABLE_MESSAGE)
    }

    /// Logged here with its cause; the caller is told only that something went wrong.
    pub fn internal(err: anyhow::Error) -> Self {
        tracing::error!(error = format!("{err:#}"), "internal error (json api)");
        ApiError::new(Code::Internal, INTERNAL_MESSAGE)
    }

    /// A gRPC status the services answered, for a caller who is a partner or not and who brought
    /// their own bearer token or not.
    pub fn from_status(status: tonic::Status, partner: bool, bearer: bool) -> Self {
        use tonic::Code as Grpc;
        match status.code() {
            Grpc::NotFound => ApiError::not_found(),
            Grpc::PermissionDenied if partner => ApiError::not_found(),
            Grpc::PermissionDenied => ApiError::forbidden(status.message()),
            Grpc::InvalidArgument | Grpc::OutOfRange => {
                use tonic_types::StatusExt as _;
                let mut violations: Vec<FieldViolation> = status
                    .get_error_details()
                    .bad_request()
                    .map(|bad| {
                        bad.field_violations
                            .iter()
                            .map(|v| FieldViolation::new(v.field.clone(), v.description.clone()))
                            .collect()
                    })
                    .unwrap_or_default();
                if violations.is_empty() {
                    violations.push(FieldViolation::new("request", status.message()));
                }
                ApiError::invalid(violations)
            }
            Grpc::FailedPrecondition => ApiError::new(Code::FailedPrecondition, status.message()),
            Grpc::Aborted => ApiError::new(Code::Aborted, status.message()),
            Grpc::AlreadyExists => ApiError::new(Code::AlreadyExists, status.message()),
            // The caller's own token, refused by the services (it expired on the way): theirs to renew.
            Grpc::Unauthenticated if bearer => ApiError::unauthenticated(),
            Grpc::Unavailable | Grpc::DeadlineExceeded | Grpc::ResourceExhausted | Grpc::Cancelled => {
                ApiError::unavailable()
            }
            // A token the gateway minted and the services refuse is the gateway's fault.
            code => ApiError::internal(anyhow::anyhow!("upstream answered {code:?}: {}", status.message())),
        }
    }

    fn body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: self.code.as_str(),
                message: self.message.clone(),
                field_violations: self
                    .violations
                    .iter()
                    .map(|v| Violation { field: v.field.clone(), description: v.description.clone() })
                    .collect(),
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.code.http_status(), Json(self.body())).into_response();
        if self.code == Code::Unauthenticated {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"wayfinder\""));
        }
        response
    }
}

impl From<UpstreamFailure> for ApiError {
    fn from(failure: UpstreamFailure) -> Self {
        match failure {
            UpstreamFailure::NotFound => ApiError::not_found(),
            UpstreamFailure::Forbidden(why) => ApiError::forbidden(why),
            UpstreamFailure::Invalid(violations) => ApiError::invalid(violations),
            UpstreamFailure::Conflict(why) => ApiError::new(Code::FailedPrecondition, why),
            UpstreamFailure::Unavailable => ApiError::unavailable(),
            UpstreamFailure::Internal(err) => ApiError::internal(err),
        }
    }
}

impl From<wf_db::DbError> for ApiError {
    fn from(err: wf_db::DbError) -> Self {
        if err.is_transient() { ApiError::unavailable() } else { ApiError::internal(err.into()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_grpc_code_has_its_http_status() {
        let of = |status: tonic::Status, partner: bool, bearer: bool| ApiError::from_status(status, partner, bearer);
        assert_eq!(of(tonic::Status::not_found("x"), false, false).code, Code::NotFound);
        assert_eq!(of(tonic::Status::permission_denied("x"), false, false).code.http_status(), StatusCode::FORBIDDEN);
        assert_eq!(of(tonic::Status::permission_denied("x"), true, false).code, Code::NotFound);
        assert_eq!(of(tonic::Status::failed_precondition("x"), false, false).code.http_status(), StatusCode::CONFLICT);
        assert_eq!(of(tonic::Status::aborted("x"), false, false).code.http_status(), StatusCode::CONFLICT);
        assert_eq!(
            of(tonic::Status::unavailable("x"), false, false).code.http_status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(of(tonic::Status::unauthenticated("x"), false, true).code.http_status(), StatusCode::UNAUTHORIZED);
        let internal = of(tonic::Status::unauthenticated("secret detail"), false, false);
        assert_eq!(internal.code.http_status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!internal.message.contains("secret detail"), "internals never reach the caller");
        let invalid = of(tonic::Status::invalid_argument("bad"), false, false);
        assert_eq!(invalid.code.http_status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(invalid.violations[0].field, "request");
    }

    #[test]
    fn a_partners_refusal_is_the_body_of_an_unknown_id() {
        let refused = ApiError::from_status(tonic::Status::permission_denied("not yours"), true, false);
        let unknown = ApiError::not_found();
        assert_eq!(serde_json::to_string(&refused.body()).unwrap(), serde_json::to_string(&unknown.body()).unwrap());
    }
}
