//! A referral's consent releases (intake): `GET` and `POST /referrals/{id}/consent-releases`, and
//! `POST /consent-releases/{release_id}/revoke`. A release names one partner organization, what it
//! may receive, a purpose from the closed list, who signed and an expiry; intake checks every rule
//! (its field violations name the body's fields: `release.expires_at` is `expires_at` here). Staff
//! only (ManageCases): a partner gets not found.

use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use wf_proto::intake::v1 as intake;
use wf_types::{FieldViolation, ReferralId, ReleaseId};

use super::auth::{Caller, OrApi as _};
use super::codes::{CategoryCode, SignerRoleCode, all_of, instant, some, timestamp};
use super::error::{ApiError, Code, ErrorBody};
use super::input::{CsrfHeader, JsonBody, Params, path_id};
use crate::app::App;

const LIST_PAGE: i32 = 200;
const CREATE_CONSENT: &str = "/wayfinder.intake.v1.IntakeService/CreateConsentRelease";

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Signer {
    pub role: SignerRoleCode,
    /// When the youth signs alone: `minor_consent_mental_health_12_plus`,
    /// `minor_consent_sensitive_services`, `adult`, `emancipated_minor`.
    #[serde(default)]
    pub legal_basis: Option<String>,
    #[serde(default)]
    pub signed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Release {
    pub release_id: String,
    pub referral_id: String,
    pub youth_id: Option<String>,
    /// The one partner organization that may receive the information (`org_…`).
    pub recipient_organization_id: String,
    pub categories: Vec<CategoryCode>,
    pub purpose: String,
    pub signed_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub signers: Vec<Signer>,
    /// Where the signed document is kept (a reference, not the document).
    pub document_reference: Option<String>,
    pub recorded_by: Option<String>,
    /// Signed, not expired, not revoked.
    pub active: bool,
}

impl Release {
    fn of(r: &intake::ConsentRelease) -> Self {
        Release {
            release_id: r.release_id.clone(),
            referral_id: r.referral_id.clone(),
            youth_id: some(&r.youth_id),
            recipient_organization_id: r.recipient_organization_id.clone(),
            categories: all_of(&r.categories, CategoryCode::of),
            purpose: r.purpose.clone(),
            signed_at: instant(&r.signed_at),
            expires_at: instant(&r.expires_at),
            revoked_at: instant(&r.revoked_at),
            signers: r
                .signers
                .iter()
                .filter_map(|s| {
                    Some(Signer {
                        role: SignerRoleCode::of(s.role)?,
                        legal_basis: some(&s.legal_basis),
                        signed_at: instant(&s.signed_at),
                    })
                })
                .collect(),
            document_reference: some(&r.document_reference),
            recorded_by: some(&r.recorded_by),
            active: r.active,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReleaseList {
    pub releases: Vec<Release>,
    pub next_page_token: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only releases active now.
    #[serde(default)]
    active_only: bool,
    page_token: Option<String>,
}

/// The referral's consent releases.
#[utoipa::path(
    get, path = "/referrals/{referral_id}/consent-releases", tag = "consent",
    params(("referral_id" = String, Path), ListQuery),
    responses(
        (status = 200, body = ReleaseList),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    )
)]
pub async fn list(
    State(app): State<App>,
    caller: Caller,
    Path(referral_id): Path<String>,
    Params(query): Params<ListQuery>,
) -> Result<Json<ReleaseList>, ApiError> {
    staff(&caller)?;
    let id: ReferralId = path_id(&referral_id)?;
    let request = intake::ListConsentReleasesRequest {
        referral_id: id.to_string(),
        active_only: query.active_only,
        page_size: LIST_PAGE,
        page_token: query.page_token.unwrap_or_default(),
        ..Default::default()
    };
    let answer = caller.intake(&app)?.list_consent_releases(request).await.or_api(&caller)?;
    Ok(Json(ReleaseList {
        releases: answer.releases.iter().map(Release::of).collect(),
        next_page_token: some(&answer.next_page_token),
    }))
}

fn staff(caller: &Caller) -> Result<(), ApiError> {
    let allowed = wf_auth::rpc::rule(CREATE_CONSENT).is_some_and(|rule| rule.allows(caller.role));
    caller.staff(allowed, wf_auth::Operation::ManageCases)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRelease {
    /// The one partner organization that may receive the information (`org_…`).
    pub recipient_organization_id: String,
    pub categories: Vec<CategoryCode>,
    /// A purpose code from the closed list: `service_referral`, `case_coordination`,
    /// `legal_representation`, …
    #[schema(example = "service_referral")]
    pub purpose: String,
    pub signed_at: DateTime<Utc>,
    /// Required: a release without an expiry is refused.
    pub expires_at: DateTime<Utc>,
    pub signers: Vec<Signer>,
    #[serde(default)]
    pub document_reference: Option<String>,
}

/// intake's field paths (`release.expires_at`) as this body names them (`expires_at`).
fn body_fields(err: ApiError) -> ApiError {
    if err.code != Code::InvalidArgument {
        return err;
    }
    let violations = err
        .violations
        .into_iter()
        .map(|v| FieldViolation::new(v.field.strip_prefix("release.").unwrap_or(&v.field), v.description))
        .collect();
    ApiError::invalid(violations)
}

/// Records a signed, time-limited release naming one partner.
#[utoipa::path(
    post, path = "/referrals/{referral_id}/consent-releases", tag = "consent",
    params(("referral_id" = String, Path), CsrfHeader), request_body = NewRelease,
    responses(
        (status = 201, body = Release),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn create(
    State(app): State<App>,
    caller: Caller,
    Path(referral_id): Path<String>,
    JsonBody(body): JsonBody<NewRelease>,
) -> Result<(axum::http::StatusCode, Json<Release>), ApiError> {
    staff(&caller)?;
    let id: ReferralId = path_id(&referral_id)?;
    let release = intake::ConsentRelease {
        referral_id: id.to_string(),
        recipient_organization_id: body.recipient_organization_id.trim().to_owned(),
        categories: body.categories.iter().map(|c| c.number()).collect(),
        purpose: body.purpose.trim().to_owned(),
        signed_at: Some(timestamp(body.signed_at)),
        expires_at: Some(timestamp(body.expires_at)),
        signers: body
            .signers
            .iter()
            .map(|s| intake::ReleaseSigner {
                role: s.role.number(),
                legal_basis: s.legal_basis.clone().unwrap_or_default(),
                signed_at: s.signed_at.map(timestamp),
            })
            .collect(),
        document_reference: body.document_reference.unwrap_or_default(),
        ..Default::default()
    };
    let request = intake::CreateConsentReleaseRequest { release: Some(release) };
    let answer = caller.intake(&app)?.create_consent_release(request).await.or_api(&caller).map_err(body_fields)?;
    let release = answer
        .release
        .unwrap_or_else(|| intake::ConsentRelease { release_id: answer.release_id.clone(), ..Default::default() });
    Ok((axum::http::StatusCode::CREATED, Json(Release::of(&release))))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Revoke {
    /// A code (lowercase letters, digits and `_`): `youth_request`, `guardian_request`, `signed_in_error`.
    #[schema(example = "youth_request")]
    pub reason: String,
}

/// Revokes a release: effective at once for every later read.
#[utoipa::path(
    post, path = "/consent-releases/{release_id}/revoke", tag = "consent",
    params(("release_id" = String, Path, description = "`rel_…`"), CsrfHeader), request_body = Revoke,
    responses(
        (status = 200, body = Release),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
    )
)]
pub async fn revoke(
    State(app): State<App>,
    caller: Caller,
    Path(release_id): Path<String>,
    JsonBody(body): JsonBody<Revoke>,
) -> Result<Json<Release>, ApiError> {
    staff(&caller)?;
    let id: ReleaseId = path_id(&release_id)?;
    let request =
        intake::RevokeConsentReleaseRequest { release_id: id.to_string(), reason: body.reason.trim().to_owned() };
    let answer = caller.intake(&app)?.revoke_consent_release(request).await.or_api(&caller)?;
    Ok(Json(Release::of(&answer.release.unwrap_or_default())))
}
