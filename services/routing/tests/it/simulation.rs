//! `wayfinder routing simulate` below the command line: the demo data set's referrals
//! are routed and stored with their facts, then replayed under a candidate policy.

use chrono::{Duration, Utc};
use wf_events::EventHandler;
use wf_proto::common::v1::{Site, TriageTier};
use wf_proto::events::v1::ReferralReceived;
use wf_routing::domain::DEMO_POLICY_DOCUMENT;
use wf_routing::{Directory, Policy};
use wf_types::ReferralId;

use wf_testkit::{Engine, both_engines};

use crate::harness::Harness;
use crate::received;

/// The coded facts of the twelve demo referrals of `services/wayfinder/src/demo.rs`
/// (same sites, tiers, needs and languages by index).
fn demo_referrals() -> Vec<ReferralReceived> {
    const SITES: [Site; 3] = [Site::SouthLosAngeles, Site::SouthLosAngeles, Site::SanFernandoValley];
    const TIERS: [TriageTier; 3] = [TriageTier::Routine, TriageTier::Urgent, TriageTier::Emergent];
    const NEEDS: [&[&str]; 4] = [
        &["emergency_shelter", "victim_advocacy"],
        &["mental_health", "education"],
        &["medical_dental", "intensive_case_management"],
        &["other_legal", "employment_training"],
    ];
    (1..=12usize)
        .map(|n| {
            let age = 2026 - (2004 + (n as i32 % 9));
            ReferralReceived {
                referral_id: ReferralId::generate().to_string(),
                triage_tier: TIERS[n % 3] as i32,
                site: SITES[n % 3] as i32,
                needs: NEEDS[n % 4].iter().map(|s| (*s).to_owned()).collect(),
                preferred_language: if n % 3 == 0 { "es" } else { "en" }.into(),
                age_years: age,
                is_minor: age < 18,
                practice: true,
                ..Default::default()
            }
        })
        .collect()
}

async fn simulation_reports_what_a_candidate_policy_changes_on_the_demo_data(engine: Engine) {
    let h = Harness::start(engine).await;
    for event in demo_referrals() {
        h.handler.handle(received(&event)).await.unwrap();
    }
    let directory = Directory::demo().unwrap();
    let now = Utc::now();
    let since = now - Duration::days(30);
    let demo = Policy::demo();

    let unchanged =
        wf_routing::report_from_store(&h.db, &directory, &demo, &demo, since, now, "in the last 30d").await.unwrap();
    assert!(unchanged.contains("Replayed 12 referrals in the last 30d."), "{unchanged}");
    assert!(unchanged.contains("Decisions that change: 0 of 12 (0.0%)."), "{unchanged}");

    // The candidate insists that a service cover both of a referral's needs.
    let document = DEMO_POLICY_DOCUMENT
        .replace("version = \"demo-1\"", "version = \"both-needs-1\"")
        .replace("minimum_needs_covered = 1", "minimum_needs_covered = 2");
    let candidate = Policy::from_toml(&document).unwrap();
    let report = wf_routing::report_from_store(&h.db, &directory, &demo, &candidate, since, now, "in the last 30d")
        .await
        .unwrap();
    println!("{report}");
    assert!(report.contains("candidate \"both-needs-1\" against \"demo-1\" (in force)"), "{report}");
    assert!(!report.contains("Decisions that change: 0 of 12"), "{report}");
    assert!(report.contains("From → to (referrals):"), "{report}");
    assert!(report.contains("offers_needed_service"), "{report}");
    assert!(report.contains("Why, referral by referral"), "{report}");
    // Only a window's referrals are replayed.
    let none = wf_routing::report_from_store(&h.db, &directory, &demo, &candidate, now, now, "from now").await.unwrap();
    assert!(none.contains("Replayed 0 referrals from now."), "{none}");
    h.finish().await;
}

both_engines!(
    simulation_reports_what_a_candidate_policy_changes_on_the_demo_data,
    simulation_reports_what_a_candidate_policy_changes_on_the_demo_data
);
