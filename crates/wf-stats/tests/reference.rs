//! Agreement with lifelines and statsmodels on generated data sets.
//!
//! Inputs and reference outputs live in `tests/data/stats/` at the workspace root
//! and are made by `make_reference.py` there (run outside these tests). Tolerances
//! are the acceptance ones: Cox and logistic coefficients and standard errors
//! within 1e-6; Kaplan–Meier and log-rank within 1e-9.

use std::path::PathBuf;

use serde_json::Value;
use wf_stats::competing::cumulative_incidence;
use wf_stats::cox::{CoxData, CoxOptions, Ties, cox_fit};
use wf_stats::km::kaplan_meier;
use wf_stats::logit::{LogitData, LogitOptions, logit_fit};
use wf_stats::logrank::log_rank;
use wf_stats::rmst::restricted_mean;

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/stats")
}

/// The generated CSVs hold plain numbers and one-letter labels: a split on commas reads them.
struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn load(name: &str) -> Table {
        let text = std::fs::read_to_string(data_dir().join(format!("{name}.csv"))).expect("reference CSV present");
        let mut lines = text.lines();
        let header = lines.next().unwrap().split(',').map(str::to_owned).collect();
        let rows = lines.filter(|l| !l.is_empty()).map(|l| l.split(',').map(str::to_owned).collect()).collect();
        Table { header, rows }
    }

    fn column(&self, name: &str) -> Vec<&str> {
        let idx = self.header.iter().position(|h| h == name).unwrap_or_else(|| panic!("column {name}"));
        self.rows.iter().map(|r| r[idx].as_str()).collect()
    }

    fn numbers(&self, name: &str) -> Vec<f64> {
        self.column(name).iter().map(|v| v.parse().unwrap()).collect()
    }

    fn flags(&self, name: &str) -> Vec<bool> {
        self.numbers(name).iter().map(|&v| v == 1.0).collect()
    }

    fn matrix(&self, names: &[&str]) -> Vec<f64> {
        let cols: Vec<Vec<f64>> = names.iter().map(|n| self.numbers(n)).collect();
        (0..self.rows.len()).flat_map(|i| cols.iter().map(move |c| c[i])).collect()
    }
}

fn reference(name: &str) -> Value {
    let text = std::fs::read_to_string(data_dir().join(format!("{name}.json"))).expect("reference JSON present");
    serde_json::from_str(&text).unwrap()
}

fn floats(value: &Value) -> Vec<f64> {
    value.as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect()
}

fn close(what: &str, got: f64, want: f64, tolerance: f64) {
    assert!((got - want).abs() <= tolerance, "{what}: got {got}, reference {want} (tolerance {tolerance})");
}

fn close_all(what: &str, got: &[f64], want: &[f64], tolerance: f64) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        close(&format!("{what}[{i}]"), *g, *w, tolerance);
    }
}

const COVARIATES: [&str; 3] = ["x1", "x2", "x3"];

fn check_km(name: &str) {
    let table = Table::load(name);
    let want = &reference(name)["km"];
    let km = kaplan_meier(&table.numbers("time"), &table.flags("event"), None, 0.95).unwrap();
    let column = |f: fn(&wf_stats::km::KmRow) -> f64| km.rows.iter().map(f).collect::<Vec<_>>();
    // lifelines' event table can hold a time one ulp away from the parsed value.
    close_all("time", &column(|r| r.time), &floats(&want["time"]), 1e-12);
    close_all("at_risk", &column(|r| r.at_risk), &floats(&want["at_risk"]), 0.0);
    close_all("events", &column(|r| r.events), &floats(&want["events"]), 0.0);
    close_all("censored", &column(|r| r.censored), &floats(&want["censored"]), 0.0);
    close_all("survival", &column(|r| r.survival), &floats(&want["survival"]), 1e-9);
    close_all("std_err", &column(|r| r.std_err), &floats(&want["std_err"]), 1e-9);
    close_all("ci_lower", &column(|r| r.ci_lower), &floats(&want["ci_lower"]), 1e-9);
    close_all("ci_upper", &column(|r| r.ci_upper), &floats(&want["ci_upper"]), 1e-9);
}

fn check_logrank(name: &str) {
    let table = Table::load(name);
    let want = &reference(name)["logrank"];
    let test = log_rank(&table.numbers("time"), &table.flags("event"), &table.column("group")).unwrap();
    close("log-rank statistic", test.statistic, want["statistic"].as_f64().unwrap(), 1e-9);
    close("log-rank p", test.p_value, want["p_value"].as_f64().unwrap(), 1e-9);
    assert_eq!(test.df as u64, want["df"].as_u64().unwrap());
}

fn check_cox(name: &str, key: &str, ties: Ties, robust: bool, weighted: bool) {
    let table = Table::load(name);
    let want = &reference(name)[key];
    let time = table.numbers("time");
    let event = table.flags("event");
    let x = table.matrix(&COVARIATES);
    let w = weighted.then(|| table.numbers("w"));
    let data = CoxData { time: &time, event: &event, x: &x, covariates: 3, weights: w.as_deref() };
    let fit = cox_fit(&data, &CoxOptions { ties, robust, ..CoxOptions::default() }).unwrap();
    let coef: Vec<f64> = fit.coefficients.iter().map(|c| c.coef).collect();
    let se: Vec<f64> = fit.coefficients.iter().map(|c| c.std_err).collect();
    close_all(&format!("{name} {key} coef"), &coef, &floats(&want["coef"]), 1e-6);
    close_all(&format!("{name} {key} std_err"), &se, &floats(&want["std_err"]), 1e-6);
    close("log-likelihood", fit.log_likelihood, want["log_likelihood"].as_f64().unwrap(), 1e-6);
    close("null log-likelihood", fit.log_likelihood_null, want["log_likelihood_null"].as_f64().unwrap(), 1e-6);
    close("likelihood ratio", fit.likelihood_ratio.statistic, want["likelihood_ratio"].as_f64().unwrap(), 1e-6);
    if let Some(model_se) = want.get("model_std_err") {
        let got: Vec<f64> = fit.coefficients.iter().map(|c| c.model_std_err).collect();
        close_all("model std_err", &got, &floats(model_se), 1e-6);
    }
    if let Some(p) = want.get("p_value") {
        let got: Vec<f64> = fit.coefficients.iter().map(|c| c.p_value).collect();
        close_all("p", &got, &floats(p), 1e-6);
        let lo: Vec<f64> = fit.coefficients.iter().map(|c| c.ci_lower).collect();
        close_all("ci_lower", &lo, &floats(&want["ci_lower"]), 1e-6);
    }
    if let Some(c) = want.get("concordance") {
        close("concordance", fit.concordance, c.as_f64().unwrap(), 1e-9);
    }
    if let Some(wald) = want.get("wald") {
        close("wald", fit.wald.statistic, wald.as_f64().unwrap(), 1e-6);
    }
    if let Some(score) = want.get("score") {
        close("score", fit.score.statistic, score.as_f64().unwrap(), 1e-6);
    }
}

#[test]
fn kaplan_meier_agrees_with_lifelines() {
    for name in ["cox_ties", "cox_heavy_ties", "cox_weighted"] {
        check_km(name);
    }
}

#[test]
fn log_rank_agrees_with_lifelines() {
    for name in ["cox_ties", "cox_heavy_ties", "cox_weighted"] {
        check_logrank(name);
    }
}

#[test]
fn cox_efron_agrees_with_lifelines() {
    check_cox("cox_ties", "cox_efron", Ties::Efron, false, false);
    check_cox("cox_heavy_ties", "cox_efron", Ties::Efron, false, false);
}

#[test]
fn weighted_cox_agrees_with_lifelines_model_and_robust_errors() {
    check_cox("cox_weighted", "cox_efron", Ties::Efron, false, true);
    check_cox("cox_weighted", "cox_efron_robust", Ties::Efron, true, true);
}

#[test]
fn cox_breslow_agrees_with_statsmodels() {
    check_cox("cox_ties", "cox_breslow", Ties::Breslow, false, false);
    check_cox("cox_heavy_ties", "cox_breslow", Ties::Breslow, false, false);
}

#[test]
fn logistic_agrees_with_statsmodels() {
    let table = Table::load("logistic");
    let want = reference("logistic");
    let y = table.flags("y");
    let x = table.matrix(&COVARIATES);
    let w = table.numbers("w");
    for (key, weights) in [("unweighted", None), ("weighted", Some(w.as_slice()))] {
        let fit =
            logit_fit(&LogitData { outcome: &y, x: &x, covariates: 3, weights }, &LogitOptions::default()).unwrap();
        let want = &want[key];
        let coef: Vec<f64> = fit.coefficients.iter().map(|c| c.coef).collect();
        let se: Vec<f64> = fit.coefficients.iter().map(|c| c.std_err).collect();
        close_all(&format!("logit {key} coef"), &coef, &floats(&want["coef"]), 1e-6);
        close_all(&format!("logit {key} std_err"), &se, &floats(&want["std_err"]), 1e-6);
        close("logit log-likelihood", fit.log_likelihood, want["log_likelihood"].as_f64().unwrap(), 1e-6);
        if let Some(null) = want.get("log_likelihood_null") {
            close("logit null log-likelihood", fit.log_likelihood_null, null.as_f64().unwrap(), 1e-6);
            let p: Vec<f64> = fit.coefficients.iter().map(|c| c.p_value).collect();
            close_all("logit p", &p, &floats(&want["p_value"]), 1e-9);
        }
    }
}

#[test]
fn restricted_mean_agrees_with_lifelines() {
    let table = Table::load("cox_ties");
    let km = kaplan_meier(&table.numbers("time"), &table.flags("event"), None, 0.95).unwrap();
    let want = reference("cox_ties");
    for case in want["rmst"].as_array().unwrap() {
        let horizon = case["horizon"].as_f64().unwrap();
        let got = restricted_mean(&km, horizon).unwrap();
        close(&format!("rmst({horizon})"), got.estimate, case["estimate"].as_f64().unwrap(), 1e-9);
        close(&format!("rmst({horizon}) std_err"), got.std_err, case["std_err"].as_f64().unwrap(), 1e-9);
    }
}

#[test]
fn cumulative_incidence_agrees_with_lifelines() {
    let table = Table::load("competing");
    let want = reference("competing");
    let time = table.numbers("time");
    let outcome: Vec<u32> = table.numbers("outcome").iter().map(|&v| v as u32).collect();
    for kind in [1u32, 2] {
        let want = &want[kind.to_string()];
        let cif = cumulative_incidence(&time, &outcome, kind, 0.95).unwrap();
        let column = |f: fn(&wf_stats::competing::IncidenceRow) -> f64| cif.rows.iter().map(f).collect::<Vec<_>>();
        close_all("time", &column(|r| r.time), &floats(&want["time"]), 1e-12);
        close_all("at_risk", &column(|r| r.at_risk), &floats(&want["at_risk"]), 0.0);
        close_all("incidence", &column(|r| r.incidence), &floats(&want["incidence"]), 1e-9);
        // lifelines leaves the interval undefined (null) while the incidence is 0, where it is
        // [0, 0] here, and the variance undefined (0/0) after everyone left at risk had an event,
        // where the Greenwood-style term is left out here: those entries are not compared.
        let compared = |key: &str, got: Vec<f64>| {
            let mut compared = 0;
            for (i, (g, w)) in got.iter().zip(want[key].as_array().unwrap()).enumerate() {
                match w.as_f64() {
                    Some(w) => {
                        close(&format!("kind {kind} {key}[{i}]"), *g, w, 1e-9);
                        compared += 1;
                    }
                    None if key != "std_err" && cif.rows[i].incidence == 0.0 => assert_eq!(*g, 0.0),
                    None => assert_eq!(i, cif.rows.len() - 1, "{key}[{i}] is undefined only at the end"),
                }
            }
            assert!(compared + 3 >= got.len());
        };
        compared("std_err", column(|r| r.std_err));
        compared("ci_lower", column(|r| r.ci_lower));
        compared("ci_upper", column(|r| r.ci_upper));
    }
}
