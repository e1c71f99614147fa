//! The offer lifecycle below the API: capacity under concurrent accepts, and expiry
//! across a restart with a hand-moved clock.

use chrono::{Duration, Utc};
use wf_events::EventHandler;
use wf_proto::events::v1::{OfferExpired, ReferralRouted};
use wf_proto::routing::v1::OfferStatus;
use wf_routing::OfferError;
use wf_routing::store::capacity;
use wf_routing::store::decisions::{self, DecisionFilter};
use wf_routing::store::offers::{self, OfferFilter};
use wf_testkit::{Engine, both_engines};
use wf_types::{Clock, TestClock};

use crate::harness::Harness;
use crate::{HARBOR_SHELTER_ORG, HARBOR_SHELTER_SERVICE, received, referral};

const SLOTS: u32 = 10;
const ACCEPTS: usize = 100;

/// 100 referrals offered to one service with 10 open places, all accepted at once:
/// exactly 10 accepts succeed and the open places never go below zero.
async fn concurrent_accepts_never_exceed_capacity(engine: Engine) {
    let h = Harness::start(engine).await;
    capacity::set_capacity(h.db.pool(), HARBOR_SHELTER_SERVICE, SLOTS, SLOTS, 0).await.unwrap();
    for _ in 0..ACCEPTS {
        h.handler.handle(received(&referral(&["emergency_shelter", "crisis_intervention"]))).await.unwrap();
    }
    let filter = OfferFilter { partner_id: HARBOR_SHELTER_ORG.into(), include_practice: true, ..Default::default() };
    let offers = offers::list_offers(&h.db, &filter, "", 1000).await.unwrap();
    assert_eq!(offers.len(), ACCEPTS, "every referral is offered to the shelter (capacity is taken on accept)");

    let router = h.routing.router(h.relay.handle());
    let accepts = offers.iter().map(|offer| {
        let (router, offer_id) = (router.clone(), offer.offer_id.clone());
        tokio::spawn(async move { router.accept(&offer_id, HARBOR_SHELTER_ORG, "usr_partner").await })
    });
    let outcomes = futures::future::join_all(accepts).await;
    let (mut accepted, mut refused) = (0, 0);
    for outcome in outcomes {
        match outcome.unwrap() {
            Ok(offer) => {
                assert_eq!(offer.status, OfferStatus::Accepted);
                accepted += 1;
            }
            Err(OfferError::NoCapacity) => refused += 1,
            Err(other) => panic!("unexpected accept failure: {other}"),
        }
    }
    assert_eq!((accepted, refused), (SLOTS as usize, ACCEPTS - SLOTS as usize));
    assert_eq!(capacity::open_capacity_of(&h.db, HARBOR_SHELTER_SERVICE).await.unwrap(), Some(0));
    let accepted_rows =
        offers::list_offers(&h.db, &OfferFilter { statuses: vec!["accepted"], ..filter.clone() }, "", 1000)
            .await
            .unwrap();
    assert_eq!(accepted_rows.len(), SLOTS as usize);
    h.finish().await;
}

/// An offer whose deadline passes while routing is stopped is expired by the start-up
/// expiry pass of the next routing process and the referral goes to the next candidate.
async fn an_offer_expiring_while_stopped_is_rerouted_on_restart(engine: Engine) {
    let clock = TestClock::at(Utc::now());
    let event = referral(&["emergency_shelter", "crisis_intervention"]);
    let first = Harness::start_with_clock(engine, clock.shared()).await;
    let database = first.database.clone();
    first.handler.handle(received(&event)).await.unwrap();
    let by_referral =
        OfferFilter { referral_id: event.referral_id.clone(), include_practice: true, ..Default::default() };
    let offers = offers::list_offers(&first.db, &by_referral, "", 10).await.unwrap();
    assert_eq!(offers.len(), 1);
    let original = offers[0].clone();
    assert_eq!(original.status, OfferStatus::Pending);
    assert_eq!(original.deadline - original.offered_at, 24 * 3600 * 1_000_000, "urgent: 24 hours");
    first.finish().await;

    // Routing is down past the deadline.
    clock.advance(Duration::hours(25));
    let restarted = Harness::start_on(database, clock.shared()).await;
    // The worker's first pass runs at start; a cancelled token makes it the only one.
    let stop = tokio_util::sync::CancellationToken::new();
    stop.cancel();
    restarted.routing.run_expiry(stop).await;

    let offers = offers::list_offers(&restarted.db, &by_referral, "", 10).await.unwrap();
    assert_eq!(offers.len(), 2, "{offers:?}");
    assert_eq!((offers[0].offer_id.as_str(), offers[0].status), (original.offer_id.as_str(), OfferStatus::Expired));
    assert_eq!(offers[0].responded_by.as_deref(), Some("routing"));
    assert_eq!(offers[1].status, OfferStatus::Pending);
    assert_ne!(offers[1].partner_service_id, HARBOR_SHELTER_SERVICE, "the next candidate, not the same service");
    assert_eq!(offers[1].attempt, 2);
    assert_eq!(offers[1].offered_at, wf_db::to_micros(clock.now()));

    let filter = DecisionFilter { referral_id: event.referral_id.clone(), ..Default::default() };
    let decisions = decisions::list_decisions(&restarted.db, &filter, "", 10).await.unwrap();
    assert_eq!(decisions.iter().map(|d| d.attempt).collect::<Vec<_>>(), vec![1, 2]);
    assert_eq!(decisions[1].reason, "offer_expired");
    let skipped = decisions[1].candidates.iter().find(|c| c.partner_service_id == HARBOR_SHELTER_SERVICE).unwrap();
    assert!(!skipped.eligible);

    restarted.relay.round().await.unwrap();
    let all = restarted.published_all();
    let expired: Vec<OfferExpired> =
        all.iter().filter(|e| e.event_type == "offer.expired").map(|e| e.payload_as().unwrap()).collect();
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0].offer_id, original.offer_id);
    let rerouted: Vec<ReferralRouted> =
        all.iter().filter(|e| e.event_type == "referral.routed").map(|e| e.payload_as().unwrap()).collect();
    // The first process never relayed its `referral.routed`: the outbox kept it across the restart.
    assert_eq!(rerouted.iter().map(|r| r.attempt).collect::<Vec<_>>(), vec![1, 2]);
    assert_eq!(rerouted[1].reason, "offer_expired");
    assert_eq!(rerouted[1].partner_service_id, offers[1].partner_service_id);

    // Nothing else is due: a second pass expires nothing.
    assert_eq!(restarted.routing.router(restarted.relay.handle()).expire_due().await.unwrap(), 0);
    restarted.finish().await;
}

both_engines!(concurrent_accepts_never_exceed_capacity, concurrent_accepts_never_exceed_capacity);
both_engines!(
    an_offer_expiring_while_stopped_is_rerouted_on_restart,
    an_offer_expiring_while_stopped_is_rerouted_on_restart
);
