//! `CaseService` called in process, with the principal the auth interceptor would attach.

use tonic::Code;
use wf_auth::Role;
use wf_proto::cases::v1::{self as pb, case_service_server::CaseService};
use wf_proto::common::v1::Site;
use wf_testkit::both_engines;
use wf_types::{CaseId, ReferralId};

use crate::harness::{Harness, TestDb, request_as, roster};

const FIRST: &str = "cm_000000000000000000000000000000a1";
const SECOND: &str = "cm_000000000000000000000000000000a2";

async fn open(harness: &Harness, site: Site, practice: bool) -> String {
    let referral_id = ReferralId::generate();
    match harness.route(&referral_id, site, practice).await {
        wf_cases::events::RoutedOutcome::Opened { case_id, .. } => case_id,
        other => panic!("expected a new case, got {other:?}"),
    }
}

both_engines!(get_case_returns_the_opened_case_and_refuses_bad_ids, |engine| async move {
    let test = TestDb::new(engine).await;
    let harness = Harness::start(&test, Some(&roster(&[(FIRST, "south_los_angeles", 1)]))).await;
    let api = harness.cases.api();
    let assigned = open(&harness, Site::SouthLosAngeles, false).await;
    let waiting = open(&harness, Site::SouthLosAngeles, false).await;

    let case = api
        .get_case(request_as(Role::CaseManager, pb::GetCaseRequest { case_id: assigned.clone(), ..Default::default() }))
        .await
        .expect("get_case")
        .into_inner()
        .case
        .expect("case");
    assert_eq!(case.case_id, assigned);
    assert_eq!(case.case_manager_id, FIRST);
    assert_eq!(case.site, Site::SouthLosAngeles as i32);
    assert_eq!(case.stage, pb::CaseStage::Engagement as i32);
    assert_eq!(case.referral_ids, vec![case.referral_id.clone()]);
    assert!(case.assigned_at.is_some() && case.updated_at.is_some());

    let case = api
        .get_case(request_as(Role::Supervisor, pb::GetCaseRequest { case_id: waiting, ..Default::default() }))
        .await
        .unwrap()
        .into_inner()
        .case
        .unwrap();
    assert_eq!(case.case_manager_id, "", "over cap: awaiting assignment");
    assert_eq!(case.assigned_at, None);

    let status = api
        .get_case(request_as(
            Role::CaseManager,
            pb::GetCaseRequest { case_id: "case_nope".into(), ..Default::default() },
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(status.message().starts_with("case_id: expected `case_`"), "{}", status.message());
    let status = api
        .get_case(request_as(
            Role::CaseManager,
            pb::GetCaseRequest { case_id: CaseId::generate().to_string(), ..Default::default() },
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
});

both_engines!(list_cases_filters_and_pages_in_creation_order, |engine| async move {
    let test = TestDb::new(engine).await;
    let two = roster(&[(FIRST, "south_los_angeles", 50), (SECOND, "san_fernando_valley", 50)]);
    let harness = Harness::start(&test, Some(&two)).await;
    let api = harness.cases.api();
    let mut south = Vec::new();
    for _ in 0..5 {
        south.push(open(&harness, Site::SouthLosAngeles, false).await);
    }
    let valley = open(&harness, Site::SanFernandoValley, false).await;
    let practice = open(&harness, Site::SouthLosAngeles, true).await;

    let list = |req: pb::ListCasesRequest| {
        let api = api.clone();
        async move { api.list_cases(request_as(Role::Supervisor, req)).await }
    };
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = list(pb::ListCasesRequest {
            case_manager_id: FIRST.into(),
            page_size: 2,
            page_token: token.clone(),
            ..Default::default()
        })
        .await
        .expect("page")
        .into_inner();
        assert!(page.cases.len() <= 2);
        seen.extend(page.cases.into_iter().map(|case| case.case_id));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(seen, south, "every case of FIRST once, oldest first, practice left out");

    let all = list(pb::ListCasesRequest { include_practice: true, ..Default::default() }).await.unwrap().into_inner();
    assert_eq!(all.cases.len(), 7);
    assert!(all.next_page_token.is_empty());
    assert!(all.cases.iter().any(|case| case.case_id == practice && case.practice));
    let by_site = list(pb::ListCasesRequest { site: Site::SanFernandoValley as i32, ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(by_site.cases.iter().map(|c| c.case_id.clone()).collect::<Vec<_>>(), vec![valley.clone()]);
    let by_stage = list(pb::ListCasesRequest {
        stages: vec![pb::CaseStage::Closed as i32, pb::CaseStage::Active as i32],
        ..Default::default()
    })
    .await
    .unwrap()
    .into_inner();
    assert!(by_stage.cases.is_empty(), "every case is still in engagement");
    let one = list(pb::ListCasesRequest { referral_id: all.cases[5].referral_id.clone(), ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(one.cases.len(), 1);

    let status = list(pb::ListCasesRequest {
        case_manager_id: "CM-SLA-1".into(),
        stages: vec![0],
        page_size: -1,
        page_token: "garbage".into(),
        ..Default::default()
    })
    .await
    .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    for field in ["case_manager_id:", "stages[0]:", "page_size:", "page_token:"] {
        assert!(status.message().contains(field), "{field} in {}", status.message());
    }
    // Nothing is overdue on new cases: none is incomplete.
    let incomplete = list(pb::ListCasesRequest { incomplete_only: true, ..Default::default() }).await.expect("list");
    assert!(incomplete.into_inner().cases.is_empty());
});

both_engines!(list_case_managers_shows_the_roster_with_live_caseloads, |engine| async move {
    let test = TestDb::new(engine).await;
    let harness = Harness::start(&test, None).await;
    let api = harness.cases.api();
    open(&harness, Site::SanFernandoValley, false).await;
    let list = |req: pb::ListCaseManagersRequest| {
        let api = api.clone();
        async move { api.list_case_managers(request_as(Role::CaseManager, req)).await.expect("list").into_inner() }
    };

    let active = list(pb::ListCaseManagersRequest::default()).await;
    assert_eq!(active.case_managers.len(), 5, "the demo roster has one case manager on leave");
    let everyone = list(pb::ListCaseManagersRequest { include_inactive: true, ..Default::default() }).await;
    assert_eq!(everyone.case_managers.len(), 6);
    assert_eq!(everyone.case_managers.iter().map(|cm| cm.active_caseload).sum::<i32>(), 1);

    let valley = list(pb::ListCaseManagersRequest { site: Site::SanFernandoValley as i32, ..Default::default() }).await;
    let valley_ids: Vec<&str> = valley.case_managers.iter().map(|cm| cm.case_manager_id.as_str()).collect();
    // CM-SFV-1 and the countywide CM-CW-1 (CM-SFV-2 is on leave).
    assert_eq!(valley_ids, ["cm_8af89721ad8b49e79cc03ce5f8f1828c", "cm_98aa5415412f4e1785ee6a9f2b75e89e"]);
    // Both had no cases, so the valley referral went to the lower id: the countywide case manager.
    let countywide = &valley.case_managers[0];
    assert_eq!((countywide.active_caseload, countywide.max_caseload), (1, 8));
    assert_eq!(countywide.supervisor_id, "cm_4e59abe7becd4c67875628da132a50ed");
    assert_eq!(countywide.sites, [Site::Countywide as i32]);
    assert_eq!(valley.case_managers[1].active_caseload, 0);

    let spanish = list(pb::ListCaseManagersRequest { language: "es".into(), ..Default::default() }).await;
    assert!(spanish.case_managers.iter().all(|cm| cm.languages.iter().any(|l| l == "es")));
    assert_eq!(spanish.case_managers.len(), 4);

    let first = list(pb::ListCaseManagersRequest { page_size: 4, ..Default::default() }).await;
    assert_eq!(first.case_managers.len(), 4);
    let rest =
        list(pb::ListCaseManagersRequest { page_size: 4, page_token: first.next_page_token, ..Default::default() })
            .await;
    assert_eq!(rest.case_managers.len(), 1);
    assert!(rest.next_page_token.is_empty());
});

both_engines!(callers_are_authorized_before_anything_else, |engine| async move {
    let test = TestDb::new(engine).await;
    let harness = Harness::start(&test, None).await;
    let api = harness.cases.api();

    let status = api
        .get_case(tonic::Request::new(pb::GetCaseRequest { case_id: "bad".into(), ..Default::default() }))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    for role in [Role::Hotline, Role::Auditor, Role::Admin, Role::ProgramManager] {
        let status = api
            .get_case(request_as(role, pb::GetCaseRequest { case_id: "bad".into(), ..Default::default() }))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::PermissionDenied, "{role}");
    }
    // A partner reads the cases it serves: past the role check, the malformed id is refused.
    let status = api
        .get_case(request_as(Role::Partner, pb::GetCaseRequest { case_id: "bad".into(), ..Default::default() }))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let status = api.list_cases(request_as(Role::Hotline, pb::ListCasesRequest::default())).await.unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);

    // The roster is the supervisors' and the program manager's: the role is checked before the request.
    for role in [Role::Auditor, Role::CaseManager, Role::Partner, Role::Hotline] {
        let status = api.set_on_call(request_as(role, pb::SetOnCallRequest::default())).await.unwrap_err();
        assert_eq!(status.code(), Code::PermissionDenied, "{role}");
        assert_eq!(status.message(), format!("role {role} may not manage the roster"));
        let status =
            api.upsert_case_manager(request_as(role, pb::UpsertCaseManagerRequest::default())).await.unwrap_err();
        assert_eq!(status.code(), Code::PermissionDenied, "{role}");
    }
    for role in [Role::Supervisor, Role::ProgramManager] {
        let status = api.set_on_call(request_as(role, pb::SetOnCallRequest::default())).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{role}: past the role check, the empty id is refused");
    }
    let status = api.close_case(request_as(Role::Auditor, pb::CloseCaseRequest::default())).await.unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
});

both_engines!(supervisors_reassign_with_a_reason_and_caps_hold, |engine| async move {
    let test = TestDb::new(engine).await;
    let harness =
        Harness::start(&test, Some(&roster(&[(FIRST, "south_los_angeles", 1), (SECOND, "south_los_angeles", 1)])))
            .await;
    let api = harness.cases.api();
    let case_id = open(&harness, Site::SouthLosAngeles, false).await;
    let request = |case_manager_id: &str, reason: pb::ReassignReason| pb::ReassignCaseRequest {
        case_id: case_id.clone(),
        case_manager_id: case_manager_id.to_owned(),
        reason: reason as i32,
        detail: String::new(),
        expected_updated_at: None,
    };

    let status = api
        .reassign_case(request_as(Role::CaseManager, request("", pb::ReassignReason::YouthRequest)))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    assert_eq!(status.message(), "role case_manager may not reassign cases");
    let status = api
        .reassign_case(request_as(Role::Supervisor, request("", pb::ReassignReason::Unspecified)))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let status = api
        .reassign_case(request_as(Role::Supervisor, request(FIRST, pb::ReassignReason::Language)))
        .await
        .unwrap_err();
    assert_eq!(
        (status.code(), status.message()),
        (Code::FailedPrecondition, &*format!("case_manager_id {FIRST} already owns the case"))
    );

    // Empty target: the rule picks anyone but the current owner.
    let moved = api
        .reassign_case(request_as(Role::Supervisor, request("", pb::ReassignReason::YouthRequest)))
        .await
        .expect("reassign")
        .into_inner()
        .case
        .unwrap();
    assert_eq!(moved.case_manager_id, SECOND);
    // FIRST has room again; SECOND is at the cap of one, so a second case cannot be pushed onto them.
    let other = open(&harness, Site::SouthLosAngeles, false).await;
    let status = api
        .reassign_case(request_as(
            Role::Supervisor,
            pb::ReassignCaseRequest {
                case_id: other,
                case_manager_id: SECOND.into(),
                reason: pb::ReassignReason::CaseloadBalance as i32,
                detail: String::new(),
                expected_updated_at: None,
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(status.message(), format!("case_manager_id {SECOND} is at their caseload cap (1/1)"));
    let history = wf_cases::store::assignments_of(&harness.db, &case_id).await.unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[1].reason, "reassigned by supervisor: youth_request (0/1)");
    assert_eq!(
        wf_events::outbox::pending_count(&harness.db).await.unwrap(),
        3,
        "two first assignments and one reassignment"
    );
});
