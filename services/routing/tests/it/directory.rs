//! Directory management through the gRPC API of a hosted routing service: validation with
//! field paths, roles, optimistic concurrency, partner capacity updates, events, the
//! decisions seeing a change at once, and the changes surviving a restart.

use prost_types::Timestamp;
use tonic::Code;
use wf_auth::Role;
use wf_proto::common::v1::Site;
use wf_proto::events::v1::{CapacityUpdated, DirectoryChanged};
use wf_proto::routing::v1 as pb;
use wf_testkit::both_engines;

use crate::hosted::Hosted;
use crate::{HARBOR_SHELTER_ORG, HARBOR_SHELTER_SERVICE, received, referral};

pub(crate) fn new_organization() -> pb::Organization {
    pb::Organization {
        name: "Demo Foothill Youth Counseling".into(),
        description: "Fictional counseling partner for tests.".into(),
        website: "https://foothill.example.org".into(),
        phones: vec![pb::DirectoryPhone {
            number: "+1-555-0142".into(),
            r#type: "voice".into(),
            description: String::new(),
        }],
        in_network: true,
        active: true,
        ..Default::default()
    }
}

pub(crate) fn new_service(organization_id: &str) -> pb::PartnerService {
    pb::PartnerService {
        organization_id: organization_id.into(),
        name: "Demo Foothill Counseling".into(),
        status: pb::ServiceStatus::Active as i32,
        service_types: vec!["mental_health".into(), "crisis_intervention".into()],
        minimum_age: 12,
        maximum_age: 24,
        serves_minors: true,
        service_areas: vec![pb::ServiceArea {
            name: "San Fernando Valley".into(),
            site: Site::SanFernandoValley as i32,
            ..Default::default()
        }],
        languages: vec!["en".into(), "es".into()],
        capacity: vec![pb::Capacity { unit: "slot".into(), available: 2, maximum: 5, updated: None }],
        ..Default::default()
    }
}

fn capacity(unit: &str, available: i32, maximum: i32) -> pb::Capacity {
    pb::Capacity { unit: unit.into(), available, maximum, updated: None }
}

both_engines!(organizations_and_services_are_managed_through_the_api, |engine| async move {
    let hosted = Hosted::start(engine).await;
    let mut manager = hosted.manager().await;

    // Roles: case managers read the directory but do not change it.
    let denied = hosted
        .as_role(Role::CaseManager)
        .await
        .create_organization(pb::CreateOrganizationRequest { organization: Some(new_organization()) })
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);

    // Every problem at once, each with its field path.
    let invalid =
        pb::Organization { name: String::new(), website: "foothill.example.org".into(), ..new_organization() };
    let err =
        manager.create_organization(pb::CreateOrganizationRequest { organization: Some(invalid) }).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().contains("organization.name: must not be empty"), "{}", err.message());
    assert!(err.message().contains("organization.website"), "{}", err.message());
    let err = manager.create_organization(pb::CreateOrganizationRequest { organization: None }).await.unwrap_err();
    assert_eq!((err.code(), err.message()), (Code::InvalidArgument, "organization: is required"));

    let org = manager
        .create_organization(pb::CreateOrganizationRequest { organization: Some(new_organization()) })
        .await
        .expect("create organization")
        .into_inner()
        .organization
        .unwrap();
    assert!(org.organization_id.starts_with("org_"), "an id is assigned: {}", org.organization_id);
    assert!(org.updated_at.is_some());
    let again = manager
        .create_organization(pb::CreateOrganizationRequest { organization: Some(org.clone()) })
        .await
        .unwrap_err();
    assert_eq!(again.code(), Code::AlreadyExists);

    // A service: validation names the field and the allowed values.
    let bad = pb::PartnerService {
        service_types: vec!["astrology".into()],
        minimum_age: 25,
        maximum_age: 18,
        serves_minors: false,
        capacity: vec![capacity("slot", 6, 5)],
        ..new_service(&org.organization_id)
    };
    let err = manager
        .create_partner_service(pb::CreatePartnerServiceRequest { partner_service: Some(bad) })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    for field in
        ["partner_service.service_types[0]", "partner_service.minimum_age", "partner_service.capacity[0].available"]
    {
        assert!(err.message().contains(field), "{field} in {}", err.message());
    }
    let orphan = new_service("org_00000000000000000000000000000009");
    let err = manager
        .create_partner_service(pb::CreatePartnerServiceRequest { partner_service: Some(orphan) })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().contains("partner_service.organization_id"), "{}", err.message());

    let service = manager
        .create_partner_service(pb::CreatePartnerServiceRequest {
            partner_service: Some(new_service(&org.organization_id)),
        })
        .await
        .expect("create service")
        .into_inner()
        .partner_service
        .unwrap();
    assert!(service.partner_service_id.starts_with("svc_"));
    assert!(service.capacity[0].updated.is_some(), "capacity carries when it was reported");
    let listed = manager
        .list_organizations(pb::ListOrganizationsRequest { site: Site::SanFernandoValley as i32, ..Default::default() })
        .await
        .unwrap()
        .into_inner()
        .organizations;
    let shown = listed.iter().find(|o| o.organization_id == org.organization_id).expect("listed under its site");
    assert_eq!(shown.sites, vec![Site::SanFernandoValley as i32]);

    // The decisions see the new service at once.
    let mut event = referral(&["mental_health"]);
    event.site = Site::SanFernandoValley as i32;
    hosted.server.publish(&received(&event)).await;
    let decisions = hosted.decisions_of(&event.referral_id).await;
    let candidate = decisions[0]
        .candidates
        .iter()
        .find(|c| c.partner_service_id == service.partner_service_id)
        .expect("the new service is a candidate");
    assert!(candidate.eligible, "{candidate:?}");

    // Optimistic concurrency: an update naming an old version is refused; the current one goes through.
    let stale = pb::Organization {
        name: "Demo Foothill Counseling Center".into(),
        updated_at: Some(Timestamp { seconds: 1, nanos: 0 }),
        ..org.clone()
    };
    let err =
        manager.update_organization(pb::UpdateOrganizationRequest { organization: Some(stale) }).await.unwrap_err();
    assert_eq!(err.code(), Code::Aborted, "{}", err.message());
    let fresh = pb::Organization { name: "Demo Foothill Counseling Center".into(), ..org.clone() };
    let updated = manager
        .update_organization(pb::UpdateOrganizationRequest { organization: Some(fresh.clone()) })
        .await
        .expect("update with the current version")
        .into_inner()
        .organization
        .unwrap();
    assert_eq!(updated.name, "Demo Foothill Counseling Center");
    assert_ne!(updated.updated_at, org.updated_at, "the version moves");
    let err =
        manager.update_organization(pb::UpdateOrganizationRequest { organization: Some(fresh) }).await.unwrap_err();
    assert_eq!(err.code(), Code::Aborted, "the version it named is no longer current");
    let unknown =
        pb::Organization { organization_id: "org_00000000000000000000000000000009".into(), ..new_organization() };
    let err =
        manager.update_organization(pb::UpdateOrganizationRequest { organization: Some(unknown) }).await.unwrap_err();
    assert_eq!(err.code(), Code::NotFound);

    // A service cannot move to another organization.
    let moved = pb::PartnerService { organization_id: HARBOR_SHELTER_ORG.into(), updated_at: None, ..service.clone() };
    let err = manager
        .update_partner_service(pb::UpdatePartnerServiceRequest { partner_service: Some(moved) })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().contains("cannot move"), "{}", err.message());
    let closed = pb::PartnerService { status: pb::ServiceStatus::TemporarilyClosed as i32, ..service.clone() };
    let closed = manager
        .update_partner_service(pb::UpdatePartnerServiceRequest { partner_service: Some(closed) })
        .await
        .expect("update service")
        .into_inner()
        .partner_service
        .unwrap();
    assert_eq!(closed.status(), pb::ServiceStatus::TemporarilyClosed);

    // Events: created, created, updated, retired (the service left active status).
    let changes: Vec<(Vec<String>, String, String)> = hosted
        .outbox()
        .await
        .iter()
        .filter(|e| e.event_type == "directory.changed")
        .map(|e| e.payload_as::<DirectoryChanged>().unwrap())
        .map(|e| (e.ids, e.change, e.actor))
        .collect();
    let manager_id = "test-program_manager".to_owned();
    assert_eq!(
        changes,
        vec![
            (vec![org.organization_id.clone()], "created".to_owned(), manager_id.clone()),
            (vec![service.partner_service_id.clone()], "created".to_owned(), manager_id.clone()),
            (vec![org.organization_id.clone()], "updated".to_owned(), manager_id.clone()),
            (vec![service.partner_service_id.clone()], "retired".to_owned(), manager_id.clone()),
        ]
    );

    // The directory survives a restart.
    let hosted = hosted.restart().await;
    let reread = hosted
        .manager()
        .await
        .get_partner_service(pb::GetPartnerServiceRequest { partner_service_id: service.partner_service_id.clone() })
        .await
        .expect("the service is still there after a restart")
        .into_inner()
        .partner_service
        .unwrap();
    assert_eq!(reread.status(), pb::ServiceStatus::TemporarilyClosed);
    assert_eq!(reread.phones, closed.phones);
    let org_after = hosted
        .manager()
        .await
        .get_organization(pb::GetOrganizationRequest { organization_id: org.organization_id.clone() })
        .await
        .unwrap()
        .into_inner()
        .organization
        .unwrap();
    assert_eq!(org_after.name, "Demo Foothill Counseling Center");
    assert_eq!(org_after.phones, org.phones);
    hosted.stop().await;
});

both_engines!(partners_update_their_own_capacity_within_the_maximum, |engine| async move {
    let hosted = Hosted::start(engine).await;
    let update = |available, maximum| pb::UpdateCapacityRequest {
        partner_service_id: HARBOR_SHELTER_SERVICE.into(),
        capacity: Some(capacity("bed", available, maximum)),
    };

    // Another partner's service is not found; a case manager may not update capacity.
    let err =
        hosted.partner("org_00000000000000000000000000000001").await.update_capacity(update(1, 8)).await.unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    let err = hosted.as_role(Role::CaseManager).await.update_capacity(update(1, 8)).await.unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);

    let mut shelter = hosted.partner(HARBOR_SHELTER_ORG).await;
    for (available, maximum, field) in
        [(9, 8, "capacity.available"), (-1, 8, "capacity.available"), (0, -1, "capacity.maximum")]
    {
        let err = shelter.update_capacity(update(available, maximum)).await.unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument);
        assert!(err.message().contains(field), "{field} in {}", err.message());
    }
    let err = shelter
        .update_capacity(pb::UpdateCapacityRequest {
            partner_service_id: "svc_1".into(),
            capacity: Some(capacity("bed", 1, 2)),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);

    let service = shelter.update_capacity(update(0, 8)).await.expect("update").into_inner().partner_service.unwrap();
    assert_eq!((service.capacity[0].available, service.capacity[0].maximum), (0, 8));
    assert_eq!(
        wf_routing::store::capacity::open_capacity_of(&hosted.db, HARBOR_SHELTER_SERVICE).await.unwrap(),
        Some(0)
    );

    // With no bed left the shelter is not chosen, and is again once a bed is reported.
    let full = referral(&["emergency_shelter", "crisis_intervention"]);
    hosted.server.publish(&received(&full)).await;
    assert_ne!(hosted.decisions_of(&full.referral_id).await[0].partner_service_id, HARBOR_SHELTER_SERVICE);
    let service = hosted.manager().await.update_capacity(update(5, 8)).await.expect("manager update").into_inner();
    assert_eq!(service.partner_service.unwrap().capacity[0].available, 5);
    let open = referral(&["emergency_shelter", "crisis_intervention"]);
    hosted.server.publish(&received(&open)).await;
    assert_eq!(hosted.decisions_of(&open.referral_id).await[0].partner_service_id, HARBOR_SHELTER_SERVICE);

    // An accept shows in the capacity read back.
    let offers = shelter
        .list_offers(pb::ListOffersRequest { include_practice: true, ..Default::default() })
        .await
        .unwrap()
        .into_inner()
        .offers;
    let offer = offers.iter().find(|o| o.referral_id == open.referral_id).expect("the shelter's offer");
    shelter.accept_offer(pb::AcceptOfferRequest { offer_id: offer.offer_id.clone() }).await.expect("accept");
    let shown = shelter
        .get_partner_service(pb::GetPartnerServiceRequest { partner_service_id: HARBOR_SHELTER_SERVICE.into() })
        .await;
    assert_eq!(shown.unwrap_err().code(), Code::PermissionDenied, "partners do not read the directory");
    let shown = hosted
        .manager()
        .await
        .get_partner_service(pb::GetPartnerServiceRequest { partner_service_id: HARBOR_SHELTER_SERVICE.into() })
        .await
        .unwrap()
        .into_inner()
        .partner_service
        .unwrap();
    assert_eq!(shown.capacity[0].available, 4, "the accepted offer took a bed");

    let updates: Vec<CapacityUpdated> = hosted
        .outbox()
        .await
        .iter()
        .filter(|e| e.event_type == "capacity.updated")
        .map(|e| e.payload_as().unwrap())
        .collect();
    assert_eq!(updates.iter().map(|u| (u.available, u.maximum)).collect::<Vec<_>>(), vec![(0, 8), (5, 8)]);
    assert!(updates.iter().all(|u| u.partner_id == HARBOR_SHELTER_ORG && u.unit == "bed"));
    hosted.stop().await;
});
