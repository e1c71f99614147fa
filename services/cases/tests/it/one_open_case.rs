//! Issue 13, finding 2: one youth has at most one open case. A second referral of the same youth
//! joins the open case (also while it waits in the supervisors' queue), a confirmed match between
//! two open cases merges the newer into the earlier (its referrals and records with it), and the
//! database itself refuses a second open case for a youth.

use wf_auth::Role;
use wf_proto::cases::v1::{self as pb, CaseClosureReason, CaseStage, GoalStatus, UnitType};
use wf_proto::common::v1::{ContactChannel, ContactOutcome, Date, Site};
use wf_proto::events::v1 as events;
use wf_testkit::both_engines;
use wf_types::{CaseId, ReferralId, YouthId};

use crate::harness::{TestDb, confirmed, offer_accepted, referral_routed, roster};
use crate::returns::{DAY, received_at, refer_at};
use crate::served::{START_MICROS, Served, case_of, close};

const A: &str = "cm_0000000000000000000000000000000a";
const B: &str = "cm_0000000000000000000000000000000b";
const LATE_PARTNER: &str = "org_0192f1c4d5e67a8b9c0d1e2f3a4b5c6e";

async fn open_cases_of(served: &Served, youth: &YouthId) -> Vec<pb::Case> {
    let request = pb::ListCasesRequest { youth_id: youth.to_string(), ..Default::default() };
    let cases = served.client(Role::Supervisor).await.list_cases(request).await.expect("list").into_inner().cases;
    cases
        .into_iter()
        .filter(|case| ![CaseStage::Closed as i32, CaseStage::PostExitFollowUp as i32].contains(&case.stage))
        .collect()
}

// The pilot's case: a re-referral's case waits unassigned; the youth's escalated earlier referral,
// offered by hand later, must not open a second case.
both_engines!(a_second_referral_of_a_youth_joins_the_open_case_even_while_it_waits, |engine| async move {
    let served =
        Served::start_with_roster(engine, &roster(&[(A, "south_los_angeles", 1), (B, "south_los_angeles", 1)])).await;
    let mut supervisor = served.client(Role::Supervisor).await;
    // Both case managers at their cap.
    let busy_a = served.open_case(Site::SouthLosAngeles).await;
    served.open_case(Site::SouthLosAngeles).await;

    let youth = YouthId::generate();
    let escalated = ReferralId::generate();
    served.server.publish(&received_at(&escalated, &youth, START_MICROS, "")).await;
    served.clock.advance_days(3);
    let re_referral = refer_at(&served, &youth, served_now(&served)).await;
    let waiting = case_of(&mut supervisor, &re_referral).await;
    assert_eq!(waiting.case_manager_id, "", "in the supervisors' queue");

    // Offered by hand a week later: routed, and accepted by another partner.
    served.clock.advance_days(7);
    served.server.publish(&referral_routed(&escalated, Site::SouthLosAngeles, false)).await;
    served.server.publish(&offer_accepted(&escalated, LATE_PARTNER)).await;
    let joined = case_of(&mut supervisor, &escalated).await;
    assert_eq!(joined.case_id, waiting.case_id, "the open case took the referral");
    assert_eq!(joined.referral_ids, [re_referral.to_string(), escalated.to_string()]);
    assert_eq!(open_cases_of(&served, &youth).await.len(), 1, "one open case");
    let queued = served.published(2, |e| e.event_type == "case.awaiting_assignment").await;
    let queued: events::CaseAwaitingAssignment = queued[1].payload_as().expect("payload");
    assert_eq!(
        (queued.case_id.as_str(), queued.referral_id.as_str(), queued.reason.as_str()),
        (waiting.case_id.as_str(), escalated.as_str(), "joined_waiting_case")
    );
    // The partner that accepted the joining referral serves the case it joined.
    let mut late_partner = served.partner(LATE_PARTNER).await;
    let read = late_partner
        .get_case(pb::GetCaseRequest { case_id: waiting.case_id.clone(), ..Default::default() })
        .await
        .expect("the partner of a referral of the case's current episode reads it");
    assert_eq!(read.into_inner().case.expect("case").case_id, waiting.case_id);

    // A supervisor assigns it once there is room: every referral of the case is announced with it.
    close(&mut supervisor, &busy_a).await;
    let request = pb::ReassignCaseRequest {
        case_id: waiting.case_id.clone(),
        case_manager_id: A.into(),
        reason: pb::ReassignReason::CaseloadBalance as i32,
        detail: String::new(),
        expected_updated_at: None,
    };
    supervisor.reassign_case(request).await.expect("assign from the queue");
    let assigned = served.published(4, |e| e.event_type == "case.assigned").await;
    let mut named: Vec<String> = assigned[2..]
        .iter()
        .map(|e| e.payload_as::<events::CaseAssigned>().expect("payload"))
        .filter(|p| p.case_id == waiting.case_id)
        .map(|p| p.referral_id)
        .collect();
    named.sort();
    let mut expected = vec![re_referral.to_string(), escalated.to_string()];
    expected.sort();
    assert_eq!(named, expected);

    // Once it is assigned, a third referral joins it with a case.assigned naming its owner.
    let third = refer_at(&served, &youth, served_now(&served)).await;
    assert_eq!(case_of(&mut supervisor, &third).await.case_id, waiting.case_id);
    let assigned = served.published(5, |e| e.event_type == "case.assigned").await;
    let last: events::CaseAssigned = assigned[4].payload_as().expect("payload");
    assert_eq!(
        (last.referral_id.as_str(), last.case_manager_id.as_str(), last.reason.as_str()),
        (third.as_str(), A, "joined_open_case")
    );
    served.server.stop().await;
});

fn served_now(served: &Served) -> i64 {
    use wf_types::Clock;
    served.clock.now_micros()
}

both_engines!(a_confirmed_match_between_two_open_cases_merges_the_newer_into_the_earlier, |engine| async move {
    let served = Served::start(engine).await;
    let mut staff = served.client(Role::CaseManager).await;
    let youth = YouthId::generate();
    let first = refer_at(&served, &youth, START_MICROS).await;
    let earlier = case_of(&mut staff, &first).await;

    // Referred again under a provisional id: a case of its own, where staff already work.
    served.clock.advance_days(5);
    let provisional = YouthId::generate();
    let second = refer_at(&served, &provisional, START_MICROS + 5 * DAY).await;
    let newer = case_of(&mut staff, &second).await;
    assert_ne!(newer.case_id, earlier.case_id);
    let attempt = pb::ContactAttempt {
        case_id: newer.case_id.clone(),
        attempted_at: Some(wf_proto::time::timestamp_from_micros(START_MICROS + 5 * DAY)),
        channel: ContactChannel::PhoneCall as i32,
        outcome: ContactOutcome::Reached as i32,
        ..Default::default()
    };
    staff
        .record_contact_attempt(pb::RecordContactAttemptRequest { contact_attempt: Some(attempt) })
        .await
        .expect("attempt");
    let goal = pb::ServicePlanGoal {
        case_id: newer.case_id.clone(),
        domain: "housing_stability".into(),
        status: GoalStatus::Open as i32,
        description: "Demo goal wording".into(),
        ..Default::default()
    };
    staff.upsert_goal(pb::UpsertGoalRequest { goal: Some(goal) }).await.expect("goal");
    let intervention = pb::Intervention {
        case_id: newer.case_id.clone(),
        service_type: "mental_health".into(),
        delivered_on: Some(Date { year: 2026, month: 1, day: 6 }),
        units: 1.0,
        unit_type: UnitType::Sessions as i32,
        provider_id: crate::harness::ROUTED_PARTNER.into(),
        ..Default::default()
    };
    staff
        .record_intervention(pb::RecordInterventionRequest { intervention: Some(intervention) })
        .await
        .expect("service");
    let note = pb::CaseNote {
        case_id: newer.case_id.clone(),
        text: "Demo note text".into(),
        category: "contact".into(),
        ..Default::default()
    };
    let note_id =
        staff.add_case_note(pb::AddCaseNoteRequest { note: Some(note) }).await.expect("note").into_inner().note_id;

    served.server.publish(&confirmed(&second, &youth, &provisional)).await;

    let merged = staff
        .get_case(pb::GetCaseRequest { case_id: newer.case_id.clone(), ..Default::default() })
        .await
        .expect("get")
        .into_inner()
        .case
        .expect("case");
    assert_eq!(
        (merged.stage, merged.closure_reason, merged.merged_into_case_id.as_str()),
        (CaseStage::Closed as i32, CaseClosureReason::Merged as i32, earlier.case_id.as_str())
    );
    let open = open_cases_of(&served, &youth).await;
    assert_eq!(open.iter().map(|c| c.case_id.as_str()).collect::<Vec<_>>(), [earlier.case_id.as_str()]);
    assert_eq!(open[0].referral_ids, [first.to_string(), second.to_string()]);
    assert_eq!(case_of(&mut staff, &second).await.case_id, earlier.case_id, "the referral's case is the open one");
    // Its records went with it; the note still opens, sealed again for the case it joined.
    let on_earlier = |case_id: &str| case_id == earlier.case_id;
    let attempts = staff
        .list_contact_attempts(pb::ListContactAttemptsRequest {
            case_id: earlier.case_id.clone(),
            ..Default::default()
        })
        .await
        .expect("attempts")
        .into_inner()
        .contact_attempts;
    assert_eq!(attempts.len(), 1);
    assert!(on_earlier(&attempts[0].case_id));
    let goals = staff
        .list_goals(pb::ListGoalsRequest { case_id: earlier.case_id.clone(), ..Default::default() })
        .await
        .expect("goals")
        .into_inner()
        .goals;
    assert_eq!(goals.len(), 1);
    let interventions = staff
        .list_interventions(pb::ListInterventionsRequest { case_id: earlier.case_id.clone(), ..Default::default() })
        .await
        .expect("interventions")
        .into_inner()
        .interventions;
    assert_eq!(interventions.len(), 1);
    assert_eq!(interventions[0].referral_id, second.as_str(), "still the referral it served");
    let notes = staff
        .list_case_notes(pb::ListCaseNotesRequest { case_id: earlier.case_id.clone(), ..Default::default() })
        .await
        .expect("notes")
        .into_inner()
        .notes;
    assert_eq!(
        (notes.len(), notes[0].note_id.as_str(), notes[0].text.as_str()),
        (1, note_id.as_str(), "Demo note text")
    );
    let first_contact = staff
        .get_case(pb::GetCaseRequest { case_id: earlier.case_id.clone(), ..Default::default() })
        .await
        .expect("get")
        .into_inner()
        .case
        .expect("case")
        .first_contact_at;
    assert!(first_contact.is_some(), "the first contact made on the newer case counts");

    let linked = served.published(1, |e| e.event_type == "case.linked").await;
    let linked: events::CaseLinked = linked[0].payload_as().expect("payload");
    assert_eq!((linked.relation.as_str(), linked.days_since_closure), ("concurrent", -1));
    let assigned = served.published(3, |e| e.event_type == "case.assigned").await;
    let joined: events::CaseAssigned = assigned[2].payload_as().expect("payload");
    assert_eq!(
        (joined.case_id.as_str(), joined.referral_id.as_str(), joined.reason.as_str()),
        (earlier.case_id.as_str(), second.as_str(), "joined_open_case")
    );
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(served.published(0, |e| e.event_type == "case.closed").await.is_empty(), "a merge is no exit");
    assert!(recidivism_free(&served, &youth).await, "an open case is no return");
    // Nothing reopens or reassigns a merged case.
    let refused = staff
        .reopen_case(pb::ReopenCaseRequest { case_id: newer.case_id.clone(), ..Default::default() })
        .await
        .expect_err("merged");
    assert_eq!(refused.code(), tonic::Code::FailedPrecondition);
    served.server.stop().await;
});

async fn recidivism_free(served: &Served, youth: &YouthId) -> bool {
    crate::served::recidivism_of(&mut served.client(Role::Supervisor).await, youth).await.is_empty()
}

both_engines!(the_database_refuses_a_second_open_case_for_a_youth, |engine| async move {
    let test = TestDb::new(engine).await;
    test.db.migrate(&wf_cases::migrations()).await.expect("migrations");
    let youth = YouthId::generate().to_string();
    let case = |stage: CaseStage, practice: bool| wf_cases::store::CaseRecord {
        case_id: CaseId::generate().to_string(),
        referral_id: ReferralId::generate().to_string(),
        youth_id: Some(youth.clone()),
        site: wf_cases::domain::Site::SouthLosAngeles,
        triage_tier: "routine".into(),
        stage,
        status: wf_cases::domain::CaseStatus::AwaitingAssignment,
        case_manager_id: None,
        assigned_at: None,
        practice,
        opened_at: START_MICROS,
        updated_at: START_MICROS,
        updated_by: String::new(),
        lifecycle: Default::default(),
        engagement: Default::default(),
        merged_into: None,
    };
    let insert = |record: wf_cases::store::CaseRecord| {
        let db = test.db.clone();
        async move {
            let mut tx = db.begin().await.expect("tx");
            let inserted = wf_cases::store::insert_case(&mut tx, &record).await;
            if inserted.is_ok() {
                tx.commit().await.expect("commit");
            }
            inserted
        }
    };
    insert(case(CaseStage::Engagement, false)).await.expect("the youth's open case");
    insert(case(CaseStage::Closed, false)).await.expect("closed cases beside it");
    insert(case(CaseStage::Engagement, true)).await.expect("a practice case is apart from the real ones");
    match insert(case(CaseStage::Active, false)).await {
        Err(wf_db::DbError::UniqueViolation { .. }) => {}
        other => panic!("a second open case must be refused, got {other:?}"),
    }
});
