//! Issue 13, finding 6: the receiving partner reads the case it serves — it holds an accepted offer
//! for a referral of the case's current episode — without notes: `GetCase`, `ListCases` (only the
//! cases it serves), `ListGoals` (without the youth's wording) and its own interventions and
//! contact attempts. Notes, follow-ups, recidivism events and the roster stay staff's. Any other
//! case answers NOT_FOUND exactly as an unknown id, and is on the record as out of scope.

use std::time::Duration;

use tonic::Code;
use wf_auth::Role;
use wf_proto::cases::v1::{self as pb, CaseClosureReason, case_service_server::CaseService};
use wf_proto::common::v1::Site;
use wf_proto::events::v1 as events;
use wf_testkit::{both_engines, eventually};
use wf_types::{CaseId, ReferralId};

use crate::harness::{
    Assembled, ROUTED_PARTNER, TestDb, offer_accepted, outbox_of, referral_received_for, referral_routed,
    request_as_partner, request_as_user,
};

const SERVING: &str = ROUTED_PARTNER;
const OTHER: &str = "org_0192f1c4d5e67a8b9c0d1e2f3a4b5c6e";

fn staff<T>(message: T) -> tonic::Request<T> {
    request_as_user(Role::CaseManager, "usr_cm", message)
}

fn get(case_id: &str) -> pb::GetCaseRequest {
    pb::GetCaseRequest { case_id: case_id.to_owned(), ..Default::default() }
}

both_engines!(the_serving_partner_reads_its_case_without_notes_and_no_other_case, |engine| async move {
    let test = TestDb::new(engine).await;
    let roster = crate::harness::roster(&[("cm_000000000000000000000000000000a1", "south_los_angeles", 9)]);
    let assembled = Assembled::start(&test, &roster).await;
    let api = &assembled.api;
    let (served, referral) = assembled.open_case(Site::SouthLosAngeles).await;
    assembled.events.on_offer_accepted(&offer_accepted(&referral, SERVING)).await.expect("accepted");
    let (others, other_referral) = assembled.open_case(Site::SouthLosAngeles).await;
    assembled.events.on_offer_accepted(&offer_accepted(&other_referral, OTHER)).await.expect("accepted");
    let goal = pb::ServicePlanGoal {
        case_id: served.clone(),
        domain: "housing_stability".into(),
        description: "Demo goal wording".into(),
        ..Default::default()
    };
    api.upsert_goal(staff(pb::UpsertGoalRequest { goal: Some(goal) })).await.expect("goal");

    // The case it serves.
    let case = api.get_case(request_as_partner(SERVING, get(&served))).await.expect("GetCase").into_inner();
    let case = case.case.expect("case");
    assert_eq!(
        (case.case_id.as_str(), case.referral_ids.as_slice()),
        (served.as_str(), [referral.to_string()].as_slice())
    );
    let listed = api
        .list_cases(request_as_partner(SERVING, pb::ListCasesRequest::default()))
        .await
        .expect("ListCases")
        .into_inner()
        .cases;
    assert_eq!(listed.iter().map(|c| c.case_id.as_str()).collect::<Vec<_>>(), [served.as_str()], "only its own");
    let by_referral = pb::ListCasesRequest { referral_id: other_referral.to_string(), ..Default::default() };
    assert!(
        api.list_cases(request_as_partner(SERVING, by_referral)).await.expect("list").into_inner().cases.is_empty()
    );
    let goals = api
        .list_goals(request_as_partner(SERVING, pb::ListGoalsRequest { case_id: served.clone(), ..Default::default() }))
        .await
        .expect("ListGoals")
        .into_inner()
        .goals;
    assert_eq!((goals.len(), goals[0].domain.as_str(), goals[0].description.as_str()), (1, "housing_stability", ""));
    let staff_goals =
        api.list_goals(staff(pb::ListGoalsRequest { case_id: served.clone(), ..Default::default() })).await.unwrap();
    assert_eq!(staff_goals.into_inner().goals[0].description, "Demo goal wording", "staff read the wording");

    // Staff's alone: notes, follow-ups, recidivism events, the roster.
    let notes = pb::ListCaseNotesRequest { case_id: served.clone(), ..Default::default() };
    let denied = api.list_case_notes(request_as_partner(SERVING, notes)).await.expect_err("notes");
    assert_eq!(denied.code(), Code::PermissionDenied);
    let follow_ups = pb::ListFollowUpsRequest { case_id: served.clone(), ..Default::default() };
    assert_eq!(
        api.list_follow_ups(request_as_partner(SERVING, follow_ups)).await.unwrap_err().code(),
        Code::PermissionDenied
    );
    let recidivism = pb::ListRecidivismEventsRequest { case_id: served.clone(), ..Default::default() };
    let denied = api.list_recidivism_events(request_as_partner(SERVING, recidivism)).await.unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    let roster = pb::ListCaseManagersRequest::default();
    assert_eq!(
        api.list_case_managers(request_as_partner(SERVING, roster)).await.unwrap_err().code(),
        Code::PermissionDenied
    );

    // Another partner's case answers exactly as an unknown id, and is on the record.
    let refused = api.get_case(request_as_partner(SERVING, get(&others))).await.expect_err("another partner's");
    let unknown = api.get_case(request_as_partner(SERVING, get(&CaseId::generate().to_string()))).await.unwrap_err();
    assert_eq!((refused.code(), refused.message()), (Code::NotFound, "case not found"));
    assert_eq!((unknown.code(), unknown.message()), (Code::NotFound, "case not found"));
    let goals = pb::ListGoalsRequest { case_id: others.clone(), ..Default::default() };
    let hidden = api.list_goals(request_as_partner(SERVING, goals)).await.expect_err("another partner's goals");
    assert_eq!((hidden.code(), hidden.message()), (Code::NotFound, "case not found"));
    let recorded = eventually(Duration::from_secs(10), || async {
        outbox_of::<events::AccessRefused>(&assembled.db, "access.refused").await.len() >= 2
    })
    .await;
    assert!(recorded, "the refusals reach the outbox");
    let refusals = outbox_of::<events::AccessRefused>(&assembled.db, "access.refused").await;
    let operations: Vec<(&str, &str, &str)> =
        refusals.iter().map(|(_, r)| (r.record_id.as_str(), r.reason.as_str(), r.operation.as_str())).collect();
    assert_eq!(
        operations,
        [
            (others.as_str(), "out_of_scope", "/wayfinder.cases.v1.CaseService/GetCase"),
            (others.as_str(), "out_of_scope", "/wayfinder.cases.v1.CaseService/ListGoals"),
        ]
    );
    // Its reads are on the record too, with its organization.
    let accesses = outbox_of::<events::RecordAccessed>(&assembled.db, "record.accessed").await;
    assert!(
        accesses
            .iter()
            .any(|(_, a)| a.record_id == served && a.actor_organization_id == SERVING && a.fields == ["case"]),
        "{accesses:?}"
    );

    // Once the youth returns with a new referral the case's next episode is not the partner's.
    let close = pb::CloseCaseRequest {
        case_id: served.clone(),
        reason: CaseClosureReason::GoalsMet as i32,
        ..Default::default()
    };
    api.close_case(staff(close)).await.expect("close");
    let youth = wf_cases::store::get_case(&assembled.db, &served).await.unwrap().unwrap().youth_id.unwrap();
    let returning = ReferralId::generate();
    let youth: wf_types::YouthId = youth.parse().expect("youth id");
    assembled
        .events
        .on_referral_received(&referral_received_for(&returning, &youth, Site::SouthLosAngeles, ""))
        .await
        .unwrap();
    assembled.events.on_referral_routed(&referral_routed(&returning, Site::SouthLosAngeles, false)).await.unwrap();
    let gone = api.get_case(request_as_partner(SERVING, get(&served))).await.expect_err("an earlier episode's");
    assert_eq!((gone.code(), gone.message()), (Code::NotFound, "case not found"));
});
