//! A youth's disclosure report over the whole system (issue 12, acceptance 3): every coded and
//! personal read, every read of their case and offer, and every refused attempt on their records —
//! refused for the wrong role, without a token, or outside the caller's scope — appears in that
//! youth's report, and nothing of another youth does.

use std::time::Duration;

use tonic::Code;
use wf_auth::{Role, TokenKind};
use wf_proto::audit::v1 as audit;
use wf_proto::cases::v1 as cases;
use wf_proto::common::v1::ReportFormat;
use wf_proto::intake::v1 as intake;
use wf_proto::routing::v1 as routing;
use wf_testkit::{Engine, TestServer};
use wf_types::SystemClock;

use crate::authorization::{all_services, world};

/// One row of a CSV report: (record, kind, actor_role, fields_or_export).
type Row = (String, String, String, String);

fn rows(report: &str) -> Vec<Row> {
    report
        .lines()
        .skip(1)
        .map(|line| {
            // sequence,occurred_at,record,kind,actor,actor_role,organization,purpose,release,fields_or_export,…
            // (no earlier column holds a comma)
            let cells: Vec<&str> = line.splitn(10, ',').collect();
            let cell = |i: usize| cells.get(i).copied().unwrap_or_default().to_owned();
            (cell(2), cell(3), cell(5), cell(9))
        })
        .collect()
}

async fn report(server: &TestServer, youth_id: &str) -> String {
    let mut auditor =
        audit::audit_service_client::AuditServiceClient::new(server.channel(&server.tokens.user(Role::Auditor)).await);
    let answer = auditor
        .disclosure_report(audit::DisclosureReportRequest {
            subject: Some(audit::disclosure_report_request::Subject::YouthId(youth_id.to_owned())),
            format: ReportFormat::Csv as i32,
            purpose: "survivor_request".to_owned(),
            ..Default::default()
        })
        .await
        .expect("disclosure report")
        .into_inner();
    String::from_utf8(answer.content).expect("CSV is UTF-8")
}

/// The youth's report once `complete` holds of its rows, or as it is after a minute (entries reach
/// the audit log through each service's outbox).
async fn report_until(server: &TestServer, youth_id: &str, complete: impl Fn(&[Row]) -> bool) -> String {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let report = report(server, youth_id).await;
        if complete(&rows(&report)) || tokio::time::Instant::now() >= deadline {
            return report;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_youths_report_shows_every_read_and_every_refused_attempt_on_their_records() {
    let server = TestServer::start_many(Engine::Sqlite, SystemClock::shared(), all_services()).await;
    let world = world(&server).await;
    let tokens = &server.tokens;
    let (referral, _) = world.records["referral_id"].clone();
    let (offer, offered_to) = world.records["offer_id"].clone();
    let (case, _) = world.records["case_id"].clone();
    let (hotline_referral, hotline_subject) = world.hotline_referral.clone();

    let mut staff_intake =
        intake::intake_service_client::IntakeServiceClient::new(server.channel(&tokens.user(Role::Supervisor)).await);
    let youth_of = |answer: intake::GetReferralResponse| answer.youth_id;
    let youth = youth_of(
        staff_intake
            .get_referral(intake::GetReferralRequest { referral_id: referral.clone(), purpose: "triage".to_owned() })
            .await
            .expect("a supervisor reads the referral")
            .into_inner(),
    );
    let other_youth = youth_of(
        staff_intake
            .get_referral(intake::GetReferralRequest {
                referral_id: hotline_referral.clone(),
                purpose: "triage".to_owned(),
            })
            .await
            .expect("a supervisor reads the hotline's referral")
            .into_inner(),
    );
    assert_ne!(youth, other_youth, "two fictional youths");

    // A case read with its purpose.
    let mut staff_cases =
        cases::case_service_client::CaseServiceClient::new(server.channel(&tokens.user(Role::Supervisor)).await);
    staff_cases
        .get_case(cases::GetCaseRequest { case_id: case.clone(), purpose: "supervision".to_owned() })
        .await
        .expect("a supervisor reads the case");
    // The partner serving the youth reads its offer.
    let mut serving =
        routing::routing_service_client::RoutingServiceClient::new(server.channel(&tokens.partner(&offered_to)).await);
    serving.get_offer(routing::GetOfferRequest { offer_id: offer.clone() }).await.expect("the serving partner");

    // Refused for the role: an evaluator asks for the referral, a hotline tries to write a note on
    // the case (the case named inside the note).
    let mut evaluator =
        intake::intake_service_client::IntakeServiceClient::new(server.channel(&tokens.user(Role::Evaluator)).await);
    let denied = evaluator
        .get_referral(intake::GetReferralRequest { referral_id: referral.clone(), purpose: String::new() })
        .await
        .expect_err("an evaluator reads no referral");
    assert_eq!(denied.code(), Code::PermissionDenied);
    // Free text where an id belongs is refused too, and never recorded as a record.
    let free_text = evaluator
        .get_referral(intake::GetReferralRequest {
            referral_id: "Demo Youth-Alpha, 555-0100".to_owned(),
            purpose: String::new(),
        })
        .await
        .expect_err("refused");
    assert_eq!(free_text.code(), Code::PermissionDenied);
    let mut hotline_cases = cases::case_service_client::CaseServiceClient::new(
        server.channel(&tokens.token(TokenKind::User, &hotline_subject, Role::Hotline)).await,
    );
    let note = cases::CaseNote {
        case_id: case.clone(),
        text: "a note a hotline may not write".to_owned(),
        category: "contact".to_owned(),
        ..Default::default()
    };
    let denied = hotline_cases
        .add_case_note(cases::AddCaseNoteRequest { note: Some(note) })
        .await
        .expect_err("a hotline writes no case notes");
    assert_eq!(denied.code(), Code::PermissionDenied);
    // Refused without a token.
    let channel = tonic::transport::Channel::from_shared(server.url()).expect("url").connect().await.expect("connect");
    let denied = cases::case_service_client::CaseServiceClient::new(channel)
        .get_case(cases::GetCaseRequest { case_id: case.clone(), purpose: String::new() })
        .await
        .expect_err("no token, no case");
    assert_eq!(denied.code(), Code::Unauthenticated);
    // Outside the caller's scope: a partner with no part in the youth's care asks for the case's
    // contact attempts and for the offer, and tries to accept the offer; each is answered as an unknown id would be.
    let mut stranger_cases =
        cases::case_service_client::CaseServiceClient::new(server.channel(&tokens.partner(&world.stranger)).await);
    let hidden = stranger_cases
        .list_contact_attempts(cases::ListContactAttemptsRequest { case_id: case.clone(), ..Default::default() })
        .await
        .expect_err("another partner's case");
    assert_eq!(hidden.code(), Code::NotFound);
    let mut stranger_routing = routing::routing_service_client::RoutingServiceClient::new(
        server.channel(&tokens.partner(&world.stranger)).await,
    );
    let hidden =
        stranger_routing.get_offer(routing::GetOfferRequest { offer_id: offer.clone() }).await.expect_err("hidden");
    assert_eq!(hidden.code(), Code::NotFound);
    let hidden = stranger_routing
        .accept_offer(routing::AcceptOfferRequest { offer_id: offer.clone() })
        .await
        .expect_err("hidden");
    assert_eq!(hidden.code(), Code::NotFound);
    // The hotline follows the status of what it submitted (the other youth's referral).
    let mut hotline = intake::intake_service_client::IntakeServiceClient::new(
        server.channel(&tokens.token(TokenKind::User, &hotline_subject, Role::Hotline)).await,
    );
    hotline
        .get_referral(intake::GetReferralRequest { referral_id: hotline_referral.clone(), purpose: String::new() })
        .await
        .expect("the hotline's status read");

    let row = |record: &str, kind: &str, role: &str, what: &str| {
        (record.to_owned(), kind.to_owned(), role.to_owned(), what.to_owned())
    };
    let expected = [
        row(&referral, "read", "supervisor", ""),
        row(&case, "read", "supervisor", ""),
        row(&offer, "read", "partner", ""),
        row(
            &referral,
            "refused",
            "evaluator",
            "/wayfinder.intake.v1.IntakeService/GetReferral refused: role_not_allowed",
        ),
        row(&case, "refused", "hotline", "/wayfinder.cases.v1.CaseService/AddCaseNote refused: role_not_allowed"),
        row(&case, "refused", "", "/wayfinder.cases.v1.CaseService/GetCase refused: unauthenticated"),
        row(&case, "refused", "partner", "/wayfinder.cases.v1.CaseService/ListContactAttempts refused: out_of_scope"),
        row(&offer, "refused", "partner", "/wayfinder.routing.v1.RoutingService/GetOffer refused: out_of_scope"),
        row(&offer, "refused", "partner", "/wayfinder.routing.v1.RoutingService/AcceptOffer refused: out_of_scope"),
    ];
    // Reads name the fields they returned; refusals name the operation and why.
    let matches = |(record, kind, role, what): &Row, rows: &[Row]| {
        rows.iter().any(|(r, k, ro, w)| {
            r == record && k == kind && ro == role && (what.is_empty() || w.contains(what.as_str()))
        })
    };
    let report_a = report_until(&server, &youth, |rows| expected.iter().all(|want| matches(want, rows))).await;
    let found = rows(&report_a);
    for want in &expected {
        assert!(matches(want, &found), "youth's report lacks {want:?}:\n{report_a}");
    }
    // Nothing of the other youth, and the free text is nowhere.
    assert!(!report_a.contains(&hotline_referral) && !report_a.contains(&other_youth), "{report_a}");
    assert!(!report_a.contains("555-0100") && !report_a.contains("Youth-Alpha"), "{report_a}");

    // The other youth's report: the hotline's status read of its referral, and nothing of the first.
    let hotline_read = row(&hotline_referral, "read", "hotline", "");
    let report_b = report_until(&server, &other_youth, |rows| matches(&hotline_read, rows)).await;
    assert!(
        matches(&hotline_read, &rows(&report_b)),
        "the hotline's status read is not in its youth's report:\n{report_b}"
    );
    for id in [&referral, &case, &offer, &youth] {
        assert!(!report_b.contains(id.as_str()), "the other youth's report shows {id}:\n{report_b}");
    }
    server.stop().await;
}
