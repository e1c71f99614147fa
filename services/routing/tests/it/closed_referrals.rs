//! A referral staff closed in intake (`referral.closed`) is never offered, accepted or escalated
//! again, whichever path reaches it: the first route (also when the closure arrives first), the
//! re-route after a decline or an expiry, `RerouteReferral`, `ResolveEscalation` with a service,
//! `AcceptOffer` and the time-limit worker. A closure written while an offer is being made either
//! waits for it (and withdraws it) or is seen by it.

use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use tokio_util::sync::CancellationToken;
use tonic::Code;
use wf_auth::Role;
use wf_events::{Envelope, EventHandler};
use wf_proto::common::v1::TriageTier;
use wf_proto::events::v1::{OfferWithdrawn, ReferralClosed, ReferralReceived, ReferralTriaged};
use wf_proto::routing::v1 as pb;
use wf_proto::routing::v1::routing_service_server::RoutingService;
use wf_proto::routing::v1::{DeclineReason, EscalationReason, OfferStatus};
use wf_routing::app::route::{REASON_REFERRAL_RECEIVED, Routed};
use wf_routing::domain::ReferralFacts;
use wf_routing::store::decisions::{self, DecisionFilter};
use wf_routing::store::escalations::{self, EscalationRecord};
use wf_routing::store::offers::{self, OfferFilter, OfferRecord};
use wf_routing::{OfferError, store};
use wf_testkit::{Engine, both_engines};
use wf_types::{Clock, TestClock};

use crate::harness::Harness;
use crate::{HARBOR_SHELTER_ORG, HARBOR_SHELTER_SERVICE, received, referral, request_as};

async fn start(engine: Engine) -> (Harness, TestClock) {
    let clock = TestClock::at(Utc::now());
    (Harness::start_with_clock(engine, clock.shared()).await, clock)
}

/// An urgent referral the shelter is eligible for, received now by `clock`.
fn received_now(clock: &TestClock) -> ReferralReceived {
    ReferralReceived {
        received_at: Some(wf_proto::time::timestamp(clock.now())),
        ..referral(&["emergency_shelter", "crisis_intervention"])
    }
}

fn closure(referral_id: &str, at: DateTime<Utc>) -> Envelope {
    let event = ReferralClosed {
        referral_id: referral_id.into(),
        reason: wf_proto::intake::v1::ReferralClosureReason::Duplicate as i32,
        closed_at: Some(wf_proto::time::timestamp(at)),
        practice: true,
        ..Default::default()
    };
    Envelope::new("intake", referral_id, referral_id, &event)
}

async fn offers_of(h: &Harness, referral_id: &str) -> Vec<OfferRecord> {
    let filter = OfferFilter { referral_id: referral_id.into(), include_practice: true, ..Default::default() };
    offers::list_offers(&h.db, &filter, "", 50).await.unwrap()
}

async fn escalations_of(h: &Harness, referral_id: &str) -> Vec<EscalationRecord> {
    escalations::escalations_of(&h.db, referral_id).await.unwrap()
}

async fn decision_count(h: &Harness, referral_id: &str) -> usize {
    let filter = DecisionFilter { referral_id: referral_id.into(), ..Default::default() };
    decisions::list_decisions(&h.db, &filter, "", 50).await.unwrap().len()
}

/// One pass of the time-limit worker, at the instant the clock reads.
async fn time_limit_pass(h: &Harness) {
    let stop = CancellationToken::new();
    stop.cancel();
    h.routing.run_time_limits(stop).await;
}

/// Routes a new referral (offered to the shelter) and returns its one offer.
async fn offered(h: &Harness, clock: &TestClock) -> OfferRecord {
    let event = received_now(clock);
    h.handler.handle(received(&event)).await.unwrap();
    let offers = offers_of(h, &event.referral_id).await;
    assert_eq!(offers.len(), 1, "{offers:?}");
    assert_eq!(
        (offers[0].partner_service_id.as_str(), offers[0].status),
        (HARBOR_SHELTER_SERVICE, OfferStatus::Pending)
    );
    offers[0].clone()
}

/// The closure as routing records it, without withdrawing the open offer: the state a closure
/// leaves when it did not see an offer being made at the same time.
async fn closed_behind_its_offer(h: &Harness, referral_id: &str, at: DateTime<Utc>) {
    let mut tx = h.db.begin().await.unwrap();
    store::time_limits::record_closed(&mut tx, referral_id, wf_db::to_micros(at)).await.unwrap();
    tx.commit().await.unwrap();
}

/// The closure arrives before the receipt (the queues do not order them): routing records the
/// receipt but decides, offers and escalates nothing, however long it waits; a later re-triage is
/// taken without effect rather than retried.
async fn a_referral_closed_before_routing_saw_it_is_never_offered_nor_escalated(engine: Engine) {
    let (h, clock) = start(engine).await;
    let event = received_now(&clock);
    h.handler.handle(closure(&event.referral_id, clock.now())).await.unwrap();
    h.handler.handle(received(&event)).await.unwrap();
    assert!(offers_of(&h, &event.referral_id).await.is_empty(), "no offer for a closed referral");
    assert_eq!(decision_count(&h, &event.referral_id).await, 0);

    let triage = ReferralTriaged {
        referral_id: event.referral_id.clone(),
        triage_tier: TriageTier::Emergent as i32,
        triage_reason: "screening_result".into(),
        practice: true,
        triaged_at: Some(wf_proto::time::timestamp(clock.now())),
        ..Default::default()
    };
    let triaged = Envelope::new("intake", &event.referral_id, &event.referral_id, &triage);
    h.handler.handle(triaged).await.expect("a triage of a closed referral is taken, not retried");

    clock.advance(Duration::days(3));
    time_limit_pass(&h).await;
    assert_eq!(h.routing.router(h.relay.handle()).expire_due().await.unwrap(), 0);
    assert!(offers_of(&h, &event.referral_id).await.is_empty());
    assert!(escalations_of(&h, &event.referral_id).await.is_empty(), "no time limit escalated for it");
    h.finish().await;
}

/// An offer still open on a referral whose closure routing has recorded (made while the closure was
/// written, before this was fixed): the partner cannot accept it (`FAILED_PRECONDITION` naming the
/// referral), a decline is recorded without a re-route, and at its deadline it is withdrawn —
/// neither expired nor re-routed nor escalated.
async fn an_offer_open_on_a_closed_referral_is_not_accepted_re_routed_or_expired(engine: Engine) {
    let (h, clock) = start(engine).await;
    let router = h.routing.router(h.relay.handle());
    let to_accept = offered(&h, &clock).await;
    let to_expire = offered(&h, &clock).await;
    for offer in [&to_accept, &to_expire] {
        closed_behind_its_offer(&h, &offer.referral_id, clock.now()).await;
    }

    let accept = pb::AcceptOfferRequest { offer_id: to_accept.offer_id.clone() };
    let err = h.routing.api().accept_offer(request_as(Role::Partner, accept)).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    let expected = format!("referral {} is closed; its offer can no longer be accepted", to_accept.referral_id);
    assert_eq!(err.message(), expected);
    let refused = router.accept(&to_accept.offer_id, HARBOR_SHELTER_ORG, "usr_partner").await;
    assert!(matches!(&refused, Err(OfferError::ReferralClosed(id)) if *id == to_accept.referral_id), "{refused:?}");
    let stored = offers::get_offer(h.db.pool(), &to_accept.offer_id).await.unwrap().unwrap();
    assert_eq!(stored.status, OfferStatus::Pending, "a refused accept changes nothing");

    let (declined, routed) = router
        .decline(&to_accept.offer_id, HARBOR_SHELTER_ORG, "usr_partner", DeclineReason::NeedsExceedScope, "")
        .await
        .unwrap();
    assert_eq!((declined.status, routed), (OfferStatus::Declined, Routed::ReferralClosed));
    assert_eq!(offers_of(&h, &to_accept.referral_id).await.len(), 1, "no next offer after the decline");
    assert_eq!(decision_count(&h, &to_accept.referral_id).await, 1);

    clock.advance(Duration::hours(24) + Duration::seconds(1));
    assert_eq!(router.expire_due().await.unwrap(), 0, "nothing expired");
    let stored = offers::get_offer(h.db.pool(), &to_expire.offer_id).await.unwrap().unwrap();
    assert_eq!((stored.status, stored.responded_by.as_deref()), (OfferStatus::Withdrawn, Some("routing")));
    assert_eq!(offers_of(&h, &to_expire.referral_id).await.len(), 1, "not re-routed");
    let withdrawn: Vec<OfferWithdrawn> = h.relayed("offer.withdrawn").await;
    assert_eq!(
        withdrawn.iter().map(|w| (w.offer_id.as_str(), w.reason.as_str())).collect::<Vec<_>>(),
        vec![(to_expire.offer_id.as_str(), "referral_closed")]
    );

    time_limit_pass(&h).await;
    for offer in [&to_accept, &to_expire] {
        assert!(escalations_of(&h, &offer.referral_id).await.is_empty(), "nothing escalated for {}", offer.referral_id);
    }
    h.finish().await;
}

/// Staff cannot re-route a closed referral (`FAILED_PRECONDITION` naming the referral); its open
/// escalation is resolved by the closure itself (`referral_closed`, with `escalation.resolved`), so
/// it leaves the open queue and nothing can be offered for it by hand.
async fn staff_cannot_reroute_or_offer_by_hand_a_closed_referral(engine: Engine) {
    let (h, clock) = start(engine).await;
    let api = h.routing.api();
    let offer = offered(&h, &clock).await;
    h.handler.handle(closure(&offer.referral_id, clock.now())).await.unwrap();
    let reroute = pb::RerouteReferralRequest {
        referral_id: offer.referral_id.clone(),
        reason: "needs_changed".into(),
        withdraw_pending_offer: true,
        ..Default::default()
    };
    let err = api.reroute_referral(request_as(Role::ProgramManager, reroute)).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    assert_eq!(err.message(), format!("referral {} is closed; a closed referral is not re-routed", offer.referral_id));
    assert_eq!(offers_of(&h, &offer.referral_id).await.len(), 1, "no new offer");
    assert_eq!(decision_count(&h, &offer.referral_id).await, 1, "no new decision");

    // Nobody serves childcare: the referral escalates, then staff close it.
    let unmatched =
        ReferralReceived { received_at: Some(wf_proto::time::timestamp(clock.now())), ..referral(&["childcare"]) };
    h.handler.handle(received(&unmatched)).await.unwrap();
    let raised = escalations_of(&h, &unmatched.referral_id).await;
    assert_eq!(raised.len(), 1, "{raised:?}");
    assert_eq!(raised[0].reason, EscalationReason::NoEligiblePartner);
    h.handler.handle(closure(&unmatched.referral_id, clock.now())).await.unwrap();
    // The closure resolved it: the supervisors' queue holds only referrals someone must still match.
    let after = escalations::get_escalation(h.db.pool(), &raised[0].escalation_id).await.unwrap().unwrap();
    assert_eq!(
        (after.resolution.as_deref(), after.resolved_by.as_deref(), after.resolved_at.is_some()),
        (Some("referral_closed"), Some("routing"), true),
        "{after:?}"
    );
    let open = pb::ListEscalationsRequest { open_only: true, ..Default::default() };
    let listed = api.list_escalations(request_as(Role::ProgramManager, open)).await.unwrap().into_inner();
    assert!(
        listed.escalations.iter().all(|e| e.referral_id != unmatched.referral_id),
        "a closed referral's escalation is still in the open queue: {:?}",
        listed.escalations
    );
    let resolved: Vec<wf_proto::events::v1::EscalationResolved> = h.relayed("escalation.resolved").await;
    assert!(
        resolved.iter().any(|r| r.escalation_id == raised[0].escalation_id && r.resolution == "referral_closed"),
        "{resolved:?}"
    );
    // Nothing can be offered by hand for it any more.
    let by_hand = pb::ResolveEscalationRequest {
        escalation_id: raised[0].escalation_id.clone(),
        partner_service_id: HARBOR_SHELTER_SERVICE.into(),
        resolution: "offered_manually".into(),
    };
    let err = api.resolve_escalation(request_as(Role::ProgramManager, by_hand)).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    assert!(offers_of(&h, &unmatched.referral_id).await.is_empty(), "no offer made by hand");
    h.finish().await;
}

/// The two orders a closure and an offer being made can meet in, each as two tasks: a closure
/// written while the first offer is being made waits for it and then withdraws it; an offer being
/// made while a closure is written waits for it and then makes none. And a partner accepting while
/// the closure withdraws the offer gets `withdrawn`, never an accepted offer on a closed referral.
async fn a_closure_and_an_offer_made_at_once_never_leave_an_offer_on_a_closed_referral(engine: Engine) {
    let (h, clock) = start(engine).await;
    let router = h.routing.router(h.relay.handle());
    let pause = || tokio::time::sleep(StdDuration::from_millis(300));

    // The offer first: the closure waits for the referral's lock, then withdraws the offer.
    let event = received_now(&clock);
    let facts = ReferralFacts::from_event(&event).unwrap();
    let mut making = h.db.begin().await.unwrap();
    let routed = router
        .route(&mut making, &facts, 1, REASON_REFERRAL_RECEIVED, "evt_test", EscalationReason::NoEligiblePartner)
        .await
        .unwrap();
    assert!(matches!(routed, Routed::Offered { .. }), "{routed:?}");
    let closing = {
        let (handler, envelope) = (h.handler.clone(), closure(&event.referral_id, clock.now()));
        tokio::spawn(async move { handler.handle(envelope).await })
    };
    pause().await;
    assert!(!closing.is_finished(), "the closure waits for the offer being made");
    making.commit().await.unwrap();
    closing.await.unwrap().unwrap();
    let offers = offers_of(&h, &event.referral_id).await;
    assert_eq!(offers.iter().map(|o| o.status).collect::<Vec<_>>(), vec![OfferStatus::Withdrawn]);

    // The closure first: routing the referral waits for it, then makes no offer.
    let event = received_now(&clock);
    let mut closing = h.db.begin().await.unwrap();
    router.on_referral_closed(&mut closing, &event.referral_id, wf_db::to_micros(clock.now())).await.unwrap();
    let routing = {
        let (handler, envelope) = (h.handler.clone(), received(&event));
        tokio::spawn(async move { handler.handle(envelope).await })
    };
    pause().await;
    assert!(!routing.is_finished(), "routing waits for the closure being written");
    closing.commit().await.unwrap();
    routing.await.unwrap().unwrap();
    assert!(offers_of(&h, &event.referral_id).await.is_empty(), "no offer for a referral closed first");
    assert_eq!(decision_count(&h, &event.referral_id).await, 0);

    // An accept while the closure withdraws the offer.
    let offer = offered(&h, &clock).await;
    let mut closing = h.db.begin().await.unwrap();
    let withdrawn =
        router.on_referral_closed(&mut closing, &offer.referral_id, wf_db::to_micros(clock.now())).await.unwrap();
    assert_eq!(withdrawn, vec![offer.offer_id.clone()]);
    let accepting = {
        let (router, offer_id) = (router.clone(), offer.offer_id.clone());
        tokio::spawn(async move { router.accept(&offer_id, HARBOR_SHELTER_ORG, "usr_partner").await })
    };
    pause().await;
    assert!(!accepting.is_finished(), "the accept waits for the closure being written");
    closing.commit().await.unwrap();
    let refused = accepting.await.unwrap();
    assert!(matches!(refused, Err(OfferError::NotOpen("withdrawn"))), "{refused:?}");
    let stored = offers::get_offer(h.db.pool(), &offer.offer_id).await.unwrap().unwrap();
    assert_eq!(stored.status, OfferStatus::Withdrawn);
    h.finish().await;
}

/// A limit that passed while routing was not looking (down, or between passes), on a referral staff
/// closed meanwhile: nobody works it any more, so nothing is escalated; the same limit of a referral
/// still open is.
async fn a_limit_missed_but_closed_before_the_worker_looks_is_not_escalated(engine: Engine) {
    let (h, clock) = start(engine).await;
    let (closed_late, still_open) = (received_now(&clock), received_now(&clock));
    for event in [&closed_late, &still_open] {
        h.handler.handle(received(event)).await.unwrap();
    }
    clock.advance(Duration::hours(25));
    h.handler.handle(closure(&closed_late.referral_id, clock.now())).await.unwrap();
    time_limit_pass(&h).await;
    let reasons = |raised: Vec<EscalationRecord>| raised.into_iter().map(|e| e.reason).collect::<Vec<_>>();
    assert_eq!(reasons(escalations_of(&h, &closed_late.referral_id).await), vec![], "closed: not escalated");
    assert_eq!(reasons(escalations_of(&h, &still_open.referral_id).await), vec![EscalationReason::MatchDeadlineMissed]);
    h.finish().await;
}

both_engines!(
    a_referral_closed_before_routing_saw_it_is_never_offered_nor_escalated,
    a_referral_closed_before_routing_saw_it_is_never_offered_nor_escalated
);
both_engines!(
    an_offer_open_on_a_closed_referral_is_not_accepted_re_routed_or_expired,
    an_offer_open_on_a_closed_referral_is_not_accepted_re_routed_or_expired
);
both_engines!(
    staff_cannot_reroute_or_offer_by_hand_a_closed_referral,
    staff_cannot_reroute_or_offer_by_hand_a_closed_referral
);
both_engines!(
    a_closure_and_an_offer_made_at_once_never_leave_an_offer_on_a_closed_referral,
    a_closure_and_an_offer_made_at_once_never_leave_an_offer_on_a_closed_referral
);
both_engines!(
    a_limit_missed_but_closed_before_the_worker_looks_is_not_escalated,
    a_limit_missed_but_closed_before_the_worker_looks_is_not_escalated
);
