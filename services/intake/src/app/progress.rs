//! Following a referral through routing and cases: each event's facts folded in
//! (`domain::progress`), the status they give written with its history entry, in the transaction
//! that records the event in the inbox, so a redelivery has no second effect. Each event is
//! numbered in intake's recording order; the first whose facts take the referral out of intake's
//! hands is recorded as its hand-off (`domain::submitter`: where its submitter's view stops), and a
//! reopening of its closed case that starts a new episode is recorded (only acceptances since then let
//! a partner read it; a reopening that carries the last episode on starts none).
//!
//! Around the derived status sit the staff steps: a referral staff closed stays closed (its facts
//! still learn, e.g. a late acceptance's `matched_at`); one on hold keeps ON_HOLD and the derived
//! status becomes the one it resumes to, unless its case closed it (a closure ends the hold).

use wf_db::{Db, DbError};
use wf_events::{Envelope, inbox};
use wf_proto::intake::v1::ReferralStatus;

use crate::SERVICE;
/// What the consumer parses an event into (the rules that fold it are in `domain::progress`).
pub use crate::domain::progress::{Event, ReopenedEpisode, Signal, is_enrolled_stage};
use crate::domain::{progress, submitter};
use crate::store::{self, progress as facts_store};

/// What else an event tells intake about the referrals it names.
#[derive(Debug, Clone, Default)]
pub struct Extras {
    /// The referral's case ("case_…").
    pub case_id: Option<String>,
    /// Whether the event gives the referral its case (an assignment, a reopening: it replaces an
    /// earlier one, e.g. after cases merged two), rather than only naming it.
    pub gives_case: bool,
    /// The offer accepted: (offer id, partner id, partner service id, accepted by).
    pub accepted: Option<(String, String, String, String)>,
}

/// Applies `event` to each of `referral_ids` (a case's closure, reopening or return to the
/// supervisors' queue names the episode's other referrals too), once per envelope. Referrals intake does not hold (another deployment's) are skipped with a warning.
pub async fn follow(
    db: &Db,
    envelope: &Envelope,
    referral_ids: &[String],
    event: &Event,
    extras: &Extras,
) -> Result<(), DbError> {
    let mut tx = db.begin().await?;
    if !inbox::record(&mut tx, SERVICE, envelope).await? {
        tx.commit().await?;
        return Ok(());
    }
    // Locked in one order whatever the event lists, so two events naming the same referrals wait
    // for each other instead of deadlocking.
    let mut ordered: Vec<&str> = crate::app::distinct(referral_ids.iter().map(String::as_str)).collect();
    ordered.sort_unstable();
    for referral_id in ordered {
        let Some(row) = facts_store::lock(&mut tx, db.backend(), referral_id).await? else {
            tracing::warn!(referral.id = %referral_id, event.id = %envelope.event_id, event.r#type = %envelope.event_type, "status event for an unknown referral");
            continue;
        };
        let before = row.facts(facts_store::escalations(&mut tx, referral_id).await?);
        let (after, entry) = progress::apply(before.clone(), event);
        let staff_closed = row.staff_closed != 0;
        let status = (!staff_closed).then(|| status_columns(&row, &after));
        facts_store::save(&mut tx, referral_id, &after, status).await?;
        // Every event followed is numbered in intake's recording order (a history entry for staff
        // to read, unless staff closed the referral): the order the submitter's cut, the hand-off
        // and the case's episodes are told in, whatever instant the event announced.
        let seq = if staff_closed {
            store::next_seq(&mut tx, referral_id).await?
        } else {
            store::record_status_change(
                &mut tx,
                referral_id,
                &envelope.event_id.to_string(),
                entry.status as i32,
                event.at,
                &entry.detail,
            )
            .await?
        };
        // The first event whose facts take the referral out of intake's hands is its hand-off: what
        // its submitter sees stops there.
        if row.handed_off_by.is_none()
            && let Some(by) = submitter::handed_off_by(&after, staff_closed)
        {
            let hand_off = submitter::HandOff { by, at: event.at, seq, matched_at: after.matched_at };
            facts_store::record_hand_off(&mut tx, referral_id, &hand_off).await?;
        }
        if progress::starts_episode(&before, &after, event) {
            facts_store::start_episode(&mut tx, referral_id, seq).await?;
        }
        match (&extras.case_id, extras.gives_case) {
            (Some(case_id), true) => facts_store::set_case(&mut tx, referral_id, case_id).await?,
            (Some(case_id), false) => facts_store::set_case_if_none(&mut tx, referral_id, case_id).await?,
            (None, _) => {}
        }
        if let Some((offer_id, partner_id, partner_service_id, accepted_by)) = &extras.accepted {
            let offer = facts_store::AcceptedOffer {
                offer_id,
                referral_id,
                partner_id,
                partner_service_id,
                accepted_at: event.at,
                accepted_by,
                recorded_seq: seq,
            };
            facts_store::insert_accepted_offer(&mut tx, &offer).await?;
        }
        tracing::debug!(referral.id = %referral_id, event.r#type = %envelope.event_type, status = entry.status as i32, "referral progress recorded");
    }
    tx.commit().await?;
    Ok(())
}

/// The status columns of a referral staff did not close, after the facts became `after`.
fn status_columns(row: &facts_store::ProgressRow, after: &progress::Facts) -> facts_store::StatusColumns {
    let derived = progress::status(after);
    let closure = derived.closure.map(|(reason, at)| (reason as i32, at));
    let on_hold = row.status == ReferralStatus::OnHold as i32;
    match (on_hold, derived.status) {
        // Closed by its case: a closure ends the hold, as a staff closure would.
        (_, ReferralStatus::Closed) => {
            facts_store::StatusColumns { status: ReferralStatus::Closed as i32, status_before_hold: None, closure }
        }
        (true, resume_to) => {
            facts_store::StatusColumns { status: row.status, status_before_hold: Some(resume_to as i32), closure: None }
        }
        (false, status) => {
            facts_store::StatusColumns { status: status as i32, status_before_hold: None, closure: None }
        }
    }
}
