//! Routing's event handler: `referral.received` → decision and the referral's time limit;
//! `referral.triaged` → the new tier for later re-routes and the time limit, an earlier deadline
//! or a re-route of the open offer, an earlier deadline for an open escalation;
//! `contact_attempt.recorded` that reached the youth → its first contact; `referral.closed` → its
//! closure (both for the time limit, `app::time_limits`; the closure also withdraws the open offer
//! and keeps the referral from being offered or escalated again, `app::route`); `case.closed` → the
//! place the accepted offer took is given back. The inbox record, the effect (decision, escalation, returned place,
//! recorded instant) and the outbound events are written in one transaction, so a redelivery has
//! no second effect.

use wf_events::{Envelope, EventHandler, EventPayload, HandleError};
use wf_proto::common::v1::{ContactOutcome, TriageTier};
use wf_proto::events::v1::{CaseClosed, ContactAttemptRecorded, ReferralClosed, ReferralReceived, ReferralTriaged};
use wf_proto::routing::v1::EscalationReason;
use wf_types::ReferralId;

use wf_db::DbError;

use crate::SERVICE;
use crate::app::offers::CaseClosedEffect;
use crate::app::route::{REASON_REFERRAL_RECEIVED, Router};
use crate::app::triage::TriageEffect;
use crate::domain::ReferralFacts;
use crate::store::decisions;

const FIRST_ATTEMPT: i32 = 1;

/// Handles the events bound to routing's queue.
pub struct RoutingEventHandler {
    router: Router,
}

impl RoutingEventHandler {
    pub fn new(router: Router) -> Self {
        Self { router }
    }

    async fn on_referral_received(&self, envelope: &Envelope) -> Result<(), HandleError> {
        let event: ReferralReceived = envelope.payload_as().map_err(|err| HandleError::Permanent(err.to_string()))?;
        let facts = ReferralFacts::from_event(&event).map_err(|err| HandleError::Permanent(err.to_string()))?;
        let mut tx = self.router.db().begin().await?;
        if !wf_events::inbox::record(&mut tx, SERVICE, envelope).await? {
            tx.commit().await?;
            tracing::debug!(event.id = %envelope.event_id, referral.id = %facts.referral_id, "duplicate delivery skipped");
            return Ok(());
        }
        if decisions::decision_exists(&mut tx, &facts.referral_id, FIRST_ATTEMPT).await? {
            tx.commit().await?;
            tracing::debug!(event.id = %envelope.event_id, referral.id = %facts.referral_id, "referral already routed, event skipped");
            return Ok(());
        }
        let source = envelope.event_id.to_string();
        let routed = self
            .router
            .route(
                &mut tx,
                &facts,
                FIRST_ATTEMPT,
                REASON_REFERRAL_RECEIVED,
                &source,
                EscalationReason::NoEligiblePartner,
            )
            .await;
        match routed {
            Ok(_) => {}
            // A concurrent delivery of another event for this referral won: retry, then skip.
            Err(DbError::UniqueViolation { constraint }) => {
                return Err(HandleError::Transient(format!("concurrent decision ({constraint})")));
            }
            Err(err) => return Err(err.into()),
        }
        // Events without `received_at` count from when they occurred.
        let received_at = event.received_at.as_ref().and_then(wf_proto::time::datetime).unwrap_or(envelope.occurred_at);
        self.router.start_time_limit(&mut tx, &facts, received_at).await?;
        tx.commit().await?;
        self.router.wake_relay();
        Ok(())
    }

    /// A triage before routing has seen the referral is retried until `referral.received` has
    /// been routed; a triage older than one already applied changes nothing.
    async fn on_referral_triaged(&self, envelope: &Envelope) -> Result<(), HandleError> {
        let event: ReferralTriaged = envelope.payload_as().map_err(|err| HandleError::Permanent(err.to_string()))?;
        event.referral_id.parse::<ReferralId>().map_err(|err| {
            HandleError::Permanent(format!("referral.triaged referral_id {:?} is invalid: {err}", event.referral_id))
        })?;
        let tier = event.triage_tier();
        if tier == TriageTier::Unspecified {
            return Err(HandleError::Permanent(format!(
                "referral.triaged triage_tier {} is not emergent, urgent or routine",
                event.triage_tier
            )));
        }
        // Events without `triaged_at` are ordered by when they occurred.
        let triaged_at = event.triaged_at.as_ref().and_then(wf_proto::time::datetime).unwrap_or(envelope.occurred_at);
        let mut tx = self.router.db().begin().await?;
        if !wf_events::inbox::record(&mut tx, SERVICE, envelope).await? {
            tx.commit().await?;
            tracing::debug!(event.id = %envelope.event_id, referral.id = %event.referral_id, "duplicate delivery skipped");
            return Ok(());
        }
        let source = envelope.event_id.to_string();
        let effect = self
            .router
            .on_referral_triaged(&mut tx, &event.referral_id, tier, wf_db::to_micros(triaged_at), &source)
            .await;
        let effect = match effect {
            Ok(effect) => effect,
            Err(DbError::UniqueViolation { constraint }) => {
                return Err(HandleError::Transient(format!("concurrent decision ({constraint})")));
            }
            Err(err) => return Err(err.into()),
        };
        let tier_code = crate::domain::tier_code(tier);
        match effect {
            TriageEffect::Closed => {
                tx.commit().await?;
                tracing::debug!(event.id = %envelope.event_id, referral.id = %event.referral_id, "referral closed, triage not applied");
            }
            TriageEffect::NotSeen => {
                // Dropping the transaction forgets the inbox record, so the retry is handled.
                tx.rollback().await?;
                return Err(HandleError::Transient(format!(
                    "referral {} has not been routed yet; retrying referral.triaged",
                    event.referral_id
                )));
            }
            TriageEffect::Stale => {
                tx.commit().await?;
                tracing::debug!(event.id = %envelope.event_id, referral.id = %event.referral_id, tier = tier_code, "older triage than the one applied, event skipped");
            }
            TriageEffect::Applied { shortened, withdrawn, escalations_raised } => {
                tx.commit().await?;
                if !withdrawn.is_empty() {
                    self.router.wake_relay();
                }
                for (offer_id, deadline) in &shortened {
                    tracing::info!(referral.id = %event.referral_id, offer.id = %offer_id, tier = tier_code, deadline = %wf_db::from_micros(*deadline), "referral re-triaged, offer deadline moved earlier");
                }
                for (offer_id, _) in &withdrawn {
                    tracing::info!(referral.id = %event.referral_id, offer.id = %offer_id, tier = tier_code, "referral re-triaged, offer withdrawn and referral re-routed");
                }
                for (escalation_id, deadline) in &escalations_raised {
                    tracing::info!(referral.id = %event.referral_id, escalation.id = %escalation_id, tier = tier_code, deadline = %wf_db::from_micros(*deadline), "referral re-triaged, escalation deadline moved earlier");
                }
                if shortened.is_empty() && withdrawn.is_empty() && escalations_raised.is_empty() {
                    tracing::info!(referral.id = %event.referral_id, tier = tier_code, "referral re-triaged, open offer unchanged");
                }
            }
        }
        Ok(())
    }

    /// Only an attempt that reached the youth is a contact (`app::time_limits`); others are
    /// acknowledged without effect.
    async fn on_contact_attempt_recorded(&self, envelope: &Envelope) -> Result<(), HandleError> {
        let event: ContactAttemptRecorded =
            envelope.payload_as().map_err(|err| HandleError::Permanent(err.to_string()))?;
        event.referral_id.parse::<ReferralId>().map_err(|err| {
            HandleError::Permanent(format!(
                "contact_attempt.recorded referral_id {:?} is invalid: {err}",
                event.referral_id
            ))
        })?;
        if event.outcome() != ContactOutcome::Reached {
            tracing::debug!(event.id = %envelope.event_id, referral.id = %event.referral_id, "contact attempt did not reach the youth");
            return Ok(());
        }
        let attempted_at =
            event.attempted_at.as_ref().and_then(wf_proto::time::datetime).unwrap_or(envelope.occurred_at);
        let mut tx = self.router.db().begin().await?;
        if !wf_events::inbox::record(&mut tx, SERVICE, envelope).await? {
            tx.commit().await?;
            tracing::debug!(event.id = %envelope.event_id, referral.id = %event.referral_id, "duplicate delivery skipped");
            return Ok(());
        }
        self.router.on_contact_reached(&mut tx, &event.referral_id, wf_db::to_micros(attempted_at)).await?;
        tx.commit().await?;
        tracing::debug!(referral.id = %event.referral_id, case.id = %event.case_id, attempted_at = %attempted_at, "contact with the youth recorded");
        Ok(())
    }

    async fn on_referral_closed(&self, envelope: &Envelope) -> Result<(), HandleError> {
        let event: ReferralClosed = envelope.payload_as().map_err(|err| HandleError::Permanent(err.to_string()))?;
        event.referral_id.parse::<ReferralId>().map_err(|err| {
            HandleError::Permanent(format!("referral.closed referral_id {:?} is invalid: {err}", event.referral_id))
        })?;
        let closed_at = event.closed_at.as_ref().and_then(wf_proto::time::datetime).unwrap_or(envelope.occurred_at);
        let mut tx = self.router.db().begin().await?;
        if !wf_events::inbox::record(&mut tx, SERVICE, envelope).await? {
            tx.commit().await?;
            tracing::debug!(event.id = %envelope.event_id, referral.id = %event.referral_id, "duplicate delivery skipped");
            return Ok(());
        }
        let withdrawn =
            self.router.on_referral_closed(&mut tx, &event.referral_id, wf_db::to_micros(closed_at)).await?;
        tx.commit().await?;
        // Withdrawals and resolved escalations have events to relay.
        self.router.wake_relay();
        for offer_id in &withdrawn {
            tracing::info!(referral.id = %event.referral_id, offer.id = %offer_id, "referral closed, open offer withdrawn");
        }
        tracing::debug!(referral.id = %event.referral_id, closed_at = %closed_at, "referral closed");
        Ok(())
    }

    /// Reopening a case takes no place again: only a new accepted offer (after a re-route) does.
    async fn on_case_closed(&self, envelope: &Envelope) -> Result<(), HandleError> {
        let event: CaseClosed = envelope.payload_as().map_err(|err| HandleError::Permanent(err.to_string()))?;
        // The referral that opened the case, then the returning youth's referrals linked to it.
        let referrals: Vec<&str> = std::iter::once(&event.referral_id)
            .chain(&event.linked_referral_ids)
            .map(|id| {
                id.parse::<ReferralId>()
                    .map(|_| id.as_str())
                    .map_err(|err| HandleError::Permanent(format!("case.closed referral id {id:?} is invalid: {err}")))
            })
            .collect::<Result<_, _>>()?;
        let mut tx = self.router.db().begin().await?;
        if !wf_events::inbox::record(&mut tx, SERVICE, envelope).await? {
            tx.commit().await?;
            tracing::debug!(event.id = %envelope.event_id, referral.id = %event.referral_id, "duplicate delivery skipped");
            return Ok(());
        }
        let mut effect = CaseClosedEffect::default();
        for referral_id in referrals {
            let one = self.router.on_case_closed(&mut tx, referral_id).await?;
            effect.returned.extend(one.returned);
            effect.withdrawn.extend(one.withdrawn);
        }
        tx.commit().await?;
        if !effect.withdrawn.is_empty() {
            self.router.wake_relay();
        }
        for place in &effect.returned {
            if place.added {
                tracing::info!(
                    case.id = %event.case_id,
                    referral.id = %event.referral_id,
                    offer.id = %place.offer_id,
                    partner_service.id = %place.partner_service_id,
                    "case closed, place returned"
                );
            } else {
                tracing::warn!(
                    case.id = %event.case_id,
                    referral.id = %event.referral_id,
                    offer.id = %place.offer_id,
                    partner_service.id = %place.partner_service_id,
                    "case closed, service already at its maximum capacity: no place added"
                );
            }
        }
        for offer_id in &effect.withdrawn {
            tracing::info!(case.id = %event.case_id, referral.id = %event.referral_id, offer.id = %offer_id, "case closed, open offer withdrawn");
        }
        if effect.returned.is_empty() && effect.withdrawn.is_empty() {
            tracing::debug!(case.id = %event.case_id, referral.id = %event.referral_id, "case closed, no place held");
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl EventHandler for RoutingEventHandler {
    async fn handle(&self, envelope: Envelope) -> Result<(), HandleError> {
        match envelope.event_type.as_str() {
            ReferralReceived::TYPE => self.on_referral_received(&envelope).await,
            ReferralTriaged::TYPE => self.on_referral_triaged(&envelope).await,
            CaseClosed::TYPE => self.on_case_closed(&envelope).await,
            ContactAttemptRecorded::TYPE => self.on_contact_attempt_recorded(&envelope).await,
            ReferralClosed::TYPE => self.on_referral_closed(&envelope).await,
            // Routing's own offer events come back on its queue; they are already acted on.
            other => {
                tracing::debug!(event.id = %envelope.event_id, event.r#type = other, "event not handled by routing");
                Ok(())
            }
        }
    }
}
