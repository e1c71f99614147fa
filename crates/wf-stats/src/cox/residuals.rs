//! Score residuals and the robust (sandwich) variance of a Cox fit.
//!
//! The score residual of subject i (Therneau & Grambsch 2000, §7.2; R's
//! `residuals.coxph(type = "score")`) is
//!   Uᵢ = δᵢ (xᵢ − x̄(tᵢ)) − Σ_{event times t ≤ tᵢ} e^{ηᵢ} dΛ(t) (xᵢ − x̄(t)),
//! with dΛ(t) = w_D/S0 and x̄ = S1/S0 under Breslow. Under Efron each event time
//! splits into m terms (denominator d_l = S0 − (l/m) D0, mean x̄_l, weight w̄/d_l);
//! an event tied at t takes part in term l only with share (1 − l/m), and its
//! own centring is the average of the x̄_l. Σ wᵢ Uᵢ equals the score U(β).
//!
//! The robust variance is V (Σ wᵢ² Uᵢ Uᵢᵀ) V with V = I(β̂)⁻¹, i.e. the sum of
//! squared weighted dfbetas, as R's `coxph(robust = TRUE)` and lifelines'
//! `robust=True` compute it (lifelines ignores ties here; the two agree when
//! there are none).

use super::risk::shifted_eta;
use super::{Prepared, Ties};
use crate::linalg::SquareMatrix;

/// Per-event-time constants: with risk share f, subject i's hazard term is
/// e^{ηᵢ} (c1 xᵢ − c2); `own_*` hold the (1 − l/m)-weighted versions for events tied there.
struct TimeTerms {
    c1: f64,
    c2: Vec<f64>,
    own_c1: f64,
    own_c2: Vec<f64>,
    death_mean: Vec<f64>,
}

/// Score residuals Uᵢ (unweighted), in the prepared (time-sorted) order.
pub(crate) fn score_residuals(prep: &Prepared, beta: &[f64], ties: Ties) -> Vec<f64> {
    let p = prep.p;
    let eta = shifted_eta(prep, beta);
    let risk: Vec<f64> = eta.iter().map(|e| e.exp()).collect();
    let x = prep.row_major();

    // Backward pass: risk-set sums, and each event time's constants.
    let mut terms: Vec<Option<TimeTerms>> = Vec::with_capacity(prep.groups.len());
    let mut s0 = 0.0;
    let mut s1 = vec![0.0; p];
    for group in prep.groups.iter().rev() {
        let (mut d0, mut w_death, mut deaths) = (0.0, 0.0, 0usize);
        let mut d1 = vec![0.0; p];
        for i in group.start..group.end {
            let r = prep.weight[i] * risk[i];
            s0 += r;
            for k in 0..p {
                s1[k] += r * x[i * p + k];
            }
            if prep.event[i] {
                d0 += r;
                for k in 0..p {
                    d1[k] += r * x[i * p + k];
                }
                w_death += prep.weight[i];
                deaths += 1;
            }
        }
        if deaths == 0 {
            terms.push(None);
            continue;
        }
        let (m, mean_weight) = match ties {
            Ties::Breslow => (1, w_death),
            Ties::Efron => (deaths, w_death / deaths as f64),
        };
        let mut t =
            TimeTerms { c1: 0.0, c2: vec![0.0; p], own_c1: 0.0, own_c2: vec![0.0; p], death_mean: vec![0.0; p] };
        for l in 0..m {
            let c = if m == 1 { 0.0 } else { l as f64 / m as f64 };
            let denom = s0 - c * d0;
            let hazard = mean_weight / denom;
            t.c1 += hazard;
            t.own_c1 += hazard * (1.0 - c);
            for k in 0..p {
                let mean = (s1[k] - c * d1[k]) / denom;
                t.c2[k] += hazard * mean;
                t.own_c2[k] += hazard * (1.0 - c) * mean;
                t.death_mean[k] += mean / m as f64;
            }
        }
        terms.push(Some(t));
    }
    terms.reverse();

    // Forward pass: cumulative hazard terms from event times strictly earlier, plus this time's.
    let mut residuals = vec![0.0; prep.n * p];
    let mut cum_c1 = 0.0;
    let mut cum_c2 = vec![0.0; p];
    for (group, term) in prep.groups.iter().zip(&terms) {
        for i in group.start..group.end {
            let xi = &x[i * p..(i + 1) * p];
            let out = &mut residuals[i * p..(i + 1) * p];
            let (c1, c2): (f64, Vec<f64>) = match term {
                Some(t) if prep.event[i] => {
                    (cum_c1 + t.own_c1, cum_c2.iter().zip(&t.own_c2).map(|(a, b)| a + b).collect())
                }
                Some(t) => (cum_c1 + t.c1, cum_c2.iter().zip(&t.c2).map(|(a, b)| a + b).collect()),
                None => (cum_c1, cum_c2.clone()),
            };
            for k in 0..p {
                out[k] = -risk[i] * (c1 * xi[k] - c2[k]);
            }
            if let (Some(t), true) = (term, prep.event[i]) {
                for k in 0..p {
                    out[k] += xi[k] - t.death_mean[k];
                }
            }
        }
        if let Some(t) = term {
            cum_c1 += t.c1;
            for k in 0..p {
                cum_c2[k] += t.c2[k];
            }
        }
    }
    residuals
}

/// V (Σ wᵢ² Uᵢ Uᵢᵀ) V.
pub(crate) fn robust_variance(prep: &Prepared, residuals: &[f64], variance: &SquareMatrix) -> SquareMatrix {
    let p = prep.p;
    let mut meat = SquareMatrix::zeros(p);
    for i in 0..prep.n {
        let w2 = prep.weight[i] * prep.weight[i];
        let u = &residuals[i * p..(i + 1) * p];
        for j in 0..p {
            for k in j..p {
                meat.add(j, k, w2 * u[j] * u[k]);
            }
        }
    }
    meat.symmetrize_from_upper();
    variance.mul(&meat).mul(variance)
}
