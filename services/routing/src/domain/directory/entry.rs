//! The directory as it is managed: every organization and service with all the fields
//! the API and HSDS carry (contacts, locations, accepted tiers, HSDS ids), kept as the
//! API messages. The routing [`Directory`] the decisions read is a projection of it,
//! rebuilt after every change.

use std::collections::{BTreeMap, BTreeSet};

use wf_proto::common::v1::Site;
use wf_proto::routing::v1 as pb;
use wf_types::PartnerId;

use super::{Capacity, Directory, Organization, PartnerService, ServiceArea};

/// Every organization and its services, by id.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DirectoryEntries {
    pub organizations: BTreeMap<String, OrganizationEntry>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OrganizationEntry {
    /// As stored; `sites` is derived from the services on read ([`OrganizationEntry::with_sites`]).
    pub record: pb::Organization,
    /// The program's own case-management team (set by the directory file only).
    pub program_team: bool,
    pub services: BTreeMap<String, pb::PartnerService>,
}

impl OrganizationEntry {
    /// Sites any of its services covers, in enum order.
    pub fn sites(&self) -> Vec<Site> {
        let sites: BTreeSet<i32> =
            self.services.values().flat_map(|s| s.service_areas.iter().map(|area| area.site)).collect();
        sites.into_iter().filter_map(|s| Site::try_from(s).ok()).filter(|s| *s != Site::Unspecified).collect()
    }

    /// The record as the API shows it: with the sites its services cover.
    pub fn with_sites(&self) -> pb::Organization {
        let mut record = self.record.clone();
        record.sites = self.sites().into_iter().map(|site| site as i32).collect();
        record
    }
}

impl DirectoryEntries {
    /// The entries of a directory read from a file (the seed of a new database).
    pub fn from_directory(directory: &Directory) -> Self {
        let organizations = directory
            .organizations
            .iter()
            .map(|org| {
                let services = org.services.iter().map(|s| (s.id.clone(), service_record(s))).collect();
                let entry =
                    OrganizationEntry { record: organization_record(org), program_team: org.program_team, services };
                (org.id.to_string(), entry)
            })
            .collect();
        Self { organizations }
    }

    pub fn organization(&self, id: &str) -> Option<&OrganizationEntry> {
        self.organizations.get(id)
    }

    /// A service and the organization that offers it.
    pub fn service(&self, id: &str) -> Option<(&OrganizationEntry, &pb::PartnerService)> {
        self.organizations.values().find_map(|org| org.services.get(id).map(|service| (org, service)))
    }

    /// Every service, by organization id then service id.
    pub fn services(&self) -> impl Iterator<Item = (&OrganizationEntry, &pb::PartnerService)> {
        self.organizations.values().flat_map(|org| org.services.values().map(move |service| (org, service)))
    }

    /// The directory the decisions read. Entries are validated before they are stored, so
    /// every one maps; an organization id that does not parse (never stored) is skipped.
    pub fn routing_view(&self) -> Directory {
        let organizations = self
            .organizations
            .values()
            .filter_map(|entry| {
                let id: PartnerId = entry.record.organization_id.parse().ok()?;
                let services = entry.services.values().map(|s| routing_service(s, &id)).collect();
                Some(Organization {
                    id,
                    name: entry.record.name.clone(),
                    description: entry.record.description.clone(),
                    website: entry.record.website.clone(),
                    email: entry.record.email.clone(),
                    victim_service_provider: entry.record.victim_service_provider,
                    in_network: entry.record.in_network,
                    active: entry.record.active,
                    program_team: entry.program_team,
                    services,
                })
            })
            .collect();
        Directory { organizations }
    }
}

fn non_negative(value: i32) -> u32 {
    u32::try_from(value).unwrap_or(0)
}

/// The routing view of a validated service record.
pub(super) fn routing_service(record: &pb::PartnerService, organization_id: &PartnerId) -> PartnerService {
    PartnerService {
        id: record.partner_service_id.clone(),
        organization_id: organization_id.clone(),
        name: record.name.clone(),
        description: record.description.clone(),
        status: pb::ServiceStatus::try_from(record.status).unwrap_or(pb::ServiceStatus::Unspecified),
        service_types: record.service_types.clone(),
        minimum_age: non_negative(record.minimum_age),
        maximum_age: non_negative(record.maximum_age),
        serves_minors: record.serves_minors,
        eligibility_description: record.eligibility_description.clone(),
        service_areas: record
            .service_areas
            .iter()
            .map(|area| ServiceArea {
                name: area.name.clone(),
                site: Site::try_from(area.site).unwrap_or(Site::Unspecified),
                postal_codes: area.postal_codes.clone(),
            })
            .collect(),
        languages: record.languages.clone(),
        capacity: record
            .capacity
            .iter()
            .map(|c| Capacity {
                unit: c.unit.clone(),
                available: non_negative(c.available),
                maximum: non_negative(c.maximum),
            })
            .collect(),
        available_24_7: record.available_24_7,
    }
}

/// The API record of an organization read from the directory file.
pub fn organization_record(org: &Organization) -> pb::Organization {
    pb::Organization {
        organization_id: org.id.to_string(),
        name: org.name.clone(),
        description: org.description.clone(),
        website: org.website.clone(),
        email: org.email.clone(),
        victim_service_provider: org.victim_service_provider,
        in_network: org.in_network,
        active: org.active,
        ..Default::default()
    }
}

/// The API record of a service read from the directory file.
pub fn service_record(service: &PartnerService) -> pb::PartnerService {
    pb::PartnerService {
        partner_service_id: service.id.clone(),
        organization_id: service.organization_id.to_string(),
        name: service.name.clone(),
        description: service.description.clone(),
        status: service.status as i32,
        service_types: service.service_types.clone(),
        minimum_age: service.minimum_age as i32,
        maximum_age: service.maximum_age as i32,
        eligibility_description: service.eligibility_description.clone(),
        service_areas: service
            .service_areas
            .iter()
            .map(|area| pb::ServiceArea {
                name: area.name.clone(),
                site: area.site as i32,
                postal_codes: area.postal_codes.clone(),
                ..Default::default()
            })
            .collect(),
        languages: service.languages.clone(),
        capacity: service
            .capacity
            .iter()
            .map(|c| pb::Capacity {
                unit: c.unit.clone(),
                available: c.available as i32,
                maximum: c.maximum as i32,
                updated: None,
            })
            .collect(),
        available_24_7: service.available_24_7,
        serves_minors: service.serves_minors,
        ..Default::default()
    }
}

/// Open places and maximum summed over the units (what `routing_capacity` holds).
pub fn capacity_totals(capacity: &[pb::Capacity]) -> (u32, u32) {
    capacity.iter().fold((0, 0), |(open, max), c| (open + non_negative(c.available), max + non_negative(c.maximum)))
}

/// The reported capacity adjusted to the open places the database holds now: places
/// taken by accepts since the report come off the units in order, places returned go back
/// on them up to each unit's maximum.
pub fn with_open_places(capacity: &[pb::Capacity], open_now: u32) -> Vec<pb::Capacity> {
    let (reported, _) = capacity_totals(capacity);
    let mut adjusted = capacity.to_vec();
    if open_now < reported {
        let mut taken = reported - open_now;
        for unit in &mut adjusted {
            let off = taken.min(non_negative(unit.available));
            unit.available -= off as i32;
            taken -= off;
        }
    } else {
        let mut returned = open_now - reported;
        for unit in &mut adjusted {
            let room = non_negative(unit.maximum).saturating_sub(non_negative(unit.available));
            let on = returned.min(room);
            unit.available += on as i32;
            returned -= on;
        }
    }
    adjusted
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::domain::Directory;

    fn capacity(units: &[(&str, i32, i32)]) -> Vec<pb::Capacity> {
        units
            .iter()
            .map(|(unit, available, maximum)| pb::Capacity {
                unit: (*unit).into(),
                available: *available,
                maximum: *maximum,
                updated: None,
            })
            .collect()
    }

    fn available(capacity: &[pb::Capacity]) -> Vec<i32> {
        capacity.iter().map(|c| c.available).collect()
    }

    #[test]
    fn the_demo_directory_round_trips_through_its_entries() {
        let demo = Directory::demo().unwrap();
        let entries = DirectoryEntries::from_directory(&demo);
        assert_eq!(entries.organizations.len(), 10);
        assert_eq!(entries.routing_view(), demo);
    }

    #[test]
    fn organization_sites_come_from_its_services() {
        let demo = Directory::demo().unwrap();
        let entries = DirectoryEntries::from_directory(&demo);
        for org in &demo.organizations {
            let entry = entries.organization(org.id.as_str()).unwrap();
            assert_eq!(entry.sites(), org.sites());
            let shown = entry.with_sites();
            assert_eq!(shown.sites, org.sites().into_iter().map(|s| s as i32).collect::<Vec<_>>());
        }
    }

    #[test]
    fn taken_places_come_off_the_units_in_order() {
        let units = capacity(&[("bed", 2, 4), ("slot", 3, 6)]);
        assert_eq!(capacity_totals(&units), (5, 10));
        assert_eq!(available(&with_open_places(&units, 5)), vec![2, 3]);
        assert_eq!(available(&with_open_places(&units, 4)), vec![1, 3]);
        assert_eq!(available(&with_open_places(&units, 1)), vec![0, 1]);
        assert_eq!(available(&with_open_places(&units, 0)), vec![0, 0]);
    }

    #[test]
    fn returned_places_never_exceed_a_units_maximum() {
        let units = capacity(&[("bed", 2, 4), ("slot", 3, 6)]);
        assert_eq!(available(&with_open_places(&units, 7)), vec![4, 3]);
        assert_eq!(available(&with_open_places(&units, 50)), vec![4, 6]);
    }
}
