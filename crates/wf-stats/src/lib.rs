//! Statistics for the evaluation, as plain functions over slices: no I/O, no
//! global state, deterministic for a given input (and seed, where one is used).
//!
//! - [`km`]: Kaplan–Meier with Greenwood standard errors, log(−log) intervals, numbers at risk.
//! - [`logrank`]: the k-group log-rank test.
//! - [`cox`]: Cox proportional hazards (Efron or Breslow ties, case weights, robust errors).
//! - [`logit`]: logistic regression by iteratively reweighted least squares.
//! - [`rmst`]: restricted mean survival time with its standard error, and two-group differences.
//! - [`competing`]: cumulative incidence of one event kind among competing kinds (Aalen–Johansen).
//! - [`propensity`]: propensity scores, inverse-probability weights, balance and effective sample size.
//! - [`landmark`]: restrict to those at risk at day L, exposure = started by L, time from L.
//! - [`ranking`]: bootstrap probability that each group (bundle) has the lowest hazard ratio.
//! - [`power`]: Schoenfeld's smallest detectable hazard ratio and the "insufficient data" rule.
//! - [`synth`]: a seeded synthetic cohort with planted effects, confounding and attrition.
//! - [`adjust`]: Holm and Benjamini–Hochberg adjustment of p-values.
//! - [`bootstrap`]: a seeded resampling helper with a stable, documented generator.
//! - [`disclosure`]: small-count suppression with complementary suppression; survival only where enough are at risk.
//!
//! Conventions follow R's `survival` and Python's `lifelines`/`statsmodels`, and the
//! tests in `tests/` compare against reference outputs those packages produced
//! (`tests/data/stats/make_reference.py` at the workspace root).

// Matrix and risk-set code reads as the formulas it implements when written with indices
// (x[i * p + k], s1[k], d1[k] in one loop); iterator chains over several arrays would hide that.
#![allow(clippy::needless_range_loop)]

pub mod adjust;
pub mod bootstrap;
pub mod competing;
pub mod cox;
pub mod disclosure;
pub mod dist;
pub mod km;
pub mod landmark;
pub mod linalg;
pub mod logit;
pub mod logrank;
pub mod power;
pub mod propensity;
pub mod ranking;
pub mod rmst;
pub mod synth;
mod validate;

/// Why a computation could not be done. Messages name the input and what is allowed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StatsError {
    /// An input slice has the wrong length.
    #[error("{name} has {actual} values but {expected} were expected")]
    Length { name: &'static str, expected: usize, actual: usize },
    /// A value is outside what is allowed (row is 0-based).
    #[error("{name} at row {row} is {value}: {allowed}")]
    Value { name: &'static str, row: usize, value: f64, allowed: &'static str },
    /// The data cannot support the requested analysis.
    #[error("{0}")]
    Data(String),
    /// Iteration did not converge.
    #[error("did not converge after {iterations} iterations: {reason}")]
    NotConverged { iterations: usize, reason: String },
}

/// A 1 − alpha confidence level as a two-sided normal quantile, checked.
pub(crate) fn z_for(confidence: f64) -> Result<f64, StatsError> {
    if !(confidence > 0.0 && confidence < 1.0) {
        return Err(StatsError::Data(format!(
            "confidence level {confidence} is not allowed: it must be strictly between 0 and 1"
        )));
    }
    Ok(dist::normal_quantile(0.5 + confidence / 2.0))
}
