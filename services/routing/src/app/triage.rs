//! A referral re-triaged: its new tier is kept for later re-routes, its time limit becomes the
//! new tier's (`app::time_limits`), and each open offer or escalation is held to the new tier's
//! rules and response window.

use wf_db::{DbError, Tx};
use wf_proto::common::v1::TriageTier;

use super::route::{REASON_REFERRAL_TRIAGED, Routed, Router, WITHDRAWN_BY, WITHDRAWN_TRIAGE_CHANGED};
use crate::domain;
use crate::store::{decisions, escalations, offers, triage};
use wf_proto::routing::v1::EscalationReason;

/// What routing did when a referral's triage tier changed.
#[derive(Debug, Clone, PartialEq)]
pub enum TriageEffect {
    /// Staff closed the referral: nothing changed, and the event is not retried.
    Closed,
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

impl Router {
    /// The referral was (re-)triaged: records its tier for later re-routes and puts the referral
    /// under the new tier's time limit (counted from receipt, as intake shows it, so a downgrade
    /// gives it the later limit), then for each open offer either withdraws it and re-routes (the
    /// new tier's hard rules, e.g. emergent 24/7, exclude its service) or moves its deadline to
    /// `offered_at` + the new tier's window when that is earlier; an open escalation likewise gets
    /// `escalated_at` + the new tier's window and the new tier when that is earlier. An offer's or
    /// escalation's deadline never moves later: a downgrade keeps it. A referral staff closed is
    /// left as it is (its offers were withdrawn, and it is not re-routed). In the caller's
    /// transaction, with the inbox record of the event.
    pub async fn on_referral_triaged(
        &self,
        tx: &mut Tx,
        referral_id: &str,
        tier: TriageTier,
        triaged_at: i64,
        source_event_id: &str,
    ) -> Result<TriageEffect, DbError> {
        // Before any offer is touched, as every writer of the referral's offers does.
        if self.lock_referral(tx, referral_id).await?.is_some() {
            return Ok(TriageEffect::Closed);
        }
        if decisions::latest_decision_of(tx, referral_id).await?.is_none() {
            return Ok(TriageEffect::NotSeen);
        }
        let tier = domain::effective_tier(tier);
        if !triage::record_triage(tx, referral_id, tier, triaged_at, source_event_id).await? {
            return Ok(TriageEffect::Stale);
        }
        self.retier_time_limit(tx, referral_id, tier).await?;
        let policy = self.policy.current();
        let directory = self.directory.current();
        let at = wf_db::to_micros(self.clock.now());
        let (mut shortened, mut withdrawn) = (Vec::new(), Vec::new());
        for offer in offers::open_offers_of(tx, referral_id).await? {
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
                if !self.withdraw(tx, &offer, WITHDRAWN_TRIAGE_CHANGED, at, WITHDRAWN_BY).await? {
                    continue;
                }
                let routed =
                    self.reroute(tx, &offer, REASON_REFERRAL_TRIAGED, EscalationReason::NoEligiblePartner).await?;
                withdrawn.push((offer.offer_id, routed));
                continue;
            }
            let window_end = wf_db::to_micros(wf_db::from_micros(offer.offered_at) + policy.response_window(tier));
            if window_end < offer.deadline && offers::shorten_deadline(tx, &offer.offer_id, window_end).await? {
                shortened.push((offer.offer_id, window_end));
            }
        }
        // The same rule for a referral waiting for a person: the new tier's window from when it was
        // escalated, when that ends sooner. A downgrade keeps deadline and tier.
        let mut escalations_raised = Vec::new();
        for escalation in escalations::open_escalations_of(tx, referral_id).await? {
            let record = &escalation.record;
            let window_end = wf_db::to_micros(wf_db::from_micros(record.escalated_at) + policy.response_window(tier));
            if window_end < record.deadline
                && escalations::raise_escalation(tx, &record.escalation_id, tier, window_end).await?
            {
                escalations_raised.push((record.escalation_id.clone(), window_end));
            }
        }
        Ok(TriageEffect::Applied { shortened, withdrawn, escalations_raised })
    }
}
