//! What the submitter of a referral follows (review F2, DESIGN.md privacy rule 2: "a hotline sees the
//! status of what it submitted"): the status history records the status GetReferral answers, once
//! per change; a hotline and a submitting partner see it up to the hand-off (the first ASSIGNED or
//! CLOSED) and nothing after — not the youth enrolling, going missing and being found, a
//! reassignment or the case closing; no entry is dated before the referral was received.

use wf_auth::Role;
use wf_events::Envelope;
use wf_proto::cases::v1::CaseStage;
use wf_proto::events::v1 as events;
use wf_proto::intake::v1::{self as pb, ReferralStatus as S};
use wf_testkit::both_engines;

use crate::flow::{self, *};
use crate::{Client, Harness, example, with_reference};

const PARTNER: &str = "org_0193a1b2c3d4e5f60718293a4b5c6d61";
const SUBMITTER: &str = "org_0193a1b2c3d4e5f60718293a4b5c6d62";
const OFFER: &str = "off_0193a1b2c3d4e5f60718293a4b5c6d63";
const OTHER_CASE_MANAGER: &str = "usr_0193a1b2c3d4e5f60718293a4b5c6d64";

fn get(id: &str) -> pb::GetReferralRequest {
    pb::GetReferralRequest { referral_id: id.to_owned(), purpose: String::new() }
}

/// (status, at) of each history entry.
fn entries(read: &pb::GetReferralResponse) -> Vec<(S, Option<prost_types::Timestamp>)> {
    read.history.iter().map(|c| (status(c.status), c.at)).collect()
}

/// A reassignment of the case to another case manager, `minutes` after the base.
fn reassigned(referral_id: &str, minutes: i64) -> Envelope {
    Envelope::new(
        "cases",
        CASE,
        referral_id,
        &events::CaseAssigned {
            case_id: CASE.into(),
            referral_id: referral_id.into(),
            case_manager_id: OTHER_CASE_MANAGER.into(),
            assigned_at: ts(minutes),
            reason: "manual".into(),
            previous_case_manager_id: CASE_MANAGER.into(),
            ..Default::default()
        },
    )
}

/// Routed, offered, owned by a case manager and accepted: the referral leaves intake's hands.
async fn hand_off(harness: &Harness, id: &str) {
    publish(
        harness,
        &[
            &routed(id, PARTNER),
            &offer_made(id, OFFER, PARTNER, 60),
            &case_assigned(id),
            &offer_accepted(id, OFFER, PARTNER, 12),
        ],
    )
    .await;
}

/// The youth's case after the hand-off: enrolled, missing, found again, reassigned for safety, closed.
async fn the_case_goes_on(harness: &Harness, id: &str) {
    publish(
        harness,
        &[
            &stage_changed(id, CaseStage::Enrolled, 60),
            &stage_changed(id, CaseStage::Missing, 70),
            &stage_changed(id, CaseStage::Active, 80),
            &reassigned(id, 90),
            &case_closed(id, &[], wf_proto::cases::v1::CaseClosureReason::GoalsMet, 100),
        ],
    )
    .await;
}

const HANDED_OFF: [S; 4] = [S::Received, S::Routed, S::Offered, S::Assigned];

both_engines!(a_hotline_sees_its_referral_until_it_is_assigned_and_nothing_after, |engine| async move {
    let harness = Harness::start(engine).await;
    let mut hotline = harness.client(Role::Hotline).await;
    let id = hotline.submit_referral(example()).await.expect("submit").into_inner().referral_id;
    hand_off(&harness, &id).await;
    let at_hand_off = hotline.get_referral(get(&id)).await.expect("own").into_inner();
    assert_eq!(status(at_hand_off.status), S::Assigned);
    assert_eq!(history(&at_hand_off), HANDED_OFF);
    assert_eq!(at_hand_off.history.last().and_then(|c| c.at), ts(12), "assigned when the offer was accepted");

    the_case_goes_on(&harness, &id).await;
    let later = hotline.get_referral(get(&id)).await.expect("own").into_inner();
    assert_eq!(status(later.status), S::Assigned, "the hotline is not told the youth enrolled or left");
    assert_eq!(entries(&later), entries(&at_hand_off), "no entry after the hand-off");

    // staff see every change of the status, once each
    let staff = flow::read(&harness, &id).await;
    assert_eq!(status(staff.status), S::Closed);
    assert_eq!(history(&staff), [S::Received, S::Routed, S::Offered, S::Assigned, S::Closed]);
    assert!(staff.history.windows(2).all(|w| w[0].status != w[1].status), "one entry per change");
    assert_eq!(staff.history.last().and_then(|c| c.at), ts(60), "closed when the youth enrolled");
    harness.server.stop().await;
});

both_engines!(a_submitting_partner_sees_its_referral_until_it_is_assigned_and_nothing_after, |engine| async move {
    let harness = Harness::start(engine).await;
    let mut partner: Client = harness.partner(SUBMITTER).await;
    let mut request = with_reference("S-1");
    request.referral.as_mut().expect("referral").referring_organization_id.clear();
    let id = partner.submit_referral(request).await.expect("submit").into_inner().referral_id;
    hand_off(&harness, &id).await;
    the_case_goes_on(&harness, &id).await;

    let read = partner.get_referral(get(&id)).await.expect("own").into_inner();
    assert_eq!(status(read.status), S::Assigned);
    assert_eq!(history(&read), HANDED_OFF);
    assert_eq!(read.closure_reason, 0, "the case's outcome is not the submitter's");
    assert_eq!(read.matched_at, ts(12), "matched at the hand-off");
    assert_eq!((read.case_id.as_str(), read.youth_id.as_str()), ("", ""));

    // its list shows (and filters by) the status it is shown, nothing later
    let listed = partner.list_referrals(pb::ListReferralsRequest::default()).await.expect("list").into_inner();
    let summary = listed.referrals.iter().find(|s| s.referral_id == id).expect("listed");
    assert_eq!(status(summary.status), S::Assigned);
    let closed = pb::ListReferralsRequest { statuses: vec![S::Closed as i32], ..Default::default() };
    let by_closed = partner.list_referrals(closed.clone()).await.expect("list").into_inner();
    assert!(by_closed.referrals.is_empty(), "a filter tells nothing the status does not");
    let staff = harness.client(Role::Supervisor).await.list_referrals(closed).await.expect("list").into_inner();
    assert!(staff.referrals.iter().any(|s| s.referral_id == id), "staff see it closed");
    harness.server.stop().await;
});

both_engines!(a_closure_before_the_hand_off_is_shown_with_its_reason, |engine| async move {
    let harness = Harness::start(engine).await;
    let mut partner = harness.partner(SUBMITTER).await;
    let mut request = with_reference("S-2");
    request.referral.as_mut().expect("referral").referring_organization_id.clear();
    let id = partner.submit_referral(request).await.expect("submit").into_inner().referral_id;
    harness
        .client(Role::CaseManager)
        .await
        .close_referral(pb::CloseReferralRequest {
            referral_id: id.clone(),
            reason: pb::ReferralClosureReason::Ineligible as i32,
            duplicate_of_referral_id: String::new(),
        })
        .await
        .expect("close");
    let read = partner.get_referral(get(&id)).await.expect("own").into_inner();
    assert_eq!((status(read.status), read.closure_reason), (S::Closed, pb::ReferralClosureReason::Ineligible as i32));
    assert_eq!(history(&read), [S::Received, S::Closed]);
    harness.server.stop().await;
});

both_engines!(no_history_entry_is_dated_before_the_referral_was_received, |engine| async move {
    let harness = Harness::start(engine).await;
    let id = harness.client(Role::Hotline).await.submit_referral(example()).await.expect("submit").into_inner();
    let id = id.referral_id;
    let received = flow::read(&harness, &id).await.referral.and_then(|r| r.received_at).expect("received_at");
    let before_receipt = prost_types::Timestamp { seconds: received.seconds - 86_400, nanos: 0 };
    // a case join announced back-dated a day before the referral came in
    let joined = Envelope::new(
        "cases",
        CASE,
        &id,
        &events::CaseAssigned {
            case_id: CASE.into(),
            referral_id: id.clone(),
            case_manager_id: CASE_MANAGER.into(),
            assigned_at: Some(before_receipt),
            reason: "joined_open_case".into(),
            ..Default::default()
        },
    );
    publish(&harness, &[&joined]).await;
    let read = flow::read(&harness, &id).await;
    assert_eq!(history(&read), [S::Received, S::Assigned]);
    let key = |t: &prost_types::Timestamp| (t.seconds, t.nanos);
    for change in &read.history {
        let at = change.at.as_ref().expect("at");
        assert!(key(at) >= key(&received), "{:?} dated {at:?}, before receipt {received:?}", status(change.status));
    }
    harness.server.stop().await;
});
