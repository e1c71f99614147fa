//! What the submitter of a referral follows (DESIGN.md privacy rule 2: "a hotline sees the status of
//! what it submitted", a partner "the status of the referrals it submitted" — the referral, not the
//! youth's case): a hotline and a submitting partner see the status and history up to the hand-off
//! (a case manager assigned, the youth first reached, enrolled, the case or staff closing it) and
//! nothing after, cut in the order intake recorded them whatever instant an event announced; no
//! date before receipt; a partner's list shows that status and only the tier's time limit. Staff
//! keep the whole history, one entry per event followed.

use wf_auth::Role;
use wf_events::Envelope;
use wf_proto::cases::v1::{CaseClosureReason, CaseStage};
use wf_proto::common::v1::TriageTier;
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

fn key(at: &prost_types::Timestamp) -> (i64, i32) {
    (at.seconds, at.nanos)
}

/// A case event assigning the case to `case_manager` at `at` (`previous`: a reassignment).
fn assigned_at(referral_id: &str, case_manager: &str, previous: &str, at: Option<prost_types::Timestamp>) -> Envelope {
    Envelope::new(
        "cases",
        CASE,
        referral_id,
        &events::CaseAssigned {
            case_id: CASE.into(),
            referral_id: referral_id.into(),
            case_manager_id: case_manager.into(),
            assigned_at: at,
            reason: if previous.is_empty() { "rule".into() } else { "manual".into() },
            previous_case_manager_id: previous.into(),
            ..Default::default()
        },
    )
}

/// Routed and offered; a case manager owns the case (the hand-off, at minute 1); the offer accepted.
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

/// The youth's case after the hand-off: enrolled, missing, found again, reassigned, closed, reopened.
async fn the_case_goes_on(harness: &Harness, id: &str) {
    publish(
        harness,
        &[
            &stage_changed(id, CaseStage::Enrolled, 60),
            &stage_changed(id, CaseStage::Missing, 70),
            &stage_changed(id, CaseStage::Active, 80),
            &assigned_at(id, OTHER_CASE_MANAGER, CASE_MANAGER, ts(90)),
            &case_closed(id, &[], CaseClosureReason::GoalsMet, 100),
            &case_reopened(id, 110),
        ],
    )
    .await;
}

const HANDED_OFF: [S; 4] = [S::Received, S::Routed, S::Offered, S::Assigned];

/// The example under `reference`, naming no organization (a partner's token supplies its own).
fn own(reference: &str) -> pb::SubmitReferralRequest {
    let mut request = with_reference(reference);
    request.referral.as_mut().expect("referral").referring_organization_id.clear();
    request
}

both_engines!(a_hotline_sees_its_referral_until_it_is_assigned_and_nothing_after, |engine| async move {
    let harness = Harness::start(engine).await;
    let mut hotline = harness.client(Role::Hotline).await;
    let id = hotline.submit_referral(example()).await.expect("submit").into_inner().referral_id;
    hand_off(&harness, &id).await;
    let at_hand_off = hotline.get_referral(get(&id)).await.expect("own").into_inner();
    assert_eq!(status(at_hand_off.status), S::Assigned);
    assert_eq!(history(&at_hand_off), HANDED_OFF, "the acceptance after the assignment is the case's");
    assert_eq!(at_hand_off.history.last().and_then(|c| c.at), ts(1), "assigned when the case manager was");

    the_case_goes_on(&harness, &id).await;
    let later = hotline.get_referral(get(&id)).await.expect("own").into_inner();
    assert_eq!(status(later.status), S::Assigned, "not told the youth enrolled, went missing, or the case closed");
    assert_eq!(entries(&later), entries(&at_hand_off), "no entry after the hand-off");

    // A resubmission answers the submitter's status too.
    let again = hotline.submit_referral(example()).await.expect("resubmit").into_inner();
    assert_eq!((again.duplicate, status(again.status)), (true, S::Assigned));

    // Staff keep every event followed, the assignment step included.
    let staff = flow::read(&harness, &id).await;
    assert_eq!(staff.history.len(), 11, "received, 4 hand-off events, 6 case events: {:?}", history(&staff));
    assert!(history(&staff).contains(&S::Assigned) && history(&staff).contains(&S::Closed));
    harness.server.stop().await;
});

both_engines!(a_back_dated_case_event_does_not_move_the_cut, |engine| async move {
    let harness = Harness::start(engine).await;
    let mut hotline = harness.client(Role::Hotline).await;
    let id = hotline.submit_referral(example()).await.expect("submit").into_inner().referral_id;
    let received = flow::read(&harness, &id).await.referral.and_then(|r| r.received_at).expect("received_at");
    // the case manager owns the case at minute 30; then the case announces an enrollment and a
    // closure dated before that, and a reassignment dated before the referral was received
    let before_receipt = prost_types::Timestamp { seconds: received.seconds - 86_400, nanos: 0 };
    publish(
        &harness,
        &[
            &routed(&id, PARTNER),
            &assigned_at(&id, CASE_MANAGER, "", ts(30)),
            &stage_changed(&id, CaseStage::Enrolled, 10),
            &case_closed(&id, &[], CaseClosureReason::Unreachable, 5),
            &assigned_at(&id, OTHER_CASE_MANAGER, CASE_MANAGER, Some(before_receipt)),
        ],
    )
    .await;
    let read = hotline.get_referral(get(&id)).await.expect("own").into_inner();
    assert_eq!(status(read.status), S::Assigned);
    assert_eq!(history(&read), [S::Received, S::Routed, S::Assigned], "cut where intake recorded the hand-off");
    assert_eq!(read.history.last().and_then(|c| c.at), ts(30));
    // staff see all five, the back-dated ones sorted by their instants
    let staff = flow::read(&harness, &id).await;
    assert_eq!(staff.history.len(), 6);
    assert_eq!(status(staff.history[0].status), S::Assigned, "the reassignment dated a day before receipt");
    harness.server.stop().await;
});

both_engines!(no_date_shown_to_the_submitter_is_before_receipt, |engine| async move {
    let harness = Harness::start(engine).await;
    let mut hotline = harness.client(Role::Hotline).await;
    let id = hotline.submit_referral(example()).await.expect("submit").into_inner().referral_id;
    let received = flow::read(&harness, &id).await.referral.and_then(|r| r.received_at).expect("received_at");
    // a case join announced back-dated a day before the referral came in
    let before_receipt = prost_types::Timestamp { seconds: received.seconds - 86_400, nanos: 0 };
    publish(&harness, &[&assigned_at(&id, CASE_MANAGER, "", Some(before_receipt))]).await;
    let read = hotline.get_referral(get(&id)).await.expect("own").into_inner();
    assert_eq!(history(&read), [S::Received, S::Assigned]);
    for change in &read.history {
        let at = change.at.as_ref().expect("at");
        assert!(key(at) >= key(&received), "{:?} dated {at:?}, before receipt {received:?}", status(change.status));
    }
    harness.server.stop().await;
});

both_engines!(a_submitting_partner_reads_and_lists_only_the_submitter_view, |engine| async move {
    let harness = Harness::start(engine).await;
    let mut partner: Client = harness.partner(SUBMITTER).await;
    let id = partner.submit_referral(own("S-1")).await.expect("submit").into_inner().referral_id;
    hand_off(&harness, &id).await;
    the_case_goes_on(&harness, &id).await;

    let read = partner.get_referral(get(&id)).await.expect("own").into_inner();
    assert_eq!(status(read.status), S::Assigned);
    assert_eq!(history(&read), HANDED_OFF);
    assert_eq!(read.closure_reason, 0, "the case's outcome is not the submitter's");
    assert_eq!(read.matched_at, None, "matched after the hand-off");
    assert_eq!((read.case_id.as_str(), read.youth_id.as_str()), ("", ""));

    // its list shows (and filters by) the status it is shown, with no deadline after the hand-off
    let listed = partner.list_referrals(pb::ListReferralsRequest::default()).await.expect("list").into_inner();
    let summary = listed.referrals.iter().find(|s| s.referral_id == id).expect("listed");
    assert_eq!((status(summary.status), summary.deadline), (S::Assigned, None));
    let reopened = pb::ListReferralsRequest { statuses: vec![S::Assigned as i32], ..Default::default() };
    let by_assigned = partner.list_referrals(reopened).await.expect("list").into_inner();
    assert_eq!(by_assigned.referrals.len(), 1);
    let closed = pb::ListReferralsRequest { statuses: vec![S::Closed as i32], ..Default::default() };
    let hidden_case = pb::ListReferralsRequest { statuses: vec![S::Engagement as i32], ..Default::default() };
    for filter in [closed, hidden_case] {
        let found = partner.list_referrals(filter).await.expect("list").into_inner();
        assert!(found.referrals.is_empty(), "a filter tells nothing the status does not");
    }
    harness.server.stop().await;
});

both_engines!(a_partners_list_shows_only_the_tiers_limit_never_the_mandated_report, |engine| async move {
    let harness = Harness::start(engine).await;
    let mut partner = harness.partner(SUBMITTER).await;
    let mut staff = harness.client(Role::Supervisor).await;
    // received two hours before the flow's base; routine (48 hours); a minor (born 2009)
    let mut request = own("S-D");
    let referral = request.referral.as_mut().expect("referral");
    referral.received_at = ts(-120);
    referral.triage_tier = TriageTier::Routine as i32;
    let id = partner.submit_referral(request).await.expect("submit").into_inner().referral_id;
    let deadline = |summaries: Vec<pb::ReferralSummary>| {
        summaries.into_iter().find(|s| s.referral_id == id).expect("listed").deadline
    };
    let everything = || pb::ListReferralsRequest::default();
    let tier_limit = ts(-120 + 48 * 60);
    let report_due = ts(-120 + 36 * 60);

    let staff_sees = deadline(staff.list_referrals(everything()).await.expect("list").into_inner().referrals);
    assert_eq!(staff_sees, report_due, "staff: the minor's mandated report first");
    let shown = deadline(partner.list_referrals(everything()).await.expect("list").into_inner().referrals);
    assert_eq!(shown, tier_limit, "the partner: the tier's limit, not when staff must report");

    publish(&harness, &[&routed(&id, PARTNER), &offer_made(&id, OFFER, PARTNER, 60)]).await;
    let staff_sees = deadline(staff.list_referrals(everything()).await.expect("list").into_inner().referrals);
    assert_eq!(staff_sees, ts(60), "staff: the waiting offer's own deadline");
    let shown = deadline(partner.list_referrals(everything()).await.expect("list").into_inner().referrals);
    assert_eq!(shown, tier_limit, "not another partner's offer deadline");

    publish(&harness, &[&offer_accepted(&id, OFFER, PARTNER, 12)]).await;
    let shown = deadline(partner.list_referrals(everything()).await.expect("list").into_inner().referrals);
    assert_eq!(shown, None, "matched: no deadline");
    let staff_sees = deadline(staff.list_referrals(everything()).await.expect("list").into_inner().referrals);
    assert_eq!(staff_sees, report_due, "staff still see the report due");
    harness.server.stop().await;
});

both_engines!(a_staff_closure_in_intakes_hands_is_shown_with_its_reason_and_one_after_is_not, |engine| async move {
    let harness = Harness::start(engine).await;
    let mut partner = harness.partner(SUBMITTER).await;
    let mut case_manager = harness.client(Role::CaseManager).await;
    let close = |id: &str, reason: pb::ReferralClosureReason| pb::CloseReferralRequest {
        referral_id: id.to_owned(),
        reason: reason as i32,
        duplicate_of_referral_id: String::new(),
    };
    let early = partner.submit_referral(own("S-2")).await.expect("submit").into_inner().referral_id;
    case_manager.close_referral(close(&early, pb::ReferralClosureReason::Ineligible)).await.expect("close");
    // the case still learns of it afterwards: nothing the submitter sees
    publish(&harness, &[&case_assigned(&early), &case_closed(&early, &[], CaseClosureReason::Ineligible, 20)]).await;
    let read = partner.get_referral(get(&early)).await.expect("own").into_inner();
    assert_eq!((status(read.status), read.closure_reason), (S::Closed, pb::ReferralClosureReason::Ineligible as i32));
    assert_eq!(history(&read), [S::Received, S::Closed]);

    let late = partner.submit_referral(own("S-3")).await.expect("submit").into_inner().referral_id;
    hand_off(&harness, &late).await;
    case_manager.close_referral(close(&late, pb::ReferralClosureReason::Missing)).await.expect("close");
    let read = partner.get_referral(get(&late)).await.expect("own").into_inner();
    assert_eq!((status(read.status), read.closure_reason), (S::Assigned, 0), "closed after it left intake's hands");
    assert_eq!(history(&read), HANDED_OFF);
    assert_eq!(status(flow::read(&harness, &late).await.status), S::Closed, "staff see it closed");
    harness.server.stop().await;
});

both_engines!(a_first_contact_before_any_assignment_is_the_hand_off_shown_as_assigned, |engine| async move {
    let harness = Harness::start(engine).await;
    let mut partner = harness.partner(SUBMITTER).await;
    let id = partner.submit_referral(own("S-4")).await.expect("submit").into_inner().referral_id;
    publish(
        &harness,
        &[
            &routed(&id, PARTNER),
            &offer_made(&id, OFFER, PARTNER, 60),
            &offer_accepted(&id, OFFER, PARTNER, 12),
            &first_contact(&id, 20),
            &case_assigned(&id),
        ],
    )
    .await;
    let read = partner.get_referral(get(&id)).await.expect("own").into_inner();
    assert_eq!(status(read.status), S::Assigned, "whether the youth was reached is the case's");
    assert_eq!(history(&read), [S::Received, S::Routed, S::Offered, S::Accepted, S::Assigned]);
    assert_eq!((read.history.last().and_then(|c| c.at), read.matched_at), (ts(20), ts(12)), "matched before");
    assert_eq!(status(flow::read(&harness, &id).await.status), S::Engagement);
    harness.server.stop().await;
});
