//! `referral.received` (the referral's coded facts) and `referral.routed` (its case).

use wf_events::{Envelope, HandleError};
use wf_proto::common::v1::{Site as ProtoSite, TriageTier};
use wf_proto::events::v1 as pb;
use wf_types::{ReferralId, YouthId};

use super::{CaseEvents, RoutedOutcome, id, payload};
use crate::app::referrals::{self, Routed};
use crate::domain::{self, Site};
use crate::store::continuity::ReferralFacts;

impl CaseEvents {
    /// Stores the coded facts of a received referral (once, whatever is redelivered).
    pub async fn on_referral_received(&self, envelope: &Envelope) -> Result<(), HandleError> {
        const EVENT: &str = "referral.received";
        let received: pb::ReferralReceived = payload(envelope)?;
        let referral_id: ReferralId = id(EVENT, "referral_id", &received.referral_id)?;
        let youth_id: YouthId = id(EVENT, "youth_id", &received.youth_id)?;
        let site = site(EVENT, received.site)?;
        let language = received.preferred_language.to_ascii_lowercase();
        let language_ok = language.is_empty()
            || ((2..=3).contains(&language.len()) && language.bytes().all(|b| b.is_ascii_lowercase()));
        let tier = TriageTier::try_from(received.triage_tier).unwrap_or(TriageTier::Unspecified);
        // A code or nothing: an unreadable approach only loses the default of Case.engagement_approach.
        let approach = received.engagement_approach.as_str();
        let engagement_approach = if domain::services::is_code(approach) { approach.to_owned() } else { String::new() };
        let facts = ReferralFacts {
            referral_id: referral_id.to_string(),
            youth_id: youth_id.to_string(),
            site,
            // An unreadable language code only loses a preference, never the referral.
            language: if language_ok { language } else { String::new() },
            triage_tier: domain::triage_tier_code(tier).to_owned(),
            practice: received.practice,
            received_at: received
                .received_at
                .as_ref()
                .and_then(wf_proto::time::datetime)
                .map_or_else(|| self.app.now(), |at| at.timestamp_micros()),
            engagement_approach,
        };
        Ok(referrals::record_facts(&self.app, envelope, &facts).await?)
    }

    /// Opens and assigns the case of a routed referral.
    pub async fn on_referral_routed(&self, envelope: &Envelope) -> Result<RoutedOutcome, HandleError> {
        const EVENT: &str = "referral.routed";
        let routed: pb::ReferralRouted = payload(envelope)?;
        let referral_id: ReferralId = id(EVENT, "referral_id", &routed.referral_id)?;
        let site = site(EVENT, routed.site)?;
        let routed = Routed {
            referral_id,
            site,
            triage_tier: TriageTier::try_from(routed.triage_tier).unwrap_or(TriageTier::Unspecified),
            practice: routed.practice,
            attempt: routed.attempt,
        };
        referrals::open_for_routed(&self.app, envelope, routed).await
    }
}

/// A referral without a site is not tied to one pilot site: it is handled as countywide.
fn site(event: &str, value: i32) -> Result<Site, HandleError> {
    match ProtoSite::try_from(value) {
        Ok(site) => Ok(Site::from_proto(site).unwrap_or(Site::Countywide)),
        Err(_) => Err(HandleError::Permanent(format!("{event} site {value} is not known"))),
    }
}
