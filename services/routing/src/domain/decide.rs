//! The routing policy: hard eligibility filters, then weighted scoring, over the
//! directory and a referral's coded facts. Pure: the same inputs give the same
//! decision, and every candidate carries each rule's verdict so the decision
//! explains itself.

use std::borrow::Cow;
use std::sync::LazyLock;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use wf_proto::common::v1::{Site, TriageTier};
use wf_proto::routing::v1::ServiceStatus;
use wf_types::PartnerId;

use super::directory::{Directory, Organization, PartnerService};
use super::policy::Policy;
use super::{site_code, tier_code};

/// The embedded demo policy, parsed once.
pub static DEMO_POLICY: LazyLock<Policy> = LazyLock::new(Policy::demo);

/// Rule ids, as stored in each verdict.
pub mod rule {
    pub const SERVICE_ACTIVE: &str = "service_active";
    pub const YOUTH_PROGRAM: &str = "youth_program";
    pub const SERVES_SITE: &str = "serves_site";
    pub const AGE_ELIGIBLE: &str = "age_eligible";
    pub const OPEN_CAPACITY: &str = "open_capacity";
    pub const EMERGENT_24_7: &str = "emergent_24_7";
    pub const OFFERS_NEEDED_SERVICE: &str = "offers_needed_service";
    pub const NOT_OFFERED_BEFORE: &str = "not_offered_before";
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
        NOT_OFFERED_BEFORE,
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
    /// Partner services already offered this referral (declined or expired): a re-route
    /// goes to the next candidate. Empty for a first decision.
    pub already_offered: Vec<String>,
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
    /// Borrowed for the rules' own ids and fixed details, so a decision over a large
    /// directory allocates only for the details that carry numbers.
    pub rule_id: Cow<'static, str>,
    pub verdict: Verdict,
    pub score: f64,
    /// Short coded explanation, e.g. "age 16 in 12..24". No personal data.
    pub detail: Cow<'static, str>,
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
    pub policy_version: String,
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

/// How long an offer for `tier` stays open under the demo policy: emergent 90 minutes,
/// urgent 24 hours, routine 48 hours.
pub fn response_window(tier: TriageTier) -> Duration {
    DEMO_POLICY.response_window(tier)
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
        policy_version: policy.version.clone(),
        triage_tier,
        deadline: now + policy.response_window(triage_tier),
        candidates,
        chosen,
    }
}

fn explain(facts: &ReferralFacts, candidate: &Candidate) -> String {
    let scored = candidate.verdicts.iter().filter(|v| v.verdict == Verdict::Scored).map(|v| v.detail.to_string());
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
    let filters = &policy.filters;
    let verdicts = vec![
        enabled(filters.service_active, rule::SERVICE_ACTIVE, || service_active(org, service)),
        enabled(filters.youth_program, rule::YOUTH_PROGRAM, || youth_program(org, facts)),
        enabled(filters.serves_site, rule::SERVES_SITE, || serves_site(service, facts.site)),
        enabled(filters.age_eligible, rule::AGE_ELIGIBLE, || age_eligible(org, service, facts)),
        match filters.open_capacity {
            Some(minimum) => open_capacity(service, minimum),
            None => disabled(rule::OPEN_CAPACITY),
        },
        match &filters.emergent_24_7 {
            Some(tiers) => emergent_24_7(service, facts.triage_tier, tiers),
            None => disabled(rule::EMERGENT_24_7),
        },
        match filters.offers_needed_service {
            Some(minimum) => offers_needed_service(needs_covered, minimum, facts),
            None => disabled(rule::OFFERS_NEEDED_SERVICE),
        },
        not_offered_before(service, facts),
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

/// A disabled filter passes everyone, and says so.
fn disabled(rule_id: &'static str) -> RuleVerdict {
    not_applicable(rule_id, "disabled by policy")
}

fn enabled(on: bool, rule_id: &'static str, check: impl FnOnce() -> RuleVerdict) -> RuleVerdict {
    if on { check() } else { disabled(rule_id) }
}

fn verdict(rule_id: &'static str, verdict: Verdict, score: f64, detail: impl Into<Cow<'static, str>>) -> RuleVerdict {
    RuleVerdict { rule_id: Cow::Borrowed(rule_id), verdict, score, detail: detail.into() }
}

fn pass(rule_id: &'static str, detail: impl Into<Cow<'static, str>>) -> RuleVerdict {
    verdict(rule_id, Verdict::Pass, 0.0, detail)
}

fn fail(rule_id: &'static str, detail: impl Into<Cow<'static, str>>) -> RuleVerdict {
    verdict(rule_id, Verdict::Fail, 0.0, detail)
}

fn not_applicable(rule_id: &'static str, detail: impl Into<Cow<'static, str>>) -> RuleVerdict {
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

pub(crate) fn open_capacity(service: &PartnerService, minimum_open: u32) -> RuleVerdict {
    let (open, maximum) = (service.open_capacity(), service.maximum_capacity());
    if open >= minimum_open.max(1) {
        pass(rule::OPEN_CAPACITY, format!("capacity {open}/{maximum} open"))
    } else if open == 0 {
        fail(rule::OPEN_CAPACITY, format!("no capacity (0/{maximum})"))
    } else {
        fail(rule::OPEN_CAPACITY, format!("capacity {open}/{maximum} open, policy needs {minimum_open}"))
    }
}

/// `tiers`: the tiers the policy says need a responder around the clock.
pub(crate) fn emergent_24_7(service: &PartnerService, tier: TriageTier, tiers: &[TriageTier]) -> RuleVerdict {
    let tier = effective_tier(tier);
    match (tiers.contains(&tier), service.available_24_7) {
        (true, true) => pass(rule::EMERGENT_24_7, "24/7 responder"),
        (true, false) => fail(rule::EMERGENT_24_7, format!("{} needs a 24/7 responder", tier_code(tier))),
        (false, _) => not_applicable(rule::EMERGENT_24_7, format!("tier {}", tier_code(tier))),
    }
}

/// `minimum`: needs a service must cover; a referral with fewer needs asks for all of them.
pub(crate) fn offers_needed_service(needs_covered: usize, minimum: u32, facts: &ReferralFacts) -> RuleVerdict {
    let wanted = facts.needs.len();
    let required = (minimum.max(1) as usize).min(wanted);
    if facts.outside_youth_program {
        not_applicable(rule::OFFERS_NEEDED_SERVICE, "outside referral")
    } else if wanted == 0 {
        not_applicable(rule::OFFERS_NEEDED_SERVICE, "no needs given")
    } else if needs_covered >= required {
        pass(rule::OFFERS_NEEDED_SERVICE, format!("covers {needs_covered}/{wanted} needs"))
    } else {
        fail(rule::OFFERS_NEEDED_SERVICE, format!("covers {needs_covered}/{wanted} needs, policy needs {required}"))
    }
}

/// Always on: a re-route never offers the referral to a service that already had it.
pub(crate) fn not_offered_before(service: &PartnerService, facts: &ReferralFacts) -> RuleVerdict {
    if facts.already_offered.contains(&service.id) {
        fail(rule::NOT_OFFERED_BEFORE, "offered before (declined or expired)")
    } else {
        pass(rule::NOT_OFFERED_BEFORE, "not offered before")
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
        policy.weights.needs_covered * share,
        format!("covers {covered}/{wanted} needs"),
    )
}

pub(crate) fn score_language(policy: &Policy, service: &PartnerService, language: &str) -> RuleVerdict {
    if language.is_empty() {
        not_applicable(rule::LANGUAGE_MATCH, "no language preference")
    } else if service.languages.iter().any(|l| l == language) {
        verdict(rule::LANGUAGE_MATCH, Verdict::Scored, policy.weights.language_match, format!("language {language}"))
    } else {
        verdict(rule::LANGUAGE_MATCH, Verdict::Scored, 0.0, format!("language {language} not spoken"))
    }
}

pub(crate) fn score_capacity(policy: &Policy, service: &PartnerService) -> RuleVerdict {
    let open = service.open_capacity();
    let saturation = policy.weights.capacity_saturation.max(1);
    let share = f64::from(open.min(saturation)) / f64::from(saturation);
    verdict(
        rule::CAPACITY_REMAINING,
        Verdict::Scored,
        policy.weights.capacity_remaining * share,
        format!("capacity {open} open"),
    )
}

#[cfg(test)]
#[path = "decide_tests.rs"]
mod tests;
