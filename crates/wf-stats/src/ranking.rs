//! How sure are we which group (intervention bundle) is best?
//!
//! Groups enter a Cox model as indicator columns against a reference group (whose
//! log hazard ratio is 0 by definition), alongside any adjustment covariates. Rows
//! are resampled with replacement (seeded, [`crate::bootstrap`]), the model is
//! refitted on each resample, and the group with the lowest hazard ratio — the
//! fewest recidivism events, other things equal — "ranks first" in that resample.
//! The share of resamples in which each group ranks first is reported. Resamples on
//! which the model cannot be fitted (for example a group with no events, whose
//! coefficient is infinite) are counted, not replaced; the probabilities are over
//! the fitted ones.

use serde::Serialize;

use crate::StatsError;
use crate::bootstrap::bootstrap;
use crate::cox::{CoxData, CoxOptions, cox_fit};

/// The fewest resamples allowed: probabilities to two decimals need about this many.
pub const MIN_RESAMPLES: usize = 2000;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RankFirst {
    /// P(ranks first): the reference group first, then one per group column, in order.
    pub probability: Vec<f64>,
    pub resamples: usize,
    /// Resamples on which the model could not be fitted.
    pub failed: usize,
    pub seed: u64,
}

/// Bootstrap probability that each group ranks first. `group_columns` are the
/// covariate columns (0-based) holding the group indicators; the others are
/// adjustment covariates. Equal lowest hazard ratios share the resample equally.
pub fn rank_first(
    data: &CoxData<'_>,
    group_columns: &[usize],
    options: &CoxOptions,
    resamples: usize,
    seed: u64,
) -> Result<RankFirst, StatsError> {
    rank_first_at_least(data, group_columns, options, resamples, seed, MIN_RESAMPLES)
}

/// [`rank_first`] with another floor on resamples (the unit tests use fewer to stay quick).
fn rank_first_at_least(
    data: &CoxData<'_>,
    group_columns: &[usize],
    options: &CoxOptions,
    resamples: usize,
    seed: u64,
    min_resamples: usize,
) -> Result<RankFirst, StatsError> {
    if resamples < min_resamples {
        return Err(StatsError::Data(format!("{resamples} resamples are too few: use at least {min_resamples}")));
    }
    let n = data.time.len();
    let p = data.covariates;
    if group_columns.is_empty() {
        return Err(StatsError::Data("no group columns: name at least one indicator column".into()));
    }
    if let Some(&bad) = group_columns.iter().find(|&&c| c >= p) {
        return Err(StatsError::Data(format!("group column {bad} does not exist: there are {p} covariate columns")));
    }
    // The full-data fit checks the input once, with its own precise errors.
    cox_fit(data, options)?;
    let quiet = CoxOptions { robust: false, ..*options };
    let (mut time, mut event, mut x, mut w) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let out = bootstrap(n, resamples, seed, |idx| {
        time.clear();
        event.clear();
        x.clear();
        w.clear();
        for &i in idx {
            time.push(data.time[i]);
            event.push(data.event[i]);
            x.extend_from_slice(&data.x[i * p..(i + 1) * p]);
            if let Some(weights) = data.weights {
                w.push(weights[i]);
            }
        }
        let resample =
            CoxData { time: &time, event: &event, x: &x, covariates: p, weights: data.weights.map(|_| w.as_slice()) };
        let fit = cox_fit(&resample, &quiet).ok()?;
        let log_hr: Vec<f64> =
            std::iter::once(0.0).chain(group_columns.iter().map(|&c| fit.coefficients[c].coef)).collect();
        let best = log_hr.iter().copied().fold(f64::INFINITY, f64::min);
        let winners: Vec<usize> = (0..log_hr.len()).filter(|&g| log_hr[g] == best).collect();
        let mut share = vec![0.0; log_hr.len()];
        for &g in &winners {
            share[g] = 1.0 / winners.len() as f64;
        }
        Some(share)
    });
    let fitted = out.values.len();
    if fitted == 0 {
        return Err(StatsError::Data(format!(
            "the model could not be fitted on any of {resamples} resamples: too few events for this many groups"
        )));
    }
    let mut probability = vec![0.0; group_columns.len() + 1];
    for share in &out.values {
        for (p, s) in probability.iter_mut().zip(share) {
            *p += s;
        }
    }
    probability.iter_mut().for_each(|p| *p /= fitted as f64);
    Ok(RankFirst { probability, resamples, failed: out.failed, seed })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bootstrap::SplitMix64;
    use crate::cox::Ties;

    /// Three groups (reference, A, B) with hazard ratios 1, `hr_a`, `hr_b`, and an age effect.
    fn groups(n: usize, hr_a: f64, hr_b: f64, seed: u64) -> (Vec<f64>, Vec<bool>, Vec<f64>) {
        let mut rng = SplitMix64::new(seed);
        let (mut time, mut event, mut x) = (Vec::new(), Vec::new(), Vec::new());
        for i in 0..n {
            let g = i % 3;
            let age = rng.next_f64();
            let rate = 0.01 * [1.0, hr_a, hr_b][g] * (0.5 * age).exp();
            let t = -(1.0 - rng.next_f64()).ln() / rate;
            let c = 50.0 + rng.next_f64() * 150.0;
            time.push(t.min(c).ceil());
            event.push(t <= c);
            x.extend([f64::from(g == 1), f64::from(g == 2), age]);
        }
        (time, event, x)
    }

    #[test]
    fn a_clearly_better_group_ranks_first_and_seeds_repeat() {
        let (time, event, x) = groups(150, 0.3, 1.0, 7);
        let data = CoxData { time: &time, event: &event, x: &x, covariates: 3, weights: None };
        let options = CoxOptions { ties: Ties::Efron, ..CoxOptions::default() };
        // 400 resamples keep the debug-build test quick; rank_first itself insists on 2,000.
        let r = rank_first_at_least(&data, &[0, 1], &options, 400, 11, 400).unwrap();
        assert_eq!(r.probability.len(), 3);
        assert!((r.probability.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        assert!(r.probability[1] > 0.9, "{:?}", r.probability);
        assert_eq!(r, rank_first_at_least(&data, &[0, 1], &options, 400, 11, 400).unwrap());
    }

    #[test]
    fn equal_groups_share_the_first_place() {
        let (time, event, x) = groups(300, 1.0, 1.0, 8);
        let data = CoxData { time: &time, event: &event, x: &x, covariates: 3, weights: None };
        let r = rank_first_at_least(&data, &[0, 1], &CoxOptions::default(), 400, 12, 400).unwrap();
        // No group is a clear winner when none differs.
        assert!(r.probability.iter().all(|&p| p > 0.1 && p < 0.7), "{:?}", r.probability);
    }

    #[test]
    fn asks_for_enough_resamples_and_real_columns() {
        let (time, event, x) = groups(60, 1.0, 1.0, 9);
        let data = CoxData { time: &time, event: &event, x: &x, covariates: 3, weights: None };
        let options = CoxOptions::default();
        assert!(rank_first(&data, &[0], &options, 500, 1).unwrap_err().to_string().contains("at least 2000"));
        assert!(rank_first(&data, &[3], &options, 2000, 1).unwrap_err().to_string().contains("group column 3"));
    }
}
