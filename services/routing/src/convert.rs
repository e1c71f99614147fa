//! Domain and stored records → their wire messages.

use wf_proto::routing::v1 as pb;

use crate::domain::Verdict;
use crate::domain::directory_entry::{OrganizationEntry, with_open_places};
use crate::events::timestamp;
use crate::store::DecisionRecord;

/// An organization as the API shows it: with the sites its services cover.
pub fn organization(entry: &OrganizationEntry) -> pb::Organization {
    entry.with_sites()
}

/// A service as the API shows it: its capacity adjusted to the open places the database
/// holds now (`open`, when known), so places taken by accepts show.
pub fn partner_service(record: &pb::PartnerService, open: Option<u32>) -> pb::PartnerService {
    let mut shown = record.clone();
    if let Some(open) = open {
        shown.capacity = with_open_places(&record.capacity, open);
    }
    shown
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
