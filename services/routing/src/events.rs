//! Routing's event handler: `referral.received` → decision. The inbox record, the
//! decision (and escalation, when nobody is eligible) and the outbound event are
//! written in one transaction, so a redelivery has no second effect.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use wf_db::{Db, DbError, Tx};
use wf_events::{Envelope, EventHandler, HandleError, RelayHandle};
use wf_proto::events::v1::{ReferralEscalated, ReferralReceived, ReferralRouted};
use wf_proto::routing::v1::{DecisionOutcome, EscalationReason};
use wf_types::DecisionId;

use crate::domain::{self, Decision, Directory, ReferralFacts};
use crate::store::{self, DecisionRecord, EscalationRecord};

/// The consumer (inbox) and producer name of this service.
pub const SERVICE: &str = "routing";
/// Trigger code of a first decision.
pub const REASON_REFERRAL_RECEIVED: &str = "referral_received";
const FIRST_ATTEMPT: i32 = 1;

/// Handles the events bound to routing's queue.
pub struct RoutingEventHandler {
    db: Db,
    directory: Arc<Directory>,
    relay: RelayHandle,
}

impl RoutingEventHandler {
    /// `relay` is woken after each commit that wrote an outbox row.
    pub fn new(db: Db, directory: Arc<Directory>, relay: RelayHandle) -> Self {
        Self { db, directory, relay }
    }

    async fn on_referral_received(&self, envelope: &Envelope) -> Result<(), HandleError> {
        let event: ReferralReceived = envelope.payload_as().map_err(|err| HandleError::Permanent(err.to_string()))?;
        let facts = ReferralFacts::from_event(&event).map_err(|err| HandleError::Permanent(err.to_string()))?;
        let mut tx = self.db.begin().await?;
        if !wf_events::inbox::record(&mut tx, SERVICE, envelope).await? {
            tx.commit().await?;
            tracing::debug!(event.id = %envelope.event_id, referral.id = %facts.referral_id, "duplicate delivery skipped");
            return Ok(());
        }
        if store::decision_exists(&mut tx, &facts.referral_id, FIRST_ATTEMPT).await? {
            tx.commit().await?;
            tracing::info!(event.id = %envelope.event_id, referral.id = %facts.referral_id, "referral already routed, event skipped");
            return Ok(());
        }
        let now = Utc::now();
        let decision = domain::decide(&self.directory, &facts, now);
        match self.store_and_announce(&mut tx, envelope, &facts, &decision, now).await {
            Ok(()) => {}
            // A concurrent delivery of another event for this referral won: retry, then skip.
            Err(DbError::UniqueViolation { constraint }) => {
                return Err(HandleError::Transient(format!("concurrent decision ({constraint})")));
            }
            Err(err) => return Err(err.into()),
        }
        tx.commit().await?;
        self.relay.wake();
        Ok(())
    }

    async fn store_and_announce(
        &self,
        tx: &mut Tx,
        envelope: &Envelope,
        facts: &ReferralFacts,
        decision: &Decision,
        now: DateTime<Utc>,
    ) -> Result<(), DbError> {
        let decision_id = DecisionId::generate();
        let record = DecisionRecord {
            decision_id: decision_id.to_string(),
            referral_id: facts.referral_id.clone(),
            attempt: FIRST_ATTEMPT,
            policy_version: decision.policy_version.to_owned(),
            decided_at: wf_db::to_micros(now),
            triage_tier: decision.triage_tier,
            site: facts.site,
            outcome: if decision.chosen.is_some() { DecisionOutcome::Offered } else { DecisionOutcome::NoMatch },
            partner_id: decision.chosen.as_ref().map(|c| c.partner_id.to_string()),
            partner_service_id: decision.chosen.as_ref().map(|c| c.partner_service_id.clone()),
            deadline: wf_db::to_micros(decision.deadline),
            reason: REASON_REFERRAL_RECEIVED.to_owned(),
            explanation: decision.chosen.as_ref().map_or_else(
                || format!("no eligible partner among {} services", decision.candidates.len()),
                |c| c.explanation.clone(),
            ),
            candidates: decision.candidates.clone(),
            practice: facts.practice,
            source_event_id: envelope.event_id.to_string(),
        };
        store::insert_decision(tx, &record).await?;
        let outbound = match &decision.chosen {
            Some(choice) => {
                let routed = ReferralRouted {
                    referral_id: facts.referral_id.clone(),
                    decision_id: record.decision_id.clone(),
                    partner_id: choice.partner_id.to_string(),
                    partner_service_id: choice.partner_service_id.clone(),
                    triage_tier: decision.triage_tier as i32,
                    site: facts.site as i32,
                    policy_version: record.policy_version.clone(),
                    deadline: Some(timestamp(decision.deadline)),
                    practice: facts.practice,
                    reason: REASON_REFERRAL_RECEIVED.to_owned(),
                    attempt: FIRST_ATTEMPT,
                };
                tracing::info!(
                    referral.id = %facts.referral_id,
                    decision.id = %record.decision_id,
                    partner.id = %choice.partner_id,
                    partner_service.id = %choice.partner_service_id,
                    tier = domain::tier_code(decision.triage_tier),
                    practice = facts.practice,
                    "referral routed"
                );
                Envelope::new(SERVICE, &facts.referral_id, &facts.referral_id, &routed)
            }
            None => {
                let escalation = EscalationRecord {
                    escalation_id: format!("esc_{}", uuid::Uuid::now_v7().simple()),
                    referral_id: facts.referral_id.clone(),
                    reason: EscalationReason::NoEligiblePartner,
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
                    reason: EscalationReason::NoEligiblePartner as i32,
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
                    tier = domain::tier_code(decision.triage_tier),
                    candidates = decision.candidates.len(),
                    "no eligible partner, referral escalated"
                );
                Envelope::new(SERVICE, &facts.referral_id, &facts.referral_id, &escalated)
            }
        };
        wf_events::outbox::enqueue(tx, self.db.backend(), &outbound).await
    }
}

#[async_trait::async_trait]
impl EventHandler for RoutingEventHandler {
    async fn handle(&self, envelope: Envelope) -> Result<(), HandleError> {
        match envelope.event_type.as_str() {
            "referral.received" => self.on_referral_received(&envelope).await,
            // Offer events are bound to this queue for the offer lifecycle of a later step;
            // until then they carry nothing routing acts on.
            other => {
                tracing::debug!(event.id = %envelope.event_id, event.r#type = other, "event not handled by routing yet");
                Ok(())
            }
        }
    }
}

pub use wf_proto::time::timestamp;
