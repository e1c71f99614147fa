//! An offer carries the referral's coded facts the partner decides on (routing_service.proto
//! `Offer.needs`, `preferred_language`, `is_minor`, `age_years`), copied from the facts of the
//! decision that made it — first offers, re-routes and offers made by hand alike — and each read
//! of it stays on the record. Offers made before offers carried facts get their decision's facts
//! from the migration.

use wf_events::EventHandler;
use wf_proto::events::v1 as events;
use wf_proto::routing::v1 as pb;
use wf_routing::store::offers::{self, OfferFilter};
use wf_testkit::{Engine, both_engines};

use crate::harness::Harness;
use crate::hosted::Hosted;
use crate::{HARBOR_SHELTER_ORG, received, referral};

fn facts_of(offer: &pb::Offer) -> (Vec<&str>, &str, bool, i32) {
    (
        offer.needs.iter().map(String::as_str).collect(),
        offer.preferred_language.as_str(),
        offer.is_minor,
        offer.age_years,
    )
}

both_engines!(offers_carry_the_coded_facts_the_partner_decides_on, |engine| async move {
    let hosted = Hosted::start(engine).await;
    let event = referral(&["emergency_shelter", "crisis_intervention"]);
    hosted.server.publish(&received(&event)).await;
    let expected = (vec!["emergency_shelter", "crisis_intervention"], "es", true, 16);

    let mut shelter = hosted.partner(HARBOR_SHELTER_ORG).await;
    let listed = shelter
        .list_offers(pb::ListOffersRequest { include_practice: true, ..Default::default() })
        .await
        .expect("its own offers")
        .into_inner()
        .offers;
    assert_eq!(listed.len(), 1);
    assert_eq!(facts_of(&listed[0]), expected);
    let got = shelter
        .get_offer(pb::GetOfferRequest { offer_id: listed[0].offer_id.clone() })
        .await
        .expect("its own offer")
        .into_inner()
        .offer
        .unwrap();
    assert_eq!(facts_of(&got), expected);
    let staff = hosted.offers_of(&event.referral_id).await;
    assert_eq!(facts_of(&staff[0]), expected);

    // Both partner reads are on the record, as before.
    let partner_reads = hosted
        .outbox()
        .await
        .iter()
        .filter(|e| e.event_type == "record.accessed")
        .map(|e| e.payload_as::<events::RecordAccessed>().unwrap())
        .filter(|read| read.actor_role == "partner")
        .collect::<Vec<_>>();
    assert_eq!(partner_reads.len(), 2);
    assert!(partner_reads.iter().all(|read| read.record_id == got.offer_id && read.fields == ["offer.coded"]));

    // Declined: the re-routed offer to the next partner carries the same facts.
    let decline = pb::DeclineOfferRequest {
        offer_id: got.offer_id.clone(),
        reason: pb::DeclineReason::NoCapacity as i32,
        detail: String::new(),
    };
    shelter.decline_offer(decline).await.expect("decline");
    let next = hosted.pending_offer_of(&event.referral_id).await.expect("re-routed");
    assert_ne!(next.partner_id, HARBOR_SHELTER_ORG);
    let seen_by_next = hosted
        .partner(&next.partner_id)
        .await
        .get_offer(pb::GetOfferRequest { offer_id: next.offer_id.clone() })
        .await
        .expect("the next partner's offer")
        .into_inner()
        .offer
        .unwrap();
    assert_eq!(facts_of(&seen_by_next), expected);

    // Unknown age and no language preference: 0 and empty, as in `referral.received`.
    let mut unknown = referral(&["mental_health"]);
    (unknown.age_years, unknown.preferred_language, unknown.is_minor) = (0, String::new(), false);
    hosted.server.publish(&received(&unknown)).await;
    let offer = hosted.pending_offer_of(&unknown.referral_id).await.expect("an offer");
    assert_eq!(facts_of(&offer), (vec!["mental_health"], "", false, 0));
    hosted.stop().await;
});

/// The backfill migration gives an offer stored without facts those of its decision, and leaves
/// an offer whose decision kept no facts without any.
async fn offers_stored_before_facts_get_their_decisions_facts(engine: Engine) {
    let h = Harness::start(engine).await;
    let with_facts = referral(&["emergency_shelter", "crisis_intervention"]);
    let without_facts = referral(&["mental_health"]);
    for event in [&with_facts, &without_facts] {
        h.handler.handle(received(event)).await.unwrap();
    }
    // As the rows were before this change: no facts on the offers, and a decision from before
    // decisions kept facts.
    sqlx::query("UPDATE routing_offer SET needs = '', preferred_language = '', is_minor = 0, age_years = NULL")
        .execute(h.db.pool())
        .await
        .unwrap();
    sqlx::query("UPDATE routing_decision SET facts = '' WHERE referral_id = $1")
        .bind(&without_facts.referral_id)
        .execute(h.db.pool())
        .await
        .unwrap();
    let backfill = match h.db.backend() {
        wf_db::Backend::Postgres => include_str!("../../migrations/postgres/0151_routing_offer_facts_backfill.sql"),
        wf_db::Backend::Sqlite => include_str!("../../migrations/sqlite/0151_routing_offer_facts_backfill.sql"),
    };
    sqlx::raw_sql(backfill).execute(h.db.pool()).await.unwrap();

    let offer_of = |referral_id: &str| {
        let filter = OfferFilter { referral_id: referral_id.into(), include_practice: true, ..Default::default() };
        let db = h.db.clone();
        async move { offers::list_offers(&db, &filter, "", 10).await.unwrap().remove(0) }
    };
    let restored = offer_of(&with_facts.referral_id).await;
    assert_eq!(restored.facts.needs, vec!["emergency_shelter", "crisis_intervention"]);
    assert_eq!(
        (restored.facts.preferred_language.as_str(), restored.facts.is_minor, restored.facts.age_years),
        ("es", true, Some(16))
    );
    let bare = offer_of(&without_facts.referral_id).await;
    assert_eq!(bare.facts, wf_routing::domain::OfferFacts::default());
    h.finish().await;
}

both_engines!(
    offers_stored_before_facts_get_their_decisions_facts,
    offers_stored_before_facts_get_their_decisions_facts
);
