//! Offers end to end through the gRPC API of a hosted routing service with real
//! tokens: decline → re-route → accept, all-declined → escalation, and reads and refusals of
//! offers on the record.

use std::time::Duration;

use tonic::Code;
use wf_events::Envelope;
use wf_proto::events::v1 as events;
use wf_proto::routing::v1 as pb;
use wf_testkit::{both_engines, eventually};

use crate::hosted::Hosted;
use crate::{HARBOR_SHELTER_ORG, HARBOR_SHELTER_SERVICE, received, referral};

fn decline(offer_id: &str, reason: pb::DeclineReason) -> pb::DeclineOfferRequest {
    pb::DeclineOfferRequest { offer_id: offer_id.into(), reason: reason as i32, detail: String::new() }
}

both_engines!(decline_then_reroute_then_accept, |engine| async move {
    let hosted = Hosted::start(engine).await;
    let event = referral(&["emergency_shelter", "crisis_intervention"]);
    hosted.server.publish(&received(&event)).await;

    let first = hosted.pending_offer_of(&event.referral_id).await.expect("an offer is made");
    assert_eq!(
        (first.partner_id.as_str(), first.partner_service_id.as_str()),
        (HARBOR_SHELTER_ORG, HARBOR_SHELTER_SERVICE)
    );

    // Another partner cannot see or answer it; the reason code is required.
    let other = hosted.partner("org_00000000000000000000000000000001").await;
    let err =
        other.clone().accept_offer(pb::AcceptOfferRequest { offer_id: first.offer_id.clone() }).await.unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    let err = other.clone().get_offer(pb::GetOfferRequest { offer_id: first.offer_id.clone() }).await.unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    let mut shelter = hosted.partner(HARBOR_SHELTER_ORG).await;
    let err = shelter.decline_offer(decline(&first.offer_id, pb::DeclineReason::Unspecified)).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().contains("reason"), "{}", err.message());
    // A decline detail travels to the append-only audit log: a code, never a sentence.
    let sentence = "Jane Fictional said her uncle is looking for her";
    let err = shelter
        .decline_offer(pb::DeclineOfferRequest {
            detail: sentence.into(),
            ..decline(&first.offer_id, pb::DeclineReason::Other)
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().contains("detail") && !err.message().contains("Jane"), "{}", err.message());

    let declined = shelter
        .decline_offer(decline(&first.offer_id, pb::DeclineReason::NoCapacity))
        .await
        .expect("decline")
        .into_inner()
        .offer
        .unwrap();
    assert_eq!(declined.status(), pb::OfferStatus::Declined);
    assert_eq!(declined.decline_reason(), pb::DeclineReason::NoCapacity);
    let err = shelter.accept_offer(pb::AcceptOfferRequest { offer_id: first.offer_id.clone() }).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "a declined offer cannot be accepted");

    let second = hosted.pending_offer_of(&event.referral_id).await.expect("re-routed to the next candidate");
    assert_ne!(second.partner_service_id, HARBOR_SHELTER_SERVICE);
    let decisions = hosted.decisions_of(&event.referral_id).await;
    assert_eq!(decisions.iter().map(|d| d.attempt).collect::<Vec<_>>(), vec![1, 2]);
    assert_eq!(decisions[1].reason, "offer_declined");
    assert_eq!(decisions[1].partner_service_id, second.partner_service_id);

    let before =
        wf_routing::store::capacity::open_capacity_of(&hosted.db, &second.partner_service_id).await.unwrap().unwrap();
    let accepted = hosted
        .partner(&second.partner_id)
        .await
        .accept_offer(pb::AcceptOfferRequest { offer_id: second.offer_id.clone() })
        .await
        .expect("accept")
        .into_inner()
        .offer
        .unwrap();
    assert_eq!(accepted.status(), pb::OfferStatus::Accepted);
    assert_eq!(accepted.responded_by, "test-partner");
    let after =
        wf_routing::store::capacity::open_capacity_of(&hosted.db, &second.partner_service_id).await.unwrap().unwrap();
    assert_eq!(after, before - 1, "capacity is taken on accept");
    assert!(hosted.pending_offer_of(&event.referral_id).await.is_none());
    hosted.stop().await;
});

both_engines!(all_declined_escalates, |engine| async move {
    let hosted = Hosted::start(engine).await;
    let event = referral(&["emergency_shelter", "crisis_intervention"]);
    hosted.server.publish(&received(&event)).await;

    let mut declined = Vec::new();
    while let Some(offer) = hosted.pending_offer_of(&event.referral_id).await {
        assert!(!declined.contains(&offer.partner_service_id), "a service is offered the referral once");
        assert!(declined.len() < 20, "re-routing must run out of candidates");
        let mut partner = hosted.partner(&offer.partner_id).await;
        partner.decline_offer(decline(&offer.offer_id, pb::DeclineReason::NeedsExceedScope)).await.expect("decline");
        declined.push(offer.partner_service_id);
    }
    assert!(declined.len() >= 2, "the demo directory has more than one candidate: {declined:?}");

    let decisions = hosted.decisions_of(&event.referral_id).await;
    assert_eq!(decisions.len(), declined.len() + 1);
    let last = decisions.last().unwrap();
    assert_eq!(last.outcome(), pb::DecisionOutcome::Exhausted);
    assert!(last.partner_service_id.is_empty());
    let escalations = wf_routing::store::escalations::escalations_of(&hosted.db, &event.referral_id).await.unwrap();
    assert_eq!(escalations.len(), 1);
    assert_eq!(escalations[0].reason, pb::EscalationReason::AllDeclined);
    assert_eq!(escalations[0].decision_id, last.decision_id);
    hosted.stop().await;
});

/// Routing's outbox entries of `P`, oldest first, with their envelopes.
async fn outbox_of<P: wf_events::EventPayload>(hosted: &Hosted) -> Vec<(Envelope, P)> {
    let entries = hosted.outbox().await.into_iter().filter(|e| e.event_type == P::TYPE);
    entries.map(|e| (e.clone(), e.payload_as().unwrap())).collect()
}

both_engines!(offer_reads_and_refusals_are_on_the_record, |engine| async move {
    let hosted = Hosted::start(engine).await;
    let event = referral(&["emergency_shelter", "crisis_intervention"]);
    hosted.server.publish(&received(&event)).await;
    let offer = hosted.pending_offer_of(&event.referral_id).await.expect("an offer is made");
    assert_eq!(offer.partner_id, HARBOR_SHELTER_ORG);
    let reads = outbox_of::<events::RecordAccessed>(&hosted).await;
    assert!(!reads.is_empty(), "staff listing the referral's offers read them");
    for (envelope, read) in &reads {
        assert_eq!((read.actor_role.as_str(), read.purpose.as_str()), ("case_manager", "routing_review"));
        assert_eq!(
            (read.record_id.as_str(), read.fields.as_slice()),
            (offer.offer_id.as_str(), &["offer.coded".to_owned()][..])
        );
        assert_eq!(
            (envelope.aggregate_id.as_str(), envelope.correlation_id.as_str()),
            (offer.offer_id.as_str(), event.referral_id.as_str())
        );
    }
    let staff_reads = reads.len();

    // Another partner reaches for the offer three ways, and for an id nobody holds: the same
    // answers, but only the existing offer is a refusal on the record.
    const OTHER: &str = "org_00000000000000000000000000000001";
    let mut other = hosted.partner(OTHER).await;
    let unknown = wf_types::OfferId::generate().to_string();
    let answers = |status: tonic::Status| (status.code(), status.message().to_owned());
    for offer_id in [&offer.offer_id, &unknown] {
        let got = other.get_offer(pb::GetOfferRequest { offer_id: offer_id.clone() }).await.unwrap_err();
        let accepted = other.accept_offer(pb::AcceptOfferRequest { offer_id: offer_id.clone() }).await.unwrap_err();
        let declined = other.decline_offer(decline(offer_id, pb::DeclineReason::NoCapacity)).await.unwrap_err();
        for status in [got, accepted, declined] {
            assert_eq!(answers(status), (Code::NotFound, "offer not found".to_owned()));
        }
    }
    let listed = other.list_offers(pb::ListOffersRequest { include_practice: true, ..Default::default() }).await;
    assert!(listed.unwrap().into_inner().offers.is_empty());
    let recorded =
        eventually(Duration::from_secs(10), || async { outbox_of::<events::AccessRefused>(&hosted).await.len() >= 3 })
            .await;
    assert!(recorded, "the refusals reach the outbox");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let refusals: Vec<events::AccessRefused> =
        outbox_of::<events::AccessRefused>(&hosted).await.into_iter().map(|(_, refused)| refused).collect();
    let operations: Vec<&str> = refusals.iter().map(|r| r.operation.as_str()).collect();
    assert_eq!(
        operations,
        [
            "/wayfinder.routing.v1.RoutingService/GetOffer",
            "/wayfinder.routing.v1.RoutingService/AcceptOffer",
            "/wayfinder.routing.v1.RoutingService/DeclineOffer",
        ],
        "the unknown id is no refusal of a record"
    );
    for refused in &refusals {
        assert_eq!(
            (refused.record_id.as_str(), refused.reason.as_str(), refused.actor_role.as_str()),
            (offer.offer_id.as_str(), "out_of_scope", "partner")
        );
        assert_eq!(refused.actor_organization_id, OTHER);
    }
    let still = hosted.pending_offer_of(&event.referral_id).await.expect("still open");
    assert_eq!(still.offer_id, offer.offer_id, "another partner's answers changed nothing");

    // The shelter reads its offer, once alone and once in its list: one entry each.
    let mut shelter = hosted.partner(HARBOR_SHELTER_ORG).await;
    shelter.get_offer(pb::GetOfferRequest { offer_id: offer.offer_id.clone() }).await.expect("its own offer");
    let own = shelter.list_offers(pb::ListOffersRequest { include_practice: true, ..Default::default() }).await;
    assert_eq!(own.expect("its own offers").into_inner().offers.len(), 1);
    let partner_reads: Vec<events::RecordAccessed> = outbox_of::<events::RecordAccessed>(&hosted)
        .await
        .into_iter()
        .map(|(_, read)| read)
        .filter(|read| read.actor_role == "partner")
        .collect();
    assert_eq!(partner_reads.len(), 2, "{partner_reads:?}");
    for read in &partner_reads {
        assert_eq!(
            (read.record_id.as_str(), read.purpose.as_str(), read.actor_organization_id.as_str()),
            (offer.offer_id.as_str(), "service_referral", HARBOR_SHELTER_ORG)
        );
        assert_eq!(read.fields, ["offer.coded"]);
    }
    let staff_now = outbox_of::<events::RecordAccessed>(&hosted).await.len() - partner_reads.len();
    assert!(staff_now > staff_reads, "the staff check of the open offer is a read too");
    hosted.stop().await;
});
