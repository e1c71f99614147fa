//! `ClaimCase`: a case manager takes a case nobody holds for themselves, under the assignment's
//! rules (here: the caseload cap), and never a case someone holds; the claim is announced as
//! `case.assigned` with reason "claimed".

use wf_auth::Role;
use wf_cases::domain::CaseStatus;
use wf_cases::events::RoutedOutcome;
use wf_proto::cases::v1 as pb;
use wf_proto::cases::v1::case_service_server::CaseService;
use wf_proto::common::v1::Site;
use wf_testkit::both_engines;
use wf_types::ReferralId;

use crate::harness::{Harness, TestDb, request_as_user, roster};

const RIVERA: &str = "cm_000000000000000000000000000000a2";
const RIVERA_USER: &str = "usr_rivera_claims";

both_engines!(a_case_manager_claims_a_case_nobody_holds_within_their_cap, |engine| async move {
    let test = TestDb::new(engine).await;
    // One South Los Angeles case manager with room for one case, linked to a sign-in.
    let text = roster(&[(RIVERA, "south_los_angeles", 1)])
        .replace("max_caseload = 1\n", &format!("max_caseload = 1\nuser_id = \"{RIVERA_USER}\"\n"));
    let harness = Harness::start(&test, Some(&text)).await;
    let first = harness.route(&ReferralId::generate(), Site::SouthLosAngeles, false).await;
    let RoutedOutcome::Opened { case_id: held, status: CaseStatus::Assigned } = first else {
        panic!("the first case goes to the one case manager: {first:?}")
    };
    let second = harness.route(&ReferralId::generate(), Site::SouthLosAngeles, false).await;
    let RoutedOutcome::Opened { case_id: waiting, status: CaseStatus::AwaitingAssignment } = second else {
        panic!("the second waits: the cap is reached: {second:?}")
    };
    let api = harness.cases.api();
    let claim = |case_id: &str, user: &str| {
        request_as_user(Role::CaseManager, user, pb::ClaimCaseRequest { case_id: case_id.into(), ..Default::default() })
    };

    // At the cap: refused, saying why; a case someone holds is never claimed; nor by a sign-in
    // the roster does not know.
    let full = api.claim_case(claim(waiting.as_str(), RIVERA_USER)).await.unwrap_err();
    assert_eq!(full.code(), tonic::Code::FailedPrecondition, "{full:?}");
    assert!(full.message().starts_with("you cannot take the case"), "{}", full.message());
    let taken = api.claim_case(claim(held.as_str(), "usr_someone")).await.unwrap_err();
    assert_eq!(taken.code(), tonic::Code::FailedPrecondition);
    assert!(taken.message().contains(&format!("held by {RIVERA}")), "{}", taken.message());
    let stranger = api.claim_case(claim(waiting.as_str(), "usr_not_on_the_roster")).await.unwrap_err();
    assert!(stranger.message().contains("linked to no case manager"), "{}", stranger.message());
    let missing = api.claim_case(claim("", RIVERA_USER)).await.unwrap_err();
    assert_eq!(missing.code(), tonic::Code::InvalidArgument);

    // The held case closes: there is room, and the claim goes through.
    let close = pb::CloseCaseRequest {
        case_id: held.to_string(),
        reason: pb::CaseClosureReason::GoalsMet as i32,
        exit_living_situation: wf_proto::common::v1::LivingSituation::Unspecified as i32,
        ..Default::default()
    };
    api.close_case(request_as_user(Role::CaseManager, RIVERA_USER, close)).await.expect("closed");
    let collector = harness.collect_case_events().await;
    let claimed = api.claim_case(claim(waiting.as_str(), RIVERA_USER)).await.expect("claimed").into_inner();
    let case = claimed.case.expect("case");
    assert_eq!((case.case_manager_id.as_str(), case.updated_by.as_str()), (RIVERA, RIVERA_USER));
    harness.relay_round().await;
    let events = collector.finish().await;
    let assigned: Vec<wf_proto::events::v1::CaseAssigned> =
        events.iter().filter(|e| e.event_type == "case.assigned").filter_map(|e| e.payload_as().ok()).collect();
    assert!(
        assigned.iter().any(|a| a.case_id == waiting.as_str() && a.reason == "claimed" && a.case_manager_id == RIVERA),
        "{assigned:?}"
    );
    // Claimed once: a second claim finds it held.
    let again = api.claim_case(claim(waiting.as_str(), RIVERA_USER)).await.unwrap_err();
    assert!(again.message().contains("held by"), "{}", again.message());
});
