//! `TransitionStage`, `CloseCase` and `ReopenCase` (see `app::lifecycle`), and the stage history
//! (`ListStageChanges`).

use wf_auth::Principal;
use wf_proto::cases::v1::{self as pb, CaseClosureReason, CaseStage};
use wf_proto::common::v1::LivingSituation;
use wf_server::pagination::{next_page, page_token};
use wf_server::{ApiError, FieldViolation};
use wf_types::{CaseId, Purpose, ReferralId};

use super::{CasesApi, PAGES, expected_updated_at, optional, past_instant, required};
use crate::app::access::{self, Reader};
use crate::app::lifecycle::{self, Closure, MoveRequest};
use crate::app::{methods, readable_case};
use crate::domain::services::is_code;
use crate::store::CaseRecord;
use crate::store::{self, CaseRef};
use crate::timestamp;

const FUTURE: &str = "is in the future; record a move once it has happened";

pub(super) async fn transition_stage(
    api: &CasesApi,
    actor: &str,
    req: &pb::TransitionStageRequest,
) -> Result<CaseRecord, ApiError> {
    let case_id = parse_case_id(&req.case_id)?;
    let to = match CaseStage::try_from(req.to_stage) {
        Ok(CaseStage::Unspecified) | Err(_) => {
            return Err(ApiError::invalid(
                "to_stage",
                "is not a case stage; allowed: CASE_STAGE_ENGAGEMENT … CASE_STAGE_POST_EXIT_FOLLOW_UP",
            ));
        }
        Ok(stage) => stage,
    };
    let reason = reason_code(&req.reason)?;
    let effective_at = instant(req.effective_at.as_ref(), "effective_at", api.app.now())?;
    let expected_updated_at = expected(req.expected_updated_at.as_ref())?;
    let request = MoveRequest { case_id: &case_id, expected_updated_at, actor, reason: &reason, effective_at };
    Ok(lifecycle::transition_stage(&api.app, request, to).await?)
}

pub(super) async fn close_case(
    api: &CasesApi,
    actor: &str,
    req: &pb::CloseCaseRequest,
) -> Result<CaseRecord, ApiError> {
    let case_id = parse_case_id(&req.case_id)?;
    let mut violations = Vec::new();
    let reason = match CaseClosureReason::try_from(req.reason) {
        Ok(CaseClosureReason::Unspecified) | Err(_) => {
            violations.push(FieldViolation::new(
                "reason",
                "is not a closure reason; allowed: CASE_CLOSURE_REASON_GOALS_MET … CASE_CLOSURE_REASON_OTHER",
            ));
            CaseClosureReason::Unspecified
        }
        Ok(CaseClosureReason::Merged) => {
            violations.push(FieldViolation::new(
                "reason",
                "CASE_CLOSURE_REASON_MERGED is set by cases when a confirmed match joins two open cases; \
                 allowed: CASE_CLOSURE_REASON_GOALS_MET … CASE_CLOSURE_REASON_OTHER",
            ));
            CaseClosureReason::Unspecified
        }
        Ok(reason) => reason,
    };
    if LivingSituation::try_from(req.exit_living_situation).is_err() {
        violations.push(FieldViolation::new("exit_living_situation", "is not a living situation code (HUD 3.12)"));
    }
    let expected_updated_at = expected_updated_at(req.expected_updated_at.as_ref(), &mut violations);
    ApiError::check(violations)?;
    // One reading of the clock: an exit stamped "now" is the closing instant itself.
    let now = api.app.now();
    let exited_at = instant(req.exited_at.as_ref(), "exited_at", now)?;
    let closure = Closure {
        reason,
        exit_living_situation: req.exit_living_situation,
        exited_at,
        closed_at: now,
        expected_updated_at,
    };
    Ok(lifecycle::close_case(&api.app, actor, &case_id, closure).await?)
}

pub(super) async fn reopen_case(
    api: &CasesApi,
    actor: &str,
    req: &pb::ReopenCaseRequest,
) -> Result<CaseRecord, ApiError> {
    let case_id = parse_case_id(&req.case_id)?;
    let mut violations = Vec::new();
    let referral_id = optional::<ReferralId>("referral_id", &req.referral_id, &mut violations);
    let expected_updated_at = expected_updated_at(req.expected_updated_at.as_ref(), &mut violations);
    ApiError::check(violations)?;
    let reason = reason_code(&req.reason)?;
    let request =
        MoveRequest { case_id: &case_id, expected_updated_at, actor, reason: &reason, effective_at: api.app.now() };
    Ok(lifecycle::reopen_case(&api.app, request, referral_id).await?)
}

/// `ListStageChanges`: the case's moves, oldest first (staff only, by the authorization table); the
/// read is recorded. The page token is the last move's row number.
pub(super) async fn list_stage_changes(
    api: &CasesApi,
    principal: &Principal,
    req: &pb::ListStageChangesRequest,
) -> Result<pb::ListStageChangesResponse, ApiError> {
    let mut violations = Vec::new();
    let case_id = required::<CaseId>("case_id", &req.case_id, &mut violations);
    let purpose = Purpose::optional(&req.purpose, "purpose", &mut violations);
    let limit = PAGES.size(req.page_size, &mut violations);
    let after = page_token::<i64>(&req.page_token, &mut violations);
    let Some(case_id) = case_id.filter(|_| violations.is_empty()) else {
        return Err(ApiError::InvalidArgument(violations));
    };
    let case = readable_case(&api.app, principal, case_id.as_str(), methods::LIST_STAGE_CHANGES).await?;
    let mut rows = store::lifecycle::history_page(api.app.db(), &case.case_id, after, limit + 1).await?;
    let next_page_token = next_page(&mut rows, limit, |(id, _)| id.to_string());
    access::read_case(&api.app, Reader::new(principal, purpose), &CaseRef::from(&case), access::STAGE_HISTORY).await?;
    let stage_changes = rows
        .iter()
        .map(|(_, step)| pb::StageChange {
            from_stage: step.from as i32,
            to_stage: step.to as i32,
            effective_at: Some(timestamp(step.effective_at)),
            reason: step.reason.clone(),
            recorded_by: step.recorded_by.clone(),
            recorded_at: Some(timestamp(step.recorded_at)),
        })
        .collect();
    Ok(pb::ListStageChangesResponse { stage_changes, next_page_token })
}

fn parse_case_id(value: &str) -> Result<CaseId, ApiError> {
    value.parse::<CaseId>().map_err(|err| ApiError::invalid("case_id", err.to_string()))
}

/// Reasons are codes (`youth_missing`), never free text: they travel in events.
fn reason_code(value: &str) -> Result<String, ApiError> {
    if value.is_empty() {
        return Ok("unspecified".to_owned());
    }
    if is_code(value) {
        Ok(value.to_owned())
    } else {
        Err(ApiError::invalid(
            "reason",
            "must be a code: lowercase letters, digits and '_', starting with a letter, at most 64",
        ))
    }
}

/// The request's `expected_updated_at`, in microseconds (see `super::expected_updated_at`).
fn expected(value: Option<&prost_types::Timestamp>) -> Result<Option<i64>, ApiError> {
    let mut violations = Vec::new();
    let expected = expected_updated_at(value, &mut violations);
    ApiError::check(violations)?;
    Ok(expected)
}

/// An instant from the request, or `now`; never in the future (a move records what happened).
fn instant(value: Option<&prost_types::Timestamp>, field: &str, now: i64) -> Result<i64, ApiError> {
    let mut violations = Vec::new();
    let at = past_instant(value, field, now, FUTURE, &mut violations);
    ApiError::check(violations)?;
    Ok(at)
}
