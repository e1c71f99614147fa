use std::collections::HashMap;

use serde_json::json;

use super::import::plan;
use super::*;
use crate::domain::Directory;
use crate::domain::directory::DirectoryEntries;

fn demo() -> DirectoryEntries {
    DirectoryEntries::from_directory(&Directory::demo().unwrap())
}

const SHELTER: &str = "svc_2c2c43b486bc4bc8a526abaa47f6ec14";

/// The demo directory with a confidential shelter address on the harbor shelter.
fn with_confidential_location() -> DirectoryEntries {
    let mut entries = demo();
    let org = entries.organizations.values_mut().find(|o| o.services.contains_key(SHELTER)).unwrap();
    let service = org.services.get_mut(SHELTER).unwrap();
    service.locations = vec![
        pb::Location {
            location_id: "0b6f6e0e-0000-4000-8000-000000000001".into(),
            location_type: pb::LocationType::Physical as i32,
            name: "Demo Harbor shelter house".into(),
            address_1: "123 Hidden Demo Lane".into(),
            city: "Demo City".into(),
            state_province: "CA".into(),
            postal_code: "90011".into(),
            country: "US".into(),
            confidential: true,
            latitude: 33.98,
            longitude: -118.25,
            url: "https://harbor.example.org/intake".into(),
        },
        pb::Location {
            location_id: "0b6f6e0e-0000-4000-8000-000000000002".into(),
            location_type: pb::LocationType::Physical as i32,
            name: "Demo Harbor drop-in office".into(),
            address_1: "9 Open Demo Street".into(),
            city: "Demo City".into(),
            state_province: "CA".into(),
            postal_code: "90003".into(),
            country: "US".into(),
            ..Default::default()
        },
    ];
    entries
}

#[test]
fn ids_map_both_ways() {
    let org = "org_37500f7421c4437980c5cff292270a56";
    let hsds = hsds_id_of(org, "");
    assert_eq!(hsds, "37500f74-21c4-4379-80c5-cff292270a56");
    assert_eq!(wayfinder_id_of("org_", &hsds), org);
    assert!(is_canonical(org, &hsds));
    // A foreign id that is not a UUID maps to a stable id and is kept.
    let foreign = wayfinder_id_of("svc_", "county-service-17");
    assert_eq!(foreign, wayfinder_id_of("svc_", "county-service-17"));
    assert!(wf_types::PartnerServiceId::is_valid(&foreign));
    assert_eq!(hsds_id_of(&foreign, "county-service-17"), "county-service-17");
}

#[test]
fn export_carries_hsds_required_fields_and_wayfinder_codes() {
    let document = export(&demo(), &HashMap::new(), false, true);
    let services = document.as_array().unwrap();
    assert_eq!(services.len(), demo().services().count());
    for service in services {
        for key in ["id", "name", "status", "organization_id"] {
            assert!(service[key].is_string(), "{key} in {service}");
        }
        for key in ["id", "name", "description"] {
            assert!(service["organization"][key].is_string(), "organization.{key}");
        }
        assert!(service["languages"].as_array().unwrap().iter().all(|l| l["id"].is_string() && l["code"].is_string()));
        let types: Vec<&str> = service["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["taxonomy_term"]["vocabulary"] == VOCABULARY_SERVICE_TYPE)
            .map(|a| a["taxonomy_term"]["code"].as_str().unwrap())
            .collect();
        assert!(!types.is_empty());
        assert!(service["capacities"][0]["unit"]["name"].is_string());
    }
    let shelter = services.iter().find(|s| s["id"] == hsds_id_of(SHELTER, "")).unwrap();
    assert_eq!(shelter["minimum_age"], json!(12));
    assert_eq!(shelter["capacities"][0]["available"], json!(3));
    let shown = export(&demo(), &HashMap::from([(SHELTER.to_owned(), 1)]), false, false);
    let shelter = shown.as_array().unwrap().iter().find(|s| s["id"] == hsds_id_of(SHELTER, "")).unwrap();
    assert!(shelter.get("capacities").is_none(), "capacity only on request");
    let shown = export(&demo(), &HashMap::from([(SHELTER.to_owned(), 1)]), false, true);
    let shelter = shown.as_array().unwrap().iter().find(|s| s["id"] == hsds_id_of(SHELTER, "")).unwrap();
    assert_eq!(shelter["capacities"][0]["available"], json!(1), "open places now, after accepts");
}

#[test]
fn a_confidential_shelter_address_is_never_exported() {
    let entries = with_confidential_location();
    let text = serde_json::to_string(&export(&entries, &HashMap::new(), true, true)).unwrap();
    for secret in ["123 Hidden Demo Lane", "33.98", "-118.25"] {
        assert!(!text.contains(secret), "{secret} leaked");
    }
    let document: Value = serde_json::from_str(&text).unwrap();
    let shelter = document.as_array().unwrap().iter().find(|s| s["id"] == hsds_id_of(SHELTER, "")).unwrap();
    let hidden = &shelter["service_at_locations"][0]["location"];
    assert_eq!(hidden["location_type"], "virtual");
    assert!(hidden.get("addresses").is_none());
    assert_eq!(hidden["url"], "https://harbor.example.org/intake");
    // The open office keeps its address.
    let open = &shelter["service_at_locations"][1]["location"];
    assert_eq!(open["addresses"][0]["address_1"], "9 Open Demo Street");
}

#[test]
fn an_exported_directory_imports_back_onto_itself_with_nothing_to_change() {
    let entries = with_confidential_location();
    let text = serde_json::to_string(&export(&entries, &HashMap::new(), true, true)).unwrap();
    let again = plan(&text, &entries);
    assert!(again.issues.is_empty(), "{:?}", again.issues);
    assert_eq!((again.organizations.len(), again.services.len()), (0, 0), "{again:?}");
}

#[test]
fn an_export_imported_into_an_empty_directory_creates_every_record() {
    let text = serde_json::to_string(&export(&demo(), &HashMap::new(), true, true)).unwrap();
    let fresh = plan(&text, &DirectoryEntries::default());
    assert!(fresh.issues.is_empty(), "{:?}", fresh.issues);
    let services = demo().services().count() as i32;
    assert_eq!(fresh.counts(), (10, 0, services, 0));
    let shelter = fresh.services.iter().find(|(s, _, _)| s.partner_service_id == SHELTER).unwrap();
    assert_eq!(shelter.0, demo().service(SHELTER).unwrap().1.clone());
}

#[test]
fn a_changed_record_is_an_update_and_a_document_without_capacity_keeps_it() {
    let entries = demo();
    let mut document = export(&entries, &HashMap::new(), true, false);
    let shelter = document.as_array_mut().unwrap().iter_mut().find(|s| s["id"] == hsds_id_of(SHELTER, "")).unwrap();
    shelter["name"] = json!("Demo Harbor Emergency Beds (renamed)");
    let changed = plan(&document.to_string(), &entries);
    assert!(changed.issues.is_empty(), "{:?}", changed.issues);
    assert_eq!(changed.counts(), (0, 0, 0, 1));
    let (record, exists, capacity_changed) = &changed.services[0];
    assert!(*exists && !*capacity_changed);
    assert_eq!(record.capacity, entries.service(SHELTER).unwrap().1.capacity);
}

/// The shared HSDS example (fictional), which knows nothing of Wayfinder's codes.
const EXAMPLE: &str = r#"{
  "id": "5b0f2c3e-8a41-4c7e-9d2a-1f6b7c8d9e01",
  "name": "Emergency Shelter for Survivors (fictional)",
  "status": "active",
  "organization_id": "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f",
  "minimum_age": 18,
  "maximum_age": 64,
  "languages": [ { "id": "7a1b2c3d-0001-4e5f-8a9b-0c1d2e3f4a5b", "name": "Spanish", "code": "es" } ],
  "service_areas": [ { "id": "9c8b7a6d-0001-4e3f-9a1b-2c3d4e5f6a7b", "name": "Example County, ZZ" } ],
  "capacities": [ { "id": "4b5c6d7e-0001-4f8a-9b0c-1d2e3f4a5b6c",
      "unit": { "id": "8d9e0f1a-0001-4b2c-8d3e-4f5a6b7c8d9e", "name": "Bed" },
      "available": 3, "maximum": 12, "updated": "2025-01-15T10:30:00.000Z" } ]
}"#;

#[test]
fn problems_name_the_record_and_the_field() {
    let example = plan(EXAMPLE, &demo());
    let paths: Vec<(&str, bool)> = example.issues.iter().map(|i| (i.path.as_str(), i.fatal)).collect();
    assert_eq!(paths, vec![("$.organization", true),], "{:?}", example.issues);
    let mut with_org: Value = serde_json::from_str(EXAMPLE).unwrap();
    with_org["organization"] =
        json!({ "id": "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f", "name": "Demo Example Org", "description": "fictional" });
    let second = json!([
        { "id": "county-17", "name": "", "status": "open", "organization": { "id": "x", "name": "Demo X" } },
        with_org,
    ]);
    let result = plan(&second.to_string(), &demo());
    let paths: Vec<(&str, bool)> = result.issues.iter().map(|i| (i.path.as_str(), i.fatal)).collect();
    assert_eq!(
        paths,
        vec![
            ("$[0].organization.description", true),
            ("$[0].status", true),
            ("$[0].name", true),
            ("$[0].capacities", false),
            ("$[0].attributes (service_types)", true),
            ("$[0].service_areas", true),
            ("$[0].languages", true),
            ("$[1].service_areas[0].attributes", true),
            ("$[1].attributes (service_types)", true),
        ],
        "{:?}",
        result.issues
    );
    assert!(result.issues[1].message.contains("allowed: active, inactive, defunct, temporarily closed"));
    assert!(result.services.is_empty() && result.organizations.is_empty(), "invalid records are left out");
    assert_eq!(plan("[1", &demo()).issues[0].path, "$");
}

#[test]
fn valid_records_are_imported_and_the_rest_reported() {
    let mut document = export(&demo(), &HashMap::new(), true, true);
    let services = document.as_array_mut().unwrap();
    services[0]["languages"][0]["code"] = json!("Spanish");
    let mut fresh = services[1].clone();
    fresh["id"] = json!("county-service-17");
    fresh["name"] = json!("Demo County Crisis Line");
    fresh.as_object_mut().unwrap().remove("capacities");
    services.push(fresh);
    let result = plan(&document.to_string(), &demo());
    assert_eq!(result.issues.len(), 2, "{:?}", result.issues);
    assert_eq!(result.issues[0].path, "$[0].languages[0].code");
    assert!(result.issues[0].fatal);
    let last = demo().services().count();
    assert_eq!(result.issues[1].path, format!("$[{last}].capacities"));
    assert!(!result.issues[1].fatal, "a missing capacity is a warning");
    assert_eq!(result.counts(), (0, 0, 1, 0));
    let (created, _, _) = &result.services[0];
    assert_eq!(created.hsds_id, "county-service-17");
    assert_eq!(created.capacity[0].maximum, 0);
}
