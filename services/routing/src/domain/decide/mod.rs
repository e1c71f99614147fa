//! The routing policy: hard eligibility filters, then weighted scoring, over the
//! directory and a referral's coded facts. Pure: the same inputs give the same
//! decision, and every candidate carries each rule's verdict so the decision
//! explains itself.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::sync::{Arc, LazyLock};

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use wf_proto::common::v1::{Site, TriageTier};
use wf_proto::routing::v1::ServiceStatus;
use wf_types::PartnerId;

use super::directory::{Directory, Organization, PartnerService};
use super::policy::Policy;

mod detail;
pub use detail::{AgeFit, Detail};

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
    /// Borrowed for the rules' own ids, so a decision allocates nothing per rule.
    pub rule_id: Cow<'static, str>,
    pub verdict: Verdict,
    pub score: f64,
    /// Short coded explanation, kept as facts and rendered as text when stored or shown,
    /// e.g. "age 16 in 12..24". No personal data.
    pub detail: Detail,
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
    // Shared by every candidate's language verdict.
    let language: Arc<str> = Arc::from(facts.preferred_language.as_str());
    let mut evaluated: Vec<(Candidate, u32, usize)> = Vec::with_capacity(directory.services().count());
    for org in &directory.organizations {
        for service in &org.services {
            let candidate = evaluate(policy, org, service, facts, &language);
            evaluated.push((candidate, service.open_capacity(), evaluated.len()));
        }
    }
    // Best score first; ties go to more open capacity, then to the lower id, then to directory
    // order: a total order, so the unstable sort (which allocates no buffer) is reproducible.
    evaluated.sort_unstable_by(|(a, a_open, a_index), (b, b_open, b_index)| {
        b.eligible
            .cmp(&a.eligible)
            .then(if a.eligible && b.eligible { b.score.total_cmp(&a.score) } else { std::cmp::Ordering::Equal })
            .then(if a.eligible && b.eligible { b_open.cmp(a_open) } else { std::cmp::Ordering::Equal })
            .then_with(|| a.partner_service_id.cmp(&b.partner_service_id))
            .then(a_index.cmp(b_index))
    });
    let mut candidates: Vec<Candidate> = evaluated.into_iter().map(|(candidate, _, _)| candidate).collect();
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

/// The chosen candidate's scored details, joined with "; ".
fn explain(facts: &ReferralFacts, candidate: &Candidate) -> String {
    let mut text = String::with_capacity(80);
    if facts.outside_youth_program {
        text.push_str("outside_youth_program: program team outside referral");
    }
    for verdict in candidate.verdicts.iter().filter(|v| v.verdict == Verdict::Scored) {
        if !text.is_empty() {
            text.push_str("; ");
        }
        let _ = write!(text, "{}", verdict.detail);
    }
    text
}

fn evaluate(
    policy: &Policy,
    org: &Organization,
    service: &PartnerService,
    facts: &ReferralFacts,
    language: &Arc<str>,
) -> Candidate {
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
        score_language(policy, service, language),
        score_capacity(policy, service),
    ];
    let eligible = verdicts.iter().all(|v| v.verdict != Verdict::Fail);
    let score = verdicts.iter().map(|v| v.score).sum();
    Candidate {
        partner_id: org.id.as_str().to_owned(),
        partner_service_id: service.id.clone(),
        rank: 0,
        score,
        eligible,
        verdicts,
    }
}

/// A disabled filter passes everyone, and says so.
fn disabled(rule_id: &'static str) -> RuleVerdict {
    not_applicable(rule_id, Detail::DisabledByPolicy)
}

fn enabled(on: bool, rule_id: &'static str, check: impl FnOnce() -> RuleVerdict) -> RuleVerdict {
    if on { check() } else { disabled(rule_id) }
}

fn verdict(rule_id: &'static str, verdict: Verdict, score: f64, detail: Detail) -> RuleVerdict {
    RuleVerdict { rule_id: Cow::Borrowed(rule_id), verdict, score, detail }
}

fn pass(rule_id: &'static str, detail: Detail) -> RuleVerdict {
    verdict(rule_id, Verdict::Pass, 0.0, detail)
}

fn fail(rule_id: &'static str, detail: Detail) -> RuleVerdict {
    verdict(rule_id, Verdict::Fail, 0.0, detail)
}

fn not_applicable(rule_id: &'static str, detail: Detail) -> RuleVerdict {
    verdict(rule_id, Verdict::NotApplicable, 0.0, detail)
}

/// A count as stored in a detail (a directory or referral never comes near `u32::MAX`).
fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

pub(crate) fn service_active(org: &Organization, service: &PartnerService) -> RuleVerdict {
    if !org.active {
        fail(rule::SERVICE_ACTIVE, Detail::OrganizationInactive)
    } else if !org.in_network {
        fail(rule::SERVICE_ACTIVE, Detail::OrganizationNotInNetwork)
    } else if service.status != ServiceStatus::Active {
        fail(rule::SERVICE_ACTIVE, Detail::ServiceStatus(service.status))
    } else {
        pass(rule::SERVICE_ACTIVE, Detail::Active)
    }
}

pub(crate) fn youth_program(org: &Organization, facts: &ReferralFacts) -> RuleVerdict {
    match (facts.outside_youth_program, org.program_team) {
        (false, _) => pass(rule::YOUTH_PROGRAM, Detail::WithinYouthProgram),
        (true, true) => pass(rule::YOUTH_PROGRAM, Detail::ProgramTeamRefersOut),
        (true, false) => fail(rule::YOUTH_PROGRAM, Detail::ProgramTeamOnly),
    }
}

pub(crate) fn serves_site(service: &PartnerService, site: Site) -> RuleVerdict {
    let countywide = service.sites().any(|s| s == Site::Countywide);
    if site != Site::Unspecified && site != Site::Countywide && service.sites().any(|s| s == site) {
        pass(rule::SERVES_SITE, Detail::ServesSite(site))
    } else if countywide {
        pass(rule::SERVES_SITE, Detail::ServesCountywide)
    } else if site == Site::Unspecified {
        fail(rule::SERVES_SITE, Detail::ReferralSiteUnspecified)
    } else {
        fail(rule::SERVES_SITE, Detail::DoesNotServeSite(site))
    }
}

pub(crate) fn age_eligible(org: &Organization, service: &PartnerService, facts: &ReferralFacts) -> RuleVerdict {
    if facts.outside_youth_program && org.program_team {
        return not_applicable(rule::AGE_ELIGIBLE, Detail::AgeLimitsDoNotApply);
    }
    let (minimum, maximum) = (service.minimum_age, service.maximum_age);
    let minor = facts.is_minor || facts.age_years.is_some_and(|age| age < 18);
    if minor && !service.serves_minors {
        return fail(rule::AGE_ELIGIBLE, Detail::MinorNotServed);
    }
    let age = |age, fit| Detail::Age { age, fit, minimum, maximum };
    match facts.age_years {
        Some(years) if years < minimum => fail(rule::AGE_ELIGIBLE, age(years, AgeFit::Below)),
        Some(years) if maximum > 0 && years > maximum => fail(rule::AGE_ELIGIBLE, age(years, AgeFit::Above)),
        Some(years) => pass(rule::AGE_ELIGIBLE, age(years, AgeFit::In)),
        None => pass(rule::AGE_ELIGIBLE, Detail::AgeUnknown { minor, minimum, maximum }),
    }
}

pub(crate) fn open_capacity(service: &PartnerService, minimum_open: u32) -> RuleVerdict {
    let (open, maximum) = (service.open_capacity(), service.maximum_capacity());
    if open >= minimum_open.max(1) {
        pass(rule::OPEN_CAPACITY, Detail::CapacityOpen { open, maximum })
    } else if open == 0 {
        fail(rule::OPEN_CAPACITY, Detail::NoCapacity { maximum })
    } else {
        fail(rule::OPEN_CAPACITY, Detail::CapacityBelowPolicy { open, maximum, needed: minimum_open })
    }
}

/// `tiers`: the tiers the policy says need a responder around the clock.
pub(crate) fn emergent_24_7(service: &PartnerService, tier: TriageTier, tiers: &[TriageTier]) -> RuleVerdict {
    let tier = effective_tier(tier);
    match (tiers.contains(&tier), service.available_24_7) {
        (true, true) => pass(rule::EMERGENT_24_7, Detail::AroundTheClockResponder),
        (true, false) => fail(rule::EMERGENT_24_7, Detail::NeedsAroundTheClock(tier)),
        (false, _) => not_applicable(rule::EMERGENT_24_7, Detail::Tier(tier)),
    }
}

/// `minimum`: needs a service must cover; a referral with fewer needs asks for all of them.
pub(crate) fn offers_needed_service(needs_covered: usize, minimum: u32, facts: &ReferralFacts) -> RuleVerdict {
    let wanted = facts.needs.len();
    let required = (minimum.max(1) as usize).min(wanted);
    let (covered, wanted_count) = (count(needs_covered), count(wanted));
    if facts.outside_youth_program {
        not_applicable(rule::OFFERS_NEEDED_SERVICE, Detail::OutsideReferral)
    } else if wanted == 0 {
        not_applicable(rule::OFFERS_NEEDED_SERVICE, Detail::NoNeedsGiven)
    } else if needs_covered >= required {
        pass(rule::OFFERS_NEEDED_SERVICE, Detail::NeedsCovered { covered, wanted: wanted_count })
    } else {
        let needed = count(required);
        fail(rule::OFFERS_NEEDED_SERVICE, Detail::NeedsBelowPolicy { covered, wanted: wanted_count, needed })
    }
}

/// Always on: a re-route never offers the referral to a service that already had it.
pub(crate) fn not_offered_before(service: &PartnerService, facts: &ReferralFacts) -> RuleVerdict {
    if facts.already_offered.contains(&service.id) {
        fail(rule::NOT_OFFERED_BEFORE, Detail::OfferedBefore)
    } else {
        pass(rule::NOT_OFFERED_BEFORE, Detail::NotOfferedBefore)
    }
}

pub(crate) fn score_needs(policy: &Policy, covered: usize, wanted: usize) -> RuleVerdict {
    if wanted == 0 {
        return not_applicable(rule::NEEDS_COVERED, Detail::NoNeedsGiven);
    }
    let share = covered as f64 / wanted as f64;
    verdict(
        rule::NEEDS_COVERED,
        Verdict::Scored,
        policy.weights.needs_covered * share,
        Detail::NeedsCovered { covered: count(covered), wanted: count(wanted) },
    )
}

pub(crate) fn score_language(policy: &Policy, service: &PartnerService, language: &Arc<str>) -> RuleVerdict {
    if language.is_empty() {
        not_applicable(rule::LANGUAGE_MATCH, Detail::NoLanguagePreference)
    } else if service.languages.iter().any(|l| **l == **language) {
        let detail = Detail::Language { code: language.clone(), spoken: true };
        verdict(rule::LANGUAGE_MATCH, Verdict::Scored, policy.weights.language_match, detail)
    } else {
        verdict(rule::LANGUAGE_MATCH, Verdict::Scored, 0.0, Detail::Language { code: language.clone(), spoken: false })
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
        Detail::OpenPlaces { open },
    )
}

#[cfg(test)]
mod tests;
