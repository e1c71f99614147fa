//! Optimistic concurrency and the case's change history: every request that changes the case
//! itself takes the `updated_at` its caller read and is ABORTED (saying when and by whom) once the
//! case has changed since, nothing written; a fresh one goes through and names its author in
//! `updated_by`. Also the stage history (`ListStageChanges`, staff only, on the record) and undoing
//! an intervention right after recording it (`WithdrawIntervention`).

use std::time::Duration;

use tonic::Code;
use wf_auth::{Role, TokenKind};
use wf_proto::cases::v1::{self as pb, CaseClosureReason, CaseStage, UnitType, case_service_client::CaseServiceClient};
use wf_proto::common::v1::{Date, Readiness, Site};
use wf_proto::events::v1 as events;
use wf_testkit::{both_engines, eventually};

use crate::harness::ROUTED_PARTNER;
use crate::served::{Client, Served};

const MARIA: &str = "usr_maria_concurrency";
const JO: &str = "usr_jo_concurrency";

async fn as_user(served: &Served, subject: &str, role: Role) -> Client {
    CaseServiceClient::new(served.server.channel(&served.server.tokens.token(TokenKind::User, subject, role)).await)
}

async fn get(client: &mut Client, case_id: &str) -> pb::Case {
    let request = pb::GetCaseRequest { case_id: case_id.to_owned(), purpose: String::new() };
    client.get_case(request).await.expect("read").into_inner().case.expect("case")
}

fn enroll(case_id: &str, expected: Option<prost_types::Timestamp>) -> pb::TransitionStageRequest {
    pb::TransitionStageRequest {
        case_id: case_id.to_owned(),
        to_stage: CaseStage::Enrolled as i32,
        reason: "youth_ready".into(),
        expected_updated_at: expected,
        ..Default::default()
    }
}

#[track_caller]
fn assert_stale(status: &tonic::Status, by: &str) {
    assert_eq!(status.code(), Code::Aborted, "{status:?}");
    let message = status.message();
    assert!(message.contains("changed after expected_updated_at") && message.contains(by), "{message}");
}

both_engines!(a_stale_expected_updated_at_is_refused_and_a_fresh_one_goes_through, |engine| async move {
    let served = Served::start(engine).await;
    let case_id = served.open_case(Site::SouthLosAngeles).await;
    let mut maria = as_user(&served, MARIA, Role::CaseManager).await;
    let mut jo = as_user(&served, JO, Role::CaseManager).await;
    let read = get(&mut maria, &case_id).await;
    assert_eq!(read.updated_by, "cases", "opened by cases on referral.routed");

    // Jo changes the case (readiness) after Maria read it.
    served.clock.advance(chrono::Duration::minutes(5));
    let jo_read = get(&mut jo, &case_id).await;
    let ready = pb::SetReadinessRequest {
        case_id: case_id.clone(),
        readiness: Readiness::ReadyToEngage as i32,
        expected_updated_at: jo_read.updated_at,
        ..Default::default()
    };
    let changed = jo.set_readiness(ready).await.expect("fresh readiness").into_inner().case.expect("case");
    assert_eq!(changed.updated_by, JO);
    assert_ne!(changed.updated_at, read.updated_at);

    // Maria's move from what she read is refused, saying when and by whom; nothing was written.
    let stale = maria.transition_stage(enroll(&case_id, read.updated_at)).await.expect_err("stale");
    assert_stale(&stale, JO);
    let when = wf_proto::time::datetime(changed.updated_at.as_ref().expect("updated_at"))
        .expect("an instant")
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    assert!(stale.message().contains(&when), "{} names {when}", stale.message());
    let after = get(&mut maria, &case_id).await;
    assert_eq!((after.stage, after.updated_at), (CaseStage::Engagement as i32, changed.updated_at));

    // Each change RPC refuses a stale read the same way.
    let closing = pb::CloseCaseRequest {
        case_id: case_id.clone(),
        reason: CaseClosureReason::Unreachable as i32,
        expected_updated_at: read.updated_at,
        ..Default::default()
    };
    assert_stale(&maria.close_case(closing).await.expect_err("stale close"), JO);
    let readiness = pb::SetReadinessRequest {
        case_id: case_id.clone(),
        readiness: Readiness::NotYetReady as i32,
        expected_updated_at: read.updated_at,
        ..Default::default()
    };
    assert_stale(&maria.set_readiness(readiness).await.expect_err("stale readiness"), JO);
    let mut supervisor = as_user(&served, "usr_sup_concurrency", Role::Supervisor).await;
    let reassign = pb::ReassignCaseRequest {
        case_id: case_id.clone(),
        reason: pb::ReassignReason::CaseloadBalance as i32,
        expected_updated_at: read.updated_at,
        ..Default::default()
    };
    assert_stale(&supervisor.reassign_case(reassign).await.expect_err("stale reassign"), JO);
    assert_eq!(get(&mut maria, &case_id).await.updated_at, changed.updated_at, "nothing was written");

    // Read again: the move goes through and names Maria.
    served.clock.advance(chrono::Duration::minutes(1));
    let fresh = get(&mut maria, &case_id).await;
    let moved = maria.transition_stage(enroll(&case_id, fresh.updated_at)).await.expect("fresh move");
    let moved = moved.into_inner().case.expect("case");
    assert_eq!((moved.stage, moved.updated_by.as_str()), (CaseStage::Enrolled as i32, MARIA));
    assert_eq!(get(&mut jo, &case_id).await.updated_by, MARIA);

    // Without an expectation, a request applies to the case as it is (services acting on events).
    served.clock.advance(chrono::Duration::minutes(1));
    let mut other = as_user(&served, JO, Role::CaseManager).await;
    let assessed = pb::TransitionStageRequest {
        case_id: case_id.clone(),
        to_stage: CaseStage::Assessed as i32,
        reason: "assessment_completed".into(),
        ..Default::default()
    };
    other.transition_stage(assessed).await.expect("no expectation");

    // Closing and reopening refuse a stale read and accept a fresh one.
    served.clock.advance(chrono::Duration::minutes(1));
    let current = get(&mut maria, &case_id).await;
    let close = |expected| pb::CloseCaseRequest {
        case_id: case_id.clone(),
        reason: CaseClosureReason::GoalsMet as i32,
        expected_updated_at: expected,
        ..Default::default()
    };
    maria.close_case(close(current.updated_at)).await.expect("fresh close");
    served.clock.advance(chrono::Duration::minutes(1));
    let reopen = |expected| pb::ReopenCaseRequest {
        case_id: case_id.clone(),
        reason: "youth_returned".into(),
        expected_updated_at: expected,
        ..Default::default()
    };
    assert_stale(&jo.reopen_case(reopen(current.updated_at)).await.expect_err("stale reopen"), MARIA);
    let closed = get(&mut jo, &case_id).await;
    let reopened = jo.reopen_case(reopen(closed.updated_at)).await.expect("fresh reopen").into_inner().case.unwrap();
    assert_eq!((reopened.stage, reopened.updated_by.as_str()), (CaseStage::Engagement as i32, JO));

    // A malformed expectation names the field.
    let broken = enroll(&case_id, Some(prost_types::Timestamp { seconds: i64::MAX, nanos: 0 }));
    let invalid = maria.transition_stage(broken).await.expect_err("malformed");
    assert_eq!(invalid.code(), Code::InvalidArgument);
    assert!(invalid.message().contains("expected_updated_at"), "{}", invalid.message());
    // A partner serving the case never learns who changed it.
    let mut partner = served.partner(ROUTED_PARTNER).await;
    let viewed = partner.get_case(pb::GetCaseRequest { case_id: case_id.clone(), purpose: String::new() }).await;
    let viewed = viewed.expect("the partner serves the case again").into_inner().case.expect("case");
    assert_eq!((viewed.updated_by.as_str(), viewed.updated_at), ("", None));
    served.server.stop().await;
});

both_engines!(the_stage_history_lists_every_move_for_staff_only_and_is_read_on_the_record, |engine| async move {
    let served = Served::start(engine).await;
    let accesses = served.server.collector("accesses", &["record.accessed"]).await;
    let case_id = served.open_case(Site::SouthLosAngeles).await;
    let mut maria = as_user(&served, MARIA, Role::CaseManager).await;
    maria.transition_stage(enroll(&case_id, None)).await.expect("enrolled");
    served.clock.advance(chrono::Duration::hours(1));
    let assessed = pb::TransitionStageRequest {
        case_id: case_id.clone(),
        to_stage: CaseStage::Assessed as i32,
        reason: "assessment_completed".into(),
        ..Default::default()
    };
    maria.transition_stage(assessed).await.expect("assessed");

    let list = |page_token: &str, page_size: i32| pb::ListStageChangesRequest {
        case_id: case_id.clone(),
        page_size,
        page_token: page_token.to_owned(),
        purpose: "case_management".into(),
    };
    let all = maria.list_stage_changes(list("", 0)).await.expect("history").into_inner();
    let moves: Vec<(i32, i32, &str, &str)> = all
        .stage_changes
        .iter()
        .map(|c| (c.from_stage, c.to_stage, c.reason.as_str(), c.recorded_by.as_str()))
        .collect();
    assert_eq!(
        moves,
        [
            (CaseStage::Engagement as i32, CaseStage::Enrolled as i32, "youth_ready", MARIA),
            (CaseStage::Enrolled as i32, CaseStage::Assessed as i32, "assessment_completed", MARIA),
        ]
    );
    assert!(all.next_page_token.is_empty());
    // One at a time, in order.
    let first = maria.list_stage_changes(list("", 1)).await.expect("page 1").into_inner();
    assert_eq!(first.stage_changes.len(), 1);
    let second = maria.list_stage_changes(list(&first.next_page_token, 1)).await.expect("page 2").into_inner();
    assert_eq!(second.stage_changes, all.stage_changes[1..]);
    let bad = maria.list_stage_changes(list("not-a-token", 1)).await.expect_err("token");
    assert_eq!(bad.code(), Code::InvalidArgument);

    // A partner serving the case does not read its history.
    let mut partner = served.partner(ROUTED_PARTNER).await;
    let refused = partner.list_stage_changes(list("", 0)).await.expect_err("partner");
    assert_eq!(refused.code(), Code::PermissionDenied);
    let unknown = pb::ListStageChangesRequest { case_id: wf_types::CaseId::generate().to_string(), ..list("", 0) };
    assert_eq!(maria.list_stage_changes(unknown).await.expect_err("unknown").code(), Code::NotFound);

    // The read is on the record, with its purpose.
    let of_history = || -> Vec<events::RecordAccessed> {
        accesses
            .events()
            .iter()
            .filter_map(|e| e.payload_as::<events::RecordAccessed>().ok())
            .filter(|a| a.fields.iter().any(|f| f == "stage_history"))
            .collect()
    };
    assert!(eventually(Duration::from_secs(20), || async { !of_history().is_empty() }).await, "no access recorded");
    let access = of_history().remove(0);
    assert_eq!((access.record_id.as_str(), access.purpose.as_str()), (case_id.as_str(), "case_management"));
    accesses.finish().await;
    served.server.stop().await;
});

fn intervention(case_id: &str, provider: &str) -> pb::RecordInterventionRequest {
    pb::RecordInterventionRequest {
        intervention: Some(pb::Intervention {
            case_id: case_id.to_owned(),
            service_type: "victim_advocacy".into(),
            delivered_on: Some(Date { year: 2026, month: 1, day: 1 }),
            units: 1.0,
            unit_type: UnitType::Sessions as i32,
            provider_id: provider.to_owned(),
            ..Default::default()
        }),
    }
}

async fn listed(client: &mut Client, case_id: &str) -> Vec<String> {
    let request = pb::ListInterventionsRequest { case_id: case_id.to_owned(), ..Default::default() };
    let answer = client.list_interventions(request).await.expect("list").into_inner();
    answer.interventions.into_iter().map(|i| i.intervention_id).collect()
}

both_engines!(its_recorder_withdraws_an_intervention_right_after_and_nobody_else_ever, |engine| async move {
    let served = Served::start(engine).await;
    let case_id = served.open_case(Site::SouthLosAngeles).await;
    let mut maria = as_user(&served, MARIA, Role::CaseManager).await;
    let mut jo = as_user(&served, JO, Role::CaseManager).await;
    let recorded =
        maria.record_intervention(intervention(&case_id, ROUTED_PARTNER)).await.expect("recorded").into_inner();
    let id = recorded.intervention_id;
    assert_eq!(listed(&mut maria, &case_id).await, std::slice::from_ref(&id));
    let withdraw = |id: &str| pb::WithdrawInterventionRequest { intervention_id: id.to_owned() };

    // Someone else may not; the recorder may, right after; then it is no longer listed.
    let refused = jo.withdraw_intervention(withdraw(&id)).await.expect_err("not the recorder");
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(refused.message().contains("only the person who recorded"), "{}", refused.message());
    served.clock.advance(chrono::Duration::minutes(10));
    let undone = maria.withdraw_intervention(withdraw(&id)).await.expect("undone").into_inner();
    assert_eq!(undone.intervention.expect("intervention").intervention_id, id);
    assert!(listed(&mut maria, &case_id).await.is_empty());
    let again = maria.withdraw_intervention(withdraw(&id)).await.expect_err("twice");
    assert_eq!(again.code(), Code::FailedPrecondition);
    let withdrawn = served.published(1, |e| e.event_type == "intervention.withdrawn").await;
    let event: events::InterventionWithdrawn = withdrawn[0].payload_as().expect("payload");
    assert_eq!((event.intervention_id.as_str(), event.case_id.as_str()), (id.as_str(), case_id.as_str()));
    assert_eq!(event.service_type, "victim_advocacy");

    // Later than 30 minutes it stays on the record.
    let late = maria.record_intervention(intervention(&case_id, ROUTED_PARTNER)).await.expect("recorded");
    let late = late.into_inner().intervention_id;
    served.clock.advance(chrono::Duration::minutes(31));
    let refused = maria.withdraw_intervention(withdraw(&late)).await.expect_err("too late");
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(refused.message().contains("30 minutes"), "{}", refused.message());
    assert_eq!(listed(&mut maria, &case_id).await, std::slice::from_ref(&late));

    // An unknown id, and one a partner does not serve, are not found; a malformed one is invalid.
    let unknown = wf_types::InterventionId::generate().to_string();
    assert_eq!(maria.withdraw_intervention(withdraw(&unknown)).await.expect_err("unknown").code(), Code::NotFound);
    let mut stranger = served.partner("org_00000000000000000000000000000bad").await;
    let hidden = stranger.withdraw_intervention(withdraw(&late)).await.expect_err("stranger");
    assert_eq!(hidden.code(), Code::NotFound);
    let malformed = maria.withdraw_intervention(withdraw("int_x")).await.expect_err("malformed");
    assert_eq!(malformed.code(), Code::InvalidArgument);
    served.server.stop().await;
});
