//! Routing end to end within one process: a `referral.received` envelope through the
//! handler, the outbox relay into an in-process bus, and the gRPC API over the stored
//! decisions. Every test runs on SQLite and on PostgreSQL.

mod capacity_return;
mod closed_referrals;
mod database;
mod directory;
mod escalations;
mod grpc;
mod harness;
mod hosted;
mod hsds;
mod list_filters;
mod offer_facts;
mod offers;
mod policies;
mod simulation;
mod time_limits;
mod triage;

use tonic::{Code, Request};
use wf_auth::{Principal, Role, TokenKind};
use wf_events::{Envelope, EventHandler};
use wf_proto::common::v1::{Site, TriageTier};
use wf_proto::events::v1::{OfferMade, ReferralEscalated, ReferralReceived, ReferralRouted, RoutingPolicyLoaded};
use wf_proto::routing::v1 as pb;
use wf_proto::routing::v1::routing_service_server::RoutingService;
use wf_routing::app::policy;
use wf_routing::store::decisions::{self, DecisionFilter};
use wf_routing::store::escalations::escalations_of;
use wf_routing::{LoadedPolicy, Policy};
use wf_testkit::{Engine, both_engines};
use wf_types::ReferralId;

use harness::Harness;

pub(crate) const HARBOR_SHELTER_ORG: &str = "org_e74680f37b1a4624be1014d73e963b4b";
pub(crate) const HARBOR_SHELTER_SERVICE: &str = "svc_2c2c43b486bc4bc8a526abaa47f6ec14";

pub(crate) fn referral(needs: &[&str]) -> ReferralReceived {
    ReferralReceived {
        referral_id: ReferralId::generate().to_string(),
        triage_tier: TriageTier::Urgent as i32,
        site: Site::SouthLosAngeles as i32,
        needs: needs.iter().map(|n| (*n).to_owned()).collect(),
        preferred_language: "es".into(),
        is_minor: true,
        age_years: 16,
        practice: true,
        youth_id: "yth_0192f1c4d5e67a8b9c0d1e2f3a4b5c6d".into(),
        ..Default::default()
    }
}

pub(crate) fn received(event: &ReferralReceived) -> Envelope {
    Envelope::new("intake", &event.referral_id, &event.referral_id, event)
}

fn request_as<T>(role: Role, message: T) -> Request<T> {
    let mut request = Request::new(message);
    request.extensions_mut().insert(Principal {
        subject: "usr_test".into(),
        role,
        partner_id: (role == Role::Partner).then(|| HARBOR_SHELTER_ORG.to_owned()),
        kind: if role == Role::Service { TokenKind::Service } else { TokenKind::User },
        token_id: "jti_test".into(),
    });
    request
}

async fn routes_once_and_publishes_referral_routed(engine: Engine) {
    let h = Harness::start(engine).await;
    let event = referral(&["emergency_shelter", "crisis_intervention"]);
    let envelope = received(&event);
    h.handler.handle(envelope.clone()).await.unwrap();
    h.handler.handle(envelope).await.unwrap();

    let decisions = decisions::list_decisions(&h.db, &DecisionFilter::default(), "", 10).await.unwrap();
    assert_eq!(decisions.len(), 1, "a redelivery must not store a second decision");
    let decision = &decisions[0];
    assert_eq!(decision.referral_id, event.referral_id);
    assert_eq!(decision.partner_service_id.as_deref(), Some(HARBOR_SHELTER_SERVICE));
    assert_eq!(decision.outcome, pb::DecisionOutcome::Offered);
    assert_eq!(decision.explanation, "covers 2/2 needs; language es; capacity 3 open");
    assert!(decision.practice);
    assert_eq!(decision.deadline - decision.decided_at, 24 * 3600 * 1_000_000);
    assert!(decision.candidates.iter().any(|c| !c.eligible), "excluded candidates are kept with their verdicts");
    assert_eq!(decision.candidates[0].verdicts.len(), 11);

    let report = h.relay.round().await.unwrap();
    assert_eq!((report.claimed, report.sent), (2, 2), "referral.routed and offer.made");
    assert_eq!(wf_events::outbox::pending_count(&h.db).await.unwrap(), 0);
    let published = h.published();
    assert_eq!(published.len(), 1);
    let envelope = &published[0];
    assert_eq!(envelope.event_type, "referral.routed");
    let made: Vec<OfferMade> =
        h.published_all().iter().filter(|e| e.event_type == "offer.made").map(|e| e.payload_as().unwrap()).collect();
    assert_eq!(made.len(), 1);
    assert!(made[0].offer_id.starts_with("off_"));
    assert_eq!(
        (made[0].partner_service_id.as_str(), made[0].decision_id.as_str()),
        (HARBOR_SHELTER_SERVICE, decision.decision_id.as_str())
    );
    assert_eq!(made[0].deadline.unwrap().seconds, decision.deadline / 1_000_000);
    assert_eq!(envelope.producer, "routing");
    assert_eq!(
        (envelope.aggregate_id.as_str(), envelope.correlation_id.as_str()),
        (event.referral_id.as_str(), event.referral_id.as_str())
    );
    let routed: ReferralRouted = envelope.payload_as().unwrap();
    assert_eq!(routed.referral_id, event.referral_id);
    assert_eq!(routed.decision_id, decision.decision_id);
    assert_eq!(routed.partner_id, HARBOR_SHELTER_ORG);
    assert_eq!(routed.partner_service_id, HARBOR_SHELTER_SERVICE);
    assert_eq!(routed.triage_tier(), TriageTier::Urgent);
    assert_eq!(routed.site(), Site::SouthLosAngeles);
    assert_eq!(routed.policy_version, "demo-1");
    assert_eq!(routed.reason, "referral_received");
    assert_eq!(routed.attempt, 1);
    assert!(routed.practice);
    assert_eq!(routed.deadline.unwrap().seconds, decision.deadline / 1_000_000);
    h.finish().await;
}

async fn a_second_event_for_the_same_referral_is_not_routed_again(engine: Engine) {
    let h = Harness::start(engine).await;
    let event = referral(&["mental_health"]);
    h.handler.handle(received(&event)).await.unwrap();
    // Same referral, new event id (e.g. a producer retry after a lost commit acknowledgement).
    h.handler.handle(received(&event)).await.unwrap();
    let filter = DecisionFilter { referral_id: event.referral_id.clone(), ..Default::default() };
    assert_eq!(decisions::list_decisions(&h.db, &filter, "", 10).await.unwrap().len(), 1);
    assert_eq!(h.relay.round().await.unwrap().sent, 2, "one referral.routed and one offer.made");
    h.finish().await;
}

async fn no_eligible_partner_escalates(engine: Engine) {
    let h = Harness::start(engine).await;
    let mut event = referral(&["childcare"]);
    event.triage_tier = TriageTier::Unspecified as i32;
    h.handler.handle(received(&event)).await.unwrap();
    let decisions = decisions::list_decisions(&h.db, &DecisionFilter::default(), "", 10).await.unwrap();
    assert_eq!(decisions.len(), 1);
    assert_eq!(decisions[0].outcome, pb::DecisionOutcome::NoMatch);
    assert_eq!(decisions[0].partner_id, None);
    assert_eq!(decisions[0].triage_tier, TriageTier::Routine);
    let escalations = escalations_of(&h.db, &event.referral_id).await.unwrap();
    assert_eq!(escalations.len(), 1);
    assert_eq!(escalations[0].decision_id, decisions[0].decision_id);

    assert_eq!(h.relay.round().await.unwrap().sent, 1);
    let published = h.published();
    assert_eq!(published.len(), 1);
    assert_eq!(published[0].event_type, "referral.escalated");
    let escalated: ReferralEscalated = published[0].payload_as().unwrap();
    assert_eq!(escalated.reason(), pb::EscalationReason::NoEligiblePartner);
    assert_eq!(escalated.escalation_id, escalations[0].escalation_id);
    assert_eq!(escalated.decision_id, decisions[0].decision_id);
    assert_eq!(escalated.triage_tier(), TriageTier::Routine);
    assert!(escalated.practice);
    h.finish().await;
}

async fn undecodable_referrals_fail_permanently_without_effect(engine: Engine) {
    let h = Harness::start(engine).await;
    let mut event = referral(&["mental_health"]);
    event.referral_id = "not-a-referral".into();
    let err = h.handler.handle(received(&event)).await.unwrap_err();
    assert!(matches!(err, wf_events::HandleError::Permanent(_)), "{err}");
    assert!(decisions::list_decisions(&h.db, &DecisionFilter::default(), "", 10).await.unwrap().is_empty());
    assert_eq!(h.relay.round().await.unwrap().claimed, 0);
    h.finish().await;
}

async fn decisions_are_read_and_paged_through_the_api(engine: Engine) {
    let h = Harness::start(engine).await;
    let mut referral_ids = Vec::new();
    for _ in 0..3 {
        let event = referral(&["education"]);
        referral_ids.push(event.referral_id.clone());
        h.handler.handle(received(&event)).await.unwrap();
    }
    let api = h.routing.api();
    let page = |token: String| pb::ListDecisionsRequest { page_size: 2, page_token: token, ..Default::default() };
    let first = api.list_decisions(request_as(Role::CaseManager, page(String::new()))).await.unwrap().into_inner();
    assert_eq!(first.decisions.len(), 2);
    assert_eq!(first.next_page_token, first.decisions[1].decision_id);
    let second = api.list_decisions(request_as(Role::Service, page(first.next_page_token))).await.unwrap().into_inner();
    assert_eq!(second.decisions.len(), 1);
    assert!(second.next_page_token.is_empty());
    let listed: Vec<String> = first.decisions.iter().chain(&second.decisions).map(|d| d.referral_id.clone()).collect();
    assert_eq!(listed, referral_ids, "decision ids sort by creation");

    let by_referral = pb::ListDecisionsRequest { referral_id: referral_ids[1].clone(), ..Default::default() };
    let only = api.list_decisions(request_as(Role::Supervisor, by_referral)).await.unwrap().into_inner();
    assert_eq!(only.decisions.len(), 1);

    let wanted = second.decisions[0].clone();
    let got = api
        .get_decision(request_as(
            Role::ProgramManager,
            pb::GetDecisionRequest { decision_id: wanted.decision_id.clone() },
        ))
        .await
        .unwrap()
        .into_inner()
        .decision
        .unwrap();
    assert_eq!(got, wanted);
    assert_eq!(got.outcome(), pb::DecisionOutcome::Offered);
    let best = &got.candidates[0];
    assert_eq!((best.rank, best.eligible), (1, true));
    assert!(best.verdicts.iter().any(|v| v.rule_id == "age_eligible" && v.verdict() == pb::Verdict::Pass));

    let missing = pb::GetDecisionRequest { decision_id: wf_types::DecisionId::generate().to_string() };
    assert_eq!(api.get_decision(request_as(Role::CaseManager, missing)).await.unwrap_err().code(), Code::NotFound);
    let malformed = pb::GetDecisionRequest { decision_id: "dec_x".into() };
    assert_eq!(
        api.get_decision(request_as(Role::CaseManager, malformed)).await.unwrap_err().code(),
        Code::InvalidArgument
    );
    let partner = pb::GetDecisionRequest { decision_id: wanted.decision_id };
    assert_eq!(api.get_decision(request_as(Role::Partner, partner)).await.unwrap_err().code(), Code::PermissionDenied);
    let bad_token = pb::ListDecisionsRequest { page_token: "garbage".into(), ..Default::default() };
    let err = api.list_decisions(request_as(Role::CaseManager, bad_token)).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().contains("page_token"), "{}", err.message());
    h.finish().await;
}

async fn directory_is_read_through_the_api(engine: Engine) {
    let h = Harness::start(engine).await;
    let api = h.routing.api();
    let all = pb::ListOrganizationsRequest { page_size: 4, ..Default::default() };
    let first = api.list_organizations(request_as(Role::ProgramManager, all.clone())).await.unwrap().into_inner();
    assert_eq!(first.organizations.len(), 4);
    let mut names: Vec<String> = first.organizations.iter().map(|o| o.name.clone()).collect();
    let mut token = first.next_page_token;
    while !token.is_empty() {
        let next = pb::ListOrganizationsRequest { page_token: token, ..all.clone() };
        let page = api.list_organizations(request_as(Role::Admin, next)).await.unwrap().into_inner();
        names.extend(page.organizations.iter().map(|o| o.name.clone()));
        token = page.next_page_token;
    }
    assert_eq!(names.len(), 10);
    assert!(names.contains(&"Demo CAST Case Management".to_owned()));

    let valley = pb::ListOrganizationsRequest { site: Site::SanFernandoValley as i32, ..Default::default() };
    let valley = api.list_organizations(request_as(Role::CaseManager, valley)).await.unwrap().into_inner();
    assert!(valley.organizations.iter().all(|o| o.sites.contains(&(Site::SanFernandoValley as i32))));
    assert!(!valley.organizations.is_empty());

    let korean_advocacy = pb::ListPartnerServicesRequest {
        service_type: "victim_advocacy".into(),
        language: "ko".into(),
        ..Default::default()
    };
    let services = api.list_partner_services(request_as(Role::Service, korean_advocacy)).await.unwrap().into_inner();
    assert_eq!(services.partner_services.len(), 2); // the program team and the crisis line
    assert!(services.partner_services.iter().all(|s| s.languages.contains(&"ko".to_owned())));

    let shelter = pb::GetPartnerServiceRequest { partner_service_id: HARBOR_SHELTER_SERVICE.into() };
    let shelter = api.get_partner_service(request_as(Role::CaseManager, shelter)).await.unwrap().into_inner();
    let shelter = shelter.partner_service.unwrap();
    assert_eq!(shelter.organization_id, HARBOR_SHELTER_ORG);
    assert_eq!(shelter.capacity[0].available, 3);

    let org = pb::GetOrganizationRequest { organization_id: HARBOR_SHELTER_ORG.into() };
    assert_eq!(api.get_organization(request_as(Role::Partner, org)).await.unwrap_err().code(), Code::PermissionDenied);
    let unknown = pb::GetOrganizationRequest { organization_id: "org_00000000000000000000000000000000".into() };
    assert_eq!(api.get_organization(request_as(Role::Admin, unknown)).await.unwrap_err().code(), Code::NotFound);
    let no_id = api.accept_offer(request_as(Role::Partner, pb::AcceptOfferRequest::default())).await.unwrap_err();
    assert_eq!(no_id.code(), Code::InvalidArgument);
    h.finish().await;
}

async fn a_changed_policy_is_recorded_as_an_audited_load(engine: Engine) {
    let h = Harness::start(engine).await;
    let first = wf_routing::store::policies::latest(&h.db).await.unwrap().expect("start-up records the demo policy");
    assert_eq!((first.version.as_str(), first.loaded_by.as_str()), ("demo-1", "config"));
    let now = chrono::Utc::now();
    // The same document again (a restart) records nothing.
    assert!(!policy::record_load(&h.db, &LoadedPolicy::demo(), "config", now).await.unwrap());
    assert_eq!(wf_events::outbox::pending_count(&h.db).await.unwrap(), 0);

    let document = wf_routing::domain::DEMO_POLICY_DOCUMENT
        .replace("version = \"demo-1\"", "version = \"demo-2\"")
        .replace("minimum_open = 1", "minimum_open = 2");
    let loaded = LoadedPolicy { policy: Policy::from_toml(&document).unwrap(), document };
    assert!(policy::record_load(&h.db, &loaded, "usr_pm", now).await.unwrap());
    let latest = wf_routing::store::policies::latest(&h.db).await.unwrap().unwrap();
    assert_eq!((latest.version.as_str(), latest.loaded_by.as_str()), ("demo-2", "usr_pm"));
    assert_eq!(latest.sha256, loaded.sha256_hex());
    let rows: Vec<(String, Vec<u8>)> =
        sqlx::query_as("SELECT event_type, envelope FROM event_outbox ORDER BY created_at DESC LIMIT 1")
            .fetch_all(h.db.pool())
            .await
            .unwrap();
    assert_eq!(rows[0].0, "routing_policy.loaded");
    let envelope = Envelope::decode(&rows[0].1).unwrap();
    let event: RoutingPolicyLoaded = envelope.payload_as().unwrap();
    assert_eq!((event.version.as_str(), event.previous_version.as_str()), ("demo-2", "demo-1"));
    assert_eq!(hex::encode(&event.sha256), loaded.sha256_hex());
    h.finish().await;
}

both_engines!(a_changed_policy_is_recorded_as_an_audited_load, a_changed_policy_is_recorded_as_an_audited_load);
both_engines!(routes_once_and_publishes_referral_routed, routes_once_and_publishes_referral_routed);
both_engines!(
    a_second_event_for_the_same_referral_is_not_routed_again,
    a_second_event_for_the_same_referral_is_not_routed_again
);
both_engines!(no_eligible_partner_escalates, no_eligible_partner_escalates);
both_engines!(
    undecodable_referrals_fail_permanently_without_effect,
    undecodable_referrals_fail_permanently_without_effect
);
both_engines!(decisions_are_read_and_paged_through_the_api, decisions_are_read_and_paged_through_the_api);
both_engines!(directory_is_read_through_the_api, directory_is_read_through_the_api);
