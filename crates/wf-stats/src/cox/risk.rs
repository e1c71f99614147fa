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
//! The p × p work is the costly part, so the sums over risk sets are reordered
//! into one weighted Gram matrix. With per-time constants Aₜ (multiplying the
//! whole risk set's S2) and Bₜ (multiplying the tied events' D2), every row i
//! enters the information as qᵢ xᵢ xᵢᵀ with
//! qᵢ = rᵢ (Σ_{event times t ≤ tᵢ} Aₜ − δᵢ B_{tᵢ}),  rᵢ = wᵢ e^{ηᵢ},
//! because the risk set at t holds exactly the rows with tᵢ ≥ t. A backward pass
//! over times collects S0, S1, D0, D1 (O(n p)), the likelihood, Aₜ, Bₜ and the
//! −Σ a aᵀ terms (O(p²) per event time); a forward pass forms qᵢ; then
//! Σ qᵢ xᵢ xᵢᵀ and Σ qᵢ xᵢ (and η = xβ) are taken over blocks of rows stored column
//! by column (`Prepared::blocks`, made once per fit), as dot products the compiler turns
//! into vector instructions.
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

/// Rows per block of the vectorized sums: a block's columns (p × 64 values) stay in L1.
pub(crate) const BLOCK: usize = 64;

/// η = xβ for every row, a block at a time (column by column, so it vectorizes).
pub(crate) fn linear_predictor(prep: &Prepared, beta: &[f64]) -> Vec<f64> {
    let p = prep.p;
    let mut eta = vec![0.0; prep.blocks.len() / p.max(1)];
    for (block, out) in prep.blocks.chunks_exact(p * BLOCK).zip(eta.chunks_exact_mut(BLOCK)) {
        let out: &mut [f64; BLOCK] = out.try_into().expect("BLOCK values");
        for (column, &b) in block.chunks_exact(BLOCK).zip(beta) {
            for (e, &v) in out.iter_mut().zip(column) {
                *e += b * v;
            }
        }
    }
    eta.truncate(prep.n);
    eta
}

/// Linear predictor on centred covariates, shifted so that its maximum is 0.
pub(crate) fn shifted_eta(prep: &Prepared, beta: &[f64]) -> Vec<f64> {
    let mut eta = linear_predictor(prep, beta);
    let max = eta.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if max.is_finite() {
        eta.iter_mut().for_each(|e| *e -= max);
    }
    eta
}

pub(crate) fn evaluate(prep: &Prepared, beta: &[f64], ties: Ties) -> Evaluation {
    let p = prep.p;
    let eta = shifted_eta(prep, beta);
    let risk: Vec<f64> = eta.iter().zip(&prep.weight).map(|(e, w)| w * e.exp()).collect();
    let mut ll = 0.0;
    let mut info = SquareMatrix::zeros(p);
    // Per distinct time: A (on the whole risk set) and B (on the events tied there).
    let mut on_risk_set = vec![0.0; prep.groups.len()];
    let mut on_events = vec![0.0; prep.groups.len()];

    let mut s0 = 0.0;
    let mut s1 = vec![0.0; p];
    let mut d1 = vec![0.0; p];
    for (g, group) in prep.groups.iter().enumerate().rev() {
        let (mut d0, mut w_death, mut deaths) = (0.0, 0.0, 0usize);
        d1.iter_mut().for_each(|v| *v = 0.0);
        for i in group.start..group.end {
            let r = risk[i];
            // Row i's covariates, BLOCK apart within its block.
            let start = (i / BLOCK) * p * BLOCK + i % BLOCK;
            let row = &prep.blocks[start..start + (p - 1) * BLOCK + 1];
            let sums = if prep.event[i] {
                let w = prep.weight[i];
                d0 += r;
                w_death += w;
                deaths += 1;
                ll += w * eta[i];
                &mut d1
            } else {
                s0 += r;
                &mut s1
            };
            for k in 0..p {
                sums[k] += r * row[k * BLOCK];
            }
        }
        if deaths == 0 {
            continue;
        }
        s0 += d0;
        for (s, d) in s1.iter_mut().zip(&d1) {
            *s += d;
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
        on_risk_set[g] = mean_weight * inv;
        on_events[g] = mean_weight * c_inv;
        for j in 0..p {
            let (s1j, d1j) = (s1[j], d1[j]);
            for k in j..p {
                let outer = s1j * s1[k] * inv2 - (s1j * d1[k] + d1j * s1[k]) * c_inv2 + d1j * d1[k] * cc_inv2;
                info.add(j, k, -mean_weight * outer);
            }
        }
    }

    // Forward in time: the A's accumulate over the event times a row has lived through.
    let mut q = risk;
    let mut cumulative = 0.0;
    for (g, group) in prep.groups.iter().enumerate() {
        cumulative += on_risk_set[g];
        let on_event = cumulative - on_events[g];
        for (qi, &e) in q[group.clone()].iter_mut().zip(&prep.event[group.clone()]) {
            *qi *= if e { on_event } else { cumulative };
        }
    }
    let (gram, weighted_sum) = weighted_gram(&prep.blocks, &q, p);
    let gradient: Vec<f64> = prep.event_x_sum.iter().zip(&weighted_sum).map(|(e, s)| e - s).collect();
    for j in 0..p {
        for k in j..p {
            info.add(j, k, gram[j * p + k]);
        }
    }
    info.symmetrize_from_upper();
    Evaluation { log_likelihood: ll, gradient, information: info }
}

/// Upper triangle of Σ qᵢ xᵢ xᵢᵀ (row-major p × p) and Σ qᵢ xᵢ, from the column blocks.
fn weighted_gram(blocks: &[f64], q: &[f64], p: usize) -> (Vec<f64>, Vec<f64>) {
    let mut gram = vec![0.0; p * p];
    let mut sum = vec![0.0; p];
    let mut scaled = vec![[0.0f64; BLOCK]; p];
    let mut weights = [0.0f64; BLOCK];
    for (block, qs) in blocks.chunks_exact(p * BLOCK).zip(q.chunks(BLOCK)) {
        // Padding rows get q = 0 and add nothing.
        weights[..qs.len()].copy_from_slice(qs);
        weights[qs.len()..].iter_mut().for_each(|w| *w = 0.0);
        for (out, column) in scaled.iter_mut().zip(block.chunks_exact(BLOCK)) {
            for ((o, &v), &w) in out.iter_mut().zip(column).zip(&weights) {
                *o = w * v;
            }
        }
        for j in 0..p {
            sum[j] += block_sum(&scaled[j]);
            for k in j..p {
                let column: &[f64; BLOCK] = block[k * BLOCK..(k + 1) * BLOCK].try_into().expect("BLOCK values");
                gram[j * p + k] += block_dot(&scaled[j], column);
            }
        }
    }
    (gram, sum)
}

/// Eight independent partial sums: the additions need not wait on each other, and the
/// compiler keeps them in vector registers.
fn block_dot(a: &[f64; BLOCK], b: &[f64; BLOCK]) -> f64 {
    let mut acc = [0.0f64; 8];
    for (ca, cb) in a.chunks_exact(8).zip(b.chunks_exact(8)) {
        for l in 0..8 {
            acc[l] += ca[l] * cb[l];
        }
    }
    acc.iter().sum()
}

fn block_sum(a: &[f64; BLOCK]) -> f64 {
    let mut acc = [0.0f64; 8];
    for chunk in a.chunks_exact(8) {
        for l in 0..8 {
            acc[l] += chunk[l];
        }
    }
    acc.iter().sum()
}
