//! Every filter of ListOffers, ListDecisions and ListEscalations narrows the answer to what it
//! names (each checked against the unfiltered list), and an invalid filter value is
//! INVALID_ARGUMENT naming its field. Decisions name the offer they made.

use chrono::{DateTime, Duration, Utc};
use tonic::Code;
use wf_auth::Role;
use wf_events::EventHandler;
use wf_proto::common::v1::{Site, TimeRange, TriageTier};
use wf_proto::routing::v1 as pb;
use wf_proto::routing::v1::routing_service_server::RoutingService;
use wf_routing::RoutingApi;
use wf_testkit::{Engine, both_engines};
use wf_types::{Clock, TestClock};

use crate::harness::Harness;
use crate::{HARBOR_SHELTER_ORG, HARBOR_SHELTER_SERVICE, received, referral, request_as};

fn range(start: Option<DateTime<Utc>>, end: Option<DateTime<Utc>>) -> Option<TimeRange> {
    Some(TimeRange { start: start.map(wf_proto::time::timestamp), end: end.map(wf_proto::time::timestamp) })
}

async fn offers(api: &RoutingApi, request: pb::ListOffersRequest) -> Vec<pb::Offer> {
    api.list_offers(request_as(Role::CaseManager, request)).await.expect("list offers").into_inner().offers
}

fn ids<T>(items: &[T], id: impl Fn(&T) -> &str) -> Vec<String> {
    let mut ids: Vec<String> = items.iter().map(|item| id(item).to_owned()).collect();
    ids.sort();
    ids
}

fn offer_ids(offers: &[pb::Offer]) -> Vec<String> {
    ids(offers, |o| o.offer_id.as_str())
}

/// `narrowed` is a strict part of `all` and exactly `expected`.
fn assert_narrows(all: &[String], narrowed: &[String], expected: &[String], filter: &str) {
    assert!(narrowed.len() < all.len(), "{filter} narrows: {narrowed:?} of {all:?}");
    assert!(narrowed.iter().all(|id| all.contains(id)), "{filter}");
    let mut expected = expected.to_vec();
    expected.sort();
    assert_eq!(narrowed, expected.as_slice(), "{filter}");
}

fn invalid_field(status: tonic::Status, field: &str) {
    assert_eq!(status.code(), Code::InvalidArgument, "{field}: {}", status.message());
    assert!(status.message().contains(field), "{field}: {}", status.message());
}

/// Three referrals an hour apart: `a` (practice) and `b` (not practice) offered to the shelter,
/// `c` (practice) elsewhere; `a` declined by the shelter an hour later and re-routed.
async fn list_offers_honours_every_filter(engine: Engine) {
    let clock = TestClock::at(Utc::now());
    let h = Harness::start_with_clock(engine, clock.shared()).await;
    let t0 = clock.now();
    let a = referral(&["emergency_shelter", "crisis_intervention"]);
    h.handler.handle(received(&a)).await.unwrap();
    clock.advance(Duration::hours(1));
    let b = wf_proto::events::v1::ReferralReceived { practice: false, ..referral(&["emergency_shelter"]) };
    h.handler.handle(received(&b)).await.unwrap();
    clock.advance(Duration::hours(1));
    let c = referral(&["mental_health"]);
    h.handler.handle(received(&c)).await.unwrap();
    clock.advance(Duration::hours(1));
    let api = h.routing.api();
    let everything = pb::ListOffersRequest { include_practice: true, ..Default::default() };
    let first_of = |referral_id: &str, listed: &[pb::Offer]| {
        listed.iter().find(|o| o.referral_id == referral_id).expect("an offer").clone()
    };
    let listed = offers(&api, everything.clone()).await;
    let (a1, b1, c1) =
        (first_of(&a.referral_id, &listed), first_of(&b.referral_id, &listed), first_of(&c.referral_id, &listed));
    assert_eq!((a1.partner_id.as_str(), b1.partner_id.as_str()), (HARBOR_SHELTER_ORG, HARBOR_SHELTER_ORG));
    assert_ne!(c1.partner_id, HARBOR_SHELTER_ORG);
    h.routing
        .router(h.relay.handle())
        .decline(&a1.offer_id, HARBOR_SHELTER_ORG, "usr_partner", pb::DeclineReason::NoCapacity, "")
        .await
        .unwrap();
    let all = offers(&api, everything.clone()).await;
    assert_eq!(all.len(), 4);
    let a2 = all.iter().find(|o| o.referral_id == a.referral_id && o.offer_id != a1.offer_id).unwrap().clone();
    let all_ids = offer_ids(&all);
    let id = |offer: &pb::Offer| offer.offer_id.clone();

    let narrowed = |request: pb::ListOffersRequest| {
        let api = api.clone();
        async move { offer_ids(&offers(&api, request).await) }
    };
    // offered: [t0 + 30 min, t0 + 90 min) holds b's offer only; open ends work too.
    let window = pb::ListOffersRequest {
        offered: range(Some(t0 + Duration::minutes(30)), Some(t0 + Duration::minutes(90))),
        ..everything.clone()
    };
    assert_narrows(&all_ids, &narrowed(window).await, &[id(&b1)], "offered");
    let since = pb::ListOffersRequest { offered: range(Some(t0 + Duration::hours(2)), None), ..everything.clone() };
    assert_narrows(&all_ids, &narrowed(since).await, &[id(&c1), id(&a2)], "offered.start");
    let until = pb::ListOffersRequest { offered: range(None, Some(t0 + Duration::hours(1))), ..everything.clone() };
    assert_narrows(&all_ids, &narrowed(until).await, &[id(&a1)], "offered.end (exclusive)");
    let from_b = pb::ListOffersRequest { offered: range(Some(t0 + Duration::hours(1)), None), ..everything.clone() };
    assert!(narrowed(from_b).await.contains(&id(&b1)), "offered.start is inclusive");

    let partner = pb::ListOffersRequest { partner_id: HARBOR_SHELTER_ORG.into(), ..everything.clone() };
    assert_narrows(&all_ids, &narrowed(partner).await, &[id(&a1), id(&b1)], "partner_id");
    let service = pb::ListOffersRequest { partner_service_id: HARBOR_SHELTER_SERVICE.into(), ..everything.clone() };
    assert_narrows(&all_ids, &narrowed(service).await, &[id(&a1), id(&b1)], "partner_service_id");
    let by_referral = pb::ListOffersRequest { referral_id: a.referral_id.clone(), ..everything.clone() };
    assert_narrows(&all_ids, &narrowed(by_referral).await, &[id(&a1), id(&a2)], "referral_id");
    let declined = pb::ListOffersRequest { statuses: vec![pb::OfferStatus::Declined as i32], ..everything.clone() };
    assert_narrows(&all_ids, &narrowed(declined).await, &[id(&a1)], "statuses");
    let real_only = pb::ListOffersRequest { include_practice: false, ..everything.clone() };
    assert_narrows(&all_ids, &narrowed(real_only).await, &[id(&b1)], "include_practice");
    let combined = pb::ListOffersRequest {
        partner_id: HARBOR_SHELTER_ORG.into(),
        offered: range(Some(t0 + Duration::minutes(30)), None),
        ..everything.clone()
    };
    assert_narrows(&all_ids, &narrowed(combined).await, &[id(&b1)], "partner_id with offered");

    // Pages of one, in offer id order, until the last.
    let mut paged = Vec::new();
    let mut token = String::new();
    loop {
        let page = api
            .list_offers(request_as(
                Role::CaseManager,
                pb::ListOffersRequest { page_size: 1, page_token: token, ..everything.clone() },
            ))
            .await
            .unwrap()
            .into_inner();
        assert!(page.offers.len() <= 1);
        paged.extend(page.offers);
        token = page.next_page_token;
        if token.is_empty() {
            break;
        }
    }
    assert_eq!(offer_ids(&paged), all_ids, "page_size and page_token walk every offer once");

    // Invalid values name their field.
    let list = |request: pb::ListOffersRequest| {
        let api = api.clone();
        async move { api.list_offers(request_as(Role::CaseManager, request)).await.unwrap_err() }
    };
    let bad_nanos = pb::ListOffersRequest {
        offered: Some(TimeRange { start: Some(prost_types::Timestamp { seconds: 0, nanos: -1 }), end: None }),
        ..Default::default()
    };
    invalid_field(list(bad_nanos).await, "offered.start");
    let backwards =
        pb::ListOffersRequest { offered: range(Some(t0), Some(t0 - Duration::seconds(1))), ..Default::default() };
    invalid_field(list(backwards).await, "offered.end");
    invalid_field(list(pb::ListOffersRequest { partner_id: "org_x".into(), ..Default::default() }).await, "partner_id");
    invalid_field(
        list(pb::ListOffersRequest { partner_service_id: "svc_x".into(), ..Default::default() }).await,
        "partner_service_id",
    );
    invalid_field(
        list(pb::ListOffersRequest { referral_id: "ref_x".into(), ..Default::default() }).await,
        "referral_id",
    );
    invalid_field(list(pb::ListOffersRequest { statuses: vec![9], ..Default::default() }).await, "statuses[0]");
    invalid_field(list(pb::ListOffersRequest { page_size: -1, ..Default::default() }).await, "page_size");
    invalid_field(list(pb::ListOffersRequest { page_token: "x".into(), ..Default::default() }).await, "page_token");
    h.finish().await;
}

/// Two decisions under the demo policy an hour apart, then a third under a newly loaded one.
async fn list_decisions_honours_every_filter(engine: Engine) {
    let clock = TestClock::at(Utc::now());
    let h = Harness::start_with_clock(engine, clock.shared()).await;
    let t0 = clock.now();
    let api = h.routing.api();
    let first = referral(&["education"]);
    h.handler.handle(received(&first)).await.unwrap();
    clock.advance(Duration::hours(1));
    let second = referral(&["education"]);
    h.handler.handle(received(&second)).await.unwrap();
    clock.advance(Duration::hours(1));
    let demo2 = wf_routing::domain::DEMO_POLICY_DOCUMENT.replace("version = \"demo-1\"", "version = \"demo-2\"");
    let loaded = api
        .load_policy(request_as(Role::ProgramManager, pb::LoadPolicyRequest { document: demo2, dry_run: false }))
        .await
        .unwrap()
        .into_inner();
    assert!(loaded.issues.is_empty(), "{:?}", loaded.issues);
    let third = referral(&["education"]);
    h.handler.handle(received(&third)).await.unwrap();

    let list = |request: pb::ListDecisionsRequest| {
        let api = api.clone();
        async move { api.list_decisions(request_as(Role::CaseManager, request)).await }
    };
    let decisions = |request: pb::ListDecisionsRequest| async move {
        list(request).await.expect("list decisions").into_inner().decisions
    };
    let all = decisions(pb::ListDecisionsRequest::default()).await;
    assert_eq!(all.len(), 3);
    // Each decision names the offer it made (RoutingDecision.offer_id).
    for decision in &all {
        let request = pb::ListOffersRequest {
            referral_id: decision.referral_id.clone(),
            include_practice: true,
            ..Default::default()
        };
        let made = offers(&api, request).await;
        assert_eq!(made.len(), 1);
        assert_eq!(decision.offer_id, made[0].offer_id);
        let got = api
            .get_decision(request_as(
                Role::CaseManager,
                pb::GetDecisionRequest { decision_id: decision.decision_id.clone() },
            ))
            .await
            .unwrap()
            .into_inner()
            .decision
            .unwrap();
        assert_eq!(got.offer_id, made[0].offer_id);
    }
    let all_ids = ids(&all, |d| d.decision_id.as_str());
    let decision_of =
        |referral_id: &str| all.iter().find(|d| d.referral_id == referral_id).expect("a decision").decision_id.clone();
    let narrowed =
        |request: pb::ListDecisionsRequest| async move { ids(&decisions(request).await, |d| d.decision_id.as_str()) };

    let by_referral = pb::ListDecisionsRequest { referral_id: second.referral_id.clone(), ..Default::default() };
    assert_narrows(&all_ids, &narrowed(by_referral).await, &[decision_of(&second.referral_id)], "referral_id");
    let window = pb::ListDecisionsRequest {
        decided: range(Some(t0 + Duration::minutes(30)), Some(t0 + Duration::minutes(90))),
        ..Default::default()
    };
    assert_narrows(&all_ids, &narrowed(window).await, &[decision_of(&second.referral_id)], "decided");
    let until = pb::ListDecisionsRequest { decided: range(None, Some(t0 + Duration::hours(1))), ..Default::default() };
    assert_narrows(&all_ids, &narrowed(until).await, &[decision_of(&first.referral_id)], "decided.end (exclusive)");
    let old_policy = pb::ListDecisionsRequest { policy_version: "demo-1".into(), ..Default::default() };
    assert_narrows(
        &all_ids,
        &narrowed(old_policy).await,
        &[decision_of(&first.referral_id), decision_of(&second.referral_id)],
        "policy_version",
    );
    let new_policy = pb::ListDecisionsRequest { policy_version: "demo-2".into(), ..Default::default() };
    assert_narrows(&all_ids, &narrowed(new_policy).await, &[decision_of(&third.referral_id)], "policy_version");

    let error = |request: pb::ListDecisionsRequest| async move { list(request).await.unwrap_err() };
    let backwards =
        pb::ListDecisionsRequest { decided: range(Some(t0), Some(t0 - Duration::hours(1))), ..Default::default() };
    invalid_field(error(backwards).await, "decided.end");
    let bad_nanos = pb::ListDecisionsRequest {
        decided: Some(TimeRange {
            start: None,
            end: Some(prost_types::Timestamp { seconds: 0, nanos: 1_000_000_000 }),
        }),
        ..Default::default()
    };
    invalid_field(error(bad_nanos).await, "decided.end");
    let negative_nanos = pb::ListDecisionsRequest {
        decided: Some(TimeRange { start: Some(prost_types::Timestamp { seconds: 0, nanos: -5 }), end: None }),
        ..Default::default()
    };
    invalid_field(error(negative_nanos).await, "decided.start");
    invalid_field(
        error(pb::ListDecisionsRequest { referral_id: "ref_x".into(), ..Default::default() }).await,
        "referral_id",
    );
    invalid_field(error(pb::ListDecisionsRequest { page_size: -3, ..Default::default() }).await, "page_size");
    h.finish().await;
}

/// Three referrals nobody can take (nobody offers childcare): urgent in South Los Angeles, routine
/// there, urgent in the San Fernando Valley; the first one's escalation resolved.
async fn list_escalations_honours_every_filter(engine: Engine) {
    let h = Harness::start(engine).await;
    let api = h.routing.api();
    let escalate = |tier: TriageTier, site: Site| wf_proto::events::v1::ReferralReceived {
        triage_tier: tier as i32,
        site: site as i32,
        ..referral(&["childcare"])
    };
    let urgent_south = escalate(TriageTier::Urgent, Site::SouthLosAngeles);
    let routine_south = escalate(TriageTier::Routine, Site::SouthLosAngeles);
    let urgent_valley = escalate(TriageTier::Urgent, Site::SanFernandoValley);
    for event in [&urgent_south, &routine_south, &urgent_valley] {
        h.handler.handle(received(event)).await.unwrap();
    }
    let list = |request: pb::ListEscalationsRequest| {
        let api = api.clone();
        async move { api.list_escalations(request_as(Role::Supervisor, request)).await }
    };
    let escalations = |request: pb::ListEscalationsRequest| async move {
        list(request).await.expect("list escalations").into_inner().escalations
    };
    let all = escalations(pb::ListEscalationsRequest::default()).await;
    assert_eq!(all.len(), 3, "{all:?}");
    let no_match = api
        .get_decision(request_as(Role::CaseManager, pb::GetDecisionRequest { decision_id: all[0].decision_id.clone() }))
        .await
        .unwrap()
        .into_inner()
        .decision
        .unwrap();
    assert_eq!((no_match.outcome(), no_match.offer_id.as_str()), (pb::DecisionOutcome::NoMatch, ""), "no offer made");
    let all_ids = ids(&all, |e| e.escalation_id.as_str());
    let escalation_of = |referral_id: &str| {
        all.iter().find(|e| e.referral_id == referral_id).expect("an escalation").escalation_id.clone()
    };
    let resolve = pb::ResolveEscalationRequest {
        escalation_id: escalation_of(&urgent_south.referral_id),
        partner_service_id: String::new(),
        resolution: "handled_outside_network".into(),
    };
    api.resolve_escalation(request_as(Role::ProgramManager, resolve)).await.expect("resolve");
    let narrowed = |request: pb::ListEscalationsRequest| async move {
        ids(&escalations(request).await, |e| e.escalation_id.as_str())
    };

    let open = pb::ListEscalationsRequest { open_only: true, ..Default::default() };
    assert_narrows(
        &all_ids,
        &narrowed(open).await,
        &[escalation_of(&routine_south.referral_id), escalation_of(&urgent_valley.referral_id)],
        "open_only",
    );
    let valley = pb::ListEscalationsRequest { site: Site::SanFernandoValley as i32, ..Default::default() };
    assert_narrows(&all_ids, &narrowed(valley).await, &[escalation_of(&urgent_valley.referral_id)], "site");
    let urgent = pb::ListEscalationsRequest { triage_tier: TriageTier::Urgent as i32, ..Default::default() };
    assert_narrows(
        &all_ids,
        &narrowed(urgent).await,
        &[escalation_of(&urgent_south.referral_id), escalation_of(&urgent_valley.referral_id)],
        "triage_tier",
    );
    let open_urgent_south = pb::ListEscalationsRequest {
        open_only: true,
        site: Site::SouthLosAngeles as i32,
        triage_tier: TriageTier::Urgent as i32,
        ..Default::default()
    };
    assert!(narrowed(open_urgent_south).await.is_empty(), "the filters combine");
    let first_page =
        list(pb::ListEscalationsRequest { page_size: 2, ..Default::default() }).await.unwrap().into_inner();
    assert_eq!(first_page.escalations.len(), 2);
    let rest = pb::ListEscalationsRequest { page_token: first_page.next_page_token, ..Default::default() };
    let mut paged = first_page.escalations;
    paged.extend(escalations(rest).await);
    assert_eq!(ids(&paged, |e| e.escalation_id.as_str()), all_ids, "page_size and page_token");

    let error = |request: pb::ListEscalationsRequest| async move { list(request).await.unwrap_err() };
    invalid_field(error(pb::ListEscalationsRequest { site: 77, ..Default::default() }).await, "site");
    invalid_field(error(pb::ListEscalationsRequest { triage_tier: 42, ..Default::default() }).await, "triage_tier");
    invalid_field(error(pb::ListEscalationsRequest { page_size: -1, ..Default::default() }).await, "page_size");
    h.finish().await;
}

both_engines!(list_offers_honours_every_filter, list_offers_honours_every_filter);
both_engines!(list_decisions_honours_every_filter, list_decisions_honours_every_filter);
both_engines!(list_escalations_honours_every_filter, list_escalations_honours_every_filter);
