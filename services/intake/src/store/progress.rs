//! A referral's progress facts (see `domain::progress`), the escalations and accepted offers intake
//! learns from routing, and the status they give. Every function takes the caller's transaction; the
//! referral row is read with [`lock`] first, so an event and a staff step of one referral apply one
//! after the other.

use wf_db::{Backend, Db, DbError, Tx};

use crate::domain::progress::{CaseTrack, Escalation, Facts, MatchStep, Matching, Owner};
use crate::domain::submitter::HandOff;

/// A referral's progress row, locked.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProgressRow {
    pub status: i32,
    pub staff_closed: i32,
    pub triaged_at: Option<i64>,
    pub matching_step: Option<String>,
    pub matching_event_id: Option<String>,
    pub offer_deadline: Option<i64>,
    pub matched_at: Option<i64>,
    pub assigned_at: Option<i64>,
    pub first_contact_at: Option<i64>,
    pub enrolled_at: Option<i64>,
    pub case_closed: Option<i32>,
    pub case_closure_reason: Option<i32>,
    pub case_event_id: Option<String>,
    pub case_event_at: Option<i64>,
    /// Who holds the case now (`domain::progress::Owner`), and the event that said so.
    pub case_manager_id: Option<String>,
    pub case_manager_event_id: Option<String>,
    /// The hand-off's code, once the referral left intake's hands (`domain::submitter`).
    pub handed_off_by: Option<String>,
}

impl ProgressRow {
    /// The facts the row holds, with the referral's escalations.
    pub fn facts(&self, escalations: Vec<Escalation>) -> Facts {
        let matching = match (self.matching_step.as_deref().and_then(Matching::from_code), &self.matching_event_id) {
            (Some(step), Some(event_id)) => {
                Some(MatchStep { step, event_id: event_id.clone(), offer_deadline: self.offer_deadline })
            }
            _ => None,
        };
        let case = match (&self.case_event_id, self.case_event_at) {
            (Some(event_id), Some(at)) => Some(CaseTrack {
                closed: (self.case_closed == Some(1)).then_some(self.case_closure_reason.unwrap_or(0)),
                at,
                event_id: event_id.clone(),
            }),
            _ => None,
        };
        let owner = self
            .case_manager_event_id
            .as_ref()
            .map(|event_id| Owner { case_manager_id: self.case_manager_id.clone(), event_id: event_id.clone() });
        Facts {
            triaged: self.triaged_at.is_some(),
            matching,
            matched_at: self.matched_at,
            assigned_at: self.assigned_at,
            first_contact_at: self.first_contact_at,
            enrolled_at: self.enrolled_at,
            case,
            owner,
            escalations,
        }
    }
}

const COLUMNS: &str = "status, staff_closed, triaged_at, matching_step, matching_event_id, \
                       offer_deadline, matched_at, assigned_at, first_contact_at, enrolled_at, case_closed, \
                       case_closure_reason, case_event_id, case_event_at, case_manager_id, case_manager_event_id, \
                       handed_off_by";

/// Reads and locks a referral's progress (`FOR UPDATE` on PostgreSQL; SQLite has one writer at a time).
pub async fn lock(tx: &mut Tx, backend: Backend, referral_id: &str) -> Result<Option<ProgressRow>, DbError> {
    let lock = if backend == Backend::Postgres { " FOR UPDATE" } else { "" };
    Ok(sqlx::query_as(&format!("SELECT {COLUMNS} FROM referral WHERE id = $1{lock}"))
        .bind(referral_id)
        .fetch_optional(&mut **tx)
        .await?)
}

pub async fn escalations(tx: &mut Tx, referral_id: &str) -> Result<Vec<Escalation>, DbError> {
    let rows: Vec<(String, Option<i64>, Option<i64>)> = sqlx::query_as(
        "SELECT escalation_id, raised_at, resolved_at FROM referral_escalation WHERE referral_id = $1 \
         ORDER BY escalation_id",
    )
    .bind(referral_id)
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(escalation_id, raised_at, resolved_at)| Escalation { escalation_id, raised_at, resolved_at })
        .collect())
}

/// What a change writes besides the facts: the status columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusColumns {
    pub status: i32,
    pub status_before_hold: Option<i32>,
    /// (closure reason, closed at) while closed; `None` clears them (a reopened case).
    pub closure: Option<(i32, i64)>,
}

/// Writes the facts (the case's owner with them, and the escalations, upserted) and, when given, the status columns.
pub async fn save(tx: &mut Tx, referral_id: &str, facts: &Facts, status: Option<StatusColumns>) -> Result<(), DbError> {
    let (case_closed, case_reason, case_event, case_at) = match &facts.case {
        Some(case) => {
            (Some(i32::from(case.closed.is_some())), case.closed, Some(case.event_id.as_str()), Some(case.at))
        }
        None => (None, None, None, None),
    };
    sqlx::query(
        "UPDATE referral SET matching_step = $1, matching_event_id = $2, offer_deadline = $3, matched_at = $4, \
         assigned_at = $5, first_contact_at = $6, enrolled_at = $7, case_closed = $8, case_closure_reason = $9, \
         case_event_id = $10, case_event_at = $11, case_manager_id = $12, case_manager_event_id = $13 \
         WHERE id = $14",
    )
    .bind(facts.matching.as_ref().map(|m| m.step.code()))
    .bind(facts.matching.as_ref().map(|m| m.event_id.as_str()))
    .bind(facts.matching.as_ref().and_then(|m| m.offer_deadline))
    .bind(facts.matched_at)
    .bind(facts.assigned_at)
    .bind(facts.first_contact_at)
    .bind(facts.enrolled_at)
    .bind(case_closed)
    .bind(case_reason)
    .bind(case_event)
    .bind(case_at)
    .bind(facts.case_manager_id())
    .bind(facts.owner.as_ref().map(|owner| owner.event_id.as_str()))
    .bind(referral_id)
    .execute(&mut **tx)
    .await?;
    for escalation in &facts.escalations {
        sqlx::query(
            "INSERT INTO referral_escalation (escalation_id, referral_id, raised_at, resolved_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (escalation_id) DO UPDATE \
             SET raised_at = excluded.raised_at, resolved_at = excluded.resolved_at",
        )
        .bind(&escalation.escalation_id)
        .bind(referral_id)
        .bind(escalation.raised_at)
        .bind(escalation.resolved_at)
        .execute(&mut **tx)
        .await?;
    }
    if let Some(columns) = status {
        sqlx::query(
            "UPDATE referral SET status = $1, status_before_hold = $2, closure_reason = $3, closed_at = $4 \
             WHERE id = $5",
        )
        .bind(columns.status)
        .bind(columns.status_before_hold)
        .bind(columns.closure.map(|(reason, _)| reason))
        .bind(columns.closure.map(|(_, at)| at))
        .bind(referral_id)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Gives the referral its case id.
pub async fn set_case(tx: &mut Tx, referral_id: &str, case_id: &str) -> Result<(), DbError> {
    sqlx::query("UPDATE referral SET case_id = $1 WHERE id = $2")
        .bind(case_id)
        .bind(referral_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Gives the referral its case id, when it has none yet.
pub async fn set_case_if_none(tx: &mut Tx, referral_id: &str, case_id: &str) -> Result<(), DbError> {
    sqlx::query("UPDATE referral SET case_id = $1 WHERE id = $2 AND (case_id IS NULL OR case_id = '')")
        .bind(case_id)
        .bind(referral_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// An accepted offer, as `offer.accepted` says.
#[derive(Debug, Clone)]
pub struct AcceptedOffer<'a> {
    pub offer_id: &'a str,
    pub referral_id: &'a str,
    pub partner_id: &'a str,
    pub partner_service_id: &'a str,
    pub accepted_at: i64,
    pub accepted_by: &'a str,
    /// The number of intake's record of it (`store::next_seq`): the order acceptances and the
    /// case's reopenings were recorded in.
    pub recorded_seq: i64,
}

/// Records an accepted offer once (a redelivery changes nothing).
pub async fn insert_accepted_offer(tx: &mut Tx, offer: &AcceptedOffer<'_>) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO referral_accepted_offer \
         (offer_id, referral_id, partner_id, partner_service_id, accepted_at, accepted_by, recorded_seq) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (offer_id) DO NOTHING",
    )
    .bind(offer.offer_id)
    .bind(offer.referral_id)
    .bind(offer.partner_id)
    .bind(offer.partner_service_id)
    .bind(offer.accepted_at)
    .bind(offer.accepted_by)
    .bind(offer.recorded_seq)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Records the hand-off (`domain::submitter`), once: a referral handed off stays handed off.
pub async fn record_hand_off(tx: &mut Tx, referral_id: &str, hand_off: &HandOff) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE referral SET handed_off_by = $1, handed_off_status = $2, handed_off_at = $3, handed_off_seq = $4, \
         handed_off_matched_at = $5 WHERE id = $6 AND handed_off_by IS NULL",
    )
    .bind(hand_off.by.code())
    .bind(hand_off.by.status() as i32)
    .bind(hand_off.at)
    .bind(hand_off.seq)
    .bind(hand_off.matched_at)
    .bind(referral_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Records that the referral's closed case reopened in a new episode at intake's record `seq`
/// ([`crate::domain::progress::starts_episode`]): acceptances recorded before it no longer count
/// ([`crate::domain::progress::serves_now`]).
pub async fn start_episode(tx: &mut Tx, referral_id: &str, seq: i64) -> Result<(), DbError> {
    sqlx::query("UPDATE referral SET episode_seq = $1 WHERE id = $2")
        .bind(seq)
        .bind(referral_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Whether `partner_id` serves the referral now: it accepted an offer for it that still counts
/// ([`crate::domain::progress::serves_now`]: the case is not closed and the acceptance was recorded
/// in the case's current episode).
pub async fn serves_now(db: &Db, referral_id: &str, partner_id: &str) -> Result<bool, DbError> {
    let rows: Vec<(i64, Option<i32>, Option<i64>)> = sqlx::query_as(
        "SELECT o.recorded_seq, r.case_closed, r.episode_seq FROM referral_accepted_offer o \
         JOIN referral r ON r.id = o.referral_id WHERE o.referral_id = $1 AND o.partner_id = $2",
    )
    .bind(referral_id)
    .bind(partner_id)
    .fetch_all(db.pool())
    .await?;
    Ok(rows.into_iter().any(|(recorded_seq, case_closed, episode_seq)| {
        crate::domain::progress::serves_now(case_closed, episode_seq, recorded_seq)
    }))
}
