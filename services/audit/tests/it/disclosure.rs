//! Acceptance 4: intake and audit hosted together on one in-process bus. The demo referral is
//! submitted, its personal details are read with a purpose N times through intake, and the
//! youth's disclosure report lists exactly those N reads and the one read of its coded record
//! without personal details (plus nothing else). Issue 12,
//! acceptance 3: a youth's report lists every read and refused attempt on their referrals, cases
//! and notes, and nothing of another youth.

use std::time::Duration;

use wf_audit::app::disclosure::{Format, ReportRequest, Subject, disclosure_report};
use wf_auth::Role;
use wf_events::EventHandler;
use wf_proto::audit::v1 as pb;
use wf_proto::audit::v1::audit_service_client::AuditServiceClient;
use wf_proto::common::v1::ReportFormat;
use wf_proto::intake::v1 as intake;
use wf_proto::intake::v1::intake_service_client::IntakeServiceClient;
use wf_testkit::{Engine, TestServer, TestService, eventually};
use wf_types::SystemClock;

use crate::common::{TestLog, event};

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
    // Reading without a purpose returns no personal details, but the coded record was read: that
    // is on the record too (issue 12, finding 8).
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
        async move { auditor.list_entries(request).await.is_ok_and(|reads| reads.into_inner().entries.len() > READS) }
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
    let csv = String::from_utf8(report.content).expect("utf-8");
    assert_eq!(report.entry_count as usize, csv.lines().count() - 1);
    // The reads, and beside them the changes (issue 13): the referral's receipt first.
    let rows = disclosures(&csv);
    assert_eq!(rows.len(), READS + 1, "{csv}");
    let changes = changes(&csv);
    assert!(
        changes.first().is_some_and(|row| row.contains(",change,intake,service,") && row.contains("referral.received")),
        "{csv}"
    );
    let (personal, coded): (Vec<&str>, Vec<&str>) = rows.iter().partition(|row| row.contains("personal"));
    assert_eq!((personal.len(), coded.len()), (READS, 1), "{csv}");
    let referral = &submitted.referral_id;
    for row in personal {
        assert!(
            row.contains(&format!(
                ",{referral},read,test-case_manager,case_manager,,case_management,none (program staff),"
            )),
            "{row}"
        );
    }
    assert!(coded[0].contains(&format!(",{referral},read,test-case_manager,case_manager,")), "{}", coded[0]);
    // The same reads through the query by youth (which also finds the referral's other events).
    let reads = auditor.list_entries(reads_of_the_youth).await.expect("by youth").into_inner().entries;
    assert_eq!(reads.len(), READS + 1);
    let everything = pb::ListEntriesRequest { youth_id: youth_id.clone(), ..Default::default() };
    let everything = auditor.list_entries(everything).await.expect("by youth").into_inner().entries;
    assert!(everything.iter().any(|e| e.r#type == "referral.received"), "{everything:?}");
    // Nothing personal in the report: only ids, roles, purposes and field paths.
    assert!(!csv.contains("Demo") && !csv.contains("555-0100"), "{csv}");

    server.stop().await;
}
wf_testkit::both_engines!(every_read_of_the_demo_youth_is_disclosed, every_read_of_the_demo_youth_is_disclosed);

/// Ids of one youth's records, unique per test run.
struct Youth {
    youth: String,
    referral: String,
    case: String,
    note: String,
}

impl Youth {
    fn new() -> Self {
        let id = || uuid::Uuid::now_v7().simple().to_string();
        Youth {
            youth: format!("yth_{}", id()),
            referral: format!("ref_{}", id()),
            case: format!("case_{}", id()),
            note: format!("note_{}", id()),
        }
    }

    fn ids(&self) -> [&str; 4] {
        [&self.youth, &self.referral, &self.case, &self.note]
    }

    /// How the log learns whose records these are: intake's `referral.received`, cases'
    /// `case.assigned` and `case_note.added` (a privileged note), as their producers send them.
    fn records(&self) -> Vec<wf_events::Envelope> {
        use wf_proto::events::v1 as ev;
        vec![
            event(
                "intake",
                &self.referral,
                &self.referral,
                &ev::ReferralReceived {
                    referral_id: self.referral.clone(),
                    youth_id: self.youth.clone(),
                    ..Default::default()
                },
            ),
            event(
                "cases",
                &self.case,
                &self.referral,
                &ev::CaseAssigned {
                    case_id: self.case.clone(),
                    referral_id: self.referral.clone(),
                    youth_id: self.youth.clone(),
                    case_manager_id: "cm_1".to_owned(),
                    ..Default::default()
                },
            ),
            event(
                "cases",
                &self.case,
                &self.referral,
                &ev::CaseNoteAdded {
                    note_id: self.note.clone(),
                    case_id: self.case.clone(),
                    author_id: "usr_cm1".to_owned(),
                    privileged: true,
                    ..Default::default()
                },
            ),
        ]
    }

    /// A coded read of the referral, a read of the case, a read of the privileged note (its
    /// envelope names only the note) and a refused attempt on the referral.
    fn disclosures(&self, actor: &str) -> Vec<wf_events::Envelope> {
        use wf_proto::events::v1 as ev;
        let read = |record: &str, purpose: &str, fields: &[&str]| ev::RecordAccessed {
            actor: actor.to_owned(),
            actor_role: "case_manager".to_owned(),
            record_id: record.to_owned(),
            purpose: purpose.to_owned(),
            fields: fields.iter().map(|f| (*f).to_owned()).collect(),
            ..Default::default()
        };
        vec![
            event("intake", &self.referral, &self.referral, &read(&self.referral, "triage", &["coded.screenings"])),
            event("cases", &self.case, &self.referral, &read(&self.case, "case_management", &["case.record"])),
            event("cases", &self.note, &self.note, &read(&self.note, "supervision", &["note.text"])),
            event(
                "intake",
                &self.referral,
                &self.referral,
                &ev::AccessRefused {
                    actor: "usr_hot9".to_owned(),
                    actor_role: "hotline".to_owned(),
                    operation: "/wayfinder.intake.v1.IntakeService/GetReferral".to_owned(),
                    record_id: self.referral.clone(),
                    reason: "out_of_scope".to_owned(),
                    ..Default::default()
                },
            ),
        ]
    }
}

/// The rows of a CSV report that are reads, exports and refusals.
fn disclosures(report: &str) -> Vec<&str> {
    report.lines().skip(1).filter(|row| !row.contains(",change,")).collect()
}

/// The rows of a CSV report that are changes, each "record what".
fn changes(report: &str) -> Vec<&str> {
    report.lines().skip(1).filter(|row| row.contains(",change,")).collect()
}

async fn report_of(log: &TestLog, subject: Subject) -> String {
    let auditor = wf_auth::Principal {
        subject: "usr_auditor1".to_owned(),
        role: Role::Auditor,
        partner_id: None,
        kind: wf_auth::TokenKind::User,
        token_id: "jti_1".to_owned(),
    };
    let request = ReportRequest {
        subject,
        format: Format::Csv,
        purpose: "survivor_request".to_owned(),
        occurred_from_micros: None,
        occurred_before_micros: None,
    };
    let report = disclosure_report(&log.db, log.clock.as_ref(), &auditor, request).await.expect("report");
    assert_eq!(report.rows + 1, report.content.lines().count(), "{}", report.content);
    report.content
}

/// Issue 12, acceptance 3: a youth's report lists the coded read of their referral, the read of
/// their case, the privileged-note read and the refused attempt on their referral — found through
/// the case and note ids the log ties to the youth — and nothing on another youth's records, not
/// even a matcher's read of the other youth's referral made while matching this youth's.
async fn a_youths_report_lists_every_read_and_refusal_on_their_records_and_nothing_of_another_youth(engine: Engine) {
    let log = TestLog::new(engine).await;
    let handler = log.handler();
    let (a, b) = (Youth::new(), Youth::new());
    let mut events = a.records();
    events.extend(b.records());
    events.extend(a.disclosures("usr_cm1"));
    events.extend(b.disclosures("usr_cm2"));
    // The matcher opens youth b's referral while matching youth a's (a's referral is the correlation).
    let matching = wf_proto::events::v1::RecordAccessed {
        actor: "intake".to_owned(),
        actor_role: "service".to_owned(),
        record_id: b.referral.clone(),
        purpose: "returning_youth_matching".to_owned(),
        ..Default::default()
    };
    events.push(event("intake", &b.referral, &a.referral, &matching));
    // A refusal before any token verified names no record.
    let unauthenticated = wf_proto::events::v1::AccessRefused {
        actor: "unauthenticated".to_owned(),
        reason: "unauthenticated".to_owned(),
        ..Default::default()
    };
    events.push(event("cases", "unauthenticated", "unauthenticated", &unauthenticated));
    for envelope in events {
        handler.handle(envelope).await.expect("appended");
    }

    let report = report_of(&log, Subject::Youth(a.youth.clone())).await;
    let rows = disclosures(&report);
    assert_eq!(rows.len(), 4, "{report}");
    // And the changes of a's records: the referral received, the case assigned, the note added
    // (by its author).
    let changed: Vec<&str> = changes(&report);
    assert_eq!(changed.len(), 3, "{report}");
    assert!(changed[0].contains(&format!(",{},change,intake,service,", a.referral)), "{report}");
    assert!(
        changed[1].contains(&format!(",{},change,cases,service,", a.case)) && changed[1].contains("case_manager=cm_1")
    );
    assert!(changed[2].contains(&format!(",{} (privileged note),change,usr_cm1,,", a.note)), "{report}");
    assert_eq!(
        report.lines().next(),
        Some("sequence,occurred_at,record,kind,actor,actor_role,organization,purpose,release,what,emergency_access")
    );
    let expected = [
        format!(",{},read,usr_cm1,case_manager,,triage,none (program staff),coded.screenings,no", a.referral),
        format!(",{},read,usr_cm1,case_manager,,case_management,none (program staff),case.record,no", a.case),
        format!(
            ",{} (privileged note),read,usr_cm1,case_manager,,supervision,none (program staff),note.text,no",
            a.note
        ),
        format!(
            ",{},refused,usr_hot9,hotline,,,none (refused),/wayfinder.intake.v1.IntakeService/GetReferral refused: out_of_scope,no",
            a.referral
        ),
    ];
    for (row, expected) in rows.iter().zip(&expected) {
        assert!(row.contains(expected.as_str()), "{row}\nshould contain\n{expected}");
    }
    for id in b.ids() {
        assert!(!report.contains(id), "youth a's report shows {id} of youth b:\n{report}");
    }
    assert!(!report.contains("usr_cm2") && !report.contains("unauthenticated"), "{report}");

    // Youth b's report: its own four, the matcher's read of its referral, and nothing of youth a
    // (not the report just made about youth a either).
    let report = report_of(&log, Subject::Youth(b.youth.clone())).await;
    assert_eq!((disclosures(&report).len(), changes(&report).len()), (5, 3), "{report}");
    assert!(
        report.contains(&format!(
            ",{},read,intake,service,,returning_youth_matching,none (Wayfinder service),",
            b.referral
        )),
        "{report}"
    );
    for id in a.ids() {
        assert!(!report.contains(id), "youth b's report shows {id} of youth a:\n{report}");
    }

    // One referral's report: the referral, its case and the case's notes.
    let report = report_of(&log, Subject::Referral(a.referral.clone())).await;
    assert_eq!((disclosures(&report).len(), changes(&report).len()), (4, 3), "{report}");
    for id in b.ids() {
        assert!(!report.contains(id), "{report}");
    }
}
wf_testkit::both_engines!(
    a_youths_report_lists_every_read_and_refusal_on_their_records_and_nothing_of_another_youth,
    a_youths_report_lists_every_read_and_refusal_on_their_records_and_nothing_of_another_youth
);

/// A partner's read of an offer of a youth's referral and another partner's refused reach for it
/// are in that youth's report (and their referral's), as routing sends them: `offer.made` with the
/// referral as aggregate, the read with the offer as aggregate and the referral as correlation, the
/// refusal with the offer as both. Nothing of another youth's offer.
async fn a_youths_report_lists_reads_and_refusals_of_the_offers_of_their_referrals(engine: Engine) {
    use wf_proto::events::v1 as ev;
    let log = TestLog::new(engine).await;
    let handler = log.handler();
    let (a, b) = (Youth::new(), Youth::new());
    let (offer_a, offer_b) = (wf_types::OfferId::generate().to_string(), wf_types::OfferId::generate().to_string());
    let mut events = Vec::new();
    for (youth, offer_id) in [(&a, &offer_a), (&b, &offer_b)] {
        events.extend(youth.records());
        let made = ev::OfferMade {
            offer_id: offer_id.clone(),
            referral_id: youth.referral.clone(),
            partner_id: "org_fictional_shelter".to_owned(),
            ..Default::default()
        };
        events.push(event("routing", &youth.referral, &youth.referral, &made));
        let read = ev::RecordAccessed {
            actor: "partner-client-shelter".to_owned(),
            actor_role: "partner".to_owned(),
            record_id: offer_id.clone(),
            purpose: "service_referral".to_owned(),
            fields: vec!["offer.coded".to_owned()],
            actor_organization_id: "org_fictional_shelter".to_owned(),
            ..Default::default()
        };
        events.push(event("routing", offer_id, &youth.referral, &read));
        let refused = ev::AccessRefused {
            actor: "partner-client-other".to_owned(),
            actor_role: "partner".to_owned(),
            actor_organization_id: "org_fictional_other".to_owned(),
            operation: "/wayfinder.routing.v1.RoutingService/AcceptOffer".to_owned(),
            record_id: offer_id.clone(),
            reason: "out_of_scope".to_owned(),
            ..Default::default()
        };
        events.push(event("routing", offer_id, offer_id, &refused));
    }
    for envelope in events {
        handler.handle(envelope).await.expect("appended");
    }

    let expected = |offer_id: &str| {
        [
            format!(
                ",{offer_id},read,partner-client-shelter,partner,org_fictional_shelter,service_referral,none (no personal details),offer.coded,no"
            ),
            format!(
                ",{offer_id},refused,partner-client-other,partner,org_fictional_other,,none (refused),/wayfinder.routing.v1.RoutingService/AcceptOffer refused: out_of_scope,no"
            ),
        ]
    };
    for subject in [Subject::Youth(a.youth.clone()), Subject::Referral(a.referral.clone())] {
        let report = report_of(&log, subject).await;
        let rows = disclosures(&report);
        assert_eq!(rows.len(), 2, "{report}");
        // The offer made to the partner is a change of the youth's records too.
        assert!(
            changes(&report).iter().any(|row| row.contains(&format!(",{offer_a},change,routing,service,"))
                && row.contains("partner=org_fictional_shelter")),
            "{report}"
        );
        for (row, expected) in rows.iter().zip(&expected(&offer_a)) {
            assert!(row.contains(expected.as_str()), "{row}\nshould contain\n{expected}");
        }
        assert!(!report.contains(&offer_b) && !report.contains(&b.referral), "{report}");
    }
    let report = report_of(&log, Subject::Youth(b.youth.clone())).await;
    assert_eq!(disclosures(&report).len(), 2, "{report}");
    assert!(report.contains(&offer_b) && !report.contains(&offer_a), "{report}");
}
wf_testkit::both_engines!(
    a_youths_report_lists_reads_and_refusals_of_the_offers_of_their_referrals,
    a_youths_report_lists_reads_and_refusals_of_the_offers_of_their_referrals
);
