//! Routing's pure logic: the partner directory, the decision policy and the referral time
//! limits, over plain data, without I/O.

pub mod decide;
pub mod directory;
pub mod hsds;
pub mod policy;
pub mod simulate;
pub mod time_limits;

pub use decide::{
    Candidate, Choice, DEMO_POLICY, Decision, Detail, ReferralFacts, RuleVerdict, Verdict, decide, decide_with,
    effective_tier, response_window,
};
pub use directory::{Directory, DirectoryError, DirectoryIssue, Organization, PartnerService};
pub use policy::{DEMO_POLICY_DOCUMENT, Policy, PolicyError, PolicyIssue};

use wf_proto::common::v1::{Site, TriageTier};
use wf_proto::events::v1::ReferralReceived;
use wf_types::ReferralId;

/// Lower snake_case code of a site, as stored and shown in verdicts.
pub fn site_code(site: Site) -> &'static str {
    match site {
        Site::Unspecified => "unspecified",
        Site::SouthLosAngeles => "south_los_angeles",
        Site::SanFernandoValley => "san_fernando_valley",
        Site::Countywide => "countywide",
    }
}

pub fn site_from_code(code: &str) -> Option<Site> {
    match code {
        "unspecified" => Some(Site::Unspecified),
        other => directory::site_from_code(other),
    }
}

/// Lower snake_case code of a triage tier.
pub fn tier_code(tier: TriageTier) -> &'static str {
    match tier {
        TriageTier::Unspecified => "unspecified",
        TriageTier::Emergent => "emergent",
        TriageTier::Urgent => "urgent",
        TriageTier::Routine => "routine",
    }
}

pub fn tier_from_code(code: &str) -> Option<TriageTier> {
    match code {
        "unspecified" => Some(TriageTier::Unspecified),
        "emergent" => Some(TriageTier::Emergent),
        "urgent" => Some(TriageTier::Urgent),
        "routine" => Some(TriageTier::Routine),
        _ => None,
    }
}

/// Why a `referral.received` payload cannot be routed (the event is dead-lettered).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FactsError {
    #[error("referral_id {value:?} is invalid: {reason}")]
    ReferralId { value: String, reason: String },
    #[error("age_years {0} is negative")]
    NegativeAge(i32),
}

/// The coded facts an offer carries so the partner can decide without personal data (copied
/// from the facts of the decision that made it).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OfferFacts {
    /// Service type codes needed.
    pub needs: Vec<String>,
    /// ISO 639 code; empty = no preference.
    pub preferred_language: String,
    pub is_minor: bool,
    /// Whole years; `None` = unknown.
    pub age_years: Option<u32>,
}

impl ReferralFacts {
    /// What an offer made on these facts shows the partner.
    pub fn offer_facts(&self) -> OfferFacts {
        OfferFacts {
            needs: self.needs.clone(),
            preferred_language: self.preferred_language.clone(),
            is_minor: self.is_minor,
            age_years: self.age_years,
        }
    }

    /// The coded facts of a `referral.received` event. Unknown enum values read as unspecified,
    /// so a newer producer cannot stall routing.
    pub fn from_event(event: &ReferralReceived) -> Result<Self, FactsError> {
        event
            .referral_id
            .parse::<ReferralId>()
            .map_err(|err| FactsError::ReferralId { value: event.referral_id.clone(), reason: err.to_string() })?;
        let age_years = match event.age_years {
            0 => None,
            age if age < 0 => return Err(FactsError::NegativeAge(age)),
            age => Some(age as u32),
        };
        let mut needs: Vec<String> = Vec::new();
        for need in &event.needs {
            let need = need.trim().to_lowercase();
            if !need.is_empty() && !needs.contains(&need) {
                needs.push(need);
            }
        }
        Ok(Self {
            referral_id: event.referral_id.clone(),
            site: event.site(),
            triage_tier: event.triage_tier(),
            needs,
            preferred_language: event.preferred_language.trim().to_lowercase(),
            is_minor: event.is_minor,
            age_years,
            outside_youth_program: event.outside_youth_program,
            practice: event.practice,
            already_offered: Vec::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facts_normalise_needs_and_language_and_unknown_age() {
        let event = ReferralReceived {
            referral_id: "ref_0192f1c4d5e67a8b9c0d1e2f3a4b5c6d".into(),
            needs: vec!["mental_health".into(), " Mental_Health".into(), String::new(), "education".into()],
            preferred_language: " ES".into(),
            age_years: 0,
            ..Default::default()
        };
        let facts = ReferralFacts::from_event(&event).unwrap();
        assert_eq!(facts.needs, vec!["mental_health", "education"]);
        assert_eq!(facts.preferred_language, "es");
        assert_eq!(facts.age_years, None);
        assert_eq!(facts.site, Site::Unspecified);
    }

    #[test]
    fn facts_refuse_a_bad_referral_id_and_a_negative_age() {
        let bad_id = ReferralReceived { referral_id: "case_1".into(), ..Default::default() };
        assert!(matches!(ReferralFacts::from_event(&bad_id), Err(FactsError::ReferralId { .. })));
        let negative = ReferralReceived {
            referral_id: "ref_0192f1c4d5e67a8b9c0d1e2f3a4b5c6d".into(),
            age_years: -3,
            ..Default::default()
        };
        assert_eq!(ReferralFacts::from_event(&negative), Err(FactsError::NegativeAge(-3)));
    }

    #[test]
    fn codes_round_trip() {
        for site in [Site::Unspecified, Site::SouthLosAngeles, Site::SanFernandoValley, Site::Countywide] {
            assert_eq!(site_from_code(site_code(site)), Some(site));
        }
        for tier in [TriageTier::Unspecified, TriageTier::Emergent, TriageTier::Urgent, TriageTier::Routine] {
            assert_eq!(tier_from_code(tier_code(tier)), Some(tier));
        }
    }
}
