//! One error taxonomy for every API (quickwit's `ServiceErrorCode` shape): each [`ApiError`] has an
//! [`ErrorCode`] whose one `match` gives both its gRPC status and its HTTP status. Internal errors are
//! logged once here, with context, and leave as a bare `INTERNAL` that reveals nothing.
//!
//! What an answer shows is bounded here, once, for every service: at most [`MAX_LISTED_VIOLATIONS`]
//! violations are listed and the rest counted ([`ListedViolations`]), and a word longer than
//! [`MAX_SHOWN_ID_CHARS`] in a message (an id a caller sent) is not repeated but described by its
//! length ([`shown`]).

use http::StatusCode;
use tonic::{Code, Status};
use tonic_types::StatusExt;

pub use wf_types::FieldViolation;

/// An answer lists at most this many violations; the rest are counted ("… and 4,900 more").
pub const MAX_LISTED_VIOLATIONS: usize = 100;
/// …and a gRPC answer stops listing earlier once the listed text passes this many bytes: gRPC carries
/// the message (and, in `grpc-status-details-bin`, the message again and the violations) in HTTP/2
/// headers, which clients cap at 16 KiB (hyper's default); over the cap the caller gets a protocol
/// error instead of the answer. An HTTP body has no such limit ([`ListedViolations::in_body`]).
pub const MAX_LISTED_BYTES: usize = 2_500;
/// A field path or description longer than this many characters is cut, ending in "…".
pub const MAX_VIOLATION_TEXT_CHARS: usize = 200;
/// A word longer than this many characters in a message (an id, usually one the caller sent) is
/// shown as "(an id of N characters)" instead. Wayfinder's own ids are under 40.
pub const MAX_SHOWN_ID_CHARS: usize = 64;
/// A message naming a record (e.g. "referral ref_… not found") is cut after this many characters.
pub const MAX_MESSAGE_CHARS: usize = 300;

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
    #[error("malformed request: {}: {}", cut(&.0.field), cut(&.0.description))]
    Malformed(FieldViolation),
    #[error("{}", shown(.0))]
    Unauthenticated(String),
    /// A role-level refusal ("role hotline may not read the audit log"). A record outside the
    /// caller's scope is [`ApiError::NotFound`] instead, so its existence does not leak.
    #[error("{}", shown(.0))]
    PermissionDenied(String),
    /// Also used where the caller may not know the record exists (no existence leaks). An id in it
    /// longer than [`MAX_SHOWN_ID_CHARS`] is not repeated ([`shown`]).
    #[error("{} not found", shown(.0))]
    NotFound(String),
    #[error("{}", shown(.0))]
    AlreadyExists(String),
    #[error("{}", shown(.0))]
    FailedPrecondition(String),
    #[error("{}", shown(.0))]
    Aborted(String),
    #[error("{}", shown(.0))]
    Unavailable(String),
    #[error("{}", shown(.0))]
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

    /// The violations of an invalid or malformed request as a gRPC answer lists them (in its
    /// headers, [`ListedViolations::in_headers`]), and how many it only counts.
    pub fn listed_violations(&self) -> Option<ListedViolations> {
        self.violations().map(ListedViolations::in_headers)
    }

    /// The same for an HTTP body ([`ListedViolations::in_body`]): what a JSON answer lists.
    pub fn listed_violations_in_body(&self) -> Option<ListedViolations> {
        self.violations().map(ListedViolations::in_body)
    }

    fn violations(&self) -> Option<&[FieldViolation]> {
        match self {
            ApiError::InvalidArgument(violations) => Some(violations),
            ApiError::Malformed(violation) => Some(std::slice::from_ref(violation)),
            _ => None,
        }
    }

    /// What the caller may be told: the message, or for an internal error only "internal error"
    /// (which is logged here, once, with its cause). Bounded: violations as [`ListedViolations`],
    /// ids as [`shown`].
    pub fn public_message(&self) -> String {
        match self {
            ApiError::InvalidArgument(violations) => ListedViolations::in_headers(violations).message(),
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
        match err.listed_violations() {
            // The readable message for people, plus google.rpc.BadRequest for programs (and, when
            // some were left out, google.rpc.ErrorInfo counting them).
            Some(listed) => {
                let mut details = tonic_types::ErrorDetails::new();
                for violation in &listed.listed {
                    details.add_bad_request_violation(violation.field.clone(), violation.description.clone());
                }
                if listed.more > 0 {
                    let counts = [
                        ("listed".to_owned(), listed.listed.len().to_string()),
                        ("not_listed".to_owned(), listed.more.to_string()),
                    ];
                    details.set_error_info("VIOLATIONS_NOT_LISTED", "wayfinder", counts);
                }
                Status::with_error_details(code, err.public_message(), details)
            }
            None => Status::new(code, err.public_message()),
        }
    }
}

/// The violations an answer lists (the first [`MAX_LISTED_VIOLATIONS`], each cut to
/// [`MAX_VIOLATION_TEXT_CHARS`]) and how many more it only counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListedViolations {
    pub listed: Vec<FieldViolation>,
    /// How many violations were found but not listed.
    pub more: usize,
}

impl ListedViolations {
    /// For a gRPC answer: also fewer once the listed text passes [`MAX_LISTED_BYTES`] (the first is
    /// always listed).
    pub fn in_headers(violations: &[FieldViolation]) -> Self {
        Self::first(violations, MAX_LISTED_BYTES)
    }

    /// For an HTTP body.
    pub fn in_body(violations: &[FieldViolation]) -> Self {
        Self::first(violations, usize::MAX)
    }

    fn first(violations: &[FieldViolation], max_bytes: usize) -> Self {
        let mut listed = Vec::new();
        let mut bytes: usize = 0;
        for violation in violations.iter().take(MAX_LISTED_VIOLATIONS) {
            let violation = FieldViolation::new(cut(&violation.field), cut(&violation.description));
            bytes = bytes.saturating_add(violation.field.len() + violation.description.len() + 4);
            if bytes > max_bytes && !listed.is_empty() {
                break;
            }
            listed.push(violation);
        }
        let more = violations.len() - listed.len();
        ListedViolations { listed, more }
    }

    /// `field: description; …`, then "… and 4,900 more" when some were left out.
    pub fn message(&self) -> String {
        let mut message =
            self.listed.iter().map(|v| format!("{}: {}", v.field, v.description)).collect::<Vec<_>>().join("; ");
        if self.more > 0 {
            message.push_str(&format!("; … and {} more", thousands(self.more)));
        }
        message
    }
}

/// `text` as an answer may show it: each word longer than [`MAX_SHOWN_ID_CHARS`] replaced by
/// "(an id of N characters)", and the whole cut after [`MAX_MESSAGE_CHARS`] ("…"), so a caller who
/// sends a 200 KB id does not get it back (nor does the log).
pub fn shown(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find(|c: char| !c.is_whitespace()) {
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let word = &rest[..end];
        if word.chars().nth(MAX_SHOWN_ID_CHARS).is_some() {
            out.push_str(&format!("(an id of {} characters)", thousands(word.chars().count())));
        } else {
            out.push_str(word);
        }
        rest = &rest[end..];
        if out.chars().nth(MAX_MESSAGE_CHARS).is_some() {
            // over the limit: the cut below marks that something was left out
            return cut_to(&out, MAX_MESSAGE_CHARS);
        }
    }
    out.push_str(rest);
    cut_to(&out, MAX_MESSAGE_CHARS)
}

/// `text` cut to [`MAX_VIOLATION_TEXT_CHARS`].
fn cut(text: &str) -> String {
    cut_to(text, MAX_VIOLATION_TEXT_CHARS)
}

/// `text` if it has at most `max` characters, else its first `max - 1` and "…".
fn cut_to(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_owned(),
        Some(_) => {
            let end = text.char_indices().nth(max.saturating_sub(1)).map_or(text.len(), |(i, _)| i);
            format!("{}…", &text[..end])
        }
    }
}

/// `4900` as "4,900".
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
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

    /// The size HTTP/2 counts for a header list (RFC 7540 §6.5.2): name + value + 32 per field.
    fn header_list_size(status: &Status) -> usize {
        let mut headers = http::HeaderMap::new();
        status.add_header(&mut headers).expect("headers");
        headers.iter().map(|(name, value)| name.as_str().len() + value.len() + 32).sum()
    }

    #[test]
    fn thousands_of_violations_list_the_first_hundred_and_count_the_rest() {
        let violations: Vec<FieldViolation> =
            (0..5_000).map(|i| FieldViolation::new(format!("a[{i}]"), "must be set")).collect();
        let err = ApiError::InvalidArgument(violations);
        let message = err.public_message();
        assert!(message.starts_with("a[0]: must be set; a[1]: must be set; "), "{message}");
        assert!(message.contains("a[99]: must be set; … and 4,900 more"), "{message}");
        assert!(!message.contains("a[100]"));
        let listed = err.listed_violations().expect("listed");
        assert_eq!((listed.listed.len(), listed.more), (100, 4_900));
        let in_body = err.listed_violations_in_body().expect("listed");
        assert_eq!((in_body.listed.len(), in_body.more), (100, 4_900));

        let status: Status = err.into();
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(status.message(), message);
        let details = status.get_error_details();
        assert_eq!(details.bad_request().expect("BadRequest").field_violations.len(), 100);
        let info = details.error_info().expect("ErrorInfo counts the rest");
        assert_eq!(info.reason, "VIOLATIONS_NOT_LISTED");
        assert_eq!(info.metadata.get("not_listed").map(String::as_str), Some("4900"));
        assert_eq!(info.metadata.get("listed").map(String::as_str), Some("100"));
    }

    #[test]
    fn a_hundred_violations_or_fewer_are_all_listed_without_a_count() {
        let violations: Vec<FieldViolation> =
            (0..100).map(|i| FieldViolation::new(format!("a[{i}]"), "must be set")).collect();
        let status: Status = ApiError::InvalidArgument(violations).into();
        assert!(!status.message().contains("more"));
        assert!(status.message().ends_with("a[99]: must be set"));
        assert_eq!(status.get_error_details().bad_request().unwrap().field_violations.len(), 100);
        assert!(status.get_error_details().error_info().is_none());
    }

    #[test]
    fn long_violations_stay_within_what_a_client_accepts_in_headers() {
        // realistic paths, long descriptions, many spaces (percent-encoded to three bytes each)
        let violations: Vec<FieldViolation> = (0..5_000)
            .map(|i| {
                FieldViolation::new(
                    format!("referral.youth.guardians[{i}].contact.phones[3].number"),
                    "must be at most 30 characters of digits, spaces, plus and dashes; ".repeat(10),
                )
            })
            .collect();
        let err = ApiError::InvalidArgument(violations);
        let listed = err.listed_violations().unwrap();
        assert!(listed.listed.len() >= 5, "{}", listed.listed.len());
        assert_eq!(listed.listed.len() + listed.more, 5_000);
        assert!(listed.listed.iter().all(|v| v.description.chars().count() <= MAX_VIOLATION_TEXT_CHARS));
        assert!(listed.listed[0].description.ends_with('…'));
        // a body has room for the first hundred, each cut
        let in_body = err.listed_violations_in_body().unwrap();
        assert_eq!((in_body.listed.len(), in_body.more), (100, 4_900));
        assert!(in_body.listed.iter().all(|v| v.description.chars().count() <= MAX_VIOLATION_TEXT_CHARS));
        let status: Status = err.into();
        // hyper's client refuses header lists over 16 KiB; stay well under
        let size = header_list_size(&status);
        assert!(size < 12 * 1024, "{size} bytes of headers");

        // one enormous violation is cut, not dropped
        let status: Status = ApiError::invalid("x".repeat(100_000), "y ".repeat(100_000)).into();
        assert!(header_list_size(&status) < 4 * 1024);
        assert!(status.message().starts_with("xxx"));
    }

    #[test]
    fn a_not_found_never_echoes_a_long_id() {
        let id = "r".repeat(200_000);
        let err = ApiError::NotFound(format!("referral {id}"));
        assert_eq!(err.public_message(), "referral (an id of 200,000 characters) not found");
        assert_eq!(err.to_string(), "referral (an id of 200,000 characters) not found");
        let status: Status = err.into();
        assert_eq!(status.code(), Code::NotFound);
        assert_eq!(status.message(), "referral (an id of 200,000 characters) not found");

        // an id of 64 characters is still shown, 65 is not
        let ok = "a".repeat(64);
        assert_eq!(ApiError::NotFound(format!("case {ok}")).public_message(), format!("case {ok} not found"));
        let long = "é".repeat(65);
        assert_eq!(
            ApiError::NotFound(format!("case {long}")).public_message(),
            "case (an id of 65 characters) not found"
        );

        // a long id made of short words is cut instead
        let spaced = "ab ".repeat(100_000);
        let message = ApiError::NotFound(format!("referral {spaced}")).public_message();
        assert!(message.chars().count() <= MAX_MESSAGE_CHARS + " not found".len(), "{}", message.len());
        assert!(message.ends_with("… not found"), "{message}");
    }

    #[test]
    fn every_message_hides_long_ids() {
        let id = "x".repeat(1_000);
        for err in [
            ApiError::PermissionDenied(format!("not yours: {id}")),
            ApiError::AlreadyExists(format!("policy {id}")),
            ApiError::FailedPrecondition(format!("referral {id} is closed")),
            ApiError::Aborted(format!("offer {id} changed")),
            ApiError::Unavailable(format!("{id} busy")),
            ApiError::Unimplemented(format!("{id} later")),
            ApiError::Unauthenticated(id.clone()),
            ApiError::Malformed(FieldViolation::new(id.clone(), "is not JSON")),
        ] {
            let message = err.public_message();
            assert!(!message.contains(&id), "{message}");
            assert!(message.len() < 400, "{message}");
            let status: Status = err.into();
            assert!(!status.message().contains(&id));
        }
        assert_eq!(
            ApiError::FailedPrecondition(format!("referral {id} is closed")).public_message(),
            "referral (an id of 1,000 characters) is closed"
        );
    }

    #[test]
    fn counts_are_written_with_thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(4_900), "4,900");
        assert_eq!(thousands(200_000), "200,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn internal_errors_do_not_leak() {
        let status: Status = ApiError::internal(anyhow::anyhow!("connection to 10.0.0.3 refused")).into();
        assert_eq!(status.code(), Code::Internal);
        assert_eq!(status.message(), "internal error");
    }
}
