//! A seeded synthetic cohort for the demo: generated, obviously fictional youth (study ids
//! `syn_…`) with planted effects, so the reports have something honest to show without touching
//! program data. Deterministic per (size, seed).
//!
//! Planted: mandated participation raises the baseline hazard (HR 1.6) and mental-health uptake
//! (confounding); mental health by day 90 lowers it (HR 0.6), support group / mentoring by day 90
//! (HR 0.75); about 30% are lost to follow-up (censored at last contact); entry is staggered so
//! observation ends between 200 and 730 days after intake.
//!
//! A local seam: when `wf_stats::synth` is available its cohort should feed [`YouthRow`]s here.

use wf_stats::bootstrap::SplitMix64;

use super::dataset::{Exposure, FollowUpState, Recidivism, YouthRow};

pub const MIN_SIZE: i32 = 50;
pub const MAX_SIZE: i32 = 10_000;

fn pick<'a>(rng: &mut SplitMix64, values: &[&'a str]) -> &'a str {
    values[rng.below(values.len() as u64) as usize]
}

fn chance(rng: &mut SplitMix64, p: f64) -> bool {
    rng.next_f64() < p
}

pub fn cohort(size: usize, seed: u64) -> Vec<YouthRow> {
    let mut rng = SplitMix64::new(seed);
    let mut rows = Vec::with_capacity(size);
    for i in 0..size {
        let mandated = chance(&mut rng, 0.4);
        let prior = if mandated {
            pick(&mut rng, &["court_ordered", "child_welfare_case_plan", "diversion"])
        } else {
            pick(&mut rng, &["voluntary", "voluntary", "none"])
        };
        let mut interventions = Vec::new();
        let mut offer = |rng: &mut SplitMix64, service_type: &str, p: f64| {
            if chance(rng, p) {
                let first_day = (rng.next_f64() * 150.0).floor();
                let deliveries = 1 + rng.below(12) as u32;
                interventions.push(Exposure {
                    service_type: service_type.to_owned(),
                    first_day,
                    deliveries,
                    units: f64::from(deliveries),
                });
            }
        };
        offer(&mut rng, "intensive_case_management", 0.9);
        offer(&mut rng, "mental_health", if mandated { 0.65 } else { 0.45 });
        offer(&mut rng, "support_group_mentoring", 0.4);
        offer(&mut rng, "transitional_housing", 0.3);
        interventions.sort_by(|a, b| a.service_type.cmp(&b.service_type));
        let by_90 = |t: &str| interventions.iter().any(|e| e.service_type == t && e.first_day <= 90.0);
        let mut hazard = 0.0012;
        if mandated {
            hazard *= 1.6;
        }
        if by_90("mental_health") {
            hazard *= 0.6;
        }
        if by_90("support_group_mentoring") {
            hazard *= 0.75;
        }
        let event_day = (-(1.0 - rng.next_f64()).ln() / hazard).max(1.0).round();
        let observed_days = 200.0 + (rng.next_f64() * 530.0).floor();
        let lost = chance(&mut rng, 0.3);
        let last_contact_day = if lost { 30.0 + (rng.next_f64() * 335.0).floor() } else { observed_days };
        let mut recidivism = Vec::new();
        if event_day <= last_contact_day.min(observed_days) {
            let kind = pick(&mut rng, &["re_exploitation", "re_exploitation", "re_arrest", "return_to_trafficker"]);
            recidivism.push(Recidivism { kind: kind.to_owned(), day: event_day });
        }
        let mut follow_ups = Vec::new();
        for (kind, due) in [("month_6", 360.0), ("month_12", 545.0)] {
            if observed_days >= due {
                let status = if lost || chance(&mut rng, 0.1) { "lost_to_follow_up" } else { "completed" };
                follow_ups.push(FollowUpState { kind: kind.to_owned(), status: status.to_owned() });
            }
        }
        let age_first = if chance(&mut rng, 0.85) { Some(11 + rng.below(7) as i32) } else { None };
        rows.push(YouthRow {
            study_id: format!("syn_{:016x}", rng.next_u64()),
            site: if chance(&mut rng, 0.83) { "south_los_angeles".into() } else { "san_fernando_valley".into() },
            referral_source: pick(
                &mut rng,
                &["hotline", "law_enforcement", "child_welfare", "juvenile_justice", "self", "outreach"],
            )
            .into(),
            engagement_approach: pick(
                &mut rng,
                &["survivor_mentor", "drop_in_center", "street_outreach", "medical_hub"],
            )
            .into(),
            triage_tier: pick(&mut rng, &["emergent", "urgent", "routine", "routine"]).into(),
            trafficking_type: pick(&mut rng, &["sex", "sex", "sex", "labor", "both"]).into(),
            age_band: pick(&mut rng, &["under_15", "15_17", "15_17", "18_20", "21_24"]).into(),
            quarter: format!("2026q{}", 1 + i % 4),
            prior_participation: prior.into(),
            participation: if mandated { "mandated".into() } else { "voluntary".into() },
            age_first_exploited_answer: if age_first.is_some() {
                "answered".into()
            } else {
                pick(&mut rng, &["client_doesnt_know", "client_prefers_not_to_answer", "missing"]).into()
            },
            age_first_exploited: age_first,
            former_ward_child_welfare: pick(&mut rng, &["yes", "no", "no", "client_doesnt_know"]).into(),
            former_ward_juvenile_justice: if mandated { pick(&mut rng, &["yes", "no"]) } else { "no" }.into(),
            any_income: pick(&mut rng, &["yes", "no", "no", "missing"]).into(),
            employed: pick(&mut rng, &["yes", "no", "no"]).into(),
            living_situation: pick(
                &mut rng,
                &[
                    "foster_care_home",
                    "host_home_non_crisis",
                    "place_not_meant_for_habitation",
                    "emergency_shelter",
                    "missing",
                ],
            )
            .into(),
            last_grade_completed: pick(
                &mut rng,
                &["grades_7_8", "grades_9_11", "grades_9_11", "grade_12", "ged", "client_doesnt_know"],
            )
            .into(),
            school_status: pick(
                &mut rng,
                &["attending_regularly", "attending_irregularly", "dropped_out", "suspended"],
            )
            .into(),
            ever_arrested: if mandated { "yes" } else { pick(&mut rng, &["yes", "no", "no"]) }.into(),
            arrests: if mandated { 1 + rng.below(4) as i32 } else { rng.below(2) as i32 },
            prostitution_arrests: if mandated { rng.below(2) as i32 } else { 0 },
            system_involvement: if mandated {
                vec!["probation_or_juvenile_justice".into()]
            } else {
                vec!["none".into()]
            },
            enrolled: chance(&mut rng, 0.85),
            assessment_overdue: chance(&mut rng, 0.05),
            interventions,
            follow_ups,
            exited_day: Some(180.0_f64.min(last_contact_day)),
            last_contact_day,
            observed_days,
            recidivism,
            returns: 0,
        });
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::outcome::first_recidivism;

    #[test]
    fn the_same_seed_gives_the_same_cohort() {
        assert_eq!(cohort(100, 7), cohort(100, 7));
        assert_ne!(cohort(100, 7), cohort(100, 8));
    }

    #[test]
    fn mandated_youth_have_more_recidivism() {
        let rows = cohort(4_000, 11);
        let rate = |group: &str| {
            let members: Vec<&YouthRow> = rows.iter().filter(|r| r.participation == group).collect();
            members.iter().filter(|r| first_recidivism(r, None).event).count() as f64 / members.len() as f64
        };
        assert!(rate("mandated") > rate("voluntary"));
        assert!(rows.iter().all(|r| r.study_id.starts_with("syn_")));
    }
}
