//! A synthetic cohort with planted effects, for the demo, the tests and the
//! planted-effect benchmark. Everyone in it is generated; nothing is about real people.
//!
//! Each youth (in this order of draws, so a seed always gives the same cohort):
//! 1. participation is mandated with probability `mandated_share`, else voluntary;
//! 2. age first exploited is uniform on `age_first_exploited` (whole years);
//! 3. each planted intervention is taken up with probability `uptake_mandated` or
//!    `uptake_voluntary`, starting on a whole day uniform on 0..=`latest_start_day`;
//! 4. the time to the first event follows a piecewise-constant hazard:
//!    `baseline_events_per_year`/365 × `mandated_hazard_ratio` (if mandated) ×
//!    `age_hazard_ratio_per_year`^(age − 14), multiplied by an intervention's
//!    `hazard_ratio` from its start day on (a service helps only once it has begun);
//! 5. the event's kind is drawn from `event_kinds` (the planted hazard ratios apply
//!    to every kind's cause-specific hazard alike);
//! 6. loss to follow-up happens at an exponential time with `retained_at_one_year`
//!    still in contact after 365 days, and the study ends (administrative
//!    censoring) `study_days` after the first enrollment, enrollment being uniform
//!    over the first `accrual_days`.
//!
//! Follow-up ends at the first of event, loss and study end, rounded up to a whole
//! day (at least 1). Interventions that would have started after follow-up ended are
//! not recorded. Mandated participation raises both the uptake of some
//! interventions and the baseline risk, so it confounds a naive comparison: models
//! must adjust for it to recover the planted hazard ratios.

use serde::Serialize;

use crate::StatsError;
use crate::bootstrap::SplitMix64;

/// The kinds of event that end event-free follow-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    ReExploitation,
    ReArrest,
    ReturnToTrafficker,
    RunningAway,
}

impl EventKind {
    pub const ALL: [EventKind; 4] =
        [EventKind::ReExploitation, EventKind::ReArrest, EventKind::ReturnToTrafficker, EventKind::RunningAway];

    pub fn as_str(&self) -> &'static str {
        match self {
            EventKind::ReExploitation => "re_exploitation",
            EventKind::ReArrest => "re_arrest",
            EventKind::ReturnToTrafficker => "return_to_trafficker",
            EventKind::RunningAway => "running_away",
        }
    }

    /// 1-based code for [`crate::competing::cumulative_incidence`] (0 is censoring).
    pub fn code(&self) -> u32 {
        match self {
            EventKind::ReExploitation => 1,
            EventKind::ReArrest => 2,
            EventKind::ReturnToTrafficker => 3,
            EventKind::RunningAway => 4,
        }
    }

    /// The components of the primary outcome, recidivism (DOMAIN.md "Outcomes").
    pub fn is_recidivism(&self) -> bool {
        !matches!(self, EventKind::RunningAway)
    }
}

/// How follow-up ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "ending", content = "kind")]
pub enum Ending {
    Event(EventKind),
    /// Censored at the last contact.
    LostToFollowUp,
    /// Censored when the study ended.
    StudyEnd,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlantedIntervention {
    /// A service type code (e.g. from `wf_types::codes::SERVICE_TYPES`).
    pub service_type: String,
    pub uptake_voluntary: f64,
    pub uptake_mandated: f64,
    /// Start days are uniform on 0..=latest_start_day.
    pub latest_start_day: u32,
    /// Multiplies the hazard from the start day on.
    pub hazard_ratio: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CohortSpec {
    pub youth: usize,
    pub mandated_share: f64,
    pub mandated_hazard_ratio: f64,
    /// Event rate for a voluntary 14-year-old (age first exploited) with no intervention.
    pub baseline_events_per_year: f64,
    /// Inclusive range of age first exploited, in years.
    pub age_first_exploited: (u32, u32),
    pub age_hazard_ratio_per_year: f64,
    pub interventions: Vec<PlantedIntervention>,
    /// Kinds with their shares of events (normalized; zero shares allowed).
    pub event_kinds: Vec<(EventKind, f64)>,
    /// Share still in contact after 365 days, loss aside from events (about 0.7 in comparable programs).
    pub retained_at_one_year: f64,
    pub accrual_days: u32,
    pub study_days: u32,
}

impl CohortSpec {
    /// A cohort shaped like the pilot's: case management (planted hazard ratio 0.6)
    /// taken up more often by mandated youth, mental health care (0.8), transitional
    /// housing (no effect); mandated participation doubles the baseline risk.
    pub fn pilot_like(youth: usize) -> CohortSpec {
        let intervention = |service_type: &str, voluntary: f64, mandated: f64, hazard_ratio: f64| PlantedIntervention {
            service_type: service_type.to_owned(),
            uptake_voluntary: voluntary,
            uptake_mandated: mandated,
            latest_start_day: 60,
            hazard_ratio,
        };
        CohortSpec {
            youth,
            mandated_share: 0.4,
            mandated_hazard_ratio: 2.0,
            baseline_events_per_year: 0.45,
            age_first_exploited: (11, 17),
            age_hazard_ratio_per_year: 0.92,
            interventions: vec![
                intervention("intensive_case_management", 0.45, 0.8, 0.6),
                intervention("mental_health", 0.4, 0.5, 0.8),
                intervention("transitional_housing", 0.3, 0.2, 1.0),
            ],
            event_kinds: vec![
                (EventKind::ReExploitation, 0.45),
                (EventKind::ReArrest, 0.25),
                (EventKind::ReturnToTrafficker, 0.15),
                (EventKind::RunningAway, 0.15),
            ],
            retained_at_one_year: 0.7,
            accrual_days: 365,
            study_days: 1095,
        }
    }

    fn validate(&self) -> Result<(), StatsError> {
        let share = |name: &str, v: f64| {
            if (0.0..=1.0).contains(&v) {
                Ok(())
            } else {
                Err(StatsError::Data(format!("{name} {v} is not allowed: it must be between 0 and 1")))
            }
        };
        let positive = |name: &str, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(StatsError::Data(format!("{name} {v} is not allowed: it must be a positive number")))
            }
        };
        share("mandated_share", self.mandated_share)?;
        positive("mandated_hazard_ratio", self.mandated_hazard_ratio)?;
        positive("baseline_events_per_year", self.baseline_events_per_year)?;
        positive("age_hazard_ratio_per_year", self.age_hazard_ratio_per_year)?;
        if self.age_first_exploited.0 > self.age_first_exploited.1 {
            return Err(StatsError::Data(format!(
                "age_first_exploited {:?} is not allowed: the first bound must not exceed the second",
                self.age_first_exploited
            )));
        }
        for (k, i) in self.interventions.iter().enumerate() {
            share(&format!("interventions[{k}].uptake_voluntary"), i.uptake_voluntary)?;
            share(&format!("interventions[{k}].uptake_mandated"), i.uptake_mandated)?;
            positive(&format!("interventions[{k}].hazard_ratio"), i.hazard_ratio)?;
        }
        if self.event_kinds.iter().any(|(_, s)| !(s.is_finite() && *s >= 0.0))
            || self.event_kinds.iter().map(|(_, s)| s).sum::<f64>() <= 0.0
        {
            return Err(StatsError::Data(
                "event_kinds is not allowed: shares must be ≥ 0 with at least one positive".into(),
            ));
        }
        if !(self.retained_at_one_year > 0.0 && self.retained_at_one_year <= 1.0) {
            return Err(StatsError::Data(format!(
                "retained_at_one_year {} is not allowed: it must be in (0, 1]",
                self.retained_at_one_year
            )));
        }
        if self.accrual_days >= self.study_days {
            return Err(StatsError::Data(format!(
                "accrual_days {} is not allowed: enrollment must end before the study does ({} days)",
                self.accrual_days, self.study_days
            )));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SyntheticIntervention {
    pub service_type: String,
    pub start_day: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SyntheticYouth {
    /// A generated study id (`synth-00001`…), not derived from anything.
    pub study_id: String,
    pub mandated: bool,
    pub age_first_exploited: u32,
    /// Interventions that began during follow-up, in the order of the spec.
    pub interventions: Vec<SyntheticIntervention>,
    /// Days from intake to the end of event-free follow-up (≥ 1).
    pub days: f64,
    pub ending: Ending,
}

impl SyntheticYouth {
    /// The start day of `service_type`, if it began.
    pub fn start_day(&self, service_type: &str) -> Option<f64> {
        self.interventions.iter().find(|i| i.service_type == service_type).map(|i| f64::from(i.start_day))
    }

    /// Follow-up ended with a recidivism event (any kind but running away).
    pub fn recidivism(&self) -> bool {
        matches!(self.ending, Ending::Event(kind) if kind.is_recidivism())
    }

    /// 0 when censored, else the event kind's code (for competing-risks analysis).
    pub fn outcome_code(&self) -> u32 {
        match self.ending {
            Ending::Event(kind) => kind.code(),
            _ => 0,
        }
    }
}

/// Draws the cohort described by `spec`; the same seed gives the same cohort.
pub fn generate(spec: &CohortSpec, seed: u64) -> Result<Vec<SyntheticYouth>, StatsError> {
    spec.validate()?;
    let mut rng = SplitMix64::new(seed);
    let exponential = |rng: &mut SplitMix64| -(1.0 - rng.next_f64()).ln();
    let loss_rate = -spec.retained_at_one_year.ln() / 365.0;
    let kind_total: f64 = spec.event_kinds.iter().map(|(_, s)| s).sum();
    let (age_low, age_high) = spec.age_first_exploited;
    let mut cohort = Vec::with_capacity(spec.youth);
    for n in 0..spec.youth {
        let mandated = rng.next_f64() < spec.mandated_share;
        let age = age_low + rng.below(u64::from(age_high - age_low) + 1) as u32;
        let mut starts: Vec<(usize, u32)> = Vec::new();
        for (k, planted) in spec.interventions.iter().enumerate() {
            let uptake = if mandated { planted.uptake_mandated } else { planted.uptake_voluntary };
            let takes = rng.next_f64() < uptake;
            let day = rng.below(u64::from(planted.latest_start_day) + 1) as u32;
            if takes {
                starts.push((k, day));
            }
        }
        let mut rate = spec.baseline_events_per_year / 365.0
            * spec.age_hazard_ratio_per_year.powf(f64::from(age) - 14.0)
            * if mandated { spec.mandated_hazard_ratio } else { 1.0 };
        // Invert the cumulative hazard of the piecewise-constant rate.
        let mut by_day = starts.clone();
        by_day.sort_by_key(|&(k, day)| (day, k));
        let mut remaining = exponential(&mut rng);
        let mut at = 0.0;
        let mut event_time = f64::INFINITY;
        for &(k, day) in by_day.iter().chain(std::iter::once(&(usize::MAX, u32::MAX))) {
            let until = if k == usize::MAX { f64::INFINITY } else { f64::from(day) };
            let piece = rate * (until - at);
            if piece >= remaining {
                event_time = at + remaining / rate;
                break;
            }
            remaining -= piece;
            at = until;
            if k != usize::MAX {
                rate *= spec.interventions[k].hazard_ratio;
            }
        }
        let mut pick = rng.next_f64() * kind_total;
        let mut kind = spec.event_kinds[0].0;
        for &(k, share) in &spec.event_kinds {
            kind = k;
            if pick < share {
                break;
            }
            pick -= share;
        }
        let loss_time = if loss_rate > 0.0 { exponential(&mut rng) / loss_rate } else { f64::INFINITY };
        let enrolled = rng.next_f64() * f64::from(spec.accrual_days);
        let study_end = f64::from(spec.study_days) - enrolled;
        let (end, ending) = if event_time <= loss_time && event_time <= study_end {
            (event_time, Ending::Event(kind))
        } else if loss_time <= study_end {
            (loss_time, Ending::LostToFollowUp)
        } else {
            (study_end, Ending::StudyEnd)
        };
        let days = end.ceil().max(1.0);
        cohort.push(SyntheticYouth {
            study_id: format!("synth-{:05}", n + 1),
            mandated,
            age_first_exploited: age,
            interventions: starts
                .iter()
                .filter(|&&(_, day)| f64::from(day) < end)
                .map(|&(k, day)| SyntheticIntervention {
                    service_type: spec.interventions[k].service_type.clone(),
                    start_day: day,
                })
                .collect(),
            days,
            ending,
        });
    }
    Ok(cohort)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_cohort_and_plausible_shape() {
        let spec = CohortSpec::pilot_like(3000);
        let a = generate(&spec, 5).unwrap();
        assert_eq!(a, generate(&spec, 5).unwrap());
        assert_ne!(a, generate(&spec, 6).unwrap());
        let share = |f: &dyn Fn(&SyntheticYouth) -> bool| a.iter().filter(|y| f(y)).count() as f64 / a.len() as f64;
        assert!((share(&|y| y.mandated) - 0.4).abs() < 0.03);
        assert!(share(&|y| y.ending == Ending::LostToFollowUp) > 0.15);
        assert!(share(&|y| y.ending == Ending::StudyEnd) > 0.05);
        assert!(share(&|y| y.recidivism()) > 0.15);
        assert!(share(&|y| y.ending == Ending::Event(EventKind::RunningAway)) > 0.01);
        assert!(a.iter().all(|y| y.days >= 1.0 && y.days <= 1095.0 && (11..=17).contains(&y.age_first_exploited)));
        // No intervention is recorded as starting after follow-up ended.
        assert!(a.iter().all(|y| y.interventions.iter().all(|i| f64::from(i.start_day) < y.days)));
        assert!(spec.interventions.iter().all(|i| wf_types::codes::SERVICE_TYPES.contains(&i.service_type.as_str())));
    }

    #[test]
    fn mandated_youth_take_up_case_management_more_and_fail_sooner() {
        let cohort = generate(&CohortSpec::pilot_like(4000), 9).unwrap();
        let rate = |mandated: bool, f: &dyn Fn(&SyntheticYouth) -> bool| {
            let group: Vec<_> = cohort.iter().filter(|y| y.mandated == mandated).collect();
            group.iter().filter(|y| f(y)).count() as f64 / group.len() as f64
        };
        let has_icm = |y: &SyntheticYouth| y.start_day("intensive_case_management").is_some();
        assert!(rate(true, &has_icm) > rate(false, &has_icm) + 0.2);
        let early_event = |y: &SyntheticYouth| y.recidivism() && y.days <= 180.0;
        assert!(rate(true, &early_event) > rate(false, &early_event));
    }

    #[test]
    fn a_constant_hazard_without_censoring_has_the_planted_mean() {
        // No interventions, no loss, a long study: days are exponential with mean 365/rate.
        let spec = CohortSpec {
            youth: 20_000,
            mandated_share: 0.0,
            baseline_events_per_year: 2.0,
            age_first_exploited: (14, 14),
            interventions: vec![],
            retained_at_one_year: 1.0,
            accrual_days: 1,
            study_days: 100_000,
            ..CohortSpec::pilot_like(0)
        };
        let cohort = generate(&spec, 1).unwrap();
        let mean = cohort.iter().map(|y| y.days).sum::<f64>() / cohort.len() as f64;
        // Rounding up adds about half a day.
        assert!((mean - (182.5 + 0.5)).abs() < 5.0, "{mean}");
        assert!(cohort.iter().all(|y| matches!(y.ending, Ending::Event(_))));
    }

    #[test]
    fn rejects_impossible_specs_naming_the_field() {
        let mut spec = CohortSpec::pilot_like(10);
        spec.interventions[1].uptake_mandated = 1.5;
        assert_eq!(
            generate(&spec, 1).unwrap_err().to_string(),
            "interventions[1].uptake_mandated 1.5 is not allowed: it must be between 0 and 1"
        );
        let spec = CohortSpec { accrual_days: 2000, ..CohortSpec::pilot_like(10) };
        assert!(generate(&spec, 1).unwrap_err().to_string().starts_with("accrual_days 2000"));
    }
}
