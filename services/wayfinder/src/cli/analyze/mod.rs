//! `wayfinder analyze km|logrank|cox|logit|rmst|cif`: the evaluation's statistics over any
//! CSV extract, for analysts. Everything numeric lives in `wf-stats`; this module
//! reads columns, checks them, and prints tables (or JSON with `--json`).

mod table;

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use serde_json::{Value, json};
use wf_stats::competing::{CumulativeIncidence, cumulative_incidence};
use wf_stats::cox::{ChiSquareTest, Coefficient, CoxData, CoxOptions, Ties, cox_fit};
use wf_stats::km::{KaplanMeier, kaplan_meier};
use wf_stats::logit::{LogitData, LogitOptions, logit_fit};
use wf_stats::logrank::log_rank;
use wf_stats::rmst::{Rmst, difference, restricted_mean};

use table::CsvTable;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Method {
    /// Kaplan–Meier survival table (one per group with --group).
    Km,
    /// Log-rank test across the groups of --group.
    Logrank,
    /// Cox proportional hazards on --covariates.
    Cox,
    /// Logistic regression of the 0/1 --event column on --covariates.
    Logit,
    /// Restricted mean survival time up to --horizon (per group with --group; two groups also compared).
    Rmst,
    /// Cumulative incidence of each event kind among competing kinds (--event holds 0 = censored, 1, 2, … = kind).
    Cif,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TiesArg {
    /// Efron's approximation (the default of lifelines and R's survival).
    Efron,
    /// Breslow's approximation (simpler; biased towards zero with many ties).
    Breslow,
}

#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// The analysis.
    #[arg(value_enum)]
    pub method: Method,
    /// The CSV file (header line with column names, one row per subject).
    #[arg(long)]
    pub csv: PathBuf,
    /// Follow-up time column (every method but logit).
    #[arg(long)]
    pub time: Option<String>,
    /// Event column, 0 = censored / 1 = event (for logit: the 0/1 outcome; for cif: 0 = censored, 1, 2, … = kind).
    #[arg(long)]
    pub event: String,
    /// Group column (km: one curve per group; logrank: the groups compared; rmst: one estimate per group).
    #[arg(long)]
    pub group: Option<String>,
    /// Covariate columns, comma-separated (cox, logit).
    #[arg(long, value_delimiter = ',')]
    pub covariates: Vec<String>,
    /// Case-weight column (km, cox, logit, rmst).
    #[arg(long)]
    pub weights: Option<String>,
    /// How tied event times are handled (cox).
    #[arg(long, value_enum, default_value = "efron")]
    pub ties: TiesArg,
    /// Robust (sandwich) standard errors (cox).
    #[arg(long)]
    pub robust: bool,
    /// Confidence level of the intervals.
    #[arg(long, default_value_t = 0.95)]
    pub confidence: f64,
    /// Time horizon τ of the restricted mean (rmst), in the units of --time.
    #[arg(long)]
    pub horizon: Option<f64>,
    /// Only this event kind (cif); all kinds present when absent.
    #[arg(long)]
    pub kind: Option<u32>,
    /// Print JSON instead of tables.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &AnalyzeArgs) -> anyhow::Result<()> {
    let table = CsvTable::read(&args.csv)?;
    let output = analyze(args, &table)?;
    let text = if args.json { serde_json::to_string_pretty(&output.json)? + "\n" } else { output.text };
    // Piping into `head` closes stdout early; that ends the output, it is not an error.
    match std::io::Write::write_all(&mut std::io::stdout().lock(), text.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e).context("writing to standard output"),
        _ => Ok(()),
    }
}

#[derive(Debug)]
pub struct Output {
    pub text: String,
    pub json: Value,
}

fn time_column<'a>(args: &'a AnalyzeArgs, method: &str) -> anyhow::Result<&'a str> {
    args.time.as_deref().with_context(|| format!("{method} needs --time: the column holding follow-up time"))
}

fn not_used(args: &AnalyzeArgs, method: &str, group: bool, covariates: bool, weights: bool) -> anyhow::Result<()> {
    if !group && args.group.is_some() {
        bail!("--group is not used by {method}");
    }
    if !covariates && !args.covariates.is_empty() {
        bail!("--covariates is not used by {method}");
    }
    if !weights && args.weights.is_some() {
        bail!("--weights is not used by {method}");
    }
    Ok(())
}

pub fn analyze(args: &AnalyzeArgs, table: &CsvTable) -> anyhow::Result<Output> {
    let weights = args.weights.as_deref().map(|c| table.numbers(c)).transpose()?;
    let stats_error = |e: wf_stats::StatsError| anyhow::anyhow!("{}: {e}", table.file());
    if args.horizon.is_some() && args.method != Method::Rmst {
        bail!("--horizon is used only by rmst");
    }
    if args.kind.is_some() && args.method != Method::Cif {
        bail!("--kind is used only by cif");
    }
    match args.method {
        Method::Km => {
            not_used(args, "km", true, false, true)?;
            let time = table.numbers(time_column(args, "km")?)?;
            let event = table.flags(&args.event)?;
            let groups = match &args.group {
                Some(g) => split_by(&table.text(g)?),
                None => vec![("all".to_owned(), (0..table.len()).collect())],
            };
            let (mut text, mut curves) = (String::new(), Vec::new());
            for (label, rows) in groups {
                let t: Vec<f64> = rows.iter().map(|&i| time[i]).collect();
                let e: Vec<bool> = rows.iter().map(|&i| event[i]).collect();
                let w: Option<Vec<f64>> = weights.as_ref().map(|w| rows.iter().map(|&i| w[i]).collect());
                let km = kaplan_meier(&t, &e, w.as_deref(), args.confidence).map_err(stats_error)?;
                text.push_str(&km_text(&label, &km));
                curves.push(json!({ "group": label, "curve": km }));
            }
            Ok(Output { text, json: json!({ "method": "km", "curves": curves }) })
        }
        Method::Logrank => {
            not_used(args, "logrank", true, false, false)?;
            let time = table.numbers(time_column(args, "logrank")?)?;
            let event = table.flags(&args.event)?;
            let group = table.text(args.group.as_deref().context("logrank needs --group: the column to compare")?)?;
            let test = log_rank(&time, &event, &group).map_err(stats_error)?;
            let mut text = format!(
                "log-rank test across {} groups of \"{}\"\n",
                test.groups.len(),
                args.group.as_deref().unwrap_or("")
            );
            text.push_str(&format!("  {:<16} {:>8} {:>10} {:>10}\n", "group", "n", "observed", "expected"));
            for g in &test.groups {
                text.push_str(&format!(
                    "  {:<16} {:>8} {:>10.0} {:>10.2}\n",
                    g.group, g.subjects, g.observed, g.expected
                ));
            }
            text.push_str(&format!(
                "chi-square {:.4} on {} df, p = {}\n",
                test.statistic,
                test.df,
                p_text(test.p_value)
            ));
            Ok(Output { text, json: json!({ "method": "logrank", "test": test }) })
        }
        Method::Cox => {
            not_used(args, "cox", false, true, true)?;
            if args.covariates.is_empty() {
                bail!("cox needs --covariates: a comma-separated list of numeric columns");
            }
            let time = table.numbers(time_column(args, "cox")?)?;
            let event = table.flags(&args.event)?;
            let x = table.matrix(&args.covariates)?;
            let ties = match args.ties {
                TiesArg::Efron => Ties::Efron,
                TiesArg::Breslow => Ties::Breslow,
            };
            let data = CoxData {
                time: &time,
                event: &event,
                x: &x,
                covariates: args.covariates.len(),
                weights: weights.as_deref(),
            };
            let options =
                CoxOptions { ties, robust: args.robust, confidence: args.confidence, ..CoxOptions::default() };
            let fit = cox_fit(&data, &options).map_err(stats_error)?;
            let se_kind = if fit.robust { "robust (sandwich)" } else { "model-based" };
            let ties_name = if ties == Ties::Efron { "Efron" } else { "Breslow" };
            let mut text = format!(
                "Cox proportional hazards ({ties_name} ties, {se_kind} standard errors)\n  observations {}, events {}\n",
                fit.observations, fit.events
            );
            text.push_str(&coefficient_table(&args.covariates, &fit.coefficients, "exp(coef)", args.confidence));
            text.push_str(&format!(
                "log-likelihood: null {:.4}, model {:.4}\n",
                fit.log_likelihood_null, fit.log_likelihood
            ));
            text.push_str(&test_line("likelihood-ratio test", &fit.likelihood_ratio));
            text.push_str(&test_line("Wald test", &fit.wald));
            text.push_str(&test_line("score (log-rank) test", &fit.score));
            text.push_str(&format!("concordance {:.4}   iterations {}\n", fit.concordance, fit.iterations));
            for warning in &fit.warnings {
                text.push_str(&format!("warning: {warning}\n"));
            }
            let json =
                json!({ "method": "cox", "fit": fit, "coefficients": named(&args.covariates, &fit.coefficients)? });
            Ok(Output { text, json })
        }
        Method::Rmst => {
            not_used(args, "rmst", true, false, true)?;
            rmst(args, table, weights.as_deref())
        }
        Method::Cif => {
            not_used(args, "cif", false, false, false)?;
            cif(args, table)
        }
        Method::Logit => {
            not_used(args, "logit", false, true, true)?;
            if args.time.is_some() {
                bail!("--time is not used by logit: --event is the 0/1 outcome");
            }
            if args.covariates.is_empty() {
                bail!("logit needs --covariates: a comma-separated list of numeric columns");
            }
            let outcome = table.flags(&args.event)?;
            let x = table.matrix(&args.covariates)?;
            let data =
                LogitData { outcome: &outcome, x: &x, covariates: args.covariates.len(), weights: weights.as_deref() };
            let options = LogitOptions { confidence: args.confidence, ..LogitOptions::default() };
            let fit = logit_fit(&data, &options).map_err(stats_error)?;
            let names: Vec<String> =
                std::iter::once("(intercept)".to_owned()).chain(args.covariates.iter().cloned()).collect();
            let mut text = format!("logistic regression of \"{}\"\n  observations {}\n", args.event, fit.observations);
            text.push_str(&coefficient_table(&names, &fit.coefficients, "odds ratio", args.confidence));
            text.push_str(&format!(
                "log-likelihood: null {:.4}, model {:.4}\n",
                fit.log_likelihood_null, fit.log_likelihood
            ));
            text.push_str(&test_line("likelihood-ratio test", &fit.likelihood_ratio));
            let json = json!({ "method": "logit", "fit": fit, "coefficients": named(&names, &fit.coefficients)? });
            Ok(Output { text, json })
        }
    }
}

fn rmst(args: &AnalyzeArgs, table: &CsvTable, weights: Option<&[f64]>) -> anyhow::Result<Output> {
    let horizon = args.horizon.context("rmst needs --horizon: the time up to which survival time is averaged")?;
    let time = table.numbers(time_column(args, "rmst")?)?;
    let event = table.flags(&args.event)?;
    let groups = match &args.group {
        Some(g) => split_by(&table.text(g)?),
        None => vec![("all".to_owned(), (0..table.len()).collect())],
    };
    let mut text = format!(
        "restricted mean survival time up to {horizon} ({:.0}% intervals)\n  {:<16} {:>8} {:>10} {:>9}   interval\n",
        args.confidence * 100.0,
        "group",
        "n",
        "RMST",
        "std err"
    );
    let mut results: Vec<(String, Rmst)> = Vec::new();
    for (label, rows) in groups {
        let t: Vec<f64> = rows.iter().map(|&i| time[i]).collect();
        let e: Vec<bool> = rows.iter().map(|&i| event[i]).collect();
        let w: Option<Vec<f64>> = weights.map(|w| rows.iter().map(|&i| w[i]).collect());
        let km = kaplan_meier(&t, &e, w.as_deref(), args.confidence)
            .and_then(|km| restricted_mean(&km, horizon))
            .map_err(|e| anyhow::anyhow!("{}: group {label}: {e}", table.file()))?;
        text.push_str(&format!(
            "  {:<16} {:>8} {:>10.4} {:>9.4}   {:.4} – {:.4}\n",
            label,
            rows.len(),
            km.estimate,
            km.std_err,
            km.ci_lower,
            km.ci_upper
        ));
        results.push((label, km));
    }
    let mut json = json!({ "method": "rmst", "horizon": horizon, "groups": results.iter().map(|(g, r)| json!({ "group": g, "rmst": r })).collect::<Vec<_>>() });
    if let [(a, first), (b, second)] = results.as_slice() {
        let d = difference(first, second, args.confidence).map_err(|e| anyhow::anyhow!("{e}"))?;
        text.push_str(&format!(
            "difference {a} − {b}: {:.4} (std err {:.4}, {:.4} – {:.4}), z = {:.3}, p = {}\n",
            d.difference,
            d.std_err,
            d.ci_lower,
            d.ci_upper,
            d.z,
            p_text(d.p_value)
        ));
        json["difference"] = serde_json::to_value(&d)?;
    }
    Ok(Output { text, json })
}

fn cif(args: &AnalyzeArgs, table: &CsvTable) -> anyhow::Result<Output> {
    let time = table.numbers(time_column(args, "cif")?)?;
    let outcome = table.kinds(&args.event)?;
    let kinds: Vec<u32> = match args.kind {
        Some(0) => bail!("--kind 0 means censored: name a positive event kind"),
        Some(k) => vec![k],
        None => {
            let present: std::collections::BTreeSet<u32> = outcome.iter().copied().filter(|&k| k > 0).collect();
            if present.is_empty() {
                bail!("{}: column \"{}\" has no events (every value is 0)", table.file(), args.event);
            }
            present.into_iter().collect()
        }
    };
    let (mut text, mut curves) = (String::new(), Vec::new());
    for kind in kinds {
        let curve = cumulative_incidence(&time, &outcome, kind, args.confidence)
            .map_err(|e| anyhow::anyhow!("{}: {e}", table.file()))?;
        text.push_str(&cif_text(&curve));
        curves.push(json!({ "kind": kind, "curve": curve }));
    }
    Ok(Output { text, json: json!({ "method": "cif", "curves": curves }) })
}

fn cif_text(curve: &CumulativeIncidence) -> String {
    let mut text = format!(
        "cumulative incidence of kind {} (Aalen–Johansen, {:.0}% log-log intervals)\n",
        curve.kind,
        curve.confidence * 100.0
    );
    text.push_str(&format!(
        "  {:>10} {:>9} {:>7} {:>11} {:>9} {:>9}   interval\n",
        "time", "at risk", "events", "kind events", "incidence", "std err"
    ));
    for r in &curve.rows {
        text.push_str(&format!(
            "  {:>10} {:>9} {:>7} {:>11} {:>9.4} {:>9.4}   {:.4} – {:.4}\n",
            r.time, r.at_risk, r.events, r.kind_events, r.incidence, r.std_err, r.ci_lower, r.ci_upper
        ));
    }
    text
}

/// Row indices per group label, labels in sorted order.
fn split_by(labels: &[String]) -> Vec<(String, Vec<usize>)> {
    let mut groups: std::collections::BTreeMap<&str, Vec<usize>> = Default::default();
    for (i, l) in labels.iter().enumerate() {
        groups.entry(l.as_str()).or_default().push(i);
    }
    groups.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

fn named(names: &[String], coefficients: &[Coefficient]) -> anyhow::Result<Vec<Value>> {
    names
        .iter()
        .zip(coefficients)
        .map(|(name, c)| {
            let mut v = serde_json::to_value(c)?;
            v["name"] = json!(name);
            Ok(v)
        })
        .collect()
}

fn p_text(p: f64) -> String {
    if p < 1e-4 { format!("{p:.2e}") } else { format!("{p:.4}") }
}

fn test_line(name: &str, test: &ChiSquareTest) -> String {
    format!("{name} {:.4} on {} df, p = {}\n", test.statistic, test.df, p_text(test.p_value))
}

fn coefficient_table(names: &[String], coefficients: &[Coefficient], exp_name: &str, confidence: f64) -> String {
    let ci = format!("{:.0}% CI {exp_name}", confidence * 100.0);
    let mut text =
        format!("  {:<18} {:>10} {:>11} {:>10} {:>8} {:>10}   {ci}\n", "", "coef", exp_name, "se(coef)", "z", "p");
    for (name, c) in names.iter().zip(coefficients) {
        text.push_str(&format!(
            "  {:<18} {:>10.4} {:>11.4} {:>10.4} {:>8.3} {:>10}   {:.4} – {:.4}\n",
            name,
            c.coef,
            c.exp_coef,
            c.std_err,
            c.z,
            p_text(c.p_value),
            c.exp_ci_lower,
            c.exp_ci_upper
        ));
    }
    text
}

fn km_text(label: &str, km: &KaplanMeier) -> String {
    let mut text = format!(
        "Kaplan–Meier, group {label}: {} subjects, {} events ({:.0}% log-log intervals)\n",
        km.subjects,
        km.events,
        km.confidence * 100.0
    );
    text.push_str(&format!(
        "  {:>10} {:>9} {:>7} {:>9} {:>9} {:>9}   interval\n",
        "time", "at risk", "events", "censored", "survival", "std err"
    ));
    for r in &km.rows {
        text.push_str(&format!(
            "  {:>10} {:>9} {:>7} {:>9} {:>9.4} {:>9.4}   {:.4} – {:.4}\n",
            r.time, r.at_risk, r.events, r.censored, r.survival, r.std_err, r.ci_lower, r.ci_upper
        ));
    }
    text
}

#[cfg(test)]
mod tests;
