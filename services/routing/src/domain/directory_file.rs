//! Reading a directory document: the TOML shape (mirroring HSDS field names) and
//! its validation into a [`Directory`], collecting every problem with where it is
//! and what is allowed.

use std::collections::BTreeSet;

use serde::Deserialize;
use wf_proto::routing::v1::ServiceStatus;
use wf_types::PartnerId;

use super::directory::{
    CAPACITY_UNITS, Capacity, Directory, DirectoryError, DirectoryIssue, KNOWN_SERVICE_TYPES, Organization,
    PartnerService, ServiceArea, is_service_id, site_from_code,
};

const SITE_CODES: &str = "south_los_angeles, san_fernando_valley, countywide";
const STATUS_CODES: &str = "active, inactive, defunct, temporarily_closed";
/// The same limit as directory records written through the API.
const MAX_AGE: u32 = super::directory_validate::MAX_AGE as u32;

pub(super) fn parse(document: &str) -> Result<Directory, DirectoryError> {
    let file: DirectoryFile = toml::from_str(document).map_err(|err| DirectoryError::Parse(err.to_string()))?;
    validate(file)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DirectoryFile {
    #[serde(default)]
    additional_service_types: Vec<String>,
    #[serde(default)]
    organization: Vec<OrganizationFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OrganizationFile {
    id: String,
    name: String,
    description: String,
    #[serde(default)]
    website: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    victim_service_provider: bool,
    #[serde(default = "yes")]
    in_network: bool,
    #[serde(default = "yes")]
    active: bool,
    #[serde(default)]
    program_team: bool,
    #[serde(default)]
    service: Vec<ServiceFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ServiceFile {
    id: String,
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default = "active")]
    status: String,
    service_types: Vec<String>,
    #[serde(default)]
    minimum_age: i64,
    #[serde(default)]
    maximum_age: i64,
    serves_minors: bool,
    #[serde(default)]
    eligibility_description: String,
    service_areas: Vec<ServiceAreaFile>,
    languages: Vec<String>,
    capacity: Vec<CapacityFile>,
    #[serde(default)]
    available_24_7: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ServiceAreaFile {
    name: String,
    site: String,
    #[serde(default)]
    postal_codes: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CapacityFile {
    unit: String,
    available: i64,
    maximum: i64,
}

fn yes() -> bool {
    true
}

fn active() -> String {
    "active".into()
}

fn status_from_code(code: &str) -> Option<ServiceStatus> {
    match code {
        "active" => Some(ServiceStatus::Active),
        "inactive" => Some(ServiceStatus::Inactive),
        "defunct" => Some(ServiceStatus::Defunct),
        "temporarily_closed" => Some(ServiceStatus::TemporarilyClosed),
        _ => None,
    }
}

fn is_language_code(code: &str) -> bool {
    (2..=3).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_lowercase())
}

fn is_snake_code(code: &str) -> bool {
    !code.is_empty()
        && code.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
        && code.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

struct Issues(Vec<DirectoryIssue>);

impl Issues {
    fn push(&mut self, location: &str, field: &str, message: impl Into<String>) {
        self.0.push(DirectoryIssue { location: format!("{location} field {field}"), message: message.into() });
    }
}

fn validate(file: DirectoryFile) -> Result<Directory, DirectoryError> {
    let mut issues = Issues(Vec::new());
    let mut service_types: BTreeSet<String> = KNOWN_SERVICE_TYPES.iter().map(|s| (*s).to_owned()).collect();
    for (index, code) in file.additional_service_types.iter().enumerate() {
        if !is_snake_code(code) {
            issues.push(
                "directory",
                &format!("additional_service_types[{index}]"),
                format!("{code:?} is not a lower snake_case code"),
            );
        }
        service_types.insert(code.clone());
    }

    let mut organization_ids = BTreeSet::new();
    let mut service_ids = BTreeSet::new();
    let mut organizations = Vec::new();
    let mut program_teams = 0;
    for (index, org) in file.organization.into_iter().enumerate() {
        program_teams += usize::from(org.program_team);
        let location = format!("organization[{index}] {} ({:?})", org.id, org.name);
        let id = match org.id.parse::<PartnerId>() {
            Ok(id) => Some(id),
            Err(err) => {
                issues.push(&location, "id", err.to_string());
                None
            }
        };
        if !organization_ids.insert(org.id.clone()) {
            issues.push(&location, "id", "duplicate organization id");
        }
        if org.name.trim().is_empty() {
            issues.push(&location, "name", "must not be empty (HSDS organization.name is required)");
        }
        if org.description.trim().is_empty() {
            issues.push(&location, "description", "must not be empty (HSDS organization.description is required)");
        }
        let mut services = Vec::new();
        for (service_index, service) in org.service.into_iter().enumerate() {
            let service_location = format!("{location} service[{service_index}] {}", service.id);
            if !service_ids.insert(service.id.clone()) {
                issues.push(&service_location, "id", "duplicate service id (ids are unique across the directory)");
            }
            let Some(org_id) = id.clone() else { continue };
            if let Some(service) = validate_service(service, org_id, &service_types, &service_location, &mut issues) {
                services.push(service);
            }
        }
        services.sort_by(|a, b| a.id.cmp(&b.id));
        if let Some(id) = id {
            organizations.push(Organization {
                id,
                name: org.name,
                description: org.description,
                website: org.website,
                email: org.email,
                victim_service_provider: org.victim_service_provider,
                in_network: org.in_network,
                active: org.active,
                program_team: org.program_team,
                services,
            });
        }
    }
    if program_teams != 1 {
        issues.push(
            "directory",
            "organization.program_team",
            format!(
                "exactly one organization must be the program's own team (program_team = true), found {program_teams}"
            ),
        );
    }
    if !issues.0.is_empty() {
        return Err(DirectoryError::Invalid(issues.0));
    }
    organizations.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(Directory { organizations })
}

fn validate_service(
    service: ServiceFile,
    organization_id: PartnerId,
    service_types: &BTreeSet<String>,
    location: &str,
    issues: &mut Issues,
) -> Option<PartnerService> {
    let before = issues.0.len();
    if !is_service_id(&service.id) {
        issues.push(location, "id", "expected `svc_` followed by 32 lowercase hex digits");
    }
    if service.name.trim().is_empty() {
        issues.push(location, "name", "must not be empty (HSDS service.name is required)");
    }
    let status = status_from_code(&service.status);
    if status.is_none() {
        issues.push(location, "status", format!("{:?} is not allowed; allowed: {STATUS_CODES}", service.status));
    }
    if service.service_types.is_empty() {
        issues.push(location, "service_types", "must list at least one service type code");
    }
    let mut seen_types = BTreeSet::new();
    for code in &service.service_types {
        if !service_types.contains(code) {
            issues.push(
                location,
                "service_types",
                format!(
                    "{code:?} is not a known service type; allowed: {} (or add it to additional_service_types)",
                    service_types.iter().cloned().collect::<Vec<_>>().join(", ")
                ),
            );
        }
        if !seen_types.insert(code) {
            issues.push(location, "service_types", format!("{code:?} is listed twice"));
        }
    }
    let (min, max) = (service.minimum_age, service.maximum_age);
    for (field, age) in [("minimum_age", min), ("maximum_age", max)] {
        if !(0..=i64::from(MAX_AGE)).contains(&age) {
            issues.push(location, field, format!("{age} is out of range: allowed 0 (no limit) to {MAX_AGE}"));
        }
    }
    if min > 0 && max > 0 && min > max {
        issues.push(location, "minimum_age", format!("{min} is above maximum_age {max}"));
    }
    if service.serves_minors && min >= 18 {
        issues.push(location, "serves_minors", format!("is true but minimum_age is {min} (an adult age)"));
    }
    if !service.serves_minors && max > 0 && max < 18 {
        issues.push(location, "serves_minors", format!("is false but maximum_age is {max} (a minor's age)"));
    }
    if service.service_areas.is_empty() {
        issues.push(location, "service_areas", "must list at least one area");
    }
    let mut service_areas = Vec::new();
    for (index, area) in service.service_areas.into_iter().enumerate() {
        if area.name.trim().is_empty() {
            issues.push(location, &format!("service_areas[{index}].name"), "must not be empty");
        }
        match site_from_code(&area.site) {
            Some(site) => service_areas.push(ServiceArea { name: area.name, site, postal_codes: area.postal_codes }),
            None => issues.push(
                location,
                &format!("service_areas[{index}].site"),
                format!("{:?} is not allowed; allowed: {SITE_CODES}", area.site),
            ),
        }
    }
    if service.languages.is_empty() {
        issues.push(location, "languages", "must list at least one ISO 639 code");
    }
    for code in &service.languages {
        if !is_language_code(code) {
            issues.push(location, "languages", format!("{code:?} is not an ISO 639 code (2 or 3 lowercase letters)"));
        }
    }
    if service.capacity.is_empty() {
        issues.push(location, "capacity", "must list at least one entry (routing needs open capacity)");
    }
    let mut capacity = Vec::new();
    let mut units = BTreeSet::new();
    for (index, entry) in service.capacity.into_iter().enumerate() {
        let field = format!("capacity[{index}]");
        if !CAPACITY_UNITS.contains(&entry.unit.as_str()) {
            issues.push(
                location,
                &format!("{field}.unit"),
                format!("{:?} is not allowed; allowed: {}", entry.unit, CAPACITY_UNITS.join(", ")),
            );
        }
        if !units.insert(entry.unit.clone()) {
            issues.push(location, &format!("{field}.unit"), format!("{:?} is listed twice", entry.unit));
        }
        let in_range = |value: i64| u32::try_from(value).ok();
        match (in_range(entry.available), in_range(entry.maximum)) {
            (Some(available), Some(maximum)) if available <= maximum => {
                capacity.push(Capacity { unit: entry.unit, available, maximum });
            }
            (Some(available), Some(maximum)) => {
                issues.push(location, &format!("{field}.available"), format!("{available} is above maximum {maximum}"))
            }
            _ => issues.push(location, &field, "available and maximum must be 0 or more"),
        }
    }
    if issues.0.len() > before {
        return None;
    }
    Some(PartnerService {
        id: service.id,
        organization_id,
        name: service.name,
        description: service.description,
        status: status?,
        service_types: service.service_types,
        minimum_age: min as u32,
        maximum_age: max as u32,
        serves_minors: service.serves_minors,
        eligibility_description: service.eligibility_description,
        service_areas,
        languages: service.languages,
        capacity,
        available_24_7: service.available_24_7,
    })
}
