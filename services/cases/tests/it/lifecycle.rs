//! Acceptance 1: every move outside the lifecycle table is refused with FAILED_PRECONDITION naming
//! the current stage and the allowed next stages; every move in it emits its event.

use tonic::Code;
use wf_auth::Role;
use wf_cases::domain::lifecycle::{self, Move, STAGES, TRANSITIONS};
use wf_cases::domain::stage_code;
use wf_proto::cases::v1::{self as pb, CaseClosureReason, CaseStage};
use wf_proto::common::v1::Site;
use wf_proto::events::v1 as events;
use wf_testkit::both_engines;

use crate::served::{Client, Served};

const MOVES: [Move; 3] = [Move::Stage, Move::Close, Move::Reopen];

/// The moves that bring a new case (in engagement) to `stage`.
fn path_to(stage: CaseStage) -> Vec<(CaseStage, Move)> {
    use CaseStage::*;
    let main = [(Enrolled, Move::Stage), (Assessed, Move::Stage), (Plan, Move::Stage), (Active, Move::Stage)];
    let mut path: Vec<(CaseStage, Move)> = Vec::new();
    let through_active = |path: &mut Vec<(CaseStage, Move)>| path.extend(main);
    match stage {
        Engagement => {}
        Enrolled | Assessed | Plan | Active => {
            path.extend(main.iter().take_while(|(s, _)| *s != stage).copied());
            path.push((stage, Move::Stage));
        }
        Missing => {
            through_active(&mut path);
            path.push((Missing, Move::Stage));
        }
        FollowUp => {
            through_active(&mut path);
            path.push((FollowUp, Move::Stage));
        }
        Closed | PostExitFollowUp => {
            through_active(&mut path);
            path.push((FollowUp, Move::Stage));
            path.push((Closed, Move::Close));
            if stage == PostExitFollowUp {
                path.push((PostExitFollowUp, Move::Stage));
            }
        }
        Unspecified => unreachable!("no case is in UNSPECIFIED"),
    }
    path
}

async fn make_move(client: &mut Client, case_id: &str, to: CaseStage, by: Move) -> Result<pb::Case, tonic::Status> {
    let case = match by {
        Move::Stage => {
            client
                .transition_stage(pb::TransitionStageRequest {
                    case_id: case_id.to_owned(),
                    to_stage: to as i32,
                    reason: "test_move".into(),
                    effective_at: None,
                    expected_updated_at: None,
                })
                .await?
                .into_inner()
                .case
        }
        Move::Close => {
            // CloseCase always asks for `closed`; its target is fixed by the RPC.
            if to != CaseStage::Closed {
                return Err(tonic::Status::invalid_argument("CloseCase only closes"));
            }
            client
                .close_case(pb::CloseCaseRequest {
                    case_id: case_id.to_owned(),
                    reason: CaseClosureReason::GoalsMet as i32,
                    ..Default::default()
                })
                .await?
                .into_inner()
                .case
        }
        Move::Reopen => {
            if to != CaseStage::Engagement {
                return Err(tonic::Status::invalid_argument("ReopenCase only reopens"));
            }
            client
                .reopen_case(pb::ReopenCaseRequest {
                    case_id: case_id.to_owned(),
                    reason: "youth_returned".into(),
                    ..Default::default()
                })
                .await?
                .into_inner()
                .case
        }
    };
    Ok(case.expect("case in response"))
}

async fn case_in(served: &Served, client: &mut Client, stage: CaseStage) -> String {
    let case_id = served.open_case(Site::SouthLosAngeles).await;
    for (to, by) in path_to(stage) {
        let case = make_move(client, &case_id, to, by).await.unwrap_or_else(|s| panic!("{to:?} by {by:?}: {s:?}"));
        assert_eq!(case.stage, to as i32);
    }
    case_id
}

async fn stage_of(client: &mut Client, case_id: &str) -> i32 {
    let case =
        client.get_case(pb::GetCaseRequest { case_id: case_id.to_owned(), ..Default::default() }).await.expect("get");
    case.into_inner().case.expect("case").stage
}

both_engines!(every_move_outside_the_table_is_refused_and_every_move_in_it_is_announced, |engine| async move {
    let served = Served::start(engine).await;
    let mut client = served.client(Role::CaseManager).await;

    let mut refused = 0;
    let mut applied: Vec<(String, CaseStage, CaseStage, Move)> = Vec::new();
    for from in STAGES {
        let case_id = case_in(&served, &mut client, from).await;
        for to in STAGES {
            // CloseCase can only ask for `closed` and ReopenCase for `engagement`: the other pairs
            // of those RPCs are not expressible, and are refused by the table in the unit tests.
            for by in MOVES {
                let expressible = match by {
                    Move::Stage => true,
                    Move::Close => to == CaseStage::Closed,
                    Move::Reopen => to == CaseStage::Engagement,
                };
                if !expressible || TRANSITIONS.contains(&(from, to, by)) {
                    continue;
                }
                let status = make_move(&mut client, &case_id, to, by).await.expect_err("refused");
                assert_eq!(status.code(), Code::FailedPrecondition, "{from:?} → {to:?} by {by:?}");
                let expected = lifecycle::check(from, to, by).expect_err("refused by the table").to_string();
                assert_eq!(status.message(), expected);
                assert!(status.message().starts_with(&format!("case is in stage {};", stage_code(from))));
                refused += 1;
            }
        }
        assert_eq!(stage_of(&mut client, &case_id).await, from as i32, "refusals change nothing");
        for (next, by) in lifecycle::allowed_next(from) {
            let case_id = case_in(&served, &mut client, from).await;
            let case = make_move(&mut client, &case_id, next, by).await.expect("allowed move");
            assert_eq!(case.stage, next as i32);
            applied.push((case_id, from, next, by));
        }
    }
    // 9 stages × 9 targets by TransitionStage, plus 9 closes and 9 reopens, minus the table's 17.
    assert_eq!(refused, 9 * 9 + 9 + 9 - TRANSITIONS.len());
    assert_eq!(applied.len(), TRANSITIONS.len());

    // One event per successful move: the paths' moves plus the applied ones, and none for refusals.
    let moves_made: usize = STAGES.iter().map(|s| path_to(*s).len()).sum::<usize>()
        + TRANSITIONS.iter().map(|(from, _, _)| path_to(*from).len() + 1).sum::<usize>();
    let moved = served
        .published(moves_made, |e| {
            matches!(e.event_type.as_str(), "case.stage_changed" | "case.closed" | "case.reopened")
        })
        .await;
    assert_eq!(moved.len(), moves_made);

    // Each applied move was announced by its own event.
    for (case_id, from, to, by) in &applied {
        let expected_type = match by {
            Move::Stage => "case.stage_changed",
            Move::Close => "case.closed",
            Move::Reopen => "case.reopened",
        };
        let of_case: Vec<_> =
            moved.iter().filter(|e| e.aggregate_id == *case_id && e.event_type == expected_type).collect();
        match by {
            Move::Stage => {
                let matching: Vec<events::CaseStageChanged> = of_case
                    .iter()
                    .map(|e| e.payload_as::<events::CaseStageChanged>().expect("payload"))
                    .filter(|changed| (changed.from_stage, changed.to_stage) == (*from as i32, *to as i32))
                    .collect();
                assert_eq!(matching.len(), 1, "{from:?} → {to:?}");
                assert_eq!(matching[0].reason, "test_move");
            }
            Move::Close => {
                assert_eq!(of_case.len(), 1, "{from:?} closed");
                let closed: events::CaseClosed = of_case[0].payload_as().expect("payload");
                assert_eq!(closed.reason, CaseClosureReason::GoalsMet as i32);
                assert!(closed.closed_at.is_some() && closed.exited_at.is_some());
            }
            Move::Reopen => {
                assert_eq!(of_case.len(), 1, "{from:?} reopened");
                let reopened: events::CaseReopened = of_case[0].payload_as().expect("payload");
                assert_eq!(reopened.case_id, *case_id);
                assert_eq!(reopened.reason, "youth_returned");
            }
        }
    }
    served.server.stop().await;
});

both_engines!(enrollment_sets_the_assessment_due_date_and_missing_episodes_have_start_and_end, |engine| async move {
    let served = Served::start(engine).await;
    let mut client = served.client(Role::CaseManager).await;
    let case_id = served.open_case(Site::SanFernandoValley).await;
    let enrolled = make_move(&mut client, &case_id, CaseStage::Enrolled, Move::Stage).await.expect("enroll");
    let enrolled_at = enrolled.enrolled_at.expect("enrolled_at");
    assert_eq!(enrolled_at.seconds * 1_000_000, crate::served::START_MICROS, "the service's clock");
    assert_eq!(enrolled.assessment_due.expect("due").seconds - enrolled_at.seconds, 90 * 86_400);
    for to in [CaseStage::Assessed, CaseStage::Plan, CaseStage::Active, CaseStage::Missing] {
        make_move(&mut client, &case_id, to, Move::Stage).await.expect("move");
    }
    served.clock.advance_days(3);
    make_move(&mut client, &case_id, CaseStage::Active, Move::Stage).await.expect("found");
    let episodes = wf_cases::store::lifecycle::missing_episodes(&served.db, &case_id).await.expect("episodes");
    assert_eq!(episodes.len(), 1);
    assert_eq!(episodes[0].ended_at.map(|end| end - episodes[0].started_at), Some(3 * 86_400_000_000));
    let history = wf_cases::store::lifecycle::history(&served.db, &case_id).await.expect("history");
    assert_eq!(history.len(), 6);
    assert_eq!(history[0].recorded_by, "test-case_manager");

    // Not a case: NOT_FOUND; not a stage: INVALID_ARGUMENT naming the field.
    let status = make_move(&mut client, "case_0192f1c4d5e67a8b9c0d1e2f3a4b5c6d", CaseStage::Enrolled, Move::Stage)
        .await
        .expect_err("no such case");
    assert_eq!(status.code(), Code::NotFound);
    let status = client
        .transition_stage(pb::TransitionStageRequest { case_id: case_id.clone(), to_stage: 42, ..Default::default() })
        .await
        .expect_err("bad stage");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(status.message().contains("to_stage"), "{}", status.message());
    // Partners may not move cases.
    let mut partner = served.partner("org_0192f1c4d5e67a8b9c0d1e2f3a4b5c6d").await;
    let status = make_move(&mut partner, &case_id, CaseStage::FollowUp, Move::Stage).await.expect_err("partner");
    assert_eq!(status.code(), Code::PermissionDenied);
    served.server.stop().await;
});
