//! Continuity for a returning youth: the facts of each received referral, the earlier case
//! manager when they can take the case, and the reopening of a closed case by a new referral.

use wf_db::Tx;
use wf_events::{Envelope, HandleError, inbox, outbox};
use wf_proto::cases::v1::CaseStage;
use wf_proto::common::v1::{RecidivismEvidence, RecidivismKind, Site as ProtoSite, TriageTier};
use wf_proto::events::v1 as pb;
use wf_types::{CaseManagerId, ReferralId, YouthId};

use super::{CaseEvents, RoutedOutcome, timestamp};
use crate::SERVICE;
use crate::domain::lifecycle::{self, Comeback, Move};
use crate::domain::{
    self, AssignedTo, Assignment, CaseFacts, CaseStatus, Caseloads, Roster, Site, Unassignable, reassign,
};
use crate::store::continuity::ReferralFacts;
use crate::store::lifecycle::StageMove;
use crate::store::recidivism::RecidivismRecord;
use crate::store::{self, AssignmentRecord, CaseRecord, LifecycleFacts};

/// The earlier case manager when they are active, not on leave and have room (`true`:
/// continuity), else the usual rule (and with nobody eligible, the supervisors' queue). An
/// emergent referral needs someone working now: when the rule finds another case manager on
/// call, they take it unless the earlier one is on call too; a supervisor can hand the case back
/// later (`REASSIGN_REASON_CONTINUITY`).
pub(crate) fn assign(
    roster: &Roster,
    loads: &Caseloads,
    facts: &CaseFacts,
    previous: Option<&CaseManagerId>,
) -> (Assignment, bool) {
    let rule = domain::choose_case_manager(roster, loads, facts);
    let Some(previous) = previous else { return (rule, false) };
    let Ok(earlier) = reassign::to_named(roster, loads, facts, previous, None) else { return (rule, false) };
    let earlier_on_call = roster.case_manager(previous).is_some_and(|cm| cm.on_call_at(facts.at));
    match rule {
        Assignment::Assigned(to) if to.on_call && !earlier_on_call => (Assignment::Assigned(to), false),
        _ => (Assignment::Assigned(earlier), true),
    }
}

pub(crate) fn reason(to: &AssignedTo, continued: bool) -> String {
    if continued {
        format!("continuity: the youth's earlier case manager ({}/{})", to.open_cases, to.max_caseload)
    } else {
        to.reason()
    }
}

/// A closed case taking a new referral.
pub(super) struct Reopen {
    pub case: CaseRecord,
    pub referral_id: String,
    pub partner_id: Option<String>,
    pub now: i64,
}

impl CaseEvents {
    /// Stores the coded facts of a received referral (once, whatever is redelivered).
    pub async fn on_referral_received(&self, envelope: &Envelope) -> Result<(), HandleError> {
        let received: pb::ReferralReceived =
            envelope.payload_as().map_err(|err| HandleError::Permanent(err.to_string()))?;
        let referral_id: ReferralId = received
            .referral_id
            .parse()
            .map_err(|err| HandleError::Permanent(format!("referral.received referral_id: {err}")))?;
        let youth_id: YouthId = received
            .youth_id
            .parse()
            .map_err(|err| HandleError::Permanent(format!("referral.received youth_id: {err}")))?;
        let site = match ProtoSite::try_from(received.site) {
            Ok(site) => Site::from_proto(site).unwrap_or(Site::Countywide),
            Err(_) => {
                return Err(HandleError::Permanent(format!("referral.received site {} is not known", received.site)));
            }
        };
        let language = received.preferred_language.to_ascii_lowercase();
        let language_ok = language.is_empty()
            || ((2..=3).contains(&language.len()) && language.bytes().all(|b| b.is_ascii_lowercase()));
        let tier = TriageTier::try_from(received.triage_tier).unwrap_or(TriageTier::Unspecified);
        let facts = ReferralFacts {
            referral_id: referral_id.to_string(),
            youth_id: youth_id.to_string(),
            site,
            // An unreadable language code only loses a preference, never the referral.
            language: if language_ok { language } else { String::new() },
            triage_tier: domain::triage_tier_code(tier).to_owned(),
            practice: received.practice,
            received_at: received
                .received_at
                .as_ref()
                .and_then(wf_proto::time::datetime)
                .map_or_else(|| self.clock.now_micros(), |at| at.timestamp_micros()),
        };
        let mut tx = self.db.begin().await?;
        if inbox::record(&mut tx, SERVICE, envelope).await? {
            store::continuity::insert_facts(&mut tx, &facts).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Reopens a returning youth's closed case for the new referral, assigns it, and announces
    /// `case.reopened` (and `case.assigned`). A referral more than 14 days after closure is a
    /// return, and a new trafficking referral after closure is re-exploitation (DOMAIN.md);
    /// within 14 days it is a transfer, neither a return nor a recidivism event.
    pub(super) async fn reopen(
        &self,
        mut tx: Tx,
        reopen: Reopen,
        assignment: Assignment,
        continued: bool,
    ) -> Result<RoutedOutcome, HandleError> {
        let Reopen { case, referral_id, partner_id, now } = reopen;
        let closed_at = case.lifecycle.closed_at.unwrap_or(case.updated_at);
        let comeback = lifecycle::comeback(closed_at, now);
        let (relation, stage_reason) = match comeback {
            Comeback::Return => ("return", "youth_returned"),
            Comeback::Transfer => ("transfer", "transfer"),
        };
        lifecycle::check(case.stage, CaseStage::Engagement, Move::Reopen)
            .map_err(|refused| HandleError::Permanent(refused.to_string()))?;
        let step = StageMove {
            case_id: case.case_id.clone(),
            from: case.stage,
            to: CaseStage::Engagement,
            effective_at: now,
            reason: stage_reason.to_owned(),
            recorded_by: SERVICE.to_owned(),
            recorded_at: now,
        };
        let facts = LifecycleFacts { reopen_count: case.lifecycle.reopen_count + 1, ..LifecycleFacts::default() };
        if !store::lifecycle::apply(&mut tx, &step, &facts).await? {
            return Err(HandleError::Transient("the case changed stage concurrently; retrying".into()));
        }
        store::continuity::link_referral(&mut tx, &referral_id, &case.case_id, now, relation).await?;
        store::services::set_partner(&mut tx, &case.case_id, partner_id.as_deref()).await?;
        let youth_id = case.youth_id.clone().unwrap_or_default();
        let (status, mut events) = apply_assignment(&mut tx, &case, &referral_id, &assignment, continued, now).await?;
        events.extend(cancel_follow_ups(&mut tx, &case).await?);
        let owner = match &assignment {
            Assignment::Assigned(to) => to.case_manager_id.to_string(),
            Assignment::AwaitingAssignment(_) => String::new(),
        };
        events.insert(
            0,
            Envelope::new(
                SERVICE,
                case.case_id.clone(),
                referral_id.clone(),
                &pb::CaseReopened {
                    case_id: case.case_id.clone(),
                    referral_id: referral_id.clone(),
                    youth_id: youth_id.clone(),
                    case_manager_id: owner,
                    reopened_at: Some(timestamp(now)),
                    days_since_closure: i32::try_from(lifecycle::whole_days_between(closed_at, now))
                        .unwrap_or(i32::MAX),
                    reason: stage_reason.to_owned(),
                    practice: case.practice,
                },
            ),
        );
        if comeback == Comeback::Return {
            events.push(record_new_referral_recidivism(&mut tx, &case, &youth_id, &referral_id, now).await?);
        }
        for event in &events {
            outbox::enqueue(&mut tx, self.db.backend(), event).await?;
        }
        tx.commit().await?;
        self.relay.wake();
        tracing::info!(
            case.id = %case.case_id,
            referral.id = %referral_id,
            relation,
            continuity = continued,
            status = status.code(),
            "closed case reopened for a returning youth's referral"
        );
        Ok(RoutedOutcome::Reopened { case_id: case.case_id, status })
    }
}

/// `case.awaiting_assignment` for a case nobody eligible could take, naming the supervisors whose
/// queue it waits in (those serving its site, or countywide).
pub(crate) async fn queued(
    tx: &mut Tx,
    case: &CaseRecord,
    referral_id: &str,
    why: Unassignable,
    now: i64,
) -> Result<Envelope, wf_db::DbError> {
    let roster = store::roster::load_in(tx).await?;
    Ok(Envelope::new(
        SERVICE,
        case.case_id.clone(),
        referral_id.to_owned(),
        &pb::CaseAwaitingAssignment {
            case_id: case.case_id.clone(),
            referral_id: referral_id.to_owned(),
            site: case.site.to_proto() as i32,
            reason: why.code().to_owned(),
            supervisor_ids: roster.supervisors_serving(case.site).map(|s| s.id.to_string()).collect(),
            queued_at: Some(timestamp(now)),
            practice: case.practice,
        },
    ))
}

/// Gives a reopened case the owner `assignment` chose, recording the decision and queueing
/// `case.assigned`; with nobody eligible the case goes to the supervisors' queue
/// (`case.awaiting_assignment`). The caller holds the assignment lock.
pub(crate) async fn apply_assignment(
    tx: &mut Tx,
    case: &CaseRecord,
    referral_id: &str,
    assignment: &Assignment,
    continued: bool,
    now: i64,
) -> Result<(CaseStatus, Vec<Envelope>), wf_db::DbError> {
    match assignment {
        Assignment::Assigned(to) => {
            store::set_owner(tx, &case.case_id, to.case_manager_id.as_str(), now).await?;
            let assigned_reason = reason(to, continued);
            store::insert_assignment(
                tx,
                &AssignmentRecord {
                    case_id: case.case_id.clone(),
                    case_manager_id: to.case_manager_id.to_string(),
                    assigned_at: now,
                    reason: assigned_reason.clone(),
                    open_cases_before: to.open_cases,
                    max_caseload: to.max_caseload,
                },
            )
            .await?;
            let event = Envelope::new(
                SERVICE,
                case.case_id.clone(),
                referral_id.to_owned(),
                &pb::CaseAssigned {
                    case_id: case.case_id.clone(),
                    referral_id: referral_id.to_owned(),
                    case_manager_id: to.case_manager_id.to_string(),
                    site: case.site.to_proto() as i32,
                    assigned_at: Some(timestamp(now)),
                    practice: case.practice,
                    reason: if continued { "continuity".to_owned() } else { assigned_reason },
                    youth_id: case.youth_id.clone().unwrap_or_default(),
                    previous_case_manager_id: case.case_manager_id.clone().unwrap_or_default(),
                    reassign_reason: 0,
                },
            );
            Ok((CaseStatus::Assigned, vec![event]))
        }
        Assignment::AwaitingAssignment(why) => {
            store::clear_owner(tx, &case.case_id, now).await?;
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

/// Cancels the follow-ups still open from the exit a reopening undid (the next exit schedules
/// its own), and queues `follow_up.cancelled` for each. Recorded ones stay as they are.
pub(crate) async fn cancel_follow_ups(tx: &mut Tx, case: &CaseRecord) -> Result<Vec<Envelope>, wf_db::DbError> {
    let cancelled = store::follow_ups::cancel_open(tx, &case.case_id).await?;
    Ok(cancelled
        .into_iter()
        .map(|(follow_up_id, kind, due_on)| {
            Envelope::new(
                SERVICE,
                case.case_id.clone(),
                case.case_id.clone(),
                &pb::FollowUpCancelled {
                    follow_up_id,
                    case_id: case.case_id.clone(),
                    kind: kind as i32,
                    due_on: Some(crate::domain::services::to_proto_date(due_on)),
                    reason: "case_reopened".to_owned(),
                    practice: case.practice,
                },
            )
        })
        .collect())
}

/// A new trafficking referral more than 14 days after closure is re-exploitation (DOMAIN.md):
/// stores the recidivism event on `case` (the closed one) and returns its `recidivism.recorded`.
pub(crate) async fn record_new_referral_recidivism(
    tx: &mut Tx,
    case: &CaseRecord,
    youth_id: &str,
    referral_id: &str,
    now: i64,
) -> Result<Envelope, wf_db::DbError> {
    use chrono::Datelike;
    let on = crate::domain::follow_up::date_of(now);
    let record = RecidivismRecord {
        recidivism_event_id: format!("rcd_{}", uuid::Uuid::now_v7().simple()),
        case_id: case.case_id.clone(),
        youth_id: youth_id.to_owned(),
        kind: RecidivismKind::ReExploitation as i32,
        evidence: RecidivismEvidence::NewReferral as i32,
        occurred_on: (on.year(), on.month() as i32, on.day() as i32),
        recorded_at: now,
        recorded_by: SERVICE.to_owned(),
        evidence_id: referral_id.to_owned(),
        charge_category: String::new(),
        prostitution_related: 0,
        practice: case.practice,
    };
    store::recidivism::insert(tx, &record).await?;
    Ok(Envelope::new(
        SERVICE,
        case.case_id.clone(),
        referral_id.to_owned(),
        &pb::RecidivismRecorded {
            recidivism_event_id: record.recidivism_event_id.clone(),
            case_id: record.case_id.clone(),
            youth_id: record.youth_id.clone(),
            kind: record.kind,
            evidence: record.evidence,
            occurred_on: Some(wf_proto::common::v1::Date {
                year: on.year(),
                month: on.month() as i32,
                day: on.day() as i32,
            }),
            evidence_id: record.evidence_id.clone(),
            practice: record.practice,
            ..Default::default()
        },
    ))
}
