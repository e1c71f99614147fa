//! `TransitionStage`, `CloseCase` and `ReopenCase`: one checked move of the lifecycle each, with its
//! history row, its missing episode and its event committed together.

use wf_events::{Envelope, outbox};
use wf_proto::cases::v1::{self as pb, CaseClosureReason, CaseStage};
use wf_proto::common::v1::LivingSituation;
use wf_proto::events::v1 as events;
use wf_server::{ApiError, FieldViolation};
use wf_types::{CaseId, ReferralId};

use super::{CasesApi, invalid};
use crate::SERVICE;
use crate::domain::follow_up;
use crate::domain::lifecycle::{self, Move};
use crate::domain::{Assignment, CaseFacts};
use crate::events::continuity;
use crate::events::timestamp;
use crate::store::lifecycle::StageMove;
use crate::store::{self, CaseRecord, LifecycleFacts};

const DAY_MICROS: i64 = 86_400_000_000;

/// What a move changes on the case, and the event announcing it.
struct Effect {
    facts: LifecycleFacts,
    event: Envelope,
    /// Set on closure: the exit instant the 6/12/24-month follow-ups count from.
    follow_ups_after_exit: Option<i64>,
}

pub(super) async fn transition_stage(
    api: &CasesApi,
    actor: &str,
    req: &pb::TransitionStageRequest,
) -> Result<CaseRecord, ApiError> {
    let case_id = parse_case_id(&req.case_id)?;
    let to = match CaseStage::try_from(req.to_stage) {
        Ok(CaseStage::Unspecified) | Err(_) => {
            return Err(invalid("to_stage", format!("{} is not a case stage", req.to_stage)));
        }
        Ok(stage) => stage,
    };
    let reason = reason_code(&req.reason)?;
    let now = api.clock.now_micros();
    let effective_at = instant(req.effective_at.as_ref(), "effective_at", now)?;
    move_case(api, &case_id, to, Move::Stage, actor, &reason, effective_at, |case| {
        let mut facts = case.lifecycle.clone();
        match to {
            CaseStage::Enrolled => {
                facts.enrolled_at = Some(effective_at);
                facts.assessment_due = Some(effective_at + lifecycle::ASSESSMENT_DUE_DAYS * DAY_MICROS);
            }
            CaseStage::Assessed => facts.assessed_at = Some(effective_at),
            _ => {}
        }
        let event = events::CaseStageChanged {
            case_id: case.case_id.clone(),
            referral_id: case.referral_id.clone(),
            from_stage: case.stage as i32,
            to_stage: to as i32,
            effective_at: Some(timestamp(effective_at)),
            reason: reason.clone(),
            practice: case.practice,
        };
        Effect {
            facts,
            event: Envelope::new(SERVICE, case.case_id.clone(), case.referral_id.clone(), &event),
            follow_ups_after_exit: None,
        }
    })
    .await
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
                format!(
                    "{} is not a closure reason; allowed: CASE_CLOSURE_REASON_GOALS_MET … CASE_CLOSURE_REASON_OTHER",
                    req.reason
                ),
            ));
            CaseClosureReason::Unspecified
        }
        Ok(reason) => reason,
    };
    if LivingSituation::try_from(req.exit_living_situation).is_err() {
        violations.push(FieldViolation::new(
            "exit_living_situation",
            format!("{} is not a living situation code (HUD 3.12)", req.exit_living_situation),
        ));
    }
    if !violations.is_empty() {
        return Err(ApiError::InvalidArgument(violations));
    }
    let now = api.clock.now_micros();
    let exited_at = instant(req.exited_at.as_ref(), "exited_at", now)?;
    let code = closure_code(reason);
    // Routing gives back the place each of the case's referrals took (the linked ones included).
    let linked_referral_ids = store::continuity::linked_referrals(&api.db, case_id.as_str()).await?;
    move_case(api, &case_id, CaseStage::Closed, Move::Close, actor, code, exited_at, |case| {
        let mut facts = case.lifecycle.clone();
        facts.exited_at = Some(exited_at);
        facts.closed_at = Some(now);
        facts.closure_reason = reason as i32;
        facts.exit_living_situation = req.exit_living_situation;
        let event = events::CaseClosed {
            case_id: case.case_id.clone(),
            referral_id: case.referral_id.clone(),
            youth_id: case.youth_id.clone().unwrap_or_default(),
            reason: reason as i32,
            exited_at: Some(timestamp(exited_at)),
            closed_at: Some(timestamp(now)),
            exit_living_situation: req.exit_living_situation,
            practice: case.practice,
            linked_referral_ids,
        };
        Effect {
            facts,
            event: Envelope::new(SERVICE, case.case_id.clone(), case.referral_id.clone(), &event),
            follow_ups_after_exit: Some(exited_at),
        }
    })
    .await
}

/// Reopens a closed case. The cap is checked again, as at any assignment: the case stays with its
/// case manager when they are active, not on leave and under their cap (it counts toward it
/// again); otherwise the assignment rule picks another eligible case manager, and with nobody
/// eligible the case waits in the supervisors' queue. Never refused for capacity: a returning
/// youth is not turned away, and quietly going over a cap would break the cap for everyone.
/// Follow-ups still open from the exit it undoes are cancelled; the next exit schedules new ones.
pub(super) async fn reopen_case(
    api: &CasesApi,
    actor: &str,
    req: &pb::ReopenCaseRequest,
) -> Result<CaseRecord, ApiError> {
    let case_id = parse_case_id(&req.case_id)?;
    if !req.referral_id.is_empty() {
        req.referral_id.parse::<ReferralId>().map_err(|err| invalid("referral_id", err))?;
    }
    let reason = reason_code(&req.reason)?;
    let now = api.clock.now_micros();
    let mut tx = api.db.begin().await?;
    store::lock_assignments(&mut tx, api.db.backend()).await?;
    let case = store::get_case_in(&mut tx, case_id.as_str()).await?.ok_or_else(|| ApiError::NotFound("case".into()))?;
    lifecycle::check(case.stage, CaseStage::Engagement, Move::Reopen)
        .map_err(|refused| ApiError::FailedPrecondition(refused.to_string()))?;
    // Read while the case is still closed, so the loads are "before this case".
    let loads = store::open_caseloads_in(&mut tx).await?;
    let roster = store::roster::load_in(&mut tx).await?;
    let referral_id = if req.referral_id.is_empty() { case.referral_id.clone() } else { req.referral_id.clone() };
    let referral = store::continuity::facts_of(&mut tx, &referral_id).await?;
    let facts = CaseFacts {
        site: case.site,
        language: referral.as_ref().map(|r| r.language.clone()).filter(|language| !language.is_empty()),
        at: now,
        emergent: referral.as_ref().is_some_and(|r| r.triage_tier == "emergent"),
    };
    let current = case.case_manager_id.as_deref().and_then(|id| id.parse().ok());
    let (assignment, continued) = continuity::assign(&roster, &loads, &facts, current.as_ref());

    let step = StageMove {
        case_id: case.case_id.clone(),
        from: case.stage,
        to: CaseStage::Engagement,
        effective_at: now,
        reason: reason.clone(),
        recorded_by: actor.to_owned(),
        recorded_at: now,
    };
    // The earlier enrollment, exit and closure stay in the stage history; the case starts over.
    let lifecycle_facts = LifecycleFacts { reopen_count: case.lifecycle.reopen_count + 1, ..LifecycleFacts::default() };
    if !store::lifecycle::apply(&mut tx, &step, &lifecycle_facts).await? {
        return Err(ApiError::FailedPrecondition(
            "the case changed stage while this request was handled; read it again and retry".into(),
        ));
    }
    let (status, assigned) =
        continuity::apply_assignment(&mut tx, &case, &referral_id, &assignment, continued, now).await?;
    let cancelled = continuity::cancel_follow_ups(&mut tx, &case).await?;
    let owner = match &assignment {
        Assignment::Assigned(to) => Some(to.case_manager_id.to_string()),
        Assignment::AwaitingAssignment(_) => None,
    };
    let closed_at = case.lifecycle.closed_at.unwrap_or(now);
    let reopened = events::CaseReopened {
        case_id: case.case_id.clone(),
        referral_id: referral_id.clone(),
        youth_id: case.youth_id.clone().unwrap_or_default(),
        case_manager_id: owner.clone().unwrap_or_default(),
        reopened_at: Some(timestamp(now)),
        days_since_closure: i32::try_from(lifecycle::whole_days_between(closed_at, now)).unwrap_or(i32::MAX),
        reason: reason.clone(),
        practice: case.practice,
    };
    let reopened = Envelope::new(SERVICE, case.case_id.clone(), case.referral_id.clone(), &reopened);
    for event in std::iter::once(&reopened).chain(&assigned).chain(&cancelled) {
        outbox::enqueue(&mut tx, api.db.backend(), event).await?;
    }
    tx.commit().await?;
    api.relay.wake();
    tracing::info!(
        case.id = %case.case_id,
        from = crate::domain::stage_code(case.stage),
        status = status.code(),
        kept_owner = owner.is_some() && owner == case.case_manager_id,
        follow_ups_cancelled = cancelled.len(),
        "case reopened"
    );
    Ok(CaseRecord {
        stage: CaseStage::Engagement,
        status,
        assigned_at: if owner.is_some() { Some(now) } else { None },
        case_manager_id: owner,
        updated_at: now,
        lifecycle: lifecycle_facts,
        ..case
    })
}

/// Reads the case, checks the move against the lifecycle table, and commits the move, its history
/// row and its event together.
#[allow(clippy::too_many_arguments)] // one call site per RPC; a struct would only rename them
async fn move_case(
    api: &CasesApi,
    case_id: &CaseId,
    to: CaseStage,
    requested: Move,
    actor: &str,
    reason: &str,
    effective_at: i64,
    effect: impl FnOnce(&CaseRecord) -> Effect,
) -> Result<CaseRecord, ApiError> {
    let now = api.clock.now_micros();
    let mut tx = api.db.begin().await?;
    let case = store::get_case_in(&mut tx, case_id.as_str()).await?.ok_or_else(|| ApiError::NotFound("case".into()))?;
    lifecycle::check(case.stage, to, requested).map_err(|refused| ApiError::FailedPrecondition(refused.to_string()))?;
    let Effect { facts, event, follow_ups_after_exit } = effect(&case);
    let step = StageMove {
        case_id: case.case_id.clone(),
        from: case.stage,
        to,
        effective_at,
        reason: reason.to_owned(),
        recorded_by: actor.to_owned(),
        recorded_at: now,
    };
    if !store::lifecycle::apply(&mut tx, &step, &facts).await? {
        return Err(ApiError::FailedPrecondition(
            "the case changed stage while this request was handled; read it again and retry".into(),
        ));
    }
    if let Some(exited_at) = follow_ups_after_exit {
        store::follow_ups::schedule(&mut tx, &case.case_id, follow_up::date_of(exited_at)).await?;
    }
    outbox::enqueue(&mut tx, api.db.backend(), &event).await?;
    tx.commit().await?;
    api.relay.wake();
    tracing::info!(
        case.id = %case.case_id,
        from = crate::domain::stage_code(case.stage),
        to = crate::domain::stage_code(to),
        event.r#type = %event.event_type,
        "case moved"
    );
    Ok(CaseRecord { stage: to, updated_at: now, lifecycle: facts, ..case })
}

fn parse_case_id(value: &str) -> Result<CaseId, ApiError> {
    value.parse::<CaseId>().map_err(|err| invalid("case_id", err))
}

/// Reasons are codes (`youth_missing`), never free text: they travel in events.
fn reason_code(value: &str) -> Result<String, ApiError> {
    if value.is_empty() {
        return Ok("unspecified".to_owned());
    }
    let is_code = value.len() <= 64
        && value.starts_with(|c: char| c.is_ascii_lowercase())
        && value.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if is_code {
        Ok(value.to_owned())
    } else {
        Err(invalid("reason", "must be a code: lowercase letters, digits and '_', starting with a letter, at most 64"))
    }
}

/// An instant from the request, or `now`; never in the future (a move records what happened).
fn instant(value: Option<&prost_types::Timestamp>, field: &str, now: i64) -> Result<i64, ApiError> {
    let Some(value) = value else { return Ok(now) };
    let at =
        wf_proto::time::datetime(value).ok_or_else(|| invalid(field, "is not a valid timestamp"))?.timestamp_micros();
    if at > now {
        return Err(invalid(field, "is in the future; record a move once it has happened"));
    }
    Ok(at)
}

fn closure_code(reason: CaseClosureReason) -> &'static str {
    match reason {
        CaseClosureReason::Unspecified => "unspecified",
        CaseClosureReason::GoalsMet => "goals_met",
        CaseClosureReason::DeclinedServices => "declined_services",
        CaseClosureReason::Unreachable => "unreachable",
        CaseClosureReason::MovedAway => "moved_away",
        CaseClosureReason::Transferred => "transferred",
        CaseClosureReason::AgedOut => "aged_out",
        CaseClosureReason::Ineligible => "ineligible",
        CaseClosureReason::Deceased => "deceased",
        CaseClosureReason::Other => "other",
    }
}
