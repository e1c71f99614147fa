//! Open Referral HSDS 3.0 JSON: the directory as an array of services, each with its
//! organization, service areas, languages, phones, locations and (HSDS 3.1 draft)
//! capacities nested. Wayfinder's own codes (service types, pilot sites, flags) travel as
//! HSDS `attributes` whose `taxonomy_term.vocabulary` names them (`wayfinder_…`).
//!
//! Ids: a Wayfinder id `org_<32 hex>` / `svc_<32 hex>` is the HSDS UUID with the same
//! digits, so an exported file imports back onto the same records; an HSDS id that is not
//! a UUID maps to a stable id derived from it (and is kept as `hsds_id`).
//!
//! A confidential location is never exported with its address: it goes out as a
//! `virtual` location with its name and web address only.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use wf_proto::common::v1::{Site, TriageTier};
use wf_proto::routing::v1 as pb;

use crate::domain::directory::entry::{DirectoryEntries, OrganizationEntry, with_open_places};
use crate::domain::site_code;

pub mod import;

pub const VOCABULARY_SERVICE_TYPE: &str = "wayfinder_service_type";
pub const VOCABULARY_SITE: &str = "wayfinder_site";
pub const VOCABULARY_POSTAL_CODE: &str = "wayfinder_postal_code";
pub const VOCABULARY_FLAG: &str = "wayfinder_flag";
pub const VOCABULARY_TIER: &str = "wayfinder_triage_tier";
pub const VOCABULARY_ENGAGEMENT: &str = "wayfinder_engagement_approach";
pub const VOCABULARY_OFFER_HOURS: &str = "wayfinder_offer_response_hours";

/// `wayfinder_flag` codes; the attribute's value is "true" or "false".
pub const FLAG_SERVES_MINORS: &str = "serves_minors";
pub const FLAG_AVAILABLE_24_7: &str = "available_24_7";
pub const FLAG_VICTIM_SERVICE_PROVIDER: &str = "victim_service_provider";
pub const FLAG_IN_NETWORK: &str = "in_network";
pub const FLAG_ACTIVE: &str = "active";

/// A UUID (hyphenated) from 32 hex digits.
fn uuid_from_hex(hex: &str) -> String {
    match uuid::Uuid::try_parse(hex) {
        Ok(id) => id.hyphenated().to_string(),
        Err(_) => derived_uuid(&[hex]),
    }
}

/// A stable UUID derived from `parts` (ids of nested records Wayfinder does not keep).
pub fn derived_uuid(parts: &[&str]) -> String {
    let digest = Sha256::digest(parts.join("/").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid().hyphenated().to_string()
}

/// The HSDS id of a Wayfinder record: its `hsds_id` when it came from an import, else the
/// UUID with the digits of its own id.
pub fn hsds_id_of(wayfinder_id: &str, hsds_id: &str) -> String {
    if !hsds_id.is_empty() {
        return hsds_id.to_owned();
    }
    let digits = wayfinder_id.split_once('_').map_or(wayfinder_id, |(_, rest)| rest);
    uuid_from_hex(digits)
}

/// The Wayfinder id (`prefix` + 32 hex digits) for an HSDS id.
pub fn wayfinder_id_of(prefix: &str, hsds_id: &str) -> String {
    match uuid::Uuid::try_parse(hsds_id) {
        Ok(id) => format!("{prefix}{}", id.simple()),
        Err(_) => {
            let digest = Sha256::digest(format!("hsds/{prefix}{hsds_id}").as_bytes());
            format!("{prefix}{}", &hex::encode(digest)[..32])
        }
    }
}

/// Whether `hsds_id` is what the Wayfinder id maps to anyway (then no `hsds_id` is kept).
pub fn is_canonical(wayfinder_id: &str, hsds_id: &str) -> bool {
    hsds_id_of(wayfinder_id, "") == hsds_id
}

pub fn status_code(status: i32) -> &'static str {
    match pb::ServiceStatus::try_from(status) {
        Ok(pb::ServiceStatus::Inactive) => "inactive",
        Ok(pb::ServiceStatus::Defunct) => "defunct",
        Ok(pb::ServiceStatus::TemporarilyClosed) => "temporarily closed",
        _ => "active",
    }
}

pub fn tier_code(tier: TriageTier) -> &'static str {
    crate::domain::tier_code(tier)
}

fn attribute(owner: &str, link_type: &str, vocabulary: &str, code: &str, value: &str) -> Value {
    let term_id = derived_uuid(&["taxonomy_term", vocabulary, code]);
    json!({
        "id": derived_uuid(&["attribute", owner, vocabulary, code]),
        "link_id": owner,
        "link_type": link_type,
        "taxonomy_term_id": term_id,
        "taxonomy_term": { "id": term_id, "code": code, "name": code, "description": code, "vocabulary": vocabulary },
        "value": value,
    })
}

fn flag(owner: &str, link_type: &str, code: &str, value: bool) -> Value {
    attribute(owner, link_type, VOCABULARY_FLAG, code, if value { "true" } else { "false" })
}

fn phones(owner: &str, phones: &[pb::DirectoryPhone]) -> Vec<Value> {
    phones
        .iter()
        .enumerate()
        .map(|(index, phone)| {
            let mut value = json!({
                "id": derived_uuid(&["phone", owner, &index.to_string()]),
                "number": phone.number,
            });
            if !phone.r#type.is_empty() {
                value["type"] = json!(phone.r#type);
            }
            if !phone.description.is_empty() {
                value["description"] = json!(phone.description);
            }
            value
        })
        .collect()
}

fn organization(entry: &OrganizationEntry) -> Value {
    let org = &entry.record;
    let id = hsds_id_of(&org.organization_id, &org.hsds_id);
    let mut value = json!({
        "id": id,
        "name": org.name,
        "description": org.description,
        "phones": phones(&id, &org.phones),
        "attributes": [
            flag(&id, "organization", FLAG_VICTIM_SERVICE_PROVIDER, org.victim_service_provider),
            flag(&id, "organization", FLAG_IN_NETWORK, org.in_network),
            flag(&id, "organization", FLAG_ACTIVE, org.active),
        ],
    });
    if !org.website.is_empty() {
        value["website"] = json!(org.website);
    }
    if !org.email.is_empty() {
        value["email"] = json!(org.email);
    }
    value
}

fn location(service_id: &str, index: usize, location: &pb::Location) -> Value {
    let id = if location.location_id.is_empty() {
        derived_uuid(&["location", service_id, &index.to_string()])
    } else {
        location.location_id.clone()
    };
    let kind = pb::LocationType::try_from(location.location_type).unwrap_or(pb::LocationType::Unspecified);
    if location.confidential {
        // Never the address (nor coordinates) of a confidential shelter.
        let mut value = json!({ "id": id, "location_type": "virtual", "name": location.name });
        if !location.url.is_empty() {
            value["url"] = json!(location.url);
        }
        return value;
    }
    let mut value = json!({
        "id": id,
        "location_type": crate::domain::directory::validate::location_type_code(kind),
        "name": location.name,
    });
    if !location.url.is_empty() {
        value["url"] = json!(location.url);
    }
    if matches!(kind, pb::LocationType::Physical | pb::LocationType::Postal) {
        value["addresses"] = json!([{
            "id": derived_uuid(&["address", &id]),
            "address_1": location.address_1,
            "city": location.city,
            "state_province": location.state_province,
            "postal_code": location.postal_code,
            "country": location.country,
            "address_type": crate::domain::directory::validate::location_type_code(kind),
        }]);
        if location.latitude != 0.0 || location.longitude != 0.0 {
            value["latitude"] = json!(location.latitude);
            value["longitude"] = json!(location.longitude);
        }
    }
    value
}

fn service(organization: &Value, record: &pb::PartnerService, open: Option<u32>, include_capacity: bool) -> Value {
    let id = hsds_id_of(&record.partner_service_id, &record.hsds_id);
    let mut attributes: Vec<Value> =
        record.service_types.iter().map(|code| attribute(&id, "service", VOCABULARY_SERVICE_TYPE, code, "")).collect();
    attributes.push(flag(&id, "service", FLAG_SERVES_MINORS, record.serves_minors));
    attributes.push(flag(&id, "service", FLAG_AVAILABLE_24_7, record.available_24_7));
    for tier in &record.accepted_tiers {
        let tier = TriageTier::try_from(*tier).unwrap_or(TriageTier::Unspecified);
        attributes.push(attribute(&id, "service", VOCABULARY_TIER, tier_code(tier), ""));
    }
    for code in &record.engagement_approaches {
        attributes.push(attribute(&id, "service", VOCABULARY_ENGAGEMENT, code, ""));
    }
    if record.offer_response_hours > 0 {
        let hours = record.offer_response_hours.to_string();
        attributes.push(attribute(&id, "service", VOCABULARY_OFFER_HOURS, &hours, &hours));
    }
    let areas: Vec<Value> = record
        .service_areas
        .iter()
        .enumerate()
        .map(|(index, area)| {
            let area_id = derived_uuid(&["service_area", &id, &index.to_string()]);
            let site = Site::try_from(area.site).unwrap_or(Site::Unspecified);
            let mut area_attributes = vec![attribute(&area_id, "service_area", VOCABULARY_SITE, site_code(site), "")];
            for code in &area.postal_codes {
                area_attributes.push(attribute(&area_id, "service_area", VOCABULARY_POSTAL_CODE, code, ""));
            }
            let mut value =
                json!({ "id": area_id, "service_id": id, "name": area.name, "attributes": area_attributes });
            if !area.extent_geojson.is_empty() {
                value["extent"] = json!(area.extent_geojson);
                value["extent_type"] = json!("geojson");
            }
            value
        })
        .collect();
    let languages: Vec<Value> = record
        .languages
        .iter()
        .map(|code| json!({ "id": derived_uuid(&["language", &id, code]), "code": code }))
        .collect();
    let locations: Vec<Value> = record
        .locations
        .iter()
        .enumerate()
        .map(|(index, loc)| {
            json!({
                "id": derived_uuid(&["service_at_location", &id, &index.to_string()]),
                "location": location(&id, index, loc),
            })
        })
        .collect();
    let mut value = json!({
        "id": id,
        "organization_id": organization["id"],
        "name": record.name,
        "description": record.description,
        "status": status_code(record.status),
        "organization": organization,
        "languages": languages,
        "service_areas": areas,
        "phones": phones(&id, &record.phones),
        "service_at_locations": locations,
        "attributes": attributes,
    });
    if record.minimum_age > 0 {
        value["minimum_age"] = json!(record.minimum_age);
    }
    if record.maximum_age > 0 {
        value["maximum_age"] = json!(record.maximum_age);
    }
    if !record.eligibility_description.is_empty() {
        value["eligibility_description"] = json!(record.eligibility_description);
    }
    if !record.email.is_empty() {
        value["email"] = json!(record.email);
    }
    if include_capacity {
        let shown = open.map_or_else(|| record.capacity.clone(), |open| with_open_places(&record.capacity, open));
        let capacities: Vec<Value> = shown
            .iter()
            .map(|c| {
                let mut value = json!({
                    "id": derived_uuid(&["capacity", &id, &c.unit]),
                    "unit": { "id": derived_uuid(&["unit", &c.unit]), "name": c.unit },
                    "available": c.available,
                    "maximum": c.maximum,
                });
                if let Some(updated) = c.updated.as_ref().and_then(wf_proto::time::datetime) {
                    value["updated"] = json!(updated.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
                }
                value
            })
            .collect();
        value["capacities"] = json!(capacities);
    }
    value
}

/// The directory as an HSDS JSON array of services. `open` holds the open places now (so
/// exported capacity shows places taken); inactive organizations and services are left
/// out unless `include_inactive`.
pub fn export(
    entries: &DirectoryEntries,
    open: &std::collections::HashMap<String, u32>,
    include_inactive: bool,
    include_capacity: bool,
) -> Value {
    let services: Vec<Value> = entries
        .organizations
        .values()
        .filter(|org| include_inactive || org.record.active)
        .flat_map(|org| {
            let organization = organization(org);
            org.services
                .values()
                .filter(|s| include_inactive || s.status == pb::ServiceStatus::Active as i32)
                .map(move |s| service(&organization, s, open.get(&s.partner_service_id).copied(), include_capacity))
                .collect::<Vec<_>>()
        })
        .collect();
    Value::Array(services)
}

#[cfg(test)]
mod tests;
