//! `referral.routed` → one case, one assignment, one `case.assigned` — once, whatever is redelivered.

use std::collections::HashMap;

use wf_cases::domain::CaseStatus;
use wf_cases::events::RoutedOutcome;
use wf_events::{EventHandler, outbox};
use wf_proto::common::v1::Site;
use wf_proto::events::v1 as pb;
use wf_types::ReferralId;

use wf_auth::Role;
use wf_proto::cases::v1 as cases_pb;
use wf_proto::cases::v1::case_service_server::CaseService;
use wf_testkit::both_engines;

use crate::harness::{Harness, TestDb, referral_routed, request_as, roster};

/// The demo roster's South Los Angeles case managers, lowest id first (CM-SLA-3, CM-SLA-1).
const DEMO_SLA_LOWEST_ID: &str = "cm_07119f1e5f764a9a8ed388a92817b511";

both_engines!(a_routed_referral_opens_one_case_and_announces_one_assignment, |engine| async move {
    let test = TestDb::new(engine).await;
    let harness = Harness::start(&test, None).await;
    let collector = harness.collect_case_events().await;
    let referral_id = ReferralId::generate();
    let routed = referral_routed(&referral_id, Site::SouthLosAngeles, false);
    harness.received(&referral_id, Site::SouthLosAngeles).await;

    harness.cases.event_handler().handle(routed).await.expect("handled");

    assert_eq!(harness.count("SELECT COUNT(*) FROM cases").await, 1);
    assert_eq!(harness.count("SELECT COUNT(*) FROM case_assignments").await, 1);
    assert_eq!(outbox::pending_count(&harness.db).await.unwrap(), 1);
    assert_eq!(harness.relay_round().await, 1);
    assert_eq!(outbox::pending_count(&harness.db).await.unwrap(), 0);

    let events = collector.finish().await;
    assert_eq!(events.len(), 1, "{events:?}");
    let event = &events[0];
    assert_eq!(event.event_type, "case.assigned");
    assert_eq!(event.producer, "cases");
    assert_eq!(event.correlation_id, referral_id.as_str());
    let assigned: pb::CaseAssigned = event.payload_as().expect("payload");
    assert_eq!(event.aggregate_id, assigned.case_id);
    assert!(assigned.case_id.starts_with("case_"));
    assert_eq!(assigned.referral_id, referral_id.as_str());
    assert_eq!(assigned.case_manager_id, DEMO_SLA_LOWEST_ID, "all at 0 open cases: lowest id wins");
    assert_eq!(assigned.site, Site::SouthLosAngeles as i32);
    assert_eq!(assigned.reason, "least loaded eligible (0/12)");
    assert!(!assigned.practice);
    let assigned_at = assigned.assigned_at.expect("assigned_at");
    assert!((chrono::Utc::now().timestamp() - assigned_at.seconds).abs() < 60);

    let case = wf_cases::store::get_case(&harness.db, &assigned.case_id).await.unwrap().expect("stored case");
    assert_eq!(case.status, CaseStatus::Assigned);
    assert_eq!(case.case_manager_id.as_deref(), Some(DEMO_SLA_LOWEST_ID));
    assert_eq!(case.triage_tier, "routine");
    let history = wf_cases::store::assignments_of(&harness.db, &assigned.case_id).await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!((history[0].open_cases_before, history[0].max_caseload), (0, 12));

    // The next South Los Angeles referral goes to someone who has none yet.
    let second_id = ReferralId::generate();
    harness.received(&second_id, Site::SouthLosAngeles).await;
    let second = referral_routed(&second_id, Site::SouthLosAngeles, false);
    match harness.cases.event_handler().on_referral_routed(&second).await.unwrap() {
        RoutedOutcome::Opened { case_id, status: CaseStatus::Assigned } => {
            let case = wf_cases::store::get_case(&harness.db, &case_id).await.unwrap().unwrap();
            assert_ne!(case.case_manager_id.as_deref(), Some(DEMO_SLA_LOWEST_ID));
        }
        other => panic!("expected an assigned case, got {other:?}"),
    }
});

both_engines!(redelivery_and_reroutes_leave_one_case_and_one_event, |engine| async move {
    let test = TestDb::new(engine).await;
    let harness = Harness::start(&test, None).await;
    let handler = harness.cases.event_handler();
    let referral_id = ReferralId::generate();
    let routed = referral_routed(&referral_id, Site::SanFernandoValley, false);
    harness.received(&referral_id, Site::SanFernandoValley).await;

    let first = handler.on_referral_routed(&routed).await.expect("first delivery");
    let RoutedOutcome::Opened { case_id, .. } = first else { panic!("expected a new case, got {first:?}") };
    assert_eq!(handler.on_referral_routed(&routed).await.unwrap(), RoutedOutcome::Duplicate);
    handler.handle(routed.clone()).await.expect("a third delivery is acknowledged");
    // A re-route is a different event for the same referral: the case stays as it is.
    let mut rerouted = referral_routed(&referral_id, Site::SanFernandoValley, false);
    let mut payload: pb::ReferralRouted = rerouted.payload_as().unwrap();
    payload.attempt = 2;
    payload.reason = "offer_declined".to_owned();
    rerouted.payload = prost::Message::encode_to_vec(&payload);
    assert_eq!(handler.on_referral_routed(&rerouted).await.unwrap(), RoutedOutcome::CaseExists { case_id });

    assert_eq!(harness.count("SELECT COUNT(*) FROM cases").await, 1);
    assert_eq!(harness.count("SELECT COUNT(*) FROM case_assignments").await, 1);
    assert_eq!(
        harness.count("SELECT COUNT(*) FROM event_inbox WHERE consumer = 'cases'").await,
        3,
        "received + 2 routed"
    );
    let collector = harness.collect_case_events().await;
    assert_eq!(harness.relay_round().await, 1);
    assert_eq!(harness.relay_round().await, 0, "nothing is published twice");
    assert_eq!(collector.finish().await.len(), 1);
});

both_engines!(with_nobody_eligible_the_case_waits_in_the_supervisors_queue, |engine| async move {
    let test = TestDb::new(engine).await;
    let only_the_valley = roster(&[("cm_000000000000000000000000000000a1", "san_fernando_valley", 5)]);
    let harness = Harness::start(&test, Some(&only_the_valley)).await;
    let referral_id = ReferralId::generate();
    let outcome = harness.route(&referral_id, Site::SouthLosAngeles, false).await;

    let RoutedOutcome::Opened { case_id, status: CaseStatus::AwaitingAssignment } = outcome else {
        panic!("expected an unassigned case, got {outcome:?}")
    };
    let case = wf_cases::store::get_case(&harness.db, &case_id).await.unwrap().unwrap();
    assert_eq!(case.referral_id, referral_id.as_str());
    assert_eq!(case.case_manager_id, None);
    assert_eq!(case.assigned_at, None);
    assert_eq!(harness.count("SELECT COUNT(*) FROM case_assignments").await, 0);
    // No case.assigned without an owner: the supervisors learn of it from case.awaiting_assignment.
    let collector = harness.collect_case_events().await;
    assert_eq!(harness.relay_round().await, 1);
    let events = collector.finish().await;
    assert_eq!(events.iter().map(|e| e.event_type.as_str()).collect::<Vec<_>>(), ["case.awaiting_assignment"]);
    let queued: pb::CaseAwaitingAssignment = events[0].payload_as().expect("payload");
    assert_eq!(
        (queued.case_id.as_str(), queued.reason.as_str()),
        (case_id.as_str(), "no_active_case_manager_for_site")
    );
    assert_eq!(queued.supervisor_ids, ["cm_000000000000000000000000000000f1"], "the countywide supervisor");

    // The queue is a filter of ListCases.
    let api = harness.cases.api();
    let listed = api
        .list_cases(request_as(
            Role::Supervisor,
            cases_pb::ListCasesRequest { awaiting_assignment: true, ..Default::default() },
        ))
        .await
        .expect("list")
        .into_inner()
        .cases;
    assert_eq!(listed.iter().map(|c| c.case_id.as_str()).collect::<Vec<_>>(), [case_id.as_str()]);
});

// Acceptance 2: 200 referrals delivered at once, then 40 concurrent reassignments competing for
// 20 freed places. On PostgreSQL these run on several connections at once; on SQLite they queue
// for its one connection.
both_engines!(concurrent_referrals_never_push_anyone_over_their_cap, |engine| async move {
    let test = TestDb::new(engine).await;
    const IDS: [&str; 4] = [
        "cm_000000000000000000000000000000a1",
        "cm_000000000000000000000000000000a2",
        "cm_000000000000000000000000000000a3",
        "cm_000000000000000000000000000000a4",
    ];
    let four_with_room_for_forty: Vec<(&str, &str, u32)> =
        IDS.iter().map(|id| (*id, "south_los_angeles", 40)).collect();
    let harness = Harness::start(&test, Some(&roster(&four_with_room_for_forty))).await;
    let handler = harness.cases.event_handler();

    let mut referrals = Vec::new();
    for _ in 0..200 {
        let referral_id = ReferralId::generate();
        harness.received(&referral_id, Site::SouthLosAngeles).await;
        referrals.push(referral_id);
    }
    let deliveries = referrals.into_iter().map(|referral_id| {
        let handler = handler.clone();
        let routed = referral_routed(&referral_id, Site::SouthLosAngeles, false);
        tokio::spawn(async move { handler.on_referral_routed(&routed).await })
    });
    let mut statuses: HashMap<&'static str, usize> = HashMap::new();
    let mut waiting = Vec::new();
    for joined in futures::future::join_all(deliveries).await {
        match joined.expect("task").expect("handled") {
            RoutedOutcome::Opened { status, case_id } => {
                *statuses.entry(status.code()).or_default() += 1;
                if status == CaseStatus::AwaitingAssignment {
                    waiting.push(case_id);
                }
            }
            other => panic!("every referral is new, got {other:?}"),
        }
    }

    assert_eq!(statuses.get("assigned"), Some(&160), "{statuses:?}");
    assert_eq!(statuses.get("awaiting_assignment"), Some(&40), "{statuses:?}");
    for id in IDS {
        let sql = format!("SELECT COUNT(*) FROM cases WHERE case_manager_id = '{id}'");
        assert_eq!(harness.count(&sql).await, 40, "{id} holds exactly their cap");
    }
    assert_eq!(harness.count("SELECT COUNT(*) FROM cases WHERE status = 'awaiting_assignment'").await, 40);
    assert_eq!(
        outbox::pending_count(&harness.db).await.unwrap(),
        160 + 40,
        "one case.assigned per assignment, one case.awaiting_assignment per queued case"
    );
    let reasons: Vec<(String,)> =
        sqlx::query_as("SELECT reason FROM case_assignments ORDER BY id").fetch_all(harness.db.pool()).await.unwrap();
    assert!(reasons.iter().all(|(reason,)| !reason.contains("(40/40)")), "nobody assigned at their cap");

    // The first case manager closes 20 cases; 40 supervisors' reassignments then race for the 20 places.
    let api = harness.cases.api();
    let theirs: Vec<(String,)> = sqlx::query_as(&format!(
        "SELECT case_id FROM cases WHERE case_manager_id = '{}' ORDER BY case_id LIMIT 20",
        IDS[0]
    ))
    .fetch_all(harness.db.pool())
    .await
    .unwrap();
    for (case_id,) in theirs {
        let close = cases_pb::CloseCaseRequest {
            case_id,
            reason: cases_pb::CaseClosureReason::DeclinedServices as i32,
            ..Default::default()
        };
        api.close_case(request_as(Role::CaseManager, close)).await.expect("close");
    }
    let reassignments = waiting.into_iter().map(|case_id| {
        let api = api.clone();
        tokio::spawn(async move {
            let request = cases_pb::ReassignCaseRequest {
                case_id,
                case_manager_id: IDS[0].to_owned(),
                reason: cases_pb::ReassignReason::CaseloadBalance as i32,
                detail: String::new(),
                expected_updated_at: None,
            };
            api.reassign_case(request_as(Role::Supervisor, request)).await
        })
    });
    let (mut moved, mut refused) = (0, 0);
    for joined in futures::future::join_all(reassignments).await {
        match joined.expect("task") {
            Ok(response) => {
                assert_eq!(response.into_inner().case.expect("case").case_manager_id, IDS[0]);
                moved += 1;
            }
            Err(status) => {
                assert_eq!(status.code(), tonic::Code::FailedPrecondition);
                assert_eq!(status.message(), format!("case_manager_id {} is at their caseload cap (40/40)", IDS[0]));
                refused += 1;
            }
        }
    }
    assert_eq!((moved, refused), (20, 20));
    let open_sql = format!(
        "SELECT COUNT(*) FROM cases WHERE case_manager_id = '{}' AND stage NOT IN ('closed', 'post_exit_follow_up')",
        IDS[0]
    );
    assert_eq!(harness.count(&open_sql).await, 40, "back at the cap, never over it");
    assert_eq!(
        outbox::pending_count(&harness.db).await.unwrap(),
        160 + 40 + 20 + 20,
        "assigned, queued, closed, reassigned"
    );
});

both_engines!(events_the_service_does_not_act_on_are_acknowledged_or_refused, |engine| async move {
    let test = TestDb::new(engine).await;
    let harness = Harness::start(&test, None).await;
    let handler = harness.cases.event_handler();
    // offer.accepted names the serving partner (see `access`); one without its ids is refused for good.
    let accepted = crate::harness::offer_accepted(&ReferralId::generate(), crate::harness::ROUTED_PARTNER);
    handler.handle(accepted).await.expect("offer.accepted is recorded");
    let empty = pb::OfferAccepted { referral_id: ReferralId::generate().to_string(), ..Default::default() };
    let empty = wf_events::Envelope::new("routing", "off_x", empty.referral_id.clone(), &empty);
    assert!(matches!(handler.handle(empty).await, Err(wf_events::HandleError::Permanent(_))));

    let stray = pb::CaseClosed::default();
    let stray = wf_events::Envelope::new("cases", "case_x", "", &stray);
    assert!(matches!(handler.handle(stray).await, Err(wf_events::HandleError::Permanent(_))));

    let mut garbled = referral_routed(&ReferralId::generate(), Site::SouthLosAngeles, false);
    garbled.payload = vec![0xff, 0xff, 0xff];
    assert!(matches!(handler.handle(garbled).await, Err(wf_events::HandleError::Permanent(_))));
    let mut bad_id = referral_routed(&ReferralId::generate(), Site::SouthLosAngeles, false);
    bad_id.payload = prost::Message::encode_to_vec(&pb::ReferralRouted {
        referral_id: "ref_not_an_id".to_owned(),
        ..Default::default()
    });
    assert!(matches!(handler.handle(bad_id).await, Err(wf_events::HandleError::Permanent(_))));
    assert_eq!(harness.count("SELECT COUNT(*) FROM cases").await, 0);
});
