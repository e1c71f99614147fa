//! A seeded synthetic cohort for the demo: generated, obviously fictional youth (study ids
//! `syn_…`) with planted effects, so the reports have something honest to show without touching
//! program data. Deterministic per (size, seed).
//!
//! Times, participation, age first exploited, interventions and endings come from
//! `wf_stats::synth` with its pilot-like specification (mandated participation HR 2.0 and more
//! uptake — the confounder; intensive case management HR 0.6 and mental health HR 0.8 from their
//! start; about 70% still in contact at one year; staggered entry). The descriptive baseline codes
//! the generator does not model (site, source, education, …) are drawn here from a second stream of
//! the same seed and carry no effect.

use wf_stats::bootstrap::SplitMix64;
use wf_stats::synth::{CohortSpec, Ending, generate};

use std::collections::BTreeMap;

use super::dataset::{DOMAINS, Exposure, FollowUpDomains, FollowUpState, Recidivism, YouthRow};

pub const MIN_SIZE: i32 = 50;
pub const MAX_SIZE: i32 = 10_000;

fn pick<'a>(rng: &mut SplitMix64, values: &[&'a str]) -> &'a str {
    values[rng.below(values.len() as u64) as usize]
}

fn chance(rng: &mut SplitMix64, p: f64) -> bool {
    rng.next_f64() < p
}

pub fn cohort(size: usize, seed: u64) -> Vec<YouthRow> {
    // The pilot-like specification is valid by construction; an error would be a wf-stats bug.
    let generated = generate(&CohortSpec::pilot_like(size), seed).unwrap_or_default();
    let mut rng = SplitMix64::new(seed ^ 0x9e37_79b9_7f4a_7c15);
    // A third stream for what later versions added (HMIS codes, follow-up answers), so the codes
    // drawn above stay what they were for a given seed.
    let mut later = SplitMix64::new(seed ^ 0x6a09_e667_f3bc_c909);
    let mut rows = Vec::with_capacity(generated.len());
    for (i, youth) in generated.into_iter().enumerate() {
        let mandated = youth.mandated;
        let prior = if mandated {
            pick(&mut rng, &["court_ordered", "child_welfare_case_plan", "diversion"])
        } else {
            pick(&mut rng, &["voluntary", "voluntary", "none"])
        };
        let interventions = youth
            .interventions
            .iter()
            .map(|intervention| {
                let deliveries = 1 + rng.below(12) as u32;
                Exposure {
                    service_type: intervention.service_type.clone(),
                    first_day: f64::from(intervention.start_day),
                    deliveries,
                    units: f64::from(deliveries),
                }
            })
            .collect();
        // Follow-up ends at `days`; the as-of instant comes later for events and losses.
        let (recidivism, lost, observed_days) = match youth.ending {
            Ending::Event(kind) => (
                vec![Recidivism { kind: kind.as_str().to_owned(), day: youth.days }],
                false,
                youth.days + (rng.next_f64() * 400.0).floor(),
            ),
            Ending::LostToFollowUp => (Vec::new(), true, youth.days + 30.0 + (rng.next_f64() * 400.0).floor()),
            Ending::StudyEnd => (Vec::new(), false, youth.days),
        };
        let last_contact_day = youth.days;
        let mut follow_ups = Vec::new();
        for (kind, due) in [("month_6", 360.0), ("month_12", 545.0)] {
            if observed_days >= due {
                let status = if lost && last_contact_day < due { "lost_to_follow_up" } else { "completed" };
                follow_ups.push(FollowUpState { kind: kind.to_owned(), status: status.to_owned() });
            }
        }
        let mut row = YouthRow {
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
            age_first_exploited_answer: "answered".into(),
            age_first_exploited: i32::try_from(youth.age_first_exploited).ok(),
            former_ward_child_welfare: pick(&mut rng, &["yes", "no", "no", "client_doesnt_know"]).into(),
            former_ward_juvenile_justice: if mandated { pick(&mut rng, &["yes", "no"]) } else { "no" }.into(),
            any_income: pick(&mut rng, &["yes", "no", "no", "missing"]).into(),
            employed: pick(&mut rng, &["yes", "no", "no"]).into(),
            // The data set's codes (`LivingSituation`), so HMIS categories and labels find them.
            living_situation: pick(
                &mut rng,
                &["foster_care", "host_home", "place_not_meant_for_habitation", "emergency_shelter", "missing"],
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
            // The generator plants no missing episodes.
            missing_episodes: Vec::new(),
            follow_up_domains: Vec::new(),
            hmis_age_band: String::new(),
            exit_living_situation: String::new(),
        };
        row.hmis_age_band = match row.age_band.as_str() {
            "under_15" => pick(&mut later, &["5_12", "13_17", "13_17"]),
            "15_17" => "13_17",
            _ => "18_24",
        }
        .to_owned();
        if row.exited_day.is_some() {
            row.exit_living_situation = pick(
                &mut later,
                &[
                    "with_family_permanent",
                    "rental_with_subsidy",
                    "transitional_housing",
                    "emergency_shelter",
                    "data_not_collected",
                ],
            )
            .to_owned();
        }
        // Completed follow-ups carry coded answers (drawn, no planted effect), as program data does.
        row.follow_up_domains = row
            .follow_ups
            .iter()
            .filter(|f| f.status == "completed")
            .map(|f| FollowUpDomains { kind: f.kind.clone(), answers: answers(&mut later) })
            .collect();
        rows.push(row);
    }
    rows
}

/// Coded answers of one completed follow-up, one per long-term domain.
fn answers(rng: &mut SplitMix64) -> BTreeMap<String, String> {
    let no_yes = ["yes", "yes", "no", "client_doesnt_know"];
    DOMAINS
        .iter()
        .map(|domain| {
            let answer = match *domain {
                "living_situation" => {
                    pick(rng, &["with_family_permanent", "rental_with_subsidy", "host_home", "emergency_shelter"])
                }
                "school_status" => {
                    pick(rng, &["attending_regularly", "attending_irregularly", "graduated_high_school", "dropped_out"])
                }
                "legal_status" => pick(rng, &["not_applicable", "t_visa_applied", "t_visa_granted"]),
                _ => pick(rng, &no_yes),
            };
            ((*domain).to_owned(), answer.to_owned())
        })
        .collect()
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

    #[test]
    fn completed_follow_ups_have_answers_and_exits_a_destination() {
        let rows = cohort(400, 3);
        let completed = rows.iter().flat_map(|r| &r.follow_ups).filter(|f| f.status == "completed").count();
        let answered: usize = rows.iter().map(|r| r.follow_up_domains.len()).sum();
        assert!(completed > 0);
        assert_eq!(answered, completed);
        assert!(rows.iter().filter(|r| r.exited_day.is_some()).all(|r| !r.exit_living_situation.is_empty()));
        assert!(rows.iter().all(|r| ["5_12", "13_17", "18_24"].contains(&r.hmis_age_band.as_str())));
    }
}
