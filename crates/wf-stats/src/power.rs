//! What the data can and cannot show: Schoenfeld's power statement and the
//! "insufficient data" rule.
//!
//! For a two-group comparison by the log-rank test or a Cox coefficient, with a
//! share `allocation` of subjects in one group, a two-sided level α and power
//! 1 − β, the number of events needed to detect a hazard ratio HR is
//! D = (z_{1−α/2} + z_{1−β})² / (π(1 − π) (log HR)²) (Schoenfeld 1983). Solved the
//! other way, D events can detect |log HR| ≥ (z_{1−α/2} + z_{1−β}) / √(D π(1 − π)):
//! the smallest detectable hazard ratio below 1 is exp(−that) and above 1 exp(that).

use serde::Serialize;

use crate::{StatsError, dist};

/// The inputs and the answer, with a sentence a program manager can read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PowerStatement {
    pub events: f64,
    pub allocation: f64,
    pub alpha: f64,
    pub power: f64,
    /// The smallest protective effect detectable (a hazard ratio below 1).
    pub detectable_below: f64,
    /// The same effect the other way round (1 / detectable_below).
    pub detectable_above: f64,
    pub statement: String,
}

fn check(allocation: f64, alpha: f64, power: f64) -> Result<(f64, f64), StatsError> {
    if !(allocation > 0.0 && allocation < 1.0) {
        return Err(StatsError::Data(format!(
            "allocation {allocation} is not allowed: the share in one group must be strictly between 0 and 1"
        )));
    }
    if !(alpha > 0.0 && alpha < 1.0) {
        return Err(StatsError::Data(format!("alpha {alpha} is not allowed: it must be strictly between 0 and 1")));
    }
    if !(power > 0.0 && power < 1.0) {
        return Err(StatsError::Data(format!("power {power} is not allowed: it must be strictly between 0 and 1")));
    }
    Ok((dist::normal_quantile(1.0 - alpha / 2.0), dist::normal_quantile(power)))
}

/// Events needed to detect `hazard_ratio` (≠ 1) with the given allocation, α and power.
pub fn events_needed(hazard_ratio: f64, allocation: f64, alpha: f64, power: f64) -> Result<f64, StatsError> {
    let (za, zb) = check(allocation, alpha, power)?;
    if !(hazard_ratio > 0.0 && hazard_ratio.is_finite() && hazard_ratio != 1.0) {
        return Err(StatsError::Data(format!(
            "hazard ratio {hazard_ratio} is not allowed: it must be a positive number other than 1"
        )));
    }
    Ok((za + zb).powi(2) / (allocation * (1.0 - allocation) * hazard_ratio.ln().powi(2)))
}

/// The smallest hazard ratio `events` events can detect, as a statement.
pub fn detectable_hazard_ratio(
    events: f64,
    allocation: f64,
    alpha: f64,
    power: f64,
) -> Result<PowerStatement, StatsError> {
    let (za, zb) = check(allocation, alpha, power)?;
    if !(events.is_finite() && events >= 0.0) {
        return Err(StatsError::Data(format!("events {events} is not allowed: it must be a count ≥ 0")));
    }
    let (below, above) = if events > 0.0 {
        let log_hr = (za + zb) / (events * allocation * (1.0 - allocation)).sqrt();
        ((-log_hr).exp(), log_hr.exp())
    } else {
        (0.0, f64::INFINITY)
    };
    let statement = if events > 0.0 {
        format!(
            "with {events} events the smallest hazard ratio this data can detect is {below:.2} (or {above:.2} for \
             a harmful effect), with {:.0}% power at a two-sided significance level of {alpha} and {:.0}% of \
             subjects in the compared group",
            power * 100.0,
            allocation * 100.0
        )
    } else {
        "with no events this data cannot detect any effect".to_owned()
    };
    Ok(PowerStatement { events, allocation, alpha, power, detectable_below: below, detectable_above: above, statement })
}

/// When an estimate is too thin to report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SufficiencyRule {
    /// A group (bundle) needs at least this many subjects (20 in the evaluation plan).
    pub min_subjects: u64,
    /// …and at least this many events among them.
    pub min_events: u64,
}

impl Default for SufficiencyRule {
    fn default() -> Self {
        Self { min_subjects: 20, min_events: 5 }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "verdict", content = "reason")]
pub enum Sufficiency {
    Sufficient,
    /// "insufficient data", with the reason in words (counts only, never who).
    Insufficient(String),
}

/// Judges one group by its numbers of subjects and events.
pub fn sufficiency(subjects: u64, events: u64, rule: &SufficiencyRule) -> Sufficiency {
    if subjects < rule.min_subjects {
        Sufficiency::Insufficient(format!(
            "insufficient data: fewer than {} subjects (an estimate needs at least {})",
            rule.min_subjects, rule.min_subjects
        ))
    } else if events < rule.min_events {
        Sufficiency::Insufficient(format!(
            "insufficient data: fewer than {} events (an estimate needs at least {})",
            rule.min_events, rule.min_events
        ))
    } else {
        Sufficiency::Sufficient
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schoenfeld_textbook_numbers() {
        // HR 0.7, 1:1, α = 0.05, 80% power: 4 (1.959964 + 0.841621)² / (log 0.7)² = 246.79 events.
        let d = events_needed(0.7, 0.5, 0.05, 0.8).unwrap();
        assert!((d - 246.787).abs() < 1e-3, "{d}");
        // And back: that many events detect exactly 0.7.
        let s = detectable_hazard_ratio(d, 0.5, 0.05, 0.8).unwrap();
        assert!((s.detectable_below - 0.7).abs() < 1e-12);
        assert!((s.detectable_above - 1.0 / 0.7).abs() < 1e-12);
        // 40 events, 1:1: exp(−2.80158/√10) = 0.412.
        let s = detectable_hazard_ratio(40.0, 0.5, 0.05, 0.8).unwrap();
        assert!((s.detectable_below - 0.412_31).abs() < 1e-4, "{}", s.detectable_below);
        assert!(s.statement.starts_with("with 40 events the smallest hazard ratio this data can detect is 0.41"));
        // Unequal allocation needs more events.
        assert!(events_needed(0.7, 0.2, 0.05, 0.8).unwrap() > d);
    }

    #[test]
    fn bad_inputs_and_no_events() {
        assert!(events_needed(1.0, 0.5, 0.05, 0.8).is_err());
        assert!(detectable_hazard_ratio(10.0, 1.0, 0.05, 0.8).unwrap_err().to_string().starts_with("allocation 1"));
        let none = detectable_hazard_ratio(0.0, 0.5, 0.05, 0.8).unwrap();
        assert_eq!(none.detectable_below, 0.0);
        assert_eq!(none.statement, "with no events this data cannot detect any effect");
    }

    #[test]
    fn sufficiency_rule() {
        let rule = SufficiencyRule::default();
        assert_eq!(sufficiency(20, 5, &rule), Sufficiency::Sufficient);
        assert!(matches!(sufficiency(19, 12, &rule), Sufficiency::Insufficient(r) if r.contains("20 subjects")));
        assert!(matches!(sufficiency(50, 4, &rule), Sufficiency::Insufficient(r) if r.contains("5 events")));
    }
}
