//! Issue 13, finding 6: the receiving partner reads the case it serves — it holds an accepted offer
//! for a referral of the case's current episode — without notes: `GetCase`, `ListCases` (only the
//! cases it serves), `ListGoals` (without the youth's wording) and its own interventions and
//! contact attempts. Notes, follow-ups, recidivism events and the roster stay staff's. Any other
//! case answers NOT_FOUND exactly as an unknown id, and is on the record as out of scope.

use std::time::Duration;

use tonic::Code;
use wf_auth::Role;
use wf_proto::cases::v1::{self as pb, CaseClosureReason, CaseStage, UnitType, case_service_server::CaseService};
use wf_proto::common::v1::{ContactChannel, ContactOutcome, Date, LivingSituation, Site};
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

/// A case with history a partner must not see: opened for `first` (served by `OTHER`), closed, then
/// reopened for the youth's returning referral (served by `SERVING`), enrolled, reached and closed
/// again; plus a referral of the current episode served by `OTHER`. Returns (case, first,
/// returning, joined).
async fn case_with_history(assembled: &Assembled) -> (String, ReferralId, ReferralId, ReferralId) {
    let api = &assembled.api;
    let (case_id, first) = assembled.open_case(Site::SouthLosAngeles).await;
    assembled.events.on_offer_accepted(&offer_accepted(&first, OTHER)).await.expect("accepted");
    let close = |exit: i32| pb::CloseCaseRequest {
        case_id: case_id.clone(),
        reason: CaseClosureReason::GoalsMet as i32,
        exit_living_situation: exit,
        ..Default::default()
    };
    api.close_case(staff(close(0))).await.expect("first exit");
    let youth: wf_types::YouthId =
        wf_cases::store::get_case(&assembled.db, &case_id).await.unwrap().unwrap().youth_id.unwrap().parse().unwrap();
    let mut returning_and_joined = Vec::new();
    for _ in 0..2 {
        let referral = ReferralId::generate();
        let received = referral_received_for(&referral, &youth, Site::SouthLosAngeles, "");
        assembled.events.on_referral_received(&received).await.unwrap();
        let routed = referral_routed(&referral, Site::SouthLosAngeles, false);
        assembled.events.on_referral_routed(&routed).await.unwrap();
        returning_and_joined.push(referral);
    }
    let (returning, joined) = (returning_and_joined[0].clone(), returning_and_joined[1].clone());
    assembled.events.on_offer_accepted(&offer_accepted(&returning, SERVING)).await.expect("accepted");
    assembled.events.on_offer_accepted(&offer_accepted(&joined, OTHER)).await.expect("accepted");
    let attempt = pb::ContactAttempt {
        case_id: case_id.clone(),
        attempted_at: Some(wf_proto::time::timestamp_from_micros(chrono::Utc::now().timestamp_micros() - 1_000_000)),
        channel: ContactChannel::PhoneCall as i32,
        engagement_approach: "survivor_mentor".into(),
        outcome: ContactOutcome::Reached as i32,
        ..Default::default()
    };
    let attempt = pb::RecordContactAttemptRequest { contact_attempt: Some(attempt) };
    api.record_contact_attempt(staff(attempt)).await.expect("reached");
    let enroll = pb::TransitionStageRequest {
        case_id: case_id.clone(),
        to_stage: CaseStage::Enrolled as i32,
        ..Default::default()
    };
    api.transition_stage(staff(enroll)).await.expect("enrolled");
    api.close_case(staff(close(LivingSituation::EmergencyShelter as i32))).await.expect("second exit");
    (case_id, first, returning, joined)
}

// Hostile review F1: a serving partner reads what it needs to serve, never the youth id, who serves
// the youth, the case's history or the evaluation's data; a closed case it does not read at all.
both_engines!(a_serving_partner_reads_a_redacted_case_without_youth_staff_or_history, |engine| async move {
    let test = TestDb::new(engine).await;
    let roster = crate::harness::roster(&[("cm_000000000000000000000000000000a1", "south_los_angeles", 9)]);
    let assembled = Assembled::start(&test, &roster).await;
    let api = &assembled.api;
    let (case_id, first, returning, joined) = case_with_history(&assembled).await;

    let whole = api.get_case(staff(get(&case_id))).await.expect("staff read").into_inner().case.unwrap();
    // Staff see every field the partner must not (the test would prove nothing otherwise).
    assert!(!whole.youth_id.is_empty() && !whole.case_manager_id.is_empty(), "{whole:?}");
    assert_eq!(whole.referral_ids, [first.to_string(), returning.to_string(), joined.to_string()]);
    assert_eq!(whole.referral_id, first.to_string());
    assert_eq!((whole.reopen_count, whole.closure_reason), (1, CaseClosureReason::GoalsMet as i32));
    assert_eq!(whole.exit_living_situation, LivingSituation::EmergencyShelter as i32);
    assert!(!whole.missing_fields.is_empty() && !whole.engagement_approach.is_empty(), "{whole:?}");
    assert!(whole.assigned_at.is_some() && whole.first_contact_at.is_some() && whole.exited_at.is_some());
    assert!(whole.closed_at.is_some() && whole.enrolled_at.is_some());
    // Closed, the case is no partner's: not its closure, not its exit, nothing.
    let closed = api.get_case(request_as_partner(SERVING, get(&case_id))).await.expect_err("a closed case");
    assert_eq!((closed.code(), closed.message()), (Code::NotFound, "case not found"));
    let listed = api.list_cases(request_as_partner(SERVING, pb::ListCasesRequest::default())).await.expect("list");
    assert!(listed.into_inner().cases.is_empty(), "a closed case is listed to no partner");

    // Reopened without a referral (the episode carries on), the partner serves it again.
    let reopen =
        pb::ReopenCaseRequest { case_id: case_id.clone(), reason: "youth_request".into(), ..Default::default() };
    api.reopen_case(staff(reopen)).await.expect("reopened, same episode");
    let whole = api.get_case(staff(get(&case_id))).await.expect("staff read").into_inner().case.unwrap();
    assert!(!whole.youth_id.is_empty() && !whole.case_manager_id.is_empty(), "{whole:?}");
    assert_eq!(whole.reopen_count, 2);
    assert!(!whole.engagement_approach.is_empty() && whole.first_contact_at.is_some(), "{whole:?}");
    assert!(whole.assigned_at.is_some() && whole.updated_at.is_some());

    let expected = pb::Case {
        case_id: case_id.clone(),
        referral_id: returning.to_string(),
        referral_ids: vec![returning.to_string()],
        site: whole.site,
        stage: CaseStage::Engagement as i32,
        readiness: whole.readiness,
        enrolled_at: whole.enrolled_at,
        assessment_due: whole.assessment_due,
        assessed_at: whole.assessed_at,
        practice: whole.practice,
        ..Default::default()
    };
    let read = api.get_case(request_as_partner(SERVING, get(&case_id))).await.expect("GetCase").into_inner();
    let read = read.case.unwrap();
    assert_eq!(read, expected, "GetCase: only what the partner needs to serve");
    assert_eq!((read.youth_id.as_str(), read.case_manager_id.as_str()), ("", ""));
    assert_eq!((read.reopen_count, read.closure_reason, read.exit_living_situation), (0, 0, 0));
    assert!(read.missing_fields.is_empty() && read.engagement_approach.is_empty());
    assert!(read.assigned_at.is_none() && read.first_contact_at.is_none() && read.readiness_since.is_none());
    assert!(read.exited_at.is_none() && read.closed_at.is_none() && read.updated_at.is_none());
    let listed = api.list_cases(request_as_partner(SERVING, pb::ListCasesRequest::default())).await.expect("list");
    assert_eq!(listed.into_inner().cases, [expected], "ListCases: the same view");
    // The other partner, serving the joined referral, is named only that one.
    let other = api.get_case(request_as_partner(OTHER, get(&case_id))).await.expect("other").into_inner();
    assert_eq!(other.case.unwrap().referral_ids, [joined.to_string()]);

    // Filters by what a partner never sees are refused, naming the field.
    for (field, request) in [
        ("youth_id", pb::ListCasesRequest { youth_id: whole.youth_id.clone(), ..Default::default() }),
        (
            "case_manager_id",
            pb::ListCasesRequest { case_manager_id: whole.case_manager_id.clone(), ..Default::default() },
        ),
    ] {
        let refused = api.list_cases(request_as_partner(SERVING, request.clone())).await.expect_err(field);
        assert_eq!(refused.code(), Code::InvalidArgument, "{field}");
        assert!(format!("{refused:?}").contains(field), "{field}: {refused:?}");
        assert_eq!(api.list_cases(staff(request)).await.expect("staff filter").into_inner().cases.len(), 1);
    }
});

fn intervention(case_id: &str, referral_id: &str, service: &str) -> pb::RecordInterventionRequest {
    pb::RecordInterventionRequest {
        intervention: Some(pb::Intervention {
            case_id: case_id.to_owned(),
            referral_id: referral_id.to_owned(),
            service_type: "mental_health".into(),
            delivered_on: Some(Date { year: 2025, month: 12, day: 30 }),
            units: 1.0,
            unit_type: UnitType::Sessions as i32,
            partner_service_id: service.to_owned(),
            ..Default::default()
        }),
    }
}

fn attempt_on(case_id: &str, referral_id: &str) -> pb::RecordContactAttemptRequest {
    pb::RecordContactAttemptRequest {
        contact_attempt: Some(pb::ContactAttempt {
            case_id: case_id.to_owned(),
            referral_id: referral_id.to_owned(),
            attempted_at: Some(wf_proto::time::timestamp_from_micros(1_700_000_000_000_000)),
            channel: ContactChannel::PhoneCall as i32,
            outcome: ContactOutcome::NotReached as i32,
            ..Default::default()
        }),
    }
}

/// The service `harness::offer_accepted` names (the one `SERVING` accepted an offer for).
const OWN_SERVICE: &str = "svc_0192f1c4d5e67a8b9c0d1e2f3a4b5c6d";
const OTHERS_SERVICE: &str = "svc_0192f1c4d5e67a8b9c0d1e2f3a4b5c70";

// Hostile review F7: a partner files records only under a referral it serves, and names only a
// service cases knows to be its own; one answer whatever the reason (no oracle).
both_engines!(a_partner_records_only_under_its_own_referral_and_service, |engine| async move {
    let test = TestDb::new(engine).await;
    let roster = crate::harness::roster(&[("cm_000000000000000000000000000000a1", "south_los_angeles", 9)]);
    let assembled = Assembled::start(&test, &roster).await;
    let api = &assembled.api;
    let (case_id, first, returning, joined) = case_with_history(&assembled).await;
    let reopen =
        pb::ReopenCaseRequest { case_id: case_id.clone(), reason: "youth_request".into(), ..Default::default() };
    api.reopen_case(staff(reopen)).await.expect("reopened, same episode");
    // The other partner's offer for the joined referral named a service of its own.
    let mut others: events::OfferAccepted = offer_accepted(&joined, OTHER).payload_as().unwrap();
    others.partner_service_id = OTHERS_SERVICE.into();
    let others = wf_events::Envelope::new("routing", joined.to_string(), joined.to_string(), &others);
    assembled.events.on_offer_accepted(&others).await.expect("accepted");
    let (_, another_case_referral) = assembled.open_case(Site::SouthLosAngeles).await;

    let invalid = |status: tonic::Status, field: &str| -> String {
        assert_eq!(status.code(), Code::InvalidArgument, "{field}: {status:?}");
        let shown = format!("{status:?}");
        assert!(shown.contains(field), "{field}: {shown}");
        shown
    };
    // Another partner's referral of this episode, an earlier episode's, another case's, an unknown one.
    let mut answers = Vec::new();
    for referral in [joined.clone(), first.clone(), another_case_referral, ReferralId::generate()] {
        let status = api
            .record_intervention(request_as_partner(SERVING, intervention(&case_id, referral.as_str(), "")))
            .await
            .expect_err("not its referral");
        answers.push(invalid(status, "intervention.referral_id"));
        let status = api
            .record_contact_attempt(request_as_partner(SERVING, attempt_on(&case_id, referral.as_str())))
            .await
            .expect_err("not its referral");
        answers.push(invalid(status, "contact_attempt.referral_id"));
    }
    assert!(answers.chunks(2).all(|pair| pair == &answers[..2]), "one answer whatever the reason: {answers:?}");
    api.record_intervention(request_as_partner(SERVING, intervention(&case_id, returning.as_str(), OWN_SERVICE)))
        .await
        .expect("its own referral and service");
    api.record_contact_attempt(request_as_partner(SERVING, attempt_on(&case_id, returning.as_str())))
        .await
        .expect("its own referral");

    // Another organization's service and one cases has never seen answer alike.
    let mut answers = Vec::new();
    for service in [OTHERS_SERVICE, "svc_0192f1c4d5e67a8b9c0d1e2f3a4b5c71"] {
        let status = api
            .record_intervention(request_as_partner(SERVING, intervention(&case_id, "", service)))
            .await
            .expect_err("not its service");
        answers.push(invalid(status, "intervention.partner_service_id"));
    }
    assert_eq!(answers[0], answers[1], "no ownership oracle");
    // Staff keep the rule the proto states: a service cases has not seen is taken as given.
    let mut by_staff = intervention(&case_id, "", "svc_0192f1c4d5e67a8b9c0d1e2f3a4b5c71");
    by_staff.intervention.as_mut().unwrap().provider_id = SERVING.into();
    api.record_intervention(staff(by_staff)).await.expect("staff");
    // Staff may still file under any of the case's referrals.
    let mut by_staff = intervention(&case_id, first.as_str(), "");
    by_staff.intervention.as_mut().unwrap().provider_id = OTHER.into();
    api.record_intervention(staff(by_staff)).await.expect("staff, an earlier episode's referral");
});
