//! `ListReferrals` (issue 13, findings 2 and 3; issue 14's referral queue): newest first, every
//! filter narrows the answer (practice referrals only when asked for), bad filter values are refused
//! by field, every summary field is filled, the deadline is the current step's; the owner (the case
//! manager who holds the case now) follows assignment, reassignment, closure and reopening; a
//! partner lists only its own submissions, without youth, case or case manager ids, and may not
//! filter by youth or owner.

use tonic::Code;
use wf_auth::Role;
use wf_events::Envelope;
use wf_proto::cases::v1::CaseClosureReason;
use wf_proto::common::v1 as common;
use wf_proto::events::v1 as events;
use wf_proto::intake::v1 as pb;
use wf_testkit::both_engines;

use crate::flow::{self, ts};
use crate::{Client, Harness, fields_of, with_reference};

const ORG_A: &str = "org_0193a1b2c3d4e5f60718293a4b5c6d3a";
/// The organization examples/referral.json names.
const EXAMPLE_ORG: &str = "org_0193a1b2c3d4e5f60718293a4b5c6d7e";
const OFFER: &str = "off_0193a1b2c3d4e5f60718293a4b5c6d3c";

fn referral(reference: &str, change: impl FnOnce(&mut pb::Referral)) -> pb::SubmitReferralRequest {
    let mut request = with_reference(reference);
    change(request.referral.as_mut().expect("referral"));
    request
}

async fn submit(client: &mut Client, request: pb::SubmitReferralRequest) -> pb::SubmitReferralResponse {
    client.submit_referral(request).await.expect("submit").into_inner()
}

async fn list(client: &mut Client, request: pb::ListReferralsRequest) -> Vec<pb::ReferralSummary> {
    client.list_referrals(request).await.expect("list").into_inner().referrals
}

fn ids(summaries: &[pb::ReferralSummary]) -> Vec<&str> {
    summaries.iter().map(|s| s.referral_id.as_str()).collect()
}

const CM_A: &str = "cm_0193a1b2c3d4e5f60718293a4b5c6d3a";
const CM_B: &str = "cm_0193a1b2c3d4e5f60718293a4b5c6d3b";

/// `case.assigned` of `referral_id`'s case to `case_manager` at `minutes` (`previous` set: a
/// supervisor's reassignment, as ReassignCase announces it).
fn assigned_to(referral_id: &str, case_id: &str, case_manager: &str, previous: &str, minutes: i64) -> Envelope {
    Envelope::new(
        "cases",
        case_id,
        referral_id,
        &events::CaseAssigned {
            case_id: case_id.into(),
            referral_id: referral_id.into(),
            case_manager_id: case_manager.into(),
            assigned_at: ts(minutes),
            reason: if previous.is_empty() { "caseload_balance".into() } else { "manual".into() },
            previous_case_manager_id: previous.into(),
            reassign_reason: if previous.is_empty() { 0 } else { wf_proto::cases::v1::ReassignReason::Other as i32 },
            ..Default::default()
        },
    )
}

/// `case.reopened` of `flow::CASE` for `referral_id` at `minutes`, to `case_manager` (empty: awaiting
/// assignment).
fn reopened_to(referral_id: &str, case_manager: &str, minutes: i64) -> Envelope {
    Envelope::new(
        "cases",
        flow::CASE,
        referral_id,
        &events::CaseReopened {
            case_id: flow::CASE.into(),
            referral_id: referral_id.into(),
            case_manager_id: case_manager.into(),
            reopened_at: ts(minutes),
            reason: "youth_returned".into(),
            ..Default::default()
        },
    )
}

/// The owner of each listed referral, as a supervisor lists them (newest first).
async fn owners(staff: &mut Client) -> Vec<(String, String)> {
    list(staff, pb::ListReferralsRequest::default())
        .await
        .into_iter()
        .map(|s| (s.referral_id, s.case_manager_id))
        .collect()
}

both_engines!(a_list_is_newest_first_and_fills_every_summary_field, |engine| async move {
    let harness = Harness::start(engine).await;
    let mut hotline = harness.client(Role::Hotline).await;
    let first = submit(&mut hotline, with_reference("L-1")).await;
    let second = submit(&mut hotline, with_reference("L-2")).await;
    let adult = submit(
        &mut hotline,
        referral("L-3", |r| {
            let personal = r.personal.as_mut().expect("personal");
            personal.date_of_birth = Some(common::Date { year: 2000, month: 1, day: 1 });
            r.needs = vec!["education".into()];
            r.preferred_language = "en".into();
        }),
    )
    .await;
    flow::publish(&harness, &[&flow::case_assigned(&second.referral_id)]).await;
    let mut staff = harness.client(Role::Supervisor).await;
    let listed = list(&mut staff, pb::ListReferralsRequest::default()).await;
    assert_eq!(ids(&listed), [&adult.referral_id, &second.referral_id, &first.referral_id], "newest first");
    let newest = &listed[0];
    assert_eq!(newest.youth_id, adult.youth_id);
    assert_eq!(newest.referring_organization_id, EXAMPLE_ORG);
    assert_eq!((newest.needs.as_slice(), newest.preferred_language.as_str()), (&["education".to_owned()][..], "en"));
    assert!(!newest.is_minor, "born 2000");
    assert!(listed[1].is_minor && listed[2].is_minor, "born 2009");
    assert_eq!(listed[1].case_id, flow::CASE);
    assert_eq!(listed[2].needs, ["emergency_shelter", "mental_health", "victim_advocacy", "education"]);
    assert_eq!(listed[2].preferred_language, "es");
    assert!(listed.iter().all(|s| s.deadline.is_some()), "urgent: an offer accepted within 24 hours");

    // pages keep the order
    let page = staff.list_referrals(pb::ListReferralsRequest { page_size: 2, ..Default::default() }).await;
    let page = page.expect("page").into_inner();
    assert_eq!(ids(&page.referrals), [&adult.referral_id, &second.referral_id]);
    let rest = list(
        &mut staff,
        pb::ListReferralsRequest { page_size: 2, page_token: page.next_page_token, ..Default::default() },
    )
    .await;
    assert_eq!(ids(&rest), [&first.referral_id]);
    harness.server.stop().await;
});

both_engines!(the_statuses_filter_narrows_the_list, |engine| async move {
    let harness = Harness::start(engine).await;
    let mut hotline = harness.client(Role::Hotline).await;
    let received = submit(&mut hotline, with_reference("S-1")).await.referral_id;
    let offered = submit(&mut hotline, with_reference("S-2")).await.referral_id;
    flow::publish(&harness, &[&flow::routed(&offered, ORG_A), &flow::offer_made(&offered, OFFER, ORG_A, 60)]).await;
    let mut staff = harness.client(Role::Supervisor).await;
    let by = |statuses: &[pb::ReferralStatus]| pb::ListReferralsRequest {
        statuses: statuses.iter().map(|s| *s as i32).collect(),
        ..Default::default()
    };
    assert_eq!(ids(&list(&mut staff, by(&[pb::ReferralStatus::Offered])).await), [&offered]);
    assert_eq!(ids(&list(&mut staff, by(&[pb::ReferralStatus::Received])).await), [&received]);
    let both = list(&mut staff, by(&[pb::ReferralStatus::Received, pb::ReferralStatus::Offered])).await;
    assert_eq!(ids(&both), [&offered, &received]);
    assert!(list(&mut staff, by(&[pb::ReferralStatus::Closed])).await.is_empty());
    harness.server.stop().await;
});

both_engines!(the_site_filter_narrows_the_list, |engine| async move {
    let harness = Harness::start(engine).await;
    let mut hotline = harness.client(Role::Hotline).await;
    let south = submit(&mut hotline, with_reference("SITE-1")).await.referral_id;
    let valley = submit(&mut hotline, referral("SITE-2", |r| r.site = common::Site::SanFernandoValley as i32)).await;
    let mut staff = harness.client(Role::Supervisor).await;
    let by = |site: common::Site| pb::ListReferralsRequest { site: site as i32, ..Default::default() };
    assert_eq!(ids(&list(&mut staff, by(common::Site::SanFernandoValley)).await), [&valley.referral_id]);
    assert_eq!(ids(&list(&mut staff, by(common::Site::SouthLosAngeles)).await), [&south]);
    assert_eq!(list(&mut staff, pb::ListReferralsRequest::default()).await.len(), 2);
    harness.server.stop().await;
});

both_engines!(the_triage_tier_filter_narrows_the_list, |engine| async move {
    let harness = Harness::start(engine).await;
    let mut hotline = harness.client(Role::Hotline).await;
    let urgent = submit(&mut hotline, with_reference("T-1")).await.referral_id;
    let routine = submit(&mut hotline, with_reference("T-2")).await.referral_id;
    // staff triage changes the tier the filter sees
    harness
        .client(Role::CaseManager)
        .await
        .triage_referral(pb::TriageReferralRequest {
            referral_id: routine.clone(),
            triage_tier: common::TriageTier::Routine as i32,
            triage_reason: "routine".into(),
        })
        .await
        .expect("triage");
    let mut staff = harness.client(Role::Supervisor).await;
    let by = |tier: common::TriageTier| pb::ListReferralsRequest { triage_tier: tier as i32, ..Default::default() };
    assert_eq!(ids(&list(&mut staff, by(common::TriageTier::Routine)).await), [&routine]);
    assert_eq!(ids(&list(&mut staff, by(common::TriageTier::Urgent)).await), [&urgent]);
    assert!(list(&mut staff, by(common::TriageTier::Emergent)).await.is_empty());
    harness.server.stop().await;
});

both_engines!(the_referring_organization_filter_narrows_the_list, |engine| async move {
    let harness = Harness::start(engine).await;
    let on_behalf = submit(&mut harness.client(Role::CaseManager).await, with_reference("O-1")).await.referral_id;
    let mut partner = harness.partner(ORG_A).await;
    let own = submit(&mut partner, referral("O-2", |r| r.referring_organization_id.clear())).await.referral_id;
    let mut staff = harness.client(Role::Supervisor).await;
    let by = |organization: &str| pb::ListReferralsRequest {
        referring_organization_id: organization.into(),
        ..Default::default()
    };
    assert_eq!(ids(&list(&mut staff, by(ORG_A)).await), [&own], "filled in from the partner's token");
    assert_eq!(ids(&list(&mut staff, by(EXAMPLE_ORG)).await), [&on_behalf], "named by staff");
    // a partner narrows its own list, never widens it
    assert_eq!(ids(&list(&mut partner, by(ORG_A)).await), [&own]);
    assert!(list(&mut partner, by(EXAMPLE_ORG)).await.is_empty());
    harness.server.stop().await;
});

both_engines!(the_received_filter_narrows_the_list_to_a_half_open_range, |engine| async move {
    let harness = Harness::start(engine).await;
    let mut hotline = harness.client(Role::Hotline).await;
    let early = submit(&mut hotline, referral("R-1", |r| r.received_at = ts(-300))).await.referral_id;
    let late = submit(&mut hotline, referral("R-2", |r| r.received_at = ts(-100))).await.referral_id;
    let mut staff = harness.client(Role::Supervisor).await;
    let by = |start: i64, end: Option<i64>| pb::ListReferralsRequest {
        received: Some(common::TimeRange { start: ts(start), end: end.and_then(ts) }),
        ..Default::default()
    };
    assert_eq!(ids(&list(&mut staff, by(-200, Some(0))).await), [&late]);
    assert_eq!(ids(&list(&mut staff, by(-300, Some(-100))).await), [&early], "start in, end out");
    assert_eq!(ids(&list(&mut staff, by(-300, None)).await), [&late, &early]);
    let before = pb::ListReferralsRequest {
        received: Some(common::TimeRange { start: None, end: ts(-200) }),
        ..Default::default()
    };
    assert_eq!(ids(&list(&mut staff, before).await), [&early]);
    harness.server.stop().await;
});

both_engines!(the_youth_filter_narrows_the_list, |engine| async move {
    let harness = Harness::start(engine).await;
    let mut hotline = harness.client(Role::Hotline).await;
    let one = submit(&mut hotline, with_reference("Y-1")).await;
    let other = submit(&mut hotline, with_reference("Y-2")).await;
    assert_ne!(one.youth_id, other.youth_id);
    let mut staff = harness.client(Role::Supervisor).await;
    let by = |youth_id: &str| pb::ListReferralsRequest { youth_id: youth_id.into(), ..Default::default() };
    assert_eq!(ids(&list(&mut staff, by(&one.youth_id)).await), [&one.referral_id]);
    assert_eq!(ids(&list(&mut staff, by(&other.youth_id)).await), [&other.referral_id]);
    assert!(list(&mut staff, by("yth_0193a1b2c3d4e5f60718293a4b5c6dff")).await.is_empty());
    harness.server.stop().await;
});

both_engines!(practice_referrals_are_listed_only_when_asked_for, |engine| async move {
    let harness = Harness::start(engine).await;
    let mut hotline = harness.client(Role::Hotline).await;
    let live = submit(&mut hotline, with_reference("PR-1")).await.referral_id;
    let practice = submit(&mut hotline, referral("PR-2", |r| r.practice = true)).await.referral_id;
    let mut staff = harness.client(Role::Supervisor).await;
    assert_eq!(ids(&list(&mut staff, pb::ListReferralsRequest::default()).await), [&live], "excluded by default");
    let with_practice =
        list(&mut staff, pb::ListReferralsRequest { include_practice: true, ..Default::default() }).await;
    assert_eq!(ids(&with_practice), [&practice, &live]);
    assert_eq!(with_practice.iter().map(|s| s.practice).collect::<Vec<_>>(), [true, false], "each marked as it is");
    // with the other filters, still only when asked for
    let urgent = |include_practice| pb::ListReferralsRequest {
        triage_tier: common::TriageTier::Urgent as i32,
        include_practice,
        ..Default::default()
    };
    assert_eq!(ids(&list(&mut staff, urgent(false)).await), [&live]);
    assert_eq!(ids(&list(&mut staff, urgent(true)).await), [&practice, &live]);
    harness.server.stop().await;
});

both_engines!(the_source_filter_narrows_the_list, |engine| async move {
    let harness = Harness::start(engine).await;
    let mut hotline = harness.client(Role::Hotline).await;
    // examples/referral.json: REFERRAL_SOURCE_HOTLINE
    let from_hotline = submit(&mut hotline, with_reference("SRC-1")).await.referral_id;
    let outreach = submit(&mut hotline, referral("SRC-2", |r| r.source = common::ReferralSource::Outreach as i32))
        .await
        .referral_id;
    let mut staff = harness.client(Role::Supervisor).await;
    let by = |source: common::ReferralSource| pb::ListReferralsRequest { source: source as i32, ..Default::default() };
    let listed = list(&mut staff, by(common::ReferralSource::Outreach)).await;
    assert_eq!(ids(&listed), [&outreach]);
    assert_eq!(listed[0].source, common::ReferralSource::Outreach as i32);
    assert_eq!(ids(&list(&mut staff, by(common::ReferralSource::Hotline)).await), [&from_hotline]);
    assert!(list(&mut staff, by(common::ReferralSource::ChildWelfare)).await.is_empty());
    assert_eq!(list(&mut staff, by(common::ReferralSource::Unspecified)).await.len(), 2, "unset matches all");
    harness.server.stop().await;
});

both_engines!(the_owner_filter_narrows_the_list_to_a_case_managers_referrals, |engine| async move {
    let harness = Harness::start(engine).await;
    let mut hotline = harness.client(Role::Hotline).await;
    let of_a = submit(&mut hotline, with_reference("OW-1")).await.referral_id;
    let of_b = submit(&mut hotline, with_reference("OW-2")).await.referral_id;
    let also_a = submit(&mut hotline, with_reference("OW-3")).await.referral_id;
    let nobodys = submit(&mut hotline, with_reference("OW-4")).await.referral_id;
    let case_b = "case_0193a1b2c3d4e5f60718293a4b5c6d3b";
    let case_c = "case_0193a1b2c3d4e5f60718293a4b5c6d3c";
    flow::publish(
        &harness,
        &[
            &assigned_to(&of_a, flow::CASE, CM_A, "", 1),
            &assigned_to(&of_b, case_b, CM_B, "", 2),
            &assigned_to(&also_a, case_c, CM_A, "", 3),
        ],
    )
    .await;
    let mut staff = harness.client(Role::Supervisor).await;
    let by = |owner: &str| pb::ListReferralsRequest { case_manager_id: owner.into(), ..Default::default() };
    let mine = list(&mut staff, by(CM_A)).await;
    assert_eq!(ids(&mine), [&also_a, &of_a], "newest first");
    assert!(mine.iter().all(|s| s.case_manager_id == CM_A));
    assert_eq!(ids(&list(&mut staff, by(CM_B)).await), [&of_b]);
    assert!(list(&mut staff, by("cm_0193a1b2c3d4e5f60718293a4b5c6dff")).await.is_empty());
    // with another filter: both narrow
    let received_referrals = pb::ListReferralsRequest {
        case_manager_id: CM_A.into(),
        statuses: vec![pb::ReferralStatus::Received as i32],
        ..Default::default()
    };
    assert!(list(&mut staff, received_referrals).await.is_empty(), "assigned, not received");
    assert_eq!(list(&mut staff, pb::ListReferralsRequest::default()).await.len(), 4, "{nobodys} too");
    harness.server.stop().await;
});

both_engines!(the_unassigned_filter_narrows_the_list_to_referrals_nobody_holds, |engine| async move {
    let harness = Harness::start(engine).await;
    let mut hotline = harness.client(Role::Hotline).await;
    let waiting = submit(&mut hotline, with_reference("UN-1")).await.referral_id;
    let owned = submit(&mut hotline, with_reference("UN-2")).await.referral_id;
    let closed = submit(&mut hotline, with_reference("UN-3")).await.referral_id;
    let case_b = "case_0193a1b2c3d4e5f60718293a4b5c6d3b";
    flow::publish(
        &harness,
        &[
            &assigned_to(&owned, flow::CASE, CM_A, "", 1),
            &assigned_to(&closed, case_b, CM_B, "", 2),
            &flow::case_closed(&closed, &[], CaseClosureReason::Unreachable, 3),
        ],
    )
    .await;
    let mut staff = harness.client(Role::Supervisor).await;
    let unassigned = |statuses: &[pb::ReferralStatus]| pb::ListReferralsRequest {
        unassigned_only: true,
        statuses: statuses.iter().map(|s| *s as i32).collect(),
        ..Default::default()
    };
    assert_eq!(ids(&list(&mut staff, unassigned(&[])).await), [&closed, &waiting], "no owner now");
    assert_eq!(ids(&list(&mut staff, unassigned(&[pb::ReferralStatus::Received])).await), [&waiting]);
    assert_eq!(list(&mut staff, pb::ListReferralsRequest::default()).await.len(), 3);
    harness.server.stop().await;
});

both_engines!(the_owner_follows_assignment_reassignment_closure_and_reopening, |engine| async move {
    let harness = Harness::start(engine).await;
    let mut hotline = harness.client(Role::Hotline).await;
    let id = submit(&mut hotline, with_reference("OF-1")).await.referral_id;
    let other = submit(&mut hotline, with_reference("OF-2")).await.referral_id;
    let mut staff = harness.client(Role::Supervisor).await;
    let owner_of = |id: &str| (id.to_owned(), String::new());
    assert_eq!(owners(&mut staff).await, [owner_of(&other), owner_of(&id)], "no case yet");

    // assigned, then reassigned by a supervisor (ReassignCase announces case.assigned again)
    flow::publish(&harness, &[&assigned_to(&id, flow::CASE, CM_A, "", 1)]).await;
    assert_eq!(owners(&mut staff).await[1], (id.clone(), CM_A.to_owned()));
    assert_eq!(flow::read(&harness, &id).await.case_manager_id, CM_A, "GetReferral names the owner too");
    flow::publish(&harness, &[&assigned_to(&id, flow::CASE, CM_B, CM_A, 5)]).await;
    assert_eq!(owners(&mut staff).await[1], (id.clone(), CM_B.to_owned()), "the reassignment moved it");
    let by = |owner: &str| pb::ListReferralsRequest { case_manager_id: owner.into(), ..Default::default() };
    assert!(list(&mut staff, by(CM_A)).await.is_empty(), "no longer the first case manager's");
    assert_eq!(ids(&list(&mut staff, by(CM_B)).await), [&id]);
    assert_eq!(owners(&mut staff).await[0], owner_of(&other), "another referral keeps none");

    // the case closes: nobody's any more; a reassignment announced before the closure but delivered
    // after it does not give it back, nor does the closure's redelivery change anything
    let late = assigned_to(&id, flow::CASE, CM_A, CM_B, 7);
    let closure = flow::case_closed(&id, &[], CaseClosureReason::GoalsMet, 10);
    flow::publish(&harness, &[&closure]).await;
    assert_eq!(owners(&mut staff).await[1], owner_of(&id));
    assert_eq!(flow::read(&harness, &id).await.case_manager_id, "");
    assert!(list(&mut staff, by(CM_B)).await.is_empty());
    flow::publish(&harness, &[&late, &closure]).await;
    assert_eq!(owners(&mut staff).await[1], owner_of(&id), "older than the closure");
    assert!(list(&mut staff, by(CM_A)).await.is_empty());

    // reopened awaiting assignment: still nobody's; then assigned
    flow::publish(&harness, &[&reopened_to(&id, "", 20)]).await;
    assert_eq!(owners(&mut staff).await[1], owner_of(&id));
    flow::publish(&harness, &[&assigned_to(&id, flow::CASE, CM_A, "", 25)]).await;
    assert_eq!(owners(&mut staff).await[1], (id.clone(), CM_A.to_owned()));
    assert_eq!(flow::read(&harness, &id).await.case_manager_id, CM_A);
    harness.server.stop().await;
});

both_engines!(a_partner_is_never_shown_an_owner_nor_filters_by_one, |engine| async move {
    let harness = Harness::start(engine).await;
    let mut partner = harness.partner(ORG_A).await;
    let own = submit(&mut partner, referral("PO-1", |r| r.referring_organization_id.clear())).await.referral_id;
    // another partner accepts the hotline's referral and serves its case
    let receiving_partner = "org_0193a1b2c3d4e5f60718293a4b5c6d3d";
    let served = submit(&mut harness.client(Role::Hotline).await, with_reference("PO-2")).await.referral_id;
    flow::publish(
        &harness,
        &[
            &assigned_to(&own, flow::CASE, CM_A, "", 1),
            &flow::routed(&served, receiving_partner),
            &flow::offer_made(&served, OFFER, receiving_partner, 60),
            &flow::offer_accepted(&served, OFFER, receiving_partner, 5),
            &assigned_to(&served, "case_0193a1b2c3d4e5f60718293a4b5c6d3b", CM_B, "", 6),
        ],
    )
    .await;
    let mut staff = harness.client(Role::Supervisor).await;
    assert_eq!(owners(&mut staff).await, [(served.clone(), CM_B.to_owned()), (own.clone(), CM_A.to_owned())]);

    // the submitting partner: no owner in its list nor in its read
    let listed = list(&mut partner, pb::ListReferralsRequest::default()).await;
    assert_eq!(ids(&listed), [&own]);
    assert_eq!(listed[0].case_manager_id, "");
    let get = |id: &str| pb::GetReferralRequest { referral_id: id.to_owned(), purpose: String::new() };
    assert_eq!(partner.get_referral(get(&own)).await.expect("own").into_inner().case_manager_id, "");
    // the receiving partner reads the referral it serves, without the owner
    let mut receiving = harness.partner(receiving_partner).await;
    let read = receiving.get_referral(get(&served)).await.expect("serves it").into_inner();
    assert_eq!((read.case_id.is_empty(), read.case_manager_id.as_str()), (false, ""));

    // the owner filters are refused by field, whatever the value
    for (request, field) in [
        (pb::ListReferralsRequest { case_manager_id: CM_A.into(), ..Default::default() }, "case_manager_id"),
        (pb::ListReferralsRequest { case_manager_id: "someone".into(), ..Default::default() }, "case_manager_id"),
        (pb::ListReferralsRequest { unassigned_only: true, ..Default::default() }, "unassigned_only"),
    ] {
        let refused = partner.list_referrals(request).await.expect_err("partners never see who holds a case");
        assert_eq!((refused.code(), fields_of(&refused)), (Code::InvalidArgument, vec![field.to_owned()]));
    }
    // a source it may narrow by (it sees the source of what it submitted)
    let by_source = pb::ListReferralsRequest { source: common::ReferralSource::Outreach as i32, ..Default::default() };
    assert!(list(&mut partner, by_source).await.is_empty());
    harness.server.stop().await;
});

both_engines!(bad_filter_values_are_refused_naming_the_field, |engine| async move {
    let harness = Harness::start(engine).await;
    let mut staff = harness.client(Role::Supervisor).await;
    let refused = staff
        .list_referrals(pb::ListReferralsRequest {
            statuses: vec![pb::ReferralStatus::Offered as i32, 42],
            site: 9,
            triage_tier: 7,
            referring_organization_id: "Acme Outreach".into(),
            received: Some(common::TimeRange { start: ts(10), end: ts(0) }),
            youth_id: "yth_x".into(),
            source: 99,
            case_manager_id: "Dana Reyes".into(),
            page_size: -1,
            ..Default::default()
        })
        .await
        .expect_err("refused");
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert_eq!(
        fields_of(&refused),
        [
            "page_size",
            "statuses[1]",
            "site",
            "triage_tier",
            "referring_organization_id",
            "received.end",
            "youth_id",
            "source",
            "case_manager_id"
        ]
    );
    assert!(!refused.message().contains("Acme") && !refused.message().contains("Dana"), "{}", refused.message());
    let both = pb::ListReferralsRequest { case_manager_id: CM_A.into(), unassigned_only: true, ..Default::default() };
    let refused = staff.list_referrals(both).await.expect_err("an owner is not unassigned");
    assert_eq!(fields_of(&refused), ["unassigned_only"]);
    harness.server.stop().await;
});

both_engines!(a_partner_lists_only_its_own_submissions_without_youth_or_case_ids, |engine| async move {
    let harness = Harness::start(engine).await;
    let mut partner = harness.partner(ORG_A).await;
    let own = submit(&mut partner, referral("PL-1", |r| r.referring_organization_id.clear())).await;
    submit(&mut harness.client(Role::Hotline).await, with_reference("PL-2")).await;
    flow::publish(&harness, &[&flow::case_assigned(&own.referral_id)]).await;
    let before = harness.people_accesses_now().await.len();
    let listed = list(&mut partner, pb::ListReferralsRequest::default()).await;
    assert_eq!(ids(&listed), [&own.referral_id]);
    assert_eq!((listed[0].youth_id.as_str(), listed[0].case_id.as_str()), ("", ""));
    assert_eq!(listed[0].referring_organization_id, ORG_A);
    let accesses = harness.people_accesses(before + 1).await;
    let access = &accesses[before];
    assert_eq!(
        (access.record_id.as_str(), access.fields.as_slice()),
        (own.referral_id.as_str(), &["referral.summary".to_owned()][..])
    );
    let refused = partner
        .list_referrals(pb::ListReferralsRequest { youth_id: own.youth_id.clone(), ..Default::default() })
        .await
        .expect_err("partners never see youth ids");
    assert_eq!(fields_of(&refused), ["youth_id"]);
    harness.server.stop().await;
});

/// The deadline of the one referral a supervisor lists.
async fn deadline_of(staff: &mut Client, referral_id: &str) -> Option<prost_types::Timestamp> {
    let listed = list(staff, pb::ListReferralsRequest::default()).await;
    listed.into_iter().find(|s| s.referral_id == referral_id).expect("listed").deadline
}

fn plus_hours(minutes: i64, hours: i64) -> Option<prost_types::Timestamp> {
    ts(minutes + hours * 60)
}

both_engines!(the_deadline_is_that_of_the_current_step, |engine| async move {
    let harness = Harness::start(engine).await;
    let mut hotline = harness.client(Role::Hotline).await;
    // received two hours before the flow's base instant; urgent; a minor (born 2009)
    let id = submit(&mut hotline, referral("D-1", |r| r.received_at = ts(-120))).await.referral_id;
    let mut staff = harness.client(Role::Supervisor).await;
    assert_eq!(deadline_of(&mut staff, &id).await, plus_hours(-120, 24), "urgent: accepted within 24 hours");

    flow::publish(&harness, &[&flow::routed(&id, ORG_A), &flow::offer_made(&id, OFFER, ORG_A, 60)]).await;
    assert_eq!(deadline_of(&mut staff, &id).await, ts(60), "the waiting offer's own deadline comes first");

    flow::publish(&harness, &[&flow::offer_accepted(&id, OFFER, ORG_A, 30)]).await;
    assert_eq!(deadline_of(&mut staff, &id).await, plus_hours(-120, 36), "matched: the minor's mandated report");

    let mut case_manager = harness.client(Role::CaseManager).await;
    let reported = case_manager
        .record_mandated_report(pb::RecordMandatedReportRequest {
            report: Some(pb::MandatedReport {
                referral_id: id.clone(),
                agency: pb::MandatedReportAgency::ChildWelfare as i32,
                reported_at: ts(-90),
                agency_reference: "DCFS-DEMO-0009".into(),
                ..Default::default()
            }),
        })
        .await
        .expect("report")
        .into_inner();
    assert_eq!(deadline_of(&mut staff, &id).await, plus_hours(-90, 36), "the written report, 36 hours after");
    case_manager
        .record_mandated_report(pb::RecordMandatedReportRequest {
            report: Some(pb::MandatedReport {
                mandated_report_id: reported.mandated_report_id.clone(),
                written_report_at: ts(-80),
                ..Default::default()
            }),
        })
        .await
        .expect("written report");
    assert_eq!(deadline_of(&mut staff, &id).await, None, "nothing is due");

    // emergent: the first contact within 90 minutes, then nothing but the mandated report
    let emergent = submit(&mut hotline, referral("D-2", |r| r.received_at = ts(-120))).await.referral_id;
    case_manager
        .triage_referral(pb::TriageReferralRequest {
            referral_id: emergent.clone(),
            triage_tier: common::TriageTier::Emergent as i32,
            triage_reason: "imminent_danger".into(),
        })
        .await
        .expect("triage");
    assert_eq!(deadline_of(&mut staff, &emergent).await, ts(-30));
    flow::publish(&harness, &[&flow::first_contact(&emergent, -60)]).await;
    assert_eq!(deadline_of(&mut staff, &emergent).await, plus_hours(-120, 36));

    // on hold, only the mandated report keeps its deadline; closed, nothing is due
    let held = submit(&mut hotline, referral("D-3", |r| r.received_at = ts(-120))).await.referral_id;
    let hold = pb::SetReferralHoldRequest { referral_id: held.clone(), on_hold: true, reason: "youth_missing".into() };
    case_manager.set_referral_hold(hold).await.expect("hold");
    assert_eq!(deadline_of(&mut staff, &held).await, plus_hours(-120, 36));
    case_manager
        .close_referral(pb::CloseReferralRequest {
            referral_id: held.clone(),
            reason: pb::ReferralClosureReason::Missing as i32,
            duplicate_of_referral_id: String::new(),
        })
        .await
        .expect("close");
    assert_eq!(deadline_of(&mut staff, &held).await, None);
    harness.server.stop().await;
});
