//! Validation of directory records written through the API, imported from HSDS or read
//! from the directory file: one set of rules for a partner service wherever it comes from.
//! Every problem is reported at once, each with the path of the field (under a prefix
//! the caller gives, e.g. `partner_service` or `$[3]`) and what is allowed.

use std::collections::BTreeSet;

use wf_proto::common::v1::{Site, TriageTier};
use wf_proto::routing::v1 as pb;
use wf_types::{FieldViolation, PartnerId, PartnerServiceId};

use super::{CAPACITY_UNITS, KNOWN_SERVICE_TYPES};

/// Oldest age a service may name (inclusive).
pub const MAX_AGE: i32 = 130;
/// Longest offer window a service may ask for, in hours (a week).
pub const MAX_OFFER_RESPONSE_HOURS: i32 = 168;
const MAX_NAME_CHARS: usize = 200;
const MAX_TEXT_CHARS: usize = 4000;
/// HSDS phone.type codes.
pub const PHONE_TYPES: &[&str] = &["voice", "fax", "text", "cell", "video", "pager", "textphone"];

/// One problem with a record: where it is and what is allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryIssue {
    pub field: String,
    pub message: String,
}

impl From<EntryIssue> for FieldViolation {
    fn from(issue: EntryIssue) -> Self {
        FieldViolation::new(issue.field, issue.message)
    }
}

struct Issues<'a> {
    prefix: &'a str,
    list: Vec<EntryIssue>,
}

impl Issues<'_> {
    fn push(&mut self, field: impl AsRef<str>, message: impl Into<String>) {
        let field = field.as_ref();
        let field = if self.prefix.is_empty() { field.to_owned() } else { format!("{}.{field}", self.prefix) };
        self.list.push(EntryIssue { field, message: message.into() });
    }

    fn required_text(&mut self, field: &str, value: &str, hsds: &str) {
        if value.trim().is_empty() {
            self.push(field, format!("must not be empty ({hsds} is required)"));
        } else if value.chars().count() > MAX_NAME_CHARS {
            self.push(field, format!("is {} characters; at most {MAX_NAME_CHARS}", value.chars().count()));
        }
    }

    fn long_text(&mut self, field: &str, value: &str) {
        if value.chars().count() > MAX_TEXT_CHARS {
            self.push(field, format!("is {} characters; at most {MAX_TEXT_CHARS}", value.chars().count()));
        }
    }

    fn url(&mut self, field: &str, value: &str) {
        if !(value.is_empty() || value.starts_with("https://") || value.starts_with("http://")) {
            self.push(field, format!("{value:?} is not a web address; allowed: empty or starting with https://"));
        }
    }

    fn email(&mut self, field: &str, value: &str) {
        if value.is_empty() {
            return;
        }
        let valid = value.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
        }) && !value.chars().any(char::is_whitespace);
        if !valid {
            self.push(field, format!("{value:?} is not an email address (name@domain.tld)"));
        }
    }

    fn phones(&mut self, field: &str, phones: &[pb::DirectoryPhone]) {
        for (index, phone) in phones.iter().enumerate() {
            let number_ok = phone.number.chars().any(|c| c.is_ascii_digit())
                && phone.number.chars().all(|c| c.is_ascii_digit() || " +-().x".contains(c));
            if !number_ok {
                self.push(
                    format!("{field}[{index}].number"),
                    "must hold digits, optionally with + - ( ) . x and spaces (HSDS phone.number is required)",
                );
            }
            if !phone.r#type.is_empty() && !PHONE_TYPES.contains(&phone.r#type.as_str()) {
                self.push(
                    format!("{field}[{index}].type"),
                    format!("{:?} is not allowed; allowed: {}", phone.r#type, PHONE_TYPES.join(", ")),
                );
            }
        }
    }
}

fn is_language_code(code: &str) -> bool {
    (2..=3).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_lowercase())
}

/// Lower snake_case: a letter, then letters, digits and underscores.
pub fn is_snake_code(code: &str) -> bool {
    code.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
        && code.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

fn site_names() -> &'static str {
    "SITE_SOUTH_LOS_ANGELES, SITE_SAN_FERNANDO_VALLEY, SITE_COUNTYWIDE"
}

/// Checks an organization; `id_required` is false on create, where an empty id means
/// "assign one".
pub fn validate_organization(org: &pb::Organization, prefix: &str, id_required: bool) -> Vec<EntryIssue> {
    let mut issues = Issues { prefix, list: Vec::new() };
    if (id_required || !org.organization_id.is_empty())
        && let Err(err) = org.organization_id.parse::<PartnerId>()
    {
        issues.push("organization_id", err.to_string());
    }
    issues.required_text("name", &org.name, "HSDS organization.name");
    if org.description.trim().is_empty() {
        issues.push("description", "must not be empty (HSDS organization.description is required)");
    }
    issues.long_text("description", &org.description);
    issues.url("website", &org.website);
    issues.email("email", &org.email);
    issues.phones("phones", &org.phones);
    if org.hsds_id.chars().count() > MAX_NAME_CHARS {
        issues.push("hsds_id", format!("at most {MAX_NAME_CHARS} characters"));
    }
    issues.list
}

/// Where a service record comes from, which decides the service types it may name and how a
/// problem with one code of a list is named.
#[derive(Debug, Clone, Copy)]
pub enum Source<'a> {
    /// The API and HSDS imports: the shared service types; each list item named by its index.
    Api,
    /// The directory file: the shared service types plus the file's own
    /// `additional_service_types`; a code in a list is named by the list, as the file writes it.
    DirectoryFile { additional_service_types: &'a BTreeSet<String> },
}

impl Source<'_> {
    fn allows_service_type(&self, code: &str) -> bool {
        KNOWN_SERVICE_TYPES.contains(&code)
            || matches!(self, Source::DirectoryFile { additional_service_types } if additional_service_types.contains(code))
    }

    fn unknown_service_type(&self, code: &str) -> String {
        match self {
            Source::Api => {
                format!("{code:?} is not a known service type; allowed: {}", KNOWN_SERVICE_TYPES.join(", "))
            }
            Source::DirectoryFile { additional_service_types } => {
                let allowed: BTreeSet<&str> = KNOWN_SERVICE_TYPES
                    .iter()
                    .copied()
                    .chain(additional_service_types.iter().map(String::as_str))
                    .collect();
                format!(
                    "{code:?} is not a known service type; allowed: {} (or add it to additional_service_types)",
                    allowed.into_iter().collect::<Vec<_>>().join(", ")
                )
            }
        }
    }

    /// The field of the `index`th code of `list`.
    fn code_field(&self, list: &str, index: usize) -> String {
        match self {
            Source::Api => format!("{list}[{index}]"),
            Source::DirectoryFile { .. } => list.to_owned(),
        }
    }
}

/// Checks a service written through the API or imported; `id_required` is false on create.
pub fn validate_service(service: &pb::PartnerService, prefix: &str, id_required: bool) -> Vec<EntryIssue> {
    validate_service_from(service, prefix, id_required, Source::Api)
}

/// Checks a service from `source`; `id_required` is false on create.
pub fn validate_service_from(
    service: &pb::PartnerService,
    prefix: &str,
    id_required: bool,
    source: Source<'_>,
) -> Vec<EntryIssue> {
    let mut issues = Issues { prefix, list: Vec::new() };
    if (id_required || !service.partner_service_id.is_empty())
        && !PartnerServiceId::is_valid(&service.partner_service_id)
    {
        issues.push("partner_service_id", "expected `svc_` followed by 32 lowercase hex digits");
    }
    if let Err(err) = service.organization_id.parse::<PartnerId>() {
        issues.push("organization_id", err.to_string());
    }
    issues.required_text("name", &service.name, "HSDS service.name");
    issues.long_text("description", &service.description);
    issues.long_text("eligibility_description", &service.eligibility_description);
    match pb::ServiceStatus::try_from(service.status) {
        Ok(status) if status != pb::ServiceStatus::Unspecified => {}
        _ => issues.push(
            "status",
            format!(
                "{} is not allowed; allowed: SERVICE_STATUS_ACTIVE, SERVICE_STATUS_INACTIVE, SERVICE_STATUS_DEFUNCT, \
                 SERVICE_STATUS_TEMPORARILY_CLOSED",
                service.status
            ),
        ),
    }
    if service.service_types.is_empty() {
        issues.push("service_types", "must list at least one service type code");
    }
    let mut seen = BTreeSet::new();
    for (index, code) in service.service_types.iter().enumerate() {
        if !source.allows_service_type(code) {
            issues.push(source.code_field("service_types", index), source.unknown_service_type(code));
        } else if !seen.insert(code) {
            issues.push(source.code_field("service_types", index), format!("{code:?} is listed twice"));
        }
    }
    let (min, max) = (service.minimum_age, service.maximum_age);
    for (field, age) in [("minimum_age", min), ("maximum_age", max)] {
        if !(0..=MAX_AGE).contains(&age) {
            issues.push(field, format!("{age} is out of range; allowed 0 (no limit) to {MAX_AGE}"));
        }
    }
    if min > 0 && max > 0 && min > max {
        issues.push("minimum_age", format!("{min} is above maximum_age {max}; the range is inclusive, min ≤ max"));
    }
    if service.serves_minors && min >= 18 {
        issues.push("serves_minors", format!("is true but minimum_age is {min} (an adult age)"));
    }
    if !service.serves_minors && max > 0 && max < 18 {
        issues.push("serves_minors", format!("is false but maximum_age is {max} (a minor's age)"));
    }
    if service.service_areas.is_empty() {
        issues.push("service_areas", "must list at least one area");
    }
    for (index, area) in service.service_areas.iter().enumerate() {
        let field = format!("service_areas[{index}]");
        if area.name.trim().is_empty() {
            issues.push(format!("{field}.name"), "must not be empty (HSDS service_area.name)");
        }
        match Site::try_from(area.site) {
            Ok(site) if site != Site::Unspecified => {}
            _ => {
                issues.push(format!("{field}.site"), format!("{} is not allowed; allowed: {}", area.site, site_names()))
            }
        }
        for (code_index, code) in area.postal_codes.iter().enumerate() {
            if code.len() != 5 || !code.bytes().all(|b| b.is_ascii_digit()) {
                issues
                    .push(format!("{field}.postal_codes[{code_index}]"), format!("{code:?} is not a 5-digit ZIP code"));
            }
        }
        if !area.extent_geojson.is_empty()
            && !serde_json::from_str::<serde_json::Value>(&area.extent_geojson).is_ok_and(|v| v.is_object())
        {
            issues.push(format!("{field}.extent_geojson"), "must be a GeoJSON object (JSON text) or empty");
        }
    }
    if service.languages.is_empty() {
        issues.push("languages", "must list at least one ISO 639 code");
    }
    let mut seen = BTreeSet::new();
    for (index, code) in service.languages.iter().enumerate() {
        if !is_language_code(code) {
            issues.push(
                source.code_field("languages", index),
                format!("{code:?} is not an ISO 639 code (2 or 3 lowercase letters)"),
            );
        } else if !seen.insert(code) {
            issues.push(source.code_field("languages", index), format!("{code:?} is listed twice"));
        }
    }
    if service.capacity.is_empty() {
        issues.push("capacity", "must list at least one entry (routing needs open capacity)");
    }
    let mut units = BTreeSet::new();
    for (index, entry) in service.capacity.iter().enumerate() {
        let field = format!("capacity[{index}]");
        issues.list.extend(validate_capacity(entry, &issues.join(&field)));
        if !units.insert(&entry.unit) {
            issues.push(format!("{field}.unit"), format!("{:?} is listed twice", entry.unit));
        }
    }
    let mut tiers = BTreeSet::new();
    for (index, tier) in service.accepted_tiers.iter().enumerate() {
        match TriageTier::try_from(*tier) {
            Ok(t) if t != TriageTier::Unspecified => {
                if !tiers.insert(*tier) {
                    issues.push(format!("accepted_tiers[{index}]"), format!("{} is listed twice", t.as_str_name()));
                }
                if t == TriageTier::Emergent && !service.available_24_7 {
                    issues.push(
                        format!("accepted_tiers[{index}]"),
                        "TRIAGE_TIER_EMERGENT needs a 24/7 responder; set available_24_7 or remove the tier",
                    );
                }
            }
            _ => issues.push(
                format!("accepted_tiers[{index}]"),
                format!(
                    "{tier} is not allowed; allowed: TRIAGE_TIER_EMERGENT, TRIAGE_TIER_URGENT, TRIAGE_TIER_ROUTINE"
                ),
            ),
        }
    }
    for (index, code) in service.engagement_approaches.iter().enumerate() {
        if !is_snake_code(code) {
            issues.push(format!("engagement_approaches[{index}]"), format!("{code:?} is not a lower snake_case code"));
        }
    }
    for (index, location) in service.locations.iter().enumerate() {
        validate_location(location, &format!("locations[{index}]"), &mut issues);
    }
    if !(0..=MAX_OFFER_RESPONSE_HOURS).contains(&service.offer_response_hours) {
        issues.push(
            "offer_response_hours",
            format!(
                "{} is out of range; allowed 0 (policy default) to {MAX_OFFER_RESPONSE_HOURS}",
                service.offer_response_hours
            ),
        );
    }
    issues.email("email", &service.email);
    issues.phones("phones", &service.phones);
    if service.hsds_id.chars().count() > MAX_NAME_CHARS {
        issues.push("hsds_id", format!("at most {MAX_NAME_CHARS} characters"));
    }
    issues.list
}

impl Issues<'_> {
    fn join(&self, field: &str) -> String {
        if self.prefix.is_empty() { field.to_owned() } else { format!("{}.{field}", self.prefix) }
    }
}

fn validate_location(location: &pb::Location, field: &str, issues: &mut Issues<'_>) {
    let kind = pb::LocationType::try_from(location.location_type).unwrap_or(pb::LocationType::Unspecified);
    if kind == pb::LocationType::Unspecified {
        issues.push(
            format!("{field}.location_type"),
            format!(
                "{} is not allowed; allowed: LOCATION_TYPE_PHYSICAL, LOCATION_TYPE_POSTAL, LOCATION_TYPE_VIRTUAL",
                location.location_type
            ),
        );
    }
    if !location.location_id.is_empty() && location.location_id.chars().count() > MAX_NAME_CHARS {
        issues.push(format!("{field}.location_id"), format!("at most {MAX_NAME_CHARS} characters"));
    }
    if matches!(kind, pb::LocationType::Physical | pb::LocationType::Postal) {
        for (name, value) in [
            ("address_1", &location.address_1),
            ("city", &location.city),
            ("state_province", &location.state_province),
            ("postal_code", &location.postal_code),
            ("country", &location.country),
        ] {
            if value.trim().is_empty() {
                issues.push(
                    format!("{field}.{name}"),
                    format!("must not be empty for a {} location (HSDS address.{name})", location_type_code(kind)),
                );
            }
        }
        if !location.country.is_empty()
            && (location.country.len() != 2 || !location.country.bytes().all(|b| b.is_ascii_uppercase()))
        {
            issues.push(
                format!("{field}.country"),
                format!("{:?} is not an ISO 3166-1 alpha-2 code (e.g. US)", location.country),
            );
        }
    }
    if kind == pb::LocationType::Virtual && location.url.is_empty() {
        issues.push(format!("{field}.url"), "must not be empty for a virtual location");
    }
    issues.url(&format!("{field}.url"), &location.url);
    if !(-90.0..=90.0).contains(&location.latitude) {
        issues.push(format!("{field}.latitude"), format!("{} is out of range; allowed -90 to 90", location.latitude));
    }
    if !(-180.0..=180.0).contains(&location.longitude) {
        issues
            .push(format!("{field}.longitude"), format!("{} is out of range; allowed -180 to 180", location.longitude));
    }
}

/// HSDS `location_type` code.
pub fn location_type_code(kind: pb::LocationType) -> &'static str {
    match kind {
        pb::LocationType::Physical => "physical",
        pb::LocationType::Postal => "postal",
        pb::LocationType::Virtual => "virtual",
        pb::LocationType::Unspecified => "unspecified",
    }
}

/// Checks one capacity entry: a known unit, 0 ≤ available ≤ maximum.
pub fn validate_capacity(capacity: &pb::Capacity, prefix: &str) -> Vec<EntryIssue> {
    let mut issues = Issues { prefix, list: Vec::new() };
    if !CAPACITY_UNITS.contains(&capacity.unit.as_str()) {
        issues.push("unit", format!("{:?} is not allowed; allowed: {}", capacity.unit, CAPACITY_UNITS.join(", ")));
    }
    if capacity.maximum < 0 {
        issues.push("maximum", format!("{} is negative; allowed 0 or more", capacity.maximum));
    }
    if capacity.available < 0 {
        issues.push("available", format!("{} is negative; allowed 0 to maximum", capacity.available));
    } else if capacity.available > capacity.maximum && capacity.maximum >= 0 {
        issues.push(
            "available",
            format!("{} is above maximum {}; allowed 0 to {}", capacity.available, capacity.maximum, capacity.maximum),
        );
    }
    issues.list
}

#[cfg(test)]
mod tests;
