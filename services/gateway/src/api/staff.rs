//! What the staff screens share: the roster and the partner directory as the pages name people
//! and organizations (staff and directory data, never youth data), a select's options, and reading
//! a paged list of a service whole. Each loader reads only what the person's role may (the
//! authorization table's rows, `wf_auth`); a role that may not gets an empty one.

use std::collections::HashMap;

use wf_auth::Role;
use wf_proto::cases::v1 as cases;
use wf_proto::routing::v1 as routing;

use super::{OrPage as _, PageError};
use crate::app::{App, SignedIn};

/// Pages of a list read at most: the pilot's lists fit in one page of 500.
pub const MAX_PAGES: usize = 4;
/// The page size asked for (the services' maximum).
pub const PAGE_SIZE: i32 = 500;

/// The gRPC methods whose table rows decide what the screens offer.
pub mod method {
    pub const LIST_CASE_MANAGERS: &str = "/wayfinder.cases.v1.CaseService/ListCaseManagers";
    pub const LIST_ORGANIZATIONS: &str = "/wayfinder.routing.v1.RoutingService/ListOrganizations";
    pub const CLAIM_CASE: &str = "/wayfinder.cases.v1.CaseService/ClaimCase";
}

/// Whether `role` may call gRPC `method` (its row in the authorization table).
pub fn may_call(role: Role, method: &str) -> bool {
    wf_auth::rpc::rule(method).is_some_and(|rule| rule.allows(role))
}

/// Every item of a paged list, at most [`MAX_PAGES`] pages: `page(token)` answers one page's items
/// and the next page's token (empty after the last). `true` beside them when more were left.
pub async fn every_page<T, Page>(mut page: impl FnMut(String) -> Page) -> Result<(Vec<T>, bool), PageError>
where
    Page: Future<Output = Result<(Vec<T>, String), PageError>>,
{
    let mut items = Vec::new();
    let mut token = String::new();
    for _ in 0..MAX_PAGES {
        let (found, next) = page(token).await?;
        items.extend(found);
        if next.is_empty() {
            return Ok((items, false));
        }
        token = next;
    }
    Ok((items, true))
}

/// The roster as the pages name case managers (staff names, not youth data).
#[derive(Debug, Clone, Default)]
pub struct Roster {
    entries: Vec<cases::CaseManager>,
}

impl Roster {
    fn entry(&self, case_manager_id: &str) -> Option<&cases::CaseManager> {
        self.entries.iter().find(|cm| cm.case_manager_id == case_manager_id)
    }

    /// "Demo Case Manager One (CM-SLA-1)".
    pub fn name(&self, case_manager_id: &str) -> Option<String> {
        self.entry(case_manager_id).map(|cm| match (cm.display_name.is_empty(), cm.display_code.is_empty()) {
            (false, false) => format!("{} ({})", cm.display_name, cm.display_code),
            (false, true) => cm.display_name.clone(),
            (true, false) => cm.display_code.clone(),
            (true, true) => cm.case_manager_id.clone(),
        })
    }

    /// The name of the staff member whose sign-in is `user_id` (a change's author).
    pub fn name_of_user(&self, user_id: &str) -> Option<String> {
        let entry = self.entries.iter().find(|cm| !cm.user_id.is_empty() && cm.user_id == user_id)?;
        self.name(&entry.case_manager_id)
    }

    /// Whether `user_id` holds the case owned by `owner`, or is that owner's supervisor: the two
    /// who may read and write the case's privileged notes.
    pub fn owner_or_their_supervisor(&self, user_id: &str, owner: &str) -> bool {
        let Some(own) = self.own_id(user_id) else { return false };
        if owner.is_empty() {
            return false;
        }
        own == owner || self.entry(owner).is_some_and(|cm| cm.supervisor_id == own)
    }

    /// The roster entry of the signed-in person (linked by their sign-in's user id).
    pub fn own_id(&self, user_id: &str) -> Option<&str> {
        self.entries.iter().find(|cm| cm.user_id == user_id).map(|cm| cm.case_manager_id.as_str())
    }

    /// Case managers who can hold cases (not supervisors), for the owner filter.
    pub fn case_managers(&self) -> impl Iterator<Item = &cases::CaseManager> {
        self.entries.iter().filter(|cm| !cm.supervisor)
    }

    /// Everyone in it (inactive and supervisors too), unless the role may not read it.
    pub async fn load(app: &App, who: &SignedIn) -> Result<Self, PageError> {
        if !may_call(who.role, method::LIST_CASE_MANAGERS) {
            return Ok(Roster::default());
        }
        let client = app.upstream.cases(who)?;
        let (entries, _) = every_page(|page_token| {
            let mut client = client.clone();
            let request = cases::ListCaseManagersRequest {
                include_inactive: true,
                include_supervisors: true,
                page_size: PAGE_SIZE,
                page_token,
                ..Default::default()
            };
            async move {
                let page = client.list_case_managers(request).await.or_page(who)?;
                Ok((page.case_managers, page.next_page_token))
            }
        })
        .await?;
        Ok(Roster { entries })
    }
}

/// Partner organizations and services by id (directory data, not personal), for offers and decisions.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    /// Name, and whether the organization is active (retired ones stay for history).
    organizations: HashMap<String, (String, bool)>,
    services: HashMap<String, String>,
}

impl Directory {
    /// The organization's name, else its id.
    pub fn organization(&self, id: &str) -> String {
        self.organizations.get(id).map_or_else(|| id.to_owned(), |(name, _)| name.clone())
    }

    /// Every active organization, by name, as (id, name): the ones a form may name.
    pub fn organizations(&self) -> Vec<(String, String)> {
        let mut all: Vec<(String, String)> = self
            .organizations
            .iter()
            .filter(|(_, (_, active))| *active)
            .map(|(id, (name, _))| (id.clone(), name.clone()))
            .collect();
        all.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
        all
    }

    /// "Organization: Service", or what of it is known.
    pub fn service(&self, organization_id: &str, service_id: &str) -> String {
        match self.services.get(service_id) {
            Some(service) => format!("{}: {service}", self.organization(organization_id)),
            None => self.organization(organization_id),
        }
    }

    /// Every organization and service (retired ones too), unless the role may not read them.
    pub async fn load(app: &App, who: &SignedIn) -> Result<Self, PageError> {
        if !may_call(who.role, method::LIST_ORGANIZATIONS) {
            return Ok(Directory::default());
        }
        let client = app.upstream.routing(who)?;
        let (organizations, _) = every_page(|page_token| {
            let mut client = client.clone();
            let request = routing::ListOrganizationsRequest {
                include_inactive: true,
                page_size: PAGE_SIZE,
                page_token,
                ..Default::default()
            };
            async move {
                let page = client.list_organizations(request).await.or_page(who)?;
                Ok((page.organizations, page.next_page_token))
            }
        })
        .await?;
        let (services, _) = every_page(|page_token| {
            let mut client = client.clone();
            let request = routing::ListPartnerServicesRequest {
                include_inactive: true,
                page_size: PAGE_SIZE,
                page_token,
                ..Default::default()
            };
            async move {
                let page = client.list_partner_services(request).await.or_page(who)?;
                Ok((page.partner_services, page.next_page_token))
            }
        })
        .await?;
        Ok(Directory {
            organizations: organizations.into_iter().map(|o| (o.organization_id, (o.name, o.active))).collect(),
            services: services.into_iter().map(|s| (s.partner_service_id, s.name)).collect(),
        })
    }
}

/// One option of a select or checkbox group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

impl Choice {
    pub fn new(value: impl Into<String>, label: impl Into<String>, selected: bool) -> Self {
        Choice { value: value.into(), label: label.into(), selected }
    }
}
