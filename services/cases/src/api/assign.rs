//! `ReassignCase`: a supervisor moves a case to another case manager (or out of the supervisors'
//! queue), with a coded reason.

use wf_proto::cases::v1::{self as pb, ReassignReason};
use wf_server::{ApiError, FieldViolation};
use wf_types::{CaseId, CaseManagerId};

use super::{CasesApi, expected_updated_at, optional, required};
use crate::app::assignment::{self, Reassign};
use crate::store::CaseRecord;

pub(super) async fn reassign_case(
    api: &CasesApi,
    actor: &str,
    req: &pb::ReassignCaseRequest,
) -> Result<CaseRecord, ApiError> {
    let mut violations = Vec::new();
    let expected_updated_at = expected_updated_at(req.expected_updated_at.as_ref(), &mut violations);
    let case_id = required::<CaseId>("case_id", &req.case_id, &mut violations);
    let target = optional::<CaseManagerId>("case_manager_id", &req.case_manager_id, &mut violations);
    let reason = match ReassignReason::try_from(req.reason) {
        Ok(ReassignReason::Unspecified) | Err(_) => {
            violations.push(FieldViolation::new(
                "reason",
                "is not a reassignment reason; allowed: REASSIGN_REASON_CASELOAD_BALANCE … REASSIGN_REASON_OTHER",
            ));
            ReassignReason::Unspecified
        }
        Ok(reason) => reason,
    };
    let detail_is_code =
        req.detail.len() <= 64 && req.detail.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if !detail_is_code {
        violations.push(FieldViolation::new("detail", "must be a code: lowercase letters, digits and '_', at most 64"));
    } else if reason == ReassignReason::Other && req.detail.is_empty() {
        violations.push(FieldViolation::new("detail", "is required with REASSIGN_REASON_OTHER"));
    }
    let (Some(case_id), true) = (case_id, violations.is_empty()) else {
        return Err(ApiError::InvalidArgument(violations));
    };
    let request =
        Reassign { case_id, target, reason, detail: req.detail.clone(), expected_updated_at, actor: actor.to_owned() };
    Ok(assignment::reassign(&api.app, request).await?)
}

pub(super) async fn claim_case(
    api: &CasesApi,
    actor: &str,
    req: &pb::ClaimCaseRequest,
) -> Result<CaseRecord, ApiError> {
    let mut violations = Vec::new();
    let expected_updated_at = expected_updated_at(req.expected_updated_at.as_ref(), &mut violations);
    let case_id = required::<CaseId>("case_id", &req.case_id, &mut violations);
    let (Some(case_id), true) = (case_id, violations.is_empty()) else {
        return Err(ApiError::InvalidArgument(violations));
    };
    Ok(assignment::claim(&api.app, case_id, expected_updated_at, actor).await?)
}
