//! Cox on 100,000 rows × 10 covariates: wf-stats beside lifelines, same data, same run.
//!
//! `cargo bench -p wf-stats --bench cox_fit` prints a report (no assertions: speed
//! is measured, not tested). The goal is ≥ 20× lifelines' time with the same
//! coefficients. lifelines is skipped, with a note, when python3 or lifelines is
//! missing (`pip install lifelines`).

use std::io::Write;
use std::process::Command;
use std::time::Instant;

use wf_stats::bootstrap::SplitMix64;
use wf_stats::cox::{CoxData, CoxFit, CoxOptions, Ties, cox_fit};

const ROWS: usize = 100_000;
const COVARIATES: usize = 10;
/// Both sides report their best of this many fits, which damps noise from other work on the machine.
const RUNS: usize = 10;

/// Exponential event times with planted effects, uniform censoring, times
/// rounded to 0.01 so that there are ties for Efron's method to handle.
fn generate() -> (Vec<f64>, Vec<bool>, Vec<f64>) {
    let mut rng = SplitMix64::new(20_261_126);
    let beta: Vec<f64> = (0..COVARIATES).map(|k| 0.3 - 0.06 * k as f64).collect();
    let (mut time, mut event, mut x) = (Vec::with_capacity(ROWS), Vec::with_capacity(ROWS), Vec::new());
    for _ in 0..ROWS {
        let row: Vec<f64> = (0..COVARIATES)
            .map(|k| if k % 3 == 2 { f64::from(rng.next_f64() < 0.4) } else { rng.next_f64() * 2.0 - 1.0 })
            .collect();
        let eta: f64 = row.iter().zip(&beta).map(|(a, b)| a * b).sum();
        let t_event = -(1.0 - rng.next_f64()).ln() / (0.1 * eta.exp());
        let t_censor = rng.next_f64() * 20.0;
        time.push((t_event.min(t_censor) * 100.0).ceil() / 100.0);
        event.push(t_event <= t_censor);
        x.extend(row);
    }
    (time, event, x)
}

const LIFELINES: &str = r#"
import json, sys, time
import pandas as pd
from lifelines import CoxPHFitter
df = pd.read_csv(sys.argv[1], float_precision="round_trip")
seconds = cpu = fit_seconds = fit_cpu = float("inf")
for _ in range(int(sys.argv[2])):
    start, start_cpu = time.perf_counter(), time.process_time()
    cph = CoxPHFitter().fit(df, duration_col="time", event_col="event")
    fitted, fitted_cpu = time.perf_counter(), time.process_time()
    # wf-stats reports the concordance with every fit; lifelines computes it on first access.
    concordance = cph.concordance_index_
    fit_seconds = min(fit_seconds, fitted - start)
    fit_cpu = min(fit_cpu, fitted_cpu - start_cpu)
    seconds = min(seconds, time.perf_counter() - start)
    cpu = min(cpu, time.process_time() - start_cpu)
print(json.dumps({"seconds": seconds, "cpu": cpu, "fit_seconds": fit_seconds, "fit_cpu": fit_cpu,
                  "coef": cph.params_.tolist(), "se": cph.standard_errors_.tolist(), "concordance": concordance}))
"#;

fn main() {
    let (time, event, x) = generate();
    let data = CoxData { time: &time, event: &event, x: &x, covariates: COVARIATES, weights: None };
    let options = CoxOptions { ties: Ties::Efron, ..CoxOptions::default() };
    let (best, best_cpu, fit) = best_of(&data, &options);
    let fit_only = CoxOptions { concordance: false, ..options };
    let (best_fit, best_fit_cpu, fit_without_concordance) = best_of(&data, &fit_only);
    assert_eq!(fit.coefficients, fit_without_concordance.coefficients, "the concordance does not change the fit");
    let events = event.iter().filter(|&&e| e).count();
    let distinct = {
        let mut t = time.clone();
        t.sort_by(f64::total_cmp);
        t.dedup();
        t.len()
    };
    println!(
        "Cox proportional hazards, Efron ties: {ROWS} rows × {COVARIATES} covariates, {events} events, {distinct} distinct times"
    );
    println!(
        "  wf-stats   {best_fit:>9.3} s  wall, {best_fit_cpu:.3} s CPU (best of {RUNS}; {} Newton iterations; fit alone)",
        fit.iterations
    );
    println!("  wf-stats   {best:>9.3} s  wall, {best_cpu:.3} s CPU (best of {RUNS}; fit and concordance)");

    // Other work on the machine slows both sides unevenly; say how busy it was.
    if let Ok(load) = std::fs::read_to_string("/proc/loadavg") {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let one_minute = load.split_whitespace().next().unwrap_or("?");
        println!("  machine load average {one_minute} on {cores} cores (timings are noisier above {cores})");
    }
    match lifelines(&time, &event, &x) {
        Ok(reference) => {
            let Reference { seconds, cpu, fit_seconds, fit_cpu, coef, se, concordance } = reference;
            let coef_diff = fit.coefficients.iter().zip(&coef).map(|(c, r)| (c.coef - r).abs()).fold(0.0, f64::max);
            let se_diff = fit.coefficients.iter().zip(&se).map(|(c, r)| (c.std_err - r).abs()).fold(0.0, f64::max);
            println!(
                "  lifelines  {fit_seconds:>9.3} s  wall, {fit_cpu:.3} s CPU (best of {RUNS}; CoxPHFitter.fit alone, same data)"
            );
            println!(
                "  lifelines  {seconds:>9.3} s  wall, {cpu:.3} s CPU (best of {RUNS}; CoxPHFitter.fit and its concordance)"
            );
            println!(
                "  ratio      {:>9.1}×  wall, {:.1}× CPU  fit alone on both sides (goal ≥ 20×)",
                fit_seconds / best_fit,
                fit_cpu / best_fit_cpu
            );
            println!(
                "  ratio      {:>9.1}×  wall, {:.1}× CPU  fit and concordance on both sides (goal ≥ 20×)",
                seconds / best,
                cpu / best_cpu
            );
            println!(
                "  (lifelines' CPU time counts all of its threads; the wall ratio is the stricter one when its \
                 linear algebra runs on several cores)"
            );
            println!(
                "  max |coefficient difference| {coef_diff:.3e}, max |standard error difference| {se_diff:.3e}, \
                 concordance difference {:.3e}",
                (fit.concordance - concordance).abs()
            );
        }
        Err(note) => println!("  lifelines  skipped: {note}"),
    }
}

/// Best wall and CPU seconds of [`RUNS`] fits, and the last fit.
fn best_of(data: &CoxData<'_>, options: &CoxOptions) -> (f64, f64, CoxFit) {
    let (mut best, mut best_cpu) = (f64::INFINITY, f64::INFINITY);
    let mut fit = None;
    for _ in 0..RUNS {
        let (start, start_cpu) = (Instant::now(), thread_cpu_seconds());
        let result = cox_fit(data, options).expect("the generated data fit");
        best = best.min(start.elapsed().as_secs_f64());
        if let (Some(a), Some(b)) = (start_cpu, thread_cpu_seconds()) {
            best_cpu = best_cpu.min(b - a);
        }
        fit = Some(result);
    }
    (best, best_cpu, fit.expect("at least one run"))
}

/// CPU time of this thread (Linux `/proc/thread-self/schedstat`, nanoseconds on CPU): unlike wall
/// time it hardly changes when other processes compete for the cores. The fit is single-threaded.
fn thread_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanos: f64 = stat.split_whitespace().next()?.parse().ok()?;
    Some(nanos / 1e9)
}

/// What lifelines measured (best of the runs; CPU over all of Python's threads) and computed.
struct Reference {
    /// Fit and concordance.
    seconds: f64,
    cpu: f64,
    /// Fit alone.
    fit_seconds: f64,
    fit_cpu: f64,
    coef: Vec<f64>,
    se: Vec<f64>,
    concordance: f64,
}

fn lifelines(time: &[f64], event: &[bool], x: &[f64]) -> Result<Reference, String> {
    let dir = std::env::temp_dir().join(format!("wf-stats-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let csv = dir.join("cox.csv");
    let result = (|| {
        let mut out = std::io::BufWriter::new(std::fs::File::create(&csv).map_err(|e| e.to_string())?);
        let header: Vec<String> = (0..COVARIATES).map(|k| format!("x{k}")).collect();
        writeln!(out, "time,event,{}", header.join(",")).map_err(|e| e.to_string())?;
        for i in 0..time.len() {
            let row: Vec<String> = x[i * COVARIATES..(i + 1) * COVARIATES].iter().map(|v| format!("{v:?}")).collect();
            writeln!(out, "{:?},{},{}", time[i], u8::from(event[i]), row.join(",")).map_err(|e| e.to_string())?;
        }
        out.flush().map_err(|e| e.to_string())?;
        drop(out);
        let output = Command::new("python3")
            .arg("-c")
            .arg(LIFELINES)
            .arg(&csv)
            .arg(RUNS.to_string())
            .output()
            .map_err(|e| format!("python3 is not available ({e})"))?;
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            return Err(format!("python3 with lifelines failed: {}", stderr.lines().last().unwrap_or("")));
        }
        let stdout = String::from_utf8_lossy(&output.stdout);
        let line = stdout.lines().last().ok_or("lifelines printed nothing")?;
        let value: serde_json::Value = serde_json::from_str(line).map_err(|e| e.to_string())?;
        let floats = |key: &str| -> Vec<f64> {
            value[key].as_array().map(|a| a.iter().filter_map(|v| v.as_f64()).collect()).unwrap_or_default()
        };
        let number = |key: &str| value[key].as_f64().unwrap_or(f64::NAN);
        Ok(Reference {
            seconds: number("seconds"),
            cpu: number("cpu"),
            fit_seconds: number("fit_seconds"),
            fit_cpu: number("fit_cpu"),
            coef: floats("coef"),
            se: floats("se"),
            concordance: number("concordance"),
        })
    })();
    let _ = std::fs::remove_dir_all(&dir);
    result
}
