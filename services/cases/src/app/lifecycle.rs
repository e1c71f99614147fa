//! Lifecycle moves: `TransitionStage`, `CloseCase` and `ReopenCase`, each one checked move with
//! its history row, its missing episode and its event committed together; and the reopening a
//! returning youth's new referral makes ([`reopen_in`], shared with `referrals`).

use wf_db::{DbError, Tx};
use wf_events::Envelope;
use wf_proto::cases::v1::{CaseClosureReason, CaseStage};
use wf_proto::events::v1 as events;
use wf_types::{CaseId, ReferralId};

use super::{App, CHANGED_CONCURRENTLY, CaseError, case_in};
use crate::SERVICE;
use crate::domain::lifecycle::{self, Move};
use crate::domain::{Assignment, CaseFacts, CaseStatus, follow_up, reassign, stage_code};
use crate::store::lifecycle::StageMove;
use crate::store::{self, CaseRecord, LifecycleFacts};
use crate::timestamp;

const DAY_MICROS: i64 = 86_400_000_000;

/// `TransitionStage`: moves an open case to `to`, effective at `effective_at`.
pub async fn transition_stage(
    app: &App,
    actor: &str,
    case_id: &CaseId,
    to: CaseStage,
    reason: &str,
    effective_at: i64,
) -> Result<CaseRecord, CaseError> {
    move_case(app, case_id, to, Move::Stage, actor, reason, effective_at, |case| {
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
            reason: reason.to_owned(),
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

/// How a case ends: why, where the youth lives at exit, and when they exited.
#[derive(Debug, Clone, Copy)]
pub struct Closure {
    pub reason: CaseClosureReason,
    /// A `LivingSituation` number (HUD 3.12).
    pub exit_living_situation: i32,
    pub exited_at: i64,
    /// When the case is closed (the caller's one reading of the service clock).
    pub closed_at: i64,
}

/// `CloseCase`: closes the case and schedules its 6/12/24-month follow-ups from the exit.
pub async fn close_case(app: &App, actor: &str, case_id: &CaseId, closure: Closure) -> Result<CaseRecord, CaseError> {
    let Closure { reason, exit_living_situation, exited_at, closed_at: now } = closure;
    // Routing gives back the place each of the case's referrals took (the linked ones included).
    let linked_referral_ids = store::continuity::linked_referrals(&app.db, case_id.as_str()).await?;
    move_case(app, case_id, CaseStage::Closed, Move::Close, actor, closure_code(reason), exited_at, |case| {
        let mut facts = case.lifecycle.clone();
        facts.exited_at = Some(exited_at);
        facts.closed_at = Some(now);
        facts.closure_reason = reason as i32;
        facts.exit_living_situation = exit_living_situation;
        let event = events::CaseClosed {
            case_id: case.case_id.clone(),
            referral_id: case.referral_id.clone(),
            youth_id: case.youth_id.clone().unwrap_or_default(),
            reason: reason as i32,
            exited_at: Some(timestamp(exited_at)),
            closed_at: Some(timestamp(now)),
            exit_living_situation,
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

/// `ReopenCase`: reopens a closed case, for `referral_id` (the case's own when `None`). The cap
/// is checked again, as at any assignment: the case stays with its case manager when they are
/// active, not on leave and under their cap (it counts toward it again); otherwise the
/// assignment rule picks another eligible case manager, and with nobody eligible the case waits
/// in the supervisors' queue. Never refused for capacity: a returning youth is not turned away,
/// and quietly going over a cap would break the cap for everyone. Follow-ups still open from the
/// exit it undoes are cancelled; the next exit schedules new ones.
pub async fn reopen_case(
    app: &App,
    actor: &str,
    case_id: &CaseId,
    referral_id: Option<ReferralId>,
    reason: &str,
) -> Result<CaseRecord, CaseError> {
    let now = app.now();
    let mut tx = app.db.begin().await?;
    store::lock_assignments(&mut tx, app.db.backend()).await?;
    let case = case_in(&mut tx, case_id.as_str()).await?;
    lifecycle::check(case.stage, CaseStage::Engagement, Move::Reopen)
        .map_err(|refused| CaseError::Precondition(refused.to_string()))?;
    // Read while the case is still closed, so the loads are "before this case".
    let loads = store::open_caseloads_in(&mut tx).await?;
    let roster = store::roster::load_in(&mut tx).await?;
    let referral_id = referral_id.map_or_else(|| case.referral_id.clone(), |id| id.to_string());
    let referral = store::continuity::facts_of(&mut tx, &referral_id).await?;
    let facts = CaseFacts {
        site: case.site,
        language: referral.as_ref().map(|r| r.language.clone()).filter(|language| !language.is_empty()),
        at: now,
        emergent: referral.as_ref().is_some_and(|r| r.triage_tier == "emergent"),
    };
    let current = case.case_manager_id.as_deref().and_then(|id| id.parse().ok());
    let (assignment, continued) = reassign::with_continuity(&roster, &loads, &facts, current.as_ref());
    let reopening = Reopening {
        referral_id: &referral_id,
        correlation_id: &case.referral_id,
        reason,
        recorded_by: actor,
        closed_at: case.lifecycle.closed_at.unwrap_or(now),
        now,
    };
    let Some(reopened) = reopen_in(&mut tx, &case, &reopening, &assignment, continued).await? else {
        return Err(CaseError::Precondition(CHANGED_CONCURRENTLY.into()));
    };
    app.commit(tx, &reopened.events).await?;
    tracing::info!(
        case.id = %case.case_id,
        from = stage_code(case.stage),
        status = reopened.status.code(),
        kept_owner = reopened.owner.is_some() && reopened.owner == case.case_manager_id,
        follow_ups_cancelled = reopened.follow_ups_cancelled,
        "case reopened"
    );
    Ok(CaseRecord {
        stage: CaseStage::Engagement,
        status: reopened.status,
        assigned_at: if reopened.owner.is_some() { Some(now) } else { None },
        case_manager_id: reopened.owner,
        updated_at: now,
        lifecycle: reopened.facts,
        ..case
    })
}

/// One reopening of a closed case.
pub(crate) struct Reopening<'a> {
    /// The referral the case is reopened for (`case.reopened` names it).
    pub referral_id: &'a str,
    /// The referral `case.reopened` is correlated with.
    pub correlation_id: &'a str,
    pub reason: &'a str,
    pub recorded_by: &'a str,
    /// When the case was closed (`days_since_closure` counts from it).
    pub closed_at: i64,
    pub now: i64,
}

/// What a reopening did, and its events (`case.reopened` first) for the caller's outbox.
pub(crate) struct Reopened {
    pub status: CaseStatus,
    pub owner: Option<String>,
    pub facts: LifecycleFacts,
    pub events: Vec<Envelope>,
    pub follow_ups_cancelled: usize,
}

/// Moves a closed case (already checked, the assignment lock held) back to engagement: its
/// stage history, the owner `assignment` chose, the cancelled follow-ups of the exit it undoes,
/// and `case.reopened`. `None` when a concurrent move won (nothing was written).
pub(crate) async fn reopen_in(
    tx: &mut Tx,
    case: &CaseRecord,
    reopening: &Reopening<'_>,
    assignment: &Assignment,
    continued: bool,
) -> Result<Option<Reopened>, DbError> {
    let Reopening { referral_id, correlation_id, reason, recorded_by, closed_at, now } = *reopening;
    let step = StageMove {
        case_id: case.case_id.clone(),
        from: case.stage,
        to: CaseStage::Engagement,
        effective_at: now,
        reason: reason.to_owned(),
        recorded_by: recorded_by.to_owned(),
        recorded_at: now,
    };
    // The earlier enrollment, exit and closure stay in the stage history; the case starts over.
    let facts = LifecycleFacts { reopen_count: case.lifecycle.reopen_count + 1, ..LifecycleFacts::default() };
    if !store::lifecycle::apply(tx, &step, &facts).await? {
        return Ok(None);
    }
    let (status, assigned) =
        super::assignment::apply_to_reopened(tx, case, referral_id, assignment, continued, now).await?;
    let cancelled = super::follow_ups::cancel_open(tx, case).await?;
    let owner = match assignment {
        Assignment::Assigned(to) => Some(to.case_manager_id.to_string()),
        Assignment::AwaitingAssignment(_) => None,
    };
    let reopened = events::CaseReopened {
        case_id: case.case_id.clone(),
        referral_id: referral_id.to_owned(),
        youth_id: case.youth_id.clone().unwrap_or_default(),
        case_manager_id: owner.clone().unwrap_or_default(),
        reopened_at: Some(timestamp(now)),
        days_since_closure: i32::try_from(lifecycle::whole_days_between(closed_at, now)).unwrap_or(i32::MAX),
        reason: reason.to_owned(),
        practice: case.practice,
    };
    let follow_ups_cancelled = cancelled.len();
    let mut events = vec![Envelope::new(SERVICE, case.case_id.clone(), correlation_id.to_owned(), &reopened)];
    events.extend(assigned);
    events.extend(cancelled);
    Ok(Some(Reopened { status, owner, facts, events, follow_ups_cancelled }))
}

/// What a move changes on the case, and the event announcing it.
struct Effect {
    facts: LifecycleFacts,
    event: Envelope,
    /// Set on closure: the exit instant the 6/12/24-month follow-ups count from.
    follow_ups_after_exit: Option<i64>,
}

/// Reads the case, checks the move against the lifecycle table, and commits the move, its history
/// row and its event together.
#[allow(clippy::too_many_arguments)] // one call site per RPC; a struct would only rename them
async fn move_case(
    app: &App,
    case_id: &CaseId,
    to: CaseStage,
    requested: Move,
    actor: &str,
    reason: &str,
    effective_at: i64,
    effect: impl FnOnce(&CaseRecord) -> Effect,
) -> Result<CaseRecord, CaseError> {
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let case = case_in(&mut tx, case_id.as_str()).await?;
    lifecycle::check(case.stage, to, requested).map_err(|refused| CaseError::Precondition(refused.to_string()))?;
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
        return Err(CaseError::Precondition(CHANGED_CONCURRENTLY.into()));
    }
    if let Some(exited_at) = follow_ups_after_exit {
        store::follow_ups::schedule(&mut tx, &case.case_id, follow_up::date_of(exited_at)).await?;
    }
    app.commit(tx, std::slice::from_ref(&event)).await?;
    tracing::info!(
        case.id = %case.case_id,
        from = stage_code(case.stage),
        to = stage_code(to),
        event.r#type = %event.event_type,
        "case moved"
    );
    Ok(CaseRecord { stage: to, updated_at: now, lifecycle: facts, ..case })
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
