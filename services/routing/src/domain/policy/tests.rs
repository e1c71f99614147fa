use chrono::{Duration, TimeZone, Utc};
use wf_proto::common::v1::{Site, TriageTier};

use super::*;
use crate::domain::decide::{Verdict, decide_with, rule};
use crate::domain::{Directory, ReferralFacts};

/// The demo document with `from` replaced by `to` (which must occur exactly once).
fn demo_with(from: &str, to: &str) -> String {
    assert_eq!(DEMO_POLICY_DOCUMENT.matches(from).count(), 1, "{from:?} must occur once in the demo policy");
    DEMO_POLICY_DOCUMENT.replacen(from, to, 1)
}

fn line_of(document: &str, needle: &str) -> usize {
    document.lines().position(|l| l.contains(needle)).expect("needle in document") + 1
}

fn only_issue(document: &str) -> PolicyIssue {
    let err = Policy::from_toml(document).unwrap_err();
    assert_eq!(err.issues().len(), 1, "{err}");
    err.issues()[0].clone()
}

#[test]
fn the_demo_policy_is_step_ones_behaviour() {
    let p = Policy::demo();
    assert_eq!(p.version, "demo-1");
    assert_eq!(
        p.weights,
        Weights { needs_covered: 0.6, language_match: 0.25, capacity_remaining: 0.15, capacity_saturation: 5 }
    );
    assert_eq!(
        p.filters,
        Filters {
            service_active: true,
            youth_program: true,
            serves_site: true,
            age_eligible: true,
            open_capacity: Some(1),
            emergent_24_7: Some(vec![TriageTier::Emergent]),
            offers_needed_service: Some(1),
        }
    );
    assert_eq!(p.response_window(TriageTier::Emergent), Duration::minutes(90));
    assert_eq!(p.response_window(TriageTier::Urgent), Duration::hours(24));
    assert_eq!(p.response_window(TriageTier::Routine), Duration::hours(48));
    assert_eq!(p.response_window(TriageTier::Unspecified), Duration::hours(48));
}

#[test]
fn optional_parameters_default_to_the_least_strict() {
    let document = demo_with("minimum_open = 1\n", "").replace("tiers = [\"emergent\"]\n", "");
    let document = document.replace("minimum_needs_covered = 1\n", "");
    let p = Policy::from_toml(&document).unwrap();
    assert_eq!(p.filters.open_capacity, Some(1));
    assert_eq!(p.filters.emergent_24_7, Some(vec![TriageTier::Emergent]));
    assert_eq!(p.filters.offers_needed_service, Some(1));
}

#[test]
fn every_filter_can_be_disabled_and_then_passes_everyone() {
    let filters = [
        rule::SERVICE_ACTIVE,
        rule::YOUTH_PROGRAM,
        rule::SERVES_SITE,
        rule::AGE_ELIGIBLE,
        rule::OPEN_CAPACITY,
        rule::EMERGENT_24_7,
        rule::OFFERS_NEEDED_SERVICE,
    ];
    // Every hard filter but the structural "not offered before" is the policy's to switch.
    assert_eq!(filters.as_slice(), &rule::HARD_FILTERS[..filters.len()]);
    assert_eq!(rule::HARD_FILTERS[filters.len()..], [rule::NOT_OFFERED_BEFORE]);
    let mut directory = Directory::demo().unwrap();
    for org in &mut directory.organizations {
        org.in_network = false;
        for s in &mut org.services {
            s.capacity.iter_mut().for_each(|c| c.available = 0);
        }
    }
    let facts = ReferralFacts {
        referral_id: "ref_0192f1c4d5e67a8b9c0d1e2f3a4b5c6d".into(),
        site: Site::SouthLosAngeles,
        triage_tier: TriageTier::Emergent,
        needs: vec!["childcare".into()],
        preferred_language: String::new(),
        is_minor: true,
        age_years: Some(8),
        outside_youth_program: false,
        practice: false,
        already_offered: Vec::new(),
    };
    let now = Utc.timestamp_opt(1_790_000_000, 0).unwrap();
    for filter in filters {
        let header = format!("[filters.{filter}]\nenabled = true");
        let document = demo_with(&header, &header.replace("true", "false"));
        let policy = Policy::from_toml(&document).unwrap();
        let decision = decide_with(&policy, &directory, &facts, now);
        for candidate in &decision.candidates {
            let v = candidate.verdicts.iter().find(|v| v.rule_id == filter).unwrap();
            assert_eq!((v.verdict, &*v.detail.to_string()), (Verdict::NotApplicable, "disabled by policy"), "{filter}");
        }
    }
    // With every filter off, everyone is eligible and the best score wins.
    let mut document = DEMO_POLICY_DOCUMENT.to_owned();
    for filter in filters {
        let header = format!("[filters.{filter}]\nenabled = true");
        document = document.replace(&header, &header.replace("true", "false"));
    }
    let policy = Policy::from_toml(&document).unwrap();
    let decision = decide_with(&policy, &directory, &facts, now);
    assert!(decision.candidates.iter().all(|c| c.eligible));
    assert!(decision.chosen.is_some());
}

#[test]
fn weights_and_deadlines_change_the_decision() {
    let document = demo_with("emergent_minutes = 90", "emergent_minutes = 30")
        .replace("language_match = 0.25", "language_match = 5.0");
    let p = Policy::from_toml(&document).unwrap();
    assert_eq!(p.response_window(TriageTier::Emergent), Duration::minutes(30));
    assert_eq!(p.weights.language_match, 5.0);
}

#[test]
fn a_bad_value_names_its_line_and_rule() {
    let document = demo_with("minimum_open = 1", "minimum_open = 0");
    let issue = only_issue(&document);
    assert_eq!(issue.line, line_of(&document, "minimum_open = 0"));
    assert_eq!(issue.rule, "open_capacity");
    assert_eq!(issue.message, "minimum_open is 0; allowed 1 to 1000");
    assert_eq!(
        issue.to_string(),
        format!("line {}, rule open_capacity: minimum_open is 0; allowed 1 to 1000", issue.line)
    );

    let document = demo_with("tiers = [\"emergent\"]", "tiers = [\"emergent\", \"soon\"]");
    let issue = only_issue(&document);
    assert_eq!((issue.line, issue.rule.as_str()), (line_of(&document, "\"soon\""), "emergent_24_7"));
    assert!(issue.message.contains("\"soon\""), "{issue}");

    let document = demo_with("needs_covered = 0.6", "needs_covered = -1.0");
    let issue = only_issue(&document);
    assert_eq!((issue.line, issue.rule.as_str()), (line_of(&document, "needs_covered = -1.0"), "weights"));
    assert_eq!(issue.message, "needs_covered is -1; allowed 0 to 100");

    let document = demo_with("version = \"demo-1\"", "version = \"demo 1!\"");
    let issue = only_issue(&document);
    assert_eq!((issue.line, issue.rule.as_str()), (line_of(&document, "version ="), "version"));
}

#[test]
fn every_problem_is_reported_at_once() {
    let document = demo_with("capacity_saturation = 5", "capacity_saturation = 0")
        .replace("routine_minutes = 2880", "routine_minutes = 0")
        .replace("minimum_needs_covered = 1", "minimum_needs_covered = 40");
    let err = Policy::from_toml(&document).unwrap_err();
    let rules: Vec<&str> = err.issues().iter().map(|i| i.rule.as_str()).collect();
    assert_eq!(rules, vec!["deadlines", "offers_needed_service", "weights"], "{err}");
}

#[test]
fn deadlines_may_not_shorten_as_urgency_falls() {
    let document = demo_with("urgent_minutes = 1440", "urgent_minutes = 60");
    let issue = only_issue(&document);
    assert_eq!((issue.line, issue.rule.as_str()), (line_of(&document, "urgent_minutes"), "deadlines"));
}

#[test]
fn syntax_errors_unknown_fields_and_missing_rules_name_line_and_rule() {
    let document = demo_with("minimum_open = 1", "minimum_opne = 1");
    let issue = only_issue(&document);
    assert_eq!((issue.line, issue.rule.as_str()), (line_of(&document, "minimum_opne"), "open_capacity"));
    assert!(issue.message.contains("unknown field `minimum_opne`"), "{issue}");

    let document = demo_with("[filters.age_eligible]\nenabled = true\n", "");
    let issue = only_issue(&document);
    assert!(issue.message.contains("missing field `age_eligible`"), "{issue}");
    assert!(issue.line > 0, "{issue}");

    let document = demo_with("enabled = true\n# Open places", "enabled = yes\n# Open places");
    let issue = only_issue(&document);
    assert_eq!((issue.line, issue.rule.as_str()), (line_of(&document, "enabled = yes"), "open_capacity"));
}
