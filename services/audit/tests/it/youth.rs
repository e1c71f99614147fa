//! Issue 13, findings 1 and 2, as the pilot met them: a youth's disclosure report, `ListEntries`
//! by youth and `AuditEntry.youth_id` cover exactly the youth's own records — across every
//! referral of theirs, including a re-referral joined by a confirmed match after it was read — and
//! never a record of the youth their referral was matched against. The report lists changes too.
//!
//! The events are sent as their producers send them (aggregate and correlation ids included):
//! the matcher's read of a candidate's referral carries the new referral as correlation; the
//! possible-match list records a read on the candidate youth id.

use std::time::Duration;

use wf_audit::CheckpointPolicy;
use wf_auth::Role;
use wf_events::{Envelope, EventPayload};
use wf_proto::audit::v1 as pb;
use wf_proto::audit::v1::audit_service_client::AuditServiceClient;
use wf_proto::common::v1 as common;
use wf_proto::common::v1::ReportFormat;
use wf_proto::events::v1 as ev;
use wf_testkit::{AuthedChannel, Engine, TestServer, TestService, both_engines};
use wf_types::SystemClock;

use crate::common::event;

type Client = AuditServiceClient<AuthedChannel>;

fn id(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::now_v7().simple())
}

async fn start(engine: Engine) -> TestServer {
    let audit = TestService::new(wf_audit::migrations(), |ctx| async move {
        let policy = CheckpointPolicy {
            every_entries: 1000,
            every: Duration::from_secs(3600),
            ..CheckpointPolicy::for_data_dir(&ctx.config.data_dir)
        };
        Ok(wf_audit::build_with(ctx, policy).await? as _)
    });
    TestServer::start_many(engine, SystemClock::shared(), vec![audit]).await
}

fn read(actor: &str, role: &str, record: &str, purpose: &str, field: &str) -> ev::RecordAccessed {
    ev::RecordAccessed {
        actor: actor.to_owned(),
        actor_role: role.to_owned(),
        record_id: record.to_owned(),
        purpose: purpose.to_owned(),
        fields: vec![field.to_owned()],
        ..Default::default()
    }
}

fn matcher_read(record: &str) -> ev::RecordAccessed {
    read("intake", "service", record, "returning_youth_matching", "personal.identity_keys")
}

/// The records of the story: youth B referred first; youth A referred, matched against B (no
/// match), served in a case; A referred again under a provisional youth id P, which staff later
/// confirm is A.
struct Story {
    a: String,
    b: String,
    p: String,
    a_referral: String,
    a_case: String,
    a_note: String,
    re_referral: String,
    re_case: String,
    b_referral: String,
    possible_match: String,
}

impl Story {
    fn new() -> Self {
        Story {
            a: id("yth"),
            b: id("yth"),
            p: id("yth"),
            a_referral: id("ref"),
            a_case: id("case"),
            a_note: id("note"),
            re_referral: id("ref"),
            re_case: id("case"),
            b_referral: id("ref"),
            possible_match: id("pm"),
        }
    }

    /// Every event of the story, in the order the log receives them, each with what it is in
    /// youth A's report ("read …", "change …") or None when it is not in it.
    fn events(&self) -> Vec<(Envelope, Option<&'static str>)> {
        let s = self;
        let received = |referral: &str, youth: &str| ev::ReferralReceived {
            referral_id: referral.to_owned(),
            youth_id: youth.to_owned(),
            source: common::ReferralSource::Hotline as i32,
            triage_tier: common::TriageTier::Urgent as i32,
            ..Default::default()
        };
        let mut events = vec![
            // Youth B.
            (event("intake", &s.b_referral, &s.b_referral, &received(&s.b_referral, &s.b)), None),
            // Youth A's first referral; the matcher opens A's own details and B's (the
            // candidate), both reads carrying A's referral as correlation.
            (
                event("intake", &s.a_referral, &s.a_referral, &received(&s.a_referral, &s.a)),
                Some("change referral.received"),
            ),
            (event("intake", &s.a_referral, &s.a_referral, &matcher_read(&s.a_referral)), Some("read matcher")),
            (event("intake", &s.b_referral, &s.a_referral, &matcher_read(&s.b_referral)), None),
            (
                event(
                    "intake",
                    &s.a_referral,
                    &s.a_referral,
                    &ev::ReferralTriaged {
                        referral_id: s.a_referral.clone(),
                        triage_tier: common::TriageTier::Emergent as i32,
                        triage_reason: "imminent_danger".to_owned(),
                        ..Default::default()
                    },
                ),
                Some("change referral.triaged"),
            ),
            (
                event(
                    "cases",
                    &s.a_case,
                    &s.a_referral,
                    &ev::CaseAssigned {
                        case_id: s.a_case.clone(),
                        referral_id: s.a_referral.clone(),
                        youth_id: s.a.clone(),
                        case_manager_id: "cm_1".to_owned(),
                        reason: "caseload_balance".to_owned(),
                        ..Default::default()
                    },
                ),
                Some("change case.assigned"),
            ),
            (
                event(
                    "cases",
                    &s.a,
                    &s.a_referral,
                    &read("usr_cm1", "case_manager", &s.a_case, "case_management", "case"),
                ),
                Some("read case"),
            ),
            (
                event(
                    "cases",
                    &s.a_case,
                    &s.a_referral,
                    &ev::CaseNoteAdded {
                        note_id: s.a_note.clone(),
                        case_id: s.a_case.clone(),
                        author_id: "usr_cm1".to_owned(),
                        category: "safety_plan".to_owned(),
                        ..Default::default()
                    },
                ),
                Some("change case_note.added"),
            ),
            (
                event(
                    "cases",
                    &s.a_case,
                    &s.a_referral,
                    &ev::CaseStageChanged {
                        case_id: s.a_case.clone(),
                        referral_id: s.a_referral.clone(),
                        from_stage: wf_proto::cases::v1::CaseStage::Enrolled as i32,
                        to_stage: wf_proto::cases::v1::CaseStage::Assessed as i32,
                        ..Default::default()
                    },
                ),
                Some("change case.stage_changed"),
            ),
            // A notice is not a change of anyone's records.
            (
                event(
                    "cases",
                    &s.a_case,
                    &s.a_case,
                    &ev::FollowUpDue {
                        follow_up_id: "fu_1".to_owned(),
                        case_id: s.a_case.clone(),
                        ..Default::default()
                    },
                ),
                None,
            ),
            // Youth B's referral is closed: B's change, not A's.
            (
                event(
                    "intake",
                    &s.b_referral,
                    &s.b_referral,
                    &ev::ReferralClosed { referral_id: s.b_referral.clone(), ..Default::default() },
                ),
                None,
            ),
            // A's re-referral, under provisional youth id P.
            (
                event("intake", &s.re_referral, &s.re_referral, &received(&s.re_referral, &s.p)),
                Some("change referral.received"),
            ),
            (event("intake", &s.re_referral, &s.re_referral, &matcher_read(&s.re_referral)), Some("read matcher")),
            (event("intake", &s.a_referral, &s.re_referral, &matcher_read(&s.a_referral)), Some("read matcher")),
            (
                event(
                    "intake",
                    &s.possible_match,
                    &s.re_referral,
                    &ev::PossibleMatchFound {
                        possible_match_id: s.possible_match.clone(),
                        referral_id: s.re_referral.clone(),
                        candidate_youth_id: s.a.clone(),
                        matched_on: vec!["name_dob".to_owned()],
                        score: 0.97,
                        ..Default::default()
                    },
                ),
                Some("change possible_match.found"),
            ),
            // Staff list the possible matches: a read on the new referral and on the candidate youth.
            (
                event(
                    "intake",
                    &s.re_referral,
                    &s.re_referral,
                    &read("usr_sup1", "supervisor", &s.re_referral, "", "referral.possible_matches"),
                ),
                Some("read possible matches"),
            ),
            (
                event(
                    "intake",
                    &s.a,
                    &s.re_referral,
                    &read("usr_sup1", "supervisor", &s.a, "", "referral.possible_matches"),
                ),
                Some("read possible matches"),
            ),
            (
                event(
                    "intake",
                    &s.re_referral,
                    &s.re_referral,
                    &read("usr_cm1", "case_manager", &s.re_referral, "triage", "personal.legal_first_name"),
                ),
                Some("read personal"),
            ),
            (
                event(
                    "intake",
                    "scr_1",
                    &s.re_referral,
                    &ev::ScreeningRecorded {
                        screening_id: "scr_1".to_owned(),
                        referral_id: s.re_referral.clone(),
                        youth_id: s.p.clone(),
                        tool: common::ScreeningTool::CseItBrief as i32,
                        result: common::ScreeningResult::ClearConcern as i32,
                        ..Default::default()
                    },
                ),
                Some("change screening.recorded"),
            ),
            (
                event(
                    "cases",
                    &s.re_case,
                    &s.re_referral,
                    &ev::CaseAssigned {
                        case_id: s.re_case.clone(),
                        referral_id: s.re_referral.clone(),
                        youth_id: s.p.clone(),
                        case_manager_id: "cm_2".to_owned(),
                        ..Default::default()
                    },
                ),
                Some("change case.assigned"),
            ),
            (
                event(
                    "cases",
                    &s.p,
                    &s.re_referral,
                    &read("usr_cm2", "case_manager", &s.re_case, "case_management", "case"),
                ),
                Some("read case"),
            ),
            (
                event(
                    "cases",
                    &s.re_case,
                    &s.re_referral,
                    &ev::InterventionDelivered {
                        intervention_id: "int_1".to_owned(),
                        case_id: s.re_case.clone(),
                        referral_id: s.re_referral.clone(),
                        service_type: "mental_health".to_owned(),
                        units: 2.0,
                        provider_id: "org_fictional_clinic".to_owned(),
                        ..Default::default()
                    },
                ),
                Some("change intervention.delivered"),
            ),
            // Only now do staff confirm that the re-referral is youth A.
            (
                event(
                    "intake",
                    &s.possible_match,
                    &s.re_referral,
                    &ev::PossibleMatchConfirmed {
                        possible_match_id: s.possible_match.clone(),
                        referral_id: s.re_referral.clone(),
                        youth_id: s.a.clone(),
                        previous_youth_id: s.p.clone(),
                        decided_by: "usr_sup1".to_owned(),
                        practice: false,
                    },
                ),
                Some("change possible_match.confirmed"),
            ),
        ];
        // Another part of the log entirely: a roster change names no youth.
        events.push((
            event(
                "cases",
                "cm_9",
                "cm_9",
                &ev::CaseManagerChanged {
                    case_manager_id: "cm_9".to_owned(),
                    changed_by: "usr_pm1".to_owned(),
                    ..Default::default()
                },
            ),
            None,
        ));
        events
    }
}

async fn report(auditor: &mut Client, youth: &str) -> String {
    let request = pb::DisclosureReportRequest {
        subject: Some(pb::disclosure_report_request::Subject::YouthId(youth.to_owned())),
        format: ReportFormat::Csv as i32,
        occurred: None,
        purpose: "survivor_request".to_owned(),
    };
    let report = auditor.disclosure_report(request).await.expect("report").into_inner();
    let content = String::from_utf8(report.content).expect("utf-8");
    assert_eq!(report.entry_count as usize + 1, content.lines().count(), "{content}");
    content
}

/// (record, kind, actor, what) of each row.
fn rows(report: &str) -> Vec<(String, String, String, String)> {
    report
        .lines()
        .skip(1)
        .map(|line| {
            let cells: Vec<&str> = line.splitn(10, ',').collect();
            let what = cells.get(9).map(|rest| rest.rsplit_once(',').map_or(*rest, |(w, _)| w)).unwrap_or_default();
            (cells[2].to_owned(), cells[3].to_owned(), cells[4].to_owned(), what.trim_matches('"').to_owned())
        })
        .collect()
}

async fn youth_entries(auditor: &mut Client, youth: &str, page_size: i32) -> Vec<pb::AuditEntry> {
    let mut entries = Vec::new();
    let mut page_token = String::new();
    loop {
        let request = pb::ListEntriesRequest {
            youth_id: youth.to_owned(),
            page_size,
            page_token: page_token.clone(),
            ..Default::default()
        };
        let page = auditor.list_entries(request).await.expect("list by youth").into_inner();
        entries.extend(page.entries);
        if page.next_page_token.is_empty() {
            return entries;
        }
        page_token = page.next_page_token;
    }
}

async fn a_youths_report_and_entries_are_their_own_records_across_every_linked_referral(engine: Engine) {
    let server = start(engine).await;
    let story = Story::new();
    let events = story.events();
    for (envelope, _) in &events {
        server.publish(envelope).await;
    }
    let mut auditor = AuditServiceClient::new(server.channel(&server.tokens.user(Role::Auditor)).await);

    // Youth A's report: exactly the reads and changes marked for A, in log order.
    let a_report = report(&mut auditor, &story.a).await;
    let found = rows(&a_report);
    let expected: Vec<&str> = events.iter().filter_map(|(_, in_a)| *in_a).collect();
    let kinds: Vec<String> =
        found.iter().map(|(_, kind, _, what)| format!("{kind} {}", what.split(':').next().unwrap_or(""))).collect();
    assert_eq!(found.len(), expected.len(), "{a_report}");
    for ((kind, what), expected) in found.iter().map(|(_, k, _, w)| (k, w)).zip(&expected) {
        let (expected_kind, expected_what) = expected.split_once(' ').unwrap();
        assert_eq!(kind, expected_kind, "{a_report}");
        if expected_kind == "change" {
            assert!(what.starts_with(expected_what), "{what} should be {expected_what}\n{a_report}");
        }
    }
    let _ = kinds;
    for foreign in [&story.b, &story.b_referral] {
        assert!(!a_report.contains(foreign.as_str()), "A's report names B's record {foreign}:\n{a_report}");
    }
    // The reads of the re-referral, its case, and the candidate youth id are A's, though the
    // confirmation came after them.
    for record in [&story.re_referral, &story.re_case, &story.a] {
        assert!(found.iter().any(|(r, kind, ..)| r == record && kind == "read"), "no read of {record}:\n{a_report}");
    }
    // Changes say who (the person where the event names one) and what, in codes.
    let change = |what: &str| found.iter().find(|(_, kind, _, w)| kind == "change" && w.starts_with(what)).cloned();
    let (record, _, actor, what) = change("possible_match.confirmed").expect("confirmation");
    assert_eq!((record.as_str(), actor.as_str()), (story.re_referral.as_str(), "usr_sup1"), "{what}");
    let (record, _, actor, what) = change("case_note.added").expect("note");
    assert_eq!((record.as_str(), actor.as_str()), (story.a_note.as_str(), "usr_cm1"));
    assert!(what.contains("safety_plan"), "{what}");
    let (record, _, actor, what) = change("referral.triaged").expect("triage");
    assert_eq!((record.as_str(), actor.as_str()), (story.a_referral.as_str(), "intake"));
    assert!(what.contains("emergent") && what.contains("imminent_danger"), "{what}");
    let (record, _, _, what) = change("intervention.delivered").expect("intervention");
    assert_eq!(record, story.re_case);
    assert!(what.contains("mental_health") && what.contains("org_fictional_clinic"), "{what}");

    // Youth B's report: B's referral, the matcher's read of it made while matching A, and its
    // closure; nothing of A.
    let b_report = report(&mut auditor, &story.b).await;
    let b_rows = rows(&b_report);
    let b_kinds: Vec<(&str, &str)> = b_rows.iter().map(|(r, k, ..)| (r.as_str(), k.as_str())).collect();
    assert_eq!(
        b_kinds,
        [
            (story.b_referral.as_str(), "change"),
            (story.b_referral.as_str(), "read"),
            (story.b_referral.as_str(), "change")
        ],
        "{b_report}"
    );
    for foreign in [&story.a, &story.a_referral, &story.re_referral, &story.a_case] {
        assert!(!b_report.contains(foreign.as_str()), "B's report names A's record {foreign}:\n{b_report}");
    }

    // ListEntries by youth: every entry on A's records (the reports above included, the notice
    // too), each with youth_id A, across pages; nothing of B's records.
    let listed = youth_entries(&mut auditor, &story.a, 4).await;
    let mut listed_ids: Vec<String> = listed.iter().map(|e| e.event_id.clone()).collect();
    let mut own: Vec<String> = events
        .iter()
        .filter(|(envelope, in_a)| in_a.is_some() || envelope.event_type == ev::FollowUpDue::TYPE)
        .map(|(envelope, _)| envelope.event_id.to_string())
        .collect();
    listed_ids.retain(|event_id| own.contains(event_id));
    assert_eq!(listed.len(), own.len() + 1, "A's events and the one report about A: {listed:#?}");
    own.sort();
    listed_ids.sort();
    assert_eq!(listed_ids, own);
    assert!(listed.iter().all(|e| e.youth_id == story.a), "{listed:#?}");
    assert!(listed.windows(2).all(|w| w[0].sequence < w[1].sequence));
    let b_listed = youth_entries(&mut auditor, &story.b, 100).await;
    assert_eq!(b_listed.len(), 3 + 1, "B's three entries and the report about B: {b_listed:#?}");
    assert!(b_listed.iter().all(|e| e.youth_id == story.b), "{b_listed:#?}");
    // The retired provisional id lists the same entries as A.
    assert_eq!(youth_entries(&mut auditor, &story.p, 100).await.len(), listed.len());

    // Every entry carries its youth: A's (the re-referral's too, since the confirmation), B's,
    // or none for the roster change.
    let all = auditor
        .list_entries(pb::ListEntriesRequest { page_size: 1000, ..Default::default() })
        .await
        .expect("everything")
        .into_inner()
        .entries;
    for (envelope, in_a) in &events {
        let entry = all.iter().find(|e| e.event_id == envelope.event_id.to_string()).expect("appended");
        let expected = if in_a.is_some() || envelope.event_type == ev::FollowUpDue::TYPE {
            story.a.as_str()
        } else if envelope.event_type == ev::CaseManagerChanged::TYPE {
            ""
        } else {
            story.b.as_str()
        };
        assert_eq!(entry.youth_id, expected, "{} {}", entry.r#type, entry.aggregate_id);
    }
    let first = &events[1].0;
    let got = auditor
        .get_entry(pb::GetEntryRequest { key: Some(pb::get_entry_request::Key::EventId(first.event_id.to_string())) })
        .await
        .expect("get")
        .into_inner();
    assert_eq!(got.entry.map(|e| e.youth_id), Some(story.a.clone()));

    server.stop().await;
}
both_engines!(
    a_youths_report_and_entries_are_their_own_records_across_every_linked_referral,
    a_youths_report_and_entries_are_their_own_records_across_every_linked_referral
);
