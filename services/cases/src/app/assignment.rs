//! Giving a case an owner: the one way an assignment is recorded and announced (a new case, a
//! reopened one, a confirmed returning youth's, a supervisor's reassignment), and the
//! supervisors' queue when nobody eligible has room. Every caller holds the assignment lock
//! (`store::lock_assignments`).

use wf_db::{DbError, Tx};
use wf_events::Envelope;
use wf_proto::cases::v1::ReassignReason;
use wf_proto::events::v1 as events;
use wf_types::{CaseId, CaseManagerId};

use super::{App, CaseError};
use crate::SERVICE;
use crate::domain::reassign::{self, NotAssignable};
use crate::domain::{AssignedTo, Assignment, CaseFacts, CaseStatus, Unassignable, lifecycle, stage_code};
use crate::store::{self, AssignmentRecord, CaseRecord};
use crate::timestamp;

/// Records the decision that `to` owns the case from `now`, with its reason and the caseload it
/// was taken at (the case row already names the owner).
pub(crate) async fn record(
    tx: &mut Tx,
    case_id: &str,
    to: &AssignedTo,
    reason: String,
    now: i64,
) -> Result<(), DbError> {
    store::insert_assignment(
        tx,
        &AssignmentRecord {
            case_id: case_id.to_owned(),
            case_manager_id: to.case_manager_id.to_string(),
            assigned_at: now,
            reason,
            open_cases_before: to.open_cases,
            max_caseload: to.max_caseload,
        },
    )
    .await
}

/// Gives an existing case to `to` and records the decision, a change made `by` a person's user id
/// or the service.
pub(crate) async fn give(
    tx: &mut Tx,
    case_id: &str,
    to: &AssignedTo,
    reason: String,
    now: i64,
    by: &str,
) -> Result<(), DbError> {
    store::set_owner(tx, case_id, to.case_manager_id.as_str(), now, by).await?;
    record(tx, case_id, to, reason, now).await
}

/// `case.assigned` for `case` (on `referral_id`) going to `to`; the caller sets the reason and,
/// for a move, the previous owner.
pub(crate) fn assigned(case: &CaseRecord, referral_id: &str, to: &AssignedTo, now: i64) -> events::CaseAssigned {
    events::CaseAssigned {
        case_id: case.case_id.clone(),
        referral_id: referral_id.to_owned(),
        case_manager_id: to.case_manager_id.to_string(),
        site: case.site.to_proto() as i32,
        assigned_at: Some(timestamp(now)),
        practice: case.practice,
        ..Default::default()
    }
}

/// `case.awaiting_assignment` for a case nobody eligible could take, naming the supervisors whose
/// queue it waits in (those serving its site, or countywide) and, beside `referral_id`, the other
/// referrals of its current episode (a reopened case's episode carrying on): nobody holds any of
/// them now.
pub(crate) async fn queued(
    tx: &mut Tx,
    case: &CaseRecord,
    referral_id: &str,
    why: Unassignable,
    now: i64,
) -> Result<Envelope, DbError> {
    let roster = store::roster::load_in(tx).await?;
    let linked_referral_ids = store::continuity::current_episode_referrals(tx, &case.case_id)
        .await?
        .into_iter()
        .filter(|linked| linked != referral_id)
        .collect();
    Ok(Envelope::new(
        SERVICE,
        case.case_id.clone(),
        referral_id.to_owned(),
        &events::CaseAwaitingAssignment {
            case_id: case.case_id.clone(),
            referral_id: referral_id.to_owned(),
            site: case.site.to_proto() as i32,
            reason: why.code().to_owned(),
            supervisor_ids: roster.supervisors_serving(case.site).map(|s| s.id.to_string()).collect(),
            queued_at: Some(timestamp(now)),
            practice: case.practice,
            linked_referral_ids,
        },
    ))
}

/// Announces that `referral_id` joined `case`, the youth's open case (a second referral of the
/// youth, or one whose case merged into it): `case.assigned` naming the case's owner (reason
/// `joined_open_case`), or, while the case waits in the supervisors' queue,
/// `case.awaiting_assignment` (reason `joined_waiting_case`), both as of `now`, the instant it
/// joined. Intake learns the referral's case from it.
pub(crate) async fn joined(tx: &mut Tx, case: &CaseRecord, referral_id: &str, now: i64) -> Result<Envelope, DbError> {
    match &case.case_manager_id {
        Some(owner) => {
            let event = events::CaseAssigned {
                case_id: case.case_id.clone(),
                referral_id: referral_id.to_owned(),
                case_manager_id: owner.clone(),
                site: case.site.to_proto() as i32,
                // The instant the referral joined, never the case's own assignment: that would
                // tell whoever submitted the referral the youth already had a case, and since when.
                assigned_at: Some(timestamp(now)),
                practice: case.practice,
                reason: "joined_open_case".to_owned(),
                youth_id: case.youth_id.clone().unwrap_or_default(),
                ..Default::default()
            };
            Ok(Envelope::new(SERVICE, case.case_id.clone(), referral_id.to_owned(), &event))
        }
        None => {
            let roster = store::roster::load_in(tx).await?;
            let event = events::CaseAwaitingAssignment {
                case_id: case.case_id.clone(),
                referral_id: referral_id.to_owned(),
                site: case.site.to_proto() as i32,
                reason: "joined_waiting_case".to_owned(),
                supervisor_ids: roster.supervisors_serving(case.site).map(|s| s.id.to_string()).collect(),
                queued_at: Some(timestamp(now)),
                practice: case.practice,
                // Only the joining referral changed hands: the case's others were waiting already.
                linked_referral_ids: Vec::new(),
            };
            Ok(Envelope::new(SERVICE, case.case_id.clone(), referral_id.to_owned(), &event))
        }
    }
}

/// Gives a reopened case the owner `assignment` chose, recording the decision and queueing
/// `case.assigned`; with nobody eligible the case goes to the supervisors' queue
/// (`case.awaiting_assignment`); the change is made `by` the reopening's actor.
pub(crate) async fn apply_to_reopened(
    tx: &mut Tx,
    case: &CaseRecord,
    referral_id: &str,
    assignment: &Assignment,
    continued: bool,
    now: i64,
    by: &str,
) -> Result<(CaseStatus, Vec<Envelope>), DbError> {
    match assignment {
        Assignment::Assigned(to) => {
            let reason = reassign::continuity_reason(to, continued);
            give(tx, &case.case_id, to, reason.clone(), now, by).await?;
            let event = events::CaseAssigned {
                reason: if continued { "continuity".to_owned() } else { reason },
                youth_id: case.youth_id.clone().unwrap_or_default(),
                previous_case_manager_id: case.case_manager_id.clone().unwrap_or_default(),
                ..assigned(case, referral_id, to, now)
            };
            Ok((
                CaseStatus::Assigned,
                vec![Envelope::new(SERVICE, case.case_id.clone(), referral_id.to_owned(), &event)],
            ))
        }
        Assignment::AwaitingAssignment(why) => {
            store::clear_owner(tx, &case.case_id, now, by).await?;
            tracing::warn!(
                case.id = %case.case_id,
                site = case.site.code(),
                reason = why.code(),
                "reopened case has no eligible case manager; it waits in the supervisors' queue"
            );
            Ok((CaseStatus::AwaitingAssignment, vec![queued(tx, case, referral_id, *why, now).await?]))
        }
    }
}

/// A supervisor's reassignment: to a named case manager, or (none named) to whoever the rule
/// picks among everyone but the current owner, with a coded reason.
#[derive(Debug, Clone)]
pub struct Reassign {
    pub case_id: CaseId,
    pub target: Option<CaseManagerId>,
    pub reason: ReassignReason,
    /// A code refining the reason (required with `REASSIGN_REASON_OTHER`).
    pub detail: String,
    /// The case's `updated_at` the caller read (`None`: the case as it is).
    pub expected_updated_at: Option<i64>,
    /// Who asks (the supervisor's user id).
    pub actor: String,
}

/// Moves a case to another case manager (or out of the supervisors' queue) under the same lock
/// and caps as the first assignment. `case.assigned` names each referral of the case's current
/// episode (the one that opened or reopened it and those that joined it), so intake knows the
/// case of every one of them.
pub async fn reassign(app: &App, request: Reassign) -> Result<CaseRecord, CaseError> {
    let Reassign { case_id, target, reason, detail, expected_updated_at, actor } = request;
    let now = app.now();
    let mut tx = app.db.begin().await?;
    store::lock_assignments(&mut tx, app.db.backend()).await?;
    let case = super::case_to_change(app, &mut tx, case_id.as_str(), expected_updated_at).await?;
    if lifecycle::is_closed(case.stage) {
        return Err(CaseError::Precondition(format!(
            "case is in stage {}; reopen it before reassigning",
            stage_code(case.stage)
        )));
    }
    let current: Option<CaseManagerId> = case.case_manager_id.as_deref().and_then(|id| id.parse().ok());
    let loads = store::open_caseloads_in(&mut tx).await?;
    let roster = store::roster::load_in(&mut tx).await?;
    let facts = CaseFacts { site: case.site, language: None, at: now, emergent: false };
    let to = match &target {
        Some(target) => reassign::to_named(&roster, &loads, &facts, target, current.as_ref())
            .map_err(|why: NotAssignable| CaseError::Precondition(format!("case_manager_id {target} {why}")))?,
        None => match reassign::to_someone_else(&roster, &loads, &facts, current.as_ref()) {
            Assignment::Assigned(to) => to,
            Assignment::AwaitingAssignment(why) => {
                return Err(CaseError::Precondition(format!(
                    "no other case manager can take the case ({}); name one with case_manager_id",
                    why.code()
                )));
            }
        },
    };
    let reason_code = reason_code(reason, &detail);
    let recorded = format!("reassigned by supervisor: {reason_code} ({}/{})", to.open_cases, to.max_caseload);
    give(&mut tx, &case.case_id, &to, recorded, now, &actor).await?;
    let mut referrals = store::continuity::current_episode_referrals(&mut tx, &case.case_id).await?;
    if referrals.is_empty() {
        referrals.push(case.referral_id.clone());
    }
    let announced: Vec<Envelope> = referrals
        .iter()
        .map(|referral_id| {
            let event = events::CaseAssigned {
                reason: "manual".to_owned(),
                youth_id: case.youth_id.clone().unwrap_or_default(),
                previous_case_manager_id: case.case_manager_id.clone().unwrap_or_default(),
                reassign_reason: reason as i32,
                ..assigned(&case, referral_id, &to, now)
            };
            Envelope::new(SERVICE, case.case_id.clone(), referral_id.clone(), &event)
        })
        .collect();
    app.commit(tx, &announced).await?;
    tracing::info!(
        case.id = %case.case_id,
        case_manager.id = %to.case_manager_id,
        previous = case.case_manager_id.as_deref().unwrap_or(""),
        reason = %reason_code,
        "case reassigned"
    );
    Ok(CaseRecord {
        case_manager_id: Some(to.case_manager_id.to_string()),
        status: CaseStatus::Assigned,
        assigned_at: Some(now),
        updated_at: now,
        updated_by: actor,
        ..case
    })
}

/// `ClaimCase`: the case manager whose sign-in is `actor` takes a case nobody holds, under the
/// same lock and rules as an assignment.
pub async fn claim(
    app: &App,
    case_id: CaseId,
    expected_updated_at: Option<i64>,
    actor: &str,
) -> Result<CaseRecord, CaseError> {
    let now = app.now();
    let mut tx = app.db.begin().await?;
    store::lock_assignments(&mut tx, app.db.backend()).await?;
    let case = super::case_to_change(app, &mut tx, case_id.as_str(), expected_updated_at).await?;
    if lifecycle::is_closed(case.stage) {
        return Err(CaseError::Precondition(format!(
            "case is in stage {}; reopen it before anyone takes it",
            stage_code(case.stage)
        )));
    }
    if let Some(owner) = &case.case_manager_id {
        return Err(CaseError::Precondition(format!(
            "case is held by {owner}; only a case nobody holds can be claimed (a supervisor reassigns it)"
        )));
    }
    let roster = store::roster::load_in(&mut tx).await?;
    let Some(me) = roster.case_manager_of_user(actor).map(|cm| cm.id.clone()) else {
        return Err(CaseError::Precondition(
            "your sign-in is linked to no case manager of the roster; ask a supervisor to link it".to_owned(),
        ));
    };
    let loads = store::open_caseloads_in(&mut tx).await?;
    let facts = CaseFacts { site: case.site, language: None, at: now, emergent: false };
    let to = reassign::to_named(&roster, &loads, &facts, &me, None)
        .map_err(|why: NotAssignable| CaseError::Precondition(format!("you cannot take the case: you {why}")))?;
    let recorded = format!("claimed by the case manager ({}/{})", to.open_cases, to.max_caseload);
    give(&mut tx, &case.case_id, &to, recorded, now, actor).await?;
    let mut referrals = store::continuity::current_episode_referrals(&mut tx, &case.case_id).await?;
    if referrals.is_empty() {
        referrals.push(case.referral_id.clone());
    }
    let announced: Vec<Envelope> = referrals
        .iter()
        .map(|referral_id| {
            let event = events::CaseAssigned {
                reason: "claimed".to_owned(),
                youth_id: case.youth_id.clone().unwrap_or_default(),
                ..assigned(&case, referral_id, &to, now)
            };
            Envelope::new(SERVICE, case.case_id.clone(), referral_id.clone(), &event)
        })
        .collect();
    app.commit(tx, &announced).await?;
    tracing::info!(case.id = %case.case_id, case_manager.id = %to.case_manager_id, "case claimed");
    Ok(CaseRecord {
        case_manager_id: Some(to.case_manager_id.to_string()),
        status: CaseStatus::Assigned,
        assigned_at: Some(now),
        updated_at: now,
        updated_by: actor.to_owned(),
        ..case
    })
}

fn reason_code(reason: ReassignReason, detail: &str) -> String {
    let code = reason.as_str_name().trim_start_matches("REASSIGN_REASON_").to_ascii_lowercase();
    if detail.is_empty() { code } else { format!("{code}:{detail}") }
}
