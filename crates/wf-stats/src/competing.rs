//! Cumulative incidence of one event kind in the presence of competing kinds
//! (the Aalen–Johansen estimator).
//!
//! With Ŝ the all-kinds Kaplan–Meier curve, nⱼ at risk and dⱼ events of any kind
//! at tⱼ, of which dₖⱼ of the kind of interest,
//! F̂ₖ(t) = Σ_{tⱼ ≤ t} Ŝ(tⱼ₋₁) dₖⱼ / nⱼ. Unlike 1 − KM with the other kinds
//! censored, this does not pretend that someone who had a competing event could
//! still have the one of interest, so the kinds' incidences add up to 1 − Ŝ.
//!
//! Variance: the delta-method (Greenwood-type) formula of Collett (2015, §12.2)
//! and SAS PROC LIFETEST that lifelines' `AalenJohansenFitter` uses:
//! Var F̂ₖ(t) = Σ_{tⱼ ≤ t} [ (F̂ₖ(t) − F̂ₖ(tⱼ))² dⱼ/(nⱼ(nⱼ − dⱼ))
//!              + Ŝ(tⱼ₋₁)² dₖⱼ (nⱼ − dₖⱼ)/nⱼ³ − 2 (F̂ₖ(t) − F̂ₖ(tⱼ)) Ŝ(tⱼ₋₁) dₖⱼ/nⱼ² ]
//! (a first term with nⱼ = dⱼ is left out, as in Greenwood's formula), with the
//! log(−log) interval exp(−exp(log(−log F̂) ± z SE / (F̂ |log F̂|))).
//!
//! lifelines jitters tied times of different kinds before fitting; here tied
//! times are handled exactly (all events at a time leave together), which is
//! what the formula above assumes and what R's `cmprsk`/`survival` do.

use serde::Serialize;

use crate::{StatsError, validate};

/// One distinct observed time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IncidenceRow {
    pub time: f64,
    pub at_risk: f64,
    /// Events of every kind at this time.
    pub events: f64,
    /// Events of the kind of interest at this time.
    pub kind_events: f64,
    pub censored: f64,
    pub incidence: f64,
    pub std_err: f64,
    pub ci_lower: f64,
    pub ci_upper: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CumulativeIncidence {
    pub kind: u32,
    pub confidence: f64,
    pub rows: Vec<IncidenceRow>,
}

impl CumulativeIncidence {
    /// F̂ₖ(t): the incidence at the last time ≤ t (0 before the first).
    pub fn incidence_at(&self, t: f64) -> f64 {
        let idx = self.rows.partition_point(|r| r.time <= t);
        idx.checked_sub(1).map_or(0.0, |i| self.rows[i].incidence)
    }
}

/// Fits the cumulative incidence of `kind`. `outcome[i]` is 0 for censoring at
/// `time[i]` and a positive number naming the kind of event that ended follow-up.
pub fn cumulative_incidence(
    time: &[f64],
    outcome: &[u32],
    kind: u32,
    confidence: f64,
) -> Result<CumulativeIncidence, StatsError> {
    let n = time.len();
    validate::same_length("outcome", n, outcome.len())?;
    validate::times(time)?;
    let z = crate::z_for(confidence)?;
    if kind == 0 {
        return Err(StatsError::Data("kind 0 means censored: name a positive event kind".into()));
    }
    if n == 0 {
        return Err(StatsError::Data("no observations: the incidence curve needs at least one".into()));
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| time[a].total_cmp(&time[b]));

    // First pass: the event table, Ŝ before each time and F̂ₖ at each time.
    struct Step {
        time: f64,
        at_risk: f64,
        events: f64,
        kind_events: f64,
        censored: f64,
        survival_before: f64,
        incidence: f64,
    }
    let mut steps = Vec::new();
    let (mut at_risk, mut survival, mut incidence) = (n as f64, 1.0, 0.0);
    let mut i = 0;
    while i < n {
        let t = time[order[i]];
        let (mut events, mut kind_events, mut censored) = (0.0, 0.0, 0.0);
        while i < n && time[order[i]] == t {
            match outcome[order[i]] {
                0 => censored += 1.0,
                k => {
                    events += 1.0;
                    if k == kind {
                        kind_events += 1.0;
                    }
                }
            }
            i += 1;
        }
        let survival_before = survival;
        incidence += survival_before * kind_events / at_risk;
        survival *= 1.0 - events / at_risk;
        steps.push(Step { time: t, at_risk, events, kind_events, censored, survival_before, incidence });
        at_risk -= events + censored;
    }

    // Second pass: the variance at each time, with the sums over earlier times kept as
    // polynomials in F̂ₖ(t) so the whole curve costs O(m):
    // Σ a (F − b)² = A₂F² − 2A₁F + A₀ and Σ c (F − b) = C₁F − C₀.
    let (mut a0, mut a1, mut a2, mut second, mut c0, mut c1) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
    let rows = steps
        .iter()
        .map(|s| {
            let (n, d, dk, f) = (s.at_risk, s.events, s.kind_events, s.incidence);
            if d > 0.0 && n > d {
                let a = d / (n * (n - d));
                a0 += a * f * f;
                a1 += a * f;
                a2 += a;
            }
            second += s.survival_before.powi(2) * dk * (n - dk) / n.powi(3);
            let c = s.survival_before * dk / (n * n);
            c0 += c * f;
            c1 += c;
            let variance = (a2 * f * f - 2.0 * a1 * f + a0) + second - 2.0 * (c1 * f - c0);
            let std_err = variance.max(0.0).sqrt();
            let (ci_lower, ci_upper) = log_log_interval(f, std_err, z);
            IncidenceRow {
                time: s.time,
                at_risk: n,
                events: d,
                kind_events: dk,
                censored: s.censored,
                incidence: f,
                std_err,
                ci_lower,
                ci_upper,
            }
        })
        .collect();
    Ok(CumulativeIncidence { kind, confidence, rows })
}

fn log_log_interval(f: f64, se: f64, z: f64) -> (f64, f64) {
    if f <= 0.0 {
        return (0.0, 0.0);
    }
    if f >= 1.0 {
        return (1.0, 1.0);
    }
    let centre = (-f.ln()).ln();
    let half = z * se / (f * f.ln().abs());
    let a = (-(centre + half).exp()).exp();
    let b = (-(centre - half).exp()).exp();
    (a.min(b), a.max(b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::km::kaplan_meier;

    #[test]
    fn kinds_add_up_to_one_minus_overall_survival() {
        let time = [1.0, 2.0, 2.0, 3.0, 4.0, 5.0, 5.0, 6.0, 7.0, 8.0];
        let outcome = [1, 2, 1, 0, 3, 1, 2, 0, 2, 1];
        let event: Vec<bool> = outcome.iter().map(|&o| o != 0).collect();
        let km = kaplan_meier(&time, &event, None, 0.95).unwrap();
        let curves: Vec<_> = (1..=3).map(|k| cumulative_incidence(&time, &outcome, k, 0.95).unwrap()).collect();
        for t in [0.5, 1.0, 2.0, 4.5, 5.0, 7.0, 8.0, 9.0] {
            let total: f64 = curves.iter().map(|c| c.incidence_at(t)).sum();
            assert!((total - (1.0 - km.survival_at(t))).abs() < 1e-12, "t = {t}");
        }
        // The first step: 1 of 10 has kind 1 at time 1.
        assert_eq!(curves[0].rows[0].incidence, 0.1);
        let r = &curves[0].rows[0];
        // Var at the first time: S(0)² d_k (n − d_k)/n³ = 9/1000 (first and third terms vanish).
        assert!((r.std_err - (0.009f64).sqrt()).abs() < 1e-15);
        assert!(r.ci_lower < 0.1 && 0.1 < r.ci_upper);
    }

    #[test]
    fn without_competing_kinds_it_is_one_minus_kaplan_meier() {
        let time = [3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0];
        let outcome = [1, 0, 1, 1, 0, 1, 1, 0];
        let event: Vec<bool> = outcome.iter().map(|&o| o == 1).collect();
        let km = kaplan_meier(&time, &event, None, 0.95).unwrap();
        let cif = cumulative_incidence(&time, &outcome, 1, 0.95).unwrap();
        for (row, k) in cif.rows.iter().zip(&km.rows) {
            assert!((row.incidence - (1.0 - k.survival)).abs() < 1e-12);
            // With one kind the delta-method variance is Greenwood's.
            assert!((row.std_err - k.std_err).abs() < 1e-12, "{} {}", row.std_err, k.std_err);
        }
    }

    #[test]
    fn rejects_censoring_as_the_kind_and_bad_lengths() {
        assert!(cumulative_incidence(&[1.0], &[1], 0, 0.95).unwrap_err().to_string().contains("kind 0"));
        assert!(cumulative_incidence(&[1.0, 2.0], &[1], 1, 0.95).is_err());
    }
}
