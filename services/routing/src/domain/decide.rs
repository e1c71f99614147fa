//! The routing policy: hard eligibility filters, then weighted scoring, over the
//! directory and a referral's coded facts. Pure: the same inputs give the same
//! decision, and every candidate carries each rule's verdict so the decision
//! explains itself.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use wf_proto::common::v1::{Site, TriageTier};
use wf_proto::routing::v1::ServiceStatus;
use wf_types::PartnerId;

use super::directory::{Directory, Organization, PartnerService};
use super::{site_code, tier_code};

/// The policy in force until versioned policies are loaded from documents.
pub const DEMO_POLICY: Policy = Policy {
    version: "demo-1",
    needs_weight: 0.6,
    language_weight: 0.25,
    capacity_weight: 0.15,
    capacity_saturation: 5,
};

/// Weights of the scoring rules; the hard filters are fixed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Policy {
    pub version: &'static str,
    /// Multiplies the share of the referral's needs a service covers.
    pub needs_weight: f64,
    /// Added when staff speak the preferred language.
    pub language_weight: f64,
    /// Multiplies open capacity / `capacity_saturation` (capped at 1): beyond that many
    /// open places, more capacity no longer ranks a service higher.
    pub capacity_weight: f64,
    pub capacity_saturation: u32,
}

/// Rule ids, as stored in each verdict.
pub mod rule {
    pub const SERVICE_ACTIVE: &str = "service_active";
    pub const YOUTH_PROGRAM: &str = "youth_program";
    pub const SERVES_SITE: &str = "serves_site";
    pub const AGE_ELIGIBLE: &str = "age_eligible";
    pub const OPEN_CAPACITY: &str = "open_capacity";
    pub const EMERGENT_24_7: &str = "emergent_24_7";
    pub const OFFERS_NEEDED_SERVICE: &str = "offers_needed_service";
    pub const NEEDS_COVERED: &str = "needs_covered";
    pub const LANGUAGE_MATCH: &str = "language_match";
    pub const CAPACITY_REMAINING: &str = "capacity_remaining";

    /// Rules whose failure excludes a candidate.
    pub const HARD_FILTERS: &[&str] = &[
        SERVICE_ACTIVE,
        YOUTH_PROGRAM,
        SERVES_SITE,
        AGE_ELIGIBLE,
        OPEN_CAPACITY,
        EMERGENT_24_7,
        OFFERS_NEEDED_SERVICE,
    ];
}

/// What routing knows about a referral: coded facts only, never personal data.
#[derive(Debug, Clone, PartialEq)]
pub struct ReferralFacts {
    pub referral_id: String,
    pub site: Site,
    pub triage_tier: TriageTier,
    /// Service type codes, deduplicated.
    pub needs: Vec<String>,
    /// ISO 639 code, lowercase; empty = no preference.
    pub preferred_language: String,
    pub is_minor: bool,
    /// Whole years; `None` = unknown.
    pub age_years: Option<u32>,
    /// Over the youth program's age limit: only the program team takes it, for an outside referral.
    pub outside_youth_program: bool,
    pub practice: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    Fail,
    Scored,
    NotApplicable,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleVerdict {
    pub rule_id: String,
    pub verdict: Verdict,
    pub score: f64,
    /// Short coded explanation, e.g. "age 16 in 12..24". No personal data.
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    pub partner_id: String,
    pub partner_service_id: String,
    /// 1 = best; 0 for excluded candidates.
    pub rank: u32,
    pub score: f64,
    pub eligible: bool,
    pub verdicts: Vec<RuleVerdict>,
}

/// The chosen service and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    pub partner_id: PartnerId,
    pub partner_service_id: String,
    pub score: f64,
    /// e.g. "covers 2/2 needs; language es; capacity 3 open".
    pub explanation: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub policy_version: &'static str,
    /// The referral's tier, with unspecified treated as routine.
    pub triage_tier: TriageTier,
    /// When the offer that follows (or the escalation) must be answered.
    pub deadline: DateTime<Utc>,
    /// Eligible candidates best first, then excluded ones by service id.
    pub candidates: Vec<Candidate>,
    /// `None` when no candidate passed every hard filter: the referral escalates.
    pub chosen: Option<Choice>,
}

/// The tier a referral is handled under: unspecified is routine.
pub fn effective_tier(tier: TriageTier) -> TriageTier {
    match tier {
        TriageTier::Unspecified => TriageTier::Routine,
        tier => tier,
    }
}

/// How long an offer for `tier` stays open: emergent 90 minutes, urgent 24 hours, routine 48 hours.
pub fn response_window(tier: TriageTier) -> Duration {
    match effective_tier(tier) {
        TriageTier::Emergent => Duration::minutes(90),
        TriageTier::Urgent => Duration::hours(24),
        _ => Duration::hours(48),
    }
}

/// Routes `facts` over `directory` under the demo policy.
pub fn decide(directory: &Directory, facts: &ReferralFacts, now: DateTime<Utc>) -> Decision {
    decide_with(&DEMO_POLICY, directory, facts, now)
}

pub fn decide_with(policy: &Policy, directory: &Directory, facts: &ReferralFacts, now: DateTime<Utc>) -> Decision {
    let mut evaluated: Vec<(Candidate, u32)> = directory
        .organizations
        .iter()
        .flat_map(|org| org.services.iter().map(move |service| (org, service)))
        .map(|(org, service)| (evaluate(policy, org, service, facts), service.open_capacity()))
        .collect();
    // Best score first; ties go to more open capacity, then to the lower id (stable, reproducible).
    evaluated.sort_by(|(a, a_open), (b, b_open)| {
        b.eligible
            .cmp(&a.eligible)
            .then(if a.eligible && b.eligible { b.score.total_cmp(&a.score) } else { std::cmp::Ordering::Equal })
            .then(if a.eligible && b.eligible { b_open.cmp(a_open) } else { std::cmp::Ordering::Equal })
            .then(a.partner_service_id.cmp(&b.partner_service_id))
    });
    let mut candidates: Vec<Candidate> = evaluated.into_iter().map(|(candidate, _)| candidate).collect();
    for (index, candidate) in candidates.iter_mut().filter(|c| c.eligible).enumerate() {
        candidate.rank = index as u32 + 1;
    }
    let chosen = candidates.first().filter(|c| c.eligible).and_then(|best| {
        Some(Choice {
            partner_id: best.partner_id.parse().ok()?,
            partner_service_id: best.partner_service_id.clone(),
            score: best.score,
            explanation: explain(facts, best),
        })
    });
    let triage_tier = effective_tier(facts.triage_tier);
    Decision {
        policy_version: policy.version,
        triage_tier,
        deadline: now + response_window(triage_tier),
        candidates,
        chosen,
    }
}

fn explain(facts: &ReferralFacts, candidate: &Candidate) -> String {
    let scored = candidate.verdicts.iter().filter(|v| v.verdict == Verdict::Scored).map(|v| v.detail.clone());
    if facts.outside_youth_program {
        std::iter::once("outside_youth_program: program team outside referral".to_owned())
            .chain(scored)
            .collect::<Vec<_>>()
            .join("; ")
    } else {
        scored.collect::<Vec<_>>().join("; ")
    }
}

fn evaluate(policy: &Policy, org: &Organization, service: &PartnerService, facts: &ReferralFacts) -> Candidate {
    let needs_covered = facts.needs.iter().filter(|need| service.service_types.contains(need)).count();
    let verdicts = vec![
        service_active(org, service),
        youth_program(org, facts),
        serves_site(service, facts.site),
        age_eligible(org, service, facts),
        open_capacity(service),
        emergent_24_7(service, facts.triage_tier),
        offers_needed_service(needs_covered, facts),
        score_needs(policy, needs_covered, facts.needs.len()),
        score_language(policy, service, &facts.preferred_language),
        score_capacity(policy, service),
    ];
    let eligible = verdicts.iter().all(|v| v.verdict != Verdict::Fail);
    let score = verdicts.iter().map(|v| v.score).sum();
    Candidate {
        partner_id: org.id.to_string(),
        partner_service_id: service.id.clone(),
        rank: 0,
        score,
        eligible,
        verdicts,
    }
}

fn verdict(rule_id: &str, verdict: Verdict, score: f64, detail: impl Into<String>) -> RuleVerdict {
    RuleVerdict { rule_id: rule_id.to_owned(), verdict, score, detail: detail.into() }
}

fn pass(rule_id: &str, detail: impl Into<String>) -> RuleVerdict {
    verdict(rule_id, Verdict::Pass, 0.0, detail)
}

fn fail(rule_id: &str, detail: impl Into<String>) -> RuleVerdict {
    verdict(rule_id, Verdict::Fail, 0.0, detail)
}

fn not_applicable(rule_id: &str, detail: impl Into<String>) -> RuleVerdict {
    verdict(rule_id, Verdict::NotApplicable, 0.0, detail)
}

pub(crate) fn service_active(org: &Organization, service: &PartnerService) -> RuleVerdict {
    if !org.active {
        fail(rule::SERVICE_ACTIVE, "organization inactive")
    } else if !org.in_network {
        fail(rule::SERVICE_ACTIVE, "organization not in network")
    } else if service.status != ServiceStatus::Active {
        fail(
            rule::SERVICE_ACTIVE,
            format!(
                "service status {}",
                service.status.as_str_name().trim_start_matches("SERVICE_STATUS_").to_lowercase()
            ),
        )
    } else {
        pass(rule::SERVICE_ACTIVE, "active")
    }
}

pub(crate) fn youth_program(org: &Organization, facts: &ReferralFacts) -> RuleVerdict {
    match (facts.outside_youth_program, org.program_team) {
        (false, _) => pass(rule::YOUTH_PROGRAM, "within youth program"),
        (true, true) => pass(rule::YOUTH_PROGRAM, "outside youth program: program team refers out"),
        (true, false) => fail(rule::YOUTH_PROGRAM, "outside youth program: program team only"),
    }
}

pub(crate) fn serves_site(service: &PartnerService, site: Site) -> RuleVerdict {
    let countywide = service.sites().any(|s| s == Site::Countywide);
    if site != Site::Unspecified && site != Site::Countywide && service.sites().any(|s| s == site) {
        pass(rule::SERVES_SITE, format!("serves {}", site_code(site)))
    } else if countywide {
        pass(rule::SERVES_SITE, "serves countywide")
    } else if site == Site::Unspecified {
        fail(rule::SERVES_SITE, "referral site unspecified: countywide services only")
    } else {
        fail(rule::SERVES_SITE, format!("does not serve {}", site_code(site)))
    }
}

pub(crate) fn age_eligible(org: &Organization, service: &PartnerService, facts: &ReferralFacts) -> RuleVerdict {
    if facts.outside_youth_program && org.program_team {
        return not_applicable(rule::AGE_ELIGIBLE, "outside referral: age limits do not apply");
    }
    let range = format!(
        "{}..{}",
        service.minimum_age,
        if service.maximum_age == 0 { "any".to_owned() } else { service.maximum_age.to_string() }
    );
    let minor = facts.is_minor || facts.age_years.is_some_and(|age| age < 18);
    if minor && !service.serves_minors {
        return fail(rule::AGE_ELIGIBLE, "minor not served (adults only)");
    }
    match facts.age_years {
        Some(age) if age < service.minimum_age => fail(rule::AGE_ELIGIBLE, format!("age {age} below {range}")),
        Some(age) if service.maximum_age > 0 && age > service.maximum_age => {
            fail(rule::AGE_ELIGIBLE, format!("age {age} above {range}"))
        }
        Some(age) => pass(rule::AGE_ELIGIBLE, format!("age {age} in {range}")),
        None if minor => pass(rule::AGE_ELIGIBLE, format!("age unknown, minor served in {range}")),
        None => pass(rule::AGE_ELIGIBLE, format!("age unknown, adult served in {range}")),
    }
}

pub(crate) fn open_capacity(service: &PartnerService) -> RuleVerdict {
    let (open, maximum) = (service.open_capacity(), service.maximum_capacity());
    if open > 0 {
        pass(rule::OPEN_CAPACITY, format!("capacity {open}/{maximum} open"))
    } else {
        fail(rule::OPEN_CAPACITY, format!("no capacity (0/{maximum})"))
    }
}

pub(crate) fn emergent_24_7(service: &PartnerService, tier: TriageTier) -> RuleVerdict {
    match (effective_tier(tier), service.available_24_7) {
        (TriageTier::Emergent, true) => pass(rule::EMERGENT_24_7, "24/7 responder"),
        (TriageTier::Emergent, false) => fail(rule::EMERGENT_24_7, "emergent needs a 24/7 responder"),
        (tier, _) => not_applicable(rule::EMERGENT_24_7, format!("tier {}", tier_code(tier))),
    }
}

pub(crate) fn offers_needed_service(needs_covered: usize, facts: &ReferralFacts) -> RuleVerdict {
    let wanted = facts.needs.len();
    if facts.outside_youth_program {
        not_applicable(rule::OFFERS_NEEDED_SERVICE, "outside referral")
    } else if wanted == 0 {
        not_applicable(rule::OFFERS_NEEDED_SERVICE, "no needs given")
    } else if needs_covered > 0 {
        pass(rule::OFFERS_NEEDED_SERVICE, format!("covers {needs_covered}/{wanted} needs"))
    } else {
        fail(rule::OFFERS_NEEDED_SERVICE, format!("covers 0/{wanted} needs"))
    }
}

pub(crate) fn score_needs(policy: &Policy, covered: usize, wanted: usize) -> RuleVerdict {
    if wanted == 0 {
        return not_applicable(rule::NEEDS_COVERED, "no needs given");
    }
    let share = covered as f64 / wanted as f64;
    verdict(
        rule::NEEDS_COVERED,
        Verdict::Scored,
        policy.needs_weight * share,
        format!("covers {covered}/{wanted} needs"),
    )
}

pub(crate) fn score_language(policy: &Policy, service: &PartnerService, language: &str) -> RuleVerdict {
    if language.is_empty() {
        not_applicable(rule::LANGUAGE_MATCH, "no language preference")
    } else if service.languages.iter().any(|l| l == language) {
        verdict(rule::LANGUAGE_MATCH, Verdict::Scored, policy.language_weight, format!("language {language}"))
    } else {
        verdict(rule::LANGUAGE_MATCH, Verdict::Scored, 0.0, format!("language {language} not spoken"))
    }
}

pub(crate) fn score_capacity(policy: &Policy, service: &PartnerService) -> RuleVerdict {
    let open = service.open_capacity();
    let saturation = policy.capacity_saturation.max(1);
    let share = f64::from(open.min(saturation)) / f64::from(saturation);
    verdict(rule::CAPACITY_REMAINING, Verdict::Scored, policy.capacity_weight * share, format!("capacity {open} open"))
}

#[cfg(test)]
#[path = "decide_tests.rs"]
mod tests;
