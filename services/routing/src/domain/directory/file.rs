//! Reading a directory document: the TOML shape (mirroring HSDS field names) and
//! its validation into a [`Directory`], collecting every problem with where it is
//! and what is allowed. A service is checked by the same validator as the records the
//! API writes ([`validate_service_from`]).

use std::collections::BTreeSet;

use serde::Deserialize;
use wf_proto::common::v1::Site;
use wf_proto::routing::v1 as pb;
use wf_proto::routing::v1::ServiceStatus;
use wf_types::PartnerId;

use super::entry::routing_service;
use super::validate::{Source, is_snake_code, validate_service_from};
use super::{Directory, DirectoryError, DirectoryIssue, Organization, PartnerService, site_from_code};

const SITE_CODES: &str = "south_los_angeles, san_fernando_valley, countywide";
const STATUS_CODES: &str = "active, inactive, defunct, temporarily_closed";

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
    minimum_age: i32,
    #[serde(default)]
    maximum_age: i32,
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
    available: i32,
    maximum: i32,
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

struct Issues(Vec<DirectoryIssue>);

impl Issues {
    fn push(&mut self, location: &str, field: &str, message: impl Into<String>) {
        self.0.push(DirectoryIssue { location: format!("{location} field {field}"), message: message.into() });
    }
}

fn validate(file: DirectoryFile) -> Result<Directory, DirectoryError> {
    let mut issues = Issues(Vec::new());
    let mut additional_service_types = BTreeSet::new();
    for (index, code) in file.additional_service_types.iter().enumerate() {
        if !is_snake_code(code) {
            issues.push(
                "directory",
                &format!("additional_service_types[{index}]"),
                format!("{code:?} is not a lower snake_case code"),
            );
        }
        additional_service_types.insert(code.clone());
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
            let Some(org_id) = &id else { continue };
            if let Some(service) =
                validate_service(service, org_id, &additional_service_types, &service_location, &mut issues)
            {
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

/// The file's service as an API record: codes become enum values (an unknown code is reported
/// here, in the file's words, and the record is refused whatever stands in its place), then the
/// one service validator checks it as it checks every record the API writes.
fn validate_service(
    service: ServiceFile,
    organization_id: &PartnerId,
    additional_service_types: &BTreeSet<String>,
    location: &str,
    issues: &mut Issues,
) -> Option<PartnerService> {
    let before = issues.0.len();
    let status = status_from_code(&service.status).unwrap_or_else(|| {
        issues.push(location, "status", format!("{:?} is not allowed; allowed: {STATUS_CODES}", service.status));
        ServiceStatus::Active
    });
    let service_areas = service
        .service_areas
        .into_iter()
        .enumerate()
        .map(|(index, area)| {
            let site = site_from_code(&area.site).unwrap_or_else(|| {
                issues.push(
                    location,
                    &format!("service_areas[{index}].site"),
                    format!("{:?} is not allowed; allowed: {SITE_CODES}", area.site),
                );
                Site::Countywide
            });
            pb::ServiceArea {
                name: area.name,
                site: site as i32,
                postal_codes: area.postal_codes,
                ..Default::default()
            }
        })
        .collect();
    let record = pb::PartnerService {
        partner_service_id: service.id,
        organization_id: organization_id.to_string(),
        name: service.name,
        description: service.description,
        status: status as i32,
        service_types: service.service_types,
        minimum_age: service.minimum_age,
        maximum_age: service.maximum_age,
        serves_minors: service.serves_minors,
        eligibility_description: service.eligibility_description,
        service_areas,
        languages: service.languages,
        capacity: service
            .capacity
            .into_iter()
            .map(|c| pb::Capacity { unit: c.unit, available: c.available, maximum: c.maximum, updated: None })
            .collect(),
        available_24_7: service.available_24_7,
        ..Default::default()
    };
    for issue in validate_service_from(&record, "", true, Source::DirectoryFile { additional_service_types }) {
        // The file names a service's id `id`.
        let field = if issue.field == "partner_service_id" { "id" } else { issue.field.as_str() };
        issues.push(location, field, issue.message);
    }
    (issues.0.len() == before).then(|| routing_service(&record, organization_id))
}
