//! Domain and stored records → their wire messages.

use wf_proto::routing::v1 as pb;

use crate::domain::{self, Verdict};
use crate::events::timestamp;
use crate::store::DecisionRecord;

pub fn organization(org: &domain::Organization) -> pb::Organization {
    pb::Organization {
        organization_id: org.id.to_string(),
        name: org.name.clone(),
        description: org.description.clone(),
        website: org.website.clone(),
        email: org.email.clone(),
        phones: Vec::new(),
        victim_service_provider: org.victim_service_provider,
        in_network: org.in_network,
        sites: org.sites().into_iter().map(|site| site as i32).collect(),
        active: org.active,
        hsds_id: String::new(),
        updated_at: None,
    }
}

pub fn partner_service(service: &domain::PartnerService) -> pb::PartnerService {
    pb::PartnerService {
        partner_service_id: service.id.clone(),
        organization_id: service.organization_id.to_string(),
        name: service.name.clone(),
        description: service.description.clone(),
        status: service.status as i32,
        service_types: service.service_types.clone(),
        minimum_age: service.minimum_age as i32,
        maximum_age: service.maximum_age as i32,
        eligibility_description: service.eligibility_description.clone(),
        service_areas: service
            .service_areas
            .iter()
            .map(|area| pb::ServiceArea {
                name: area.name.clone(),
                extent_geojson: String::new(),
                site: area.site as i32,
                postal_codes: area.postal_codes.clone(),
            })
            .collect(),
        languages: service.languages.clone(),
        capacity: service
            .capacity
            .iter()
            .map(|c| pb::Capacity {
                unit: c.unit.clone(),
                available: c.available as i32,
                maximum: c.maximum as i32,
                updated: None,
            })
            .collect(),
        accepted_tiers: Vec::new(),
        available_24_7: service.available_24_7,
        engagement_approaches: Vec::new(),
        locations: Vec::new(),
        serves_minors: service.serves_minors,
        offer_response_hours: 0,
        email: String::new(),
        phones: Vec::new(),
        hsds_id: String::new(),
        updated_at: None,
    }
}

fn verdict(verdict: Verdict) -> pb::Verdict {
    match verdict {
        Verdict::Pass => pb::Verdict::Pass,
        Verdict::Fail => pb::Verdict::Fail,
        Verdict::Scored => pb::Verdict::Scored,
        Verdict::NotApplicable => pb::Verdict::NotApplicable,
    }
}

pub fn decision(record: &DecisionRecord) -> pb::RoutingDecision {
    pb::RoutingDecision {
        decision_id: record.decision_id.clone(),
        referral_id: record.referral_id.clone(),
        policy_version: record.policy_version.clone(),
        decided_at: Some(timestamp(wf_db::from_micros(record.decided_at))),
        triage_tier: record.triage_tier as i32,
        site: record.site as i32,
        candidates: record
            .candidates
            .iter()
            .map(|c| pb::Candidate {
                partner_id: c.partner_id.clone(),
                partner_service_id: c.partner_service_id.clone(),
                rank: c.rank as i32,
                score: c.score,
                eligible: c.eligible,
                verdicts: c
                    .verdicts
                    .iter()
                    .map(|v| pb::RuleVerdict {
                        rule_id: v.rule_id.to_string(),
                        verdict: verdict(v.verdict) as i32,
                        score: v.score,
                        detail: v.detail.to_string(),
                    })
                    .collect(),
            })
            .collect(),
        outcome: record.outcome as i32,
        partner_id: record.partner_id.clone().unwrap_or_default(),
        partner_service_id: record.partner_service_id.clone().unwrap_or_default(),
        // Offers arrive with the offer lifecycle; until then no offer id exists.
        offer_id: String::new(),
        attempt: record.attempt,
        reason: record.reason.clone(),
        practice: record.practice,
    }
}
