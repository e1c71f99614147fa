//! Issue 13, findings 3 and 6: `group_by` is honoured by every analysis and every report table,
//! or refused with a field violation naming the analysis and the groupings it takes; reports say
//! which cohort they are on, show words for codes, age bands in their order and no "-0.0".

use chrono::{Duration, Utc};
use tonic::Code;
use wf_proto::common::v1 as common;
use wf_proto::common::v1::ReportFormat;
use wf_proto::evaluation::v1 as pb;
use wf_proto::events::v1 as events;
use wf_testkit::{Engine, both_engines};

use crate::harness::{Served, assert_code, cohort, envelope, ts};

const ANALYSES: [pb::AnalysisKind; 10] = [
    pb::AnalysisKind::RecidivismSurvival,
    pb::AnalysisKind::RecidivismCompetingRisks,
    pb::AnalysisKind::InterventionCombinations,
    pb::AnalysisKind::EngagementByApproach,
    pb::AnalysisKind::MissingEpisodes,
    pb::AnalysisKind::LongTermDomains,
    pb::AnalysisKind::DeadlineCompliance,
    pb::AnalysisKind::PartnerResponsiveness,
    pb::AnalysisKind::EnrollmentProgress,
    pb::AnalysisKind::FollowUpRetention,
];

fn grouped(dimension: &str) -> Option<pb::Scope> {
    Some(pb::Scope { group_by: vec![dimension.to_owned()], ..Default::default() })
}

/// Whether a table is split by `dimension`: named for a group, or a header or a line names the
/// dimension — or it has nothing to split ("insufficient data").
fn honours(table: &pb::Table, dimension: &str) -> bool {
    let insufficient = table.rows.iter().any(|r| r.cells.first().is_some_and(|c| c.value == "insufficient data"));
    insufficient
        || table.name.contains(&format!("__{dimension}_"))
        || table.title.contains(dimension)
        || table.columns.iter().any(|c| c.contains(dimension))
        || table.rows.iter().any(|r| r.cells.iter().take(2).any(|c| c.value.contains(&format!("{dimension}="))))
}

both_engines!(every_analysis_and_report_table_honours_its_grouping, |engine: Engine| async move {
    let served = Served::start(engine).await;
    served.publish_all(&cohort("g", 60, false)).await;
    let mut client = served.manager().await;
    // Prior participation (court-ordered or voluntary): a real split of this cohort, and a
    // grouping no analysis has as its own lines.
    let dimension = "participation";
    for kind in ANALYSES {
        let response = client
            .run_analysis(pb::RunAnalysisRequest { kind: kind as i32, scope: grouped(dimension) })
            .await
            .unwrap_or_else(|status| panic!("{kind:?}: {status:?}"))
            .into_inner();
        assert!(!response.tables.is_empty(), "{kind:?}");
        for table in &response.tables {
            assert!(honours(table, dimension), "{kind:?} ignores group_by in {}: {table:?}", table.name);
        }
    }
    for kind in [
        pb::ReportKind::Baseline,
        pb::ReportKind::Outcome,
        pb::ReportKind::DataCompleteness,
        pb::ReportKind::Operations,
    ] {
        let report = client
            .generate_report(pb::GenerateReportRequest {
                kind: kind as i32,
                format: ReportFormat::Json as i32,
                scope: grouped(dimension),
            })
            .await
            .unwrap_or_else(|status| panic!("{kind:?}: {status:?}"))
            .into_inner()
            .report
            .expect("report");
        let json: serde_json::Value = serde_json::from_slice(&report.content).expect("json");
        for table in json["tables"].as_array().expect("tables") {
            let table = pb::Table {
                name: table["name"].as_str().unwrap_or_default().to_owned(),
                title: table["title"].as_str().unwrap_or_default().to_owned(),
                columns: table["columns"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_owned()).collect(),
                rows: table["rows"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|row| pb::Row {
                        cells: row
                            .as_array()
                            .unwrap()
                            .iter()
                            .map(|c| pb::Cell { value: c["value"].as_str().unwrap().to_owned(), ..Default::default() })
                            .collect(),
                    })
                    .collect(),
                ..Default::default()
            };
            assert!(honours(&table, dimension), "{kind:?} report ignores group_by in {}", table.name);
        }
    }
});

both_engines!(a_grouping_an_analysis_does_not_take_is_refused_by_name, |engine: Engine| async move {
    let served = Served::start(engine).await;
    let mut client = served.manager().await;
    let status = assert_code(
        client
            .run_analysis(pb::RunAnalysisRequest {
                kind: pb::AnalysisKind::MissingEpisodes as i32,
                scope: grouped("partner"),
            })
            .await,
        Code::InvalidArgument,
    );
    assert!(
        status.message().starts_with(
            "scope.group_by[0]: ANALYSIS_KIND_MISSING_EPISODES does not group by \"partner\"; \
             ANALYSIS_KIND_MISSING_EPISODES groups by: site, referral_source"
        ),
        "{}",
        status.message()
    );
    // Partner responsiveness takes it: its lines are partner organizations.
    client
        .run_analysis(pb::RunAnalysisRequest {
            kind: pb::AnalysisKind::PartnerResponsiveness as i32,
            scope: grouped("partner"),
        })
        .await
        .expect("partner responsiveness by partner");
    let status = assert_code(
        client
            .generate_report(pb::GenerateReportRequest {
                kind: pb::ReportKind::HmisAggregate as i32,
                format: ReportFormat::Json as i32,
                scope: grouped("site"),
            })
            .await,
        Code::InvalidArgument,
    );
    assert!(
        status.message().contains(
            "REPORT_KIND_HMIS_AGGREGATE does not group by \"site\"; REPORT_KIND_HMIS_AGGREGATE takes no grouping"
        ),
        "{}",
        status.message()
    );
    let status = assert_code(
        client.get_data_completeness(pb::GetDataCompletenessRequest { scope: grouped("shoe_size") }).await,
        Code::InvalidArgument,
    );
    assert!(
        status.message().contains("\"shoe_size\" is not a grouping; GetDataCompleteness groups by: site"),
        "{}",
        status.message()
    );
});

/// Youth of every age band, none ever missing.
fn ages_cohort() -> Vec<wf_events::Envelope> {
    let intake = Utc::now() - Duration::days(200);
    let mut out = Vec::new();
    for i in 0..60 {
        let referral = format!("ref_age{i:04}");
        let received = events::ReferralReceived {
            referral_id: referral.clone(),
            youth_id: format!("yth_age{i:04}"),
            received_at: ts(intake),
            site: common::Site::SanFernandoValley as i32,
            age_years: [13, 16, 19, 23][i % 4],
            ..Default::default()
        };
        out.push(envelope("intake", &referral, &received, intake));
        let case = format!("case_age{i:04}");
        let assigned = events::CaseAssigned { case_id: case.clone(), referral_id: referral, ..Default::default() };
        out.push(envelope("cases", &case, &assigned, intake + Duration::hours(1)));
    }
    out
}

both_engines!(reports_read_as_words_in_order_and_state_their_cohort, |engine: Engine| async move {
    let served = Served::start(engine).await;
    served.publish_all(&ages_cohort()).await;
    let client = served.manager().await;
    let html = |kind: pb::ReportKind, dimension: Option<&str>| {
        let mut client = client.clone();
        let scope = dimension.and_then(grouped);
        async move {
            let report = client
                .generate_report(pb::GenerateReportRequest {
                    kind: kind as i32,
                    format: ReportFormat::Html as i32,
                    scope,
                })
                .await
                .expect("report")
                .into_inner()
                .report
                .expect("report");
            String::from_utf8(report.content).expect("utf-8")
        }
    };
    let baseline = html(pb::ReportKind::Baseline, None).await;
    assert!(baseline.contains("Cohort: program data"), "the cohort is stated");
    // Words, not codes: sites, columns.
    assert!(baseline.contains("<td>San Fernando Valley</td>"), "{baseline}");
    assert!(!baseline.contains("<td>san_fernando_valley</td>"));
    assert!(baseline.contains("<th>Age band</th>"), "{baseline}");
    // Age bands in their order: under 15 first (as text it sorts last).
    let age_table = &baseline[baseline.find("id=\"baseline_age_band\"").expect("age table")..];
    let positions: Vec<usize> =
        ["Under 15", "15–17", "18–20", "21–24"].iter().map(|band| age_table.find(band).expect(band)).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
    // No episodes: a rate of 0, never "-0.0".
    let outcome = html(pb::ReportKind::Outcome, None).await;
    assert!(!outcome.contains("<td>-0.0</td>") && !outcome.contains("<td>-0.00</td>"), "a negative zero is printed");
    assert!(outcome.contains("<td>0.0</td>"), "days missing per 90 days of youth never missing");
    // Grouped by age band, the groups are in their order too.
    let grouped = html(pb::ReportKind::Baseline, Some("age_band")).await;
    let site_table = &grouped[grouped.find("id=\"baseline_site\"").expect("site table")..];
    let positions: Vec<usize> = ["<td>Under 15</td>", "<td>15–17</td>", "<td>18–20</td>", "<td>21–24</td>"]
        .iter()
        .map(|b| site_table.find(b).expect(b))
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
});

both_engines!(the_synthetic_cohort_reports_say_so_once_and_truly, |engine: Engine| async move {
    let served = Served::start(engine).await;
    let mut client = served.manager().await;
    client.seed_synthetic_cohort(pb::SeedSyntheticCohortRequest { size: 400, seed: 5 }).await.expect("seeded");
    let report = |kind: pb::ReportKind| {
        let mut client = client.clone();
        async move {
            let report = client
                .generate_report(pb::GenerateReportRequest {
                    kind: kind as i32,
                    format: ReportFormat::Json as i32,
                    scope: None,
                })
                .await
                .expect("report")
                .into_inner()
                .report
                .expect("report");
            serde_json::from_slice::<serde_json::Value>(&report.content).expect("json")
        }
    };
    let operations = report(pb::ReportKind::Operations).await;
    assert_eq!(operations["cohort"], "synthetic demonstration cohort (generated, fictional youth)");
    let insufficient: Vec<&serde_json::Value> = operations["tables"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["rows"][0][0]["value"] == "insufficient data")
        .collect();
    assert_eq!(insufficient.len(), 1, "one statement that operations need program data: {operations}");
    // The outcome report does not say "no completed follow-up" beside a retention table of
    // completed follow-ups: the synthetic follow-ups carry coded answers.
    let outcome = report(pb::ReportKind::Outcome).await;
    let tables = outcome["tables"].as_array().unwrap();
    let retention = tables.iter().find(|t| t["name"] == "follow_up_retention").expect("retention");
    assert_ne!(retention["rows"][0][1]["value"], "0");
    assert!(tables.iter().any(|t| t["name"] == "long_term_employed"), "long-term tables are drawn");
    assert!(!outcome.to_string().contains("no completed 6, 12 or 24 month follow-up"));
});
