//! Capacity is taken on accept and given back when the referral's case closes: once per
//! accepted offer however often the closure is delivered, never above the maximum; an offer
//! still open when the case closes is withdrawn; reopening a case takes no place.

use wf_events::{Envelope, EventHandler};
use wf_proto::events::v1::{CaseClosed, CaseReopened, OfferWithdrawn};
use wf_proto::routing::v1::OfferStatus;
use wf_routing::store::capacity;
use wf_routing::store::offers::{self, OfferFilter, OfferRecord};

use wf_testkit::{Engine, both_engines};

use crate::harness::Harness;
use crate::{HARBOR_SHELTER_ORG, HARBOR_SHELTER_SERVICE, received, referral};

const CASE_ID: &str = "case_0192f1c4d5e67a8b9c0d1e2f3a4b5c6d";

fn case_closed(referral_id: &str) -> Envelope {
    let event = CaseClosed {
        case_id: CASE_ID.into(),
        referral_id: referral_id.into(),
        youth_id: "yth_0192f1c4d5e67a8b9c0d1e2f3a4b5c6d".into(),
        practice: true,
        ..Default::default()
    };
    Envelope::new("cases", CASE_ID, referral_id, &event)
}

async fn open_places(h: &Harness) -> Option<u32> {
    capacity::open_capacity_of(&h.db, HARBOR_SHELTER_SERVICE).await.unwrap()
}

/// Routes a new referral (offered to the shelter) and returns its one offer.
async fn offered(h: &Harness) -> OfferRecord {
    let event = referral(&["emergency_shelter", "crisis_intervention"]);
    h.handler.handle(received(&event)).await.unwrap();
    let filter = OfferFilter { referral_id: event.referral_id.clone(), include_practice: true, ..Default::default() };
    let offers = offers::list_offers(&h.db, &filter, "", 10).await.unwrap();
    assert_eq!(offers.len(), 1, "{offers:?}");
    assert_eq!(offers[0].partner_service_id, HARBOR_SHELTER_SERVICE);
    offers[0].clone()
}

/// Accept takes a place, the case closing returns it, and neither a redelivery of the same
/// event nor a later closure of the reopened case returns a second one.
async fn a_closed_case_returns_its_place_once(engine: Engine) {
    let h = Harness::start(engine).await;
    capacity::set_capacity(h.db.pool(), HARBOR_SHELTER_SERVICE, 2, 3, 0).await.unwrap();
    let offer = offered(&h).await;
    let router = h.routing.router(h.relay.handle());
    router.accept(&offer.offer_id, HARBOR_SHELTER_ORG, "usr_partner").await.unwrap();
    assert_eq!(open_places(&h).await, Some(1), "accept takes a place");
    assert_eq!(offers::capacity_returned_at(&h.db, &offer.offer_id).await.unwrap(), None);

    let closed = case_closed(&offer.referral_id);
    h.handler.handle(closed.clone()).await.unwrap();
    assert_eq!(open_places(&h).await, Some(2), "closing the case returns the place");
    assert!(offers::capacity_returned_at(&h.db, &offer.offer_id).await.unwrap().is_some());

    h.handler.handle(closed).await.unwrap();
    assert_eq!(open_places(&h).await, Some(2), "a duplicate delivery returns nothing more");

    // The case is reopened (no place taken) and closed again: a new event, still one place.
    let reopened = CaseReopened {
        case_id: CASE_ID.into(),
        referral_id: offer.referral_id.clone(),
        practice: true,
        ..Default::default()
    };
    h.handler.handle(Envelope::new("cases", CASE_ID, &offer.referral_id, &reopened)).await.unwrap();
    assert_eq!(open_places(&h).await, Some(2), "reopening takes no place");
    h.handler.handle(case_closed(&offer.referral_id)).await.unwrap();
    assert_eq!(open_places(&h).await, Some(2), "a second closure returns nothing more");
    let stored = offers::get_offer(h.db.pool(), &offer.offer_id).await.unwrap().unwrap();
    assert_eq!(stored.status, OfferStatus::Accepted);
    h.finish().await;
}

/// A place is never returned above the service's maximum (a capacity update since the
/// accept already restored it), and the closure still counts as handled.
async fn a_returned_place_never_exceeds_the_maximum(engine: Engine) {
    let h = Harness::start(engine).await;
    capacity::set_capacity(h.db.pool(), HARBOR_SHELTER_SERVICE, 2, 2, 0).await.unwrap();
    let offer = offered(&h).await;
    h.routing.router(h.relay.handle()).accept(&offer.offer_id, HARBOR_SHELTER_ORG, "usr_partner").await.unwrap();
    assert_eq!(open_places(&h).await, Some(1));
    // The partner reports every place open again.
    capacity::set_capacity(h.db.pool(), HARBOR_SHELTER_SERVICE, 2, 2, 0).await.unwrap();
    h.handler.handle(case_closed(&offer.referral_id)).await.unwrap();
    assert_eq!(open_places(&h).await, Some(2), "capped at the maximum");
    assert!(offers::capacity_returned_at(&h.db, &offer.offer_id).await.unwrap().is_some());
    h.finish().await;
}

/// A case closed while its offer is still open: the offer is withdrawn (`offer.withdrawn`),
/// no place changes, and the expiry worker has nothing to re-route later.
async fn a_case_closed_before_accept_withdraws_the_open_offer(engine: Engine) {
    let h = Harness::start(engine).await;
    capacity::set_capacity(h.db.pool(), HARBOR_SHELTER_SERVICE, 2, 3, 0).await.unwrap();
    let offer = offered(&h).await;
    h.handler.handle(case_closed(&offer.referral_id)).await.unwrap();
    assert_eq!(open_places(&h).await, Some(2), "nothing was taken, nothing is returned");
    let stored = offers::get_offer(h.db.pool(), &offer.offer_id).await.unwrap().unwrap();
    assert_eq!((stored.status, stored.responded_by.as_deref()), (OfferStatus::Withdrawn, Some("routing")));
    let refused = h.routing.router(h.relay.handle()).accept(&offer.offer_id, HARBOR_SHELTER_ORG, "usr_partner").await;
    assert!(matches!(refused, Err(wf_routing::OfferError::NotOpen("withdrawn"))), "{refused:?}");

    let withdrawn: Vec<OfferWithdrawn> = h.relayed("offer.withdrawn").await;
    assert_eq!(withdrawn.len(), 1);
    assert_eq!(
        (withdrawn[0].offer_id.as_str(), withdrawn[0].reason.as_str()),
        (offer.offer_id.as_str(), "case_closed")
    );
    h.finish().await;
}

/// Staff close the referral in intake (a duplicate, say) while its offer waits: the offer is
/// withdrawn (reason `referral_closed`) once however often the closure is delivered, and the
/// partner can no longer accept it.
async fn a_referral_closed_by_staff_withdraws_its_open_offer(engine: Engine) {
    let h = Harness::start(engine).await;
    let offer = offered(&h).await;
    let event = wf_proto::events::v1::ReferralClosed {
        referral_id: offer.referral_id.clone(),
        reason: wf_proto::intake::v1::ReferralClosureReason::Duplicate as i32,
        closed_at: Some(wf_proto::time::timestamp(chrono::Utc::now())),
        practice: true,
        ..Default::default()
    };
    let closure = Envelope::new("intake", &offer.referral_id, &offer.referral_id, &event);
    h.handler.handle(closure.clone()).await.unwrap();
    h.handler.handle(closure).await.unwrap();
    let stored = offers::get_offer(h.db.pool(), &offer.offer_id).await.unwrap().unwrap();
    assert_eq!(stored.status, OfferStatus::Withdrawn);
    let refused = h.routing.router(h.relay.handle()).accept(&offer.offer_id, HARBOR_SHELTER_ORG, "usr_partner").await;
    assert!(matches!(refused, Err(wf_routing::OfferError::NotOpen("withdrawn"))), "{refused:?}");
    let withdrawn: Vec<OfferWithdrawn> = h.relayed("offer.withdrawn").await;
    assert_eq!(withdrawn.len(), 1, "{withdrawn:?}");
    assert_eq!(
        (withdrawn[0].offer_id.as_str(), withdrawn[0].reason.as_str()),
        (offer.offer_id.as_str(), "referral_closed")
    );
    h.finish().await;
}

/// A closure whose referral id cannot be a referral fails permanently (dead-lettered), without effect.
async fn an_undecodable_case_closure_fails_permanently(engine: Engine) {
    let h = Harness::start(engine).await;
    let outcome = h.handler.handle(case_closed("case_1")).await;
    assert!(matches!(outcome, Err(wf_events::HandleError::Permanent(_))), "{outcome:?}");
    h.finish().await;
}

/// A returning youth's later referral linked to the same case: closing the case gives back
/// the place each referral's accepted offer took.
async fn closing_a_case_returns_the_places_of_its_linked_referrals(engine: Engine) {
    let h = Harness::start(engine).await;
    capacity::set_capacity(h.db.pool(), HARBOR_SHELTER_SERVICE, 3, 3, 0).await.unwrap();
    let first = offered(&h).await;
    let returning = offered(&h).await;
    let router = h.routing.router(h.relay.handle());
    for offer in [&first, &returning] {
        router.accept(&offer.offer_id, HARBOR_SHELTER_ORG, "usr_partner").await.unwrap();
    }
    assert_eq!(open_places(&h).await, Some(1));
    let event = CaseClosed {
        case_id: CASE_ID.into(),
        referral_id: first.referral_id.clone(),
        linked_referral_ids: vec![returning.referral_id.clone()],
        practice: true,
        ..Default::default()
    };
    h.handler.handle(Envelope::new("cases", CASE_ID, &first.referral_id, &event)).await.unwrap();
    assert_eq!(open_places(&h).await, Some(3), "both places are back");
    for offer in [&first, &returning] {
        assert!(offers::capacity_returned_at(&h.db, &offer.offer_id).await.unwrap().is_some());
    }
    h.finish().await;
}

both_engines!(a_closed_case_returns_its_place_once, a_closed_case_returns_its_place_once);
both_engines!(a_returned_place_never_exceeds_the_maximum, a_returned_place_never_exceeds_the_maximum);
both_engines!(
    a_case_closed_before_accept_withdraws_the_open_offer,
    a_case_closed_before_accept_withdraws_the_open_offer
);
both_engines!(a_referral_closed_by_staff_withdraws_its_open_offer, a_referral_closed_by_staff_withdraws_its_open_offer);
both_engines!(an_undecodable_case_closure_fails_permanently, an_undecodable_case_closure_fails_permanently);
both_engines!(
    closing_a_case_returns_the_places_of_its_linked_referrals,
    closing_a_case_returns_the_places_of_its_linked_referrals
);
