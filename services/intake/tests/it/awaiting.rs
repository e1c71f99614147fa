//! Hostile review, the owner of a referral whose case waits for assignment: intake binds
//! `case.awaiting_assignment` and clears the owner of every referral it names (the referral that
//! joined a waiting case, its own case merged into it; a case's episode going to the supervisors'
//! queue), under the rule of every owner: only a newer event replaces it. The referral queue then
//! lists it as nobody's.

use wf_auth::Role;
use wf_events::Envelope;
use wf_proto::common::v1::Site;
use wf_proto::events::v1 as events;
use wf_proto::intake::v1 as pb;
use wf_testkit::both_engines;

use crate::flow::{self, publish, ts};
use crate::{Client, Harness, with_reference};

const CM_A: &str = "cm_0193a1b2c3d4e5f60718293a4b5c6d71";
const CM_B: &str = "cm_0193a1b2c3d4e5f60718293a4b5c6d72";
/// The case a referral opened on its own, before a confirmed match merged it into `WAITING`.
const OWN_CASE: &str = "case_0193a1b2c3d4e5f60718293a4b5c6d71";
const WAITING: &str = "case_0193a1b2c3d4e5f60718293a4b5c6d72";
const REOPENED: &str = "case_0193a1b2c3d4e5f60718293a4b5c6d73";

fn assigned(referral_id: &str, case_id: &str, case_manager: &str, minutes: i64) -> Envelope {
    Envelope::new(
        "cases",
        case_id,
        referral_id,
        &events::CaseAssigned {
            case_id: case_id.into(),
            referral_id: referral_id.into(),
            case_manager_id: case_manager.into(),
            assigned_at: ts(minutes),
            reason: "caseload_balance".into(),
            ..Default::default()
        },
    )
}

fn queued(case_id: &str, referral_id: &str, linked: &[&str], reason: &str, minutes: i64) -> Envelope {
    Envelope::new(
        "cases",
        case_id,
        referral_id,
        &events::CaseAwaitingAssignment {
            case_id: case_id.into(),
            referral_id: referral_id.into(),
            site: Site::SouthLosAngeles as i32,
            reason: reason.into(),
            supervisor_ids: vec!["cm_0193a1b2c3d4e5f60718293a4b5c6d79".into()],
            queued_at: ts(minutes),
            linked_referral_ids: linked.iter().map(|id| (*id).to_owned()).collect(),
            ..Default::default()
        },
    )
}

async fn submitted(client: &mut Client, reference: &str) -> String {
    client.submit_referral(with_reference(reference)).await.expect("submit").into_inner().referral_id
}

async fn listed(staff: &mut Client, request: pb::ListReferralsRequest) -> Vec<String> {
    let listed = staff.list_referrals(request).await.expect("list").into_inner().referrals;
    listed.into_iter().map(|summary| summary.referral_id).collect()
}

/// (owner, case) of a referral as a supervisor reads it.
async fn held(harness: &Harness, referral_id: &str) -> (String, String) {
    let read = flow::read(harness, referral_id).await;
    (read.case_manager_id, read.case_id)
}

both_engines!(a_case_waiting_for_assignment_leaves_the_referrals_it_names_without_an_owner, |engine| async move {
    let harness = Harness::start(engine).await;
    let mut hotline = harness.client(Role::Hotline).await;
    let merged = submitted(&mut hotline, "AW-1").await;
    let opened = submitted(&mut hotline, "AW-2").await;
    let joined = submitted(&mut hotline, "AW-3").await;
    let mut staff = harness.client(Role::Supervisor).await;
    let unassigned = || pb::ListReferralsRequest { unassigned_only: true, ..Default::default() };
    let owned_by = |owner: &str| pb::ListReferralsRequest { case_manager_id: owner.into(), ..Default::default() };

    // Its own case, owned by A, merges into the youth's case waiting in the supervisors' queue.
    publish(&harness, &[&assigned(&merged, OWN_CASE, CM_A, 1)]).await;
    assert_eq!(held(&harness, &merged).await, (CM_A.to_owned(), OWN_CASE.to_owned()));
    let joined_waiting = queued(WAITING, &merged, &[], "joined_waiting_case", 5);
    publish(&harness, &[&joined_waiting]).await;
    assert_eq!(held(&harness, &merged).await, (String::new(), WAITING.to_owned()), "nobody's, in the case it joined");
    assert!(listed(&mut staff, unassigned()).await.contains(&merged), "the queue lists it as nobody's");
    assert!(!listed(&mut staff, owned_by(CM_A)).await.contains(&merged), "no longer A's");

    // A reopened case's episode goes to the queue: every referral it names is nobody's.
    publish(&harness, &[&assigned(&opened, REOPENED, CM_B, 10), &assigned(&joined, REOPENED, CM_B, 11)]).await;
    let late = queued(REOPENED, &opened, &[&joined], "all_at_capacity", 20);
    publish(&harness, &[&late]).await;
    for id in [&opened, &joined] {
        assert_eq!(held(&harness, id).await, (String::new(), REOPENED.to_owned()), "{id}");
    }
    assert!(listed(&mut staff, owned_by(CM_B)).await.is_empty());

    // A supervisor assigns the case; the queueing delivered again after that, or a queueing
    // announced before the assignment but delivered after it, never takes the owner back.
    let older = queued(WAITING, &merged, &[], "joined_waiting_case", 25);
    publish(&harness, &[&assigned(&opened, REOPENED, CM_A, 30), &assigned(&merged, WAITING, CM_B, 31)]).await;
    publish(&harness, &[&late, &joined_waiting, &older]).await;
    assert_eq!(held(&harness, &opened).await.0, CM_A, "redelivered: the newer assignment stands");
    assert_eq!(held(&harness, &merged).await.0, CM_B, "older than the assignment it would replace");
    assert_eq!(held(&harness, &joined).await.0, "", "the assignment named only the others");
    assert_eq!(listed(&mut staff, unassigned()).await, std::slice::from_ref(&joined));
    harness.server.stop().await;
});
