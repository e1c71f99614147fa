//! Acceptance 5: a returning youth's new referral reopens their closed case with the earlier case
//! manager; within 14 days of closure it is a transfer, not a return. Routed before received is
//! retried, not lost.

use wf_auth::Role;
use wf_cases::events::RoutedOutcome;
use wf_events::{EventHandler, HandleError};
use wf_proto::cases::v1::{self as pb, CaseStage};
use wf_proto::common::v1::{RecidivismEvidence, RecidivismKind, Site};
use wf_proto::events::v1 as events;
use wf_testkit::both_engines;
use wf_types::{ReferralId, YouthId};

use crate::harness::{Harness, TestDb, referral_received, referral_received_for, referral_routed};
use crate::served::{Served, case_of, close, recidivism_of};

both_engines!(a_routed_referral_waits_for_its_received_facts, |engine| async move {
    let test = TestDb::new(engine).await;
    let harness = Harness::start(&test, None).await;
    let handler = harness.cases.event_handler();
    let referral_id = ReferralId::generate();
    let routed = referral_routed(&referral_id, Site::SouthLosAngeles, false);
    match handler.handle(routed.clone()).await {
        Err(HandleError::Transient(message)) => assert!(message.contains("has not arrived yet"), "{message}"),
        other => panic!("expected a retry, got {other:?}"),
    }
    assert_eq!(harness.count("SELECT COUNT(*) FROM cases").await, 0);
    handler.handle(referral_received(&referral_id, Site::SouthLosAngeles, false)).await.expect("received");
    // The redelivered routed event is handled now: the first attempt left no inbox record.
    let outcome = handler.on_referral_routed(&routed).await.expect("routed");
    let RoutedOutcome::Opened { case_id, .. } = outcome else { panic!("{outcome:?}") };
    let case = wf_cases::store::get_case(&harness.db, &case_id).await.unwrap().unwrap();
    assert!(case.youth_id.is_some_and(|id| id.starts_with("yth_")), "cases learned the youth id");
});

async fn refer(served: &Served, youth: &YouthId, site: Site) -> ReferralId {
    let referral_id = ReferralId::generate();
    served.server.publish(&referral_received_for(&referral_id, youth, site, "")).await;
    served.server.publish(&referral_routed(&referral_id, site, false)).await;
    referral_id
}

both_engines!(a_returning_youth_gets_their_earlier_case_and_case_manager, |engine| async move {
    let served = Served::start(engine).await;
    let mut supervisor = served.client(Role::Supervisor).await;
    let youth = YouthId::generate();
    let first = refer(&served, &youth, Site::SouthLosAngeles).await;
    let case = case_of(&mut supervisor, &first).await;
    let earlier_manager = case.case_manager_id.clone();
    assert_eq!(case.youth_id, youth.as_str());
    close(&mut supervisor, &case.case_id).await;

    // Someone else's case now makes the earlier case manager the most loaded at the site, so the
    // usual rule would pick someone else.
    let other = refer(&served, &YouthId::generate(), Site::SouthLosAngeles).await;
    assert_eq!(case_of(&mut supervisor, &other).await.case_manager_id, earlier_manager);

    // Thirty days later the youth is referred again: a return.
    served.clock.advance_days(30);
    let second = refer(&served, &youth, Site::SouthLosAngeles).await;
    let reopened = supervisor
        .get_case(pb::GetCaseRequest { case_id: case.case_id.clone(), ..Default::default() })
        .await
        .expect("get")
        .into_inner()
        .case
        .expect("case");
    assert_eq!(reopened.stage, CaseStage::Engagement as i32);
    assert_eq!(reopened.reopen_count, 1);
    assert_eq!(reopened.case_manager_id, earlier_manager, "continuity: the earlier case manager");
    assert_eq!(reopened.referral_ids, vec![first.to_string(), second.to_string()]);
    // The follow-ups of the exit the return undid are cancelled, never due or overdue.
    let follow_ups = supervisor
        .list_follow_ups(pb::ListFollowUpsRequest { case_id: case.case_id.clone(), ..Default::default() })
        .await
        .expect("follow-ups")
        .into_inner()
        .follow_ups;
    // The exit follow-up and the 6, 12 and 24-month ones.
    assert_eq!(follow_ups.len(), 4);
    assert!(follow_ups.iter().all(|f| f.status == pb::FollowUpStatus::Cancelled as i32), "{follow_ups:?}");
    served.published(4, |e| e.event_type == "follow_up.cancelled").await;
    assert_eq!(case_of(&mut supervisor, &second).await.case_id, case.case_id, "no second case");

    let events = served.published(1, |e| e.event_type == "case.reopened").await;
    let payload: events::CaseReopened = events[0].payload_as().expect("payload");
    assert_eq!((payload.days_since_closure, payload.reason.as_str()), (30, "youth_returned"));
    assert_eq!(payload.referral_id, second.as_str());
    let assigned = served.published(3, |e| e.event_type == "case.assigned").await;
    let last: events::CaseAssigned = assigned[2].payload_as().expect("payload");
    assert_eq!((last.referral_id.as_str(), last.reason.as_str()), (second.as_str(), "continuity"));
    let recidivism = served.published(1, |e| e.event_type == "recidivism.recorded").await;
    let recorded: events::RecidivismRecorded = recidivism[0].payload_as().expect("payload");
    assert_eq!(recorded.kind, RecidivismKind::ReExploitation as i32);
    assert_eq!(recorded.evidence, RecidivismEvidence::NewReferral as i32);
    assert_eq!(recorded.evidence_id, second.as_str());

    // Another youth back within 14 days: a transfer, reopened but neither a return nor recidivism.
    let youth = YouthId::generate();
    let third = refer(&served, &youth, Site::SanFernandoValley).await;
    let transferred = case_of(&mut supervisor, &third).await;
    close(&mut supervisor, &transferred.case_id).await;
    served.clock.advance_days(3);
    refer(&served, &youth, Site::SanFernandoValley).await;
    let reopened = served.published(2, |e| e.event_type == "case.reopened").await;
    let payload: events::CaseReopened = reopened[1].payload_as().expect("payload");
    assert_eq!((payload.case_id.as_str(), payload.reason.as_str()), (transferred.case_id.as_str(), "transfer"));
    assert_eq!(payload.days_since_closure, 3);
    let listed = recidivism_of(&mut supervisor, &youth).await;
    assert!(listed.is_empty(), "a transfer is not re-exploitation");
    served.server.stop().await;
});
