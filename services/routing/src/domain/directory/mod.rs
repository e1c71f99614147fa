//! The partner directory as routing sees it, loaded from a TOML file shaped like
//! Open Referral HSDS 3.0 (organization → service → service areas, languages,
//! age eligibility) plus the HSDS 3.1 draft `service_capacity`.
//!
//! Loading validates everything and reports every problem at once, each naming
//! the organization, the service, the field and what is allowed, so a program
//! manager can fix a file in one pass.

use std::collections::BTreeSet;
use std::fmt;

use wf_proto::common::v1::Site;
use wf_proto::routing::v1::ServiceStatus;
use wf_types::PartnerId;

pub mod entry;
mod file;
pub mod validate;

pub use entry::{DirectoryEntries, OrganizationEntry};

/// Service type codes every directory may use (the shared list of `Referral.needs`,
/// partner services and interventions). A directory adds its own with
/// `additional_service_types`.
pub const KNOWN_SERVICE_TYPES: &[&str] = wf_types::codes::SERVICE_TYPES;

/// HSDS 3.1 draft capacity units.
pub const CAPACITY_UNITS: &[&str] = &["bed", "slot", "client", "appointment"];

/// A validated directory.
#[derive(Debug, Clone, PartialEq)]
pub struct Directory {
    /// Sorted by id.
    pub organizations: Vec<Organization>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Organization {
    pub id: PartnerId,
    pub name: String,
    pub description: String,
    pub website: String,
    pub email: String,
    pub victim_service_provider: bool,
    pub in_network: bool,
    pub active: bool,
    /// The program's own case-management team: receives referrals outside the youth program.
    pub program_team: bool,
    /// Sorted by id.
    pub services: Vec<PartnerService>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PartnerService {
    /// "svc_" + 32 lowercase hex digits.
    pub id: String,
    pub organization_id: PartnerId,
    pub name: String,
    pub description: String,
    pub status: ServiceStatus,
    pub service_types: Vec<String>,
    /// Inclusive; 0 = no minimum.
    pub minimum_age: u32,
    /// Inclusive; 0 = no maximum.
    pub maximum_age: u32,
    pub serves_minors: bool,
    pub eligibility_description: String,
    pub service_areas: Vec<ServiceArea>,
    /// ISO 639 codes, lowercase.
    pub languages: Vec<String>,
    pub capacity: Vec<Capacity>,
    pub available_24_7: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ServiceArea {
    pub name: String,
    pub site: Site,
    pub postal_codes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Capacity {
    pub unit: String,
    pub available: u32,
    pub maximum: u32,
}

impl PartnerService {
    /// Open places across every capacity unit.
    pub fn open_capacity(&self) -> u32 {
        self.capacity.iter().map(|c| c.available).sum()
    }

    pub fn maximum_capacity(&self) -> u32 {
        self.capacity.iter().map(|c| c.maximum).sum()
    }

    pub fn sites(&self) -> impl Iterator<Item = Site> + '_ {
        self.service_areas.iter().map(|area| area.site)
    }
}

impl Organization {
    /// Sites any of its services covers, in enum order.
    pub fn sites(&self) -> Vec<Site> {
        let sites: BTreeSet<i32> = self.services.iter().flat_map(|s| s.sites()).map(|s| s as i32).collect();
        sites.into_iter().filter_map(|s| Site::try_from(s).ok()).collect()
    }
}

impl Directory {
    /// The demo directory shipped with the service (nine fictional partners and the program team).
    pub fn demo() -> Result<Self, DirectoryError> {
        Self::from_toml(include_str!("../../../demo/directory.toml"))
    }

    /// Parses and validates a directory document.
    pub fn from_toml(document: &str) -> Result<Self, DirectoryError> {
        file::parse(document)
    }

    /// A copy whose services show the given open places (capacity lives in the database
    /// once seeded); the open places go to the first capacity unit, the others show none.
    pub fn with_open_capacity(&self, open: &std::collections::HashMap<String, u32>) -> Directory {
        let mut copy = self.clone();
        for service in copy.organizations.iter_mut().flat_map(|org| org.services.iter_mut()) {
            if let Some(&available) = open.get(&service.id) {
                for (index, unit) in service.capacity.iter_mut().enumerate() {
                    unit.available = if index == 0 { available } else { 0 };
                }
            }
        }
        copy
    }

    pub fn organization(&self, id: &str) -> Option<&Organization> {
        self.organizations.iter().find(|org| org.id.as_str() == id)
    }

    pub fn service(&self, id: &str) -> Option<&PartnerService> {
        self.services().find(|service| service.id == id)
    }

    /// Every service of every organization, by organization id then service id.
    pub fn services(&self) -> impl Iterator<Item = &PartnerService> {
        self.organizations.iter().flat_map(|org| org.services.iter())
    }
}

/// Why a directory document was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DirectoryError {
    #[error("directory is not valid TOML for the directory shape: {0}")]
    Parse(String),
    #[error("directory has {} problem(s): {}", .0.len(), DirectoryIssue::join(.0))]
    Invalid(Vec<DirectoryIssue>),
}

/// One problem: where it is and what is allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryIssue {
    /// e.g. `organization org_… ("Demo Harbor Youth Shelter") service svc_… field minimum_age`.
    pub location: String,
    pub message: String,
}

impl DirectoryIssue {
    fn join(issues: &[DirectoryIssue]) -> String {
        issues.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
    }
}

impl fmt::Display for DirectoryIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

/// The site for a directory code.
pub fn site_from_code(code: &str) -> Option<Site> {
    match code {
        "south_los_angeles" => Some(Site::SouthLosAngeles),
        "san_fernando_valley" => Some(Site::SanFernandoValley),
        "countywide" => Some(Site::Countywide),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
