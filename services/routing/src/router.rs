//! Routing's write side: decide, store the decision, make the offer (or escalate) and
//! announce it, all in the caller's transaction; and the offer lifecycle around it —
//! accept (taking capacity), decline and expiry (each re-routing to the next candidate), and
//! the referral's case closing (giving the place back).

use std::sync::Arc;

use wf_db::{Db, DbError, Tx};
use wf_events::{Envelope, RelayHandle};
use wf_proto::common::v1::TriageTier;
use wf_proto::events::v1::{
    OfferAccepted, OfferDeclined, OfferExpired, OfferMade, OfferWithdrawn, ReferralEscalated, ReferralRouted,
};
use wf_proto::routing::v1::{DecisionOutcome, DeclineReason, EscalationReason, OfferStatus};
use wf_types::DecisionId;

use crate::clock::Clock;
use crate::domain::{self, Directory, Policy, ReferralFacts};
use crate::events::{SERVICE, timestamp};
use crate::live::Live;
use crate::offer_store::{self, OfferRecord, ReturnedPlace};
use crate::store::{self, DecisionRecord, EscalationRecord};

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
/// Who withdrew an offer (`responded_by`).
pub const WITHDRAWN_BY: &str = "routing";
/// How many due offers one expiry pass handles.
const EXPIRY_BATCH: i64 = 50;

/// Why an offer could not be answered.
#[derive(Debug, thiserror::Error)]
pub enum OfferError {
    /// Unknown, or not the caller's to answer (no existence leaks).
    #[error("offer not found")]
    NotFound,
    #[error("offer is already {0}")]
    NotOpen(&'static str),
    #[error("offer deadline has passed; the referral is being re-routed")]
    DeadlinePassed,
    #[error("partner service has no open capacity; decline the offer with reason DECLINE_REASON_NO_CAPACITY")]
    NoCapacity,
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for OfferError {
    fn from(err: sqlx::Error) -> Self {
        Self::Db(err.into())
    }
}

/// What routing did when a referral's case closed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CaseClosedEffect {
    /// Places given back, one per accepted offer that still held one.
    pub returned: Vec<ReturnedPlace>,
    /// Offers still open, withdrawn.
    pub withdrawn: Vec<String>,
}

/// What routing did when a referral's triage tier changed.
#[derive(Debug, Clone, PartialEq)]
pub enum TriageEffect {
    /// Routing has no decision for the referral yet: the event is retried.
    NotSeen,
    /// A triage at the same time or later was already applied: nothing changed.
    Stale,
    Applied {
        /// Open offers whose deadline moved earlier, with the new deadline (micros).
        shortened: Vec<(String, i64)>,
        /// Open offers withdrawn because the new tier excludes their service, each re-routed.
        withdrawn: Vec<(String, Routed)>,
        /// Open escalations whose deadline moved earlier (and whose tier became the new one), with
        /// the new deadline (micros).
        escalations_raised: Vec<(String, i64)>,
    },
}

/// What a routing pass did.
#[derive(Debug, Clone, PartialEq)]
pub enum Routed {
    Offered { decision_id: String, offer_id: String },
    Escalated { decision_id: String, escalation_id: String },
}

#[derive(Clone)]
pub struct Router {
    db: Db,
    directory: Live<Directory>,
    policy: Live<Policy>,
    clock: Arc<dyn Clock>,
    relay: RelayHandle,
}

impl Router {
    pub fn new(
        db: Db,
        directory: Live<Directory>,
        policy: Live<Policy>,
        clock: Arc<dyn Clock>,
        relay: RelayHandle,
    ) -> Self {
        Self { db, directory, policy, clock, relay }
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    pub fn wake_relay(&self) {
        self.relay.wake();
    }

    /// Decides `facts` (attempt `attempt`), stores the decision, and either makes the offer
    /// (`referral.routed` + `offer.made`) or escalates (`referral.escalated` with `none_left`).
    pub async fn route(
        &self,
        tx: &mut Tx,
        facts: &ReferralFacts,
        attempt: i32,
        reason: &str,
        source_event_id: &str,
        none_left: EscalationReason,
    ) -> Result<Routed, DbError> {
        let now = self.clock.now();
        let capacity = offer_store::open_capacity(tx).await?;
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
        };
        store::insert_decision(tx, &record).await?;
        let backend = self.db.backend();
        let key = &facts.referral_id;
        let Some(choice) = &decision.chosen else {
            let escalation = EscalationRecord {
                escalation_id: format!("esc_{}", uuid::Uuid::now_v7().simple()),
                referral_id: facts.referral_id.clone(),
                reason: if attempt == 1 { EscalationReason::NoEligiblePartner } else { none_left },
                triage_tier: decision.triage_tier,
                site: facts.site,
                escalated_at: record.decided_at,
                deadline: record.deadline,
                decision_id: record.decision_id.clone(),
                practice: facts.practice,
            };
            store::insert_escalation(tx, &escalation).await?;
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
            wf_events::outbox::enqueue(tx, backend, &Envelope::new(SERVICE, key, key, &escalated)).await?;
            return Ok(Routed::Escalated { decision_id: record.decision_id, escalation_id: escalation.escalation_id });
        };
        let offer = OfferRecord {
            offer_id: format!("off_{}", uuid::Uuid::now_v7().simple()),
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
        };
        offer_store::insert_offer(tx, &offer).await?;
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
        wf_events::outbox::enqueue(tx, backend, &Envelope::new(SERVICE, key, key, &routed)).await?;
        wf_events::outbox::enqueue(tx, backend, &Envelope::new(SERVICE, key, key, &made)).await?;
        Ok(Routed::Offered { decision_id: record.decision_id, offer_id: offer.offer_id })
    }

    /// Re-routes the referral of a declined or expired offer to the next candidate.
    async fn reroute(
        &self,
        tx: &mut Tx,
        offer: &OfferRecord,
        reason: &str,
        none_left: EscalationReason,
    ) -> Result<Routed, DbError> {
        let latest = store::latest_decision_of(tx, &offer.referral_id).await?;
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
        if let Some(tier) = store::triaged_tier_of(tx, &offer.referral_id).await? {
            facts.triage_tier = tier;
        }
        facts.already_offered = offer_store::offered_services(tx, &offer.referral_id).await?;
        let attempt = latest.map_or(offer.attempt, |d| d.attempt) + 1;
        self.route(tx, &facts, attempt, reason, &offer.offer_id, none_left).await
    }

    /// Accepts an offer made to `partner_id`, taking one open place of the service.
    pub async fn accept(&self, offer_id: &str, partner_id: &str, by: &str) -> Result<OfferRecord, OfferError> {
        let now = self.clock.now();
        let at = wf_db::to_micros(now);
        let mut tx = self.db.begin().await?;
        let offer = self.answerable(&mut tx, offer_id, partner_id, at).await?;
        if !offer_store::take_slot(&mut tx, &offer.partner_service_id, at).await? {
            tx.rollback().await?;
            return Err(OfferError::NoCapacity);
        }
        if !offer_store::close_offer(&mut tx, offer_id, OfferStatus::Accepted, at, by, None).await? {
            tx.rollback().await?;
            return Err(OfferError::NotOpen("answered"));
        }
        let accepted = OfferAccepted {
            offer_id: offer.offer_id.clone(),
            referral_id: offer.referral_id.clone(),
            partner_id: offer.partner_id.clone(),
            partner_service_id: offer.partner_service_id.clone(),
            accepted_at: Some(timestamp(now)),
            accepted_by: by.to_owned(),
            triage_tier: offer.triage_tier as i32,
            site: offer.site as i32,
            practice: offer.practice,
            offered_at: Some(timestamp(wf_db::from_micros(offer.offered_at))),
        };
        let key = &offer.referral_id;
        wf_events::outbox::enqueue(&mut tx, self.db.backend(), &Envelope::new(SERVICE, key, key, &accepted)).await?;
        tx.commit().await?;
        self.relay.wake();
        tracing::info!(offer.id = %offer_id, referral.id = %offer.referral_id, partner.id = %partner_id, "offer accepted");
        offer_store::get_offer(&self.db, offer_id).await?.ok_or(OfferError::NotFound)
    }

    /// Declines an offer made to `partner_id` and re-routes the referral.
    pub async fn decline(
        &self,
        offer_id: &str,
        partner_id: &str,
        by: &str,
        reason: DeclineReason,
        detail: &str,
    ) -> Result<(OfferRecord, Routed), OfferError> {
        let now = self.clock.now();
        let at = wf_db::to_micros(now);
        let mut tx = self.db.begin().await?;
        let offer = self.answerable(&mut tx, offer_id, partner_id, at).await?;
        if !offer_store::close_offer(&mut tx, offer_id, OfferStatus::Declined, at, by, Some((reason, detail))).await? {
            tx.rollback().await?;
            return Err(OfferError::NotOpen("answered"));
        }
        let declined = OfferDeclined {
            offer_id: offer.offer_id.clone(),
            referral_id: offer.referral_id.clone(),
            partner_id: offer.partner_id.clone(),
            partner_service_id: offer.partner_service_id.clone(),
            reason: reason as i32,
            detail: detail.to_owned(),
            declined_at: Some(timestamp(now)),
            declined_by: by.to_owned(),
            practice: offer.practice,
        };
        let key = &offer.referral_id;
        wf_events::outbox::enqueue(&mut tx, self.db.backend(), &Envelope::new(SERVICE, key, key, &declined)).await?;
        let routed = self.reroute(&mut tx, &offer, REASON_OFFER_DECLINED, EscalationReason::AllDeclined).await?;
        tx.commit().await?;
        self.relay.wake();
        tracing::info!(offer.id = %offer_id, referral.id = %offer.referral_id, reason = %offer_store::decline_code(reason), "offer declined");
        Ok((offer_store::get_offer(&self.db, offer_id).await?.ok_or(OfferError::NotFound)?, routed))
    }

    /// The open, in-time offer `offer_id` made to `partner_id`.
    async fn answerable(
        &self,
        tx: &mut Tx,
        offer_id: &str,
        partner_id: &str,
        at: i64,
    ) -> Result<OfferRecord, OfferError> {
        let offer = offer_store::get_offer_tx(tx, offer_id).await?.filter(|o| o.partner_id == partner_id);
        let offer = offer.ok_or(OfferError::NotFound)?;
        if offer.status != OfferStatus::Pending {
            return Err(OfferError::NotOpen(offer_store::status_code(offer.status)));
        }
        if offer.deadline < at {
            return Err(OfferError::DeadlinePassed);
        }
        Ok(offer)
    }

    /// The referral's case closed: gives back the place each accepted offer took (once, never
    /// above the service's maximum) and withdraws an offer still open, so no partner takes a
    /// place for a closed case and the expiry worker does not re-route it. In the caller's
    /// transaction, with the inbox record of the event.
    pub async fn on_case_closed(&self, tx: &mut Tx, referral_id: &str) -> Result<CaseClosedEffect, DbError> {
        let at = wf_db::to_micros(self.clock.now());
        let returned = offer_store::return_places(tx, referral_id, at).await?;
        let mut withdrawn = Vec::new();
        for offer in offer_store::open_offers_of(tx, referral_id).await? {
            if !offer_store::close_offer(tx, &offer.offer_id, OfferStatus::Withdrawn, at, WITHDRAWN_BY, None).await? {
                continue;
            }
            let event = OfferWithdrawn {
                offer_id: offer.offer_id.clone(),
                referral_id: offer.referral_id.clone(),
                partner_id: offer.partner_id.clone(),
                partner_service_id: offer.partner_service_id.clone(),
                reason: WITHDRAWN_CASE_CLOSED.to_owned(),
                practice: offer.practice,
            };
            let key = &offer.referral_id;
            wf_events::outbox::enqueue(tx, self.db.backend(), &Envelope::new(SERVICE, key, key, &event)).await?;
            withdrawn.push(offer.offer_id);
        }
        Ok(CaseClosedEffect { returned, withdrawn })
    }

    /// The referral was (re-)triaged: records its tier for later re-routes, then for each open
    /// offer either withdraws it and re-routes (the new tier's hard rules, e.g. emergent 24/7,
    /// exclude its service) or moves its deadline to `offered_at` + the new tier's window when
    /// that is earlier; an open escalation likewise gets `escalated_at` + the new tier's window and
    /// the new tier when that is earlier. A deadline never moves later: a downgrade keeps it. In the
    /// caller's transaction, with the inbox record of the event.
    pub async fn on_referral_triaged(
        &self,
        tx: &mut Tx,
        referral_id: &str,
        tier: TriageTier,
        triaged_at: i64,
        source_event_id: &str,
    ) -> Result<TriageEffect, DbError> {
        if store::latest_decision_of(tx, referral_id).await?.is_none() {
            return Ok(TriageEffect::NotSeen);
        }
        let tier = domain::effective_tier(tier);
        if !store::record_triage(tx, referral_id, tier, triaged_at, source_event_id).await? {
            return Ok(TriageEffect::Stale);
        }
        let policy = self.policy.current();
        let directory = self.directory.current();
        let at = wf_db::to_micros(self.clock.now());
        let (mut shortened, mut withdrawn) = (Vec::new(), Vec::new());
        for offer in offer_store::open_offers_of(tx, referral_id).await? {
            // The policy's around-the-clock rule, when it covers the new tier; a service gone from
            // the directory cannot show that it answers around the clock.
            let excluded = match &policy.filters.emergent_24_7 {
                Some(tiers) if tiers.contains(&tier) => {
                    directory.service(&offer.partner_service_id).is_none_or(|service| {
                        domain::decide::emergent_24_7(service, tier, tiers).verdict == domain::Verdict::Fail
                    })
                }
                _ => false,
            };
            if excluded {
                if !offer_store::close_offer(tx, &offer.offer_id, OfferStatus::Withdrawn, at, WITHDRAWN_BY, None)
                    .await?
                {
                    continue;
                }
                let event = OfferWithdrawn {
                    offer_id: offer.offer_id.clone(),
                    referral_id: offer.referral_id.clone(),
                    partner_id: offer.partner_id.clone(),
                    partner_service_id: offer.partner_service_id.clone(),
                    reason: WITHDRAWN_TRIAGE_CHANGED.to_owned(),
                    practice: offer.practice,
                };
                let key = &offer.referral_id;
                wf_events::outbox::enqueue(tx, self.db.backend(), &Envelope::new(SERVICE, key, key, &event)).await?;
                let routed =
                    self.reroute(tx, &offer, REASON_REFERRAL_TRIAGED, EscalationReason::NoEligiblePartner).await?;
                withdrawn.push((offer.offer_id, routed));
                continue;
            }
            let window_end = wf_db::to_micros(wf_db::from_micros(offer.offered_at) + policy.response_window(tier));
            if window_end < offer.deadline && offer_store::shorten_deadline(tx, &offer.offer_id, window_end).await? {
                shortened.push((offer.offer_id, window_end));
            }
        }
        // The same rule for a referral waiting for a person: the new tier's window from when it was
        // escalated, when that ends sooner. A downgrade keeps deadline and tier.
        let mut escalations_raised = Vec::new();
        for escalation in store::open_escalations_of(tx, referral_id).await? {
            let record = &escalation.record;
            let window_end = wf_db::to_micros(wf_db::from_micros(record.escalated_at) + policy.response_window(tier));
            if window_end < record.deadline
                && store::raise_escalation(tx, &record.escalation_id, tier, window_end).await?
            {
                escalations_raised.push((record.escalation_id.clone(), window_end));
            }
        }
        Ok(TriageEffect::Applied { shortened, withdrawn, escalations_raised })
    }

    /// Expires open offers past their deadline and re-routes each referral; returns how
    /// many it expired. Each offer is handled in its own transaction.
    pub async fn expire_due(&self) -> Result<usize, DbError> {
        let mut expired = 0;
        loop {
            let now = self.clock.now();
            let at = wf_db::to_micros(now);
            let mut tx = self.db.begin().await?;
            let due = offer_store::due_offers(&mut tx, self.db.backend(), at, 1).await?;
            let Some(offer) = due.into_iter().next() else {
                tx.commit().await?;
                break;
            };
            if offer_store::close_offer(&mut tx, &offer.offer_id, OfferStatus::Expired, at, EXPIRED_BY, None).await? {
                let event = OfferExpired {
                    offer_id: offer.offer_id.clone(),
                    referral_id: offer.referral_id.clone(),
                    partner_id: offer.partner_id.clone(),
                    partner_service_id: offer.partner_service_id.clone(),
                    deadline: Some(timestamp(wf_db::from_micros(offer.deadline))),
                    practice: offer.practice,
                };
                let key = &offer.referral_id;
                wf_events::outbox::enqueue(&mut tx, self.db.backend(), &Envelope::new(SERVICE, key, key, &event))
                    .await?;
                self.reroute(&mut tx, &offer, REASON_OFFER_EXPIRED, EscalationReason::OfferExpired).await?;
                expired += 1;
                tracing::info!(offer.id = %offer.offer_id, referral.id = %offer.referral_id, "offer expired, referral re-routed");
            }
            tx.commit().await?;
            self.relay.wake();
            if expired as i64 >= EXPIRY_BATCH {
                break;
            }
        }
        Ok(expired)
    }
}
