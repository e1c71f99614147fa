//! Offers end to end through the gRPC API of a hosted routing service with real
//! tokens: decline → re-route → accept, and all-declined → escalation.

use tonic::Code;
use wf_proto::routing::v1 as pb;
use wf_testkit::both_engines;

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
