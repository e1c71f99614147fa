//! `TransitionStage`, `CloseCase` and `ReopenCase` (see `app::lifecycle`).

use wf_proto::cases::v1::{self as pb, CaseClosureReason, CaseStage};
use wf_proto::common::v1::LivingSituation;
use wf_server::{ApiError, FieldViolation};
use wf_types::{CaseId, ReferralId};

use super::{CasesApi, optional, past_instant};
use crate::app::lifecycle::{self, Closure};
use crate::domain::services::is_code;
use crate::store::CaseRecord;

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
    Ok(lifecycle::transition_stage(&api.app, actor, &case_id, to, &reason, effective_at).await?)
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
    ApiError::check(violations)?;
    // One reading of the clock: an exit stamped "now" is the closing instant itself.
    let now = api.app.now();
    let exited_at = instant(req.exited_at.as_ref(), "exited_at", now)?;
    let closure = Closure { reason, exit_living_situation: req.exit_living_situation, exited_at, closed_at: now };
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
    ApiError::check(violations)?;
    let reason = reason_code(&req.reason)?;
    Ok(lifecycle::reopen_case(&api.app, actor, &case_id, referral_id, &reason).await?)
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

/// An instant from the request, or `now`; never in the future (a move records what happened).
fn instant(value: Option<&prost_types::Timestamp>, field: &str, now: i64) -> Result<i64, ApiError> {
    let mut violations = Vec::new();
    let at = past_instant(value, field, now, FUTURE, &mut violations);
    ApiError::check(violations)?;
    Ok(at)
}
