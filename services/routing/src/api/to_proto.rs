//! Domain and stored records → their wire messages.

use wf_proto::routing::v1 as pb;
use wf_proto::time::timestamp;

use crate::domain::Verdict;
use crate::domain::directory::entry::{OrganizationEntry, with_open_places};
use crate::store::decisions::DecisionRecord;
use crate::store::escalations::EscalationRow;
use crate::store::offers::OfferRecord;
use crate::store::policies::PolicyRecord;

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
        offer_id: record.offer_id.clone().unwrap_or_default(),
        attempt: record.attempt,
        reason: record.reason.clone(),
        practice: record.practice,
    }
}

pub fn offer(record: &OfferRecord) -> pb::Offer {
    pb::Offer {
        offer_id: record.offer_id.clone(),
        decision_id: record.decision_id.clone(),
        referral_id: record.referral_id.clone(),
        partner_id: record.partner_id.clone(),
        partner_service_id: record.partner_service_id.clone(),
        status: record.status as i32,
        triage_tier: record.triage_tier as i32,
        site: record.site as i32,
        offered_at: Some(timestamp(wf_db::from_micros(record.offered_at))),
        deadline: Some(timestamp(wf_db::from_micros(record.deadline))),
        responded_at: record.responded_at.map(|at| timestamp(wf_db::from_micros(at))),
        responded_by: record.responded_by.clone().unwrap_or_default(),
        decline_reason: record.decline_reason as i32,
        decline_detail: record.decline_detail.clone(),
        needs: record.facts.needs.clone(),
        preferred_language: record.facts.preferred_language.clone(),
        is_minor: record.facts.is_minor,
        // 0 = unknown, as in `referral.received`.
        age_years: record.facts.age_years.map_or(0, |age| i32::try_from(age).unwrap_or(i32::MAX)),
        practice: record.practice,
    }
}

pub fn escalation(row: &EscalationRow) -> pb::Escalation {
    let record = &row.record;
    pb::Escalation {
        escalation_id: record.escalation_id.clone(),
        referral_id: record.referral_id.clone(),
        reason: record.reason as i32,
        triage_tier: record.triage_tier as i32,
        site: record.site as i32,
        escalated_at: Some(wf_proto::time::timestamp_from_micros(record.escalated_at)),
        deadline: Some(wf_proto::time::timestamp_from_micros(record.deadline)),
        resolved_at: row.resolved_at.map(wf_proto::time::timestamp_from_micros),
        resolved_by: row.resolved_by.clone().unwrap_or_default(),
        resolution: row.resolution.clone().unwrap_or_default(),
        decision_id: record.decision_id.clone(),
        practice: record.practice,
    }
}

/// A recorded load; `document` when the response carries it, `active` when it is in force.
pub fn policy(record: &PolicyRecord, document: Option<String>, active: bool) -> pb::RoutingPolicy {
    pb::RoutingPolicy {
        version: record.version.clone(),
        document: document.unwrap_or_default(),
        loaded_at: Some(wf_proto::time::timestamp_from_micros(record.loaded_at)),
        loaded_by: record.loaded_by.clone(),
        sha256: hex::decode(&record.sha256).unwrap_or_default(),
        active,
    }
}
