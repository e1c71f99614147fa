//! Reading an HSDS 3.0 (or 3.1 draft) document into directory records: every problem is
//! reported with the JSON path of the offending value; a record with a fatal problem is
//! left out and the others are applied. Records are matched by id, so importing the same
//! document twice changes nothing the second time.

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use wf_proto::common::v1::TriageTier;
use wf_proto::routing::v1 as pb;

use super::{
    FLAG_ACTIVE, FLAG_AVAILABLE_24_7, FLAG_IN_NETWORK, FLAG_SERVES_MINORS, FLAG_VICTIM_SERVICE_PROVIDER,
    VOCABULARY_ENGAGEMENT, VOCABULARY_FLAG, VOCABULARY_OFFER_HOURS, VOCABULARY_POSTAL_CODE, VOCABULARY_SERVICE_TYPE,
    VOCABULARY_SITE, VOCABULARY_TIER, is_canonical, wayfinder_id_of,
};
use crate::domain::directory::DirectoryEntries;
use crate::domain::directory::validate::{EntryIssue, validate_organization, validate_service};
use crate::domain::{site_from_code, tier_from_code};

/// Capacity unit given to an imported service that reports none.
pub const DEFAULT_CAPACITY_UNIT: &str = "client";

/// What an import would change.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportPlan {
    /// New or changed organizations, with whether they exist already.
    pub organizations: Vec<(pb::Organization, bool)>,
    /// New or changed services, with whether they exist and whether their capacity changed.
    pub services: Vec<(pb::PartnerService, bool, bool)>,
    pub issues: Vec<pb::ImportIssue>,
}

impl ImportPlan {
    pub fn counts(&self) -> (i32, i32, i32, i32) {
        let count = |exists: bool, items: &mut dyn Iterator<Item = bool>| items.filter(|e| *e == exists).count() as i32;
        (
            count(false, &mut self.organizations.iter().map(|(_, e)| *e)),
            count(true, &mut self.organizations.iter().map(|(_, e)| *e)),
            count(false, &mut self.services.iter().map(|(_, e, _)| *e)),
            count(true, &mut self.services.iter().map(|(_, e, _)| *e)),
        )
    }
}

struct Reader {
    issues: Vec<pb::ImportIssue>,
    fatal: bool,
}

impl Reader {
    fn fail(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.fatal = true;
        self.issues.push(pb::ImportIssue { path: path.into(), message: message.into(), fatal: true });
    }

    fn warn(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.issues.push(pb::ImportIssue { path: path.into(), message: message.into(), fatal: false });
    }

    fn object<'a>(&mut self, value: &'a Value, path: &str) -> Option<&'a Map<String, Value>> {
        match value {
            Value::Object(map) => Some(map),
            _ => {
                self.fail(path, "must be a JSON object");
                None
            }
        }
    }

    /// A string field; `None` (and a fatal issue when `required`) when absent, null or empty.
    fn text(&mut self, object: &Map<String, Value>, key: &str, path: &str, required: bool) -> String {
        match object.get(key) {
            Some(Value::String(text)) if !text.trim().is_empty() => text.clone(),
            None | Some(Value::Null) | Some(Value::String(_)) => {
                if required {
                    self.fail(format!("{path}.{key}"), "is required (HSDS) and must be a non-empty string");
                }
                String::new()
            }
            Some(_) => {
                self.fail(format!("{path}.{key}"), "must be a string");
                String::new()
            }
        }
    }

    fn integer(&mut self, object: &Map<String, Value>, key: &str, path: &str) -> Option<i64> {
        match object.get(key) {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) if n.as_i64().is_some() => n.as_i64(),
            Some(other) => {
                self.fail(format!("{path}.{key}"), format!("must be a whole number, found {other}"));
                None
            }
        }
    }

    fn array<'a>(&mut self, object: &'a Map<String, Value>, key: &str, path: &str) -> &'a [Value] {
        match object.get(key) {
            Some(Value::Array(items)) => items,
            None | Some(Value::Null) => &[],
            Some(_) => {
                self.fail(format!("{path}.{key}"), "must be an array");
                &[]
            }
        }
    }
}

/// A Wayfinder attribute: (vocabulary, code, value).
fn attributes(reader: &mut Reader, object: &Map<String, Value>, path: &str) -> Vec<(String, String, String)> {
    let mut found = Vec::new();
    for (index, item) in reader.array(object, "attributes", path).iter().enumerate() {
        let item_path = format!("{path}.attributes[{index}]");
        let Some(attribute) = reader.object(item, &item_path) else { continue };
        let Some(term) = attribute.get("taxonomy_term").and_then(Value::as_object) else { continue };
        let vocabulary = term.get("vocabulary").and_then(Value::as_str).unwrap_or_default();
        if !vocabulary.starts_with("wayfinder_") {
            continue;
        }
        let code = reader.text(term, "code", &format!("{item_path}.taxonomy_term"), true);
        let value = attribute.get("value").and_then(Value::as_str).unwrap_or_default().to_owned();
        found.push((vocabulary.to_owned(), code, value));
    }
    found
}

fn flag(found: &[(String, String, String)], code: &str) -> Option<bool> {
    found.iter().find(|(v, c, _)| v == VOCABULARY_FLAG && c == code).map(|(_, _, value)| value == "true")
}

fn codes(found: &[(String, String, String)], vocabulary: &str) -> Vec<String> {
    found.iter().filter(|(v, _, _)| v == vocabulary).map(|(_, c, _)| c.clone()).collect()
}

fn status_from_hsds(code: &str) -> Option<pb::ServiceStatus> {
    match code {
        "active" => Some(pb::ServiceStatus::Active),
        "inactive" => Some(pb::ServiceStatus::Inactive),
        "defunct" => Some(pb::ServiceStatus::Defunct),
        "temporarily closed" => Some(pb::ServiceStatus::TemporarilyClosed),
        _ => None,
    }
}

fn phones(reader: &mut Reader, object: &Map<String, Value>, path: &str) -> Vec<pb::DirectoryPhone> {
    let mut phones = Vec::new();
    for (index, item) in reader.array(object, "phones", path).iter().enumerate() {
        let item_path = format!("{path}.phones[{index}]");
        let Some(phone) = reader.object(item, &item_path) else { continue };
        reader.text(phone, "id", &item_path, true);
        phones.push(pb::DirectoryPhone {
            number: reader.text(phone, "number", &item_path, true),
            r#type: reader.text(phone, "type", &item_path, false),
            description: reader.text(phone, "description", &item_path, false),
        });
    }
    phones
}

fn organization(reader: &mut Reader, value: &Value, path: &str) -> Option<pb::Organization> {
    let object = reader.object(value, path)?;
    let hsds_id = reader.text(object, "id", path, true);
    let found = attributes(reader, object, path);
    let organization_id = if hsds_id.is_empty() { String::new() } else { wayfinder_id_of("org_", &hsds_id) };
    Some(pb::Organization {
        hsds_id: if is_canonical(&organization_id, &hsds_id) { String::new() } else { hsds_id },
        organization_id,
        name: reader.text(object, "name", path, true),
        description: reader.text(object, "description", path, true),
        website: reader.text(object, "website", path, false),
        email: reader.text(object, "email", path, false),
        phones: phones(reader, object, path),
        victim_service_provider: flag(&found, FLAG_VICTIM_SERVICE_PROVIDER).unwrap_or(false),
        in_network: flag(&found, FLAG_IN_NETWORK).unwrap_or(true),
        active: flag(&found, FLAG_ACTIVE).unwrap_or(true),
        ..Default::default()
    })
}

fn location(reader: &mut Reader, value: &Value, path: &str) -> Option<pb::Location> {
    let object = reader.object(value, path)?;
    let location_id = reader.text(object, "id", path, true);
    let kind = match reader.text(object, "location_type", path, true).as_str() {
        "physical" => pb::LocationType::Physical,
        "postal" => pb::LocationType::Postal,
        "virtual" => pb::LocationType::Virtual,
        "" => pb::LocationType::Unspecified,
        other => {
            reader.fail(
                format!("{path}.location_type"),
                format!("{other:?} is not allowed; allowed: physical, postal, virtual"),
            );
            pb::LocationType::Unspecified
        }
    };
    let mut location = pb::Location {
        location_id,
        location_type: kind as i32,
        name: reader.text(object, "name", path, false),
        url: reader.text(object, "url", path, false),
        latitude: object.get("latitude").and_then(Value::as_f64).unwrap_or(0.0),
        longitude: object.get("longitude").and_then(Value::as_f64).unwrap_or(0.0),
        ..Default::default()
    };
    if let Some(first) = reader.array(object, "addresses", path).first() {
        let address_path = format!("{path}.addresses[0]");
        if let Some(address) = reader.object(first, &address_path) {
            reader.text(address, "id", &address_path, true);
            location.address_1 = reader.text(address, "address_1", &address_path, true);
            location.city = reader.text(address, "city", &address_path, true);
            location.state_province = reader.text(address, "state_province", &address_path, true);
            location.postal_code = reader.text(address, "postal_code", &address_path, true);
            location.country = reader.text(address, "country", &address_path, true);
            reader.text(address, "address_type", &address_path, true);
        }
    }
    Some(location)
}

/// The HSDS path of a field the directory validation named (`field` relative to the service
/// or organization).
fn hsds_path(base: &str, field: &str) -> String {
    let head = field.split(['.', '[']).next().unwrap_or(field);
    let rest = &field[head.len()..];
    match head {
        "partner_service_id" | "organization_id" if base.ends_with(".organization") => format!("{base}.id"),
        "partner_service_id" => format!("{base}.id"),
        "organization_id" => format!("{base}.organization.id"),
        "service_types" | "serves_minors" | "accepted_tiers" | "engagement_approaches" | "offer_response_hours" => {
            format!("{base}.attributes ({head})")
        }
        "languages" if rest.is_empty() => format!("{base}.languages"),
        "languages" => format!("{base}.languages{rest}.code"),
        "capacity" => format!("{base}.capacities{rest}"),
        "locations" => {
            let rest = rest.replacen("].", "].location.", 1);
            format!("{base}.service_at_locations{rest}")
        }
        "service_areas" if rest.ends_with(".site") || rest.contains(".postal_codes") => {
            let index_end = rest.find(']').map_or(rest.len(), |i| i + 1);
            format!("{base}.service_areas{}.attributes", &rest[..index_end])
        }
        "service_areas" => format!("{base}.service_areas{}", rest.replace("extent_geojson", "extent")),
        _ => format!("{base}.{field}"),
    }
}

/// Reports the directory validation's problems, except where reading already reported one
/// for the same value.
fn report(reader: &mut Reader, base: &str, issues: Vec<EntryIssue>) {
    for issue in issues {
        let path = hsds_path(base, &issue.field);
        if !reader.issues.iter().any(|known| known.fatal && known.path == path) {
            reader.fail(path, issue.message);
        }
    }
}

fn service(
    reader: &mut Reader,
    object: &Map<String, Value>,
    path: &str,
    organization_id: &str,
) -> (pb::PartnerService, bool) {
    let hsds_id = reader.text(object, "id", path, true);
    let partner_service_id = if hsds_id.is_empty() { String::new() } else { wayfinder_id_of("svc_", &hsds_id) };
    let status_text = reader.text(object, "status", path, true);
    let status = match status_from_hsds(&status_text) {
        Some(status) => status,
        None => {
            if !status_text.is_empty() {
                reader.fail(
                    format!("{path}.status"),
                    format!("{status_text:?} is not allowed; allowed: active, inactive, defunct, temporarily closed"),
                );
            }
            pb::ServiceStatus::Unspecified
        }
    };
    let found = attributes(reader, object, path);
    let age = |reader: &mut Reader, key: &str| {
        reader.integer(object, key, path).map_or(0, |age| i32::try_from(age).unwrap_or(i32::MAX))
    };
    let minimum_age = age(reader, "minimum_age");
    let maximum_age = age(reader, "maximum_age");
    let mut service_areas = Vec::new();
    for (index, item) in reader.array(object, "service_areas", path).iter().enumerate() {
        let area_path = format!("{path}.service_areas[{index}]");
        let Some(area) = reader.object(item, &area_path) else { continue };
        let area_found = attributes(reader, area, &area_path);
        let sites = codes(&area_found, VOCABULARY_SITE);
        let site = match sites.as_slice() {
            [code] => site_from_code(code).unwrap_or_else(|| {
                reader.fail(
                    format!("{area_path}.attributes"),
                    format!("{VOCABULARY_SITE} {code:?} is not allowed; allowed: south_los_angeles, san_fernando_valley, countywide"),
                );
                wf_proto::common::v1::Site::Unspecified
            }),
            _ => {
                reader.fail(
                    format!("{area_path}.attributes"),
                    format!("needs exactly one {VOCABULARY_SITE} attribute (south_los_angeles, san_fernando_valley or countywide)"),
                );
                wf_proto::common::v1::Site::Unspecified
            }
        };
        service_areas.push(pb::ServiceArea {
            name: reader.text(area, "name", &area_path, true),
            extent_geojson: match area.get("extent") {
                Some(Value::String(text)) => text.clone(),
                Some(Value::Object(_)) => area.get("extent").map(Value::to_string).unwrap_or_default(),
                _ => String::new(),
            },
            site: site as i32,
            postal_codes: codes(&area_found, VOCABULARY_POSTAL_CODE),
        });
    }
    let mut languages = Vec::new();
    for (index, item) in reader.array(object, "languages", path).iter().enumerate() {
        let language_path = format!("{path}.languages[{index}]");
        let Some(language) = reader.object(item, &language_path) else { continue };
        reader.text(language, "id", &language_path, true);
        languages.push(reader.text(language, "code", &language_path, true));
    }
    let capacities_key = if object.contains_key("capacities") { "capacities" } else { "service_capacity" };
    let capacity_given = object.get(capacities_key).is_some_and(|v| !v.is_null());
    let mut capacity = Vec::new();
    for (index, item) in reader.array(object, capacities_key, path).iter().enumerate() {
        let capacity_path = format!("{path}.{capacities_key}[{index}]");
        let Some(entry) = reader.object(item, &capacity_path) else { continue };
        let unit = match entry.get("unit") {
            Some(Value::Object(unit)) => {
                reader.text(unit, "name", &format!("{capacity_path}.unit"), true).to_lowercase()
            }
            Some(Value::String(unit)) => unit.to_lowercase(),
            _ => {
                reader.fail(
                    format!("{capacity_path}.unit"),
                    "is required: an object with a name (bed, slot, client, appointment)",
                );
                String::new()
            }
        };
        let number = |reader: &mut Reader, key: &str| {
            reader.integer(entry, key, &capacity_path).map_or(0, |n| i32::try_from(n).unwrap_or(i32::MAX))
        };
        let updated = entry
            .get("updated")
            .and_then(Value::as_str)
            .and_then(|text| chrono::DateTime::parse_from_rfc3339(text).ok())
            .map(|at| wf_proto::time::timestamp(at.with_timezone(&chrono::Utc)));
        capacity.push(pb::Capacity {
            unit,
            available: number(reader, "available"),
            maximum: number(reader, "maximum"),
            updated,
        });
    }
    let mut locations = Vec::new();
    for (index, item) in reader.array(object, "service_at_locations", path).iter().enumerate() {
        let link_path = format!("{path}.service_at_locations[{index}]");
        let Some(link) = reader.object(item, &link_path) else { continue };
        match link.get("location") {
            Some(value) => {
                if let Some(location) = location(reader, value, &format!("{link_path}.location")) {
                    locations.push(location);
                }
            }
            None => reader.fail(format!("{link_path}.location"), "is required: the nested location"),
        }
    }
    let tiers = codes(&found, VOCABULARY_TIER)
        .iter()
        .map(|code| tier_from_code(code).unwrap_or(TriageTier::Unspecified) as i32)
        .collect();
    let offer_response_hours = codes(&found, VOCABULARY_OFFER_HOURS).first().and_then(|h| h.parse().ok()).unwrap_or(0);
    let record = pb::PartnerService {
        hsds_id: if is_canonical(&partner_service_id, &hsds_id) { String::new() } else { hsds_id },
        partner_service_id,
        organization_id: organization_id.to_owned(),
        name: reader.text(object, "name", path, true),
        description: reader.text(object, "description", path, false),
        status: status as i32,
        service_types: codes(&found, VOCABULARY_SERVICE_TYPE),
        minimum_age,
        maximum_age,
        eligibility_description: reader.text(object, "eligibility_description", path, false),
        service_areas,
        languages,
        capacity,
        accepted_tiers: tiers,
        available_24_7: flag(&found, FLAG_AVAILABLE_24_7).unwrap_or(false),
        engagement_approaches: codes(&found, VOCABULARY_ENGAGEMENT),
        locations,
        serves_minors: flag(&found, FLAG_SERVES_MINORS).unwrap_or(minimum_age < 18),
        offer_response_hours,
        email: reader.text(object, "email", path, false),
        phones: phones(reader, object, path),
        updated_at: None,
    };
    (record, capacity_given)
}

/// Without the derived and versioning fields, for comparing a record with what is stored.
fn comparable_service(record: &pb::PartnerService) -> pb::PartnerService {
    let mut copy = record.clone();
    copy.updated_at = None;
    for unit in &mut copy.capacity {
        unit.updated = None;
    }
    copy
}

fn comparable_organization(record: &pb::Organization) -> pb::Organization {
    pb::Organization { sites: Vec::new(), updated_at: None, ..record.clone() }
}

/// Reads `document` and works out what it changes in `entries`.
pub fn plan(document: &str, entries: &DirectoryEntries) -> ImportPlan {
    let mut reader = Reader { issues: Vec::new(), fatal: false };
    let parsed: Value = match serde_json::from_str(document) {
        Ok(value) => value,
        Err(err) => {
            reader.fail("$", format!("not valid JSON: {err}"));
            return ImportPlan { issues: reader.issues, ..Default::default() };
        }
    };
    let (items, single) = match parsed {
        Value::Array(items) => (items, false),
        object @ Value::Object(_) => (vec![object], true),
        _ => {
            reader.fail("$", "must be an array of HSDS services or one service object");
            return ImportPlan { issues: reader.issues, ..Default::default() };
        }
    };
    let mut organizations: BTreeMap<String, (pb::Organization, bool)> = BTreeMap::new();
    let mut services: BTreeMap<String, (pb::PartnerService, bool, bool)> = BTreeMap::new();
    for (index, item) in items.iter().enumerate() {
        let path = if single { "$".to_owned() } else { format!("$[{index}]") };
        reader.fatal = false;
        let Some(object) = reader.object(item, &path) else { continue };
        let org_path = format!("{path}.organization");
        let Some(org) = object.get("organization").and_then(|v| organization(&mut reader, v, &org_path)) else {
            reader.fail(org_path, "is required: the nested HSDS organization (id, name, description)");
            continue;
        };
        report(&mut reader, &org_path, validate_organization(&org, "", true));
        let (mut record, capacity_given) = service(&mut reader, object, &path, &org.organization_id);
        let existing = entries.service(&record.partner_service_id).map(|(_, s)| s.clone());
        if let Some(existing) = &existing {
            if existing.organization_id != record.organization_id {
                reader.fail(
                    format!("{path}.organization.id"),
                    format!(
                        "service belongs to {} in the directory; a service cannot move to another organization",
                        existing.organization_id
                    ),
                );
            }
            merge_kept_fields(&mut record, existing, capacity_given);
        } else if !capacity_given {
            reader.warn(
                format!("{path}.capacities"),
                "no capacity given; imported with 0 open places until the partner reports capacity",
            );
            record.capacity =
                vec![pb::Capacity { unit: DEFAULT_CAPACITY_UNIT.into(), available: 0, maximum: 0, updated: None }];
        }
        report(&mut reader, &path, validate_service(&record, "", true));
        if reader.fatal {
            continue;
        }
        let stored_org = entries.organization(&org.organization_id);
        match organizations.get(&org.organization_id) {
            Some((seen, _)) if comparable_organization(seen) != comparable_organization(&org) => reader.warn(
                org_path,
                format!(
                    "organization {} appears again with other fields; its first occurrence is imported",
                    org.organization_id
                ),
            ),
            Some(_) => {}
            None => {
                organizations.insert(org.organization_id.clone(), (org.clone(), stored_org.is_some()));
            }
        }
        let capacity_changed = existing.as_ref().is_none_or(|e| {
            comparable_service(&pb::PartnerService { capacity: e.capacity.clone(), ..Default::default() })
                != comparable_service(&pb::PartnerService { capacity: record.capacity.clone(), ..Default::default() })
        });
        if services.contains_key(&record.partner_service_id) {
            reader.warn(
                path,
                format!("service {} appears twice; its last occurrence is imported", record.partner_service_id),
            );
        }
        let unchanged = existing.as_ref().is_some_and(|e| comparable_service(e) == comparable_service(&record));
        if !unchanged {
            services.insert(record.partner_service_id.clone(), (record, existing.is_some(), capacity_changed));
        }
    }
    // Organizations that are new, or whose fields differ from what is stored.
    let organizations = organizations
        .into_values()
        .filter(|(org, exists)| {
            !*exists
                || entries
                    .organization(&org.organization_id)
                    .is_none_or(|stored| comparable_organization(&stored.record) != comparable_organization(org))
        })
        .map(|(mut org, exists)| {
            if let Some(stored) = entries.organization(&org.organization_id) {
                org.updated_at = stored.record.updated_at;
            }
            (org, exists)
        })
        .collect();
    let services = services
        .into_values()
        .map(|(mut record, exists, capacity_changed)| {
            if let Some((_, stored)) = entries.service(&record.partner_service_id) {
                record.updated_at = stored.updated_at;
            }
            (record, exists, capacity_changed)
        })
        .collect();
    ImportPlan { organizations, services, issues: reader.issues }
}

/// What an export leaves out and the directory keeps: the address of a confidential
/// location (exported as virtual), and the capacity when the document gives none.
fn merge_kept_fields(record: &mut pb::PartnerService, existing: &pb::PartnerService, capacity_given: bool) {
    if !capacity_given {
        record.capacity = existing.capacity.clone();
    } else {
        for unit in &mut record.capacity {
            if unit.updated.is_none()
                && let Some(same) = existing
                    .capacity
                    .iter()
                    .find(|e| e.unit == unit.unit && e.available == unit.available && e.maximum == unit.maximum)
            {
                unit.updated = same.updated;
            }
        }
    }
    for location in &mut record.locations {
        if let Some(stored) = existing
            .locations
            .iter()
            .find(|s| s.confidential && !s.location_id.is_empty() && s.location_id == location.location_id)
        {
            *location = pb::Location { name: location.name.clone(), url: location.url.clone(), ..stored.clone() };
        }
    }
}
