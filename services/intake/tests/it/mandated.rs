//! Mandated reports for minors and the 36-hour deadline, with the clock moved by the test.

use chrono::{Duration, Utc};
use tonic::Code;
use wf_auth::Role;
use wf_proto::events::v1 as events;
use wf_proto::intake::v1 as pb;
use wf_testkit::both_engines;

use crate::{Harness, with_reference};

async fn overdue_events(harness: &Harness) -> Vec<events::MandatedReportOverdue> {
    let rows: Vec<(Vec<u8>,)> =
        wf_db::sqlx::query_as("SELECT envelope FROM event_outbox WHERE event_type = 'mandated_report.overdue'")
            .fetch_all(harness.db.pool())
            .await
            .expect("outbox");
    rows.into_iter()
        .map(|(bytes,)| wf_events::Envelope::decode(&bytes).expect("envelope").payload_as().expect("payload"))
        .collect()
}

both_engines!(an_overdue_mandated_report_is_announced_once_per_stage, |engine| async move {
    let harness = Harness::start(engine).await;
    let now = Utc::now();
    let mut request = with_reference("HL-MR-1");
    request.referral.as_mut().expect("referral").received_at =
        Some(wf_proto::time::timestamp(now - Duration::hours(1)));
    let referral = harness.client(Role::Hotline).await.submit_referral(request).await.expect("submit").into_inner();

    // Within 36 hours of receipt: nothing.
    assert_eq!(wf_intake::mandated::check_overdue(&harness.db, now).await.expect("check"), 0);
    assert!(overdue_events(&harness).await.is_empty());

    // 37 hours later with no report at all: one "initial" notice, and only one however often it runs.
    let later = now + Duration::hours(37);
    assert_eq!(wf_intake::mandated::check_overdue(&harness.db, later).await.expect("check"), 1);
    assert_eq!(wf_intake::mandated::check_overdue(&harness.db, later).await.expect("check"), 0);
    let sent = overdue_events(&harness).await;
    assert_eq!(sent.len(), 1);
    assert_eq!((sent[0].referral_id.as_str(), sent[0].stage.as_str()), (referral.referral_id.as_str(), "initial"));

    // An initial report without its written follow-up: a "written" notice once its 36 hours pass.
    let mut staff = harness.client(Role::CaseManager).await;
    let recorded = staff
        .record_mandated_report(pb::RecordMandatedReportRequest {
            report: Some(pb::MandatedReport {
                referral_id: referral.referral_id.clone(),
                agency: pb::MandatedReportAgency::ChildWelfare as i32,
                reported_at: Some(wf_proto::time::timestamp(now - Duration::minutes(30))),
                agency_reference: "DCFS-DEMO-0001".into(),
                ..Default::default()
            }),
        })
        .await
        .expect("record")
        .into_inner();
    let report = recorded.report.expect("report");
    let due = report.written_report_due.and_then(|t| wf_proto::time::datetime(&t)).expect("due");
    assert_eq!(due, wf_db::from_micros(wf_db::to_micros(now - Duration::minutes(30) + Duration::hours(36))));
    assert_eq!(wf_intake::mandated::check_overdue(&harness.db, now + Duration::hours(35)).await.expect("check"), 0);
    assert_eq!(wf_intake::mandated::check_overdue(&harness.db, later).await.expect("check"), 1);
    assert_eq!(wf_intake::mandated::check_overdue(&harness.db, later).await.expect("check"), 0);
    let sent = overdue_events(&harness).await;
    assert_eq!(sent.iter().filter(|e| e.stage == "written").count(), 1);
    assert_eq!(
        sent.iter().find(|e| e.stage == "written").expect("written").mandated_report_id,
        recorded.mandated_report_id
    );

    // The written report is recorded and listed; the report is no longer overdue.
    let written = staff
        .record_mandated_report(pb::RecordMandatedReportRequest {
            report: Some(pb::MandatedReport {
                mandated_report_id: recorded.mandated_report_id.clone(),
                written_report_at: Some(wf_proto::time::timestamp(now)),
                ..Default::default()
            }),
        })
        .await
        .expect("written")
        .into_inner();
    assert!(written.report.expect("report").written_report_at.is_some());
    let listed = staff
        .list_mandated_reports(pb::ListMandatedReportsRequest {
            referral_id: referral.referral_id.clone(),
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner();
    assert_eq!(listed.reports.len(), 1);
    assert_eq!(listed.reports[0].agency_reference, "DCFS-DEMO-0001");
    harness.server.stop().await;
});

both_engines!(mandated_reports_are_validated_by_field, |engine| async move {
    let harness = Harness::start(engine).await;
    let referral = harness
        .client(Role::Hotline)
        .await
        .submit_referral(with_reference("HL-MR-2"))
        .await
        .expect("submit")
        .into_inner();
    let mut staff = harness.client(Role::CaseManager).await;
    let status = staff
        .record_mandated_report(pb::RecordMandatedReportRequest {
            report: Some(pb::MandatedReport {
                referral_id: referral.referral_id.clone(),
                agency: 0,
                reported_at: Some(wf_proto::time::timestamp(Utc::now() + Duration::days(2))),
                agency_reference: "not allowed!".into(),
                ..Default::default()
            }),
        })
        .await
        .expect_err("refused");
    assert_eq!(status.code(), Code::InvalidArgument);
    for field in ["report.agency", "report.reported_at", "report.agency_reference"] {
        assert!(status.message().contains(field), "{field} in {}", status.message());
    }
    harness.server.stop().await;
});
