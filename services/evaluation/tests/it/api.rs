//! The RPCs: analyses on events, reports, validation, authorization, synthetic cohort.

use tonic::Code;
use wf_auth::Role;
use wf_proto::common::v1::ReportFormat;
use wf_proto::evaluation::v1 as pb;
use wf_testkit::{Engine, both_engines};

use wf_types::TestClock;

use crate::harness::{
    Served, analysis, assert_code, assert_tables, cohort, generate, missing_and_long_term_cohort, ts,
};

both_engines!(survival_from_events_excludes_practice_and_is_idempotent, |engine: Engine| async move {
    let served = Served::start(engine).await;
    let events = cohort("a", 40, false);
    served.publish_all(&events).await;
    served.publish_all(&cohort("p", 30, true)).await;
    // A redelivery has no second effect.
    served.publish_all(&events[..10]).await;
    let mut client = served.manager().await;
    let rebuilt = client.rebuild_dataset(pb::RebuildDatasetRequest {}).await.unwrap().into_inner();
    assert_eq!(rebuilt.youth_count, 40, "practice referrals are excluded");
    let again = client.rebuild_dataset(pb::RebuildDatasetRequest {}).await.unwrap().into_inner();
    assert_eq!(again.dataset_version, rebuilt.dataset_version, "redelivered events changed the data set");

    let response = client.run_analysis(analysis(pb::AnalysisKind::RecidivismSurvival)).await.unwrap().into_inner();
    assert!(!response.synthetic);
    assert_eq!(response.dataset_version, rebuilt.dataset_version);
    let km = response.tables.iter().find(|t| t.name == "recidivism_12m_survival").expect("km table");
    // Overall at day 30: all 40 at risk? No: half the odd ones were censored around day 20.
    let day_30 = km.rows.iter().find(|r| r.cells[0].value == "all" && r.cells[1].value == "30").unwrap();
    assert!(!day_30.cells[2].suppressed);
    assert!(day_30.cells[2].number >= 11.0 && day_30.cells[2].number < 40.0, "{day_30:?}");
    assert_eq!(day_30.cells[3].number, 1.0, "no event before day 100");
    let events_table = response.tables.iter().find(|t| t.name == "recidivism_12m_events").unwrap();
    let total = events_table.rows.last().unwrap();
    assert_eq!(total.cells[0].value, "total");
    assert_eq!(total.cells[1].number, 14.0, "every third of 40 has a re-arrest");
});

both_engines!(reports_render_in_three_formats_and_are_listed, |engine: Engine| async move {
    let served = Served::start(engine).await;
    served.publish_all(&cohort("r", 60, false)).await;
    let mut client = served.manager().await;
    let mut ids = Vec::new();
    for (kind, format, content_type) in [
        (pb::ReportKind::Baseline, ReportFormat::Html, "text/html; charset=utf-8"),
        (pb::ReportKind::Outcome, ReportFormat::Json, "application/json"),
        (pb::ReportKind::DataCompleteness, ReportFormat::Csv, "text/csv; charset=utf-8"),
    ] {
        let report = generate(&mut client, kind, format).await;
        assert_eq!(report.content_type, content_type);
        assert!(!report.content.is_empty());
        assert_eq!(report.generated_by, "test-program_manager");
        ids.push(report.report_id);
    }
    let outcome = client.get_report(pb::GetReportRequest { report_id: ids[1].clone() }).await.unwrap().into_inner();
    let json: serde_json::Value = serde_json::from_slice(&outcome.report.unwrap().content).unwrap();
    let names: Vec<&str> = json["tables"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    for expected in [
        "recidivism_12m_survival",
        "recidivism_cumulative_incidence",
        "intervention_bundles",
        "landmark_day_90",
        "follow_up_retention",
    ] {
        assert!(names.contains(&expected), "{expected} missing from {names:?}");
    }
    let html = client.get_report(pb::GetReportRequest { report_id: ids[0].clone() }).await.unwrap().into_inner();
    let html = String::from_utf8(html.report.unwrap().content).unwrap();
    assert!(html.contains("<svg") || html.contains("<table>"));
    assert!(html.contains("Cohort: program data"), "every report states its cohort");

    let listed = client
        .list_reports(pb::ListReportsRequest { kind: 0, page_size: 2, page_token: String::new() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.reports.len(), 2);
    assert!(listed.reports.iter().all(|r| r.content.is_empty()));
    assert!(!listed.next_page_token.is_empty());
    let rest = client
        .list_reports(pb::ListReportsRequest { kind: 0, page_size: 2, page_token: listed.next_page_token })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(rest.reports.len(), 1);
    let baseline_only = client
        .list_reports(pb::ListReportsRequest {
            kind: pb::ReportKind::Baseline as i32,
            page_size: 0,
            page_token: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(baseline_only.reports.len(), 1);

    let missing = client.get_report(pb::GetReportRequest { report_id: "rpt_0000".into() }).await;
    assert_code(missing, Code::NotFound);
});

/// Every RPC as `role`: the status code of each, in the order reads (generate, get, list,
/// completeness, analysis) then changes (rebuild, seed). `Ok` is `None`.
async fn every_rpc(served: &Served, role: Role) -> Vec<(&'static str, Option<tonic::Status>)> {
    let mut client = served.client(role).await;
    let report = pb::GenerateReportRequest {
        kind: pb::ReportKind::Baseline as i32,
        format: ReportFormat::Json as i32,
        scope: None,
    };
    vec![
        ("GenerateReport", client.generate_report(report).await.err()),
        ("GetReport", client.get_report(pb::GetReportRequest { report_id: "rpt_0000".into() }).await.err()),
        ("ListReports", client.list_reports(pb::ListReportsRequest::default()).await.err()),
        ("GetDataCompleteness", client.get_data_completeness(pb::GetDataCompletenessRequest::default()).await.err()),
        ("RunAnalysis", client.run_analysis(analysis(pb::AnalysisKind::RecidivismSurvival)).await.err()),
        ("RebuildDataset", client.rebuild_dataset(pb::RebuildDatasetRequest {}).await.err()),
        // Out of range, so an authorized caller gets INVALID_ARGUMENT and nothing is seeded.
        (
            "SeedSyntheticCohort",
            client.seed_synthetic_cohort(pb::SeedSyntheticCohortRequest { size: 1, seed: 1 }).await.err(),
        ),
    ]
}

const READS: [&str; 5] = ["GenerateReport", "GetReport", "ListReports", "GetDataCompleteness", "RunAnalysis"];

both_engines!(evaluators_read_program_managers_also_change, |engine: Engine| async move {
    let served = Served::start(engine).await;
    served.publish_all(&cohort("a", 30, false)).await;
    for role in wf_auth::Role::ALL {
        // A partner token needs a partner id (below); a service token is not a user token (the
        // authorization table's unit test covers the service role).
        if matches!(role, Role::Partner | Role::Service) {
            continue;
        }
        for (rpc, status) in every_rpc(&served, role).await {
            let allowed = match role {
                Role::ProgramManager => true,
                Role::Evaluator => READS.contains(&rpc),
                _ => false,
            };
            let denied = status.as_ref().filter(|s| s.code() == Code::PermissionDenied);
            if allowed {
                assert!(denied.is_none(), "{role} {rpc}: {status:?}");
            } else {
                let denied = denied.unwrap_or_else(|| panic!("{role} {rpc} was not refused: {status:?}"));
                let wanted = if READS.contains(&rpc) {
                    "may not run the evaluation"
                } else {
                    "may not manage the evaluation data set"
                };
                assert_eq!(denied.message(), format!("role {role} {wanted}"), "{rpc}");
            }
        }
    }
    // What an authorized caller gets: the unknown report is not found, the seed size is invalid.
    let manager = every_rpc(&served, Role::ProgramManager).await;
    let codes: Vec<Option<Code>> = manager.iter().map(|(_, s)| s.as_ref().map(tonic::Status::code)).collect();
    assert_eq!(codes, [None, Some(Code::NotFound), None, None, None, None, Some(Code::InvalidArgument)]);
    let evaluator = every_rpc(&served, Role::Evaluator).await;
    let codes: Vec<Option<Code>> = evaluator.iter().map(|(_, s)| s.as_ref().map(tonic::Status::code)).collect();
    assert_eq!(
        codes,
        [None, Some(Code::NotFound), None, None, None, Some(Code::PermissionDenied), Some(Code::PermissionDenied)]
    );

    let partner = served.server.tokens.partner("org_0001");
    let mut partner = wf_proto::evaluation::v1::evaluation_service_client::EvaluationServiceClient::new(
        served.server.channel(&partner).await,
    );
    assert_code(partner.run_analysis(analysis(pb::AnalysisKind::RecidivismSurvival)).await, Code::PermissionDenied);
    assert_code(partner.rebuild_dataset(pb::RebuildDatasetRequest {}).await, Code::PermissionDenied);
});

both_engines!(invalid_requests_name_each_field, |engine: Engine| async move {
    let served = Served::start(engine).await;
    let mut client = served.manager().await;
    let status = assert_code(
        client
            .generate_report(pb::GenerateReportRequest {
                kind: 0,
                format: 99,
                scope: Some(pb::Scope { group_by: vec!["shoe_size".into()], ..Default::default() }),
            })
            .await,
        Code::InvalidArgument,
    );
    for field in ["kind:", "format:", "scope.group_by[0]:"] {
        assert!(status.message().contains(field), "{field} not in {}", status.message());
    }
    let status =
        assert_code(client.run_analysis(pb::RunAnalysisRequest { kind: 0, scope: None }).await, Code::InvalidArgument);
    assert!(status.message().starts_with("kind:"));
    assert_code(
        client.seed_synthetic_cohort(pb::SeedSyntheticCohortRequest { size: 3, seed: 1 }).await,
        Code::InvalidArgument,
    );
});

both_engines!(a_synthetic_cohort_is_marked_and_never_mixed_with_program_data, |engine: Engine| async move {
    let served = Served::start(engine).await;
    let mut client = served.manager().await;
    let scope = Some(pb::Scope { synthetic: true, ..Default::default() });
    assert_code(
        client
            .run_analysis(pb::RunAnalysisRequest {
                kind: pb::AnalysisKind::RecidivismSurvival as i32,
                scope: scope.clone(),
            })
            .await,
        Code::FailedPrecondition,
    );
    let seeded =
        client.seed_synthetic_cohort(pb::SeedSyntheticCohortRequest { size: 300, seed: 7 }).await.unwrap().into_inner();
    assert_eq!(seeded.youth_count, 300);
    // With no program data the demo reports run on the synthetic cohort, marked as such.
    let report = generate(&mut client, pb::ReportKind::Outcome, ReportFormat::Html).await;
    assert!(report.synthetic);
    assert!(report.dataset_version.starts_with("synthetic-"));
    let html = String::from_utf8(report.content).unwrap();
    assert!(html.contains("SYNTHETIC DEMONSTRATION DATA"));
    assert!(html.contains("Cohort: synthetic demonstration cohort"));
    assert!(html.contains("<svg"), "charts are drawn");

    // Program data arrives: analyses use it alone, and seeding again is refused.
    served.publish_all(&cohort("s", 20, false)).await;
    let program = client.run_analysis(analysis(pb::AnalysisKind::RecidivismSurvival)).await.unwrap().into_inner();
    assert!(!program.synthetic);
    assert!(program.dataset_version.starts_with("program-"));
    let synthetic = client
        .run_analysis(pb::RunAnalysisRequest { kind: pb::AnalysisKind::RecidivismSurvival as i32, scope })
        .await
        .unwrap()
        .into_inner();
    assert!(synthetic.synthetic);
    assert_code(
        client.seed_synthetic_cohort(pb::SeedSyntheticCohortRequest { size: 300, seed: 8 }).await,
        Code::FailedPrecondition,
    );
});

both_engines!(missing_episodes_and_long_term_domains_come_from_case_events, |engine: Engine| async move {
    let served = Served::start(engine).await;
    // 30 youth: 12 go missing once for 10 days; 6-month answers: 14 employed, 16 not.
    served.publish_all(&missing_and_long_term_cohort(30, 12, 14)).await;
    let mut client = served.manager().await;

    let missing = client.run_analysis(analysis(pb::AnalysisKind::MissingEpisodes)).await.unwrap().into_inner();
    let youth = missing.tables.iter().find(|t| t.name == "missing_episodes_youth").expect("youth table");
    let all = &youth.rows[0];
    assert_eq!(all.cells[0].value, "all");
    // no episode 18, one episode 12, two or more 0, total 30.
    let shown: Vec<&str> = all.cells.iter().skip(1).map(|c| c.value.as_str()).collect();
    assert_eq!(shown, ["18", "12", "0", "30"]);
    let rates = missing.tables.iter().find(|t| t.name == "missing_episodes_per_90_days").expect("rates table");
    // About 400 days each in the program: 12 episodes and 120 days missing over ~12,000 days.
    let days = 30.0 * 400.0;
    let per_90 = |cell: &pb::Cell| {
        assert!(!cell.suppressed, "{cell:?}");
        cell.number
    };
    assert!((per_90(&rates.rows[0].cells[1]) - 90.0 * 12.0 / days).abs() < 0.01, "{:?}", rates.rows[0]);
    assert!((per_90(&rates.rows[0].cells[2]) - 90.0 * 120.0 / days).abs() < 0.05, "{:?}", rates.rows[0]);

    let domains = client.run_analysis(analysis(pb::AnalysisKind::LongTermDomains)).await.unwrap().into_inner();
    let employed = domains.tables.iter().find(|t| t.name == "long_term_employed").expect("employed table");
    let row = |answer: &str| employed.rows.iter().find(|r| r.cells[0].value == answer).expect("answer row");
    assert_eq!(row("yes").cells[1].value, "14");
    assert_eq!(row("no").cells[1].value, "16");
    for table in domains.tables.iter().chain(&missing.tables) {
        for row in &table.rows {
            for cell in row.cells.iter().skip(1) {
                if !cell.suppressed && !table.name.ends_with("per_90_days") {
                    assert!(cell.number == 0.0 || cell.number >= 11.0, "{}: {row:?}", table.name);
                }
            }
        }
    }

    // Both are part of the outcome report.
    let report = generate(&mut client, pb::ReportKind::Outcome, ReportFormat::Json).await;
    assert_tables(&report, &["missing_episodes_youth", "missing_episodes_per_90_days", "long_term_employed"]);
});

both_engines!(answers_and_scopes_follow_the_service_clock, |engine: Engine| async move {
    let at = chrono::DateTime::parse_from_rfc3339("2026-03-02T10:00:00Z").unwrap().to_utc();
    let clock = TestClock::at(at);
    let served = Served::start_with_clock(engine, clock.shared()).await;
    let mut client = served.manager().await;

    let analysis = client.run_analysis(analysis(pb::AnalysisKind::RecidivismSurvival)).await.unwrap().into_inner();
    assert_eq!(analysis.computed_at, ts(at));

    clock.advance_days(1);
    let report = generate(&mut client, pb::ReportKind::Baseline, ReportFormat::Json).await;
    assert_eq!(report.generated_at, ts(at + chrono::Duration::days(1)));
    let json: serde_json::Value = serde_json::from_slice(&report.content).unwrap();
    assert_eq!(json["generated_at"], "2026-03-03T10:00:00Z");
    assert!(json["scope"].as_array().unwrap().iter().any(|line| line == "as of 2026-03-03T10:00:00Z"), "{json}");

    // Midnight of the day after the clock's today is still in the future.
    let tomorrow = chrono::DateTime::parse_from_rfc3339("2026-03-04T00:00:00Z").unwrap().to_utc();
    let status = assert_code(
        client
            .run_analysis(pb::RunAnalysisRequest {
                kind: pb::AnalysisKind::RecidivismSurvival as i32,
                scope: Some(pb::Scope { as_of: ts(tomorrow), ..Default::default() }),
            })
            .await,
        Code::InvalidArgument,
    );
    assert!(status.message().contains("scope.as_of"), "{}", status.message());
    clock.advance_days(1);
    client
        .run_analysis(pb::RunAnalysisRequest {
            kind: pb::AnalysisKind::RecidivismSurvival as i32,
            scope: Some(pb::Scope { as_of: ts(tomorrow), ..Default::default() }),
        })
        .await
        .expect("once the clock has passed it, the same as-of is accepted");
});
