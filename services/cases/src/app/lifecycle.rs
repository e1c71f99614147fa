//! Lifecycle moves: `TransitionStage`, `CloseCase` and `ReopenCase`, each one checked move with
//! its history row, its missing episode, the follow-ups it schedules and its event committed
//! together; and the reopening a returning youth's new referral makes ([`reopen_in`], shared with
//! `referrals`).

use wf_db::{DbError, Tx};
use wf_events::Envelope;
use wf_proto::cases::v1::{CaseClosureReason, CaseStage, FollowUpKind};
use wf_proto::events::v1 as events;
use wf_types::{CaseId, ReferralId};

use super::{App, CHANGED_CONCURRENTLY, CaseError, case_to_change};
use crate::SERVICE;
use crate::domain::continuity::{self, Comeback};
use crate::domain::follow_up::{self, Window};
use crate::domain::lifecycle::{self, Move};
use crate::domain::{Assignment, CaseFacts, CaseStatus, reassign, stage_code};
use crate::store::continuity::Episode;
use crate::store::lifecycle::StageMove;
use crate::store::{self, CaseRecord, LifecycleFacts};
use crate::timestamp;

const DAY_MICROS: i64 = 86_400_000_000;

/// A move as the request asks for it: which case, as the caller read it, by whom, why and when.
#[derive(Debug, Clone, Copy)]
pub struct MoveRequest<'a> {
    pub case_id: &'a CaseId,
    /// The case's `updated_at` the caller read (`None`: the case as it is).
    pub expected_updated_at: Option<i64>,
    pub actor: &'a str,
    pub reason: &'a str,
    pub effective_at: i64,
}

/// `TransitionStage`: moves an open case to `to`, effective at `effective_at`. Enrolling schedules
/// the baseline and assessment follow-ups of the enrollment.
pub async fn transition_stage(app: &App, request: MoveRequest<'_>, to: CaseStage) -> Result<CaseRecord, CaseError> {
    let (reason, effective_at) = (request.reason, request.effective_at);
    move_case(app, request, to, Move::Stage, |case, episode| {
        let mut facts = case.lifecycle.clone();
        let mut schedule = Vec::new();
        match to {
            CaseStage::Enrolled => {
                facts.enrolled_at = Some(effective_at);
                facts.assessment_due = Some(effective_at + lifecycle::ASSESSMENT_DUE_DAYS * DAY_MICROS);
                schedule = follow_up::at_enrollment(follow_up::date_of(effective_at));
            }
            CaseStage::Assessed => facts.assessed_at = Some(effective_at),
            _ => {}
        }
        // The referral the case now serves: the one that opened or last reopened its current
        // episode, not an earlier episode's.
        let referral_id = episode.first().cloned().unwrap_or_else(|| case.referral_id.clone());
        let event = events::CaseStageChanged {
            case_id: case.case_id.clone(),
            referral_id: referral_id.clone(),
            from_stage: case.stage as i32,
            to_stage: to as i32,
            effective_at: Some(timestamp(effective_at)),
            reason: reason.to_owned(),
            practice: case.practice,
        };
        Effect { facts, event: Envelope::new(SERVICE, case.case_id.clone(), referral_id, &event), schedule }
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
    /// The case's `updated_at` the caller read (`None`: the case as it is).
    pub expected_updated_at: Option<i64>,
}

/// `CloseCase`: closes the case and schedules the follow-ups of the exit: the exit follow-up and
/// the 6/12/24-month ones (`follow_up::at_exit`).
pub async fn close_case(app: &App, actor: &str, case_id: &CaseId, closure: Closure) -> Result<CaseRecord, CaseError> {
    let Closure { reason, exit_living_situation, exited_at, closed_at: now, expected_updated_at } = closure;
    let request =
        MoveRequest { case_id, expected_updated_at, actor, reason: closure_code(reason), effective_at: exited_at };
    // The current episode's referrals (an earlier episode's ended with its own closure): routing
    // gives back the place each took, intake closes each one's status.
    move_case(app, request, CaseStage::Closed, Move::Close, |case, episode| {
        let (referral_id, linked_referral_ids) = match episode.split_first() {
            Some((first, rest)) => (first.clone(), rest.to_vec()),
            None => (case.referral_id.clone(), Vec::new()),
        };
        let mut facts = case.lifecycle.clone();
        facts.exited_at = Some(exited_at);
        facts.closed_at = Some(now);
        facts.closure_reason = reason as i32;
        facts.exit_living_situation = exit_living_situation;
        let event = events::CaseClosed {
            case_id: case.case_id.clone(),
            referral_id: referral_id.clone(),
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
            event: Envelope::new(SERVICE, case.case_id.clone(), referral_id, &event),
            schedule: follow_up::at_exit(follow_up::date_of(exited_at), reason),
        }
    })
    .await
}

/// `ReopenCase`: reopens a closed case, for `referral_id` when one is named (it is linked to the
/// case and starts its new episode: it must be a referral cases has received, of the case's youth,
/// and of no case yet). The cap is checked again, as at any assignment: the case stays with its
/// case manager when they are active, not on leave and under their cap (it counts toward it
/// again); otherwise the assignment rule picks another eligible case manager, and with nobody
/// eligible the case waits in the supervisors' queue. Never refused for capacity: a returning youth
/// is not turned away, and quietly going over a cap would break the cap for everyone. Refused while
/// the youth has another open case (one open case per youth) and for a case merged into another.
/// Follow-ups still open from the exit it undoes are cancelled; the next exit schedules new ones.
/// A named referral received 14 days or more after the exit is a return, and re-exploitation.
pub async fn reopen_case(
    app: &App,
    request: MoveRequest<'_>,
    referral_id: Option<ReferralId>,
) -> Result<CaseRecord, CaseError> {
    let MoveRequest { case_id, expected_updated_at, actor, reason, .. } = request;
    let now = app.now();
    let mut tx = app.db.begin().await?;
    store::lock_assignments(&mut tx, app.db.backend()).await?;
    let case = case_to_change(app, &mut tx, case_id.as_str(), expected_updated_at).await?;
    if let Some(merged_into) = &case.merged_into {
        return Err(CaseError::Precondition(format!(
            "case was merged into the youth's case {merged_into}; that case holds its referrals and records"
        )));
    }
    lifecycle::check(case.stage, CaseStage::Engagement, Move::Reopen)
        .map_err(|refused| CaseError::Precondition(refused.to_string()))?;
    if let Some(youth_id) = &case.youth_id
        && let Some(open) = store::open_case_of_youth(&mut tx, youth_id, case.practice, Some(&case.case_id)).await?
    {
        return Err(CaseError::Precondition(format!(
            "the youth's case {} is open, and a youth has one open case; record on that case",
            open.case_id
        )));
    }
    let referral = match &referral_id {
        None => None,
        Some(referral_id) => Some(reopening_referral(&mut tx, &case, referral_id).await?),
    };
    // Read while the case is still closed, so the loads are "before this case".
    let loads = store::open_caseloads_in(&mut tx).await?;
    let roster = store::roster::load_in(&mut tx).await?;
    let facts_of = referral_id.as_ref().map_or_else(|| case.referral_id.clone(), ReferralId::to_string);
    let facts_of = store::continuity::facts_of(&mut tx, &facts_of).await?;
    let facts = CaseFacts {
        site: case.site,
        language: facts_of.as_ref().map(|r| r.language.clone()).filter(|language| !language.is_empty()),
        at: now,
        emergent: facts_of.as_ref().is_some_and(|r| r.triage_tier == "emergent"),
    };
    let current = case.case_manager_id.as_deref().and_then(|id| id.parse().ok());
    let (assignment, continued) = reassign::with_continuity(&roster, &loads, &facts, current.as_ref());
    let reopening = Reopening {
        referral: referral
            .as_ref()
            .map(|(id, received_at)| ReopeningReferral { referral_id: id, received_at: *received_at }),
        correlation_id: &case.referral_id,
        reason: Some(reason),
        recorded_by: actor,
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
        relation = if referral.is_some() { reopened.comeback.relation() } else { "none" },
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
        updated_by: actor.to_owned(),
        lifecycle: reopened.facts,
        ..case
    })
}

/// The referral a `ReopenCase` names, with when it was received: one cases has received, of the
/// case's youth, and not already a case's.
async fn reopening_referral(
    tx: &mut Tx,
    case: &CaseRecord,
    referral_id: &ReferralId,
) -> Result<(String, i64), CaseError> {
    let invalid = |message: &str| CaseError::Invalid { field: "referral_id", message: message.to_owned() };
    let Some(facts) = store::continuity::facts_of(tx, referral_id.as_str()).await? else {
        return Err(invalid("is not a referral cases has received (referral.received); retry once it has"));
    };
    if case.youth_id.as_deref() != Some(facts.youth_id.as_str()) {
        return Err(invalid("is a referral of another youth; confirm the match in intake first"));
    }
    if store::case_id_for_referral(tx, referral_id.as_str()).await?.is_some() {
        return Err(invalid("already belongs to a case; a referral belongs to one case"));
    }
    Ok((referral_id.to_string(), facts.received_at))
}

/// The new referral a case is reopened for, and when it was received.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ReopeningReferral<'a> {
    pub referral_id: &'a str,
    pub received_at: i64,
}

/// One reopening of a closed case.
pub(crate) struct Reopening<'a> {
    /// The new referral that brought the youth back (linked to the case, named by
    /// `case.reopened`, `new_episode`); none for a `ReopenCase` that names none (then the current
    /// episode carries on: `case.reopened` names the referral that opened or last reopened it, and
    /// every referral of it in `episode_referral_ids`).
    pub referral: Option<ReopeningReferral<'a>>,
    /// The referral `case.reopened` is correlated with.
    pub correlation_id: &'a str,
    /// The coded reason; `None`: the one the new referral's relation to the exit gives
    /// (`youth_returned`, `transfer`, `referral_before_exit`).
    pub reason: Option<&'a str>,
    pub recorded_by: &'a str,
    pub now: i64,
}

/// What a reopening did, and its events (`case.reopened` first) for the caller's outbox.
pub(crate) struct Reopened {
    pub status: CaseStatus,
    pub owner: Option<String>,
    pub facts: LifecycleFacts,
    pub events: Vec<Envelope>,
    pub follow_ups_cancelled: usize,
    /// How the new referral (or, without one, the reopening itself) relates to the exit.
    pub comeback: Comeback,
}

/// Moves a closed case (already checked, the assignment lock held) back to engagement: its
/// stage history, the owner `assignment` chose, the cancelled follow-ups of the exit it undoes,
/// the new referral linked as the start of a new episode, and `case.reopened`; a new referral
/// received 14 days or more after the exit (a return, counted from `exited_at`, not from when the
/// closure was recorded) is also a re-exploitation recidivism event. `None` when a concurrent move
/// won (nothing was written).
pub(crate) async fn reopen_in(
    tx: &mut Tx,
    case: &CaseRecord,
    reopening: &Reopening<'_>,
    assignment: &Assignment,
    continued: bool,
) -> Result<Option<Reopened>, DbError> {
    let Reopening { referral, correlation_id, reason, recorded_by, now } = *reopening;
    let exited_at = case.lifecycle.exited_at.or(case.lifecycle.closed_at);
    let referred_at = referral.map_or(now, |referral| referral.received_at);
    let comeback = continuity::comeback(exited_at, referred_at);
    let reason = reason.unwrap_or(comeback.reopen_reason());
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
    store::clear_legacy_duplicate(tx, &case.case_id).await?;
    if let Some(referral) = referral {
        // The new referral starts the case's new episode: a partner that accepted an offer for an
        // earlier episode acts on the case again only once it accepts an offer for this one.
        store::continuity::link_referral(
            tx,
            referral.referral_id,
            &case.case_id,
            now,
            comeback.relation(),
            Episode::New,
        )
        .await?;
    }
    // The episode current now: the new referral alone, or without one the episode that carries on
    // (the referral that opened or last reopened it first, then those that joined it). Its first
    // is the referral the reopened case serves, for its assignment event.
    let mut episode = store::continuity::current_episode_referrals(tx, &case.case_id).await?;
    if episode.is_empty() {
        episode.push(case.referral_id.clone());
    }
    let serving = episode.first().cloned().unwrap_or_else(|| case.referral_id.clone());
    let (status, assigned) =
        super::assignment::apply_to_reopened(tx, case, &serving, assignment, continued, now, recorded_by).await?;
    let cancelled = super::follow_ups::cancel_open(tx, case, "case_reopened").await?;
    let owner = match assignment {
        Assignment::Assigned(to) => Some(to.case_manager_id.to_string()),
        Assignment::AwaitingAssignment(_) => None,
    };
    let reopened = events::CaseReopened {
        case_id: case.case_id.clone(),
        // The new referral that reopened it; without one, the referral of the episode that carries
        // on (never the case's first when a later episode is the current one).
        referral_id: serving,
        // Every referral of that episode, so intake follows each one's case open again (a referral
        // that joined it would otherwise stay closed), and whether the episode is new (intake then
        // stops counting the acceptances of the earlier one) or carries on (its partners serve again).
        episode_referral_ids: episode,
        new_episode: referral.is_some(),
        youth_id: case.youth_id.clone().unwrap_or_default(),
        case_manager_id: owner.clone().unwrap_or_default(),
        reopened_at: Some(timestamp(now)),
        days_since_closure: continuity::days_since_exit(exited_at, referred_at),
        reason: reason.to_owned(),
        practice: case.practice,
    };
    let follow_ups_cancelled = cancelled.len();
    let mut events = vec![Envelope::new(SERVICE, case.case_id.clone(), correlation_id.to_owned(), &reopened)];
    events.extend(assigned);
    events.extend(cancelled);
    if let Some(referral) = referral.filter(|_| comeback.is_recidivism()) {
        let youth_id = case.youth_id.clone().unwrap_or_default();
        events.push(
            super::recidivism::for_new_referral(tx, case, &youth_id, referral.referral_id, referral.received_at, now)
                .await?,
        );
    }
    Ok(Some(Reopened { status, owner, facts, events, follow_ups_cancelled, comeback }))
}

/// What a move changes on the case, and the event announcing it.
struct Effect {
    facts: LifecycleFacts,
    event: Envelope,
    /// The follow-ups the move schedules (an enrollment's, an exit's).
    schedule: Vec<(FollowUpKind, Window)>,
}

/// Reads and locks the case (refused when it changed after the `updated_at` the caller read) and
/// its current episode's referrals (oldest first, for the event), checks the move against the
/// lifecycle table, and commits the move, its history row and its event together.
async fn move_case(
    app: &App,
    request: MoveRequest<'_>,
    to: CaseStage,
    requested: Move,
    effect: impl FnOnce(&CaseRecord, &[String]) -> Effect,
) -> Result<CaseRecord, CaseError> {
    let MoveRequest { case_id, expected_updated_at, actor, reason, effective_at } = request;
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let case = case_to_change(app, &mut tx, case_id.as_str(), expected_updated_at).await?;
    lifecycle::check(case.stage, to, requested).map_err(|refused| CaseError::Precondition(refused.to_string()))?;
    let episode = store::continuity::current_episode_referrals(&mut tx, &case.case_id).await?;
    let Effect { facts, event, schedule } = effect(&case, &episode);
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
    if !schedule.is_empty() {
        store::follow_ups::schedule(&mut tx, &case.case_id, &schedule).await?;
    }
    app.commit(tx, std::slice::from_ref(&event)).await?;
    tracing::info!(
        case.id = %case.case_id,
        from = stage_code(case.stage),
        to = stage_code(to),
        event.r#type = %event.event_type,
        "case moved"
    );
    Ok(CaseRecord { stage: to, updated_at: now, updated_by: actor.to_owned(), lifecycle: facts, ..case })
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
        CaseClosureReason::Merged => "merged",
    }
}
