use super::*;

fn data_file(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/stats").join(name)
}

fn args(method: Method, csv: PathBuf) -> AnalyzeArgs {
    AnalyzeArgs {
        method,
        csv,
        time: Some("time".into()),
        event: "event".into(),
        group: None,
        covariates: Vec::new(),
        weights: None,
        ties: TiesArg::Efron,
        robust: false,
        confidence: 0.95,
        json: false,
    }
}

fn run_on(args: &AnalyzeArgs) -> anyhow::Result<Output> {
    analyze(args, &CsvTable::read(&args.csv)?)
}

#[test]
fn cox_on_the_reference_data_reports_lifelines_coefficients() {
    let mut a = args(Method::Cox, data_file("cox_ties.csv"));
    a.covariates = vec!["x1".into(), "x2".into(), "x3".into()];
    let out = run_on(&a).unwrap();
    let reference: Value = serde_json::from_str(&std::fs::read_to_string(data_file("cox_ties.json")).unwrap()).unwrap();
    for (i, want) in reference["cox_efron"]["coef"].as_array().unwrap().iter().enumerate() {
        let got = out.json["coefficients"][i]["coef"].as_f64().unwrap();
        assert!((got - want.as_f64().unwrap()).abs() < 1e-6);
        assert_eq!(out.json["coefficients"][i]["name"], a.covariates[i].as_str());
    }
    assert!(out.text.contains("Efron ties, model-based"), "{}", out.text);
    assert!(out.text.contains("likelihood-ratio test") && out.text.contains("concordance"));
}

#[test]
fn km_by_group_gives_one_curve_per_group_and_logrank_a_p_value() {
    let mut a = args(Method::Km, data_file("cox_heavy_ties.csv"));
    a.group = Some("group".into());
    let out = run_on(&a).unwrap();
    let groups: Vec<&str> =
        out.json["curves"].as_array().unwrap().iter().map(|c| c["group"].as_str().unwrap()).collect();
    assert_eq!(groups, ["a", "b", "c"]);
    a.method = Method::Logrank;
    let out = run_on(&a).unwrap();
    assert_eq!(out.json["test"]["df"], 2);
    assert!(out.text.contains("chi-square"));
}

#[test]
fn logit_takes_the_outcome_from_event() {
    let mut a = args(Method::Logit, data_file("logistic.csv"));
    a.time = None;
    a.event = "y".into();
    a.covariates = vec!["x1".into(), "x2".into(), "x3".into()];
    a.weights = Some("w".into());
    let out = run_on(&a).unwrap();
    assert_eq!(out.json["coefficients"][0]["name"], "(intercept)");
    assert!(out.text.contains("odds ratio"));
}

#[test]
fn mistakes_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("bad.csv");
    std::fs::write(&csv, "time,event,age,arm\n3,1,20,a\n5,2,21,b\n").unwrap();
    let mut a = args(Method::Cox, csv.clone());
    a.covariates = vec!["age".into()];
    let err = run_on(&a).unwrap_err().to_string();
    assert!(err.ends_with("line 3, column \"event\": \"2\" is not 0 or 1"), "{err}");
    std::fs::write(&csv, "time,event,age,arm\n3,1,20,a\n5,0,21,b\n").unwrap();
    a.covariates = vec!["weight".into()];
    let err = run_on(&a).unwrap_err().to_string();
    assert!(err.contains("there is no column \"weight\""), "{err}");
    a.covariates.clear();
    assert!(run_on(&a).unwrap_err().to_string().starts_with("cox needs --covariates"));
    let a = args(Method::Logrank, csv);
    assert!(run_on(&a).unwrap_err().to_string().starts_with("logrank needs --group"));
}

#[test]
fn the_command_line_parses_into_analyze_args() {
    use clap::Parser;
    let cli = crate::cli::Cli::try_parse_from([
        "wayfinder",
        "analyze",
        "cox",
        "--csv",
        "x.csv",
        "--time",
        "days",
        "--event",
        "again",
        "--covariates",
        "age,mandated",
        "--ties",
        "breslow",
        "--robust",
        "--json",
    ])
    .unwrap();
    let crate::cli::Command::Analyze(args) = cli.command else { panic!("not analyze") };
    assert_eq!(args.method, Method::Cox);
    assert_eq!(args.covariates, ["age", "mandated"]);
    assert_eq!(args.ties, TiesArg::Breslow);
    assert!(args.robust && args.json);
    let err = crate::cli::Cli::try_parse_from([
        "wayfinder",
        "analyze",
        "cox",
        "--csv",
        "x.csv",
        "--event",
        "e",
        "--ties",
        "exact",
    ])
    .unwrap_err()
    .to_string();
    assert!(err.contains("efron") && err.contains("breslow"), "{err}");
}
