//! Kaplan–Meier product-limit estimate of the survival function.
//!
//! At each distinct time tⱼ with nⱼ at risk (just before tⱼ) and dⱼ events,
//! Ŝ(t) = ∏_{tⱼ ≤ t} (1 − dⱼ/nⱼ). Greenwood's variance is
//! Var Ŝ(t) = Ŝ(t)² Σ dⱼ / (nⱼ (nⱼ − dⱼ)) (Klein & Moeschberger, 2nd ed., §4.2).
//! The confidence interval is the log(−log) ("exponential Greenwood") one, which
//! stays inside [0, 1]: with v = log Ŝ and σ² = Σ dⱼ/(nⱼ(nⱼ − dⱼ)),
//! bounds = exp(−exp(log(−v) ± z σ / v)) — the convention of R's
//! `conf.type = "log-log"` and of lifelines' `KaplanMeierFitter`.
//!
//! Case weights, when given, replace counts by sums of weights (nⱼ, dⱼ become
//! weighted totals).

use serde::Serialize;

use crate::{StatsError, validate};

/// One distinct observed time (an event or a censoring).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KmRow {
    pub time: f64,
    /// Number (or weight) at risk just before `time`.
    pub at_risk: f64,
    pub events: f64,
    pub censored: f64,
    pub survival: f64,
    /// Greenwood standard error of the survival estimate.
    pub std_err: f64,
    pub ci_lower: f64,
    pub ci_upper: f64,
}

/// The estimate: one row per distinct time, ascending.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KaplanMeier {
    pub confidence: f64,
    pub subjects: f64,
    pub events: f64,
    pub rows: Vec<KmRow>,
}

impl KaplanMeier {
    /// Ŝ(t): the survival at the last distinct time ≤ t (1 before the first).
    pub fn survival_at(&self, t: f64) -> f64 {
        self.row_at(t).map_or(1.0, |r| r.survival)
    }

    /// The row in force at time t, if any time ≤ t was observed.
    pub fn row_at(&self, t: f64) -> Option<&KmRow> {
        let idx = self.rows.partition_point(|r| r.time <= t);
        idx.checked_sub(1).map(|i| &self.rows[i])
    }

    /// Number (or weight) at risk just before time t: those whose time is ≥ t.
    pub fn at_risk_at(&self, t: f64) -> f64 {
        let idx = self.rows.partition_point(|r| r.time < t);
        self.rows.get(idx).map_or(0.0, |r| r.at_risk)
    }
}

/// Fits the Kaplan–Meier estimate. `event[i]` is true for an observed event,
/// false for censoring at `time[i]`; `confidence` is e.g. 0.95.
pub fn kaplan_meier(
    time: &[f64],
    event: &[bool],
    weights: Option<&[f64]>,
    confidence: f64,
) -> Result<KaplanMeier, StatsError> {
    let n = time.len();
    validate::same_length("event", n, event.len())?;
    validate::times(time)?;
    let w = validate::weights(weights, n)?;
    let z = crate::z_for(confidence)?;
    if n == 0 {
        return Err(StatsError::Data("no observations: the survival curve needs at least one".into()));
    }

    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| time[a].total_cmp(&time[b]));

    let mut at_risk: f64 = w.iter().sum();
    let subjects = at_risk;
    let mut total_events = 0.0;
    let mut survival = 1.0;
    let mut greenwood = 0.0;
    let mut rows = Vec::new();
    let mut i = 0;
    while i < n {
        let t = time[order[i]];
        let (mut events, mut censored) = (0.0, 0.0);
        while i < n && time[order[i]] == t {
            let k = order[i];
            if event[k] {
                events += w[k];
            } else {
                censored += w[k];
            }
            i += 1;
        }
        if events > 0.0 {
            survival *= 1.0 - events / at_risk;
            let remaining = at_risk - events;
            // When everyone at risk has the event, Ŝ drops to 0 and the term is
            // infinite; it is left out (as lifelines does) and the interval is [0, 0].
            if remaining > 0.0 {
                greenwood += events / (at_risk * remaining);
            }
        }
        let (ci_lower, ci_upper) = log_log_interval(survival, greenwood, z);
        rows.push(KmRow {
            time: t,
            at_risk,
            events,
            censored,
            survival,
            std_err: survival * greenwood.sqrt(),
            ci_lower,
            ci_upper,
        });
        total_events += events;
        at_risk -= events + censored;
    }
    Ok(KaplanMeier { confidence, subjects, events: total_events, rows })
}

/// exp(−exp(log(−log S) ∓ z σ / log S)); degenerate at S = 1 (no information yet) and S = 0.
fn log_log_interval(survival: f64, greenwood: f64, z: f64) -> (f64, f64) {
    if survival >= 1.0 {
        return (1.0, 1.0);
    }
    if survival <= 0.0 {
        return (0.0, 0.0);
    }
    let v = survival.ln();
    let half_width = z * greenwood.sqrt() / v;
    let lower = (-((-v).ln() - half_width).exp()).exp();
    let upper = (-((-v).ln() + half_width).exp()).exp();
    (lower, upper)
}

#[cfg(test)]
mod tests {
    use super::*;

    // The classic 6-MP arm of Freireich et al. (Klein & Moeschberger table 4.1A).
    const SIX_MP_TIME: [f64; 21] =
        [6., 6., 6., 6., 7., 9., 10., 10., 11., 13., 16., 17., 19., 20., 22., 23., 25., 32., 32., 34., 35.];
    const SIX_MP_EVENT: [u8; 21] = [1, 1, 1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0];

    fn six_mp() -> KaplanMeier {
        let event: Vec<bool> = SIX_MP_EVENT.iter().map(|&e| e == 1).collect();
        kaplan_meier(&SIX_MP_TIME, &event, None, 0.95).unwrap()
    }

    #[test]
    fn reproduces_the_textbook_six_mp_curve() {
        let km = six_mp();
        // Klein & Moeschberger: Ŝ(6) = 0.857, Ŝ(7) = 0.807, Ŝ(10) = 0.753, Ŝ(23) = 0.448.
        assert!((km.survival_at(6.0) - 18.0 / 21.0).abs() < 1e-15);
        assert!((km.survival_at(7.0) - 18.0 / 21.0 * 16.0 / 17.0).abs() < 1e-15);
        assert!((km.survival_at(23.0) - 0.448_275_862_068_965_5).abs() < 1e-3);
        assert_eq!(km.at_risk_at(10.0), 15.0);
        assert_eq!(km.survival_at(5.9), 1.0);
        // Greenwood SE at t = 6: S sqrt(3 / (21·18)) = 0.0764.
        let row = km.row_at(6.0).unwrap();
        assert!((row.std_err - 18.0 / 21.0 * (3.0f64 / (21.0 * 18.0)).sqrt()).abs() < 1e-15);
        assert!(row.ci_lower < row.survival && row.survival < row.ci_upper && row.ci_upper < 1.0);
    }

    #[test]
    fn integer_weights_equal_repeated_rows() {
        let time = [1.0, 2.0, 2.0, 3.0, 4.0];
        let event = [true, false, true, true, false];
        let weights = [2.0, 1.0, 3.0, 1.0, 2.0];
        let weighted = kaplan_meier(&time, &event, Some(&weights), 0.95).unwrap();
        let (mut t2, mut e2) = (Vec::new(), Vec::new());
        for i in 0..time.len() {
            for _ in 0..weights[i] as usize {
                t2.push(time[i]);
                e2.push(event[i]);
            }
        }
        let repeated = kaplan_meier(&t2, &e2, None, 0.95).unwrap();
        assert_eq!(weighted, repeated);
    }

    #[test]
    fn everyone_failing_ends_at_zero_with_a_closed_interval() {
        let km = kaplan_meier(&[1.0, 2.0], &[true, true], None, 0.95).unwrap();
        let last = km.rows.last().unwrap();
        assert_eq!((last.survival, last.ci_lower, last.ci_upper), (0.0, 0.0, 0.0));
    }

    #[test]
    fn rejects_bad_input_naming_it() {
        let err = kaplan_meier(&[1.0, -2.0], &[true, true], None, 0.95).unwrap_err();
        assert_eq!(err.to_string(), "time at row 1 is -2: times must be finite and ≥ 0");
        let err = kaplan_meier(&[1.0], &[true, false], None, 0.95).unwrap_err();
        assert_eq!(err.to_string(), "event has 2 values but 1 were expected");
        let err = kaplan_meier(&[1.0], &[true], Some(&[0.0]), 0.95).unwrap_err();
        assert!(err.to_string().starts_with("weights at row 0"));
    }
}
