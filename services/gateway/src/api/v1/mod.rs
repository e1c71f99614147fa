//! The JSON API under `/api/v1`: the operations the pages offer, for programs. Each handler calls
//! the services over gRPC as the caller ([`auth::Caller`]: the session cookie, or a bearer token
//! the services already accept), exactly as the pages do, so every service applies its
//! authorization table again; a partner's refusal is the one "not found" of an unknown id.
//!
//! Routes and the OpenAPI 3.1 document (`GET /api/openapi.json`) come from one source: each
//! handler's `#[utoipa::path]` both documents it and, through `utoipa_axum::routes!`, routes it, so
//! no route exists without its entry in the document. Errors have one shape ([`error`]); bodies and
//! query strings are read by [`input`]; closed lists are string codes ([`codes`]). Every answer is
//! `Cache-Control: no-store`.

pub mod auth;
pub mod capacity;
pub mod cases;
pub mod codes;
pub mod consent;
pub mod error;
pub mod input;
pub mod offers;
pub mod records;
pub mod referrals;
pub mod routing;

use std::sync::OnceLock;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use utoipa::openapi::OpenApi as Document;
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::App;
use error::{ApiError, ErrorBody};

/// Where the API lives, and where its document is.
pub const PREFIX: &str = "/api/v1";
pub const DOCUMENT_PATH: &str = "/api/openapi.json";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Wayfinder gateway JSON API",
        version = "1",
        description = "The operations of the staff web application for programs: referrals, consent releases, \
            routing explanations, offers, cases and capacity. Authenticate with the session cookie (then every \
            change carries the session's CSRF token in X-CSRF-Token and comes from the gateway's origin) or with \
            `Authorization: Bearer` and a user or partner token. Errors are `{\"error\": {\"code\", \"message\", \
            \"field_violations\"}}`; a record that is not the caller's answers as an unknown one does (404)."
    ),
    modifiers(&Security),
    components(schemas(ErrorBody)),
    tags(
        (name = "session", description = "Who is calling"),
        (name = "referrals", description = "The referral queue, a referral, its changes, the reveal and routing"),
        (name = "consent", description = "A referral's consent releases"),
        (name = "offers", description = "A partner's offers"),
        (name = "cases", description = "Cases, their lifecycle, engagement, services, follow-ups and notes"),
        (name = "capacity", description = "A partner's own services' capacity"),
        (name = "document", description = "This document"),
    )
)]
struct ApiDoc;

/// The two ways in: the session cookie and a bearer token (documented once, required by every
/// operation but the document's own).
struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut Document) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::domain::session::COOKIE_NAME,
                "The signed-in person's session (sign in at /sign-in). Every change also carries the session's \
                 CSRF token in X-CSRF-Token (GET /api/v1/session) and an Origin of the gateway's own.",
            ))),
        );
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "A user-kind or partner-kind Wayfinder token (EdDSA, typ wf-user+jwt or wf-partner+jwt), \
                         verified as the services verify it and passed on to them. Service tokens are refused.",
                    ))
                    .build(),
            ),
        );
        openapi.security = Some(vec![
            SecurityRequirement::new("session", Vec::<String>::new()),
            SecurityRequirement::new("bearer", Vec::<String>::new()),
        ]);
    }
}

/// Every operation of `/api/v1`, each routed from its `#[utoipa::path]`.
fn operations() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(auth::session))
        .routes(routes!(referrals::list))
        .routes(routes!(referrals::get))
        .routes(routes!(referrals::triage))
        .routes(routes!(referrals::hold))
        .routes(routes!(referrals::close))
        .routes(routes!(referrals::reveal))
        .routes(routes!(routing::explain))
        .routes(routes!(consent::list, consent::create))
        .routes(routes!(consent::revoke))
        .routes(routes!(offers::list))
        .routes(routes!(offers::get))
        .routes(routes!(offers::accept))
        .routes(routes!(offers::decline))
        .routes(routes!(cases::list))
        .routes(routes!(cases::get))
        .routes(routes!(cases::stage))
        .routes(routes!(cases::readiness))
        .routes(routes!(cases::contact_attempts, cases::record_contact_attempt))
        .routes(routes!(records::interventions, records::record_intervention))
        .routes(routes!(records::follow_ups))
        .routes(routes!(records::record_follow_up))
        .routes(routes!(records::notes, records::add_note))
        .routes(routes!(capacity::list))
        .routes(routes!(capacity::update))
}

fn parts() -> (Router<App>, Document) {
    let (router, mut document) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .nest(PREFIX, operations())
        .routes(routes!(document))
        .split_for_parts();
    describe_responses(&mut document);
    (router, document)
}

/// What each status means, where a handler's attribute does not say; and every operation of
/// `/api/v1` may answer 503 when the services cannot be reached.
fn describe_responses(document: &mut Document) {
    use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
    let meaning = |status: &str| match status {
        "200" => "OK",
        "201" => "Recorded",
        "401" => {
            "No credential the gateway accepts (no session or bearer token, an ended session, a bearer token \
                  that is expired, wrongly signed, malformed or of a service)"
        }
        "403" => "The caller's role may not do this, or a change by session failed the Origin or CSRF check",
        "404" => "Unknown, malformed, or not the caller's to see: one body for all",
        "409" => "The record's state does not allow this now",
        "422" => "The request broke the contract: field_violations name each field and what is allowed",
        "503" => "The services cannot be reached",
        _ => "See the error's code",
    };
    for (path, item) in document.paths.paths.iter_mut() {
        let api = path.starts_with(PREFIX);
        for operation in
            [&mut item.get, &mut item.post, &mut item.put, &mut item.patch, &mut item.delete].into_iter().flatten()
        {
            // Handlers in different modules share names (`list`, `get`): the id is tag and name.
            if let (Some(tag), Some(id)) = (operation.tags.as_ref().and_then(|t| t.first()), &operation.operation_id)
                && !id.starts_with(tag.as_str())
            {
                operation.operation_id = Some(format!("{tag}_{id}"));
            }
            if api && !operation.responses.responses.contains_key("503") {
                let body = ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build();
                let unavailable = ResponseBuilder::new().content("application/json", body).build();
                operation.responses.responses.insert("503".to_owned(), RefOr::T(unavailable));
            }
            for (status, response) in operation.responses.responses.iter_mut() {
                if let RefOr::T(response) = response
                    && response.description.is_empty()
                {
                    response.description = meaning(status).to_owned();
                }
            }
        }
    }
}

/// The OpenAPI document of every route [`router`] serves.
pub fn openapi() -> Document {
    parts().1
}

/// The document as served (made once).
fn document_json() -> Result<&'static str, ApiError> {
    static JSON: OnceLock<Result<String, String>> = OnceLock::new();
    match JSON.get_or_init(|| openapi().to_pretty_json().map_err(|err| err.to_string())) {
        Ok(json) => Ok(json),
        Err(err) => Err(ApiError::internal(anyhow::anyhow!("serializing the openapi document: {err}"))),
    }
}

/// This document: every route of the JSON API, generated from the code (OpenAPI 3.1).
#[utoipa::path(
    get, path = "/api/openapi.json", tag = "document", security(()),
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json"))
)]
pub async fn document() -> Response {
    match document_json() {
        Ok(json) => ([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], json).into_response(),
        Err(err) => err.into_response(),
    }
}

/// An address under `/api/v1` that is no operation: the one not found.
async fn unknown() -> ApiError {
    ApiError::not_found()
}

async fn no_store(mut response: Response) -> Response {
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The JSON API's routes and its document's, to merge into the gateway's router.
pub fn router() -> Router<App> {
    let (routes, _) = parts();
    routes.route(&format!("{PREFIX}/{{*rest}}"), any(unknown)).layer(axum::middleware::map_response(no_store))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes the document where `WF_OPENAPI_OUT` says (scripts/test.sh validates it there).
    #[test]
    fn the_document_is_written_for_the_schema_check() {
        let json = document_json().expect("the document serializes");
        let doc: serde_json::Value = serde_json::from_str(json).expect("json");
        assert_eq!(doc["openapi"], "3.1.0");
        if let Some(path) = std::env::var_os("WF_OPENAPI_OUT") {
            let path = std::path::PathBuf::from(path);
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).expect("folder for the document");
            }
            std::fs::write(&path, json).expect("document written");
        }
    }
}
