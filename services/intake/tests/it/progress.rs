//! A referral's status follows every event of routing and cases that moves it (issue 13, finding 1):
//! offered, accepted (with `matched_at`), declined, expired, escalated, engagement, closed by the
//! case, reopened; late and redelivered events never move it backwards.

use wf_auth::Role;
use wf_proto::cases::v1::{CaseClosureReason, CaseStage};
use wf_proto::intake::v1::{ReferralClosureReason, ReferralStatus as S};
use wf_testkit::both_engines;

use crate::flow::{self, *};
use crate::{Harness, example, with_reference};

const PARTNER: &str = "org_0193a1b2c3d4e5f60718293a4b5c6d21";
const NEXT_PARTNER: &str = "org_0193a1b2c3d4e5f60718293a4b5c6d22";
const OFFER: &str = "off_0193a1b2c3d4e5f60718293a4b5c6d31";
const NEXT_OFFER: &str = "off_0193a1b2c3d4e5f60718293a4b5c6d32";

async fn submitted(harness: &Harness, reference: &str) -> String {
    harness
        .client(Role::Hotline)
        .await
        .submit_referral(with_reference(reference))
        .await
        .expect("submit")
        .into_inner()
        .referral_id
}

both_engines!(offers_acceptance_contact_and_enrollment_move_the_status_and_set_matched_at, |engine| async move {
    let harness = Harness::start(engine).await;
    let id = submitted(&harness, "P-1").await;
    // cases assigns a case manager as soon as the referral is routed; the offer still waits
    publish(&harness, &[&routed(&id, PARTNER), &case_assigned(&id), &offer_made(&id, OFFER, PARTNER, 240)]).await;
    let read = flow::read(&harness, &id).await;
    assert_eq!(status(read.status), S::Offered);
    assert_eq!((read.matched_at, read.case_id.as_str()), (None, CASE));

    publish(&harness, &[&offer_accepted(&id, OFFER, PARTNER, 12)]).await;
    let read = flow::read(&harness, &id).await;
    assert_eq!(status(read.status), S::Assigned, "matched and owned by a case manager");
    assert_eq!(read.matched_at, ts(12), "matched when the offer was accepted");

    publish(&harness, &[&first_contact(&id, 50)]).await;
    assert_eq!(status(flow::read(&harness, &id).await.status), S::Engagement);

    // a stage before enrollment moves nothing; enrollment closes the referral as enrolled
    publish(&harness, &[&stage_changed(&id, CaseStage::Closed, 55), &stage_changed(&id, CaseStage::Enrolled, 60)])
        .await;
    let read = flow::read(&harness, &id).await;
    assert_eq!(status(read.status), S::Closed);
    assert_eq!(read.closure_reason, ReferralClosureReason::Enrolled as i32);
    assert_eq!(
        history(&read),
        [S::Received, S::Routed, S::Offered, S::Assigned, S::Accepted, S::Engagement, S::Closed],
        "oldest first, each event once"
    );
    let accepted = read.history.iter().find(|change| change.status == S::Accepted as i32).expect("accepted");
    assert_eq!(accepted.detail, format!("offer {OFFER} partner {PARTNER}"));
    harness.server.stop().await;
});

both_engines!(a_decline_reroutes_an_expiry_escalates_and_a_resolution_offers_again, |engine| async move {
    let harness = Harness::start(engine).await;
    let id = submitted(&harness, "P-2").await;
    publish(
        &harness,
        &[&routed(&id, PARTNER), &offer_made(&id, OFFER, PARTNER, 60), &offer_declined(&id, OFFER, PARTNER)],
    )
    .await;
    let read = flow::read(&harness, &id).await;
    assert_eq!(status(read.status), S::Declined);
    assert!(read.history.iter().any(|c| c.detail == format!("offer {OFFER} partner {PARTNER} reason no_capacity")));

    publish(&harness, &[&routed(&id, NEXT_PARTNER), &offer_made(&id, NEXT_OFFER, NEXT_PARTNER, 120)]).await;
    assert_eq!(status(flow::read(&harness, &id).await.status), S::Offered);
    publish(&harness, &[&offer_expired(&id, NEXT_OFFER, NEXT_PARTNER)]).await;
    assert_eq!(status(flow::read(&harness, &id).await.status), S::Expired);
    publish(&harness, &[&escalated(&id, "esc_0193a1b2c3d4e5f60718293a4b5c6d41")]).await;
    assert_eq!(status(flow::read(&harness, &id).await.status), S::Escalated);
    // the program manager offers it by hand: the escalation is resolved and the offer waits
    publish(
        &harness,
        &[
            &resolved(&id, "esc_0193a1b2c3d4e5f60718293a4b5c6d41"),
            &routed(&id, PARTNER),
            &offer_made(&id, "off_0193a1b2c3d4e5f60718293a4b5c6d33", PARTNER, 300),
        ],
    )
    .await;
    let read = flow::read(&harness, &id).await;
    assert_eq!(status(read.status), S::Offered);
    let statuses = history(&read);
    for expected in [S::Declined, S::Expired, S::Escalated] {
        assert!(statuses.contains(&expected), "{expected:?} in {statuses:?}");
    }
    harness.server.stop().await;
});

both_engines!(late_and_redelivered_events_never_move_the_status_backwards, |engine| async move {
    let harness = Harness::start(engine).await;
    let id = submitted(&harness, "P-3").await;
    let routed = routed(&id, PARTNER);
    let made = offer_made(&id, OFFER, PARTNER, 60);
    let accepted = offer_accepted(&id, OFFER, PARTNER, 12);
    let assigned = case_assigned(&id);
    // the acceptance overtakes the offer and the routing decision, and comes twice
    publish(&harness, &[&accepted, &made, &routed, &accepted]).await;
    let read = flow::read(&harness, &id).await;
    assert_eq!(status(read.status), S::Accepted, "accepted, nobody owns the case yet");
    assert_eq!(read.matched_at, ts(12));
    publish(&harness, &[&assigned, &made, &assigned, &routed]).await;
    let read = flow::read(&harness, &id).await;
    assert_eq!(status(read.status), S::Assigned);
    let mut statuses = history(&read);
    statuses.sort_by_key(|s| *s as i32);
    assert_eq!(statuses, [S::Received, S::Routed, S::Offered, S::Accepted, S::Assigned], "each event recorded once");
    // an older decline of an earlier offer arrives after the newer offer: the newer one stands
    let id = submitted(&harness, "P-4").await;
    let declined = offer_declined(&id, OFFER, PARTNER);
    let newer = offer_made(&id, NEXT_OFFER, NEXT_PARTNER, 90);
    publish(&harness, &[&newer, &declined]).await;
    assert_eq!(status(flow::read(&harness, &id).await.status), S::Offered);
    harness.server.stop().await;
});

both_engines!(the_case_closing_closes_its_referrals_and_a_reopening_takes_it_back, |engine| async move {
    let harness = Harness::start(engine).await;
    let first = submitted(&harness, "P-5").await;
    let later = submitted(&harness, "P-6").await;
    publish(
        &harness,
        &[
            &routed(&first, PARTNER),
            &offer_made(&first, OFFER, PARTNER, 60),
            &offer_accepted(&first, OFFER, PARTNER, 5),
        ],
    )
    .await;
    publish(&harness, &[&case_assigned(&first), &case_assigned(&later)]).await;
    publish(&harness, &[&case_closed(&first, &[&later], CaseClosureReason::Unreachable, 90)]).await;
    for id in [&first, &later] {
        let read = flow::read(&harness, id).await;
        assert_eq!(status(read.status), S::Closed, "{id}");
        assert_eq!(read.closure_reason, ReferralClosureReason::Unreachable as i32, "{id}");
    }
    // a reason the referral list has no equal of
    let moved = submitted(&harness, "P-7").await;
    publish(&harness, &[&case_assigned(&moved), &case_closed(&moved, &[], CaseClosureReason::MovedAway, 91)]).await;
    let read = flow::read(&harness, &moved).await;
    assert_eq!((status(read.status), read.closure_reason), (S::Closed, ReferralClosureReason::Unspecified as i32));
    assert!(read.history.iter().any(|c| c.detail == format!("case {CASE} closed moved_away")));

    // the youth is back: the case reopens for the first referral, whose status follows the case again
    publish(&harness, &[&case_reopened(&first, 120)]).await;
    let read = flow::read(&harness, &first).await;
    assert_eq!((status(read.status), read.closure_reason), (S::Assigned, 0));

    // a referral staff closed stays closed whatever its case does
    let mut staff = harness.client(Role::CaseManager).await;
    staff
        .close_referral(wf_proto::intake::v1::CloseReferralRequest {
            referral_id: later.clone(),
            reason: ReferralClosureReason::Duplicate as i32,
            duplicate_of_referral_id: first.clone(),
        })
        .await
        .expect_err("already closed by its case: final for staff too");
    let staff_closed = submitted(&harness, "P-8").await;
    staff
        .close_referral(wf_proto::intake::v1::CloseReferralRequest {
            referral_id: staff_closed.clone(),
            reason: ReferralClosureReason::Ineligible as i32,
            duplicate_of_referral_id: String::new(),
        })
        .await
        .expect("close");
    publish(&harness, &[&case_assigned(&staff_closed), &case_reopened(&staff_closed, 130)]).await;
    let read = flow::read(&harness, &staff_closed).await;
    assert_eq!((status(read.status), read.closure_reason), (S::Closed, ReferralClosureReason::Ineligible as i32));
    assert_eq!(history(&read), [S::Received, S::Closed], "nothing after a staff closure");
    harness.server.stop().await;
});

both_engines!(events_move_a_held_referral_to_where_it_resumes_and_a_case_closure_ends_the_hold, |engine| async move {
    let harness = Harness::start(engine).await;
    let id =
        harness.client(Role::Hotline).await.submit_referral(example()).await.expect("submit").into_inner().referral_id;
    let mut staff = harness.client(Role::CaseManager).await;
    let hold = |on_hold: bool| wf_proto::intake::v1::SetReferralHoldRequest {
        referral_id: id.clone(),
        on_hold,
        reason: if on_hold { "youth_missing".into() } else { String::new() },
    };
    staff.set_referral_hold(hold(true)).await.expect("hold");
    publish(
        &harness,
        &[&routed(&id, PARTNER), &offer_made(&id, OFFER, PARTNER, 60), &offer_accepted(&id, OFFER, PARTNER, 3)],
    )
    .await;
    let read = flow::read(&harness, &id).await;
    assert_eq!((status(read.status), read.matched_at), (S::OnHold, ts(3)));
    let resumed = staff.set_referral_hold(hold(false)).await.expect("resume").into_inner();
    assert_eq!(status(resumed.status), S::Accepted);

    staff.set_referral_hold(hold(true)).await.expect("hold again");
    publish(&harness, &[&case_closed(&id, &[], CaseClosureReason::DeclinedServices, 80)]).await;
    let read = flow::read(&harness, &id).await;
    assert_eq!((status(read.status), read.closure_reason), (S::Closed, ReferralClosureReason::DeclinedServices as i32));
    harness.server.stop().await;
});
