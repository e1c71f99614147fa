//! Hostile review, a reopening without a new referral: `ReopenCase` naming none carries the case's
//! last episode on, so `case.reopened` names every referral of it (`episode_referral_ids`) and says
//! the episode is not new. Each of those referrals follows the case open again (with its owner),
//! and the partners that served the episode serve it again; a new referral's reopening is a new
//! episode, which the earlier one's referrals and partners stay out of.

use wf_auth::Role;
use wf_events::Envelope;
use wf_proto::cases::v1::CaseClosureReason;
use wf_proto::events::v1 as events;
use wf_proto::intake::v1 as pb;
use wf_proto::intake::v1::ReferralStatus as S;
use wf_testkit::both_engines;

use crate::flow::{self, CASE, publish, status, ts};
use crate::{Harness, with_reference};

const RECEIVING: &str = "org_0193a1b2c3d4e5f60718293a4b5c6d61";
const JOINED_PARTNER: &str = "org_0193a1b2c3d4e5f60718293a4b5c6d62";
const LATER_PARTNER: &str = "org_0193a1b2c3d4e5f60718293a4b5c6d63";
const OFFER: &str = "off_0193a1b2c3d4e5f60718293a4b5c6d61";
const JOINED_OFFER: &str = "off_0193a1b2c3d4e5f60718293a4b5c6d62";
const LATER_OFFER: &str = "off_0193a1b2c3d4e5f60718293a4b5c6d63";
const REOPENED_TO: &str = "cm_0193a1b2c3d4e5f60718293a4b5c6d66";

/// `case.reopened` of `flow::CASE` as cases announces it now: `episode` the referrals of the
/// episode current after it (the first is `referral_id`), `new_episode` whether a new referral
/// started it.
fn reopened(episode: &[&str], new_episode: bool, minutes: i64) -> Envelope {
    Envelope::new(
        "cases",
        CASE,
        episode[0],
        &events::CaseReopened {
            case_id: CASE.into(),
            referral_id: episode[0].into(),
            case_manager_id: REOPENED_TO.into(),
            reopened_at: ts(minutes),
            reason: if new_episode { "youth_returned".into() } else { "staff_reopened".into() },
            episode_referral_ids: episode.iter().map(|id| (*id).to_owned()).collect(),
            new_episode,
            ..Default::default()
        },
    )
}

async fn submitted(harness: &Harness, reference: &str) -> String {
    let mut hotline = harness.client(Role::Hotline).await;
    hotline.submit_referral(with_reference(reference)).await.expect("submit").into_inner().referral_id
}

/// Whether `partner` reads `referral_id` (it serves the youth), else NOT_FOUND.
async fn reads(harness: &Harness, partner: &str, referral_id: &str) -> bool {
    let request = pb::GetReferralRequest { referral_id: referral_id.to_owned(), purpose: "service_referral".into() };
    match harness.partner(partner).await.get_referral(request).await {
        Ok(_) => true,
        Err(status) if status.code() == tonic::Code::NotFound => false,
        Err(status) => panic!("{partner} reading {referral_id}: {status:?}"),
    }
}

/// (status, closure reason, owner) of a referral as a supervisor reads it.
async fn state(harness: &Harness, referral_id: &str) -> (S, i32, String) {
    let read = flow::read(harness, referral_id).await;
    (status(read.status), read.closure_reason, read.case_manager_id)
}

/// Accepted by `partner`, and the case (owned by `flow::CASE_MANAGER`) announced for it.
async fn served_by(harness: &Harness, referral_id: &str, offer: &str, partner: &str, minutes: i64) {
    publish(
        harness,
        &[
            &flow::routed(referral_id, partner),
            &flow::offer_made(referral_id, offer, partner, 60),
            &flow::case_assigned(referral_id),
            &flow::offer_accepted(referral_id, offer, partner, minutes),
        ],
    )
    .await;
}

both_engines!(
    a_reopening_that_carries_the_episode_on_reopens_each_of_its_referrals_for_its_partners,
    |engine| async move {
        let harness = Harness::start(engine).await;
        // The case's episode: the referral that opened it and one that joined it by a confirmed match,
        // each accepted by its own partner.
        let first = submitted(&harness, "EP-1").await;
        let joined = submitted(&harness, "EP-2").await;
        served_by(&harness, &first, OFFER, RECEIVING, 8).await;
        served_by(&harness, &joined, JOINED_OFFER, JOINED_PARTNER, 9).await;
        assert!(reads(&harness, RECEIVING, &first).await && reads(&harness, JOINED_PARTNER, &joined).await);

        publish(&harness, &[&flow::case_closed(&first, &[&joined], CaseClosureReason::Unreachable, 90)]).await;
        for id in [&first, &joined] {
            assert_eq!(
                state(&harness, id).await,
                (S::Closed, pb::ReferralClosureReason::Unreachable as i32, String::new())
            );
        }
        assert!(!reads(&harness, RECEIVING, &first).await && !reads(&harness, JOINED_PARTNER, &joined).await);

        // ReopenCase naming no referral: the same episode carries on, for both of its referrals.
        let carried_on = reopened(&[&first, &joined], false, 120);
        publish(&harness, &[&carried_on, &carried_on]).await;
        for id in [&first, &joined] {
            assert_eq!(
                state(&harness, id).await,
                (S::Assigned, 0, REOPENED_TO.to_owned()),
                "{id} follows its case open"
            );
        }
        assert!(reads(&harness, RECEIVING, &first).await, "the partner serving the episode serves it again");
        assert!(reads(&harness, JOINED_PARTNER, &joined).await, "and so does the joined referral's partner");

        // Closed again, then a new referral of the youth reopens it: a new episode without them.
        publish(&harness, &[&flow::case_closed(&first, &[&joined], CaseClosureReason::GoalsMet, 150)]).await;
        let later = submitted(&harness, "EP-3").await;
        publish(
            &harness,
            &[
                &flow::routed(&later, LATER_PARTNER),
                &flow::offer_made(&later, LATER_OFFER, LATER_PARTNER, 240),
                &flow::offer_accepted(&later, LATER_OFFER, LATER_PARTNER, 170),
                &reopened(&[&later], true, 160),
            ],
        )
        .await;
        assert_eq!(state(&harness, &later).await.0, S::Assigned);
        assert!(reads(&harness, LATER_PARTNER, &later).await, "the new episode's partner");
        for id in [&first, &joined] {
            assert_eq!(state(&harness, id).await.0, S::Closed, "{id}: an earlier episode's referral stays closed");
        }
        assert!(!reads(&harness, RECEIVING, &first).await && !reads(&harness, JOINED_PARTNER, &joined).await);
        harness.server.stop().await;
    }
);
