//! The hotline webhook: `POST /v1/hotline/referrals` on intake's own HTTP port. The
//! body is the JSON form of `SubmitReferralRequest`, signed by the hotline with a
//! shared secret: `X-Wayfinder-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>`.
//! Signatures more than 5 minutes from now are refused, so a captured request cannot be
//! replayed later; within that window a replay is answered as a duplicate (same id,
//! nothing stored twice). Nothing is stored on any refusal.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;
use wf_auth::Role;
use wf_crypto::SharedSecrets;
use wf_proto::intake::v1 as pb;
use wf_proto::json::JsonError;
use wf_server::ApiError;
use wf_types::FieldViolation;

use crate::app::App;
use crate::app::submit::{Submitter, submit};

pub const PATH: &str = "/v1/hotline/referrals";
pub const MAX_BODY_BYTES: usize = 256 * 1024;
/// How far a signed timestamp may be from now, either way.
pub const MAX_SKEW_SECONDS: i64 = 300;
pub const KEY_ID_HEADER: &str = "x-wayfinder-key-id";
pub const TIMESTAMP_HEADER: &str = "x-wayfinder-timestamp";
pub const SIGNATURE_HEADER: &str = "x-wayfinder-signature";

pub struct WebhookState {
    pub app: App,
    pub secrets: Arc<SharedSecrets>,
}

pub fn router(state: Arc<WebhookState>) -> Router {
    Router::new().route(PATH, post(receive)).layer(DefaultBodyLimit::max(MAX_BODY_BYTES)).with_state(state)
}

/// Why a request was not authenticated. Answers say which check failed, never a secret.
#[derive(Debug, PartialEq, Eq)]
pub enum SignatureError {
    MissingHeader(&'static str),
    UnknownKeyId,
    BadTimestamp,
    Stale { age_seconds: i64 },
    MalformedSignature,
    Mismatch,
}

impl std::fmt::Display for SignatureError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SignatureError::MissingHeader(name) => write!(f, "header {name} is required"),
            SignatureError::UnknownKeyId => write!(f, "{KEY_ID_HEADER} names no configured key"),
            SignatureError::BadTimestamp => write!(f, "{TIMESTAMP_HEADER} must be unix seconds"),
            SignatureError::Stale { age_seconds } => write!(
                f,
                "{TIMESTAMP_HEADER} is {age_seconds} seconds from now; allowed within {MAX_SKEW_SECONDS} seconds"
            ),
            SignatureError::MalformedSignature => {
                write!(f, "{SIGNATURE_HEADER} must be sha256=<64 lowercase hex digits>")
            }
            SignatureError::Mismatch => write!(f, "{SIGNATURE_HEADER} does not match the body and timestamp"),
        }
    }
}

/// HMAC-SHA256 over `timestamp "." body`, what a hotline signs.
fn signed_mac(secret: &[u8], timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The signature a hotline sends: hex HMAC-SHA256 over `timestamp "." body`.
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    format!("sha256={}", hex::encode(signed_mac(secret, timestamp, body).finalize().into_bytes()))
}

fn header<'a>(headers: &'a HeaderMap, name: &'static str) -> Result<&'a str, SignatureError> {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(str::trim)
        .filter(|value| !value.is_empty())
        .ok_or(SignatureError::MissingHeader(name))
}

/// Checks key id, freshness and signature; returns the key id. The comparison is constant-time.
pub fn verify(secrets: &SharedSecrets, headers: &HeaderMap, body: &[u8], now: i64) -> Result<String, SignatureError> {
    let key_id = header(headers, KEY_ID_HEADER)?;
    let timestamp = header(headers, TIMESTAMP_HEADER)?;
    let signature = header(headers, SIGNATURE_HEADER)?;
    let secret = secrets.get(key_id).ok_or(SignatureError::UnknownKeyId)?;
    let timestamp: i64 = timestamp.parse().map_err(|_| SignatureError::BadTimestamp)?;
    let age_seconds = now.saturating_sub(timestamp);
    if age_seconds.abs() > MAX_SKEW_SECONDS {
        return Err(SignatureError::Stale { age_seconds });
    }
    let given = signature
        .strip_prefix("sha256=")
        .and_then(|hex_digits| hex::decode(hex_digits).ok())
        .filter(|bytes| bytes.len() == 32)
        .ok_or(SignatureError::MalformedSignature)?;
    signed_mac(secret, timestamp, body).verify_slice(&given).map_err(|_| SignatureError::Mismatch)?;
    Ok(key_id.to_owned())
}

/// The field a JSON error is about, as a path into `SubmitReferralRequest`, and what that field
/// takes. Never a submitted value: not a misspelt key (it may be a name), not the text of a value of the
/// wrong type (`invalid type: string "+1-555-…"`), only the path and what the field expects (both from
/// the descriptor, as `wf_proto::json` reports them).
pub fn json_error_field(err: &JsonError) -> (String, String) {
    match err {
        JsonError::UnknownField { path, field } => {
            // The path ends with the unknown key; name the object that holds it instead.
            let parent = path.strip_suffix(field.as_str()).unwrap_or_default().trim_end_matches('.');
            (
                field_or_body(parent),
                "has a key that is not a field of this message; check the spelling (JSON names are lowerCamelCase)"
                    .to_owned(),
            )
        }
        JsonError::InvalidEnumValue { path, enum_name, .. } => {
            (path.clone(), format!("is not a value of {enum_name}; use the value names of the proto"))
        }
        JsonError::Syntax(source) => {
            ("body".to_owned(), format!("is not JSON (line {}, column {})", source.line(), source.column()))
        }
        JsonError::Invalid { path, expected, .. } => {
            (field_or_body(path), format!("has the wrong type or form; {expected}"))
        }
        _ => ("body".to_owned(), "does not fit SubmitReferralRequest".to_owned()),
    }
}

fn field_or_body(path: &str) -> String {
    if path.is_empty() || path == "." { "body".to_owned() } else { path.to_owned() }
}

/// Whether the request says its body is JSON (`application/json`, parameters such as a charset allowed).
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|media_type| media_type.trim().eq_ignore_ascii_case("application/json"))
}

fn answer(status: StatusCode, body: serde_json::Value) -> Response {
    (status, axum::Json(body)).into_response()
}

/// A refusal: the status from the one error code table (`ApiError::http`), the body as hotlines
/// read it (the violations of an invalid referral by field; for an internal error nothing internal).
fn refusal(err: &ApiError) -> Response {
    answer(err.http(), refusal_body(err))
}

/// The JSON body of a refusal: field paths and rules, never the values sent.
fn refusal_body(err: &ApiError) -> serde_json::Value {
    match err {
        ApiError::InvalidArgument(_) => {
            // the first 100 and a count of the rest, as on gRPC
            let listed = err.listed_violations_in_body().unwrap_or_default();
            let violations: Vec<_> =
                listed.listed.iter().map(|v| json!({ "field": v.field, "description": v.description })).collect();
            json!({ "error": "invalid referral", "violations": violations, "not_listed": listed.more })
        }
        ApiError::Malformed(violation) => {
            json!({ "error": "malformed request", "field": violation.field, "description": violation.description })
        }
        other => json!({ "error": other.public_message() }),
    }
}

async fn receive(State(state): State<Arc<WebhookState>>, headers: HeaderMap, body: Bytes) -> Response {
    match accept(&state, &headers, &body).await {
        Err(Refused::NotJson) => answer(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            json!({
                "error": "unsupported media type",
                "field": "Content-Type",
                "description": "must be application/json",
            }),
        ),
        Err(Refused::Api(err)) => refusal(&err),
        Ok(done) if done.duplicate => {
            answer(StatusCode::OK, json!({ "referral_id": done.referral_id, "duplicate": true }))
        }
        Ok(done) => answer(StatusCode::CREATED, json!({ "referral_id": done.referral_id, "duplicate": false })),
    }
}

/// Why a request was not accepted: a body that does not say it is JSON (415), or any refusal of the
/// one error table.
enum Refused {
    NotJson,
    Api(ApiError),
}

impl From<ApiError> for Refused {
    fn from(err: ApiError) -> Self {
        Refused::Api(err)
    }
}

/// Authenticates, parses and submits one hotline request.
/// The signature first (a stranger learns nothing else), then the media type, then the JSON.
async fn accept(state: &WebhookState, headers: &HeaderMap, body: &[u8]) -> Result<pb::SubmitReferralResponse, Refused> {
    let now = state.app.clock.now().timestamp();
    let key_id = verify(&state.secrets, headers, body, now).map_err(|err| {
        tracing::warn!(reason = %err, "hotline webhook request refused");
        ApiError::Unauthenticated(err.to_string())
    })?;
    if !is_json(headers) {
        return Err(Refused::NotJson);
    }
    let text =
        std::str::from_utf8(body).map_err(|_| ApiError::Malformed(FieldViolation::new("body", "is not UTF-8 text")))?;
    let request: pb::SubmitReferralRequest = wf_proto::json::from_json(text).map_err(|err| {
        let (field, description) = json_error_field(&err);
        ApiError::Malformed(FieldViolation::new(field, description))
    })?;
    // A webhook key names a hotline, not an organization: its namespace is its own subject.
    let subject = format!("hotline:{key_id}");
    let submitter =
        Submitter { subject: &subject, role: Role::Hotline, organization: None, channel: pb::IntakeChannel::Webhook };
    Ok(submit(&state.app, &submitter, request).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secrets() -> SharedSecrets {
        let dir = tempfile::tempdir().unwrap();
        SharedSecrets::load_or_create_dev(dir.path()).unwrap()
    }

    fn headers(key_id: &str, timestamp: i64, signature: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(KEY_ID_HEADER, key_id.parse().unwrap());
        headers.insert(TIMESTAMP_HEADER, timestamp.to_string().parse().unwrap());
        headers.insert(SIGNATURE_HEADER, signature.parse().unwrap());
        headers
    }

    #[test]
    fn a_refusal_lists_the_first_hundred_violations_and_counts_the_rest() {
        let err = ApiError::InvalidArgument(
            (0..250).map(|i| wf_server::FieldViolation::new(format!("referral.needs[{i}]"), "is not a code")).collect(),
        );
        let body = refusal_body(&err);
        assert_eq!(body["violations"].as_array().map(Vec::len), Some(100));
        assert_eq!(body["not_listed"], 150);
        assert_eq!(body["violations"][0]["field"], "referral.needs[0]");
    }

    #[test]
    fn signatures_are_checked_for_key_freshness_and_content() {
        let secrets = secrets();
        let secret = secrets.get("dev").unwrap().to_vec();
        let now = 1_800_000_000;
        let body = br#"{"referral":{}}"#;
        let good = sign(&secret, now - 10, body);
        assert_eq!(verify(&secrets, &headers("dev", now - 10, &good), body, now), Ok("dev".to_owned()));
        assert_eq!(
            verify(&secrets, &headers("dev", now - 10, &good), b"{\"referral\":{ }}", now),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(verify(&secrets, &headers("other", now - 10, &good), body, now), Err(SignatureError::UnknownKeyId));
        let stale = sign(&secret, now - 301, body);
        assert_eq!(
            verify(&secrets, &headers("dev", now - 301, &stale), body, now),
            Err(SignatureError::Stale { age_seconds: 301 })
        );
        let future = sign(&secret, now + 301, body);
        assert!(matches!(
            verify(&secrets, &headers("dev", now + 301, &future), body, now),
            Err(SignatureError::Stale { .. })
        ));
        assert_eq!(
            verify(&secrets, &headers("dev", now, "sha256=zz"), body, now),
            Err(SignatureError::MalformedSignature)
        );
        let mut missing = headers("dev", now, &good);
        missing.remove(SIGNATURE_HEADER);
        assert_eq!(verify(&secrets, &missing, body, now), Err(SignatureError::MissingHeader(SIGNATURE_HEADER)));
        assert_eq!(sign(b"key", 1, b"body"), sign(b"key", 1, b"body"));
        assert_ne!(sign(b"key", 1, b"body"), sign(b"key", 2, b"body"));
    }

    fn field_of(body: &str) -> (String, String) {
        let err = wf_proto::json::from_json::<pb::SubmitReferralRequest>(body).expect_err("refused");
        json_error_field(&err)
    }

    #[test]
    fn json_errors_name_the_path_and_the_type_never_the_value() {
        let (field, description) =
            field_of(r#"{"referral": {"personal": {"phones": [{}, {"safeToCall": "+1-555-0199"}]}}}"#);
        assert_eq!(field, "referral.personal.phones[1].safeToCall");
        assert_eq!(description, "has the wrong type or form; expected a JSON boolean (true or false)");
        let (field, description) = field_of(r#"{"referral": {"needs": 3}}"#);
        assert_eq!(field, "referral.needs", "{description}");
        assert!(description.contains("expected a list"), "{description}");
        let (field, description) = field_of(r#"{"referral": {"personal": {"Jane Fictional": true}}}"#);
        assert_eq!(field, "referral.personal");
        assert!(!description.contains("Jane"), "{description}");
        let (field, _) = field_of(r#"{"Jane": 1}"#);
        assert_eq!(field, "body");
        let (field, description) = field_of(r#"{"referral": {"receivedAt": "Jane, expected Doe"}}"#);
        assert_eq!(field, "referral.receivedAt");
        assert!(!description.contains("Doe") && !description.contains("Jane"), "{description}");
        let (field, description) = field_of(r#"{"referral": {"personal": {"estimatedAge": "seventeen"}}}"#);
        assert_eq!(field, "referral.personal.estimatedAge");
        assert!(description.contains("int32") && !description.contains("seventeen"), "{description}");
        let (field, _) = field_of("[1]");
        assert_eq!(field, "body", "the whole document");
    }

    #[test]
    fn json_media_types_are_recognized_with_parameters_only() {
        let with = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(axum::http::header::CONTENT_TYPE, value.parse().unwrap());
            is_json(&headers)
        };
        assert!(with("application/json") && with("Application/JSON; charset=utf-8"));
        assert!(!with("text/json") && !with("application/jsonp") && !is_json(&HeaderMap::new()));
    }
}
