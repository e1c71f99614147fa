//! One youth, one open case: when staff confirm that a referral with an open case of its own is a
//! youth who already has an open case (`possible_match.confirmed`, see `app::returning`), the newer
//! case joins the open one. Its current episode's referrals and plan goals join the open case's
//! current episode (its earlier episodes' move as history, never current: a partner that served an
//! episode that ended does not reach the open case through it), its contact attempts,
//! interventions, recidivism events and recorded follow-ups move there, its
//! notes move there sealed again for that case, its open follow-ups are cancelled, and it is closed
//! as `CASE_CLOSURE_REASON_MERGED` naming the case it joined (no exit: no follow-ups, no
//! `case.closed`, so routing keeps the places its referrals' accepted offers hold).

use wf_db::Tx;
use wf_events::{Envelope, HandleError};
use wf_proto::cases::v1::{CaseClosureReason, CaseStage};
use wf_proto::events::v1 as events;

use super::sealing::{NoteBinding, open_text, seal_text};
use super::{App, assignment, follow_ups};
use crate::store::lifecycle::StageMove;
use crate::store::{self, CaseRecord, LifecycleFacts};
use crate::{SERVICE, timestamp};

/// The coded reason of the merged case's move to closed.
pub const MERGED_REASON: &str = "merged_into_open_case";

/// Merges the open case `newer` into the youth's open case `open` in `tx` (the assignment lock
/// held) and returns the events to announce it.
pub(crate) async fn into_open(
    app: &App,
    tx: &mut Tx,
    newer: &CaseRecord,
    open: &CaseRecord,
    now: i64,
) -> Result<Vec<Envelope>, HandleError> {
    let mut announced = follow_ups::cancel_open(tx, newer, "case_merged").await?;
    let referrals = store::continuity::move_referrals(tx, &newer.case_id, &open.case_id, now).await?;
    store::merge::move_records(tx, &newer.case_id, &open.case_id, now, referrals.episode_shift).await?;
    move_notes(app, tx, &newer.case_id, &open.case_id).await?;
    let step = StageMove {
        case_id: newer.case_id.clone(),
        from: newer.stage,
        to: CaseStage::Closed,
        effective_at: now,
        reason: MERGED_REASON.to_owned(),
        recorded_by: SERVICE.to_owned(),
        recorded_at: now,
    };
    let facts = LifecycleFacts {
        closed_at: Some(now),
        closure_reason: CaseClosureReason::Merged as i32,
        ..newer.lifecycle.clone()
    };
    if !store::lifecycle::apply(tx, &step, &facts).await? {
        return Err(HandleError::Transient("the case changed stage concurrently; retrying".into()));
    }
    store::merge::mark_merged(tx, &newer.case_id, &open.case_id).await?;
    let moved = events::CaseStageChanged {
        case_id: newer.case_id.clone(),
        referral_id: newer.referral_id.clone(),
        from_stage: newer.stage as i32,
        to_stage: CaseStage::Closed as i32,
        effective_at: Some(timestamp(now)),
        reason: MERGED_REASON.to_owned(),
        practice: newer.practice,
    };
    announced.insert(0, Envelope::new(SERVICE, newer.case_id.clone(), newer.referral_id.clone(), &moved));
    // Only the referrals that joined the current episode: an earlier episode's ended with its own
    // closure (announcing it would give it a status again).
    for referral_id in &referrals.joined {
        announced.push(assignment::joined(tx, open, referral_id, now).await?);
    }
    tracing::info!(
        case.id = %newer.case_id,
        into_case.id = %open.case_id,
        referrals = referrals.joined.len(),
        "confirmed match: the newer open case joined the youth's open case"
    );
    Ok(announced)
}

/// Moves every note of case `from` to case `to`, its text opened and sealed again for `to` (the
/// sealed text is bound to its case). Needs the note keys only when there are notes.
async fn move_notes(app: &App, tx: &mut Tx, from: &str, to: &str) -> Result<(), HandleError> {
    let notes = store::notes::of_case_in(tx, from).await?;
    if notes.is_empty() {
        return Ok(());
    }
    let Some(keys) = &app.note_keys else {
        return Err(HandleError::Transient(
            "case notes cannot be moved: the service was built without note keys (App::with_note_keys)".into(),
        ));
    };
    let keys = keys.current();
    for note in &notes {
        let text = open_text(&keys, note).map_err(|err| HandleError::Transient(err.to_string()))?;
        let binding = NoteBinding {
            note_id: &note.note_id,
            case_id: to,
            author_id: &note.author_id,
            privileged: note.privileged,
        };
        let sealed = seal_text(&keys, binding, &text).map_err(|err| {
            HandleError::Transient(format!("case note {}: text cannot be sealed: {err}", note.note_id))
        })?;
        store::notes::move_sealed(tx, &note.note_id, to, &sealed, keys.current_version() as i32).await?;
    }
    Ok(())
}
