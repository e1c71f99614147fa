//! Cases (the cases service): `GET /cases` (a caseload with filters), `GET /cases/{id}`, and the
//! lifecycle and engagement changes: `POST /cases/{id}/stage`, `POST /cases/{id}/readiness`,
//! `GET` and `POST /cases/{id}/contact-attempts`. Staff and partners alike: the cases service
//! decides what each sees (a partner only the cases it serves, in its own view; anything else is
//! not found, one body for an unknown id and another partner's case).
//!
//! Every read is audited with a purpose: `?purpose=` from the closed list, else `service_referral`
//! for a partner (as its pages read) and `case_management` for staff.

use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use wf_proto::cases::v1 as cases;
use wf_types::{CaseId, Purpose};

use super::auth::{Caller, OrApi as _};
use super::codes::{
    CaseClosureCode, ChannelCode, ContactOutcomeCode, LivingSituationCode, ReadinessCode, SiteCode, StageCode, instant,
    some, timestamp,
};
use super::error::{ApiError, ErrorBody};
use super::input::{CsrfHeader, JsonBody, Params, path_id};
use crate::app::App;

const LIST_PAGE: i32 = 200;

/// The purpose a read gives: the caller's, else the one their pages read with.
pub fn purpose(caller: &Caller, given: Option<String>) -> String {
    given.map(|p| p.trim().to_owned()).filter(|p| !p.is_empty()).unwrap_or_else(|| {
        if caller.is_partner() { Purpose::ServiceReferral.code() } else { Purpose::CaseManagement.code() }.to_owned()
    })
}

/// A case id from the address (a malformed one is not found).
pub fn case_id(raw: &str) -> Result<CaseId, ApiError> {
    path_id(raw)
}

/// One case. A partner's view holds only what it may see (the others are null or empty).
#[derive(Debug, Serialize, ToSchema)]
pub struct Case {
    pub case_id: String,
    /// The referral that opened it (for a partner, the latest it serves the case through).
    pub referral_id: Option<String>,
    pub referral_ids: Vec<String>,
    pub youth_id: Option<String>,
    /// The case manager who holds it (`cm_…`).
    pub owner: Option<String>,
    pub site: Option<SiteCode>,
    pub stage: Option<StageCode>,
    pub readiness: Option<ReadinessCode>,
    pub readiness_since: Option<DateTime<Utc>>,
    pub assigned_at: Option<DateTime<Utc>>,
    pub enrolled_at: Option<DateTime<Utc>>,
    /// 90 days after enrollment.
    pub assessment_due: Option<DateTime<Utc>>,
    pub assessed_at: Option<DateTime<Utc>>,
    pub first_contact_at: Option<DateTime<Utc>>,
    pub exited_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub closure_reason: Option<CaseClosureCode>,
    pub exit_living_situation: Option<LivingSituationCode>,
    pub engagement_approach: Option<String>,
    pub reopen_count: i32,
    /// Required evaluation fields still missing (`assessed_at`, `follow_up.month_6`, …).
    pub missing_fields: Vec<String>,
    pub merged_into_case_id: Option<String>,
    pub updated_at: Option<DateTime<Utc>>,
    pub practice: bool,
}

impl Case {
    pub fn of(c: &cases::Case) -> Self {
        Case {
            case_id: c.case_id.clone(),
            referral_id: some(&c.referral_id),
            referral_ids: c.referral_ids.clone(),
            youth_id: some(&c.youth_id),
            owner: some(&c.case_manager_id),
            site: SiteCode::of(c.site),
            stage: StageCode::of(c.stage),
            readiness: ReadinessCode::of(c.readiness),
            readiness_since: instant(&c.readiness_since),
            assigned_at: instant(&c.assigned_at),
            enrolled_at: instant(&c.enrolled_at),
            assessment_due: instant(&c.assessment_due),
            assessed_at: instant(&c.assessed_at),
            first_contact_at: instant(&c.first_contact_at),
            exited_at: instant(&c.exited_at),
            closed_at: instant(&c.closed_at),
            closure_reason: CaseClosureCode::of(c.closure_reason),
            exit_living_situation: LivingSituationCode::of(c.exit_living_situation),
            engagement_approach: some(&c.engagement_approach),
            reopen_count: c.reopen_count,
            missing_fields: c.missing_fields.clone(),
            merged_into_case_id: some(&c.merged_into_case_id),
            updated_at: instant(&c.updated_at),
            practice: c.practice,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CaseList {
    pub cases: Vec<Case>,
    /// Pass as `page_token` for the next page.
    pub next_page_token: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CaseQuery {
    /// Any of these stages (repeat the parameter).
    #[serde(default)]
    stage: Vec<StageCode>,
    site: Option<SiteCode>,
    /// The case holding this referral (`ref_…`).
    referral_id: Option<String>,
    /// Cases this case manager holds (`cm_…`). Staff only.
    owner: Option<String>,
    /// The caller's own caseload (their roster entry). Staff only.
    #[serde(default)]
    mine: bool,
    /// Only cases missing required data now. Staff only.
    #[serde(default)]
    incomplete: bool,
    /// Only cases in the supervisors' queue. Staff only.
    #[serde(default)]
    awaiting_assignment: bool,
    /// Practice cases too.
    #[serde(default)]
    practice: bool,
    /// Why the cases are read (audited).
    purpose: Option<String>,
    page_token: Option<String>,
}

/// A caseload.
#[utoipa::path(
    get, path = "/cases", tag = "cases", params(CaseQuery),
    responses(
        (status = 200, body = CaseList),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody),
    )
)]
pub async fn list(
    State(app): State<App>,
    caller: Caller,
    Params(query): Params<CaseQuery>,
) -> Result<Json<CaseList>, ApiError> {
    let owner = match (query.owner, query.mine) {
        (Some(_), true) => {
            return Err(ApiError::invalid_field(
                "mine",
                "cannot be combined with owner (both name who holds the case); allowed: one of them",
            ));
        }
        (Some(owner), false) => owner,
        (None, true) => caller.roster_entry(&app).await?.ok_or_else(|| {
            ApiError::invalid_field(
                "mine",
                "lists the cases you hold, but your sign-in is not linked to an entry in the case-manager roster; \
                 allowed: leave it out, or ask a supervisor to link your sign-in",
            )
        })?,
        (None, false) => String::new(),
    };
    let request = cases::ListCasesRequest {
        case_manager_id: owner,
        site: query.site.map_or(0, |s| s.number()),
        stages: query.stage.iter().map(|s| s.number()).collect(),
        referral_id: query.referral_id.unwrap_or_default(),
        incomplete_only: query.incomplete,
        awaiting_assignment: query.awaiting_assignment,
        include_practice: query.practice,
        page_size: LIST_PAGE,
        page_token: query.page_token.unwrap_or_default(),
        purpose: purpose(&caller, query.purpose),
        ..Default::default()
    };
    let answer = caller.cases(&app)?.list_cases(request).await.or_api(&caller)?;
    Ok(Json(CaseList {
        cases: answer.cases.iter().map(Case::of).collect(),
        next_page_token: some(&answer.next_page_token),
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReadQuery {
    /// Why the record is read (audited; a code from the closed list).
    purpose: Option<String>,
    page_token: Option<String>,
}

/// One case.
#[utoipa::path(
    get, path = "/cases/{case_id}", tag = "cases",
    params(("case_id" = String, Path, description = "`case_…`"), ReadQuery),
    responses(
        (status = 200, body = Case),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, description = "Unknown, malformed, or not the caller's to see: one body", body = ErrorBody),
    )
)]
pub async fn get(
    State(app): State<App>,
    caller: Caller,
    Path(raw): Path<String>,
    Params(query): Params<ReadQuery>,
) -> Result<Json<Case>, ApiError> {
    let id = case_id(&raw)?;
    let request = cases::GetCaseRequest { case_id: id.to_string(), purpose: purpose(&caller, query.purpose) };
    let case = caller.cases(&app)?.get_case(request).await.or_api(&caller)?.case.ok_or_else(ApiError::not_found)?;
    Ok(Json(Case::of(&case)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StageChange {
    pub to_stage: StageCode,
    /// Coded reason: `assessment_completed`, `youth_missing`, `youth_found`, …
    #[schema(example = "assessment_completed")]
    pub reason: String,
    /// When it happened, if not now.
    #[serde(default)]
    pub effective_at: Option<DateTime<Utc>>,
    /// The case's `updated_at` as the caller last read it (required): a change made since is
    /// refused (409, saying who changed the case and when), never silently overwritten.
    pub expected_updated_at: DateTime<Utc>,
}

/// Moves the case to another stage (only the lifecycle's next stages are allowed: else 409).
#[utoipa::path(
    post, path = "/cases/{case_id}/stage", tag = "cases",
    params(("case_id" = String, Path), CsrfHeader), request_body = StageChange,
    responses(
        (status = 200, body = Case),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
    )
)]
pub async fn stage(
    State(app): State<App>,
    caller: Caller,
    Path(raw): Path<String>,
    JsonBody(body): JsonBody<StageChange>,
) -> Result<Json<Case>, ApiError> {
    let id = case_id(&raw)?;
    let request = cases::TransitionStageRequest {
        case_id: id.to_string(),
        to_stage: body.to_stage.number(),
        reason: body.reason.trim().to_owned(),
        effective_at: body.effective_at.map(timestamp),
        expected_updated_at: Some(timestamp(body.expected_updated_at)),
    };
    let case =
        caller.cases(&app)?.transition_stage(request).await.or_api(&caller)?.case.ok_or_else(ApiError::not_found)?;
    Ok(Json(Case::of(&case)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadinessChange {
    pub readiness: ReadinessCode,
    #[serde(default)]
    pub effective_at: Option<DateTime<Utc>>,
    /// The case's `updated_at` as the caller last read it (required): a change made since is
    /// refused (409, saying who changed the case and when), never silently overwritten.
    pub expected_updated_at: DateTime<Utc>,
}

/// Records the youth's readiness.
#[utoipa::path(
    post, path = "/cases/{case_id}/readiness", tag = "cases",
    params(("case_id" = String, Path), CsrfHeader), request_body = ReadinessChange,
    responses(
        (status = 200, body = Case),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
    )
)]
pub async fn readiness(
    State(app): State<App>,
    caller: Caller,
    Path(raw): Path<String>,
    JsonBody(body): JsonBody<ReadinessChange>,
) -> Result<Json<Case>, ApiError> {
    let id = case_id(&raw)?;
    let request = cases::SetReadinessRequest {
        case_id: id.to_string(),
        readiness: body.readiness.number(),
        effective_at: body.effective_at.map(timestamp),
        expected_updated_at: Some(timestamp(body.expected_updated_at)),
    };
    let case =
        caller.cases(&app)?.set_readiness(request).await.or_api(&caller)?.case.ok_or_else(ApiError::not_found)?;
    Ok(Json(Case::of(&case)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ContactAttempt {
    pub contact_attempt_id: String,
    pub referral_id: Option<String>,
    pub attempted_at: Option<DateTime<Utc>>,
    pub channel: Option<ChannelCode>,
    pub outcome: Option<ContactOutcomeCode>,
    pub engagement_approach: Option<String>,
    /// Who attempted (staff only).
    pub attempted_by: Option<String>,
    pub organization_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ContactAttemptList {
    pub contact_attempts: Vec<ContactAttempt>,
    pub next_page_token: Option<String>,
}

/// The case's contact attempts (a partner: its own).
#[utoipa::path(
    get, path = "/cases/{case_id}/contact-attempts", tag = "cases",
    params(("case_id" = String, Path), ReadQuery),
    responses(
        (status = 200, body = ContactAttemptList),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    )
)]
pub async fn contact_attempts(
    State(app): State<App>,
    caller: Caller,
    Path(raw): Path<String>,
    Params(query): Params<ReadQuery>,
) -> Result<Json<ContactAttemptList>, ApiError> {
    let id = case_id(&raw)?;
    let request = cases::ListContactAttemptsRequest {
        case_id: id.to_string(),
        page_size: LIST_PAGE,
        page_token: query.page_token.unwrap_or_default(),
        purpose: purpose(&caller, query.purpose),
    };
    let answer = caller.cases(&app)?.list_contact_attempts(request).await.or_api(&caller)?;
    Ok(Json(ContactAttemptList {
        contact_attempts: answer
            .contact_attempts
            .iter()
            .map(|a| ContactAttempt {
                contact_attempt_id: a.contact_attempt_id.clone(),
                referral_id: some(&a.referral_id),
                attempted_at: instant(&a.attempted_at),
                channel: ChannelCode::of(a.channel),
                outcome: ContactOutcomeCode::of(a.outcome),
                engagement_approach: some(&a.engagement_approach),
                attempted_by: some(&a.attempted_by),
                organization_id: some(&a.organization_id),
            })
            .collect(),
        next_page_token: some(&answer.next_page_token),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewContactAttempt {
    pub attempted_at: DateTime<Utc>,
    pub channel: ChannelCode,
    pub outcome: ContactOutcomeCode,
    /// Engagement approach code (`survivor_mentor`, …).
    #[serde(default)]
    pub engagement_approach: Option<String>,
    /// One of the case's referrals; left out: the case's current one.
    #[serde(default)]
    pub referral_id: Option<String>,
}

/// The id of what was recorded.
#[derive(Debug, Serialize, ToSchema)]
pub struct Recorded {
    pub id: String,
}

/// field paths of the cases service (`contact_attempt.channel`) as this body names them (`channel`).
pub fn body_fields(prefix: &'static str) -> impl Fn(ApiError) -> ApiError {
    move |err| {
        if err.code != super::error::Code::InvalidArgument {
            return err;
        }
        let violations = err
            .violations
            .into_iter()
            .map(|v| wf_types::FieldViolation::new(v.field.strip_prefix(prefix).unwrap_or(&v.field), v.description))
            .collect();
        ApiError::invalid(violations)
    }
}

/// Records an attempt to reach the youth.
#[utoipa::path(
    post, path = "/cases/{case_id}/contact-attempts", tag = "cases",
    params(("case_id" = String, Path), CsrfHeader), request_body = NewContactAttempt,
    responses(
        (status = 201, body = Recorded),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn record_contact_attempt(
    State(app): State<App>,
    caller: Caller,
    Path(raw): Path<String>,
    JsonBody(body): JsonBody<NewContactAttempt>,
) -> Result<(axum::http::StatusCode, Json<Recorded>), ApiError> {
    let id = case_id(&raw)?;
    let request = cases::RecordContactAttemptRequest {
        contact_attempt: Some(cases::ContactAttempt {
            case_id: id.to_string(),
            referral_id: body.referral_id.unwrap_or_default(),
            attempted_at: Some(timestamp(body.attempted_at)),
            channel: body.channel.number(),
            outcome: body.outcome.number(),
            engagement_approach: body.engagement_approach.unwrap_or_default(),
            ..Default::default()
        }),
    };
    let answer = caller
        .cases(&app)?
        .record_contact_attempt(request)
        .await
        .or_api(&caller)
        .map_err(body_fields("contact_attempt."))?;
    Ok((axum::http::StatusCode::CREATED, Json(Recorded { id: answer.contact_attempt_id })))
}
