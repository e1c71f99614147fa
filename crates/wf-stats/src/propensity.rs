//! Propensity scores and inverse-probability weights, with balance diagnostics.
//!
//! The evaluation compares youth whose participation was mandated with those who
//! came voluntarily (or, generally, any two groups that differ in who joins them).
//! A logistic model of group membership on the baseline covariates gives each
//! person's propensity e = P(group | x); weighting the first group by P(group)/e
//! and the second by P(other)/(1 − e) (stabilized weights, Robins, Hernán &
//! Brumback 2000) makes both groups resemble the whole cohort on those
//! covariates. Unstabilized weights are 1/e and 1/(1 − e).
//!
//! Extreme propensities give a few people huge weights. Optional truncation
//! bounds each propensity into [trim, 1 − trim] before weighting (every person
//! stays in the analysis; their weight is capped); how many were bounded is
//! reported.
//!
//! Balance is judged by the standardized mean difference of each covariate,
//! (mean₁ − mean₀) / √((s₁² + s₀²)/2), before weighting and after (weighted
//! means); the denominator is the unweighted pooled standard deviation in both
//! so that the two are on one scale (Austin & Stuart 2015). |SMD| < 0.1 is the
//! usual mark of balance. The effective sample size of each weighted group is
//! Kish's (Σw)² / Σw².

use serde::Serialize;

use crate::logit::{LogitData, LogitFit, LogitOptions, logit_fit};
use crate::{StatsError, validate};

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PropensityOptions {
    /// Weight by P(group)/e rather than 1/e.
    pub stabilized: bool,
    /// Bound propensities into [trim, 1 − trim] (e.g. 0.01); None leaves them as fitted.
    pub trim: Option<f64>,
}

impl Default for PropensityOptions {
    fn default() -> Self {
        Self { stabilized: true, trim: None }
    }
}

/// One covariate's standardized mean difference before and after weighting.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Balance {
    /// Column index in the covariate matrix.
    pub covariate: usize,
    pub smd_before: f64,
    pub smd_after: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Propensity {
    /// The propensity model (intercept first, then the covariates).
    pub model: LogitFit,
    /// e = P(in the group | x) per person, after truncation when requested.
    pub scores: Vec<f64>,
    pub weights: Vec<f64>,
    /// How many propensities were moved to a bound by truncation.
    pub truncated: usize,
    pub balance: Vec<Balance>,
    pub effective_size_in_group: f64,
    pub effective_size_out_of_group: f64,
}

/// Fits the propensity of `in_group` given the n × p covariates `x` (row by row) and
/// returns per-person weights with balance diagnostics on the same covariates.
pub fn propensity_weights(
    in_group: &[bool],
    x: &[f64],
    covariates: usize,
    options: &PropensityOptions,
) -> Result<Propensity, StatsError> {
    let n = in_group.len();
    validate::covariates(x, n, covariates)?;
    if covariates == 0 {
        return Err(StatsError::Data(
            "the propensity model needs at least one covariate: without any, everyone's propensity is the same".into(),
        ));
    }
    if let Some(trim) = options.trim
        && !(trim > 0.0 && trim < 0.5)
    {
        return Err(StatsError::Data(format!(
            "trim {trim} is not allowed: it must be strictly between 0 and 0.5 (e.g. 0.01)"
        )));
    }
    let model = logit_fit(&LogitData { outcome: in_group, x, covariates, weights: None }, &LogitOptions::default())?;
    let beta: Vec<f64> = model.coefficients.iter().map(|c| c.coef).collect();
    let mut truncated = 0;
    let scores: Vec<f64> = x
        .chunks_exact(covariates)
        .map(|row| {
            let eta = beta[0] + row.iter().zip(&beta[1..]).map(|(a, b)| a * b).sum::<f64>();
            let e = 1.0 / (1.0 + (-eta).exp());
            match options.trim {
                Some(t) if e < t || e > 1.0 - t => {
                    truncated += 1;
                    e.clamp(t, 1.0 - t)
                }
                _ => e,
            }
        })
        .collect();
    let share = in_group.iter().filter(|&&g| g).count() as f64 / n as f64;
    let weights: Vec<f64> = scores
        .iter()
        .zip(in_group)
        .map(|(&e, &g)| {
            let numerator = match (options.stabilized, g) {
                (false, _) => 1.0,
                (true, true) => share,
                (true, false) => 1.0 - share,
            };
            if g { numerator / e } else { numerator / (1.0 - e) }
        })
        .collect();
    let balance = (0..covariates)
        .map(|k| {
            let column: Vec<f64> = x.chunks_exact(covariates).map(|row| row[k]).collect();
            Balance {
                covariate: k,
                smd_before: standardized_mean_difference(&column, in_group, None),
                smd_after: standardized_mean_difference(&column, in_group, Some(&weights)),
            }
        })
        .collect();
    let ess = |group: bool| {
        let (sum, squares) = weights
            .iter()
            .zip(in_group)
            .filter(|(_, g)| **g == group)
            .fold((0.0, 0.0), |(s, q), (w, _)| (s + w, q + w * w));
        if squares > 0.0 { sum * sum / squares } else { 0.0 }
    };
    let (effective_size_in_group, effective_size_out_of_group) = (ess(true), ess(false));
    Ok(Propensity { model, scores, weights, truncated, balance, effective_size_in_group, effective_size_out_of_group })
}

/// (mean in group − mean out of group) / pooled unweighted SD; means weighted when
/// `weights` are given. 0 when the covariate does not vary within either group; NaN when
/// either group is empty (there is nothing to compare).
pub fn standardized_mean_difference(values: &[f64], in_group: &[bool], weights: Option<&[f64]>) -> f64 {
    let stats = |group: bool, weighted: bool| {
        let (mut sum_w, mut sum, mut sum_sq, mut count) = (0.0, 0.0, 0.0, 0.0);
        for (i, (&v, &g)) in values.iter().zip(in_group).enumerate() {
            if g != group {
                continue;
            }
            let w = if weighted { weights.map_or(1.0, |w| w[i]) } else { 1.0 };
            sum_w += w;
            sum += w * v;
            sum_sq += v * v;
            count += 1.0;
        }
        let mean = sum / sum_w;
        let plain_mean: f64 =
            values.iter().zip(in_group).filter(|(_, g)| **g == group).map(|(v, _)| v).sum::<f64>() / count;
        let variance = if count > 1.0 { (sum_sq - count * plain_mean * plain_mean) / (count - 1.0) } else { 0.0 };
        (mean, variance.max(0.0))
    };
    if !in_group.iter().any(|&g| g) || in_group.iter().all(|&g| g) {
        return f64::NAN;
    }
    let (m1, v1) = stats(true, true);
    let (m0, v0) = stats(false, true);
    let sd = ((v1 + v0) / 2.0).sqrt();
    if sd > 0.0 { (m1 - m0) / sd } else { 0.0 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bootstrap::SplitMix64;

    /// Two confounders that raise the chance of being in the group.
    fn confounded(n: usize, seed: u64) -> (Vec<bool>, Vec<f64>) {
        let mut rng = SplitMix64::new(seed);
        let (mut g, mut x) = (Vec::new(), Vec::new());
        for _ in 0..n {
            let a = rng.next_f64() * 2.0 - 1.0;
            let b = f64::from(rng.next_f64() < 0.5);
            let eta = -0.3 + 1.2 * a + 0.8 * b;
            g.push(rng.next_f64() < 1.0 / (1.0 + (-eta).exp()));
            x.extend([a, b]);
        }
        (g, x)
    }

    #[test]
    fn weighting_balances_the_covariates() {
        let (g, x) = confounded(4000, 3);
        let p = propensity_weights(&g, &x, 2, &PropensityOptions::default()).unwrap();
        for b in &p.balance {
            assert!(b.smd_before.abs() > 0.2, "{b:?}");
            assert!(b.smd_after.abs() < 0.05, "{b:?}");
        }
        // Stabilized weights average about 1 in each group.
        for group in [true, false] {
            let w: Vec<f64> = p.weights.iter().zip(&g).filter(|(_, gg)| **gg == group).map(|(w, _)| *w).collect();
            let mean = w.iter().sum::<f64>() / w.len() as f64;
            assert!((mean - 1.0).abs() < 0.05, "{mean}");
            let ess = if group { p.effective_size_in_group } else { p.effective_size_out_of_group };
            assert!(ess < w.len() as f64 && ess > 0.5 * w.len() as f64, "{ess} of {}", w.len());
        }
        assert_eq!(p.truncated, 0);
    }

    #[test]
    fn unstabilized_weights_are_inverse_propensities_and_trimming_caps_them() {
        let (g, x) = confounded(500, 4);
        let plain = propensity_weights(&g, &x, 2, &PropensityOptions { stabilized: false, trim: None }).unwrap();
        for ((w, e), in_group) in plain.weights.iter().zip(&plain.scores).zip(&g) {
            let want = if *in_group { 1.0 / e } else { 1.0 / (1.0 - e) };
            assert!((w - want).abs() < 1e-12);
        }
        let trimmed = propensity_weights(&g, &x, 2, &PropensityOptions { stabilized: false, trim: Some(0.3) }).unwrap();
        assert!(trimmed.truncated > 0);
        assert!(trimmed.scores.iter().all(|&e| (0.3..=0.7).contains(&e)));
        assert!(trimmed.weights.iter().all(|&w| w <= 1.0 / 0.3 + 1e-12));
        let err = propensity_weights(&g, &x, 2, &PropensityOptions { stabilized: true, trim: Some(0.5) }).unwrap_err();
        assert!(err.to_string().starts_with("trim 0.5 is not allowed"));
    }

    #[test]
    fn smd_matches_the_hand_computation() {
        // Group: 1, 2, 3 (mean 2, var 1); others: 3, 5 (mean 4, var 2). SMD = −2/√1.5.
        let v = [1.0, 2.0, 3.0, 3.0, 5.0];
        let g = [true, true, true, false, false];
        assert!((standardized_mean_difference(&v, &g, None) + 2.0 / 1.5f64.sqrt()).abs() < 1e-12);
        // Weighting the 5 by 3 moves the outside mean to 4.5; the denominator stays.
        let w = [1.0, 1.0, 1.0, 1.0, 3.0];
        assert!((standardized_mean_difference(&v, &g, Some(&w)) + 2.5 / 1.5f64.sqrt()).abs() < 1e-12);
        assert!(standardized_mean_difference(&v, &[true; 5], None).is_nan());
        let err = propensity_weights(&g, &[], 0, &PropensityOptions::default()).unwrap_err();
        assert!(err.to_string().starts_with("the propensity model needs at least one covariate"));
    }
}
