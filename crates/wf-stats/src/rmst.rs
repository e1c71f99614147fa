//! Restricted mean survival time: the area under the Kaplan–Meier curve up to a
//! horizon τ, i.e. the expected event-free days within the first τ days.
//!
//! RMST(τ) = ∫₀^τ Ŝ(t) dt, exact for the step function (lifelines'
//! `restricted_mean_survival_time(kmf, t=τ)` gives the same value). Its variance is
//! the Greenwood-type one of Klein & Moeschberger (2nd ed., §4.5) and of R's
//! `print.survfit(rmean = τ)`: Var = Σ_{tⱼ ≤ τ} Aⱼ² dⱼ / (nⱼ (nⱼ − dⱼ)) with
//! Aⱼ = ∫_{tⱼ}^τ Ŝ(t) dt (terms with nⱼ = dⱼ are left out, as in Greenwood's
//! formula). Intervals are normal: estimate ± z·SE. (lifelines'
//! `return_variance=True` is the variance of min(T, τ) in the population, a
//! different quantity, so only the point value is compared with it.)

use serde::Serialize;

use crate::km::KaplanMeier;
use crate::{StatsError, dist};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rmst {
    /// The horizon τ.
    pub horizon: f64,
    pub estimate: f64,
    pub std_err: f64,
    pub ci_lower: f64,
    pub ci_upper: f64,
}

/// RMST up to `horizon` from a fitted curve, at the curve's confidence level.
/// The horizon must lie within the follow-up (at most the last observed time):
/// beyond it the curve, and so the area, is unknown.
pub fn restricted_mean(km: &KaplanMeier, horizon: f64) -> Result<Rmst, StatsError> {
    let last = km.rows.last().map_or(0.0, |r| r.time);
    if !(horizon.is_finite() && horizon > 0.0) {
        return Err(StatsError::Data(format!("horizon {horizon} is not allowed: it must be a positive number")));
    }
    if horizon > last {
        return Err(StatsError::Data(format!(
            "horizon {horizon} is beyond the last observed time {last}: the curve is unknown there; \
             choose a horizon within follow-up"
        )));
    }
    let z = crate::z_for(km.confidence)?;
    // Rows up to the horizon; the area between consecutive times uses the survival in force.
    let rows: Vec<_> = km.rows.iter().filter(|r| r.time <= horizon).collect();
    // tail[j] = ∫_{t_j}^τ Ŝ, built from the horizon backward.
    let mut tail = vec![0.0; rows.len()];
    let mut area_after = 0.0;
    for j in (0..rows.len()).rev() {
        let next = rows.get(j + 1).map_or(horizon, |r| r.time);
        area_after += rows[j].survival * (next - rows[j].time);
        tail[j] = area_after;
    }
    let first = rows.first().map_or(horizon, |r| r.time);
    let estimate = first + area_after; // Ŝ = 1 before the first time
    let variance: f64 = rows
        .iter()
        .zip(&tail)
        .filter(|(r, _)| r.events > 0.0 && r.at_risk > r.events)
        .map(|(r, a)| a * a * r.events / (r.at_risk * (r.at_risk - r.events)))
        .sum();
    let std_err = variance.sqrt();
    Ok(Rmst { horizon, estimate, std_err, ci_lower: estimate - z * std_err, ci_upper: estimate + z * std_err })
}

/// The difference of two independent groups' RMSTs (first minus second) at one horizon.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RmstDifference {
    pub horizon: f64,
    pub difference: f64,
    pub std_err: f64,
    pub z: f64,
    pub p_value: f64,
    pub ci_lower: f64,
    pub ci_upper: f64,
}

/// Compares two RMSTs computed at the same horizon (normal approximation).
pub fn difference(first: &Rmst, second: &Rmst, confidence: f64) -> Result<RmstDifference, StatsError> {
    if first.horizon != second.horizon {
        return Err(StatsError::Data(format!(
            "the RMSTs have different horizons ({} and {}): compare them at one horizon",
            first.horizon, second.horizon
        )));
    }
    let z_crit = crate::z_for(confidence)?;
    let difference = first.estimate - second.estimate;
    let std_err = (first.std_err.powi(2) + second.std_err.powi(2)).sqrt();
    let z = difference / std_err;
    Ok(RmstDifference {
        horizon: first.horizon,
        difference,
        std_err,
        z,
        p_value: dist::normal_two_sided_p(z),
        ci_lower: difference - z_crit * std_err,
        ci_upper: difference + z_crit * std_err,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::km::kaplan_meier;

    #[test]
    fn area_under_a_hand_computed_curve() {
        // Events at 2 and 4 among 4 people, a censoring at 3: S = 1 on [0,2), 3/4 on [2,4),
        // 3/4 · 1/2 = 3/8 from 4.
        let km = kaplan_meier(&[2.0, 3.0, 4.0, 6.0], &[true, false, true, false], None, 0.95).unwrap();
        let r = restricted_mean(&km, 5.0).unwrap();
        assert!((r.estimate - (2.0 + 0.75 * 2.0 + 0.375 * 1.0)).abs() < 1e-12);
        // A at t=4 is 0.375, at t=2 is 1.5 + 0.375; d/(n(n−d)) is 1/(4·3) and 1/(2·1).
        let var = 1.875f64.powi(2) / 12.0 + 0.375f64.powi(2) / 2.0;
        assert!((r.std_err - var.sqrt()).abs() < 1e-12);
        assert!((r.ci_upper - r.estimate - 1.959_963_984_540_054 * r.std_err).abs() < 1e-9);
        // Before the first event the area is the horizon itself, known exactly.
        let early = restricted_mean(&km, 1.5).unwrap();
        assert_eq!((early.estimate, early.std_err), (1.5, 0.0));
    }

    #[test]
    fn horizon_must_lie_within_follow_up() {
        let km = kaplan_meier(&[2.0, 3.0], &[true, false], None, 0.95).unwrap();
        assert!(restricted_mean(&km, 3.5).unwrap_err().to_string().contains("beyond the last observed time 3"));
        assert!(restricted_mean(&km, 0.0).is_err());
        let a = restricted_mean(&km, 3.0).unwrap();
        let b = restricted_mean(&km, 2.5).unwrap();
        assert!(difference(&a, &b, 0.95).unwrap_err().to_string().contains("different horizons"));
        let d = difference(&a, &a, 0.95).unwrap();
        assert_eq!(d.difference, 0.0);
    }
}
