//! Follow-ups (scheduled at enrollment and at exit by `app::lifecycle`): recording one
//! (`RecordFollowUp`, once its window has opened), announcing `follow_up.due` when the window opens
//! and `follow_up.overdue` when it closes unrecorded, by the service's clock (the sweep the
//! follow-up worker repeats), and cancelling the open ones when a reopening undoes their exit or a
//! merge retires their case.
//!
//! Each announcement is claimed (a flag on the row) in the same transaction as its outbox event,
//! so a sweep repeated after a crash, a restart, or on another replica never announces twice, and
//! one missed while the service was down is made by the first sweep after it starts.

use prost::Message;
use wf_db::{DbError, Tx};
use wf_events::Envelope;
use wf_proto::cases::v1::{FollowUpOutcomes, FollowUpStatus};
use wf_proto::events::v1 as events;
use wf_types::FollowUpId;

use super::{App, CaseError, case_in};
use crate::SERVICE;
use crate::domain::follow_up;
use crate::domain::services::to_proto_date;
use crate::store::CaseRecord;
use crate::store::follow_ups::{self as stored, Announcement, FollowUpRecord};
use crate::timestamp;

/// Most announcements of one kind per sweep; the next sweep continues.
const BATCH: i64 = 200;

/// What one sweep announced.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepReport {
    pub due: usize,
    pub overdue: usize,
}

/// The outcome of a follow-up, as recorded by staff.
#[derive(Debug, Clone)]
pub struct FollowUpResult {
    pub follow_up_id: FollowUpId,
    pub status: FollowUpStatus,
    pub completed_at: i64,
    /// The answers; none for a youth not reached or who refused.
    pub outcomes: Option<FollowUpOutcomes>,
}

/// `RecordFollowUp`: stores the outcome of an open follow-up and announces it; "yes" answers
/// also become recidivism events (their ids returned with the record). A follow-up is recorded
/// only from the moment its window opens (`follow_up::check_recorded_in_window`).
pub async fn record(
    app: &App,
    actor: &str,
    result: FollowUpResult,
) -> Result<(FollowUpRecord, Vec<String>), CaseError> {
    let FollowUpResult { follow_up_id, status, completed_at, outcomes } = result;
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let existing = stored::get_in(&mut tx, follow_up_id.as_str()).await?.ok_or(CaseError::NotFound("follow-up"))?;
    if follow_up::is_open(existing.status) {
        follow_up::check_recorded_in_window(existing.kind, &existing.window, completed_at)
            .map_err(|early| CaseError::Precondition(early.to_string()))?;
    }
    let encoded = outcomes.as_ref().map(Message::encode_to_vec);
    if !stored::record(&mut tx, follow_up_id.as_str(), status, completed_at, actor, encoded.clone()).await? {
        if existing.status == FollowUpStatus::Cancelled {
            return Err(CaseError::Precondition(
                "follow-up is cancelled: its case was reopened; the case's next exit schedules new follow-ups".into(),
            ));
        }
        return Err(CaseError::Precondition(format!(
            "follow-up is already {}; a recorded follow-up is not recorded again",
            follow_up::status_code(existing.status)
        )));
    }
    let recorded = FollowUpRecord {
        status,
        completed_at: Some(completed_at),
        recorded_by: Some(actor.to_owned()),
        outcomes: encoded,
        ..existing
    };
    let event = events::FollowUpRecorded {
        follow_up_id: recorded.follow_up_id.clone(),
        case_id: recorded.case_id.clone(),
        kind: recorded.kind as i32,
        status: status as i32,
        completed_at: Some(timestamp(completed_at)),
        outcomes: outcomes.clone(),
        practice: recorded.practice,
    };
    let mut announced = vec![Envelope::new(SERVICE, recorded.case_id.clone(), recorded.case_id.clone(), &event)];
    let mut recidivism_event_ids = Vec::new();
    if let Some(outcomes) = &outcomes {
        let case = case_in(&mut tx, &recorded.case_id).await?;
        let completed_on = follow_up::date_of(completed_at);
        let (ids, derived) = super::recidivism::from_follow_up(
            &mut tx,
            &case,
            &recorded.follow_up_id,
            outcomes,
            completed_on,
            actor,
            now,
        )
        .await?;
        recidivism_event_ids = ids;
        announced.extend(derived);
    }
    app.commit(tx, &announced).await?;
    Ok((recorded, recidivism_event_ids))
}

/// Announces everything owed at the clock's now. Due before overdue, so a follow-up whose whole
/// window passed while the service was down is announced due, then overdue.
pub async fn sweep(app: &App) -> Result<SweepReport, DbError> {
    let now = app.now();
    let mut report = SweepReport::default();
    for announcement in [Announcement::Due, Announcement::Overdue] {
        for id in stored::owed(&app.db, announcement, now, BATCH).await? {
            if announce(app, &id, announcement).await? {
                match announcement {
                    Announcement::Due => report.due += 1,
                    Announcement::Overdue => report.overdue += 1,
                }
            }
        }
    }
    if report != SweepReport::default() {
        app.relay.wake();
    }
    Ok(report)
}

/// Claims and announces one owed announcement; `false` when another sweep made it already.
async fn announce(app: &App, follow_up_id: &str, announcement: Announcement) -> Result<bool, DbError> {
    let mut tx = app.db.begin().await?;
    if !stored::claim(&mut tx, follow_up_id, announcement).await? {
        tx.rollback().await?;
        return Ok(false);
    }
    let Some(record) = stored::get_in(&mut tx, follow_up_id).await? else {
        tx.rollback().await?;
        return Ok(false);
    };
    // The two announcements carry the same fields.
    macro_rules! announcement {
        ($event:ident) => {
            Envelope::new(
                SERVICE,
                record.case_id.clone(),
                record.case_id.clone(),
                &events::$event {
                    follow_up_id: record.follow_up_id.clone(),
                    case_id: record.case_id.clone(),
                    kind: record.kind as i32,
                    due_on: Some(to_proto_date(record.due_on)),
                    case_manager_id: record.case_manager_id.clone().unwrap_or_default(),
                    practice: record.practice,
                },
            )
        };
    }
    let envelope = match announcement {
        Announcement::Due => announcement!(FollowUpDue),
        Announcement::Overdue => announcement!(FollowUpOverdue),
    };
    wf_events::outbox::enqueue(&mut tx, app.db.backend(), &envelope).await?;
    tx.commit().await?;
    Ok(true)
}

/// Cancels the case's follow-ups still open — those of the exit a reopening undid (the next exit
/// schedules its own), or of a case merged into another — and returns `follow_up.cancelled` for
/// each with the coded `reason`. Recorded ones stay as they are.
pub(crate) async fn cancel_open(tx: &mut Tx, case: &CaseRecord, reason: &str) -> Result<Vec<Envelope>, DbError> {
    let cancelled = stored::cancel_open(tx, &case.case_id).await?;
    Ok(cancelled
        .into_iter()
        .map(|(follow_up_id, kind, due_on)| {
            Envelope::new(
                SERVICE,
                case.case_id.clone(),
                case.case_id.clone(),
                &events::FollowUpCancelled {
                    follow_up_id,
                    case_id: case.case_id.clone(),
                    kind: kind as i32,
                    due_on: Some(to_proto_date(due_on)),
                    reason: reason.to_owned(),
                    practice: case.practice,
                },
            )
        })
        .collect())
}
