//! The Cox partial log-likelihood, its gradient and information matrix in one
//! pass over time-sorted data.
//!
//! Walking from the latest time backward, the risk-set sums
//! S0 = Σ wⱼ e^{ηⱼ}, S1 = Σ wⱼ e^{ηⱼ} xⱼ, S2 = Σ wⱼ e^{ηⱼ} xⱼ xⱼᵀ over {j : tⱼ ≥ t}
//! grow by the rows at each time, so the whole pass is O(n p²) rather than
//! the O(n² p) of summing each risk set afresh.
//!
//! At a time with m events of total weight w_D (tied sums D0, D1, D2 over those
//! events), Breslow's approximation contributes
//!   ℓ += Σ_D wᵢ ηᵢ − w_D log S0,  U += Σ_D wᵢ xᵢ − w_D S1/S0,
//!   I += w_D (S2/S0 − a aᵀ) with a = S1/S0;
//! Efron's replaces the one denominator by m of them, S0 − (l/m) D0 for
//! l = 0..m−1, each with weight w̄ = w_D/m (the weighted form of R's `coxph`
//! and lifelines: Therneau & Grambsch 2000, §3.3).
//!
//! Numerical care: covariates arrive centred (the likelihood is unchanged by
//! shifting x) and η is shifted by its maximum before exp(), so no term
//! overflows; the shift cancels between Σ wᵢηᵢ and the log of the sums.

use super::{Prepared, Ties};
use crate::linalg::SquareMatrix;

/// ℓ(β), U(β) = ∂ℓ/∂β and I(β) = −∂²ℓ/∂β².
#[derive(Debug, Clone)]
pub(crate) struct Evaluation {
    pub log_likelihood: f64,
    pub gradient: Vec<f64>,
    pub information: SquareMatrix,
}

/// Linear predictor on centred covariates, shifted so that its maximum is 0.
pub(crate) fn shifted_eta(prep: &Prepared, beta: &[f64]) -> Vec<f64> {
    let p = prep.p;
    let mut eta: Vec<f64> = (0..prep.n).map(|i| dot(&prep.x[i * p..(i + 1) * p], beta)).collect();
    let max = eta.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if max.is_finite() {
        eta.iter_mut().for_each(|e| *e -= max);
    }
    eta
}

pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(u, v)| u * v).sum()
}

pub(crate) fn evaluate(prep: &Prepared, beta: &[f64], ties: Ties) -> Evaluation {
    let p = prep.p;
    let eta = shifted_eta(prep, beta);
    let mut ll = 0.0;
    let mut grad = vec![0.0; p];
    let mut info = SquareMatrix::zeros(p);

    let mut s0 = 0.0;
    let mut s1 = vec![0.0; p];
    let mut s2 = vec![0.0; p * p]; // upper triangle used
    let mut d1 = vec![0.0; p];
    let mut d2 = vec![0.0; p * p];
    let mut x_death = vec![0.0; p];

    for group in prep.groups.iter().rev() {
        let mut d0 = 0.0;
        let mut w_death = 0.0;
        let mut deaths = 0usize;
        d1.iter_mut().for_each(|v| *v = 0.0);
        d2.iter_mut().for_each(|v| *v = 0.0);
        x_death.iter_mut().for_each(|v| *v = 0.0);
        for i in group.start..group.end {
            let xi = &prep.x[i * p..(i + 1) * p];
            let w = prep.weight[i];
            let r = w * eta[i].exp();
            // Each row's outer product is taken once: events into D, the rest straight into S;
            // D is added to S after the group.
            if !prep.event[i] {
                s0 += r;
                add_outer(&mut s1, &mut s2, xi, r, p);
            } else {
                d0 += r;
                add_outer(&mut d1, &mut d2, xi, r, p);
                w_death += w;
                deaths += 1;
                ll += w * eta[i];
                for (acc, v) in x_death.iter_mut().zip(xi) {
                    *acc += w * v;
                }
            }
        }
        if deaths == 0 {
            continue;
        }
        s0 += d0;
        for (s, d) in s1.iter_mut().zip(&d1) {
            *s += d;
        }
        for (s, d) in s2.iter_mut().zip(&d2) {
            *s += d;
        }
        for (g, v) in grad.iter_mut().zip(&x_death) {
            *g += v;
        }
        let (terms, mean_weight) = match ties {
            Ties::Breslow => (1, w_death),
            Ties::Efron => (deaths, w_death / deaths as f64),
        };
        // Efron: the l-th of the m tied events sees the risk set with l/m of each tied event
        // removed, d_l = S0 − c_l D0 with c_l = l/m. The m terms only differ through the
        // scalars c_l and d_l, so their sums are taken first and the p × p work is done once:
        //   Σ a_l = S1 Σ 1/d_l − D1 Σ c_l/d_l,
        //   Σ (S2 − c_l D2)/d_l = S2 Σ 1/d_l − D2 Σ c_l/d_l,
        //   Σ a_l a_lᵀ = S1S1ᵀ Σ 1/d_l² − (S1D1ᵀ + D1S1ᵀ) Σ c_l/d_l² + D1D1ᵀ Σ c_l²/d_l².
        let (mut inv, mut c_inv, mut inv2, mut c_inv2, mut cc_inv2) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for l in 0..terms {
            let c = if terms == 1 { 0.0 } else { l as f64 / terms as f64 };
            let denom = s0 - c * d0;
            ll -= mean_weight * denom.ln();
            let r = 1.0 / denom;
            inv += r;
            c_inv += c * r;
            inv2 += r * r;
            c_inv2 += c * r * r;
            cc_inv2 += c * c * r * r;
        }
        for k in 0..p {
            grad[k] -= mean_weight * (s1[k] * inv - d1[k] * c_inv);
        }
        for j in 0..p {
            let (s1j, d1j) = (s1[j], d1[j]);
            for k in j..p {
                let second = s2[j * p + k] * inv - d2[j * p + k] * c_inv;
                let outer = s1j * s1[k] * inv2 - (s1j * d1[k] + d1j * s1[k]) * c_inv2 + d1j * d1[k] * cc_inv2;
                info.add(j, k, mean_weight * (second - outer));
            }
        }
    }
    info.symmetrize_from_upper();
    Evaluation { log_likelihood: ll, gradient: grad, information: info }
}

/// s1 += r x, upper triangle of s2 += r x xᵀ (iterators so the hot loop has no bounds checks).
fn add_outer(s1: &mut [f64], s2: &mut [f64], x: &[f64], r: f64, p: usize) {
    for (j, row) in s2.chunks_exact_mut(p).enumerate() {
        let rx = r * x[j];
        s1[j] += rx;
        for (acc, &xk) in row[j..].iter_mut().zip(&x[j..]) {
            *acc += rx * xk;
        }
    }
}
