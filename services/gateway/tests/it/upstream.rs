//! Calls to a real service (audit, in a test server sharing the development keys) with the token
//! minted for the signed-in person; its answers mapped for pages (a partner's refusal is "not found").

use wf_auth::{TokenKind, TokenVerifier};
use wf_gateway::api::OrPage as _;
use wf_gateway::app::{Resolved, UpstreamFailure};
use wf_proto::audit::v1 as audit;
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
