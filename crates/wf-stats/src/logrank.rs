//! The k-group log-rank test of equal survival curves.
//!
//! At each distinct event time with n at risk and d events, group g (n_g at risk,
//! d_g events) expects E_g = d n_g / n events; the hypergeometric covariance is
//! V_gh = d (n − d)/(n − 1) · n_g/n · (δ_gh − n_h/n). Summed over times,
//! χ² = (O − E)ᵀ V⁻ (O − E) with k − 1 degrees of freedom, computed on the first
//! k − 1 groups (V has rank k − 1). Klein & Moeschberger, 2nd ed., §7.3; the
//! same statistic as R's `survdiff` and lifelines' `multivariate_logrank_test`.

use serde::Serialize;

use crate::linalg::{SquareMatrix, quadratic_form};
use crate::{StatsError, dist, validate};

/// Observed and expected events in one group.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogRankGroup<G> {
    pub group: G,
    pub subjects: usize,
    pub observed: f64,
    pub expected: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogRank<G> {
    /// Groups in ascending order.
    pub groups: Vec<LogRankGroup<G>>,
    pub statistic: f64,
    pub df: usize,
    pub p_value: f64,
}

/// Tests equality of the survival curves of the groups in `group`.
pub fn log_rank<G: Ord + Clone>(time: &[f64], event: &[bool], group: &[G]) -> Result<LogRank<G>, StatsError> {
    let n = time.len();
    validate::same_length("event", n, event.len())?;
    validate::same_length("group", n, group.len())?;
    validate::times(time)?;

    let mut labels: Vec<G> = group.to_vec();
    labels.sort();
    labels.dedup();
    let k = labels.len();
    if k < 2 {
        return Err(StatsError::Data(format!("the log-rank test needs at least 2 groups; the data has {k}")));
    }
    let code: Vec<usize> = group.iter().map(|g| labels.binary_search(g).expect("label present")).collect();

    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| time[a].total_cmp(&time[b]));

    let mut at_risk = vec![0.0; k];
    for &c in &code {
        at_risk[c] += 1.0;
    }
    let subjects: Vec<usize> = at_risk.iter().map(|&v| v as usize).collect();
    let mut observed = vec![0.0; k];
    let mut expected = vec![0.0; k];
    let mut variance = SquareMatrix::zeros(k);
    let mut deaths = vec![0.0; k];
    let mut leaving = vec![0.0; k];

    let mut i = 0;
    while i < n {
        let t = time[order[i]];
        deaths.iter_mut().for_each(|v| *v = 0.0);
        leaving.iter_mut().for_each(|v| *v = 0.0);
        while i < n && time[order[i]] == t {
            let j = order[i];
            if event[j] {
                deaths[code[j]] += 1.0;
            }
            leaving[code[j]] += 1.0;
            i += 1;
        }
        let d: f64 = deaths.iter().sum();
        let total: f64 = at_risk.iter().sum();
        if d > 0.0 {
            let factor = if total > 1.0 { d * (total - d) / (total - 1.0) } else { 0.0 };
            for g in 0..k {
                let share = at_risk[g] / total;
                observed[g] += deaths[g];
                expected[g] += d * share;
                for h in 0..k {
                    let delta = if g == h { 1.0 } else { 0.0 };
                    variance.add(g, h, factor * share * (delta - at_risk[h] / total));
                }
            }
        }
        for g in 0..k {
            at_risk[g] -= leaving[g];
        }
    }

    let m = k - 1;
    let diff: Vec<f64> = (0..m).map(|g| observed[g] - expected[g]).collect();
    let mut reduced = SquareMatrix::zeros(m);
    for g in 0..m {
        for h in 0..m {
            reduced.set(g, h, variance.get(g, h));
        }
    }
    let chol = reduced.cholesky().ok_or_else(|| {
        StatsError::Data("the log-rank variance is singular: some group has no one at risk at any event time".into())
    })?;
    let statistic = quadratic_form(&chol.inverse(), &diff);
    let groups = labels
        .into_iter()
        .enumerate()
        .map(|(g, group)| LogRankGroup { group, subjects: subjects[g], observed: observed[g], expected: expected[g] })
        .collect();
    Ok(LogRank { groups, statistic, df: m, p_value: dist::chi_square_sf(statistic, m as f64) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_groups_match_the_hand_computation() {
        // Group a: events at 1 and 3; group b: event at 2, censored at 4.
        let time = [1.0, 3.0, 2.0, 4.0];
        let event = [true, true, true, false];
        let group = ["a", "a", "b", "b"];
        let test = log_rank(&time, &event, &group).unwrap();
        // t=1: n=4 (2,2) d=1 → E_a=0.5, V=1·3/3·0.5·0.5=0.25
        // t=2: n=3 (1,2) d=1 → E_a=1/3, V=1·2/2·(1/3)(2/3)=2/9
        // t=3: n=2 (1,1) d=1 → E_a=0.5, V=1·1/1·0.25=0.25
        let e_a = 0.5 + 1.0 / 3.0 + 0.5;
        let v = 0.25 + 2.0 / 9.0 + 0.25;
        let chi = (2.0 - e_a) * (2.0 - e_a) / v;
        assert!((test.groups[0].expected - e_a).abs() < 1e-15);
        assert!((test.statistic - chi).abs() < 1e-12);
        assert_eq!(test.df, 1);
        assert!((test.p_value - dist::chi_square_sf(chi, 1.0)).abs() < 1e-15);
        let expected_total: f64 = test.groups.iter().map(|g| g.expected).sum();
        assert!((expected_total - 3.0).abs() < 1e-12, "expected events sum to observed events");
    }

    #[test]
    fn one_group_is_an_error() {
        let err = log_rank(&[1.0, 2.0], &[true, true], &[1, 1]).unwrap_err();
        assert!(err.to_string().contains("at least 2 groups"));
    }
}
