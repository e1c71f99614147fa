//! A referral re-triaged after routing (`referral.triaged`): an upgrade moves the open offer's
//! deadline earlier (and the expiry worker keeps to it), a downgrade never moves it later, an
//! emergent tier withdraws an offer to a service that is not around the clock and re-routes,
//! an open escalation's deadline and tier follow an upgrade (never a downgrade), and a
//! redelivered, early or stale event changes nothing.

use chrono::{DateTime, Duration, Utc};
use wf_events::{Envelope, EventHandler, HandleError};
use wf_proto::common::v1::TriageTier;
use wf_proto::events::v1::{OfferWithdrawn, ReferralTriaged};
use wf_proto::routing::v1::{EscalationReason, OfferStatus};
use wf_routing::store::decisions::{self, DecisionFilter};
use wf_routing::store::escalations;
use wf_routing::store::offers::{self, OfferFilter, OfferRecord};
use wf_testkit::{Engine, both_engines};
use wf_types::{Clock, TestClock};

use crate::harness::Harness;
use crate::{HARBOR_SHELTER_SERVICE, received, referral};

const MINUTE: i64 = 60 * 1_000_000;
const HOUR: i64 = 60 * MINUTE;

fn triaged(referral_id: &str, tier: TriageTier, at: DateTime<Utc>) -> Envelope {
    let event = ReferralTriaged {
        referral_id: referral_id.into(),
        triage_tier: tier as i32,
        triage_reason: "screening_result".into(),
        practice: true,
        triaged_at: Some(wf_proto::time::timestamp(at)),
        ..Default::default()
    };
    Envelope::new("intake", referral_id, referral_id, &event)
}

async fn offers_of(h: &Harness, referral_id: &str) -> Vec<OfferRecord> {
    let filter = OfferFilter { referral_id: referral_id.into(), include_practice: true, ..Default::default() };
    offers::list_offers(&h.db, &filter, "", 10).await.unwrap()
}

async fn start(engine: Engine) -> (Harness, TestClock) {
    let clock = TestClock::at(Utc::now());
    (Harness::start_with_clock(engine, clock.shared()).await, clock)
}

/// Routine → emergent while the 24/7 shelter holds the offer: the 48-hour deadline becomes
/// 90 minutes from the offer, the expiry worker expires it then (not before), and the re-route
/// decides under the emergent tier.
async fn an_upgrade_moves_the_deadline_earlier_and_expiry_keeps_to_it(engine: Engine) {
    let (h, clock) = start(engine).await;
    let mut event = referral(&["emergency_shelter", "crisis_intervention"]);
    event.triage_tier = TriageTier::Routine as i32;
    h.handler.handle(received(&event)).await.unwrap();
    let offer = offers_of(&h, &event.referral_id).await.remove(0);
    assert_eq!(offer.partner_service_id, HARBOR_SHELTER_SERVICE);
    assert_eq!(offer.deadline - offer.offered_at, 48 * HOUR, "routine: 48 hours");

    clock.advance(Duration::minutes(20));
    h.handler.handle(triaged(&event.referral_id, TriageTier::Emergent, clock.now())).await.unwrap();
    let offers = offers_of(&h, &event.referral_id).await;
    assert_eq!(offers.len(), 1, "the shelter answers around the clock: the offer stays");
    assert_eq!(offers[0].status, OfferStatus::Pending);
    assert_eq!(offers[0].deadline, offer.offered_at + 90 * MINUTE, "emergent: 90 minutes from the offer");

    let router = h.routing.router(h.relay.handle());
    clock.advance(Duration::minutes(69)); // 89 minutes after the offer
    assert_eq!(router.expire_due().await.unwrap(), 0);
    clock.advance(Duration::minutes(2)); // 91 minutes after the offer
    assert_eq!(router.expire_due().await.unwrap(), 1);
    let offers = offers_of(&h, &event.referral_id).await;
    assert_eq!(offers[0].status, OfferStatus::Expired);

    let filter = DecisionFilter { referral_id: event.referral_id.clone(), ..Default::default() };
    let decisions = decisions::list_decisions(&h.db, &filter, "", 10).await.unwrap();
    assert_eq!(decisions.len(), 2);
    assert_eq!(decisions[0].triage_tier, TriageTier::Routine, "a stored decision keeps its facts");
    assert_eq!((decisions[1].reason.as_str(), decisions[1].triage_tier), ("offer_expired", TriageTier::Emergent));
    assert_eq!(decisions[1].deadline - decisions[1].decided_at, 90 * MINUTE);
    h.finish().await;
}

/// Urgent → routine: the 24-hour deadline stays (never later), and expiry still comes at 24 hours.
async fn a_downgrade_keeps_the_deadline(engine: Engine) {
    let (h, clock) = start(engine).await;
    let event = referral(&["emergency_shelter", "crisis_intervention"]);
    h.handler.handle(received(&event)).await.unwrap();
    let offer = offers_of(&h, &event.referral_id).await.remove(0);
    assert_eq!(offer.deadline - offer.offered_at, 24 * HOUR, "urgent: 24 hours");

    clock.advance(Duration::hours(1));
    h.handler.handle(triaged(&event.referral_id, TriageTier::Routine, clock.now())).await.unwrap();
    let after = offers_of(&h, &event.referral_id).await.remove(0);
    assert_eq!((after.status, after.deadline), (OfferStatus::Pending, offer.deadline));

    clock.advance(Duration::hours(23) + Duration::seconds(1));
    assert_eq!(h.routing.router(h.relay.handle()).expire_due().await.unwrap(), 1);
    let filter = DecisionFilter { referral_id: event.referral_id.clone(), ..Default::default() };
    let decisions = decisions::list_decisions(&h.db, &filter, "", 10).await.unwrap();
    assert_eq!(decisions[1].triage_tier, TriageTier::Routine, "the re-route decides under the new tier");
    h.finish().await;
}

/// Routine → emergent while a service without 24/7 response holds the offer: it is withdrawn
/// (`offer.withdrawn`, reason `triage_changed`) and the referral re-routed under the emergent
/// rules; the same event delivered again, and an older triage arriving late, change nothing.
async fn an_emergent_upgrade_withdraws_an_offer_the_rules_exclude_once(engine: Engine) {
    let (h, clock) = start(engine).await;
    let mut event = referral(&["mental_health"]);
    event.triage_tier = TriageTier::Routine as i32;
    h.handler.handle(received(&event)).await.unwrap();
    let offer = offers_of(&h, &event.referral_id).await.remove(0);
    let directory = wf_routing::Directory::demo().unwrap();
    assert!(!directory.service(&offer.partner_service_id).unwrap().available_24_7, "{offer:?}");

    let earlier = clock.now();
    clock.advance(Duration::minutes(5));
    let upgrade = triaged(&event.referral_id, TriageTier::Emergent, clock.now());
    h.handler.handle(upgrade.clone()).await.unwrap();
    h.handler.handle(upgrade).await.unwrap();
    // An older triage (routine) delivered after the newer one.
    h.handler.handle(triaged(&event.referral_id, TriageTier::Routine, earlier)).await.unwrap();

    let offers = offers_of(&h, &event.referral_id).await;
    assert_eq!(offers.len(), 1, "no mental health service of the demo directory answers around the clock");
    assert_eq!(offers[0].status, OfferStatus::Withdrawn);
    let escalations = escalations::escalations_of(&h.db, &event.referral_id).await.unwrap();
    assert_eq!(escalations.len(), 1);
    assert_eq!(
        (escalations[0].triage_tier, escalations[0].reason),
        (TriageTier::Emergent, EscalationReason::NoEligiblePartner)
    );
    assert_eq!(escalations[0].deadline - escalations[0].escalated_at, 90 * MINUTE);
    let filter = DecisionFilter { referral_id: event.referral_id.clone(), ..Default::default() };
    let decisions = decisions::list_decisions(&h.db, &filter, "", 10).await.unwrap();
    assert_eq!(decisions.len(), 2, "one re-route however often the event comes: {decisions:?}");
    assert_eq!((decisions[1].reason.as_str(), decisions[1].triage_tier), ("referral_triaged", TriageTier::Emergent));
    assert_eq!(decisions[1].deadline - decisions[1].decided_at, 90 * MINUTE);
    let excluded = decisions[1].candidates.iter().find(|c| c.partner_service_id == offer.partner_service_id).unwrap();
    assert!(!excluded.eligible);

    let withdrawn: Vec<OfferWithdrawn> = h.relayed("offer.withdrawn").await;
    assert_eq!(withdrawn.len(), 1);
    assert_eq!(
        (withdrawn[0].offer_id.as_str(), withdrawn[0].reason.as_str()),
        (offer.offer_id.as_str(), "triage_changed")
    );
    h.finish().await;
}

/// A triage that overtakes `referral.received` is retried (no inbox record kept) and takes
/// effect once the referral is routed; a triage without a tier is refused for good.
async fn a_triage_before_routing_is_retried(engine: Engine) {
    let (h, clock) = start(engine).await;
    let mut event = referral(&["emergency_shelter", "crisis_intervention"]);
    event.triage_tier = TriageTier::Routine as i32;
    let early = triaged(&event.referral_id, TriageTier::Urgent, clock.now());
    let err = h.handler.handle(early.clone()).await.unwrap_err();
    assert!(matches!(err, HandleError::Transient(_)), "{err}");

    h.handler.handle(received(&event)).await.unwrap();
    h.handler.handle(early).await.unwrap();
    let offer = offers_of(&h, &event.referral_id).await.remove(0);
    assert_eq!(offer.deadline - offer.offered_at, 24 * HOUR, "the retried triage applied: urgent");

    let no_tier = triaged(&event.referral_id, TriageTier::Unspecified, clock.now());
    let err = h.handler.handle(no_tier).await.unwrap_err();
    assert!(matches!(err, HandleError::Permanent(_)), "{err}");
    h.finish().await;
}

/// Routine → urgent → emergent while the referral waits in the escalation queue (no partner offers
/// childcare): each upgrade moves the open escalation's deadline to the new tier's window from when
/// it was escalated and gives it the new tier; a downgrade afterwards changes neither.
async fn an_upgrade_moves_an_open_escalation_earlier_and_a_downgrade_keeps_it(engine: Engine) {
    let (h, clock) = start(engine).await;
    let mut event = referral(&["childcare"]);
    event.triage_tier = TriageTier::Routine as i32;
    h.handler.handle(received(&event)).await.unwrap();
    let escalation = escalations::escalations_of(&h.db, &event.referral_id).await.unwrap().remove(0);
    assert_eq!(escalation.triage_tier, TriageTier::Routine);
    assert_eq!(escalation.deadline - escalation.escalated_at, 48 * HOUR, "routine: 48 hours");

    clock.advance(Duration::minutes(10));
    h.handler.handle(triaged(&event.referral_id, TriageTier::Urgent, clock.now())).await.unwrap();
    let after = escalations::escalations_of(&h.db, &event.referral_id).await.unwrap();
    assert_eq!(after.len(), 1, "the same escalation, not a new one");
    assert_eq!(after[0].escalation_id, escalation.escalation_id);
    assert_eq!(
        (after[0].triage_tier, after[0].deadline),
        (TriageTier::Urgent, escalation.escalated_at + 24 * HOUR),
        "urgent: 24 hours from the escalation"
    );

    clock.advance(Duration::minutes(10));
    h.handler.handle(triaged(&event.referral_id, TriageTier::Emergent, clock.now())).await.unwrap();
    let after = escalations::escalations_of(&h.db, &event.referral_id).await.unwrap().remove(0);
    assert_eq!((after.triage_tier, after.deadline), (TriageTier::Emergent, escalation.escalated_at + 90 * MINUTE));

    clock.advance(Duration::minutes(10));
    h.handler.handle(triaged(&event.referral_id, TriageTier::Routine, clock.now())).await.unwrap();
    let downgraded = escalations::escalations_of(&h.db, &event.referral_id).await.unwrap().remove(0);
    assert_eq!(
        (downgraded.triage_tier, downgraded.deadline),
        (TriageTier::Emergent, escalation.escalated_at + 90 * MINUTE),
        "a downgrade never moves it later"
    );
    h.finish().await;
}

both_engines!(
    an_upgrade_moves_the_deadline_earlier_and_expiry_keeps_to_it,
    an_upgrade_moves_the_deadline_earlier_and_expiry_keeps_to_it
);
both_engines!(a_downgrade_keeps_the_deadline, a_downgrade_keeps_the_deadline);
both_engines!(
    an_emergent_upgrade_withdraws_an_offer_the_rules_exclude_once,
    an_emergent_upgrade_withdraws_an_offer_the_rules_exclude_once
);
both_engines!(a_triage_before_routing_is_retried, a_triage_before_routing_is_retried);
both_engines!(
    an_upgrade_moves_an_open_escalation_earlier_and_a_downgrade_keeps_it,
    an_upgrade_moves_an_open_escalation_earlier_and_a_downgrade_keeps_it
);
