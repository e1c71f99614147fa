//! Reopening a case checks the cap again (the owner keeps it only with room; else the rule, else
//! the supervisors' queue), and cancels the follow-ups of the exit it undid; the next exit
//! schedules new ones. Driven by the controlled clock.

use std::time::Duration;

use tonic::Code;
use wf_auth::Role;
use wf_proto::cases::v1::{self as pb, CaseClosureReason, FollowUpKind, FollowUpStatus};
use wf_proto::common::v1::Site;
use wf_proto::events::v1 as events;
use wf_testkit::both_engines;

use wf_cases::events::RoutedOutcome;
use wf_proto::cases::v1::case_service_server::CaseService;
use wf_types::ReferralId;

use crate::harness::{Harness, TestDb, referral_routed, request_as, roster};
use crate::served::{Client, Served, close};

const A: &str = "cm_0000000000000000000000000000000a";
const B: &str = "cm_0000000000000000000000000000000b";

async fn reopen(client: &mut Client, case_id: &str) -> pb::Case {
    let request =
        pb::ReopenCaseRequest { case_id: case_id.to_owned(), reason: "youth_returned".into(), ..Default::default() };
    client.reopen_case(request).await.expect("reopen").into_inner().case.expect("case")
}

async fn follow_ups(client: &mut Client, case_id: &str) -> Vec<pb::FollowUp> {
    let request = pb::ListFollowUpsRequest { case_id: case_id.to_owned(), ..Default::default() };
    client.list_follow_ups(request).await.expect("list").into_inner().follow_ups
}

/// Whether `event` is of `event_type` and about a post-exit follow-up (6, 12, 24 months): the exit
/// follow-up's window opens before the exit, so it is announced as soon as the case closes.
fn post_exit(event: &wf_events::Envelope, event_type: &str) -> bool {
    let kind = match event.event_type.as_str() {
        "follow_up.due" => event.payload_as::<events::FollowUpDue>().map(|p| p.kind),
        "follow_up.overdue" => event.payload_as::<events::FollowUpOverdue>().map(|p| p.kind),
        _ => return false,
    };
    event.event_type == event_type && kind.is_ok_and(|kind| kind != FollowUpKind::Exit as i32)
}

fn follow_up_open(status: i32) -> bool {
    [FollowUpStatus::Scheduled, FollowUpStatus::Due, FollowUpStatus::Overdue].iter().any(|s| *s as i32 == status)
}

async fn owner(client: &mut Client, case_id: &str) -> String {
    let case =
        client.get_case(pb::GetCaseRequest { case_id: case_id.to_owned(), ..Default::default() }).await.expect("get");
    case.into_inner().case.expect("case").case_manager_id
}

both_engines!(reopening_rechecks_the_cap_and_cancels_the_follow_ups_of_the_undone_exit, |engine| async move {
    let served =
        Served::start_with_roster(engine, &roster(&[(A, "south_los_angeles", 1), (B, "south_los_angeles", 1)])).await;
    let mut supervisor = served.client(Role::Supervisor).await;

    // With room, the owner keeps the reopened case.
    let first = served.open_case(Site::SouthLosAngeles).await;
    assert_eq!(owner(&mut supervisor, &first).await, A);
    close(&mut supervisor, &first).await;
    assert_eq!(reopen(&mut supervisor, &first).await.case_manager_id, A);
    close(&mut supervisor, &first).await;

    // Seven months on, the 6-month follow-up of that exit is due.
    served.clock.advance_days(200);
    served.published(1, |e| post_exit(e, "follow_up.due")).await;
    let scheduled = follow_ups(&mut supervisor, &first).await;
    assert_eq!(scheduled.iter().filter(|f| f.status == FollowUpStatus::Cancelled as i32).count(), 4, "first exit");
    let open: Vec<&pb::FollowUp> = scheduled
        .iter()
        .filter(|f| f.status != FollowUpStatus::Cancelled as i32 && f.kind != FollowUpKind::Exit as i32)
        .collect();
    assert_eq!(
        open.iter().map(|f| f.status).collect::<Vec<_>>(),
        [FollowUpStatus::Due as i32, FollowUpStatus::Scheduled as i32, FollowUpStatus::Scheduled as i32]
    );

    // A's cap is taken by a new case: reopening cannot go back to A, so the rule picks B.
    let second = served.open_case(Site::SouthLosAngeles).await;
    assert_eq!(owner(&mut supervisor, &second).await, A);
    let reopened = reopen(&mut supervisor, &first).await;
    assert_eq!(reopened.case_manager_id, B, "A is at their cap (1/1)");
    // Assigned: the first case, its first reopening (kept by A), the second case, this reopening.
    let assigned = served.published(4, |e| e.event_type == "case.assigned").await;
    let last: events::CaseAssigned = assigned[3].payload_as().expect("payload");
    assert_eq!((last.case_id.as_str(), last.case_manager_id.as_str()), (first.as_str(), B));
    assert_eq!(last.previous_case_manager_id, A);

    // The reopening cancelled what was still open; nothing of it falls due or overdue later.
    let cancelled = served.published(8, |e| e.event_type == "follow_up.cancelled").await;
    let payload: events::FollowUpCancelled = cancelled[3].payload_as().expect("payload");
    assert_eq!((payload.case_id.as_str(), payload.reason.as_str()), (first.as_str(), "case_reopened"));
    assert!(follow_ups(&mut supervisor, &first).await.iter().all(|f| f.status == FollowUpStatus::Cancelled as i32));
    served.clock.advance_days(800);
    tokio::time::sleep(Duration::from_millis(400)).await;
    let overdue = served.published(0, |e| post_exit(e, "follow_up.overdue")).await;
    assert!(overdue.is_empty(), "cancelled follow-ups are never announced: {overdue:?}");
    assert_eq!(served.published(0, |e| post_exit(e, "follow_up.due")).await.len(), 1);
    let status = supervisor
        .record_follow_up(pb::RecordFollowUpRequest {
            follow_up_id: payload.follow_up_id.clone(),
            status: FollowUpStatus::LostToFollowUp as i32,
            ..Default::default()
        })
        .await
        .expect_err("cancelled");
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert!(status.message().starts_with("follow-up is cancelled"), "{}", status.message());

    // The next exit schedules its own follow-ups.
    close(&mut supervisor, &first).await;
    let after = follow_ups(&mut supervisor, &first).await;
    let open: Vec<i32> = after.iter().filter(|f| follow_up_open(f.status)).map(|f| f.kind).collect();
    assert_eq!(
        open,
        [FollowUpKind::Exit, FollowUpKind::Month6, FollowUpKind::Month12, FollowUpKind::Month24].map(|k| k as i32)
    );

    // Both case managers at their cap: the reopened case waits in the supervisors' queue.
    let third = served.open_case(Site::SouthLosAngeles).await;
    assert_eq!(owner(&mut supervisor, &third).await, B);
    let queued = reopen(&mut supervisor, &first).await;
    assert_eq!(queued.case_manager_id, "", "nobody eligible: awaiting assignment");
    let reopened = served.published(3, |e| e.event_type == "case.reopened").await;
    let payload: events::CaseReopened = reopened[2].payload_as().expect("payload");
    assert_eq!(payload.case_manager_id, "");
    let queue = served.published(1, |e| e.event_type == "case.awaiting_assignment").await;
    let payload: events::CaseAwaitingAssignment = queue[0].payload_as().expect("payload");
    assert_eq!((payload.case_id.as_str(), payload.reason.as_str()), (first.as_str(), "all_at_capacity"));
    served.server.stop().await;
});

// Twenty closed cases reopened while ten new referrals arrive, all at once, for twenty places:
// every reopening succeeds, nobody goes over their cap, the rest wait in the supervisors' queue.
both_engines!(concurrent_reopenings_and_new_referrals_share_the_caps, |engine| async move {
    let test = TestDb::new(engine).await;
    let harness =
        Harness::start(&test, Some(&roster(&[(A, "south_los_angeles", 10), (B, "south_los_angeles", 10)]))).await;
    let handler = harness.cases.event_handler();
    let api = harness.cases.api();
    let mut closed = Vec::new();
    for _ in 0..20 {
        let referral_id = ReferralId::generate();
        harness.received(&referral_id, Site::SouthLosAngeles).await;
        let outcome = handler.on_referral_routed(&referral_routed(&referral_id, Site::SouthLosAngeles, false)).await;
        let Ok(RoutedOutcome::Opened { case_id, .. }) = outcome else { panic!("{outcome:?}") };
        let close = pb::CloseCaseRequest {
            case_id: case_id.clone(),
            reason: CaseClosureReason::GoalsMet as i32,
            ..Default::default()
        };
        api.close_case(request_as(Role::CaseManager, close)).await.expect("close");
        closed.push(case_id);
    }
    let mut fresh = Vec::new();
    for _ in 0..10 {
        let referral_id = ReferralId::generate();
        harness.received(&referral_id, Site::SouthLosAngeles).await;
        fresh.push(referral_id);
    }

    let reopenings = closed.into_iter().map(|case_id| {
        let api = api.clone();
        tokio::spawn(async move {
            let request = pb::ReopenCaseRequest { case_id, reason: "youth_returned".into(), ..Default::default() };
            api.reopen_case(request_as(Role::Supervisor, request)).await.map(|_| ())
        })
    });
    let referrals = fresh.into_iter().map(|referral_id| {
        let handler = handler.clone();
        tokio::spawn(async move {
            let routed = referral_routed(&referral_id, Site::SouthLosAngeles, false);
            handler
                .on_referral_routed(&routed)
                .await
                .map(|_| ())
                .map_err(|err| tonic::Status::internal(format!("{err:?}")))
        })
    });
    let handles: Vec<_> = reopenings.chain(referrals).collect();
    for joined in futures::future::join_all(handles).await {
        joined.expect("task").expect("every reopening and every referral is handled");
    }

    for id in [A, B] {
        let sql = format!("SELECT COUNT(*) FROM cases WHERE case_manager_id = '{id}' AND stage = 'engagement'");
        assert_eq!(harness.count(&sql).await, 10, "{id} holds exactly their cap");
    }
    assert_eq!(harness.count("SELECT COUNT(*) FROM cases WHERE stage = 'engagement'").await, 30);
    assert_eq!(harness.count("SELECT COUNT(*) FROM cases WHERE status = 'awaiting_assignment'").await, 10);
    let reasons: Vec<(String,)> =
        sqlx::query_as("SELECT reason FROM case_assignments ORDER BY id").fetch_all(harness.db.pool()).await.unwrap();
    assert!(reasons.iter().all(|(reason,)| !reason.contains("(10/10)")), "nobody assigned at their cap");
});
