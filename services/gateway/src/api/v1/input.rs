//! What the JSON API reads from a request, each refusal naming what was wrong:
//! - [`JsonBody`] — a JSON body (`Content-Type: application/json`, at most [`BODY_LIMIT`]), read into
//!   a type that denies unknown fields; a syntax error, a wrong type, a missing or unknown field is
//!   `invalid_argument` naming the field's path;
//! - [`Params`] — the query string, the same way (repeatable parameters as lists);
//! - [`path_id`] — an id from the address: a malformed one is not found, like an unknown one.

use std::str::FromStr;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::error::{ApiError, Code};

/// The largest body read (a consent release with its signers is well under 4 KiB).
pub const BODY_LIMIT: usize = 64 * 1024;

/// A JSON request body.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

/// A field path as serde_path_to_error gives it, `.` (the whole body) as `body`.
fn field_name(path: &serde_path_to_error::Path) -> String {
    let path = path.to_string();
    if path.is_empty() || path == "." { "body".to_owned() } else { path }
}

/// The field a refusal is about: the path, and for a missing field the field serde names in its
/// message, one level below that path (`missing field `triage_reason`` at `.` is `triage_reason`).
fn named_field(path: &serde_path_to_error::Path, err: &serde_json::Error) -> String {
    let text = err.to_string();
    let named = text
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next())
        .filter(|name| !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'));
    match (named, field_name(path)) {
        (Some(name), parent) if parent == "body" => name.to_owned(),
        (Some(name), parent) => format!("{parent}.{name}"),
        (None, path) => path,
    }
}

/// serde's description of what was wrong, without the line and column of the JSON (the field is named).
fn description(err: &serde_json::Error) -> String {
    let text = err.to_string();
    let text = match text.rfind(" at line ") {
        Some(at) => text[..at].to_owned(),
        None => text,
    };
    match err.classify() {
        serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
            format!("is not well-formed JSON ({text}); allowed: one JSON object")
        }
        _ => text,
    }
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let is_json = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(';').next())
            .is_some_and(|mime| {
                let mime = mime.trim();
                mime.eq_ignore_ascii_case("application/json")
                    || (mime.len() > 5 && mime[mime.len() - 5..].eq_ignore_ascii_case("+json"))
            });
        if !is_json {
            let mut refusal = ApiError::new(Code::UnsupportedMediaType, "the body must be JSON");
            refusal.violations.push(wf_types::FieldViolation::new(
                "Content-Type",
                "is not application/json; allowed: application/json with a JSON object",
            ));
            return Err(refusal);
        }
        let Ok(bytes) = axum::body::to_bytes(request.into_body(), BODY_LIMIT).await else {
            let mut refusal = ApiError::new(Code::ResourceExhausted, "the body is too large");
            refusal.violations.push(wf_types::FieldViolation::new(
                "body",
                format!("is larger than allowed: at most {BODY_LIMIT} bytes"),
            ));
            return Err(refusal);
        };
        let mut json = serde_json::Deserializer::from_slice(&bytes);
        let value = serde_path_to_error::deserialize(&mut json)
            .map_err(|err| ApiError::invalid_field(named_field(err.path(), err.inner()), description(err.inner())))?;
        json.end().map_err(|err| ApiError::invalid_field("body", description(&err)))?;
        Ok(JsonBody(value))
    }
}

/// The query string, read into `T` (a struct that denies unknown fields).
#[derive(Debug)]
pub struct Params<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        let form = serde_html_form::Deserializer::new(url::form_urlencoded::parse(query.as_bytes()));
        match serde_path_to_error::deserialize(form) {
            Ok(value) => Ok(Params(value)),
            Err(err) => {
                let field = match err.path().to_string() {
                    path if path.is_empty() || path == "." => "query".to_owned(),
                    path => path,
                };
                // serde names an unknown parameter itself; any other message says what was expected.
                Err(ApiError::invalid_field(field, err.inner().to_string()))
            }
        }
    }
}

/// The header a state change by session carries its CSRF token in (for the document; the check is
/// [`super::auth::Caller`]'s).
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)]
pub struct CsrfHeader {
    /// The session's CSRF token (`GET /api/v1/session`): required on every change made with the
    /// session cookie, unused with a bearer token.
    #[serde(rename = "X-CSRF-Token")]
    x_csrf_token: Option<String>,
}

/// An id from the address; a malformed one answers as an unknown one does.
pub fn path_id<T: FromStr>(raw: &str) -> Result<T, ApiError> {
    raw.parse().map_err(|_| ApiError::not_found())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Triage {
        triage_tier: super::super::codes::TierCode,
        triage_reason: String,
    }

    async fn read(content_type: &str, body: &'static str) -> Result<Triage, ApiError> {
        let request = Request::builder().header(header::CONTENT_TYPE, content_type).body(Body::from(body)).unwrap();
        JsonBody::<Triage>::from_request(request, &()).await.map(|JsonBody(t)| t)
    }

    #[tokio::test]
    async fn each_refusal_names_the_field() {
        let missing = read("application/json", r#"{"triage_tier": "emergent"}"#).await.unwrap_err();
        assert_eq!((missing.code, missing.violations[0].field.as_str()), (Code::InvalidArgument, "triage_reason"));
        assert!(missing.violations[0].description.contains("missing field `triage_reason`"));
        let wrong = read("application/json", r#"{"triage_tier": "soon", "triage_reason": "x"}"#).await.unwrap_err();
        assert_eq!(wrong.violations[0].field, "triage_tier");
        let unknown = read("application/json", r#"{"triage_tier": "urgent", "triage_reason": "x", "tier": 1}"#)
            .await
            .unwrap_err();
        assert!(unknown.violations[0].description.contains("unknown field `tier`"), "{unknown:?}");
        assert_eq!(unknown.violations[0].field, "tier");
        let broken = read("application/json", r#"{"triage_tier": "#).await.unwrap_err();
        assert_eq!(broken.code.http_status(), axum::http::StatusCode::UNPROCESSABLE_ENTITY);
        assert!(broken.violations[0].description.contains("not well-formed JSON"), "{broken:?}");
        let trailing = read("application/json", r#"{"triage_tier": "urgent", "triage_reason": "x"} {}"#).await;
        assert!(trailing.is_err(), "one object only");
        let form = read("application/x-www-form-urlencoded", "triage_tier=urgent").await.unwrap_err();
        assert_eq!(form.code, Code::UnsupportedMediaType);
        assert!(
            read("application/json; charset=utf-8", r#"{"triage_tier": "urgent", "triage_reason": "x"}"#).await.is_ok()
        );
    }
}
