//! Routing a referral: decide, store the decision, make the offer (or escalate) and
//! announce it, all in the caller's transaction — unless staff closed the referral. The offer
//! lifecycle around it (accept, decline, expiry, the case closing) is in `app::offers`,
//! re-triage in `app::triage`.
//!
//! A closed referral gets no offer and no escalation, however it is reached: the closure routing
//! learns from `referral.closed` is kept on the referral's row (`store::time_limits`), and every
//! transaction that makes or accepts an offer first locks that row and reads it
//! ([`Router::lock_referral`]), so a closure written at the same time is either seen or waits
//! until the offer is committed (and is then withdrawn by the closure).

use wf_db::{Db, DbError, Tx};
use wf_events::RelayHandle;
use wf_proto::events::v1::{OfferMade, OfferWithdrawn, ReferralEscalated, ReferralRouted};
use wf_proto::routing::v1::{DecisionOutcome, DeclineReason, EscalationReason, OfferStatus};
use wf_proto::time::timestamp;
use wf_types::{DecisionId, EscalationId, OfferId, SharedClock};

use super::enqueue;
use super::live::Live;
use crate::domain::{self, Directory, Policy, ReferralFacts};
use crate::store::decisions::{self, DecisionRecord};
use crate::store::escalations::{self, EscalationRecord};
use crate::store::offers::{self, OfferRecord};
use crate::store::{capacity, time_limits, triage};

/// Trigger codes of decisions (`ReferralRouted.reason`).
pub const REASON_REFERRAL_RECEIVED: &str = "referral_received";
pub const REASON_OFFER_DECLINED: &str = "offer_declined";
pub const REASON_OFFER_EXPIRED: &str = "offer_expired";
pub const REASON_REFERRAL_TRIAGED: &str = "referral_triaged";
/// Who expired an offer (`responded_by`).
pub const EXPIRED_BY: &str = "routing";
/// Why an open offer is withdrawn when the referral's case closes (`OfferWithdrawn.reason`).
pub const WITHDRAWN_CASE_CLOSED: &str = "case_closed";
/// Why an open offer is withdrawn when the referral's new tier excludes its service
/// (e.g. emergent needs a 24/7 service).
pub const WITHDRAWN_TRIAGE_CHANGED: &str = "triage_changed";
/// Why an open offer is withdrawn when staff close the referral in intake (`referral.closed`).
pub const WITHDRAWN_REFERRAL_CLOSED: &str = "referral_closed";
/// Who withdrew an offer (`responded_by`).
pub const WITHDRAWN_BY: &str = "routing";

/// What a routing pass did.
#[derive(Debug, Clone, PartialEq)]
pub enum Routed {
    Offered {
        decision_id: String,
        offer_id: String,
    },
    Escalated {
        decision_id: String,
        escalation_id: String,
    },
    /// Staff closed the referral: nothing was decided, offered or escalated.
    ReferralClosed,
}

/// The refusal of a manual action on a closed referral: "referral <id> is closed; <what instead>".
pub fn closed_referral_message(referral_id: &str, instead: &str) -> String {
    format!("referral {referral_id} is closed; {instead}")
}

/// Makes decisions over the directory and the policy in force, reading time from the service's clock.
#[derive(Clone)]
pub struct Router {
    pub(super) db: Db,
    pub(super) directory: Live<Directory>,
    pub(super) policy: Live<Policy>,
    pub(super) clock: SharedClock,
    pub(super) relay: RelayHandle,
}

impl Router {
    pub fn new(
        db: Db,
        directory: Live<Directory>,
        policy: Live<Policy>,
        clock: SharedClock,
        relay: RelayHandle,
    ) -> Self {
        Self { db, directory, policy, clock, relay }
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }

    pub fn wake_relay(&self) {
        self.relay.wake();
    }

    /// Locks the referral against a concurrent closure for the rest of `tx` and returns when staff
    /// closed it, if they did. Taken before any offer row of the referral is touched (the closure
    /// locks the referral, then withdraws its offers), so the two never wait on each other.
    pub async fn lock_referral(&self, tx: &mut Tx, referral_id: &str) -> Result<Option<i64>, DbError> {
        time_limits::lock_referral(tx, self.db.backend(), referral_id).await
    }

    /// Decides `facts` (attempt `attempt`), stores the decision, and either makes the offer
    /// (`referral.routed` + `offer.made`) or escalates (`referral.escalated` with `none_left`);
    /// [`Routed::ReferralClosed`], with nothing written, when staff closed the referral.
    pub async fn route(
        &self,
        tx: &mut Tx,
        facts: &ReferralFacts,
        attempt: i32,
        reason: &str,
        source_event_id: &str,
        none_left: EscalationReason,
    ) -> Result<Routed, DbError> {
        if self.lock_referral(tx, &facts.referral_id).await?.is_some() {
            tracing::debug!(referral.id = %facts.referral_id, "referral closed, not routed");
            return Ok(Routed::ReferralClosed);
        }
        let now = self.clock.now();
        let capacity = capacity::open_places(&mut **tx).await?;
        let directory = self.directory.current().with_open_capacity(&capacity);
        let decision = domain::decide_with(&self.policy.current(), &directory, facts, now);
        let record = DecisionRecord {
            decision_id: DecisionId::generate().to_string(),
            referral_id: facts.referral_id.clone(),
            attempt,
            policy_version: decision.policy_version.clone(),
            decided_at: wf_db::to_micros(now),
            triage_tier: decision.triage_tier,
            site: facts.site,
            outcome: match (&decision.chosen, attempt) {
                (Some(_), _) => DecisionOutcome::Offered,
                (None, 1) => DecisionOutcome::NoMatch,
                (None, _) => DecisionOutcome::Exhausted,
            },
            partner_id: decision.chosen.as_ref().map(|c| c.partner_id.to_string()),
            partner_service_id: decision.chosen.as_ref().map(|c| c.partner_service_id.clone()),
            deadline: wf_db::to_micros(decision.deadline),
            reason: reason.to_owned(),
            explanation: decision.chosen.as_ref().map_or_else(
                || format!("no eligible partner among {} services", decision.candidates.len()),
                |c| c.explanation.clone(),
            ),
            candidates: decision.candidates.clone(),
            practice: facts.practice,
            source_event_id: source_event_id.to_owned(),
            facts: Some(facts.clone()),
            offer_id: None,
        };
        decisions::insert_decision(tx, &record).await?;
        let backend = self.db.backend();
        let key = &facts.referral_id;
        let Some(choice) = &decision.chosen else {
            let escalation = EscalationRecord {
                escalation_id: EscalationId::generate().to_string(),
                referral_id: facts.referral_id.clone(),
                reason: if attempt == 1 { EscalationReason::NoEligiblePartner } else { none_left },
                triage_tier: decision.triage_tier,
                site: facts.site,
                escalated_at: record.decided_at,
                deadline: record.deadline,
                decision_id: record.decision_id.clone(),
                practice: facts.practice,
            };
            escalations::insert_escalation(tx, &escalation).await?;
            let escalated = ReferralEscalated {
                escalation_id: escalation.escalation_id.clone(),
                referral_id: facts.referral_id.clone(),
                reason: escalation.reason as i32,
                triage_tier: decision.triage_tier as i32,
                site: facts.site as i32,
                escalated_at: Some(timestamp(now)),
                deadline: Some(timestamp(decision.deadline)),
                decision_id: record.decision_id.clone(),
                practice: facts.practice,
            };
            tracing::warn!(
                referral.id = %facts.referral_id,
                decision.id = %record.decision_id,
                escalation.id = %escalation.escalation_id,
                attempt,
                tier = domain::tier_code(decision.triage_tier),
                "no eligible partner left, referral escalated"
            );
            enqueue(tx, backend, key, &escalated).await?;
            return Ok(Routed::Escalated { decision_id: record.decision_id, escalation_id: escalation.escalation_id });
        };
        let offer = OfferRecord {
            offer_id: OfferId::generate().to_string(),
            decision_id: record.decision_id.clone(),
            referral_id: facts.referral_id.clone(),
            attempt,
            partner_id: choice.partner_id.to_string(),
            partner_service_id: choice.partner_service_id.clone(),
            status: OfferStatus::Pending,
            triage_tier: decision.triage_tier,
            site: facts.site,
            offered_at: record.decided_at,
            deadline: record.deadline,
            responded_at: None,
            responded_by: None,
            decline_reason: DeclineReason::Unspecified,
            decline_detail: String::new(),
            practice: facts.practice,
            facts: facts.offer_facts(),
        };
        offers::insert_offer(tx, &offer).await?;
        let routed = ReferralRouted {
            referral_id: facts.referral_id.clone(),
            decision_id: record.decision_id.clone(),
            partner_id: offer.partner_id.clone(),
            partner_service_id: offer.partner_service_id.clone(),
            triage_tier: decision.triage_tier as i32,
            site: facts.site as i32,
            policy_version: record.policy_version.clone(),
            deadline: Some(timestamp(decision.deadline)),
            practice: facts.practice,
            reason: reason.to_owned(),
            attempt,
        };
        let made = OfferMade {
            offer_id: offer.offer_id.clone(),
            decision_id: record.decision_id.clone(),
            referral_id: facts.referral_id.clone(),
            partner_id: offer.partner_id.clone(),
            partner_service_id: offer.partner_service_id.clone(),
            triage_tier: decision.triage_tier as i32,
            site: facts.site as i32,
            offered_at: Some(timestamp(now)),
            deadline: Some(timestamp(decision.deadline)),
            practice: facts.practice,
        };
        tracing::info!(
            referral.id = %facts.referral_id,
            decision.id = %record.decision_id,
            offer.id = %offer.offer_id,
            partner.id = %offer.partner_id,
            partner_service.id = %offer.partner_service_id,
            attempt,
            tier = domain::tier_code(decision.triage_tier),
            practice = facts.practice,
            "referral routed, offer made"
        );
        enqueue(tx, backend, key, &routed).await?;
        enqueue(tx, backend, key, &made).await?;
        Ok(Routed::Offered { decision_id: record.decision_id, offer_id: offer.offer_id })
    }

    /// Re-routes the referral of a declined, expired or withdrawn offer to the next candidate.
    pub(super) async fn reroute(
        &self,
        tx: &mut Tx,
        offer: &OfferRecord,
        reason: &str,
        none_left: EscalationReason,
    ) -> Result<Routed, DbError> {
        let latest = decisions::latest_decision_of(tx, &offer.referral_id).await?;
        let mut facts = latest.as_ref().and_then(|d| d.facts.clone()).unwrap_or_else(|| ReferralFacts {
            // Decisions stored before facts were kept: route on what the offer knows.
            referral_id: offer.referral_id.clone(),
            site: offer.site,
            triage_tier: offer.triage_tier,
            needs: Vec::new(),
            preferred_language: String::new(),
            is_minor: false,
            age_years: None,
            outside_youth_program: false,
            practice: offer.practice,
            already_offered: Vec::new(),
        });
        if let Some(tier) = triage::triaged_tier_of(tx, &offer.referral_id).await? {
            facts.triage_tier = tier;
        }
        facts.already_offered = offers::offered_services(tx, &offer.referral_id).await?;
        let attempt = latest.map_or(offer.attempt, |d| d.attempt) + 1;
        self.route(tx, &facts, attempt, reason, &offer.offer_id, none_left).await
    }

    /// Withdraws an open offer and announces `offer.withdrawn` (`reason` coded, `by` who);
    /// `false`, with nothing written, when the offer was no longer open.
    pub(super) async fn withdraw(
        &self,
        tx: &mut Tx,
        offer: &OfferRecord,
        reason: &str,
        at: i64,
        by: &str,
    ) -> Result<bool, DbError> {
        if !offers::close_offer(tx, &offer.offer_id, OfferStatus::Withdrawn, at, by, None).await? {
            return Ok(false);
        }
        let event = OfferWithdrawn {
            offer_id: offer.offer_id.clone(),
            referral_id: offer.referral_id.clone(),
            partner_id: offer.partner_id.clone(),
            partner_service_id: offer.partner_service_id.clone(),
            reason: reason.to_owned(),
            practice: offer.practice,
        };
        enqueue(tx, self.db.backend(), &offer.referral_id, &event).await?;
        Ok(true)
    }
}
