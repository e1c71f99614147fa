//! Who calls the JSON API, and how the call reaches the services as them ([`Caller`]):
//!
//! - **`Authorization: Bearer <token>`**: a user-kind or partner-kind token, the kinds a person or a
//!   partner's client holds, which the services already verify. The gateway checks it first with
//!   the services' own key, issuer and audience (`wf_auth::TokenVerifier`: signature, `typ`, `exp iss
//!   aud sub`, lifetime, role and kind); a service token, an expired, wrongly signed or malformed
//!   one is 401 with one message whatever the reason (the reason goes to the log as a code). The
//!   token is then passed on unchanged, so every service checks it again and its audit entries name
//!   the token's subject. No CSRF token: nothing ambient is used (a browser sends no such header to
//!   another site on its own), and a request with this header is never read for a cookie.
//! - **The session cookie** (`__Host-wf-session`): the signed-in person, as the pages; the person
//!   must have accepted the confidentiality acknowledgment (else 403). Every state change must also
//!   pass the page guard's rules (`domain::request`): `Origin` the public origin (or, without it,
//!   `Sec-Fetch-Site: same-origin`), and the session's CSRF token in `X-CSRF-Token` (from
//!   `GET /api/v1/session`, or the page's `data-csrf-token`). Refused: 403.
//!
//! Neither: 401. Each call then goes to the services with the bearer token, or with the token the
//! gateway mints for the person (`app.upstream`), never both.

use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;
use wf_auth::{Operation, Role};
use wf_proto::cases::v1 as cases;
use wf_proto::cases::v1::case_service_client::CaseServiceClient;
use wf_proto::intake::v1::intake_service_client::IntakeServiceClient;
use wf_proto::routing::v1::routing_service_client::RoutingServiceClient;

use super::error::{ApiError, ErrorBody};
use crate::api::extract::{cleared_cookie, cookie_value};
use crate::api::referrals::Abilities;
use crate::app::upstream::UpstreamService;
use crate::app::{App, AuthedChannel, Resolved, SignedIn};
use crate::domain::request::{self, CSRF_HEADER, Refusal};
use crate::domain::session::COOKIE_NAME;

/// Roster pages read at most, and their size (the services' maximum).
const ROSTER_PAGES: usize = 4;
const ROSTER_PAGE_SIZE: i32 = 500;

/// How the caller proved who they are.
#[derive(Debug, Clone)]
enum Credential {
    Session(SignedIn),
    /// A bearer token the verifier accepted (passed on as it came).
    Bearer(String),
}

/// The caller of a JSON API request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub role: Role,
    /// Set for every partner: the organization it acts for.
    pub partner_id: Option<String>,
    /// The subject the services see (the account's `user_id`, or the token's `sub`).
    pub user_id: String,
    credential: Credential,
}

impl Caller {
    pub fn is_partner(&self) -> bool {
        self.role == Role::Partner
    }

    fn is_bearer(&self) -> bool {
        matches!(self.credential, Credential::Bearer(_))
    }

    /// The services' refusal, for this caller (a partner's PERMISSION_DENIED is not found).
    pub fn refused(&self, status: tonic::Status) -> ApiError {
        ApiError::from_status(status, self.is_partner(), self.is_bearer())
    }

    /// A channel to `service` (its own address, else the shared one) carrying the caller's
    /// credential: a token minted for the session, or the caller's own bearer token.
    fn channel(&self, app: &App, service: UpstreamService) -> Result<AuthedChannel, ApiError> {
        Ok(match &self.credential {
            Credential::Session(who) => app.upstream.channel_to(service, who)?,
            Credential::Bearer(token) => app.upstream.channel_with_bearer(service, token)?,
        })
    }

    pub fn intake(&self, app: &App) -> Result<IntakeServiceClient<AuthedChannel>, ApiError> {
        Ok(IntakeServiceClient::new(self.channel(app, UpstreamService::Intake)?))
    }

    pub fn routing(&self, app: &App) -> Result<RoutingServiceClient<AuthedChannel>, ApiError> {
        Ok(RoutingServiceClient::new(self.channel(app, UpstreamService::Routing)?))
    }

    pub fn cases(&self, app: &App) -> Result<CaseServiceClient<AuthedChannel>, ApiError> {
        Ok(CaseServiceClient::new(self.channel(app, UpstreamService::Cases)?))
    }

    /// Staff whose role the authorization table allows `operation` (the pages' rule). A partner gets
    /// not found (its own addresses are elsewhere), anyone else the reason.
    pub fn staff(&self, allowed: bool, operation: Operation) -> Result<(), ApiError> {
        if self.is_partner() {
            return Err(ApiError::not_found());
        }
        if !allowed {
            return Err(ApiError::forbidden(format!("role {} may not {operation}", self.role)));
        }
        Ok(())
    }

    /// The caller's case-manager roster entry (`cm_…`, found by their user id), when their role may
    /// read the roster.
    pub async fn roster_entry(&self, app: &App) -> Result<Option<String>, ApiError> {
        if !Abilities::of(self.role).roster {
            return Ok(None);
        }
        let mut client = self.cases(app)?;
        let mut page_token = String::new();
        for _ in 0..ROSTER_PAGES {
            let request = cases::ListCaseManagersRequest {
                include_inactive: true,
                include_supervisors: true,
                page_size: ROSTER_PAGE_SIZE,
                page_token: page_token.clone(),
                ..Default::default()
            };
            let page = client.list_case_managers(request).await.or_api(self)?;
            if let Some(own) = page.case_managers.iter().find(|cm| cm.user_id == self.user_id) {
                return Ok(Some(own.case_manager_id.clone()));
            }
            if page.next_page_token.is_empty() {
                break;
            }
            page_token = page.next_page_token;
        }
        Ok(None)
    }

    /// The organization a partner acts for; staff have their own addresses for the same records,
    /// so for them these do not exist.
    pub fn acting_partner(&self) -> Result<&str, ApiError> {
        match (&self.role, &self.partner_id) {
            (Role::Partner, Some(partner)) => Ok(partner),
            _ => Err(ApiError::not_found()),
        }
    }
}

/// A services call's answer, or the refusal for `caller`: `client.get_offer(r).await.or_api(&caller)?`.
pub trait OrApi<T> {
    fn or_api(self, caller: &Caller) -> Result<T, ApiError>;
}

impl<T> OrApi<T> for Result<tonic::Response<T>, tonic::Status> {
    fn or_api(self, caller: &Caller) -> Result<T, ApiError> {
        self.map(tonic::Response::into_inner).map_err(|status| caller.refused(status))
    }
}

/// The token of an `Authorization: Bearer …` header (scheme case-insensitive).
fn bearer_token(headers: &HeaderMap) -> Option<Result<String, ()>> {
    let value = headers.get(header::AUTHORIZATION)?;
    let parsed = value
        .to_str()
        .ok()
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim().to_owned())
        .filter(|token| !token.is_empty());
    Some(parsed.ok_or(()))
}

/// A state change by session refused (Origin or CSRF), as the page guard refuses it.
fn refused(refusal: Refusal, public_origin: &str) -> ApiError {
    tracing::warn!(reason = refusal.code(), "json api state change refused");
    ApiError::forbidden(match refusal {
        Refusal::ForeignOrigin | Refusal::NotSameOrigin => format!(
            "this change was not sent from {public_origin} (Origin), so it was not made; a client that is not a \
             page of Wayfinder authenticates with a bearer token instead"
        ),
        _ => format!(
            "this change carries no valid CSRF token, so it was not made; send the session's token (GET \
             /api/v1/session) in the {CSRF_HEADER} header"
        ),
    })
}

/// A refusal that also clears a cookie naming no live session.
#[derive(Debug)]
pub struct Refused {
    error: ApiError,
    clear_cookie: bool,
}

impl From<ApiError> for Refused {
    fn from(error: ApiError) -> Self {
        Refused { error, clear_cookie: false }
    }
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        let mut response = self.error.into_response();
        if self.clear_cookie {
            response.headers_mut().append(header::SET_COOKIE, cleared_cookie());
        }
        response
    }
}

impl FromRequestParts<App> for Caller {
    type Rejection = Refused;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        if let Some(token) = bearer_token(&parts.headers) {
            let Ok(token) = token else {
                tracing::warn!(reason = "malformed_authorization_header", "json api bearer token refused");
                return Err(ApiError::unauthenticated().into());
            };
            let principal = app.upstream.verify_bearer(&token).map_err(|err| {
                tracing::warn!(reason = err.reason_code(), "json api bearer token refused");
                ApiError::unauthenticated()
            })?;
            return Ok(Caller {
                role: principal.role,
                partner_id: principal.partner_id,
                user_id: principal.subject,
                credential: Credential::Bearer(token),
            });
        }
        // No credential at all is 401, whatever the method; a session's change then meets the page
        // guard's rules: Origin first (before the session is even looked up), then the CSRF token.
        let Some(cookie) = cookie_value(&parts.headers, COOKIE_NAME) else {
            return Err(ApiError::unauthenticated().into());
        };
        let change = request::is_state_change(parts.method.as_str());
        let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        if change
            && let Err(refusal) = request::check_origin(
                header("origin").as_deref(),
                header("sec-fetch-site").as_deref(),
                &app.public_origin,
            )
        {
            return Err(refused(refusal, &app.public_origin).into());
        }
        let resolved = app.sessions.resolve(&cookie).await.map_err(ApiError::from)?;
        let who = match resolved {
            Resolved::Person(who) => who,
            other => {
                return Err(Refused { error: ApiError::unauthenticated(), clear_cookie: other.cookie_is_stale() });
            }
        };
        if !who.acknowledged {
            return Err(ApiError::forbidden(
                "accept the confidentiality acknowledgment first (sign in to the pages, at /acknowledge)",
            )
            .into());
        }
        if change && let Err(refusal) = request::check_csrf(&who.csrf_token, header(CSRF_HEADER).as_deref()) {
            return Err(refused(refusal, &app.public_origin).into());
        }
        Ok(Caller {
            role: who.role,
            partner_id: who.partner_id.as_ref().map(|p| p.to_string()),
            user_id: who.user_id.clone(),
            credential: Credential::Session(who),
        })
    }
}

/// The caller as the API sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Session {
    /// `session` (the cookie) or `bearer`.
    #[schema(example = "session")]
    pub auth: &'static str,
    /// The role (`case_manager`, `partner`, …).
    #[schema(example = "case_manager")]
    pub role: String,
    /// The organization a partner acts for.
    pub partner_id: Option<String>,
    /// The subject the services see.
    pub user_id: String,
    /// The token every state change by session carries in `X-CSRF-Token` (absent for bearer).
    pub csrf_token: Option<String>,
    /// Seconds until the session ends without activity (absent for bearer).
    pub seconds_left: Option<i64>,
}

/// Who is calling, and (signed in) the CSRF token for changes.
#[utoipa::path(
    get, path = "/session", tag = "session",
    responses(
        (status = 200, description = "The caller", body = Session),
        (status = 401, description = "No credential the gateway accepts", body = ErrorBody),
    )
)]
pub async fn session(State(_app): State<App>, caller: Caller) -> Json<Session> {
    let (auth, csrf_token, seconds_left) = match &caller.credential {
        Credential::Session(who) => ("session", Some(who.csrf_token.clone()), Some(who.seconds_left)),
        Credential::Bearer(_) => ("bearer", None, None),
    };
    Json(Session {
        auth,
        role: caller.role.as_str().to_owned(),
        partner_id: caller.partner_id.clone(),
        user_id: caller.user_id.clone(),
        csrf_token,
        seconds_left,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn only_a_bearer_scheme_with_a_token_is_a_bearer_token() {
        let with = |value: &'static str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::AUTHORIZATION, HeaderValue::from_static(value));
            bearer_token(&headers)
        };
        assert_eq!(with("Bearer abc.def.ghi"), Some(Ok("abc.def.ghi".to_owned())));
        assert_eq!(with("bearer abc"), Some(Ok("abc".to_owned())));
        assert_eq!(with("Basic dXNlcjpwYXNz"), Some(Err(())));
        assert_eq!(with("Bearer "), Some(Err(())));
        assert_eq!(bearer_token(&HeaderMap::new()), None);
    }
}
