//! Hostile review of the partner's reach into cases, each test written as a partner with valid
//! credentials would try it: a partner filters its case list only by what its view shows; a merge
//! does not hand an earlier episode's partner the youth's open case; no partner reaches a closed
//! case; a reopening without a referral names none; a partner reads only the current episode's
//! plan and no staff identity.

use tonic::Code;
use wf_auth::Role;
use wf_proto::cases::v1::{self as pb, CaseClosureReason, UnitType, case_service_server::CaseService};
use wf_proto::common::v1::{ContactChannel, ContactOutcome, Date, Site};
use wf_proto::events::v1 as events;
use wf_testkit::both_engines;
use wf_types::{ReferralId, YouthId};

use crate::harness::{
    Assembled, ROUTED_PARTNER, TestDb, confirmed, offer_accepted, outbox_of, referral_received_for, referral_routed,
    request_as_partner, request_as_user,
};

const SERVING: &str = ROUTED_PARTNER;
const OTHER: &str = "org_0192f1c4d5e67a8b9c0d1e2f3a4b5c6e";
const OLD: &str = "org_0192f1c4d5e67a8b9c0d1e2f3a4b5c6f";
const CM: &str = "cm_000000000000000000000000000000a1";

fn staff<T>(message: T) -> tonic::Request<T> {
    request_as_user(Role::CaseManager, "usr_cm", message)
}

async fn assembled(test: &TestDb) -> Assembled {
    Assembled::start(test, &crate::harness::roster(&[(CM, "south_los_angeles", 9)])).await
}

fn get(case_id: &str) -> pb::GetCaseRequest {
    pb::GetCaseRequest { case_id: case_id.to_owned(), ..Default::default() }
}

async fn youth_of(assembled: &Assembled, case_id: &str) -> YouthId {
    let case = wf_cases::store::get_case(&assembled.db, case_id).await.expect("read").expect("case");
    case.youth_id.expect("youth").parse().expect("youth id")
}

/// Refers `youth` again (received and routed): the referral joins the youth's open case, or
/// reopens the closed one.
async fn refer(assembled: &Assembled, youth: &YouthId) -> ReferralId {
    let referral = ReferralId::generate();
    let received = referral_received_for(&referral, youth, Site::SouthLosAngeles, "");
    assembled.events.on_referral_received(&received).await.expect("received");
    assembled
        .events
        .on_referral_routed(&referral_routed(&referral, Site::SouthLosAngeles, false))
        .await
        .expect("routed");
    referral
}

async fn accept(assembled: &Assembled, referral: &ReferralId, partner: &str) {
    assembled.events.on_offer_accepted(&offer_accepted(referral, partner)).await.expect("accepted");
}

async fn close(assembled: &Assembled, case_id: &str) {
    let request = pb::CloseCaseRequest {
        case_id: case_id.to_owned(),
        reason: CaseClosureReason::GoalsMet as i32,
        ..Default::default()
    };
    assembled.api.close_case(staff(request)).await.expect("closed");
}

async fn reopen(assembled: &Assembled, case_id: &str) {
    let request =
        pb::ReopenCaseRequest { case_id: case_id.to_owned(), reason: "youth_request".into(), ..Default::default() };
    assembled.api.reopen_case(staff(request)).await.expect("reopened");
}

async fn listed(assembled: &Assembled, partner: &str, request: pb::ListCasesRequest) -> Vec<String> {
    let cases = assembled.api.list_cases(request_as_partner(partner, request)).await.expect("ListCases").into_inner();
    cases.cases.into_iter().map(|case| case.case_id).collect()
}

fn not_found(status: tonic::Status) {
    assert_eq!((status.code(), status.message()), (Code::NotFound, "case not found"));
}

async fn goal(assembled: &Assembled, case_id: &str, domain: &str) -> String {
    let goal = pb::ServicePlanGoal { case_id: case_id.to_owned(), domain: domain.into(), ..Default::default() };
    let saved = assembled.api.upsert_goal(staff(pb::UpsertGoalRequest { goal: Some(goal) })).await.expect("goal");
    saved.into_inner().goal.expect("goal").goal_id
}

async fn partner_goals(assembled: &Assembled, partner: &str, case_id: &str) -> Vec<String> {
    let request = pb::ListGoalsRequest { case_id: case_id.to_owned(), ..Default::default() };
    let goals = assembled.api.list_goals(request_as_partner(partner, request)).await.expect("ListGoals").into_inner();
    goals.goals.into_iter().map(|goal| goal.domain).collect()
}

// Finding 1: a partner asks its case list which cases miss data, which wait for a case manager,
// and whether referrals it never served have a case.
both_engines!(a_partner_filters_its_cases_only_by_what_its_view_shows, |engine| async move {
    let test = TestDb::new(engine).await;
    let assembled = assembled(&test).await;
    let (case_id, first) = assembled.open_case(Site::SouthLosAngeles).await;
    accept(&assembled, &first, OLD).await;
    close(&assembled, &case_id).await;
    let youth = youth_of(&assembled, &case_id).await;
    let returning = refer(&assembled, &youth).await;
    let joined = refer(&assembled, &youth).await;
    accept(&assembled, &returning, SERVING).await;
    accept(&assembled, &joined, OTHER).await;

    for (field, request) in [
        ("incomplete_only", pb::ListCasesRequest { incomplete_only: true, ..Default::default() }),
        ("awaiting_assignment", pb::ListCasesRequest { awaiting_assignment: true, ..Default::default() }),
    ] {
        let refused = assembled.api.list_cases(request_as_partner(SERVING, request.clone())).await.expect_err(field);
        assert_eq!(refused.code(), Code::InvalidArgument, "{field}: {refused:?}");
        let shown = format!("{refused:?}");
        assert!(shown.contains(field) && shown.contains("is not a filter partners may use"), "{field}: {shown}");
        assembled.api.list_cases(staff(request)).await.expect("staff filter by it");
    }
    // Its own referral finds the case; another partner's referral of the same episode and an
    // earlier episode's referral find nothing, as an unknown referral does.
    let by = |referral: &ReferralId| pb::ListCasesRequest { referral_id: referral.to_string(), ..Default::default() };
    assert_eq!(listed(&assembled, SERVING, by(&returning)).await, std::slice::from_ref(&case_id));
    for referral in [&joined, &first, &ReferralId::generate()] {
        assert!(listed(&assembled, SERVING, by(referral)).await.is_empty(), "{referral}: not a referral it serves");
    }
    // Staff still find the case by any of its referrals.
    let staff_list = assembled.api.list_cases(staff(by(&first))).await.expect("staff").into_inner().cases;
    assert_eq!(staff_list.len(), 1);
});

// Finding 2: a partner that served a case's earlier, closed episode waits for the youth's cases to
// be merged, then reaches the youth's open case.
both_engines!(a_merge_does_not_give_an_earlier_episodes_partner_the_open_case, |engine| async move {
    let test = TestDb::new(engine).await;
    let assembled = assembled(&test).await;
    let (open_case, _) = assembled.open_case(Site::SouthLosAngeles).await;
    let youth = youth_of(&assembled, &open_case).await;
    // The same youth under a provisional id: a case served by OLD, closed, reopened by a return
    // SERVING accepted; a goal set in each episode.
    let (newer, first) = assembled.open_case(Site::SouthLosAngeles).await;
    let provisional = youth_of(&assembled, &newer).await;
    accept(&assembled, &first, OLD).await;
    goal(&assembled, &newer, "housing_stability").await;
    close(&assembled, &newer).await;
    let returning = refer(&assembled, &provisional).await;
    accept(&assembled, &returning, SERVING).await;
    goal(&assembled, &newer, "education").await;
    not_found(assembled.api.get_case(request_as_partner(OLD, get(&newer))).await.expect_err("an earlier episode's"));

    let merged = assembled.events.on_possible_match_confirmed(&confirmed(&returning, &youth, &provisional)).await;
    assert!(matches!(merged.expect("confirmed"), wf_cases::MatchOutcome::Merged { .. }));

    // OLD reaches neither case: not by id, not in its list, not by its old referral.
    not_found(assembled.api.get_case(request_as_partner(OLD, get(&open_case))).await.expect_err("the open case"));
    not_found(assembled.api.get_case(request_as_partner(OLD, get(&newer))).await.expect_err("the merged case"));
    assert!(listed(&assembled, OLD, pb::ListCasesRequest::default()).await.is_empty());
    let by_old = pb::ListCasesRequest { referral_id: first.to_string(), ..Default::default() };
    assert!(listed(&assembled, OLD, by_old).await.is_empty());
    let goals = pb::ListGoalsRequest { case_id: open_case.clone(), ..Default::default() };
    not_found(assembled.api.list_goals(request_as_partner(OLD, goals)).await.expect_err("goals"));
    // SERVING's referral joined the open case's current episode, with the plan of that episode only.
    let read = assembled.api.get_case(request_as_partner(SERVING, get(&open_case))).await.expect("serving partner");
    assert_eq!(read.into_inner().case.expect("case").referral_ids, [returning.to_string()]);
    assert_eq!(partner_goals(&assembled, SERVING, &open_case).await, ["education"]);
    // Staff keep the whole history; only the current episode's referral was announced as joined.
    let whole = assembled.api.get_case(staff(get(&open_case))).await.expect("staff").into_inner().case.expect("case");
    assert!(whole.referral_ids.contains(&first.to_string()) && whole.referral_ids.contains(&returning.to_string()));
    let joined: Vec<String> = outbox_of::<events::CaseAssigned>(&assembled.db, "case.assigned")
        .await
        .into_iter()
        .filter(|(_, assigned)| assigned.case_id == open_case && assigned.reason == "joined_open_case")
        .map(|(_, assigned)| assigned.referral_id)
        .collect();
    assert_eq!(joined, [returning.to_string()], "an ended episode's referral is given no status again");
});

// Finding 3: the serving partner keeps reading and recording after the case was closed.
both_engines!(no_partner_reaches_a_closed_case, |engine| async move {
    let test = TestDb::new(engine).await;
    let assembled = assembled(&test).await;
    let api = &assembled.api;
    let (case_id, referral) = assembled.open_case(Site::SouthLosAngeles).await;
    accept(&assembled, &referral, SERVING).await;
    goal(&assembled, &case_id, "housing_stability").await;
    api.get_case(request_as_partner(SERVING, get(&case_id))).await.expect("while open");
    close(&assembled, &case_id).await;

    not_found(api.get_case(request_as_partner(SERVING, get(&case_id))).await.expect_err("GetCase"));
    assert!(listed(&assembled, SERVING, pb::ListCasesRequest::default()).await.is_empty(), "ListCases");
    let by_own = pb::ListCasesRequest { referral_id: referral.to_string(), ..Default::default() };
    assert!(listed(&assembled, SERVING, by_own).await.is_empty(), "ListCases by its referral");
    let goals = pb::ListGoalsRequest { case_id: case_id.clone(), ..Default::default() };
    not_found(api.list_goals(request_as_partner(SERVING, goals)).await.expect_err("ListGoals"));
    let interventions = pb::ListInterventionsRequest { case_id: case_id.clone(), ..Default::default() };
    not_found(api.list_interventions(request_as_partner(SERVING, interventions)).await.expect_err("ListInterventions"));
    let attempts = pb::ListContactAttemptsRequest { case_id: case_id.clone(), ..Default::default() };
    not_found(api.list_contact_attempts(request_as_partner(SERVING, attempts)).await.expect_err("ListContactAttempts"));
    not_found(
        api.record_contact_attempt(request_as_partner(SERVING, attempt(&case_id, "")))
            .await
            .expect_err("RecordContactAttempt"),
    );
    not_found(
        api.record_intervention(request_as_partner(SERVING, intervention(&case_id, "", "")))
            .await
            .expect_err("RecordIntervention"),
    );

    // Reopened without a referral, the episode carries on (ReopenCaseRequest.referral_id): its
    // partner serves the open case again.
    reopen(&assembled, &case_id).await;
    api.get_case(request_as_partner(SERVING, get(&case_id))).await.expect("open again, same episode");
});

// Finding 4: staff reopen a case without a referral; the events say its first referral reopened it.
both_engines!(a_reopening_without_a_referral_names_the_episode_that_carries_on, |engine| async move {
    let test = TestDb::new(engine).await;
    let assembled = assembled(&test).await;
    let (case_id, first) = assembled.open_case(Site::SouthLosAngeles).await;
    close(&assembled, &case_id).await;
    let youth = youth_of(&assembled, &case_id).await;
    let returning = refer(&assembled, &youth).await;
    close(&assembled, &case_id).await;
    reopen(&assembled, &case_id).await;

    let reopened = outbox_of::<events::CaseReopened>(&assembled.db, "case.reopened").await;
    let named: Vec<&str> = reopened.iter().map(|(_, reopened)| reopened.referral_id.as_str()).collect();
    // The return names its referral; ReopenCase named none, so the referral of the episode that
    // carries on (the return's), never the case's first.
    assert_eq!(named, [returning.as_str(), returning.as_str()], "not {first}");
    // Its assignment names the referral of the episode that carries on, not the case's first.
    let assigned = outbox_of::<events::CaseAssigned>(&assembled.db, "case.assigned").await;
    let (_, last) = assigned.last().expect("assigned on reopening");
    assert_eq!(last.referral_id, returning.to_string(), "not {first}");
});

fn intervention(case_id: &str, goal_id: &str, provider_id: &str) -> pb::RecordInterventionRequest {
    pb::RecordInterventionRequest {
        intervention: Some(pb::Intervention {
            case_id: case_id.to_owned(),
            service_type: "mental_health".into(),
            delivered_on: Some(Date { year: 2025, month: 12, day: 30 }),
            units: 1.0,
            unit_type: UnitType::Sessions as i32,
            goal_id: goal_id.to_owned(),
            provider_id: provider_id.to_owned(),
            ..Default::default()
        }),
    }
}

fn attempt(case_id: &str, organization_id: &str) -> pb::RecordContactAttemptRequest {
    pb::RecordContactAttemptRequest {
        contact_attempt: Some(pb::ContactAttempt {
            case_id: case_id.to_owned(),
            attempted_at: Some(wf_proto::time::timestamp_from_micros(1_700_000_000_000_000)),
            channel: ContactChannel::PhoneCall as i32,
            outcome: ContactOutcome::NotReached as i32,
            organization_id: organization_id.to_owned(),
            ..Default::default()
        }),
    }
}

// Finding 5: a partner reads an earlier episode's plan, and which staff member recorded a service
// or an attempt under its organization.
both_engines!(a_partner_reads_the_current_plan_and_no_staff_identity, |engine| async move {
    let test = TestDb::new(engine).await;
    let assembled = assembled(&test).await;
    let api = &assembled.api;
    let (case_id, first) = assembled.open_case(Site::SouthLosAngeles).await;
    accept(&assembled, &first, OTHER).await;
    let earlier_goal = goal(&assembled, &case_id, "housing_stability").await;
    close(&assembled, &case_id).await;
    let returning = refer(&assembled, &youth_of(&assembled, &case_id).await).await;
    accept(&assembled, &returning, SERVING).await;
    let current_goal = goal(&assembled, &case_id, "education").await;

    assert_eq!(partner_goals(&assembled, SERVING, &case_id).await, ["education"], "the current episode's plan");
    let staff_goals = pb::ListGoalsRequest { case_id: case_id.clone(), ..Default::default() };
    assert_eq!(api.list_goals(staff(staff_goals)).await.expect("staff").into_inner().goals.len(), 2);
    // Nor may it name the earlier plan's goal; the current one it may.
    let refused = api
        .record_intervention(request_as_partner(SERVING, intervention(&case_id, &earlier_goal, "")))
        .await
        .expect_err("an earlier episode's goal");
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(format!("{refused:?}").contains("intervention.goal_id"), "{refused:?}");
    api.record_intervention(request_as_partner(SERVING, intervention(&case_id, &current_goal, "")))
        .await
        .expect("the current plan's goal");

    // Staff record a service and an attempt under the partner's organization.
    api.record_intervention(staff(intervention(&case_id, "", SERVING))).await.expect("staff service");
    api.record_contact_attempt(staff(attempt(&case_id, SERVING))).await.expect("staff attempt");
    let request = pb::ListInterventionsRequest { case_id: case_id.clone(), ..Default::default() };
    let interventions = api.list_interventions(request_as_partner(SERVING, request.clone())).await.expect("list");
    let interventions = interventions.into_inner().interventions;
    assert_eq!(interventions.len(), 2);
    assert!(interventions.iter().all(|i| i.recorded_by.is_empty()), "{interventions:?}");
    let by_staff = api.list_interventions(staff(request)).await.expect("staff").into_inner().interventions;
    assert!(by_staff.iter().any(|i| i.recorded_by == "usr_cm"), "staff read who recorded it");
    let request = pb::ListContactAttemptsRequest { case_id: case_id.clone(), ..Default::default() };
    let attempts = api.list_contact_attempts(request_as_partner(SERVING, request.clone())).await.expect("list");
    let attempts = attempts.into_inner().contact_attempts;
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0].attempted_by, "", "who attempted is staff's");
    let by_staff = api.list_contact_attempts(staff(request)).await.expect("staff").into_inner().contact_attempts;
    assert_eq!(by_staff[0].attempted_by, "usr_cm");
    // Its view of the case names no staff either.
    let read = api.get_case(request_as_partner(SERVING, get(&case_id))).await.expect("GetCase");
    let read = read.into_inner().case.expect("case");
    assert_eq!((read.case_manager_id.as_str(), read.youth_id.as_str()), ("", ""));
});
