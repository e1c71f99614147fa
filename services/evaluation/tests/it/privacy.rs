//! No person-level output anywhere: no youth, referral, case or study id in any answer, and no
//! published count from 1 to 10.

use wf_proto::common::v1::{ReportFormat, Site};
use wf_proto::evaluation::v1 as pb;
use wf_testkit::{Engine, both_engines};

use crate::harness::{Served, cohort};

const KINDS: [pb::AnalysisKind; 6] = [
    pb::AnalysisKind::EngagementByApproach,
    pb::AnalysisKind::RecidivismSurvival,
    pb::AnalysisKind::RecidivismCompetingRisks,
    pb::AnalysisKind::InterventionCombinations,
    pb::AnalysisKind::FollowUpRetention,
    pb::AnalysisKind::EnrollmentProgress,
];

fn assert_no_identifiers(text: &str) {
    for prefix in ["yth_", "ref_", "case_", "stu_", "syn_"] {
        assert!(!text.contains(prefix), "{prefix} found in output");
    }
}

both_engines!(no_person_level_output_and_no_small_counts, |engine: Engine| async move {
    let served = Served::start(engine).await;
    served.publish_all(&cohort("q", 47, false)).await;
    let mut client = served.manager().await;
    for group_by in [vec![], vec!["site".to_owned()], vec!["participation".to_owned()]] {
        let scope = Some(pb::Scope { group_by: group_by.clone(), ..Default::default() });
        for kind in KINDS {
            let response = client
                .run_analysis(pb::RunAnalysisRequest { kind: kind as i32, scope: scope.clone() })
                .await
                .unwrap()
                .into_inner();
            assert_no_identifiers(&format!("{response:?}"));
            for table in &response.tables {
                for (column, index) in table.columns.iter().zip(0..) {
                    // Count columns: youth and event counts, categories of count tables.
                    let is_count = !matches!(
                        column.as_str(),
                        "day"
                            | "recidivism_free"
                            | "ci_95"
                            | "chi_square"
                            | "df"
                            | "p_value"
                            | "p_holm"
                            | "hazard_ratio_95ci"
                            | "probability_ranks_first"
                            | "detectable_hazard_ratio"
                            | "retention_percent"
                            | "percent"
                            | "re_exploitation"
                            | "re_arrest"
                            | "return_to_trafficker"
                    );
                    if !is_count || index == 0 {
                        continue;
                    }
                    for row in &table.rows {
                        let cell = &row.cells[index];
                        if !cell.suppressed && cell.value.parse::<f64>().is_ok() {
                            assert!(
                                cell.number == 0.0 || cell.number >= 11.0,
                                "{} {column} shows {} ({group_by:?})",
                                table.name,
                                cell.value
                            );
                        }
                    }
                }
            }
        }
        for kind in [pb::ReportKind::Baseline, pb::ReportKind::Outcome, pb::ReportKind::DataCompleteness] {
            for format in [ReportFormat::Html, ReportFormat::Csv, ReportFormat::Json] {
                let report = client
                    .generate_report(pb::GenerateReportRequest {
                        kind: kind as i32,
                        format: format as i32,
                        scope: scope.clone(),
                    })
                    .await
                    .unwrap()
                    .into_inner()
                    .report
                    .unwrap();
                assert_no_identifiers(&String::from_utf8_lossy(&report.content));
            }
        }
    }
    let completeness = client
        .get_data_completeness(pb::GetDataCompletenessRequest {
            scope: Some(pb::Scope {
                group_by: vec!["site".into()],
                sites: vec![Site::SanFernandoValley as i32, Site::SouthLosAngeles as i32],
                ..Default::default()
            }),
        })
        .await
        .unwrap()
        .into_inner();
    assert_no_identifiers(&format!("{completeness:?}"));
    for field in &completeness.fields {
        for n in [field.required, field.answered, field.refused_or_unknown, field.missing] {
            assert!(n == 0 || n >= 11, "{field:?}");
        }
    }
    // 47 youth, 10 of them in the San Fernando Valley: that group is suppressed.
    assert!(
        completeness
            .fields
            .iter()
            .any(|f| f.suppressed && f.group.get("site").map(String::as_str) == Some("san_fernando_valley"))
    );
    assert_eq!(completeness.total_cases, 47);
});
