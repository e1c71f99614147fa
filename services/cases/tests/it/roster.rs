//! The roster through the API: UpsertCaseManager and SetOnCall (who may, what is refused and
//! why, the events), and what leave and on-call do to assignment.

use tonic::Code;
use wf_auth::Role;
use wf_events::Envelope;
use wf_proto::cases::v1 as pb;
use wf_proto::common::v1::{Site, TriageTier};
use wf_proto::events::v1 as events;
use wf_testkit::both_engines;
use wf_types::{ReferralId, YouthId};

use crate::harness::{referral_received_for, referral_routed, roster};
use crate::served::{Client, START_MICROS, Served, case_of};

const A: &str = "cm_0000000000000000000000000000000a";
const B: &str = "cm_0000000000000000000000000000000b";
const C: &str = "cm_0000000000000000000000000000000c";
const SUPERVISOR: &str = "cm_000000000000000000000000000000f1";
const HOUR: i64 = 3_600_000_000;
const DAY: i64 = 24 * HOUR;

fn ts(micros: i64) -> Option<prost_types::Timestamp> {
    Some(wf_proto::time::timestamp_from_micros(micros))
}

fn entry(id: &str, code: &str, cap: i32) -> pb::CaseManager {
    pb::CaseManager {
        case_manager_id: id.to_owned(),
        display_code: code.to_owned(),
        display_name: "Test Case Manager".to_owned(),
        sites: vec![Site::SouthLosAngeles as i32],
        languages: vec!["en".to_owned()],
        max_caseload: cap,
        active: true,
        supervisor_id: SUPERVISOR.to_owned(),
        ..Default::default()
    }
}

async fn upsert(client: &mut Client, case_manager: pb::CaseManager) -> Result<pb::CaseManager, tonic::Status> {
    let response =
        client.upsert_case_manager(pb::UpsertCaseManagerRequest { case_manager: Some(case_manager) }).await?;
    Ok(response.into_inner().case_manager.expect("case manager"))
}

fn violations(status: &tonic::Status) -> String {
    format!("{status:?}")
}

/// Routes a referral for a new youth with `tier`, and returns the owner of the case it opened.
pub async fn route(served: &Served, tier: TriageTier) -> String {
    let referral_id = ReferralId::generate();
    let mut received = referral_received_for(&referral_id, &YouthId::generate(), Site::SouthLosAngeles, "");
    let mut payload: events::ReferralReceived = received.payload_as().expect("payload");
    payload.triage_tier = tier as i32;
    received.payload = prost::Message::encode_to_vec(&payload);
    let mut routed = referral_routed(&referral_id, Site::SouthLosAngeles, false);
    let mut payload: events::ReferralRouted = routed.payload_as().expect("payload");
    payload.triage_tier = tier as i32;
    routed.payload = prost::Message::encode_to_vec(&payload);
    served.server.publish(&received).await;
    served.server.publish(&routed).await;
    case_of(&mut served.client(Role::Supervisor).await, &referral_id).await.case_manager_id
}

both_engines!(the_roster_is_edited_through_the_api_and_kept_across_restarts, |engine| async move {
    let served =
        Served::start_with_roster(engine, &roster(&[(A, "south_los_angeles", 2), (B, "south_los_angeles", 2)])).await;
    let mut manager = served.client(Role::ProgramManager).await;

    // A new case manager: the id is generated, the derived fields are filled in.
    let created = upsert(&mut manager, pb::CaseManager { case_manager_id: String::new(), ..entry("", "CM-NEW-1", 3) })
        .await
        .expect("create");
    assert!(created.case_manager_id.starts_with("cm_"));
    assert_eq!((created.display_code.as_str(), created.max_caseload, created.active_caseload), ("CM-NEW-1", 3, 0));
    assert!(!created.on_call && !created.on_leave && !created.supervisor);
    let changed = served.published(1, |e| e.event_type == "roster.case_manager_changed").await;
    let payload: events::CaseManagerChanged = changed[0].payload_as().expect("payload");
    assert!(payload.created);
    assert_eq!((payload.case_manager_id.as_str(), payload.max_caseload), (created.case_manager_id.as_str(), 3));
    assert_eq!(payload.changed_by, "test-program_manager");
    assert!(!contains(&changed[0], "Test Case Manager"), "staff names stay in the roster");
    assert!(!payload.user_id_changed && payload.user_id.is_empty());

    // Linking a login is announced (privileged notes follow it); a second entry may not take it.
    let linked = pb::CaseManager { user_id: "test-user-new".into(), ..entry(&created.case_manager_id, "CM-NEW-1", 3) };
    upsert(&mut manager, linked).await.expect("link a login");
    let changed = served.published(2, |e| e.event_type == "roster.case_manager_changed").await;
    let payload: events::CaseManagerChanged = changed[1].payload_as().expect("payload");
    assert!(payload.user_id_changed);
    assert_eq!(payload.user_id, "test-user-new");
    let status = upsert(&mut manager, pb::CaseManager { user_id: "test-user-new".into(), ..entry(A, "CM-T-0", 2) })
        .await
        .expect_err("a taken login");
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert!(status.message().contains("user_id"), "{}", status.message());

    // Every problem at once, each with its path.
    let bad = pb::CaseManager {
        sites: vec![],
        languages: vec!["EN".into()],
        max_caseload: 0,
        leave: vec![pb::RosterPeriod { starts_at: ts(START_MICROS), ends_at: ts(START_MICROS - DAY) }],
        ..entry(C, "bad code", 3)
    };
    let status = upsert(&mut manager, bad).await.expect_err("invalid");
    assert_eq!(status.code(), Code::InvalidArgument);
    for field in [
        "case_manager.display_code",
        "case_manager.sites",
        "case_manager.languages[0]",
        "case_manager.max_caseload",
        "case_manager.leave[0].ends_at",
    ] {
        assert!(violations(&status).contains(field), "{field}: {status:?}");
    }
    // Well formed, but the roster does not allow it.
    let status = upsert(&mut manager, pb::CaseManager { supervisor_id: A.into(), ..entry(C, "CM-C", 3) })
        .await
        .expect_err("a case manager is not a supervisor");
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert_eq!(status.message(), format!("supervisor_id {A} is not a supervisor in the roster"));
    let status = upsert(&mut manager, entry(C, "CM-T-0", 3)).await.expect_err("taken code");
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert!(status.message().contains("already used"), "{}", status.message());
    // Case managers read the roster but do not edit it.
    let mut case_manager = served.client(Role::CaseManager).await;
    let status = upsert(&mut case_manager, entry(C, "CM-C", 3)).await.expect_err("not allowed");
    assert_eq!(status.code(), Code::PermissionDenied);

    // A supervisor entry, listed only when asked for.
    let supervisor = pb::CaseManager {
        supervisor: true,
        languages: vec![],
        max_caseload: 0,
        supervisor_id: String::new(),
        sites: vec![Site::Countywide as i32],
        ..entry("cm_000000000000000000000000000000f2", "SUP-T-2", 0)
    };
    let mut supervisor_client = served.client(Role::Supervisor).await;
    assert!(upsert(&mut supervisor_client, supervisor).await.expect("supervisor").supervisor);
    let list = |include_supervisors| pb::ListCaseManagersRequest { include_supervisors, ..Default::default() };
    let listed = case_manager.list_case_managers(list(false)).await.expect("list").into_inner().case_managers;
    assert_eq!(listed.len(), 3);
    let listed = case_manager.list_case_managers(list(true)).await.expect("list").into_inner().case_managers;
    assert_eq!(listed.iter().filter(|cm| cm.supervisor).count(), 2);
    let listed = manager.list_case_managers(list(true)).await.expect("the program manager reads the roster");
    assert_eq!(listed.into_inner().case_managers.len(), 5);
    let status = served.client(Role::Hotline).await.list_case_managers(list(false)).await.expect_err("hotline");
    assert_eq!(status.code(), Code::PermissionDenied);

    // A file entry edited through the API keeps the edit when the file is read again at a restart.
    upsert(&mut manager, entry(A, "CM-T-0", 7)).await.expect("raise the cap");
    let served = served.restart_at(START_MICROS + DAY).await;
    let mut reader = served.client(Role::CaseManager).await;
    let listed = reader.list_case_managers(list(true)).await.expect("list").into_inner().case_managers;
    let cap_of = |id: &str| listed.iter().find(|cm| cm.case_manager_id == id).map(|cm| cm.max_caseload);
    assert_eq!(cap_of(A), Some(7), "the API's edit");
    assert_eq!(cap_of(B), Some(2), "the file's entry");
    assert_eq!(cap_of(&created.case_manager_id), Some(3), "an API entry survives the restart");
    assert_eq!(listed.len(), 5);
    served.server.stop().await;
});

both_engines!(leave_and_on_call_shape_who_gets_a_new_case, |engine| async move {
    let served = Served::start_with_roster(
        engine,
        &roster(&[(A, "south_los_angeles", 5), (B, "south_los_angeles", 5), (C, "south_los_angeles", 5)]),
    )
    .await;
    let mut supervisor = served.client(Role::Supervisor).await;
    let now = START_MICROS;

    // A on leave for ten days: passed over although the lowest id with no cases.
    let on_leave = upsert(
        &mut supervisor,
        pb::CaseManager {
            leave: vec![pb::RosterPeriod { starts_at: ts(now - HOUR), ends_at: ts(now + 10 * DAY) }],
            ..entry(A, "CM-T-0", 5)
        },
    )
    .await
    .expect("leave");
    assert!(on_leave.on_leave && on_leave.active);
    assert_eq!(route(&served, TriageTier::Routine).await, B);

    // B on call for eight hours takes an emergent referral although C has fewer cases.
    let on_call = supervisor
        .set_on_call(pb::SetOnCallRequest {
            case_manager_id: B.into(),
            on_call: false,
            shifts: vec![pb::RosterPeriod { starts_at: ts(now - HOUR), ends_at: ts(now + 8 * HOUR) }],
        })
        .await
        .expect("on call")
        .into_inner()
        .case_manager
        .expect("case manager");
    assert!(on_call.on_call);
    assert_eq!(on_call.on_call_shifts.len(), 1);
    assert_eq!(route(&served, TriageTier::Emergent).await, B);
    let assigned = served.published(2, |e| e.event_type == "case.assigned").await;
    let payload: events::CaseAssigned = assigned[1].payload_as().expect("payload");
    assert_eq!(payload.reason, "on call for an emergent referral (1/5)");
    assert_eq!(route(&served, TriageTier::Routine).await, C, "a routine referral: the usual rule");
    let changed = served.published(1, |e| e.event_type == "roster.on_call_changed").await;
    let payload: events::OnCallChanged = changed[0].payload_as().expect("payload");
    assert_eq!((payload.case_manager_id.as_str(), payload.shifts.len()), (B, 1));

    // After the shift nobody is on call: an emergent referral still goes to someone.
    served.clock.advance_days(1);
    assert_eq!(route(&served, TriageTier::Emergent).await, C);

    // Shifts must end, after they start; only case managers are put on call.
    let status = supervisor
        .set_on_call(pb::SetOnCallRequest {
            case_manager_id: C.into(),
            on_call: true,
            shifts: vec![pb::RosterPeriod { starts_at: ts(now), ends_at: None }],
        })
        .await
        .expect_err("open shift");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(violations(&status).contains("shifts[0].ends_at"), "{status:?}");
    let request = |id: &str| pb::SetOnCallRequest { case_manager_id: id.into(), on_call: true, shifts: vec![] };
    let status = supervisor.set_on_call(request(SUPERVISOR)).await.expect_err("supervisor");
    assert_eq!(status.code(), Code::FailedPrecondition);
    let status = supervisor.set_on_call(request("cm_0000000000000000000000000000000d")).await.expect_err("unknown");
    assert_eq!(status.code(), Code::NotFound);

    // Everyone on leave: the case waits in the supervisors' queue.
    for (id, code) in [(B, "CM-T-1"), (C, "CM-T-2")] {
        let leave = vec![pb::RosterPeriod { starts_at: ts(now), ends_at: None }];
        upsert(&mut supervisor, pb::CaseManager { leave, ..entry(id, code, 5) }).await.expect("leave");
    }
    assert_eq!(route(&served, TriageTier::Routine).await, "", "nobody available: awaiting assignment");

    // Ten days on, A is back from leave and the least loaded.
    served.clock.advance_days(10);
    assert_eq!(route(&served, TriageTier::Routine).await, A);
    served.server.stop().await;
});

fn contains(envelope: &Envelope, text: &str) -> bool {
    envelope.payload.windows(text.len()).any(|window| window == text.as_bytes())
}

both_engines!(a_supervisor_cannot_make_itself_anyones_supervisor, |engine| async move {
    // Who supervises a case manager decides who reads its privileged notes (issue 12, finding 3).
    let served = Served::start_with_roster(engine, &roster(&[(A, "south_los_angeles", 5)])).await;
    let mut supervisor = served.client(Role::Supervisor).await;
    let other_supervisor = "cm_000000000000000000000000000000f9";
    let status =
        upsert(&mut supervisor, pb::CaseManager { supervisor_id: other_supervisor.into(), ..entry(A, "CM-T-0", 5) })
            .await
            .expect_err("re-pointing the supervisor");
    assert_eq!(status.code(), Code::PermissionDenied);
    assert!(status.message().contains("supervisor_id"), "{}", status.message());
    let status = upsert(&mut supervisor, pb::CaseManager { user_id: "usr_author".into(), ..entry(C, "CM-C", 3) })
        .await
        .expect_err("linking a login to a new entry");
    assert_eq!(status.code(), Code::PermissionDenied);
    // Everything else a supervisor keeps: caps, leave.
    upsert(&mut supervisor, entry(A, "CM-T-0", 6)).await.expect("a supervisor raises a cap");
    served.server.stop().await;
});
