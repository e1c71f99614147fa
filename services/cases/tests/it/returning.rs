//! Returning youth (#3): intake's `possible_match.confirmed` gives continuity. A referral with its
//! own case is linked to the earlier case and, still in engagement, moves to the earlier case
//! manager; a referral not yet routed reopens the earlier case when it is. Redelivery changes
//! nothing; a confirmation that overtakes the referral's facts is retried.

use wf_auth::Role;
use wf_cases::events::{MatchOutcome, RoutedOutcome};
use wf_events::HandleError;
use wf_proto::cases::v1::ReassignReason;
use wf_proto::common::v1::{RecidivismEvidence, RecidivismKind, Site};
use wf_proto::events::v1 as events;
use wf_testkit::both_engines;
use wf_types::{ReferralId, YouthId};

use crate::harness::{Harness, TestDb, confirmed, referral_received_for, referral_routed, roster};
use crate::served::{Served, case_of, close, recidivism_of};

const A: &str = "cm_0000000000000000000000000000000a";
const B: &str = "cm_0000000000000000000000000000000b";

async fn receive(served: &Served, youth: &YouthId) -> ReferralId {
    let referral_id = ReferralId::generate();
    served.server.publish(&referral_received_for(&referral_id, youth, Site::SouthLosAngeles, "")).await;
    referral_id
}

async fn route(served: &Served, referral_id: &ReferralId) {
    served.server.publish(&referral_routed(referral_id, Site::SouthLosAngeles, false)).await;
}

both_engines!(a_confirmed_match_gives_the_new_case_the_earlier_case_manager, |engine| async move {
    let served =
        Served::start_with_roster(engine, &roster(&[(A, "south_los_angeles", 5), (B, "south_los_angeles", 5)])).await;
    let mut supervisor = served.client(Role::Supervisor).await;
    let youth = YouthId::generate();
    let first = receive(&served, &youth).await;
    route(&served, &first).await;
    let earlier = case_of(&mut supervisor, &first).await;
    assert_eq!(earlier.case_manager_id, A);
    close(&mut supervisor, &earlier.case_id).await;
    // Someone else's case keeps A busier, so the usual rule sends the next youth to B.
    let other = receive(&served, &YouthId::generate()).await;
    route(&served, &other).await;

    // A month later the youth is referred again under a provisional id; the case opens with B.
    served.clock.advance_days(30);
    let provisional = YouthId::generate();
    let second = receive(&served, &provisional).await;
    route(&served, &second).await;
    let new_case = case_of(&mut supervisor, &second).await;
    assert_eq!((new_case.case_manager_id.as_str(), new_case.youth_id.as_str()), (B, provisional.as_str()));

    // Staff confirm in intake that it is the same youth.
    let confirmation = confirmed(&second, &youth, &provisional);
    served.server.publish(&confirmation).await;
    let linked = case_of(&mut supervisor, &second).await;
    assert_eq!(linked.case_id, new_case.case_id, "linked, not merged");
    assert_eq!((linked.case_manager_id.as_str(), linked.youth_id.as_str()), (A, youth.as_str()));
    let links = served.published(1, |e| e.event_type == "case.linked").await;
    let link: events::CaseLinked = links[0].payload_as().expect("payload");
    assert_eq!((link.earlier_case_id.as_str(), link.relation.as_str()), (earlier.case_id.as_str(), "return"));
    assert_eq!(link.days_since_closure, 30);
    let assigned = served.published(4, |e| e.event_type == "case.assigned").await;
    let moved: events::CaseAssigned = assigned[3].payload_as().expect("payload");
    assert_eq!((moved.case_id.as_str(), moved.case_manager_id.as_str()), (new_case.case_id.as_str(), A));
    assert_eq!((moved.reason.as_str(), moved.reassign_reason), ("continuity", ReassignReason::Continuity as i32));
    assert_eq!(moved.previous_case_manager_id, B);
    let recidivism = served.published(1, |e| e.event_type == "recidivism.recorded").await;
    let recorded: events::RecidivismRecorded = recidivism[0].payload_as().expect("payload");
    assert_eq!(recorded.case_id, earlier.case_id, "re-exploitation after the earlier case closed");
    assert_eq!(
        (recorded.kind, recorded.evidence),
        (RecidivismKind::ReExploitation as i32, RecidivismEvidence::NewReferral as i32)
    );
    assert_eq!(recorded.evidence_id, second.as_str());

    // Redelivered: nothing changes and nothing more is announced.
    served.server.publish(&confirmation).await;
    let listed = recidivism_of(&mut supervisor, &youth).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(wf_cases::store::continuity::links_of(&served.db, &new_case.case_id).await.expect("links").len(), 1);
    assert_eq!(served.published(0, |e| e.event_type == "case.linked").await.len(), 1);
    assert_eq!(served.published(0, |e| e.event_type == "case.assigned").await.len(), 4);

    // Confirmed before it was routed: the referral reopens the earlier case when it is.
    let returning = YouthId::generate();
    let third = receive(&served, &returning).await;
    route(&served, &third).await;
    let closed = case_of(&mut supervisor, &third).await;
    close(&mut supervisor, &closed.case_id).await;
    served.clock.advance_days(20);
    let provisional = YouthId::generate();
    let fourth = receive(&served, &provisional).await;
    served.server.publish(&confirmed(&fourth, &returning, &provisional)).await;
    route(&served, &fourth).await;
    let continued = case_of(&mut supervisor, &fourth).await;
    assert_eq!(continued.case_id, closed.case_id, "the earlier case took the referral");
    assert_eq!((continued.reopen_count, continued.youth_id.as_str()), (1, returning.as_str()));
    assert_eq!(continued.case_manager_id, closed.case_manager_id);
    served.server.stop().await;
});

both_engines!(
    a_confirmation_ahead_of_the_referral_is_retried_and_one_without_an_earlier_case_only_renames,
    |engine| async move {
        let test = TestDb::new(engine).await;
        let harness = Harness::start(&test, None).await;
        let handler = harness.cases.event_handler();
        let referral_id = ReferralId::generate();
        let provisional = YouthId::generate();
        let earlier_youth = YouthId::generate();
        let confirmation = confirmed(&referral_id, &earlier_youth, &provisional);
        match handler.on_possible_match_confirmed(&confirmation).await {
            Err(HandleError::Transient(message)) => assert!(message.contains("has not arrived yet"), "{message}"),
            other => panic!("expected a retry, got {other:?}"),
        }
        let received = referral_received_for(&referral_id, &provisional, Site::SouthLosAngeles, "");
        handler.on_referral_received(&received).await.expect("received");
        handler.on_referral_routed(&referral_routed(&referral_id, Site::SouthLosAngeles, false)).await.expect("routed");
        let outcome = handler.on_possible_match_confirmed(&confirmation).await.expect("confirmed");
        let MatchOutcome::NoEarlierCase { case_id } = outcome else { panic!("{outcome:?}") };
        let case = wf_cases::store::get_case(&harness.db, &case_id).await.expect("read").expect("case");
        assert_eq!(case.youth_id.as_deref(), Some(earlier_youth.as_str()), "the case belongs to the confirmed youth");
        assert_eq!(handler.on_possible_match_confirmed(&confirmation).await.expect("again"), MatchOutcome::Duplicate);

        // The earlier case is still open: a youth has one open case, so the new case joins it (linked as
        // concurrent, no recidivism) and is closed as merged.
        let youth = YouthId::generate();
        let open_referral = ReferralId::generate();
        handler
            .on_referral_received(&referral_received_for(&open_referral, &youth, Site::SouthLosAngeles, ""))
            .await
            .expect("received");
        let outcome = handler
            .on_referral_routed(&referral_routed(&open_referral, Site::SouthLosAngeles, false))
            .await
            .expect("routed");
        let RoutedOutcome::Opened { case_id: earlier_case, .. } = outcome else { panic!("{outcome:?}") };
        let provisional = YouthId::generate();
        let again = ReferralId::generate();
        handler
            .on_referral_received(&referral_received_for(&again, &provisional, Site::SouthLosAngeles, ""))
            .await
            .expect("received");
        let outcome =
            handler.on_referral_routed(&referral_routed(&again, Site::SouthLosAngeles, false)).await.expect("routed");
        let RoutedOutcome::Opened { case_id: new_case, .. } = outcome else { panic!("{outcome:?}") };
        let outcome =
            handler.on_possible_match_confirmed(&confirmed(&again, &youth, &provisional)).await.expect("confirmed");
        assert_eq!(outcome, MatchOutcome::Merged { case_id: new_case.clone(), into_case_id: earlier_case.clone() });
        let merged = wf_cases::store::get_case(&harness.db, &new_case).await.expect("read").expect("case");
        assert_eq!(merged.stage, wf_proto::cases::v1::CaseStage::Closed);
        assert_eq!(merged.merged_into.as_deref(), Some(earlier_case.as_str()));
        let open = format!(
            "SELECT COUNT(*) FROM cases WHERE youth_id = '{youth}' AND stage NOT IN ('closed', 'post_exit_follow_up')"
        );
        assert_eq!(harness.count(&open).await, 1, "one open case for the youth");
        let joined = format!("SELECT COUNT(*) FROM case_referrals WHERE case_id = '{earlier_case}'");
        assert_eq!(harness.count(&joined).await, 2, "the referral joined the open case");
        assert_eq!(harness.count("SELECT COUNT(*) FROM recidivism_events").await, 0, "an open case is no return");
    }
);
