//! The escalation queue, manual offers and re-routing by hand, through the gRPC API of a
//! hosted routing service.

use tonic::Code;
use wf_auth::Role;
use wf_proto::common::v1::Site;
use wf_proto::events::v1::EscalationResolved;
use wf_proto::routing::v1 as pb;
use wf_testkit::both_engines;

use crate::directory::{new_organization, new_service};
use crate::hosted::Hosted;
use crate::{HARBOR_SHELTER_ORG, HARBOR_SHELTER_SERVICE, received, referral};

async fn pending_offer(hosted: &Hosted, referral_id: &str) -> Option<pb::Offer> {
    let request =
        pb::ListOffersRequest { referral_id: referral_id.into(), include_practice: true, ..Default::default() };
    let offers = hosted.as_role(Role::CaseManager).await.list_offers(request).await.unwrap().into_inner().offers;
    offers.into_iter().find(|o| o.status() == pb::OfferStatus::Pending)
}

/// Declines every offer until the referral escalates; returns the services that declined.
async fn decline_all(hosted: &Hosted, referral_id: &str) -> Vec<String> {
    let mut declined = Vec::new();
    while let Some(offer) = pending_offer(hosted, referral_id).await {
        assert!(declined.len() < 20, "re-routing must run out of candidates");
        let request = pb::DeclineOfferRequest {
            offer_id: offer.offer_id.clone(),
            reason: pb::DeclineReason::NeedsExceedScope as i32,
            detail: String::new(),
        };
        hosted.partner(&offer.partner_id).await.decline_offer(request).await.expect("decline");
        declined.push(offer.partner_service_id);
    }
    declined
}

async fn open_escalations(hosted: &Hosted) -> Vec<pb::Escalation> {
    let request = pb::ListEscalationsRequest { open_only: true, ..Default::default() };
    hosted.as_role(Role::CaseManager).await.list_escalations(request).await.unwrap().into_inner().escalations
}

fn resolve(escalation_id: &str, service: &str, resolution: &str) -> pb::ResolveEscalationRequest {
    pb::ResolveEscalationRequest {
        escalation_id: escalation_id.into(),
        partner_service_id: service.into(),
        resolution: resolution.into(),
    }
}

both_engines!(the_program_manager_works_the_escalation_queue, |engine| async move {
    let hosted = Hosted::start(engine).await;
    let event = referral(&["emergency_shelter", "crisis_intervention"]);
    hosted.server.publish(&received(&event)).await;
    let declined = decline_all(&hosted, &event.referral_id).await;
    assert!(declined.contains(&HARBOR_SHELTER_SERVICE.to_owned()));

    // The queue: staff read it, partners do not; filters by site and tier.
    let queue = open_escalations(&hosted).await;
    assert_eq!(queue.len(), 1);
    let first = &queue[0];
    assert_eq!(
        (first.referral_id.as_str(), first.reason()),
        (event.referral_id.as_str(), pb::EscalationReason::AllDeclined)
    );
    assert!(first.resolved_at.is_none());
    let err = hosted.partner(HARBOR_SHELTER_ORG).await.list_escalations(pb::ListEscalationsRequest::default()).await;
    assert_eq!(err.unwrap_err().code(), Code::PermissionDenied);
    let mut manager = hosted.manager().await;
    let elsewhere = pb::ListEscalationsRequest { site: Site::SanFernandoValley as i32, ..Default::default() };
    assert!(manager.list_escalations(elsewhere).await.unwrap().into_inner().escalations.is_empty());
    let bad = pb::ListEscalationsRequest { triage_tier: 42, page_token: "x".into(), ..Default::default() };
    let err = manager.list_escalations(bad).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().contains("triage_tier") && err.message().contains("page_token"), "{}", err.message());

    // Resolving: precise refusals.
    let err = hosted
        .as_role(Role::CaseManager)
        .await
        .resolve_escalation(resolve(&first.escalation_id, "", "duplicate"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    let err = manager.resolve_escalation(resolve(&first.escalation_id, "", "lost_it")).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(
        err.message().contains("resolution: \"lost_it\" is not allowed; allowed: offered_manually"),
        "{}",
        err.message()
    );
    let err = manager.resolve_escalation(resolve(&first.escalation_id, "", "")).await.unwrap_err();
    assert!(err.message().contains("resolution: is required"), "{}", err.message());
    let unknown = "esc_00000000000000000000000000000000";
    let err = manager.resolve_escalation(resolve(unknown, "", "duplicate")).await.unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    let err = manager
        .resolve_escalation(resolve(&first.escalation_id, "svc_00000000000000000000000000000000", ""))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().contains("partner_service_id"), "{}", err.message());

    // A manual offer to the shelter (which declined before): eligibility is bypassed and recorded.
    let answer = manager
        .resolve_escalation(resolve(&first.escalation_id, HARBOR_SHELTER_SERVICE, ""))
        .await
        .expect("resolve with an offer")
        .into_inner();
    let resolved = answer.escalation.unwrap();
    assert_eq!(
        (resolved.resolution.as_str(), resolved.resolved_by.as_str()),
        ("offered_manually", "test-program_manager")
    );
    assert!(resolved.resolved_at.is_some());
    let offer = answer.offer.unwrap();
    assert_eq!((offer.partner_service_id.as_str(), offer.status()), (HARBOR_SHELTER_SERVICE, pb::OfferStatus::Pending));
    // An offer made by hand carries the referral's coded facts like any other.
    assert_eq!(offer.needs, ["emergency_shelter", "crisis_intervention"]);
    assert_eq!((offer.preferred_language.as_str(), offer.is_minor, offer.age_years), ("es", true, 16));
    let decisions = hosted.decisions_of(&event.referral_id).await;
    let manual = decisions.last().unwrap();
    assert_eq!((manual.reason.as_str(), manual.outcome()), ("manual", pb::DecisionOutcome::Offered));
    assert_eq!(manual.candidates[0].verdicts[0].rule_id, "manual_choice");
    assert!(manual.candidates[0].verdicts[0].detail.contains("eligibility rules bypassed"));
    assert!(open_escalations(&hosted).await.is_empty());
    let err = manager.resolve_escalation(resolve(&first.escalation_id, "", "duplicate")).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert!(err.message().contains("already resolved (offered_manually"), "{}", err.message());

    // Declined again: a new escalation. A new service appears; a re-route offers to it and
    // resolves the escalation as re-routed.
    let declined_again = decline_all(&hosted, &event.referral_id).await;
    assert_eq!(declined_again, vec![HARBOR_SHELTER_SERVICE.to_owned()]);
    let second = open_escalations(&hosted).await;
    assert_eq!(second.len(), 1);
    let org = manager
        .create_organization(pb::CreateOrganizationRequest { organization: Some(new_organization()) })
        .await
        .unwrap()
        .into_inner()
        .organization
        .unwrap();
    let service = pb::PartnerService {
        service_types: vec!["emergency_shelter".into(), "crisis_intervention".into()],
        service_areas: vec![pb::ServiceArea {
            name: "South Los Angeles".into(),
            site: Site::SouthLosAngeles as i32,
            ..Default::default()
        }],
        ..new_service(&org.organization_id)
    };
    let service = manager
        .create_partner_service(pb::CreatePartnerServiceRequest { partner_service: Some(service) })
        .await
        .unwrap()
        .into_inner()
        .partner_service
        .unwrap();
    let reroute = pb::RerouteReferralRequest {
        referral_id: event.referral_id.clone(),
        reason: "new_partner_joined".into(),
        ..Default::default()
    };
    let decision = manager.reroute_referral(reroute).await.expect("re-route").into_inner().decision.unwrap();
    assert_eq!(decision.partner_service_id, service.partner_service_id);
    assert_eq!(decision.reason, "manual");
    assert!(open_escalations(&hosted).await.is_empty());
    let resolutions: Vec<EscalationResolved> = hosted
        .outbox()
        .await
        .iter()
        .filter(|e| e.event_type == "escalation.resolved")
        .map(|e| e.payload_as().unwrap())
        .collect();
    assert_eq!(
        resolutions.iter().map(|r| (r.escalation_id.as_str(), r.resolution.as_str())).collect::<Vec<_>>(),
        vec![(first.escalation_id.as_str(), "offered_manually"), (second[0].escalation_id.as_str(), "rerouted")]
    );
    hosted.stop().await;
});

both_engines!(a_referral_is_rerouted_by_hand, |engine| async move {
    let hosted = Hosted::start(engine).await;
    let event = referral(&["emergency_shelter", "crisis_intervention"]);
    hosted.server.publish(&received(&event)).await;
    let first = pending_offer(&hosted, &event.referral_id).await.expect("an offer");
    assert_eq!(first.partner_service_id, HARBOR_SHELTER_SERVICE);
    let mut manager = hosted.manager().await;
    let request = |withdraw: bool, exclude: Vec<String>| pb::RerouteReferralRequest {
        referral_id: event.referral_id.clone(),
        reason: "needs_changed".into(),
        withdraw_pending_offer: withdraw,
        exclude_partner_ids: exclude,
    };

    let err = hosted.as_role(Role::CaseManager).await.reroute_referral(request(true, vec![])).await.unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    let no_reason = pb::RerouteReferralRequest { reason: String::new(), ..request(true, vec!["org_1".into()]) };
    let err = manager.reroute_referral(no_reason).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().contains("reason: is required"), "{}", err.message());
    assert!(err.message().contains("exclude_partner_ids[0]"), "{}", err.message());
    let unknown = pb::RerouteReferralRequest {
        referral_id: "ref_00000000000000000000000000000000".into(),
        ..request(true, vec![])
    };
    assert_eq!(manager.reroute_referral(unknown).await.unwrap_err().code(), Code::NotFound);
    let err = manager.reroute_referral(request(false, vec![])).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert!(err.message().contains("withdraw_pending_offer"), "{}", err.message());
    let stranger = request(true, vec!["org_00000000000000000000000000000009".into()]);
    let err = manager.reroute_referral(stranger).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(
        err.message().starts_with("exclude_partner_ids[0]: org_00000000000000000000000000000009 names no organization"),
        "{}",
        err.message()
    );

    // Withdraw the shelter's offer and leave out the only other eligible partner: nobody is
    // left, so the referral escalates for a person.
    let plain = manager.clone();
    let decisions_before = hosted.decisions_of(&event.referral_id).await;
    let eligible: Vec<&pb::Candidate> = decisions_before[0].candidates.iter().filter(|c| c.eligible).collect();
    assert_eq!(eligible.len(), 2, "the demo directory has two shelters for this referral");
    let runner_up = eligible[1].partner_id.clone();
    let decision = manager
        .reroute_referral(request(true, vec![runner_up.clone()]))
        .await
        .expect("re-route")
        .into_inner()
        .decision
        .unwrap();
    assert_eq!((decision.attempt, decision.reason.as_str()), (2, "manual"));
    assert_eq!(decision.outcome(), pb::DecisionOutcome::Exhausted);
    let left_out = decision.candidates.iter().find(|c| c.partner_id == runner_up).unwrap();
    assert!(!left_out.eligible, "an excluded partner fails a hard filter: {left_out:?}");
    let withdrawn = plain
        .clone()
        .get_offer(pb::GetOfferRequest { offer_id: first.offer_id.clone() })
        .await
        .unwrap()
        .into_inner()
        .offer
        .unwrap();
    assert_eq!(withdrawn.status(), pb::OfferStatus::Withdrawn);
    assert!(hosted.outbox().await.iter().any(|e| e.event_type == "offer.withdrawn"));
    let escalations = wf_routing::store::escalations::escalations_of(&hosted.db, &event.referral_id).await.unwrap();
    assert_eq!(escalations.last().unwrap().reason, pb::EscalationReason::Manual);

    // Without the exclusion the other partner gets it (the shelter already had it).
    let decision =
        manager.reroute_referral(request(false, vec![])).await.expect("re-route").into_inner().decision.unwrap();
    assert_eq!((decision.attempt, decision.partner_id.as_str()), (3, runner_up.as_str()));
    let open = wf_routing::store::escalations::list_escalations(
        &hosted.db,
        &wf_routing::store::escalations::EscalationFilter { open_only: true, ..Default::default() },
        "",
        10,
    )
    .await
    .unwrap();
    assert!(open.is_empty(), "the offer resolved the escalation: {open:?}");

    // Once a partner accepted, the referral is not re-routed.
    let second = pending_offer(&hosted, &event.referral_id).await.expect("the re-routed offer");
    hosted
        .partner(&second.partner_id)
        .await
        .accept_offer(pb::AcceptOfferRequest { offer_id: second.offer_id.clone() })
        .await
        .expect("accept");
    let err = manager.reroute_referral(request(true, vec![])).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert!(err.message().contains("was accepted"), "{}", err.message());
    hosted.stop().await;
});
