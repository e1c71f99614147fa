//! The routing policy: which hard filters apply (with their parameters), the
//! scoring weights and the tier deadlines, read from a versioned TOML document.
//!
//! Validation collects every problem at once; each names the line and the rule
//! (the `[filters.<rule>]` / `[weights]` / `[deadlines]` table it sits in), so a
//! program manager can fix a candidate policy in one pass.

use std::fmt;

use chrono::Duration;
use serde::Deserialize;
use toml::Spanned;
use wf_proto::common::v1::TriageTier;

use super::tier_from_code;

/// The demo policy document shipped with the service (equal to step 1's fixed behaviour).
pub const DEMO_POLICY_DOCUMENT: &str = include_str!("../../../demo/policy.toml");

const MAX_DEADLINE_MINUTES: i64 = 7 * 24 * 60;
const MAX_WEIGHT: f64 = 100.0;

/// A validated policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub version: String,
    pub filters: Filters,
    pub weights: Weights,
    pub deadlines: Deadlines,
}

/// Hard filters; a disabled filter gives every candidate a "not applicable" verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct Filters {
    pub service_active: bool,
    pub youth_program: bool,
    pub serves_site: bool,
    pub age_eligible: bool,
    /// `Some(minimum open places)` when enabled.
    pub open_capacity: Option<u32>,
    /// `Some(tiers needing a 24/7 responder)` when enabled.
    pub emergent_24_7: Option<Vec<TriageTier>>,
    /// `Some(minimum needs covered)` when enabled.
    pub offers_needed_service: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Weights {
    /// Multiplies the share of the referral's needs a service covers.
    pub needs_covered: f64,
    /// Added when staff speak the preferred language.
    pub language_match: f64,
    /// Multiplies open capacity / `capacity_saturation` (capped at 1): beyond that many
    /// open places, more capacity no longer ranks a service higher.
    pub capacity_remaining: f64,
    pub capacity_saturation: u32,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Deadlines {
    pub emergent: Duration,
    pub urgent: Duration,
    pub routine: Duration,
}

impl Policy {
    /// The embedded demo policy.
    pub fn demo() -> Self {
        Self::from_toml(DEMO_POLICY_DOCUMENT).expect("the embedded demo policy is valid")
    }

    /// Parses and validates a policy document.
    pub fn from_toml(document: &str) -> Result<Self, PolicyError> {
        let file: PolicyFile = toml::from_str(document).map_err(|err| {
            let (line, rule) = err.span().map_or((0, String::new()), |span| locate(document, span.start));
            PolicyError::Invalid(vec![PolicyIssue { line, rule, message: err.message().trim().to_owned() }])
        })?;
        Validator { document, issues: Vec::new() }.policy(file)
    }

    /// How long an offer for `tier` stays open (unspecified counts as routine).
    pub fn response_window(&self, tier: TriageTier) -> Duration {
        match super::effective_tier(tier) {
            TriageTier::Emergent => self.deadlines.emergent,
            TriageTier::Urgent => self.deadlines.urgent,
            _ => self.deadlines.routine,
        }
    }
}

/// Why a policy document was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PolicyError {
    #[error("policy has {} problem(s): {}", .0.len(), PolicyIssue::join(.0))]
    Invalid(Vec<PolicyIssue>),
}

impl PolicyError {
    pub fn issues(&self) -> &[PolicyIssue] {
        match self {
            Self::Invalid(issues) => issues,
        }
    }
}

/// One problem: the line (1-based; 0 when unknown), the rule or table it belongs to, and what is allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyIssue {
    pub line: usize,
    /// e.g. "open_capacity", "weights", "deadlines", "version"; empty when unknown.
    pub rule: String,
    pub message: String,
}

impl PolicyIssue {
    fn join(issues: &[PolicyIssue]) -> String {
        issues.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
    }
}

impl fmt::Display for PolicyIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.rule.is_empty()) {
            (0, true) => write!(f, "{}", self.message),
            (0, false) => write!(f, "rule {}: {}", self.rule, self.message),
            (line, true) => write!(f, "line {line}: {}", self.message),
            (line, false) => write!(f, "line {line}, rule {}: {}", self.rule, self.message),
        }
    }
}

/// 1-based line of `offset`, and the rule whose table contains it: the last
/// `[filters.<rule>]` or `[<table>]` header before it ("version" at top level).
fn locate(document: &str, offset: usize) -> (usize, String) {
    let before = &document[..offset.min(document.len())];
    let line = before.matches('\n').count() + 1;
    let rule = before
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('[') && l.ends_with(']'))
        .map(|header| {
            let name = header.trim_matches(|c| c == '[' || c == ']').trim();
            name.strip_prefix("filters.").unwrap_or(name).to_owned()
        })
        .unwrap_or_else(|| "version".to_owned());
    (line, rule)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    version: Spanned<String>,
    deadlines: DeadlinesFile,
    filters: FiltersFile,
    weights: WeightsFile,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeadlinesFile {
    emergent_minutes: Spanned<i64>,
    urgent_minutes: Spanned<i64>,
    routine_minutes: Spanned<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FiltersFile {
    service_active: Toggle,
    youth_program: Toggle,
    serves_site: Toggle,
    age_eligible: Toggle,
    open_capacity: OpenCapacityFile,
    emergent_24_7: Emergent247File,
    offers_needed_service: NeedsFile,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Toggle {
    enabled: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OpenCapacityFile {
    enabled: bool,
    minimum_open: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Emergent247File {
    enabled: bool,
    tiers: Option<Spanned<Vec<String>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NeedsFile {
    enabled: bool,
    minimum_needs_covered: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WeightsFile {
    needs_covered: Spanned<f64>,
    language_match: Spanned<f64>,
    capacity_remaining: Spanned<f64>,
    capacity_saturation: Spanned<i64>,
}

struct Validator<'a> {
    document: &'a str,
    issues: Vec<PolicyIssue>,
}

impl Validator<'_> {
    fn issue<T>(&mut self, at: &Spanned<T>, message: String) {
        let (line, rule) = locate(self.document, at.span().start);
        self.issues.push(PolicyIssue { line, rule, message });
    }

    fn policy(mut self, file: PolicyFile) -> Result<Policy, PolicyError> {
        let version = file.version.get_ref().trim().to_owned();
        let version_ok = !version.is_empty()
            && version.len() <= 64
            && version.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !version_ok {
            self.issue(
                &file.version,
                format!(
                    "version {:?} is not allowed: 1 to 64 characters of letters, digits, '-', '_' or '.'",
                    file.version.get_ref()
                ),
            );
        }
        let d = &file.deadlines;
        let deadlines = Deadlines {
            emergent: self.minutes(&d.emergent_minutes, "emergent_minutes"),
            urgent: self.minutes(&d.urgent_minutes, "urgent_minutes"),
            routine: self.minutes(&d.routine_minutes, "routine_minutes"),
        };
        if self.issues.is_empty() && !(deadlines.emergent <= deadlines.urgent && deadlines.urgent <= deadlines.routine)
        {
            self.issue(
                &d.urgent_minutes,
                "deadlines must not shorten as urgency falls: emergent ≤ urgent ≤ routine".to_owned(),
            );
        }
        let f = &file.filters;
        let filters = Filters {
            service_active: f.service_active.enabled,
            youth_program: f.youth_program.enabled,
            serves_site: f.serves_site.enabled,
            age_eligible: f.age_eligible.enabled,
            open_capacity: f
                .open_capacity
                .enabled
                .then(|| self.count(f.open_capacity.minimum_open.as_ref(), "minimum_open", 1, 1000)),
            emergent_24_7: f.emergent_24_7.enabled.then(|| self.tiers(f.emergent_24_7.tiers.as_ref())),
            offers_needed_service: f.offers_needed_service.enabled.then(|| {
                self.count(f.offers_needed_service.minimum_needs_covered.as_ref(), "minimum_needs_covered", 1, 18)
            }),
        };
        let w = &file.weights;
        let weights = Weights {
            needs_covered: self.weight(&w.needs_covered, "needs_covered"),
            language_match: self.weight(&w.language_match, "language_match"),
            capacity_remaining: self.weight(&w.capacity_remaining, "capacity_remaining"),
            capacity_saturation: self.count(Some(&w.capacity_saturation), "capacity_saturation", 1, 1000),
        };
        if self.issues.is_empty() {
            Ok(Policy { version, filters, weights, deadlines })
        } else {
            Err(PolicyError::Invalid(self.issues))
        }
    }

    fn minutes(&mut self, value: &Spanned<i64>, field: &str) -> Duration {
        let minutes = *value.get_ref();
        if !(1..=MAX_DEADLINE_MINUTES).contains(&minutes) {
            self.issue(value, format!("{field} is {minutes}; allowed 1 to {MAX_DEADLINE_MINUTES} (7 days)"));
        }
        Duration::minutes(minutes)
    }

    fn weight(&mut self, value: &Spanned<f64>, field: &str) -> f64 {
        let weight = *value.get_ref();
        if !weight.is_finite() || !(0.0..=MAX_WEIGHT).contains(&weight) {
            self.issue(value, format!("{field} is {weight}; allowed 0 to {MAX_WEIGHT}"));
        }
        weight
    }

    /// An optional count defaulting to `min`.
    fn count(&mut self, value: Option<&Spanned<i64>>, field: &str, min: i64, max: i64) -> u32 {
        let Some(value) = value else { return min as u32 };
        let n = *value.get_ref();
        if !(min..=max).contains(&n) {
            self.issue(value, format!("{field} is {n}; allowed {min} to {max}"));
            return min as u32;
        }
        n as u32
    }

    /// Tiers needing a 24/7 responder; defaults to emergent only.
    fn tiers(&mut self, value: Option<&Spanned<Vec<String>>>) -> Vec<TriageTier> {
        let Some(value) = value else { return vec![TriageTier::Emergent] };
        let mut tiers = Vec::new();
        for code in value.get_ref() {
            match tier_from_code(code) {
                Some(tier) if tier != TriageTier::Unspecified => tiers.push(tier),
                _ => self.issue(value, format!("tier {code:?} is not allowed; allowed emergent, urgent, routine")),
            }
        }
        tiers
    }
}

#[cfg(test)]
mod tests;
