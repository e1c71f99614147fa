//! `ReassignCase`: a supervisor moves a case to another case manager (or out of the supervisors'
//! queue), with a coded reason, under the same lock and caps as the first assignment.

use wf_auth::{Principal, Role};
use wf_events::{Envelope, outbox};
use wf_proto::cases::v1::{self as pb, ReassignReason};
use wf_proto::events::v1 as events;
use wf_server::{ApiError, FieldViolation};
use wf_types::{CaseId, CaseManagerId};

use super::CasesApi;
use crate::SERVICE;
use crate::domain::reassign::{self, NotAssignable};
use crate::domain::{Assignment, CaseFacts, lifecycle};
use crate::events::timestamp;
use crate::store::{self, AssignmentRecord, CaseRecord};

pub(super) async fn reassign_case(api: &CasesApi, req: &pb::ReassignCaseRequest) -> Result<CaseRecord, ApiError> {
    let mut violations = Vec::new();
    let case_id = match req.case_id.parse::<CaseId>() {
        Ok(id) => Some(id),
        Err(err) => {
            violations.push(FieldViolation::new("case_id", err.to_string()));
            None
        }
    };
    let target = if req.case_manager_id.is_empty() {
        None
    } else {
        match req.case_manager_id.parse::<CaseManagerId>() {
            Ok(id) => Some(id),
            Err(err) => {
                violations.push(FieldViolation::new("case_manager_id", err.to_string()));
                None
            }
        }
    };
    let reason = match ReassignReason::try_from(req.reason) {
        Ok(ReassignReason::Unspecified) | Err(_) => {
            violations.push(FieldViolation::new(
                "reason",
                format!("{} is not a reassignment reason; allowed: REASSIGN_REASON_CASELOAD_BALANCE … REASSIGN_REASON_OTHER", req.reason),
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

    let now = api.clock.now_micros();
    let mut tx = api.db.begin().await?;
    store::lock_assignments(&mut tx, api.db.backend()).await?;
    let case = store::get_case_in(&mut tx, case_id.as_str()).await?.ok_or_else(|| ApiError::NotFound("case".into()))?;
    if lifecycle::is_closed(case.stage) {
        return Err(ApiError::FailedPrecondition(format!(
            "case is in stage {}; reopen it before reassigning",
            crate::domain::stage_code(case.stage)
        )));
    }
    let current: Option<CaseManagerId> = case.case_manager_id.as_deref().and_then(|id| id.parse().ok());
    let loads = store::open_caseloads_in(&mut tx).await?;
    let roster = store::roster::load_in(&mut tx).await?;
    let facts = CaseFacts { site: case.site, language: None, at: now, emergent: false };
    let to = match &target {
        Some(target) => reassign::to_named(&roster, &loads, &facts, target, current.as_ref())
            .map_err(|why: NotAssignable| ApiError::FailedPrecondition(format!("case_manager_id {target} {why}")))?,
        None => match reassign::to_someone_else(&roster, &loads, &facts, current.as_ref()) {
            Assignment::Assigned(to) => to,
            Assignment::AwaitingAssignment(why) => {
                return Err(ApiError::FailedPrecondition(format!(
                    "no other case manager can take the case ({}); name one with case_manager_id",
                    why.code()
                )));
            }
        },
    };
    let reason_code = reason_code(reason, &req.detail);
    store::set_owner(&mut tx, &case.case_id, to.case_manager_id.as_str(), now).await?;
    store::insert_assignment(
        &mut tx,
        &AssignmentRecord {
            case_id: case.case_id.clone(),
            case_manager_id: to.case_manager_id.to_string(),
            assigned_at: now,
            reason: format!("reassigned by supervisor: {reason_code} ({}/{})", to.open_cases, to.max_caseload),
            open_cases_before: to.open_cases,
            max_caseload: to.max_caseload,
        },
    )
    .await?;
    let event = events::CaseAssigned {
        case_id: case.case_id.clone(),
        referral_id: case.referral_id.clone(),
        case_manager_id: to.case_manager_id.to_string(),
        site: case.site.to_proto() as i32,
        assigned_at: Some(timestamp(now)),
        practice: case.practice,
        reason: "manual".to_owned(),
        youth_id: case.youth_id.clone().unwrap_or_default(),
        previous_case_manager_id: case.case_manager_id.clone().unwrap_or_default(),
        reassign_reason: reason as i32,
    };
    outbox::enqueue(
        &mut tx,
        api.db.backend(),
        &Envelope::new(SERVICE, case.case_id.clone(), case.referral_id.clone(), &event),
    )
    .await?;
    tx.commit().await?;
    api.relay.wake();
    tracing::info!(
        case.id = %case.case_id,
        case_manager.id = %to.case_manager_id,
        previous = case.case_manager_id.as_deref().unwrap_or(""),
        reason = %reason_code,
        "case reassigned"
    );
    Ok(CaseRecord {
        case_manager_id: Some(to.case_manager_id.to_string()),
        status: crate::domain::CaseStatus::Assigned,
        assigned_at: Some(now),
        updated_at: now,
        ..case
    })
}

fn reason_code(reason: ReassignReason, detail: &str) -> String {
    let code = reason.as_str_name().trim_start_matches("REASSIGN_REASON_").to_ascii_lowercase();
    if detail.is_empty() { code } else { format!("{code}:{detail}") }
}

/// ManageCases lets case managers move their own cases through the lifecycle; handing a case to
/// someone else is the supervisors' decision (and a service's, acting for them).
#[allow(clippy::result_large_err)] // tonic::Status is what every handler returns anyway
pub(super) fn may_reassign(principal: &Principal) -> Result<(), tonic::Status> {
    if matches!(principal.role, Role::Supervisor | Role::Service) {
        Ok(())
    } else {
        Err(tonic::Status::permission_denied(format!("role {} may not reassign cases", principal.role)))
    }
}
