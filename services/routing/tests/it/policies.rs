//! Routing policies through the gRPC API: validation naming line and rule, versions,
//! the audited load, the policy in force deciding later referrals, across a restart.

use tonic::Code;
use wf_auth::Role;
use wf_proto::events::v1::RoutingPolicyLoaded;
use wf_proto::routing::v1 as pb;
use wf_routing::domain::DEMO_POLICY_DOCUMENT;
use wf_testkit::both_engines;

use crate::hosted::Hosted;
use crate::{received, referral};

fn load(document: &str, dry_run: bool) -> pb::LoadPolicyRequest {
    pb::LoadPolicyRequest { document: document.into(), dry_run }
}

both_engines!(policies_are_loaded_versioned_and_put_in_force, |engine| async move {
    let hosted = Hosted::start(engine).await;
    let mut manager = hosted.manager().await;
    let demo2 = DEMO_POLICY_DOCUMENT
        .replace("version = \"demo-1\"", "version = \"demo-2\"")
        .replace("urgent_minutes = 1440", "urgent_minutes = 720");

    let err = hosted.as_role(Role::CaseManager).await.load_policy(load(&demo2, false)).await.unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    let err = manager.load_policy(load("  ", false)).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);

    // Problems name the line and the rule; nothing is loaded.
    let broken = demo2.replace("minimum_open = 1", "minimum_open = 0");
    let answer = manager.load_policy(load(&broken, false)).await.expect("validation answers").into_inner();
    assert!(answer.policy.is_none());
    assert_eq!(answer.issues.len(), 1, "{:?}", answer.issues);
    let line = broken.lines().position(|l| l.starts_with("minimum_open")).unwrap() + 1;
    assert_eq!(answer.issues[0].path, format!("line {line}, rule open_capacity"));
    assert!(answer.issues[0].message.contains("minimum_open is 0"), "{}", answer.issues[0].message);
    assert!(answer.issues[0].fatal);

    // A dry run validates and records nothing.
    let dry = manager.load_policy(load(&demo2, true)).await.unwrap().into_inner();
    assert!(dry.issues.is_empty());
    assert_eq!(dry.policy.as_ref().map(|p| (p.version.as_str(), p.active)), Some(("demo-2", false)));
    let listed = manager.list_policies(pb::ListPoliciesRequest::default()).await.unwrap().into_inner().policies;
    assert_eq!(listed.len(), 1, "only the start-up load: {listed:?}");

    let loaded = manager.load_policy(load(&demo2, false)).await.expect("load").into_inner();
    assert!(loaded.issues.is_empty(), "{:?}", loaded.issues);
    let policy = loaded.policy.unwrap();
    assert_eq!(
        (policy.version.as_str(), policy.active, policy.loaded_by.as_str()),
        ("demo-2", true, "test-program_manager")
    );
    assert_eq!(policy.sha256.len(), 32);

    // The load is an audited event.
    let events: Vec<RoutingPolicyLoaded> = hosted
        .outbox()
        .await
        .iter()
        .filter(|e| e.event_type == "routing_policy.loaded")
        .map(|e| e.payload_as().unwrap())
        .collect();
    let last = events.last().unwrap();
    assert_eq!((last.version.as_str(), last.previous_version.as_str()), ("demo-2", "demo-1"));
    assert_eq!(last.loaded_by, "test-program_manager");

    // The same version with another document is refused; loading the same document again changes nothing.
    let clash = demo2.replace("routine_minutes = 2880", "routine_minutes = 2000");
    let answer = manager.load_policy(load(&clash, false)).await.unwrap().into_inner();
    assert!(answer.policy.is_none());
    assert_eq!(answer.issues[0].path, "line 7, rule version");
    assert!(answer.issues[0].message.contains("already loaded"), "{}", answer.issues[0].message);
    manager.load_policy(load(&demo2, false)).await.unwrap();
    let listed = manager.list_policies(pb::ListPoliciesRequest::default()).await.unwrap().into_inner().policies;
    assert_eq!(
        listed.iter().map(|p| (p.version.as_str(), p.active)).collect::<Vec<_>>(),
        vec![("demo-2", true), ("demo-1", false)]
    );
    assert!(listed.iter().all(|p| p.document.is_empty()), "lists leave documents out");

    // Pages, reads by version.
    let first = manager
        .list_policies(pb::ListPoliciesRequest { page_size: 1, ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.policies[0].version, "demo-2");
    let second = manager
        .list_policies(pb::ListPoliciesRequest { page_size: 1, page_token: first.next_page_token.clone() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(second.policies[0].version, "demo-1");
    assert!(second.next_page_token.is_empty());
    let reader = hosted.as_role(Role::CaseManager).await;
    let active = reader.clone().get_policy(pb::GetPolicyRequest::default()).await.unwrap().into_inner().policy.unwrap();
    assert_eq!((active.version.as_str(), active.active, active.document.as_str()), ("demo-2", true, demo2.as_str()));
    let old = reader.clone().get_policy(pb::GetPolicyRequest { version: "demo-1".into() }).await.unwrap().into_inner();
    assert_eq!(old.policy.map(|p| (p.version, p.active)), Some(("demo-1".to_owned(), false)));
    let err = reader.clone().get_policy(pb::GetPolicyRequest { version: "demo-9".into() }).await.unwrap_err();
    assert_eq!(err.code(), Code::NotFound);

    // Later decisions use the policy in force, also after a restart.
    let event = referral(&["emergency_shelter"]);
    hosted.server.publish(&received(&event)).await;
    let decision = hosted.decisions_of(&event.referral_id).await.remove(0);
    assert_eq!(decision.policy_version, "demo-2");
    let hosted = hosted.restart().await;
    let event = referral(&["emergency_shelter"]);
    hosted.server.publish(&received(&event)).await;
    assert_eq!(hosted.decisions_of(&event.referral_id).await[0].policy_version, "demo-2");
    hosted.stop().await;
});
