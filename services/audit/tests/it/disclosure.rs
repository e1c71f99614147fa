//! Acceptance 4: intake and audit hosted together on one in-process bus. The demo referral is
//! submitted, its personal details are read with a purpose N times through intake, and the
//! youth's disclosure report lists exactly those N reads (plus nothing else).

use std::time::Duration;

use wf_auth::Role;
use wf_proto::audit::v1 as pb;
use wf_proto::audit::v1::audit_service_client::AuditServiceClient;
use wf_proto::common::v1::ReportFormat;
use wf_proto::intake::v1 as intake;
use wf_proto::intake::v1::intake_service_client::IntakeServiceClient;
use wf_testkit::{Engine, TestServer, TestService, eventually};
use wf_types::SystemClock;

const READS: usize = 3;

fn demo_referral() -> intake::SubmitReferralRequest {
    let json = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/referral.json"))
        .expect("examples/referral.json");
    wf_proto::json::from_json(&json).expect("example parses")
}

async fn every_read_of_the_demo_youth_is_disclosed(engine: Engine) {
    let intake = TestService::new(wf_intake::migrations(), |ctx| async move { Ok(wf_intake::build(ctx).await? as _) });
    let audit = TestService::new(wf_audit::migrations(), |ctx| async move { Ok(wf_audit::build(ctx).await? as _) });
    let server = TestServer::start_many(engine, SystemClock::shared(), vec![intake, audit]).await;
    let tokens = &server.tokens;

    let mut hotline = IntakeServiceClient::new(server.channel(&tokens.user(Role::Hotline)).await);
    let submitted = hotline.submit_referral(demo_referral()).await.expect("submit").into_inner();
    let mut case_manager = IntakeServiceClient::new(server.channel(&tokens.user(Role::CaseManager)).await);
    let mut youth_id = String::new();
    for _ in 0..READS {
        let read = intake::GetReferralRequest {
            referral_id: submitted.referral_id.clone(),
            purpose: "case_management".to_owned(),
        };
        let referral = case_manager.get_referral(read).await.expect("read").into_inner();
        assert!(referral.referral.and_then(|r| r.personal).is_some(), "personal details were read");
        youth_id = referral.youth_id;
    }
    assert!(youth_id.starts_with("yth_"), "{youth_id}");
    // Reading without a purpose returns no personal details and is no disclosure.
    let plain = intake::GetReferralRequest { referral_id: submitted.referral_id.clone(), purpose: String::new() };
    case_manager.get_referral(plain).await.expect("read without purpose");

    let mut auditor = AuditServiceClient::new(server.channel(&tokens.user(Role::Auditor)).await);
    // The reads travel intake's outbox and the bus to audit: wait (bounded) until all arrived.
    // Waiting on a query rather than on the report itself: every report is logged, and a report
    // of the youth lists the reports made before it.
    let reads_of_the_youth = pb::ListEntriesRequest {
        youth_id: youth_id.clone(),
        types: vec!["record.accessed".to_owned()],
        ..Default::default()
    };
    let arrived = eventually(Duration::from_secs(60), || {
        let (mut auditor, request) = (auditor.clone(), reads_of_the_youth.clone());
        async move { auditor.list_entries(request).await.is_ok_and(|reads| reads.into_inner().entries.len() >= READS) }
    })
    .await;
    assert!(arrived, "reads did not reach audit");
    let request = pb::DisclosureReportRequest {
        subject: Some(pb::disclosure_report_request::Subject::YouthId(youth_id.clone())),
        format: ReportFormat::Csv as i32,
        occurred: None,
        purpose: "survivor_request".to_owned(),
    };
    let report = auditor.disclosure_report(request).await.expect("report").into_inner();
    assert_eq!(report.entry_count as usize, READS);
    let csv = String::from_utf8(report.content).expect("utf-8");
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(rows.len(), READS, "{csv}");
    for row in rows {
        assert!(
            row.contains(",read,test-case_manager,case_manager,,case_management,none (program staff),personal,no"),
            "{row}"
        );
    }
    // The same reads through the query by youth (which also finds the referral's other events).
    let reads = auditor.list_entries(reads_of_the_youth).await.expect("by youth").into_inner().entries;
    assert_eq!(reads.len(), READS);
    let everything = pb::ListEntriesRequest { youth_id: youth_id.clone(), ..Default::default() };
    let everything = auditor.list_entries(everything).await.expect("by youth").into_inner().entries;
    assert!(everything.iter().any(|e| e.r#type == "referral.received"), "{everything:?}");
    // Nothing personal in the report: only ids, roles, purposes and field paths.
    assert!(!csv.contains("Demo") && !csv.contains("555-0100"), "{csv}");

    server.stop().await;
}
wf_testkit::both_engines!(every_read_of_the_demo_youth_is_disclosed, every_read_of_the_demo_youth_is_disclosed);
