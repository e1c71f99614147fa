//! HSDS import and export through the gRPC API: confidential addresses never leave,
//! imports are idempotent by id, and problems name the record and field.

use serde_json::{Value, json};
use tonic::Code;
use wf_auth::Role;
use wf_proto::events::v1::DirectoryChanged;
use wf_proto::routing::v1 as pb;
use wf_testkit::both_engines;

use crate::HARBOR_SHELTER_SERVICE;
use crate::hosted::{Client, Hosted};

const HIDDEN_ADDRESS: &str = "77 Hidden Demo Court";

async fn export(manager: &mut Client, include_capacity: bool) -> Value {
    let request = pb::ExportHsdsRequest { include_inactive: true, include_capacity };
    let json = manager.export_hsds(request).await.expect("export").into_inner().json;
    serde_json::from_str(&json).expect("export is JSON")
}

async fn import(manager: &mut Client, document: &Value, dry_run: bool) -> pb::ImportHsdsResponse {
    let request = pb::ImportHsdsRequest { json: document.to_string(), dry_run };
    manager.import_hsds(request).await.expect("import").into_inner()
}

fn counts(answer: &pb::ImportHsdsResponse) -> (i32, i32, i32, i32) {
    (answer.organizations_created, answer.organizations_updated, answer.services_created, answer.services_updated)
}

async fn shelter(manager: &mut Client) -> pb::PartnerService {
    let request = pb::GetPartnerServiceRequest { partner_service_id: HARBOR_SHELTER_SERVICE.into() };
    manager.get_partner_service(request).await.unwrap().into_inner().partner_service.unwrap()
}

both_engines!(hsds_export_and_import_round_trip, |engine| async move {
    let hosted = Hosted::start(engine).await;
    let mut manager = hosted.manager().await;
    let err = hosted.as_role(Role::CaseManager).await.export_hsds(pb::ExportHsdsRequest::default()).await.unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    let err = manager.import_hsds(pb::ImportHsdsRequest { json: " ".into(), dry_run: false }).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);

    // The shelter's house is confidential: it is stored, and never exported.
    let mut record = shelter(&mut manager).await;
    record.locations.push(pb::Location {
        location_type: pb::LocationType::Physical as i32,
        name: "Demo Harbor house".into(),
        address_1: HIDDEN_ADDRESS.into(),
        city: "Demo City".into(),
        state_province: "CA".into(),
        postal_code: "90011".into(),
        country: "US".into(),
        confidential: true,
        url: "https://harbor.example.org/intake".into(),
        ..Default::default()
    });
    manager
        .update_partner_service(pb::UpdatePartnerServiceRequest { partner_service: Some(record) })
        .await
        .expect("add the confidential location");
    let exported = export(&mut manager, true).await;
    let text = exported.to_string();
    assert!(!text.contains(HIDDEN_ADDRESS), "a confidential address was exported");
    let services = exported.as_array().unwrap();
    assert_eq!(services.len(), 10, "the demo directory's services");

    // Importing the export changes nothing, and keeps the confidential address.
    let again = import(&mut manager, &exported, false).await;
    assert!(again.issues.is_empty(), "{:?}", again.issues);
    assert_eq!(counts(&again), (0, 0, 0, 0));
    let kept = shelter(&mut manager).await;
    assert_eq!(kept.locations[0].address_1, HIDDEN_ADDRESS);
    assert!(kept.locations[0].confidential);

    // A renamed service, a new one with a foreign id, and a broken record.
    let mut changed = exported.clone();
    let list = changed.as_array_mut().unwrap();
    let index = list.iter().position(|s| s["name"] == "Demo Harbor Emergency Beds").unwrap();
    list[index]["name"] = json!("Demo Harbor Emergency Beds (24/7)");
    let mut fresh = list[index].clone();
    fresh["id"] = json!("county-crisis-beds-1");
    fresh["name"] = json!("Demo County Crisis Beds");
    fresh["service_at_locations"] = json!([]);
    list.push(fresh);
    let mut broken = list[0].clone();
    broken["id"] = json!("county-broken-2");
    broken["minimum_age"] = json!(30);
    broken["maximum_age"] = json!(20);
    list.push(broken);

    let dry = import(&mut manager, &changed, true).await;
    assert_eq!(counts(&dry), (0, 0, 1, 1));
    assert_eq!(shelter(&mut manager).await.name, "Demo Harbor Emergency Beds", "a dry run changes nothing");
    let applied = import(&mut manager, &changed, false).await;
    assert_eq!(counts(&applied), (0, 0, 1, 1));
    let paths: Vec<(&str, bool)> = applied.issues.iter().map(|i| (i.path.as_str(), i.fatal)).collect();
    assert_eq!(paths, vec![("$[11].minimum_age", true)], "{:?}", applied.issues);
    assert_eq!(shelter(&mut manager).await.name, "Demo Harbor Emergency Beds (24/7)");
    let created = manager
        .list_partner_services(pb::ListPartnerServicesRequest::default())
        .await
        .unwrap()
        .into_inner()
        .partner_services
        .into_iter()
        .find(|s| s.hsds_id == "county-crisis-beds-1")
        .expect("the new service with its HSDS id");
    assert_eq!(created.name, "Demo County Crisis Beds");

    // Idempotent by id: the same document again changes nothing.
    let twice = import(&mut manager, &changed, false).await;
    assert_eq!(counts(&twice), (0, 0, 0, 0));
    let imported: Vec<DirectoryChanged> = hosted
        .outbox()
        .await
        .iter()
        .filter(|e| e.event_type == "directory.changed")
        .map(|e| e.payload_as().unwrap())
        .filter(|e: &DirectoryChanged| e.change == "imported")
        .collect();
    assert_eq!(imported.len(), 1);
    assert_eq!(imported[0].ids.len(), 2);
    assert!(imported[0].ids.contains(&HARBOR_SHELTER_SERVICE.to_owned()));
    assert!(imported[0].ids.contains(&created.partner_service_id));
    hosted.stop().await;
});
