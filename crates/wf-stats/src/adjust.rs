//! Multiplicity adjustment of p-values (same results as R's `p.adjust` and
//! statsmodels' `multipletests`).
//!
//! Holm (1979) controls the family-wise error rate under any dependence; with
//! p₍₁₎ ≤ … ≤ p₍ₘ₎, p̃₍ᵢ₎ = max_{j ≤ i} min(1, (m − j + 1) p₍ⱼ₎).
//! Benjamini–Hochberg (1995) controls the false discovery rate under
//! independence or positive dependence; p̃₍ᵢ₎ = min_{j ≥ i} min(1, m p₍ⱼ₎ / j).

use crate::StatsError;

fn check(p: &[f64]) -> Result<Vec<usize>, StatsError> {
    for (row, &v) in p.iter().enumerate() {
        if !(0.0..=1.0).contains(&v) {
            return Err(StatsError::Value { name: "p-values", row, value: v, allowed: "p-values lie in [0, 1]" });
        }
    }
    let mut order: Vec<usize> = (0..p.len()).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    Ok(order)
}

/// Holm step-down adjusted p-values, in the input order.
pub fn holm(p: &[f64]) -> Result<Vec<f64>, StatsError> {
    let order = check(p)?;
    let m = p.len();
    let mut out = vec![0.0; m];
    let mut running: f64 = 0.0;
    for (rank, &i) in order.iter().enumerate() {
        running = running.max(((m - rank) as f64 * p[i]).min(1.0));
        out[i] = running;
    }
    Ok(out)
}

/// Benjamini–Hochberg step-up adjusted p-values (q-values), in the input order.
pub fn benjamini_hochberg(p: &[f64]) -> Result<Vec<f64>, StatsError> {
    let order = check(p)?;
    let m = p.len();
    let mut out = vec![0.0; m];
    let mut running: f64 = 1.0;
    for (rank, &i) in order.iter().enumerate().rev() {
        running = running.min((m as f64 * p[i] / (rank + 1) as f64).min(1.0));
        out[i] = running;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    // R: p.adjust(c(0.01, 0.04, 0.03, 0.005, 0.2), "holm") / "BH".
    const P: [f64; 5] = [0.01, 0.04, 0.03, 0.005, 0.2];

    #[test]
    fn holm_matches_r() {
        let want = [0.04, 0.09, 0.09, 0.025, 0.2];
        for (got, want) in holm(&P).unwrap().iter().zip(want) {
            assert!((got - want).abs() < 1e-15, "{got} vs {want}");
        }
    }

    #[test]
    fn benjamini_hochberg_matches_r() {
        let want = [0.025, 0.05, 0.05, 0.025, 0.2];
        for (got, want) in benjamini_hochberg(&P).unwrap().iter().zip(want) {
            assert!((got - want).abs() < 1e-15, "{got} vs {want}");
        }
    }

    #[test]
    fn rejects_values_outside_the_unit_interval() {
        assert!(holm(&[0.5, 1.5]).unwrap_err().to_string().contains("p-values at row 1"));
        assert_eq!(benjamini_hochberg(&[]).unwrap(), Vec::<f64>::new());
    }
}
