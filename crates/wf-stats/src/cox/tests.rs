use super::*;
use crate::bootstrap::SplitMix64;

/// A small data set with tied times, censoring and uneven weights.
fn data(n: usize, seed: u64) -> (Vec<f64>, Vec<bool>, Vec<f64>, Vec<f64>) {
    let mut rng = SplitMix64::new(seed);
    let (mut time, mut event, mut x, mut w) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..n {
        let a = rng.next_f64() * 2.0 - 1.0;
        let b = if rng.next_f64() < 0.4 { 1.0 } else { 0.0 };
        let rate = (0.7 * a - 0.5 * b).exp();
        let t = -(1.0 - rng.next_f64()).ln() / rate;
        time.push((t * 4.0).ceil()); // coarse times make ties
        event.push(rng.next_f64() < 0.75);
        x.extend([a, b]);
        w.push(0.5 + rng.next_f64() * 2.0);
    }
    (time, event, x, w)
}

/// The partial log-likelihood summed risk set by risk set, straight from the definition.
fn brute_log_likelihood(time: &[f64], event: &[bool], x: &[f64], w: &[f64], beta: &[f64], ties: Ties) -> f64 {
    let n = time.len();
    let eta: Vec<f64> = (0..n).map(|i| x[i * 2] * beta[0] + x[i * 2 + 1] * beta[1]).collect();
    let mut times: Vec<f64> = (0..n).filter(|&i| event[i]).map(|i| time[i]).collect();
    times.sort_by(f64::total_cmp);
    times.dedup();
    let mut ll = 0.0;
    for t in times {
        let deaths: Vec<usize> = (0..n).filter(|&i| event[i] && time[i] == t).collect();
        let s0: f64 = (0..n).filter(|&j| time[j] >= t).map(|j| w[j] * eta[j].exp()).sum();
        let d0: f64 = deaths.iter().map(|&j| w[j] * eta[j].exp()).sum();
        let wd: f64 = deaths.iter().map(|&j| w[j]).sum();
        ll += deaths.iter().map(|&j| w[j] * eta[j]).sum::<f64>();
        let m = deaths.len();
        match ties {
            Ties::Breslow => ll -= wd * s0.ln(),
            Ties::Efron => {
                for l in 0..m {
                    ll -= wd / m as f64 * (s0 - l as f64 / m as f64 * d0).ln();
                }
            }
        }
    }
    ll
}

#[test]
fn one_pass_likelihood_matches_the_definition_with_derivatives() {
    let (time, event, x, w) = data(60, 7);
    let cox = CoxData { time: &time, event: &event, x: &x, covariates: 2, weights: Some(&w) };
    let prep = prepare(&cox).unwrap();
    let beta = [0.3, -0.8];
    for ties in [Ties::Efron, Ties::Breslow] {
        let eval = risk::evaluate(&prep, &beta, ties);
        let brute = brute_log_likelihood(&time, &event, &x, &w, &beta, ties);
        assert!((eval.log_likelihood - brute).abs() < 1e-10, "{ties:?}: {} vs {brute}", eval.log_likelihood);
        // Central differences of ℓ for the gradient, of U for the information.
        let h = 1e-5;
        for k in 0..2 {
            let mut up = beta;
            let mut down = beta;
            up[k] += h;
            down[k] -= h;
            let numeric = (brute_log_likelihood(&time, &event, &x, &w, &up, ties)
                - brute_log_likelihood(&time, &event, &x, &w, &down, ties))
                / (2.0 * h);
            assert!((eval.gradient[k] - numeric).abs() < 1e-6, "{ties:?} gradient {k}");
            let g_up = risk::evaluate(&prep, &up, ties).gradient;
            let g_down = risk::evaluate(&prep, &down, ties).gradient;
            for j in 0..2 {
                let numeric = -(g_up[j] - g_down[j]) / (2.0 * h);
                assert!((eval.information.get(j, k) - numeric).abs() < 1e-5, "{ties:?} information {j},{k}");
            }
        }
    }
}

#[test]
fn weighted_score_residuals_add_up_to_the_score() {
    let (time, event, x, w) = data(80, 11);
    let cox = CoxData { time: &time, event: &event, x: &x, covariates: 2, weights: Some(&w) };
    let prep = prepare(&cox).unwrap();
    let beta = [0.4, 0.2];
    for ties in [Ties::Efron, Ties::Breslow] {
        let residuals = residuals::score_residuals(&prep, &beta, ties);
        let gradient = risk::evaluate(&prep, &beta, ties).gradient;
        for k in 0..2 {
            let sum: f64 = (0..prep.n).map(|i| prep.weight[i] * residuals[i * 2 + k]).sum();
            assert!((sum - gradient[k]).abs() < 1e-10, "{ties:?} {k}: {sum} vs {}", gradient[k]);
        }
    }
}

#[test]
fn integer_weights_under_breslow_equal_repeated_rows() {
    let (time, event, x, _) = data(40, 3);
    let w: Vec<f64> = (0..40).map(|i| (i % 3 + 1) as f64).collect();
    let (mut t2, mut e2, mut x2) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..40 {
        for _ in 0..w[i] as usize {
            t2.push(time[i]);
            e2.push(event[i]);
            x2.extend_from_slice(&x[i * 2..i * 2 + 2]);
        }
    }
    let options = CoxOptions { ties: Ties::Breslow, ..CoxOptions::default() };
    let weighted =
        cox_fit(&CoxData { time: &time, event: &event, x: &x, covariates: 2, weights: Some(&w) }, &options).unwrap();
    let repeated = cox_fit(&CoxData { time: &t2, event: &e2, x: &x2, covariates: 2, weights: None }, &options).unwrap();
    for k in 0..2 {
        assert!((weighted.coefficients[k].coef - repeated.coefficients[k].coef).abs() < 1e-9);
        assert!((weighted.coefficients[k].std_err - repeated.coefficients[k].std_err).abs() < 1e-9);
    }
    assert!((weighted.log_likelihood - repeated.log_likelihood).abs() < 1e-8);
}

#[test]
fn fit_reaches_a_zero_score_and_consistent_tests() {
    let (time, event, x, _) = data(200, 5);
    let fit =
        cox_fit(&CoxData { time: &time, event: &event, x: &x, covariates: 2, weights: None }, &CoxOptions::default())
            .unwrap();
    let prep = prepare(&CoxData { time: &time, event: &event, x: &x, covariates: 2, weights: None }).unwrap();
    let beta: Vec<f64> = fit.coefficients.iter().map(|c| c.coef).collect();
    let gradient = risk::evaluate(&prep, &beta, Ties::Efron).gradient;
    assert!(gradient.iter().all(|g| g.abs() < 1e-8), "{gradient:?}");
    assert!(fit.likelihood_ratio.statistic > 0.0 && fit.log_likelihood > fit.log_likelihood_null);
    // The planted effects have the right signs: a raises the hazard, b lowers it.
    assert!(beta[0] > 0.0 && beta[1] < 0.0, "{beta:?}");
    assert!(fit.concordance > 0.5 && fit.concordance < 1.0);
}

#[test]
fn skipping_the_concordance_leaves_the_fit_unchanged() {
    let (time, event, x, _) = data(200, 5);
    let data = CoxData { time: &time, event: &event, x: &x, covariates: 2, weights: None };
    let with = cox_fit(&data, &CoxOptions::default()).unwrap();
    let without = cox_fit(&data, &CoxOptions { concordance: false, ..CoxOptions::default() }).unwrap();
    assert_eq!(with.coefficients, without.coefficients);
    assert_eq!(with.log_likelihood, without.log_likelihood);
    assert!(with.concordance.is_finite() && without.concordance.is_nan());
}

#[test]
fn concordance_matches_pair_counting() {
    let (time, event, x, _) = data(70, 13);
    let prep = prepare(&CoxData { time: &time, event: &event, x: &x, covariates: 2, weights: None }).unwrap();
    let eta: Vec<f64> = (0..prep.n).map(|i| (prep.value(i, 0) * 2.0).round() + prep.value(i, 1)).collect();
    let (mut num, mut pairs) = (0.0, 0.0);
    let t: Vec<f64> = {
        let mut order: Vec<usize> = (0..time.len()).collect();
        order.sort_by(|&a, &b| time[a].total_cmp(&time[b]));
        order.iter().map(|&i| time[i]).collect()
    };
    for i in 0..prep.n {
        for j in 0..prep.n {
            let comparable = prep.event[i] && (t[j] > t[i] || (t[j] == t[i] && !prep.event[j]));
            if comparable {
                pairs += 1.0;
                num += if eta[i] > eta[j] {
                    1.0
                } else if eta[i] == eta[j] {
                    0.5
                } else {
                    0.0
                };
            }
        }
    }
    assert!((concordance::concordance(&prep, &eta) - num / pairs).abs() < 1e-12);
}

#[test]
fn collinear_covariates_are_reported() {
    let (time, event, x, _) = data(30, 2);
    let doubled: Vec<f64> = (0..30).flat_map(|i| [x[i * 2], 2.0 * x[i * 2]]).collect();
    let err = cox_fit(
        &CoxData { time: &time, event: &event, x: &doubled, covariates: 2, weights: None },
        &CoxOptions::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("linearly dependent"), "{err}");
}

#[test]
fn a_perfectly_separating_covariate_is_reported_as_infinite() {
    // Everyone with x = 1 has the event before anyone with x = 0: the likelihood rises forever.
    let time = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
    let event = [true, true, true, true, true, false];
    let x = [1.0, 1.0, 1.0, 0.0, 0.0, 0.0];
    let err =
        cox_fit(&CoxData { time: &time, event: &event, x: &x, covariates: 1, weights: None }, &CoxOptions::default())
            .unwrap_err();
    assert!(matches!(err, StatsError::NotConverged { .. }), "{err}");
    assert!(err.to_string().contains("infinite"), "{err}");
}

#[test]
fn order_keys_sort_like_the_numbers() {
    let mut rng = SplitMix64::new(3);
    let mut values: Vec<f64> =
        (0..2000).map(|_| (rng.next_f64() - 0.5) * 10f64.powi(rng.below(20) as i32 - 10)).collect();
    values.extend([0.0, -0.0, 1.0, -1.0, f64::MAX, f64::MIN, f64::MIN_POSITIVE, -f64::MIN_POSITIVE]);
    for a in &values[..200] {
        for b in &values {
            assert_eq!(order_key(*a).cmp(&order_key(*b)), a.partial_cmp(b).unwrap(), "{a} vs {b}");
        }
    }
}

#[test]
fn radix_sort_is_a_stable_sort() {
    let mut rng = SplitMix64::new(4);
    for n in [0usize, 1, 2, 300, 5000] {
        // Few distinct keys (many ties), keys that differ only in high bytes, any keys.
        for shape in 0..3 {
            let keys: Vec<u64> = (0..n)
                .map(|_| match shape {
                    0 => rng.next_u64() % 3,
                    1 => (rng.next_u64() % 5) << 40,
                    _ => rng.next_u64(),
                })
                .collect();
            let mut want: Vec<(u64, usize)> = keys.iter().copied().zip(0..n).collect();
            want.sort();
            assert_eq!(sort_by_key(keys), want);
        }
    }
}
