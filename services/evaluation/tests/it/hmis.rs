//! Issue 13, finding 4: the HMIS aggregate report is built from the events (aggregate only,
//! HUD's codes and categories, disclosure control), in every format.

use chrono::{Duration, Utc};
use wf_proto::common::v1 as common;
use wf_proto::common::v1::ReportFormat;
use wf_proto::evaluation::v1 as pb;
use wf_proto::events::v1 as events;
use wf_testkit::{Engine, both_engines};

use crate::harness::{Served, envelope, ts};

/// 40 fictional youth: half 16 and half 20 at referral, half from an emergency shelter and half
/// from foster care; the first 20 exit after 100 days to permanent housing with family.
fn hmis_cohort() -> Vec<wf_events::Envelope> {
    let intake = Utc::now() - Duration::days(300);
    let mut out = Vec::new();
    for i in 0..40 {
        let referral = format!("ref_h{i:04}");
        let case = format!("case_h{i:04}");
        let received = events::ReferralReceived {
            referral_id: referral.clone(),
            youth_id: format!("yth_h{i:04}"),
            received_at: ts(intake),
            site: common::Site::SouthLosAngeles as i32,
            age_years: if i % 2 == 0 { 16 } else { 20 },
            living_situation: if i < 20 {
                common::LivingSituation::EmergencyShelter
            } else {
                common::LivingSituation::FosterCare
            } as i32,
            any_income: common::NoYes::No as i32,
            ..Default::default()
        };
        out.push(envelope("intake", &referral, &received, intake));
        let assigned =
            events::CaseAssigned { case_id: case.clone(), referral_id: referral.clone(), ..Default::default() };
        out.push(envelope("cases", &case, &assigned, intake + Duration::hours(1)));
        if i < 20 {
            let at = intake + Duration::days(100);
            let closed = events::CaseClosed {
                case_id: case.clone(),
                referral_id: referral.clone(),
                exited_at: ts(at),
                closed_at: ts(at),
                exit_living_situation: common::LivingSituation::WithFamilyPermanent as i32,
                ..Default::default()
            };
            out.push(envelope("cases", &case, &closed, at));
        }
    }
    out
}

fn cell<'a>(table: &'a serde_json::Value, line: &str, column: &str) -> &'a serde_json::Value {
    let columns: Vec<&str> = table["columns"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
    let j = columns.iter().position(|c| *c == column).unwrap_or_else(|| panic!("no column {column}: {columns:?}"));
    let row = table["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r[0]["value"] == line)
        .unwrap_or_else(|| panic!("no line {line}"));
    &row[j]["value"]
}

both_engines!(the_hmis_aggregate_is_built_from_the_events, |engine: Engine| async move {
    let served = Served::start(engine).await;
    served.publish_all(&hmis_cohort()).await;
    let mut client = served.manager().await;
    let generate = |format: ReportFormat| {
        let mut client = client.clone();
        async move {
            client
                .generate_report(pb::GenerateReportRequest {
                    kind: pb::ReportKind::HmisAggregate as i32,
                    format: format as i32,
                    scope: None,
                })
                .await
                .expect("HMIS aggregate")
                .into_inner()
                .report
                .expect("report")
        }
    };
    let report = generate(ReportFormat::Json).await;
    assert_eq!(report.kind, pb::ReportKind::HmisAggregate as i32);
    assert!(!report.synthetic);
    let json: serde_json::Value = serde_json::from_slice(&report.content).expect("json");
    assert_eq!(json["kind"], "hmis_aggregate");
    assert_eq!(json["cohort"], "program data");
    let tables = json["tables"].as_array().unwrap();
    let table = |name: &str| tables.iter().find(|t| t["name"] == name).unwrap_or_else(|| panic!("no {name}"));
    let q5a = table("hmis_q5a_report_validations");
    assert_eq!(cell(q5a, "total", "total"), "40");
    assert_eq!(cell(q5a, "adults", "total"), "20");
    assert_eq!(cell(q5a, "children", "total"), "20");
    assert_eq!(cell(q5a, "total", "leavers"), "20");
    assert_eq!(cell(q5a, "total", "stayers"), "20");
    let q11 = table("hmis_q11_age");
    assert_eq!(cell(q11, "13_17", "youth"), "20");
    assert_eq!(cell(q11, "18_24", "youth"), "20");
    let q15 = table("hmis_q15_living_situation");
    assert_eq!(cell(q15, "emergency_shelter", "homeless"), "20");
    assert_eq!(cell(q15, "foster_care", "institutional"), "20");
    assert_eq!(cell(q15, "total", "homeless"), "20");
    let q23 = table("hmis_q23_destination");
    assert_eq!(cell(q23, "with_family_permanent", "permanent"), "20");
    let q22 = table("hmis_q22_length_of_participation");
    assert_eq!(cell(q22, "91_180", "leavers"), "20");
    assert_eq!(cell(q22, "181_365", "stayers"), "20");
    for t in tables {
        let notes = t["notes"].to_string();
        assert!(notes.contains("HMIS Data Standards FY2026") && notes.contains("aggregate only"), "{}", t["name"]);
    }
    // Aggregate only: no youth, study or referral id anywhere, in any format.
    for format in [ReportFormat::Json, ReportFormat::Csv, ReportFormat::Html] {
        let content = String::from_utf8(generate(format).await.content).expect("utf-8");
        for id in ["yth_h", "ref_h", "case_h", "stu_"] {
            assert!(!content.contains(id), "{format:?} holds {id}");
        }
    }
    let listed = client
        .list_reports(pb::ListReportsRequest { kind: pb::ReportKind::HmisAggregate as i32, ..Default::default() })
        .await
        .expect("list")
        .into_inner();
    assert_eq!(listed.reports.len(), 4);
});
