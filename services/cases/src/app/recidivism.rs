//! Recidivism events, the primary outcome, from their three sources: staff recording one
//! (`RecordRecidivismEvent`), a completed follow-up's "yes" answers, and a new trafficking
//! referral after closure (re-exploitation). Each is stored and announced
//! (`recidivism.recorded`) in the caller's transaction, through [`insert`].

use chrono::{Datelike, NaiveDate};
use wf_db::{DbError, Tx};
use wf_events::Envelope;
use wf_proto::cases::v1::FollowUpOutcomes;
use wf_proto::common::v1::{Date, RecidivismEvidence, RecidivismKind};
use wf_proto::events::v1 as events;
use wf_types::{CaseId, RecidivismEventId};

use super::{App, CaseError, case_in};
use crate::SERVICE;
use crate::domain::recidivism::from_answers;
use crate::store::CaseRecord;
use crate::store::recidivism::RecidivismRecord;

/// What staff record: the case, and what happened when, on what evidence.
#[derive(Debug, Clone)]
pub struct NewRecidivism {
    pub case_id: CaseId,
    pub kind: RecidivismKind,
    pub evidence: RecidivismEvidence,
    /// Year, month, day; month and day 0 when unknown.
    pub occurred_on: (i32, i32, i32),
    pub evidence_id: String,
    pub charge_category: String,
    /// A `NoYes` number.
    pub prostitution_related: i32,
}

/// `RecordRecidivismEvent`: one event recorded by staff.
pub async fn record(app: &App, actor: &str, input: NewRecidivism) -> Result<String, CaseError> {
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let case = case_in(&mut tx, input.case_id.as_str()).await?;
    let record = RecidivismRecord {
        kind: input.kind as i32,
        evidence: input.evidence as i32,
        occurred_on: input.occurred_on,
        evidence_id: input.evidence_id,
        charge_category: input.charge_category,
        prostitution_related: input.prostitution_related,
        ..new_record(&case, case.youth_id.clone().unwrap_or_default(), actor, now)
    };
    let event = insert(&mut tx, &case, &case.referral_id, &record).await?;
    app.commit(tx, &[event]).await?;
    Ok(record.recidivism_event_id)
}

/// The events a completed follow-up's answers report ("yes" answers only), with the follow-up as
/// their evidence. The answers cover "since last contact / the last three months": `completed_on`
/// is the date on record.
pub(crate) async fn from_follow_up(
    tx: &mut Tx,
    case: &CaseRecord,
    follow_up_id: &str,
    outcomes: &FollowUpOutcomes,
    completed_on: NaiveDate,
    actor: &str,
    now: i64,
) -> Result<(Vec<String>, Vec<Envelope>), DbError> {
    let (mut ids, mut announced) = (Vec::new(), Vec::new());
    for kind in from_answers(outcomes) {
        let record = RecidivismRecord {
            kind: kind as i32,
            evidence: RecidivismEvidence::FollowUpAnswer as i32,
            occurred_on: date_parts(completed_on),
            evidence_id: follow_up_id.to_owned(),
            ..new_record(case, case.youth_id.clone().unwrap_or_default(), actor, now)
        };
        announced.push(insert(tx, case, &case.referral_id, &record).await?);
        ids.push(record.recidivism_event_id);
    }
    Ok((ids, announced))
}

/// A new trafficking referral received 14 days or more after the exit is re-exploitation
/// (DOMAIN.md "Outcomes", `continuity::Comeback::Return`): stores the event on `case` (the one
/// that exited) for `youth_id`, dated the day the referral was received, and returns its
/// announcement, correlated with the new referral.
pub(crate) async fn for_new_referral(
    tx: &mut Tx,
    case: &CaseRecord,
    youth_id: &str,
    referral_id: &str,
    received_at: i64,
    now: i64,
) -> Result<Envelope, DbError> {
    let record = RecidivismRecord {
        kind: RecidivismKind::ReExploitation as i32,
        evidence: RecidivismEvidence::NewReferral as i32,
        occurred_on: date_parts(crate::domain::follow_up::date_of(received_at)),
        evidence_id: referral_id.to_owned(),
        ..new_record(case, youth_id.to_owned(), SERVICE, now)
    };
    insert(tx, case, referral_id, &record).await
}

/// A record with a new id on `case`, recorded now by `recorded_by`; the caller fills in what
/// happened.
fn new_record(case: &CaseRecord, youth_id: String, recorded_by: &str, now: i64) -> RecidivismRecord {
    RecidivismRecord {
        recidivism_event_id: RecidivismEventId::generate().to_string(),
        case_id: case.case_id.clone(),
        youth_id,
        kind: RecidivismKind::Unspecified as i32,
        evidence: RecidivismEvidence::Unspecified as i32,
        occurred_on: (0, 0, 0),
        recorded_at: now,
        recorded_by: recorded_by.to_owned(),
        evidence_id: String::new(),
        charge_category: String::new(),
        prostitution_related: 0,
        practice: case.practice,
    }
}

/// Stores one event and returns its `recidivism.recorded` (correlated with `referral_id`), for
/// the caller's outbox.
async fn insert(
    tx: &mut Tx,
    case: &CaseRecord,
    referral_id: &str,
    record: &RecidivismRecord,
) -> Result<Envelope, DbError> {
    crate::store::recidivism::insert(tx, record).await?;
    let event = events::RecidivismRecorded {
        recidivism_event_id: record.recidivism_event_id.clone(),
        case_id: record.case_id.clone(),
        youth_id: record.youth_id.clone(),
        kind: record.kind,
        evidence: record.evidence,
        occurred_on: Some(date(record.occurred_on)),
        evidence_id: record.evidence_id.clone(),
        charge_category: record.charge_category.clone(),
        prostitution_related: record.prostitution_related,
        practice: record.practice,
    };
    Ok(Envelope::new(SERVICE, case.case_id.clone(), referral_id.to_owned(), &event))
}

/// A stored (year, month, day) as a proto date.
pub fn date((year, month, day): (i32, i32, i32)) -> Date {
    Date { year, month, day }
}

fn date_parts(on: NaiveDate) -> (i32, i32, i32) {
    (on.year(), on.month() as i32, on.day() as i32)
}
