//! Staff's referral screens: the queue (`GET /referrals`, [`queue`]), a referral's page
//! (`GET /referrals/{id}`, [`detail`]) and its forms (triage, hold, close and reveal, [`actions`];
//! consent releases, mandated reports and possible matches, [`records`] and [`record_actions`]).
//!
//! Every call goes to the services as the signed-in person, so each service applies its
//! authorization table again; this module only leaves out what the person's role may not ask for
//! (the same table, `wf_auth`), so a page never shows a form that would be refused. Partners have
//! their own screens: here a partner gets the one "not found" page, as for an id that does not exist.

pub mod actions;
pub mod detail;
mod personal;
pub mod queue;
pub mod record_actions;
pub mod records;

use std::collections::HashMap;

use wf_auth::{Operation, Role, is_allowed};
use wf_proto::cases::v1 as cases;
use wf_proto::routing::v1 as routing;
use wf_types::ReferralId;

use super::{OrPage as _, PageError};
use crate::app::{App, SignedIn};
use crate::domain::queue::time;

/// Pages of a list read at most: the pilot's lists fit in one page of 500.
const MAX_PAGES: usize = 4;
/// The page size asked for (the services' maximum).
const PAGE_SIZE: i32 = 500;

/// The gRPC methods whose table rows decide what a page offers.
mod method {
    pub const LIST_CASE_MANAGERS: &str = "/wayfinder.cases.v1.CaseService/ListCaseManagers";
    pub const LIST_ORGANIZATIONS: &str = "/wayfinder.routing.v1.RoutingService/ListOrganizations";
}

/// Every item of a paged list, at most [`MAX_PAGES`] pages: `page(token)` answers one page's items
/// and the next page's token (empty after the last). `true` beside them when more were left.
async fn every_page<T, Page>(mut page: impl FnMut(String) -> Page) -> Result<(Vec<T>, bool), PageError>
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

fn may_call(role: Role, method: &str) -> bool {
    wf_auth::rpc::rule(method).is_some_and(|rule| rule.allows(role))
}

/// What the signed-in person's role may do on these screens (the authorization table's rows).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Abilities {
    /// Triage, hold and close (`ManageCases`).
    pub act: bool,
    /// Reveal personal details with a purpose (`ReadPersonalDetails`, staff only).
    pub reveal: bool,
    /// Routing's decisions and offers (`ReadRoutingDecision`).
    pub routing: bool,
    /// The roster: owners' names and "mine" (`ListCaseManagers`).
    pub roster: bool,
}

impl Abilities {
    pub fn of(role: Role) -> Self {
        Abilities {
            act: is_allowed(role, Operation::ManageCases),
            reveal: role != Role::Partner && is_allowed(role, Operation::ReadPersonalDetails),
            routing: is_allowed(role, Operation::ReadRoutingDecision),
            roster: may_call(role, method::LIST_CASE_MANAGERS),
        }
    }
}

/// Staff who read referrals; a partner gets "not found" (its own screens list its referrals),
/// anyone else the reason their role may not.
fn staff_reader(who: &SignedIn) -> Result<(), PageError> {
    if who.is_partner() {
        return Err(PageError::NotFound);
    }
    if !crate::domain::queue::shows_queue(who.role) {
        return Err(PageError::Forbidden(format!("role {} may not {}", who.role, Operation::ReadReferral)));
    }
    Ok(())
}

/// A referral id from the address; anything malformed is "not found", like an unknown id.
fn referral_id(raw: &str) -> Result<ReferralId, PageError> {
    raw.parse().map_err(|_| PageError::NotFound)
}

/// The roster as the pages name case managers (staff names, not youth data).
#[derive(Debug, Clone, Default)]
pub struct Roster {
    entries: Vec<cases::CaseManager>,
}

impl Roster {
    /// "Demo Case Manager One (CM-SLA-1)".
    pub fn name(&self, case_manager_id: &str) -> Option<String> {
        self.entries.iter().find(|cm| cm.case_manager_id == case_manager_id).map(|cm| {
            match (cm.display_name.is_empty(), cm.display_code.is_empty()) {
                (false, false) => format!("{} ({})", cm.display_name, cm.display_code),
                (false, true) => cm.display_name.clone(),
                (true, false) => cm.display_code.clone(),
                (true, true) => cm.case_manager_id.clone(),
            }
        })
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
    async fn load(app: &App, who: &SignedIn) -> Result<Self, PageError> {
        if !Abilities::of(who.role).roster {
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
    organizations: HashMap<String, String>,
    services: HashMap<String, String>,
}

impl Directory {
    /// The organization's name, else its id.
    pub fn organization(&self, id: &str) -> String {
        self.organizations.get(id).cloned().unwrap_or_else(|| id.to_owned())
    }

    /// Every organization, by name, as (id, name).
    pub fn organizations(&self) -> Vec<(String, String)> {
        let mut all: Vec<(String, String)> = self.organizations.iter().map(|(id, n)| (id.clone(), n.clone())).collect();
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

    async fn load(app: &App, who: &SignedIn) -> Result<Self, PageError> {
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
            organizations: organizations.into_iter().map(|o| (o.organization_id, o.name)).collect(),
            services: services.into_iter().map(|s| (s.partner_service_id, s.name)).collect(),
        })
    }
}

/// An instant as a page shows it: words, and RFC 3339 for `<time datetime>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct When {
    pub text: String,
    pub machine: String,
}

impl When {
    pub fn at(micros: i64) -> Self {
        When { text: time::date_time(micros), machine: time::machine_time(micros) }
    }

    pub fn of(at: &Option<prost_types::Timestamp>) -> Option<Self> {
        crate::domain::queue::micros(at).map(When::at)
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
    fn new(value: impl Into<String>, label: impl Into<String>, selected: bool) -> Self {
        Choice { value: value.into(), label: label.into(), selected }
    }
}
