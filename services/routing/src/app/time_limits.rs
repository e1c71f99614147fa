//! The referral time limits (`domain::time_limits`) kept and enforced: each referral's receipt,
//! tier, first contact and closure are recorded in the transaction of the event that tells of
//! them, and the worker escalates each missed limit once — `referral.escalated` with reason
//! `EMERGENT_CONTACT_OVERDUE` or `MATCH_DEADLINE_MISSED`, and an entry in the escalation queue —
//! unless staff closed the referral by the time it looks (the row it locks holds the closure).
//!
//! First advocate contact is the earliest `contact_attempt.recorded` whose outcome is REACHED (the
//! attempt that actually reached the youth, the same one cases marks `first_contact`); an attempt
//! that did not reach the youth (not reached, unsafe to contact, declined) does not stop the count.
//! The contact counts at the instant it was made (`attempted_at`), so a contact made in time but
//! recorded after the worker already escalated leaves that escalation in the queue for a person to
//! resolve.

use chrono::{DateTime, Utc};
use wf_db::{DbError, Tx};
use wf_proto::common::v1::TriageTier;
use wf_proto::events::v1::ReferralEscalated;
use wf_proto::time::{timestamp, timestamp_from_micros};
use wf_types::EscalationId;

use super::enqueue;
use super::route::Router;
use crate::domain::time_limits::{self, LimitState, ReferralProgress, TimeLimit};
use crate::domain::{self, ReferralFacts};
use crate::store::escalations::{self, EscalationRecord};
use crate::store::time_limits::{self as stored, DueLimit};
use crate::store::{decisions, offers};

/// How many due limits one pass looks at (the next pass takes the rest).
const PASS_BATCH: usize = 200;

impl Router {
    /// Starts the referral's time limit, counted from `received_at`, under the tier routing decided
    /// on. In the caller's transaction (the one that routes the referral).
    pub async fn start_time_limit(
        &self,
        tx: &mut Tx,
        facts: &ReferralFacts,
        received_at: DateTime<Utc>,
    ) -> Result<(), DbError> {
        let tier = domain::effective_tier(facts.triage_tier);
        let limit = time_limits::time_limit(tier, received_at);
        stored::record_received(
            tx,
            &facts.referral_id,
            wf_db::to_micros(received_at),
            tier,
            facts.site,
            facts.practice,
            limit,
        )
        .await
    }

    /// The referral was re-triaged: its limit becomes the new tier's, still counted from receipt,
    /// and is looked at again. Nothing for a referral routing has no receipt of.
    pub(super) async fn retier_time_limit(
        &self,
        tx: &mut Tx,
        referral_id: &str,
        tier: TriageTier,
    ) -> Result<(), DbError> {
        let Some(received_at) = stored::received_at_of(tx, referral_id).await? else {
            return Ok(());
        };
        let limit = time_limits::time_limit(tier, wf_db::from_micros(received_at));
        stored::retier(tx, referral_id, tier, limit).await
    }

    /// A contact attempt reached the youth at `at` (microseconds). In the caller's transaction.
    pub async fn on_contact_reached(&self, tx: &mut Tx, referral_id: &str, at: i64) -> Result<(), DbError> {
        stored::record_contact(tx, referral_id, at).await
    }

    /// Intake closed the referral at `at` (microseconds): its time limit is settled by then, an
    /// offer still open is withdrawn (reason [`super::route::WITHDRAWN_REFERRAL_CLOSED`]) so no
    /// partner accepts a referral nobody works any more and the expiry worker does not re-route it,
    /// and its open escalations are resolved (`referral_closed`, with `escalation.resolved`) so the
    /// supervisors' queue holds only referrals someone must still match. The closure is written
    /// first, taking the referral's lock: a transaction making or accepting an offer of it either
    /// committed first (an offer it left open is withdrawn here) or reads the closure and refuses.
    /// Returns the offers withdrawn. In the caller's transaction.
    pub async fn on_referral_closed(&self, tx: &mut Tx, referral_id: &str, at: i64) -> Result<Vec<String>, DbError> {
        stored::record_closed(tx, referral_id, at).await?;
        let now = wf_db::to_micros(self.clock.now());
        let mut withdrawn = Vec::new();
        for offer in offers::open_offers_of(tx, referral_id).await? {
            if self
                .withdraw(tx, &offer, super::route::WITHDRAWN_REFERRAL_CLOSED, now, super::route::WITHDRAWN_BY)
                .await?
            {
                withdrawn.push(offer.offer_id);
            }
        }
        for escalation in escalations::open_escalations_of(tx, referral_id).await? {
            let resolution = super::escalations::RESOLUTION_REFERRAL_CLOSED;
            super::escalations::resolve(tx, self, &escalation, resolution, now, super::route::WITHDRAWN_BY).await?;
        }
        Ok(withdrawn)
    }

    /// Looks at every limit that fell due by the service clock and escalates each one missed;
    /// returns how many it escalated. Each referral is handled in its own transaction, under its
    /// lock (waiting for whoever holds it, e.g. the offer expiry, rather than skipping it until the
    /// next pass); a limit already escalated for that reason (another instance, an earlier pass) is
    /// not escalated again.
    pub async fn escalate_missed_limits(&self) -> Result<usize, DbError> {
        let mut escalated = 0;
        for _ in 0..PASS_BATCH {
            let now = self.clock.now();
            let at = wf_db::to_micros(now);
            let mut tx = self.db.begin().await?;
            let due = stored::due_limits(&mut tx, at, 1).await?;
            let Some(candidate) = due.into_iter().next() else {
                tx.commit().await?;
                break;
            };
            // As of the referral's lock: another instance may have settled it meanwhile.
            let Some(row) = stored::lock_due_limit(&mut tx, self.db.backend(), &candidate.referral_id, at).await?
            else {
                tx.commit().await?;
                continue;
            };
            let progress = ReferralProgress {
                tier: row.triage_tier,
                received_at: wf_db::from_micros(row.received_at),
                first_contact_at: row.first_contact_at.map(wf_db::from_micros),
                accepted_at: offers::first_accepted_at(&mut tx, &row.referral_id).await?.map(wf_db::from_micros),
                closed_at: row.closed_at.map(wf_db::from_micros),
            };
            let raised = match time_limits::assess(&progress, now) {
                // The stored instant was not the limit's own: keep the limit's, look again then.
                LimitState::Running(limit) => {
                    stored::retier(&mut tx, &row.referral_id, row.triage_tier, limit).await?;
                    false
                }
                LimitState::Met(_) | LimitState::Closed(_) => {
                    stored::settle(&mut tx, &row.referral_id, at).await?;
                    false
                }
                LimitState::Missed(limit) => {
                    let raised = self.raise_missed(&mut tx, &row, limit, now).await?;
                    stored::settle(&mut tx, &row.referral_id, at).await?;
                    raised
                }
            };
            tx.commit().await?;
            if raised {
                escalated += 1;
                self.relay.wake();
            }
        }
        Ok(escalated)
    }

    /// Escalates the missed `limit` of `row`'s referral; `false` when it was escalated before.
    async fn raise_missed(
        &self,
        tx: &mut Tx,
        row: &DueLimit,
        limit: TimeLimit,
        now: DateTime<Utc>,
    ) -> Result<bool, DbError> {
        let Some(decision) = decisions::latest_decision_of(tx, &row.referral_id).await? else {
            // Receipts are recorded with the first decision, so this does not happen.
            tracing::warn!(referral.id = %row.referral_id, "time limit missed but the referral has no decision; not escalated");
            return Ok(false);
        };
        let reason = limit.kind.escalation_reason();
        let escalation = EscalationRecord {
            escalation_id: EscalationId::generate().to_string(),
            referral_id: row.referral_id.clone(),
            reason,
            triage_tier: row.triage_tier,
            site: row.site,
            escalated_at: wf_db::to_micros(now),
            deadline: wf_db::to_micros(limit.due),
            decision_id: decision.decision_id.clone(),
            practice: row.practice,
        };
        if !escalations::insert_time_limit_escalation(tx, &escalation).await? {
            tracing::debug!(referral.id = %row.referral_id, reason = reason.as_str_name(), "time limit already escalated");
            return Ok(false);
        }
        let event = ReferralEscalated {
            escalation_id: escalation.escalation_id.clone(),
            referral_id: row.referral_id.clone(),
            reason: reason as i32,
            triage_tier: row.triage_tier as i32,
            site: row.site as i32,
            escalated_at: Some(timestamp(now)),
            deadline: Some(timestamp_from_micros(escalation.deadline)),
            decision_id: decision.decision_id,
            practice: row.practice,
        };
        enqueue(tx, self.db.backend(), &row.referral_id, &event).await?;
        tracing::warn!(
            referral.id = %row.referral_id,
            escalation.id = %escalation.escalation_id,
            reason = reason.as_str_name(),
            tier = domain::tier_code(row.triage_tier),
            practice = row.practice,
            deadline = %limit.due,
            "time limit missed, referral escalated"
        );
        Ok(true)
    }
}
