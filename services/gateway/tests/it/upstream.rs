//! Calls to a real service (audit, in a test server sharing the development keys) with the token
//! minted for the signed-in person; its answers mapped for pages (a partner's refusal is "not found").
//! Services that run apart are each reached at their own address (`gateway.upstreams.<service>`),
//! the others at the shared one (`gateway.upstream_url`).

use wf_auth::{TokenKind, TokenVerifier};
use wf_gateway::api::OrPage as _;
use wf_gateway::app::{Resolved, UpstreamFailure};
use wf_proto::audit::v1 as audit;
use wf_proto::cases::v1 as cases;
use wf_proto::intake::v1 as intake;
use wf_proto::routing::v1 as routing;
use wf_testkit::TestServer;

use super::*;

async fn person(h: &Harness, username: &str) -> wf_gateway::SignedIn {
    let browser = h.signed_in(username).await;
    match h.gateway.app().sessions.resolve(browser.cookie.as_deref().unwrap()).await.unwrap() {
        Resolved::Person(who) => who,
        other => panic!("not signed in: {other:?}"),
    }
}

both_engines!(a_signed_in_person_calls_the_services_with_their_own_short_lived_token, |engine| async move {
    let dir = tempfile::tempdir().unwrap();
    let audit_database = TestDatabase::new(engine).await;
    let audit_db = audit_database.migrated(&wf_audit::migrations()).await;
    let server =
        TestServer::start(audit_db, dir.path(), |ctx| async move { Ok(wf_audit::build(ctx).await? as _) }).await;
    let h = Harness::start_in(engine, dir.path(), None).await;
    h.gateway.set_upstream(&server.url()).unwrap();
    h.add("auditor1", Role::Auditor).await;
    h.add("mgarcia", Role::CaseManager).await;
    h.add("partner1", Role::Partner).await;

    let auditor = person(&h, "auditor1").await;
    let upstream = &h.gateway.app().upstream;
    let listed = upstream.audit(&auditor).unwrap().list_entries(audit::ListEntriesRequest::default()).await;
    listed.or_page(&auditor).expect("an auditor reads the audit log");

    // The token: the person's subject and role, a user token, five minutes, cached per session.
    let token = upstream.token_for(&auditor).unwrap();
    assert_eq!(upstream.token_for(&auditor).unwrap(), token, "cached for the session");
    let keys = wf_auth::load_or_create_dev_keypair(&dir.path().join("keys")).unwrap();
    let verifier = TokenVerifier::new(
        vec![(keys.kid.clone(), keys.public_pem.clone())],
        "wayfinder",
        "wayfinder",
        &[TokenKind::User, TokenKind::Partner],
    )
    .unwrap();
    let principal = verifier.verify(&token).unwrap();
    assert_eq!(
        (principal.subject.as_str(), principal.role, principal.kind),
        (auditor.user_id.as_str(), Role::Auditor, TokenKind::User)
    );

    // Staff whose role may not: 403 with the reason. A partner: 404, as for what does not exist.
    let staff = person(&h, "mgarcia").await;
    let refused = upstream.audit(&staff).unwrap().list_entries(audit::ListEntriesRequest::default()).await.unwrap_err();
    assert!(matches!(UpstreamFailure::from_status(refused, &staff), UpstreamFailure::Forbidden(_)));
    let partner = person(&h, "partner1").await;
    let partner_token = verifier.verify(&upstream.token_for(&partner).unwrap()).unwrap();
    assert_eq!(partner_token.kind, TokenKind::Partner);
    assert_eq!(partner_token.partner_id.as_deref(), Some("org_0192f1c4d5e67a8b9c0d1e2f3a4b5c6d"));
    let refused = upstream.audit(&partner).unwrap().list_entries(audit::ListEntriesRequest::default()).await;
    let page = refused.or_page(&partner).unwrap_err();
    assert!(matches!(page, wf_gateway::api::PageError::NotFound), "{page:?}");
    assert_eq!(page.status(), StatusCode::NOT_FOUND);

    // Without an upstream the pages say the services are unavailable.
    let alone = Harness::start(engine).await;
    alone.add("auditor1", Role::Auditor).await;
    let who = person(&alone, "auditor1").await;
    assert!(matches!(alone.gateway.app().upstream.audit(&who), Err(UpstreamFailure::Unavailable)));
    server.stop().await;
});

both_engines!(each_service_is_called_at_its_own_address_and_the_others_at_the_shared_one, |engine| async move {
    // Intake and routing each alone in a server of its own, as in their own containers; the
    // servers share the data folder, so the development key the gateway mints with.
    let dir = tempfile::tempdir().unwrap();
    let intake_database = TestDatabase::new(engine).await;
    let intake_db = intake_database.migrated(&wf_intake::migrations()).await;
    let intake_server =
        TestServer::start(intake_db, dir.path(), |ctx| async move { Ok(wf_intake::build(ctx).await? as _) }).await;
    let routing_database = TestDatabase::new(engine).await;
    let routing_db = routing_database.migrated(&wf_routing::migrations()).await;
    let routing_server =
        TestServer::start(routing_db, dir.path(), |ctx| async move { Ok(wf_routing::build(ctx).await? as _) }).await;
    assert_ne!(intake_server.url(), routing_server.url());

    // Two addresses of their own, no shared one: each call reaches its service (a call sent to the
    // other server would answer UNIMPLEMENTED); a service with no address is unavailable.
    let apart = Harness::start_configured(
        engine,
        dir.path(),
        None,
        vec![
            ("gateway.upstreams.intake", serde_json::json!(intake_server.url())),
            ("gateway.upstreams.routing", serde_json::json!(routing_server.url())),
        ],
    )
    .await;
    apart.add("mgarcia", Role::CaseManager).await;
    let who = person(&apart, "mgarcia").await;
    let upstream = &apart.gateway.app().upstream;
    assert!(upstream.is_configured());
    upstream
        .intake(&who)
        .unwrap()
        .list_referrals(intake::ListReferralsRequest::default())
        .await
        .expect("intake answers from its own address");
    upstream
        .routing(&who)
        .unwrap()
        .list_organizations(routing::ListOrganizationsRequest::default())
        .await
        .expect("routing answers from its own address");
    assert!(matches!(upstream.cases(&who), Err(UpstreamFailure::Unavailable)));
    assert!(matches!(upstream.audit(&who), Err(UpstreamFailure::Unavailable)));
    assert!(matches!(upstream.evaluation(&who), Err(UpstreamFailure::Unavailable)));

    // Intake at its own address, everything else at the shared one (the routing server): routing
    // answers there, and cases is sent there too (which does not host it).
    let shared = Harness::start_configured(
        engine,
        dir.path(),
        Some(routing_server.url()),
        vec![("gateway.upstreams.intake", serde_json::json!(intake_server.url()))],
    )
    .await;
    shared.add("mgarcia", Role::CaseManager).await;
    let who = person(&shared, "mgarcia").await;
    let upstream = &shared.gateway.app().upstream;
    upstream
        .intake(&who)
        .unwrap()
        .list_referrals(intake::ListReferralsRequest::default())
        .await
        .expect("intake answers from its own address, not the shared one");
    upstream
        .routing(&who)
        .unwrap()
        .list_organizations(routing::ListOrganizationsRequest::default())
        .await
        .expect("routing answers at the shared address");
    let misplaced = upstream.cases(&who).unwrap().list_cases(cases::ListCasesRequest::default()).await.unwrap_err();
    assert_eq!(misplaced.code(), tonic::Code::Unimplemented, "cases went to the shared address: {misplaced:?}");

    // A shared address set later (as the all-in-one does) moves only the services without their own.
    shared.gateway.set_upstream(&intake_server.url()).unwrap();
    let moved = upstream
        .routing(&who)
        .unwrap()
        .list_organizations(routing::ListOrganizationsRequest::default())
        .await
        .unwrap_err();
    assert_eq!(moved.code(), tonic::Code::Unimplemented, "routing follows the shared address: {moved:?}");
    upstream
        .intake(&who)
        .unwrap()
        .list_referrals(intake::ListReferralsRequest::default())
        .await
        .expect("intake still at its own address");
    intake_server.stop().await;
    routing_server.stop().await;
});
