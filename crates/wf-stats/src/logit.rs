//! Logistic regression by iteratively reweighted least squares (Newton's method
//! on the binomial log-likelihood; McCullagh & Nelder 1989, §4.4), with step
//! halving, frequency weights and an intercept added as the first coefficient.
//!
//! ℓ(β) = Σ wᵢ (yᵢ ηᵢ − log(1 + e^{ηᵢ})), U = Xᵀ W (y − μ), I = Xᵀ diag(wᵢ μᵢ(1 − μᵢ)) X.
//! log(1 + e^η) is evaluated as a stable softplus so large |η| neither
//! overflows nor loses the small term.

use serde::Serialize;

use crate::cox::{ChiSquareTest, Coefficient, coefficient};
use crate::linalg::SquareMatrix;
use crate::{StatsError, validate};

#[derive(Debug, Clone, Copy)]
pub struct LogitData<'a> {
    /// The 0/1 outcome.
    pub outcome: &'a [bool],
    /// n × p covariates, row by row (the intercept is added, not passed).
    pub x: &'a [f64],
    pub covariates: usize,
    /// Frequency weights; None means 1 each.
    pub weights: Option<&'a [f64]>,
}

#[derive(Debug, Clone, Copy)]
pub struct LogitOptions {
    pub confidence: f64,
    pub max_iterations: usize,
    pub tolerance: f64,
}

impl Default for LogitOptions {
    fn default() -> Self {
        Self { confidence: 0.95, max_iterations: 50, tolerance: 1e-10 }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct LogitFit {
    pub confidence: f64,
    pub observations: usize,
    /// Intercept first, then the covariates in column order.
    pub coefficients: Vec<Coefficient>,
    pub log_likelihood_null: f64,
    pub log_likelihood: f64,
    pub likelihood_ratio: ChiSquareTest,
    pub iterations: usize,
    #[serde(skip)]
    pub variance: SquareMatrix,
}

fn softplus(eta: f64) -> f64 {
    if eta > 0.0 { eta + (-eta).exp().ln_1p() } else { eta.exp().ln_1p() }
}

struct Step {
    ll: f64,
    gradient: Vec<f64>,
    information: SquareMatrix,
}

fn evaluate(design: &[f64], q: usize, y: &[bool], w: &[f64], beta: &[f64]) -> Step {
    let mut ll = 0.0;
    let mut gradient = vec![0.0; q];
    let mut information = SquareMatrix::zeros(q);
    for (i, (&yi, &wi)) in y.iter().zip(w).enumerate() {
        let row = &design[i * q..(i + 1) * q];
        let eta: f64 = row.iter().zip(beta).map(|(a, b)| a * b).sum();
        let yv = if yi { 1.0 } else { 0.0 };
        ll += wi * (yv * eta - softplus(eta));
        let mu = 1.0 / (1.0 + (-eta).exp());
        let resid = wi * (yv - mu);
        let v = wi * mu * (1.0 - mu);
        for j in 0..q {
            gradient[j] += resid * row[j];
            for k in j..q {
                information.add(j, k, v * row[j] * row[k]);
            }
        }
    }
    information.symmetrize_from_upper();
    Step { ll, gradient, information }
}

fn separated(iterations: usize) -> StatsError {
    StatsError::NotConverged {
        iterations,
        reason: "the coefficients kept growing: the outcome is (nearly) perfectly separated by the covariates".into(),
    }
}

/// Fits P(y = 1) = 1 / (1 + e^{−(β₀ + xβ)}).
pub fn logit_fit(data: &LogitData<'_>, options: &LogitOptions) -> Result<LogitFit, StatsError> {
    let n = data.outcome.len();
    let p = data.covariates;
    validate::covariates(data.x, n, p)?;
    let w = validate::weights(data.weights, n)?;
    let z_crit = crate::z_for(options.confidence)?;
    let total: f64 = w.iter().sum();
    let positive: f64 = data.outcome.iter().zip(&w).filter(|(y, _)| **y).map(|(_, w)| w).sum();
    if positive == 0.0 || positive == total {
        return Err(StatsError::Data(
            "the outcome takes only one value: logistic regression needs both 0s and 1s".into(),
        ));
    }
    let q = p + 1;
    let mut design = Vec::with_capacity(n * q);
    for i in 0..n {
        design.push(1.0);
        design.extend_from_slice(&data.x[i * p..(i + 1) * p]);
    }
    let rate = positive / total;
    let ll_null = positive * rate.ln() + (total - positive) * (1.0 - rate).ln();

    // Start at the intercept-only solution: fewer iterations, and ℓ starts finite.
    let mut beta = vec![0.0; q];
    beta[0] = (rate / (1.0 - rate)).ln();
    let mut current = evaluate(&design, q, data.outcome, &w, &beta);
    let collinear = || {
        StatsError::Data(
            "the covariates are linearly dependent (or one is constant): drop or combine the redundant ones".into(),
        )
    };
    let mut iterations = 0;
    loop {
        if iterations == options.max_iterations {
            return Err(separated(iterations));
        }
        iterations += 1;
        // Singular at the start means redundant columns; becoming singular later means the
        // fitted probabilities reached 0 or 1, i.e. separation.
        let chol = match current.information.cholesky() {
            Some(chol) => chol,
            None if iterations == 1 => return Err(collinear()),
            None => return Err(separated(iterations)),
        };
        let mut step = chol.solve(&current.gradient);
        let mut halvings = 0;
        let (trial, eval) = loop {
            let trial: Vec<f64> = beta.iter().zip(&step).map(|(b, s)| b + s).collect();
            let eval = evaluate(&design, q, data.outcome, &w, &trial);
            if eval.ll.is_finite() && eval.ll >= current.ll - 1e-12 * current.ll.abs().max(1.0) {
                break (trial, eval);
            }
            halvings += 1;
            if halvings > 40 {
                return Err(StatsError::NotConverged {
                    iterations,
                    reason: "no step along the Newton direction increased the likelihood".into(),
                });
            }
            step.iter_mut().for_each(|s| *s /= 2.0);
        };
        let largest = step.iter().fold(0.0f64, |m, s| m.max(s.abs()));
        beta = trial;
        current = eval;
        if largest < options.tolerance {
            break;
        }
    }
    let variance = current.information.cholesky().ok_or_else(|| separated(iterations))?.inverse();
    let se: Vec<f64> = variance.diagonal().iter().map(|v| v.sqrt()).collect();
    let coefficients = (0..q).map(|k| coefficient(beta[k], se[k], se[k], z_crit)).collect();
    Ok(LogitFit {
        confidence: options.confidence,
        observations: n,
        coefficients,
        log_likelihood_null: ll_null,
        log_likelihood: current.ll,
        likelihood_ratio: ChiSquareTest::new(2.0 * (current.ll - ll_null), p),
        iterations,
        variance,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bootstrap::SplitMix64;

    #[test]
    fn recovers_planted_coefficients_and_zero_score() {
        let mut rng = SplitMix64::new(9);
        let n = 4000;
        let (mut x, mut y) = (Vec::new(), Vec::new());
        for _ in 0..n {
            let a = rng.next_f64() * 2.0 - 1.0;
            let eta = -0.5 + 1.5 * a;
            y.push(rng.next_f64() < 1.0 / (1.0 + (-eta).exp()));
            x.push(a);
        }
        let fit = logit_fit(&LogitData { outcome: &y, x: &x, covariates: 1, weights: None }, &LogitOptions::default())
            .unwrap();
        let (b0, b1) = (fit.coefficients[0].coef, fit.coefficients[1].coef);
        assert!((b0 + 0.5).abs() < 4.0 * fit.coefficients[0].std_err, "{b0}");
        assert!((b1 - 1.5).abs() < 4.0 * fit.coefficients[1].std_err, "{b1}");
        let design: Vec<f64> = x.iter().flat_map(|&a| [1.0, a]).collect();
        let step = evaluate(&design, 2, &y, &vec![1.0; n], &[b0, b1]);
        assert!(step.gradient.iter().all(|g| g.abs() < 1e-8));
        assert!(fit.likelihood_ratio.p_value < 1e-10);
    }

    #[test]
    fn weights_equal_repeated_rows() {
        let x = [0.1, 0.5, -0.3, 1.2, 0.8, -1.0];
        let y = [false, true, false, true, false, true];
        let w = [1.0, 2.0, 3.0, 1.0, 2.0, 1.0];
        let (mut x2, mut y2) = (Vec::new(), Vec::new());
        for i in 0..6 {
            for _ in 0..w[i] as usize {
                x2.push(x[i]);
                y2.push(y[i]);
            }
        }
        let options = LogitOptions::default();
        let a = logit_fit(&LogitData { outcome: &y, x: &x, covariates: 1, weights: Some(&w) }, &options).unwrap();
        let b = logit_fit(&LogitData { outcome: &y2, x: &x2, covariates: 1, weights: None }, &options).unwrap();
        for k in 0..2 {
            assert!((a.coefficients[k].coef - b.coefficients[k].coef).abs() < 1e-10);
            assert!((a.coefficients[k].std_err - b.coefficients[k].std_err).abs() < 1e-10);
        }
    }

    #[test]
    fn separation_is_reported_not_hidden() {
        let x = [-2.0, -1.0, 1.0, 2.0];
        let y = [false, false, true, true];
        let err = logit_fit(&LogitData { outcome: &y, x: &x, covariates: 1, weights: None }, &LogitOptions::default())
            .unwrap_err();
        assert!(err.to_string().contains("separated"), "{err}");
    }
}
