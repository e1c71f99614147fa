//! Issue 13, finding 3: every answer naming a case lists all its referrals, `ReopenCase` links the
//! referral that reopened it, and `RecordIntervention` keeps the referral the caller named (one of
//! the case's, else INVALID_ARGUMENT), defaulting to the current referral only when none is named;
//! its goal must be one of the case's, and its service not another organization's as far as the
//! offers accepted for it show.

use tonic::Code;
use wf_auth::Role;
use wf_events::Envelope;
use wf_proto::cases::v1::{self as pb, CaseClosureReason, CaseStage, UnitType};
use wf_proto::common::v1::{Date, Site};
use wf_proto::events::v1 as events;
use wf_testkit::both_engines;
use wf_types::{Clock, OfferId, ReferralId, YouthId};

use crate::harness::{ROUTED_PARTNER, referral_routed};
use crate::returns::{DAY, received_at, refer_at};
use crate::served::{Client, START_MICROS, Served, case_of};

const OTHER_PARTNER: &str = "org_0192f1c4d5e67a8b9c0d1e2f3a4b5c6e";
const SERVICE: &str = "svc_0192f1c4d5e67a8b9c0d1e2f3a4b5c60";
const OTHERS_SERVICE: &str = "svc_0192f1c4d5e67a8b9c0d1e2f3a4b5c61";

fn close_request(case_id: &str) -> pb::CloseCaseRequest {
    pb::CloseCaseRequest {
        case_id: case_id.to_owned(),
        reason: CaseClosureReason::GoalsMet as i32,
        ..Default::default()
    }
}

/// An `offer.accepted` naming the service the offer was for.
fn accepted_for(referral_id: &ReferralId, partner_id: &str, service: &str) -> Envelope {
    let payload = events::OfferAccepted {
        offer_id: OfferId::generate().to_string(),
        referral_id: referral_id.to_string(),
        partner_id: partner_id.to_owned(),
        partner_service_id: service.to_owned(),
        accepted_at: Some(wf_proto::time::timestamp_from_micros(START_MICROS)),
        accepted_by: "usr_partner_staff".into(),
        ..Default::default()
    };
    Envelope::new("routing", referral_id.to_string(), referral_id.to_string(), &payload)
}

async fn listed(client: &mut Client, youth: &YouthId) -> Vec<pb::Case> {
    let request = pb::ListCasesRequest { youth_id: youth.to_string(), ..Default::default() };
    client.list_cases(request).await.expect("list").into_inner().cases
}

both_engines!(every_answer_naming_a_case_lists_all_its_referrals, |engine| async move {
    let served = Served::start(engine).await;
    let mut staff = served.client(Role::Supervisor).await;
    let youth = YouthId::generate();
    let first = refer_at(&served, &youth, START_MICROS).await;
    let case_id = case_of(&mut staff, &first).await.case_id;
    staff.close_case(close_request(&case_id)).await.expect("close");
    served.clock.advance_days(40);
    let second = refer_at(&served, &youth, served.clock.now_micros()).await;
    let both = vec![first.to_string(), second.to_string()];

    assert_eq!(listed(&mut staff, &youth).await[0].referral_ids, both, "ListCases");
    let moved = staff
        .transition_stage(pb::TransitionStageRequest {
            case_id: case_id.clone(),
            to_stage: CaseStage::Enrolled as i32,
            reason: "enrolled".into(),
            ..Default::default()
        })
        .await
        .expect("enroll");
    assert_eq!(moved.into_inner().case.expect("case").referral_ids, both, "TransitionStage");
    let ready = staff
        .set_readiness(pb::SetReadinessRequest {
            case_id: case_id.clone(),
            readiness: wf_proto::common::v1::Readiness::Enrolled as i32,
            ..Default::default()
        })
        .await
        .expect("readiness");
    assert_eq!(ready.into_inner().case.expect("case").referral_ids, both, "SetReadiness");
    let closed = staff.close_case(close_request(&case_id)).await.expect("close again");
    assert_eq!(closed.into_inner().case.expect("case").referral_ids, both, "CloseCase");

    // Staff reopen it for the youth's next referral, not routed yet: it is linked to the case.
    served.clock.advance_days(40);
    let third = ReferralId::generate();
    served.server.publish(&received_at(&third, &youth, served.clock.now_micros(), "")).await;
    let reopened = staff
        .reopen_case(pb::ReopenCaseRequest {
            case_id: case_id.clone(),
            referral_id: third.to_string(),
            reason: "youth_returned".into(),
            expected_updated_at: None,
        })
        .await
        .expect("reopen")
        .into_inner()
        .case
        .expect("case");
    let all = vec![first.to_string(), second.to_string(), third.to_string()];
    assert_eq!(reopened.referral_ids, all, "ReopenCase");
    assert_eq!(case_of(&mut staff, &third).await.case_id, case_id, "the reopening referral is the case's");
    // Its routing, when it comes, finds the case; and a return 40 days after the exit is recidivism.
    served.server.publish(&referral_routed(&third, Site::SouthLosAngeles, false)).await;
    assert_eq!(listed(&mut staff, &youth).await.len(), 1);
    let recidivism = crate::served::recidivism_of(&mut staff, &youth).await;
    assert_eq!(
        recidivism.iter().map(|r| r.evidence_id.as_str()).collect::<Vec<_>>(),
        [second.as_str(), third.as_str()]
    );
    let reassigned = staff
        .reassign_case(pb::ReassignCaseRequest {
            case_id: case_id.clone(),
            reason: pb::ReassignReason::CaseloadBalance as i32,
            ..Default::default()
        })
        .await
        .expect("reassign")
        .into_inner()
        .case
        .expect("case");
    assert_eq!(reassigned.referral_ids, all, "ReassignCase");

    // A referral that is not the youth's, or already another case's, cannot reopen it.
    staff.close_case(close_request(&case_id)).await.expect("close once more");
    let strangers = ReferralId::generate();
    served.server.publish(&received_at(&strangers, &YouthId::generate(), served.clock.now_micros(), "")).await;
    for (referral_id, why) in [(strangers.to_string(), "another youth"), (first.to_string(), "already a case's")] {
        let status = staff
            .reopen_case(pb::ReopenCaseRequest {
                case_id: case_id.clone(),
                referral_id,
                reason: String::new(),
                expected_updated_at: None,
            })
            .await
            .expect_err(why);
        assert_eq!(status.code(), Code::InvalidArgument, "{why}");
        assert!(format!("{status:?}").contains("referral_id"), "{why}: {status:?}");
    }
    served.server.stop().await;
});

fn intervention(case_id: &str, referral_id: &str) -> pb::RecordInterventionRequest {
    pb::RecordInterventionRequest {
        intervention: Some(pb::Intervention {
            case_id: case_id.to_owned(),
            referral_id: referral_id.to_owned(),
            service_type: "mental_health".into(),
            delivered_on: Some(Date { year: 2026, month: 1, day: 1 }),
            units: 1.0,
            unit_type: UnitType::Sessions as i32,
            provider_id: ROUTED_PARTNER.into(),
            ..Default::default()
        }),
    }
}

both_engines!(
    an_intervention_keeps_the_referral_goal_and_service_it_names_when_they_are_the_case_s,
    |engine| async move {
        let served = Served::start(engine).await;
        let mut staff = served.client(Role::CaseManager).await;
        let youth = YouthId::generate();
        let first = refer_at(&served, &youth, START_MICROS).await;
        served.server.publish(&accepted_for(&first, ROUTED_PARTNER, SERVICE)).await;
        let case_id = case_of(&mut staff, &first).await.case_id;
        staff.close_case(close_request(&case_id)).await.expect("close");
        served.clock.advance_days(20);
        let second = refer_at(&served, &youth, served.clock.now_micros()).await;
        served.server.publish(&accepted_for(&second, ROUTED_PARTNER, SERVICE)).await;
        let other_case = served.open_case(Site::SouthLosAngeles).await;
        served.server.publish(&accepted_for(&ReferralId::generate(), OTHER_PARTNER, OTHERS_SERVICE)).await;

        let recorder = staff.clone();
        let recorded = |request: pb::RecordInterventionRequest| {
            let mut staff = recorder.clone();
            async move { staff.record_intervention(request).await.map(|r| r.into_inner().intervention_id) }
        };
        recorded(intervention(&case_id, first.as_str())).await.expect("the earlier referral, as named");
        recorded(intervention(&case_id, "")).await.expect("no referral named");
        let listed = staff
            .list_interventions(pb::ListInterventionsRequest { case_id: case_id.clone(), ..Default::default() })
            .await
            .expect("list")
            .into_inner()
            .interventions;
        let referrals: Vec<&str> = listed.iter().map(|i| i.referral_id.as_str()).collect();
        assert_eq!(referrals, [first.as_str(), second.as_str()], "kept as given; else the current referral");

        let foreign = refer_at(&served, &YouthId::generate(), served.clock.now_micros()).await;
        let status = recorded(intervention(&case_id, foreign.as_str())).await.expect_err("another case's referral");
        assert_eq!(status.code(), Code::InvalidArgument);
        assert!(format!("{status:?}").contains("intervention.referral_id"), "{status:?}");

        // A goal of another case is refused; one of this case's is kept.
        let goal = |case_id: &str| pb::ServicePlanGoal {
            case_id: case_id.to_owned(),
            domain: "education".into(),
            ..Default::default()
        };
        let ours = staff.upsert_goal(pb::UpsertGoalRequest { goal: Some(goal(&case_id)) }).await.expect("goal");
        let ours = ours.into_inner().goal.expect("goal").goal_id;
        let theirs = staff.upsert_goal(pb::UpsertGoalRequest { goal: Some(goal(&other_case)) }).await.expect("goal");
        let theirs = theirs.into_inner().goal.expect("goal").goal_id;
        let with_goal = |goal_id: &str| {
            let mut request = intervention(&case_id, "");
            request.intervention.as_mut().expect("intervention").goal_id = goal_id.to_owned();
            request
        };
        let status = recorded(with_goal(&theirs)).await.expect_err("another case's goal");
        assert_eq!(status.code(), Code::InvalidArgument);
        assert!(format!("{status:?}").contains("intervention.goal_id"), "{status:?}");
        recorded(with_goal(&ours)).await.expect("the case's own goal");

        // A service the accepted offers show to be another organization's is refused; the provider's
        // own, and one cases has never seen, are kept.
        let with_service = |service: &str| {
            let mut request = intervention(&case_id, "");
            request.intervention.as_mut().expect("intervention").partner_service_id = service.to_owned();
            request
        };
        let status = recorded(with_service(OTHERS_SERVICE)).await.expect_err("another organization's service");
        assert_eq!(status.code(), Code::InvalidArgument);
        assert!(format!("{status:?}").contains("intervention.partner_service_id"), "{status:?}");
        recorded(with_service(SERVICE)).await.expect("the provider's own service");
        recorded(with_service("svc_0192f1c4d5e67a8b9c0d1e2f3a4b5c62")).await.expect("a service cases does not know");
        served.server.stop().await;
    }
);

// The serving partner, naming no referral, records on the referral it accepted the offer for.
both_engines!(a_partner_s_intervention_defaults_to_the_referral_it_serves, |engine| async move {
    let served = Served::start(engine).await;
    let mut staff = served.client(Role::Supervisor).await;
    let youth = YouthId::generate();
    let first = refer_at(&served, &youth, START_MICROS).await;
    served.server.publish(&accepted_for(&first, ROUTED_PARTNER, SERVICE)).await;
    // A second referral joins the open case; another partner accepts it.
    served.clock.advance_days(2);
    let second = refer_at(&served, &youth, START_MICROS + 2 * DAY).await;
    served.server.publish(&accepted_for(&second, OTHER_PARTNER, OTHERS_SERVICE)).await;
    let case_id = case_of(&mut staff, &first).await.case_id;
    assert_eq!(case_of(&mut staff, &second).await.case_id, case_id);

    let mut request = intervention(&case_id, "");
    request.intervention.as_mut().expect("intervention").provider_id.clear();
    served.partner(ROUTED_PARTNER).await.record_intervention(request.clone()).await.expect("first partner");
    served.partner(OTHER_PARTNER).await.record_intervention(request).await.expect("second partner");
    let listed = staff
        .list_interventions(pb::ListInterventionsRequest { case_id: case_id.clone(), ..Default::default() })
        .await
        .expect("list")
        .into_inner()
        .interventions;
    let recorded: Vec<(&str, &str)> = listed.iter().map(|i| (i.provider_id.as_str(), i.referral_id.as_str())).collect();
    assert_eq!(recorded, [(ROUTED_PARTNER, first.as_str()), (OTHER_PARTNER, second.as_str())]);
    served.server.stop().await;
});
