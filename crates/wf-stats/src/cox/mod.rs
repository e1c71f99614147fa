//! Cox proportional hazards regression.
//!
//! Maximizes the partial likelihood by Newton–Raphson from β = 0 with step
//! halving (a step that lowers the log-likelihood is halved until it does not),
//! as R's `coxph` does. Reports coefficients with model-based (I⁻¹) or robust
//! (sandwich) standard errors, Wald z and p, confidence intervals, the null and
//! final log-likelihoods, the likelihood-ratio, Wald and score tests, and
//! Harrell's concordance. See [`risk`] for the likelihood and [`residuals`] for
//! the robust variance.

mod concordance;
mod residuals;
mod risk;

use serde::Serialize;

use crate::linalg::{SquareMatrix, quadratic_form};
use crate::{StatsError, dist, validate};

/// How tied event times enter the partial likelihood.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Ties {
    /// Efron's approximation: close to the exact likelihood; lifelines' and R's default.
    Efron,
    /// Breslow's approximation: every tied event sees the full risk set.
    Breslow,
}

/// The data: n rows, p covariates stored row by row in `x` (length n·p).
#[derive(Debug, Clone, Copy)]
pub struct CoxData<'a> {
    pub time: &'a [f64],
    pub event: &'a [bool],
    pub x: &'a [f64],
    pub covariates: usize,
    /// Case weights (positive); None means 1 for everyone.
    pub weights: Option<&'a [f64]>,
}

#[derive(Debug, Clone, Copy)]
pub struct CoxOptions {
    pub ties: Ties,
    /// Report sandwich standard errors (and base z, p, intervals and the Wald test on them).
    pub robust: bool,
    pub confidence: f64,
    pub max_iterations: usize,
    /// Converged when the largest component of the next Newton step is below this.
    pub tolerance: f64,
    /// Compute Harrell's concordance (O(n log n) after the fit). When false, `CoxFit::concordance` is NaN.
    pub concordance: bool,
}

impl Default for CoxOptions {
    fn default() -> Self {
        Self {
            ties: Ties::Efron,
            robust: false,
            confidence: 0.95,
            max_iterations: 50,
            tolerance: 1e-10,
            concordance: true,
        }
    }
}

/// One coefficient of a fitted model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Coefficient {
    pub coef: f64,
    /// e^coef for Cox (hazard ratio) and logistic (odds ratio).
    pub exp_coef: f64,
    /// The standard error z, p and intervals are based on (robust when requested).
    pub std_err: f64,
    /// Model-based standard error, sqrt of the diagonal of I(β̂)⁻¹.
    pub model_std_err: f64,
    pub z: f64,
    pub p_value: f64,
    pub ci_lower: f64,
    pub ci_upper: f64,
    pub exp_ci_lower: f64,
    pub exp_ci_upper: f64,
}

/// A chi-square test statistic.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ChiSquareTest {
    pub statistic: f64,
    pub df: usize,
    pub p_value: f64,
}

impl ChiSquareTest {
    pub(crate) fn new(statistic: f64, df: usize) -> Self {
        Self { statistic, df, p_value: dist::chi_square_sf(statistic, df as f64) }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct CoxFit {
    pub ties: Ties,
    pub robust: bool,
    pub confidence: f64,
    pub observations: usize,
    /// Number of rows with an event (unweighted).
    pub events: usize,
    pub coefficients: Vec<Coefficient>,
    pub log_likelihood_null: f64,
    pub log_likelihood: f64,
    pub likelihood_ratio: ChiSquareTest,
    pub wald: ChiSquareTest,
    pub score: ChiSquareTest,
    pub concordance: f64,
    pub iterations: usize,
    /// Model-based covariance I(β̂)⁻¹.
    #[serde(skip)]
    pub variance: SquareMatrix,
    /// Sandwich covariance, when robust errors were requested.
    #[serde(skip)]
    pub robust_variance: Option<SquareMatrix>,
    /// Things a reader should know (e.g. a coefficient that may be infinite).
    pub warnings: Vec<String>,
}

/// Rows sorted by time with covariates centred, and the boundaries of each distinct time.
pub(crate) struct Prepared {
    pub n: usize,
    pub p: usize,
    /// The centred covariates of the sorted rows in blocks of [`risk::BLOCK`] rows, each
    /// block column by column (p runs of BLOCK values), the last block padded with zeros:
    /// the layout the vectorized sums of [`risk`] read. See [`Prepared::value`].
    pub blocks: Vec<f64>,
    pub event: Vec<bool>,
    pub weight: Vec<f64>,
    pub groups: Vec<std::ops::Range<usize>>,
    /// Σ over events of wᵢ xᵢ: the part of the score that does not depend on β.
    pub event_x_sum: Vec<f64>,
}

impl Prepared {
    /// Covariate k of sorted row i.
    pub fn value(&self, i: usize, k: usize) -> f64 {
        self.blocks[(i / risk::BLOCK) * self.p * risk::BLOCK + k * risk::BLOCK + i % risk::BLOCK]
    }

    /// All covariates, row by row (n × p).
    pub fn row_major(&self) -> Vec<f64> {
        (0..self.n).flat_map(|i| (0..self.p).map(move |k| self.value(i, k))).collect()
    }
}

fn prepare(data: &CoxData<'_>) -> Result<Prepared, StatsError> {
    let n = data.time.len();
    let p = data.covariates;
    validate::same_length("event", n, data.event.len())?;
    validate::times(data.time)?;
    validate::covariates(data.x, n, p)?;
    let weight = validate::weights(data.weights, n)?;
    if p == 0 {
        return Err(StatsError::Data("the Cox model needs at least one covariate".into()));
    }
    if !data.event.iter().any(|&e| e) {
        return Err(StatsError::Data("there are no events: the Cox model needs at least one".into()));
    }
    // Rows in time order, ties in row order.
    let keyed = sort_by_key(data.time.iter().map(|&t| order_key(t)).collect());
    let order: Vec<usize> = keyed.iter().map(|&(_, i)| i).collect();
    let total_weight: f64 = weight.iter().sum();
    let mut mean = vec![0.0; p];
    for (row, w) in data.x.chunks_exact(p).zip(&weight) {
        for (m, v) in mean.iter_mut().zip(row) {
            *m += w * v;
        }
    }
    mean.iter_mut().for_each(|m| *m /= total_weight);
    // Gathering rows in time order is a cache miss per row; writing straight into the sized
    // column blocks (no growth checks, no intermediate copy) lets the processor keep many of
    // those misses in flight. The events' part of the score is summed while each row is in
    // cache rather than in a second random pass.
    let block = risk::BLOCK;
    let mut blocks = vec![0.0; n.div_ceil(block) * block * p];
    let mut event_x_sum = vec![0.0; p];
    for (chunk, out) in order.chunks(block).zip(blocks.chunks_exact_mut(p * block)) {
        for (r, &i) in chunk.iter().enumerate() {
            let row = &data.x[i * p..(i + 1) * p];
            for (k, (v, m)) in row.iter().zip(&mean).enumerate() {
                out[k * block + r] = v - m;
            }
            if data.event[i] {
                for ((s, v), m) in event_x_sum.iter_mut().zip(row).zip(&mean) {
                    *s += weight[i] * (v - m);
                }
            }
        }
    }
    let mut groups = Vec::new();
    let mut start = 0;
    for i in 1..=n {
        if i == n || keyed[i].0 != keyed[start].0 {
            groups.push(start..i);
            start = i;
        }
    }
    let event: Vec<bool> = order.iter().map(|&i| data.event[i]).collect();
    let weight: Vec<f64> = order.iter().map(|&i| weight[i]).collect();
    Ok(Prepared { n, p, blocks, event, weight, groups, event_x_sum })
}

/// An integer with the order of the (finite) floats: flipping the sign bit of positive
/// numbers and every bit of negative ones turns IEEE order into unsigned order. Adding 0.0
/// first makes −0 and +0 one key.
pub(crate) fn order_key(value: f64) -> u64 {
    let bits = (value + 0.0).to_bits();
    if bits >> 63 == 1 { !bits } else { bits | (1 << 63) }
}

/// (key, index) pairs in ascending key order, equal keys in index order: a least
/// significant digit radix sort, a byte per pass, skipping bytes every key shares. Sorting
/// is a large part of a fit on many rows, and this does in about eight linear passes what a
/// comparison sort does in log₂ n.
pub(crate) fn sort_by_key(keys: Vec<u64>) -> Vec<(u64, usize)> {
    let n = keys.len();
    let mut counts = vec![[0usize; 256]; 8];
    for &key in &keys {
        for (byte, count) in counts.iter_mut().enumerate() {
            count[((key >> (8 * byte)) & 0xff) as usize] += 1;
        }
    }
    let mut from: Vec<(u64, usize)> = keys.into_iter().zip(0..n).collect();
    let mut to = vec![(0u64, 0usize); n];
    for (byte, count) in counts.iter().enumerate() {
        if count.contains(&n) {
            continue; // every key has the same byte here: the pass would not move anything
        }
        let mut start = [0usize; 256];
        let mut total = 0;
        for (s, &c) in start.iter_mut().zip(count) {
            *s = total;
            total += c;
        }
        for &(key, index) in &from {
            let digit = ((key >> (8 * byte)) & 0xff) as usize;
            to[start[digit]] = (key, index);
            start[digit] += 1;
        }
        std::mem::swap(&mut from, &mut to);
    }
    from
}

const COLLINEAR: &str = "the covariates are linearly dependent (or one is constant among those at risk): \
                         drop or combine the redundant ones";

/// The information was positive definite at β = 0 (checked by the score test), so losing
/// that later, or never settling, means the likelihood keeps rising as a coefficient grows.
fn monotone(iterations: usize) -> StatsError {
    StatsError::NotConverged {
        iterations,
        reason: "the likelihood keeps increasing as a coefficient grows without bound (a covariate \
                 perfectly separates who has events first); that coefficient is infinite"
            .into(),
    }
}

/// Fits the model. Coefficients come back in the order of the covariate columns.
pub fn cox_fit(data: &CoxData<'_>, options: &CoxOptions) -> Result<CoxFit, StatsError> {
    let prep = prepare(data)?;
    let p = prep.p;
    let z_crit = crate::z_for(options.confidence)?;

    let mut beta = vec![0.0; p];
    let mut current = risk::evaluate(&prep, &beta, options.ties);
    let null = current.clone();
    let score_stat = {
        let chol = null.information.cholesky().ok_or_else(|| StatsError::Data(COLLINEAR.into()))?;
        quadratic_form(&chol.inverse(), &null.gradient)
    };

    let mut iterations = 0;
    let mut converged = false;
    loop {
        let chol = current.information.cholesky().ok_or_else(|| monotone(iterations))?;
        let mut step = chol.solve(&current.gradient);
        // Newton converges quadratically: when the next full step is this small, β is within
        // about that distance of the maximum and ℓ and I(β) need no further evaluation.
        if step.iter().all(|s| s.abs() < options.tolerance) {
            converged = true;
            break;
        }
        if iterations == options.max_iterations {
            break;
        }
        iterations += 1;
        let mut halvings = 0;
        let next = loop {
            let trial: Vec<f64> = beta.iter().zip(&step).map(|(b, s)| b + s).collect();
            let eval = risk::evaluate(&prep, &trial, options.ties);
            // Accept any step that does not lower ℓ beyond rounding.
            let tolerance = 1e-12 * current.log_likelihood.abs().max(1.0);
            if eval.log_likelihood.is_finite() && eval.log_likelihood >= current.log_likelihood - tolerance {
                break Some((trial, eval));
            }
            halvings += 1;
            if halvings > 40 {
                break None;
            }
            step.iter_mut().for_each(|s| *s /= 2.0);
        };
        let Some((trial, eval)) = next else {
            return Err(StatsError::NotConverged {
                iterations,
                reason: "no step along the Newton direction increased the likelihood".into(),
            });
        };
        beta = trial;
        current = eval;
    }
    if !converged {
        return Err(monotone(iterations));
    }

    let variance = current.information.cholesky().ok_or_else(|| monotone(iterations))?.inverse();
    let robust_variance = options.robust.then(|| {
        let residuals = residuals::score_residuals(&prep, &beta, options.ties);
        residuals::robust_variance(&prep, &residuals, &variance)
    });
    let used = robust_variance.as_ref().unwrap_or(&variance);
    let model_se: Vec<f64> = variance.diagonal().iter().map(|v| v.sqrt()).collect();
    let se: Vec<f64> = used.diagonal().iter().map(|v| v.sqrt()).collect();
    let coefficients = (0..p).map(|k| coefficient(beta[k], se[k], model_se[k], z_crit)).collect();

    let wald = match used.cholesky() {
        Some(chol) => {
            let b = chol.solve(&beta);
            beta.iter().zip(&b).map(|(u, v)| u * v).sum()
        }
        None => f64::NAN,
    };
    let eta = risk::linear_predictor(&prep, &beta);
    let mut warnings = Vec::new();
    for (k, se) in model_se.iter().enumerate() {
        if beta[k].abs() > 10.0 * se.max(1e-300) && beta[k].abs() > 20.0 {
            warnings.push(format!("coefficient {k} is very large ({:.3}); it may be infinite", beta[k]));
        }
    }
    Ok(CoxFit {
        ties: options.ties,
        robust: options.robust,
        confidence: options.confidence,
        observations: prep.n,
        events: prep.event.iter().filter(|&&e| e).count(),
        coefficients,
        log_likelihood_null: null.log_likelihood,
        log_likelihood: current.log_likelihood,
        likelihood_ratio: ChiSquareTest::new(2.0 * (current.log_likelihood - null.log_likelihood), p),
        wald: ChiSquareTest::new(wald, p),
        score: ChiSquareTest::new(score_stat, p),
        concordance: if options.concordance { concordance::concordance(&prep, &eta) } else { f64::NAN },
        iterations,
        variance,
        robust_variance,
        warnings,
    })
}

pub(crate) fn coefficient(coef: f64, se: f64, model_se: f64, z_crit: f64) -> Coefficient {
    let z = coef / se;
    let (lo, hi) = (coef - z_crit * se, coef + z_crit * se);
    Coefficient {
        coef,
        exp_coef: coef.exp(),
        std_err: se,
        model_std_err: model_se,
        z,
        p_value: dist::normal_two_sided_p(z),
        ci_lower: lo,
        ci_upper: hi,
        exp_ci_lower: lo.exp(),
        exp_ci_upper: hi.exp(),
    }
}

#[cfg(test)]
mod tests;
