//! Policy simulation: replay stored referrals' facts under the policy in force and
//! under a candidate, over the same directory, and report which decisions change,
//! from which service to which, and which rule verdicts made the difference. Both
//! sides are replayed (rather than comparing with the stored decision) so that only
//! the policy differs, not the capacity or directory of the day.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{DateTime, Utc};

use crate::domain::{Candidate, Decision, Directory, Policy, ReferralFacts, RuleVerdict, decide_with};

/// How many changed referrals the report details one by one.
pub const DETAILED_CHANGES: usize = 10;

/// One decision that changes under the candidate.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub referral_id: String,
    /// Partner service chosen under the policy in force; `None` = escalated.
    pub from: Option<String>,
    pub to: Option<String>,
    /// Rule verdicts of the `from` and `to` services that differ between the two policies:
    /// (service id, in force, candidate).
    pub differing: Vec<(String, RuleVerdict, RuleVerdict)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Simulation {
    pub baseline_version: String,
    pub candidate_version: String,
    pub replayed: usize,
    pub changes: Vec<Change>,
}

/// Replays `facts` (first-decision facts, without earlier offers) under both policies.
pub fn simulate(
    directory: &Directory,
    baseline: &Policy,
    candidate: &Policy,
    facts: &[ReferralFacts],
    now: DateTime<Utc>,
) -> Simulation {
    let mut changes = Vec::new();
    for f in facts {
        let before = decide_with(baseline, directory, f, now);
        let after = decide_with(candidate, directory, f, now);
        let from = chosen(&before);
        let to = chosen(&after);
        if from == to {
            continue;
        }
        let mut differing = Vec::new();
        for service in [&from, &to].into_iter().flatten() {
            let (Some(old), Some(new)) = (candidate_of(&before, service), candidate_of(&after, service)) else {
                continue;
            };
            for (a, b) in old.verdicts.iter().zip(&new.verdicts) {
                if a.verdict != b.verdict || (a.score - b.score).abs() > 1e-9 || a.detail != b.detail {
                    differing.push((service.clone(), a.clone(), b.clone()));
                }
            }
        }
        changes.push(Change { referral_id: f.referral_id.clone(), from, to, differing });
    }
    Simulation {
        baseline_version: baseline.version.clone(),
        candidate_version: candidate.version.clone(),
        replayed: facts.len(),
        changes,
    }
}

fn chosen(decision: &Decision) -> Option<String> {
    decision.chosen.as_ref().map(|c| c.partner_service_id.clone())
}

fn candidate_of<'a>(decision: &'a Decision, service: &str) -> Option<&'a Candidate> {
    decision.candidates.iter().find(|c| c.partner_service_id == service)
}

fn service_name(directory: &Directory, service: &Option<String>) -> String {
    match service {
        None => "(escalated: no eligible partner)".to_owned(),
        Some(id) => directory.service(id).map_or_else(|| id.clone(), |s| s.name.clone()),
    }
}

fn verdict_text(v: &RuleVerdict) -> String {
    let verdict = serde_json::to_value(v.verdict).ok().and_then(|j| j.as_str().map(str::to_owned)).unwrap_or_default();
    if v.score != 0.0 {
        format!("{verdict} {:.3} ({})", v.score, v.detail)
    } else {
        format!("{verdict} ({})", v.detail)
    }
}

/// The readable difference report.
pub fn render(simulation: &Simulation, directory: &Directory, scope: &str) -> String {
    let mut out = String::new();
    let s = simulation;
    let _ = writeln!(
        out,
        "Routing policy simulation: candidate {:?} against {:?} (in force)",
        s.candidate_version, s.baseline_version
    );
    let _ = writeln!(out, "Replayed {} referrals {scope}.", s.replayed);
    let share = if s.replayed == 0 { 0.0 } else { 100.0 * s.changes.len() as f64 / s.replayed as f64 };
    let _ = writeln!(out, "Decisions that change: {} of {} ({share:.1}%).", s.changes.len(), s.replayed);
    if s.changes.is_empty() {
        return out;
    }
    let mut moves: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut rules: BTreeMap<String, usize> = BTreeMap::new();
    for change in &s.changes {
        *moves.entry((service_name(directory, &change.from), service_name(directory, &change.to))).or_default() += 1;
        let mut seen: Vec<&str> = change.differing.iter().map(|(_, a, _)| &*a.rule_id).collect();
        seen.sort_unstable();
        seen.dedup();
        for rule in seen {
            *rules.entry(rule.to_owned()).or_default() += 1;
        }
    }
    let _ = writeln!(out, "\nFrom → to (referrals):");
    let mut moves: Vec<_> = moves.into_iter().collect();
    moves.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    for ((from, to), count) in moves {
        let _ = writeln!(out, "  {count:>4}  {from} → {to}");
    }
    let _ = writeln!(out, "\nRules whose verdicts differ (referrals):");
    let mut rules: Vec<_> = rules.into_iter().collect();
    rules.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    for (rule, count) in rules {
        let _ = writeln!(out, "  {count:>4}  {rule}");
    }
    let _ = writeln!(out, "\nWhy, referral by referral (first {DETAILED_CHANGES}):");
    for change in s.changes.iter().take(DETAILED_CHANGES) {
        let _ = writeln!(
            out,
            "  {}: {} → {}",
            change.referral_id,
            service_name(directory, &change.from),
            service_name(directory, &change.to)
        );
        for (service, old, new) in &change.differing {
            let _ = writeln!(
                out,
                "      {} {}: {} → {}",
                service_name(directory, &Some(service.clone())),
                old.rule_id,
                verdict_text(old),
                verdict_text(new)
            );
        }
    }
    if s.changes.len() > DETAILED_CHANGES {
        let _ = writeln!(out, "  … and {} more", s.changes.len() - DETAILED_CHANGES);
    }
    out
}

/// A look-back like "30d", "12h" or "90m".
pub fn parse_since(value: &str) -> Result<chrono::Duration, String> {
    let value = value.trim();
    let allowed = "expected a number followed by d (days), h (hours) or m (minutes), e.g. 30d";
    let (number, unit) = value.split_at(value.len().saturating_sub(1));
    let n: i64 = number.parse().map_err(|_| format!("--since {value:?}: {allowed}"))?;
    if n <= 0 || n > 3650 * 24 * 60 {
        return Err(format!("--since {value:?}: must be positive and at most ten years"));
    }
    match unit {
        "d" if n <= 3650 => Ok(chrono::Duration::days(n)),
        "h" if n <= 3650 * 24 => Ok(chrono::Duration::hours(n)),
        "m" => Ok(chrono::Duration::minutes(n)),
        "d" | "h" => Err(format!("--since {value:?}: must be at most ten years")),
        _ => Err(format!("--since {value:?}: {allowed}")),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use wf_proto::common::v1::{Site, TriageTier};

    use super::*;
    use crate::domain::DEMO_POLICY_DOCUMENT;

    fn facts(n: usize, needs: &[&str], site: Site) -> ReferralFacts {
        ReferralFacts {
            referral_id: format!("ref_{n:032x}"),
            site,
            triage_tier: TriageTier::Urgent,
            needs: needs.iter().map(|s| (*s).to_owned()).collect(),
            preferred_language: "es".into(),
            is_minor: true,
            age_years: Some(16),
            outside_youth_program: false,
            practice: true,
            already_offered: Vec::new(),
        }
    }

    #[test]
    fn since_reads_days_hours_minutes_and_refuses_the_rest() {
        assert_eq!(parse_since("30d"), Ok(chrono::Duration::days(30)));
        assert_eq!(parse_since("12h"), Ok(chrono::Duration::hours(12)));
        assert_eq!(parse_since("90m"), Ok(chrono::Duration::minutes(90)));
        for bad in ["", "d", "30", "30w", "-1d", "0d", "99999d"] {
            assert!(parse_since(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_same_policy_changes_nothing_and_a_stricter_one_explains_its_changes() {
        let directory = Directory::demo().unwrap();
        let now = Utc.timestamp_opt(1_790_000_000, 0).unwrap();
        let replay = vec![
            facts(1, &["emergency_shelter", "crisis_intervention"], Site::SouthLosAngeles),
            facts(2, &["mental_health", "education"], Site::SouthLosAngeles),
            facts(3, &["other_legal"], Site::SanFernandoValley),
        ];
        let demo = Policy::demo();
        let same = simulate(&directory, &demo, &demo, &replay, now);
        assert!(same.changes.is_empty());
        let report = render(&same, &directory, "since the start");
        assert!(report.contains("Decisions that change: 0 of 3 (0.0%)."), "{report}");

        // Asking for more open places than the shelter has moves its referral elsewhere.
        let harbor = directory.service("svc_2c2c43b486bc4bc8a526abaa47f6ec14").unwrap().open_capacity();
        let document = DEMO_POLICY_DOCUMENT
            .replace("version = \"demo-1\"", "version = \"stricter-1\"")
            .replace("minimum_open = 1", &format!("minimum_open = {}", harbor + 1));
        let stricter = Policy::from_toml(&document).unwrap();
        let simulation = simulate(&directory, &demo, &stricter, &replay, now);
        let change =
            simulation.changes.iter().find(|c| c.referral_id == replay[0].referral_id).expect("shelter referral moves");
        assert_eq!(change.from.as_deref(), Some("svc_2c2c43b486bc4bc8a526abaa47f6ec14"));
        assert!(
            change.differing.iter().any(|(s, old, new)| s == "svc_2c2c43b486bc4bc8a526abaa47f6ec14"
                && old.rule_id == "open_capacity"
                && old.verdict == crate::domain::Verdict::Pass
                && new.verdict == crate::domain::Verdict::Fail),
            "{change:?}"
        );
        let report = render(&simulation, &directory, "in the last 30 days");
        assert!(report.contains("candidate \"stricter-1\" against \"demo-1\""), "{report}");
        assert!(report.contains("Demo Harbor Emergency Beds →"), "{report}");
        assert!(report.contains("open_capacity"), "{report}");
        assert!(report.contains("open_capacity: pass (capacity"), "{report}");
    }
}
