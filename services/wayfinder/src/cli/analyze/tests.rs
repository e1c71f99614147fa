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
        horizon: None,
        kind: None,
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

#[test]
fn rmst_and_cif_on_the_reference_data_agree_with_lifelines() {
    let mut a = args(Method::Rmst, data_file("cox_ties.csv"));
    a.horizon = Some(25.5);
    let out = run_on(&a).unwrap();
    let reference: Value = serde_json::from_str(&std::fs::read_to_string(data_file("cox_ties.json")).unwrap()).unwrap();
    let want = reference["rmst"].as_array().unwrap().iter().find(|r| r["horizon"] == 25.5).unwrap();
    let got = &out.json["groups"][0]["rmst"];
    assert!((got["estimate"].as_f64().unwrap() - want["estimate"].as_f64().unwrap()).abs() < 1e-9);
    assert!(out.text.starts_with("restricted mean survival time up to 25.5"), "{}", out.text);
    // Two groups are also compared.
    a.group = Some("group".into());
    a.csv = data_file("cox_weighted.csv");
    let three = run_on(&a).unwrap();
    assert!(three.json.get("difference").is_none(), "three groups: no pairwise difference");

    let mut c = args(Method::Cif, data_file("competing.csv"));
    c.event = "outcome".into();
    let out = run_on(&c).unwrap();
    assert_eq!(out.json["curves"].as_array().unwrap().len(), 3, "kinds 1, 2 and 3");
    let reference: Value =
        serde_json::from_str(&std::fs::read_to_string(data_file("competing.json")).unwrap()).unwrap();
    let want = reference["1"]["incidence"].as_array().unwrap().last().unwrap().as_f64().unwrap();
    let rows = out.json["curves"][0]["curve"]["rows"].as_array().unwrap();
    let got = rows.last().unwrap()["incidence"].as_f64().unwrap();
    assert!((got - want).abs() < 1e-9);
    c.kind = Some(2);
    assert_eq!(run_on(&c).unwrap().json["curves"].as_array().unwrap().len(), 1);
}

#[test]
fn rmst_and_cif_explain_what_is_missing_or_wrong() {
    let a = args(Method::Rmst, data_file("cox_ties.csv"));
    assert!(run_on(&a).unwrap_err().to_string().starts_with("rmst needs --horizon"));
    let mut a = args(Method::Rmst, data_file("cox_ties.csv"));
    a.horizon = Some(1e6);
    assert!(run_on(&a).unwrap_err().to_string().contains("beyond the last observed time"));
    let mut c = args(Method::Cif, data_file("competing.csv"));
    c.event = "time".into();
    let err = run_on(&c).unwrap_err().to_string();
    assert!(err.contains("is not an event kind"), "{err}");
    c.event = "outcome".into();
    c.kind = Some(0);
    assert!(run_on(&c).unwrap_err().to_string().starts_with("--kind 0 means censored"));
}
