//! Staff's case screens: a case's page (`GET /cases/{id}`, [`page`]) and its forms ([`actions`]),
//! and "My caseload" (`GET /caseload`, [`caseload`]).
//!
//! Every call goes to the cases service as the signed-in person, so it applies its authorization
//! table again; this module only leaves out what the person's role may not ask for (the same
//! table, `wf_auth`), so a page never shows a form that would be refused. The cases staff read are
//! the case managers' and supervisors' (`ReadCase`, staff side); a partner gets the one "not found"
//! page (its own screens list the cases it serves), any other role the reason it may not.
//!
//! Changes carry the `updated_at` the page showed (the hidden `expected_updated_at` field): the
//! cases service refuses a change to a case that changed since, under the case's lock, and the form
//! then says who changed it and when.

pub mod actions;
pub mod caseload;
pub mod page;

use std::collections::HashMap;

use wf_auth::{Operation, Role, is_allowed};
use wf_proto::cases::v1 as cases;
use wf_proto::routing::v1 as routing;
use wf_types::{CaseId, Purpose};

use super::{OrPage as _, PageError};
use crate::app::{App, SignedIn};

/// Pages of a list read at most: a case's records fit in one page of 500.
const MAX_PAGES: usize = 4;
/// The page size asked for (the services' maximum).
const PAGE_SIZE: i32 = 500;

fn may_call(role: Role, method: &str) -> bool {
    wf_auth::rpc::rule(method).is_some_and(|rule| rule.allows(role))
}

/// The gRPC methods whose table rows decide what the page offers.
mod method {
    pub const LIST_CASE_MANAGERS: &str = "/wayfinder.cases.v1.CaseService/ListCaseManagers";
    pub const LIST_ORGANIZATIONS: &str = "/wayfinder.routing.v1.RoutingService/ListOrganizations";
    pub const LIST_CASE_NOTES: &str = "/wayfinder.cases.v1.CaseService/ListCaseNotes";
    pub const WITHDRAW_INTERVENTION: &str = "/wayfinder.cases.v1.CaseService/WithdrawIntervention";
}

/// What the signed-in person's role may do on these screens (the authorization table's rows).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Abilities {
    /// Stage moves, readiness, goals, follow-ups, recidivism and notes (`ManageCases`).
    pub act: bool,
    /// Services delivered and contact attempts (`RecordIntervention`).
    pub record: bool,
    /// Undo a service just recorded (`WithdrawIntervention`).
    pub undo: bool,
    /// Notes (`ReadCaseNotes`).
    pub notes: bool,
    /// The roster: names of owners and of who changed the case (`ListCaseManagers`).
    pub roster: bool,
    /// Partner organizations' names (`ListOrganizations`).
    pub directory: bool,
}

impl Abilities {
    pub fn of(role: Role) -> Self {
        Abilities {
            act: is_allowed(role, Operation::ManageCases),
            record: is_allowed(role, Operation::RecordIntervention),
            undo: may_call(role, method::WITHDRAW_INTERVENTION),
            notes: may_call(role, method::LIST_CASE_NOTES),
            roster: may_call(role, method::LIST_CASE_MANAGERS),
            directory: may_call(role, method::LIST_ORGANIZATIONS),
        }
    }
}

/// Staff who read cases; a partner gets "not found" (as for an id that does not exist), anyone
/// else the reason their role may not.
fn staff_reader(who: &SignedIn) -> Result<(), PageError> {
    if who.is_partner() {
        return Err(PageError::NotFound);
    }
    if !crate::domain::cases::reads_cases(who.role) {
        return Err(PageError::Forbidden(format!("role {} may not {}", who.role, Operation::ReadCase)));
    }
    Ok(())
}

/// A case id from the address; anything malformed is "not found", like an unknown id.
fn case_id(raw: &str) -> Result<CaseId, PageError> {
    raw.parse().map_err(|_| PageError::NotFound)
}

/// Why staff read the case, as the audited reads record it.
fn purpose(who: &SignedIn) -> Purpose {
    if who.role == Role::Supervisor { Purpose::Supervision } else { Purpose::CaseManagement }
}

/// The case-manager roster as these pages name staff (staff names, never youth data).
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

    /// The roster entry of the signed-in person (linked by their sign-in's user id).
    pub fn own_id(&self, user_id: &str) -> Option<&str> {
        self.entries.iter().find(|cm| cm.user_id == user_id).map(|cm| cm.case_manager_id.as_str())
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

    /// Case managers who can hold cases (not supervisors), for the caseload's owner choice.
    pub fn case_managers(&self) -> impl Iterator<Item = &cases::CaseManager> {
        self.entries.iter().filter(|cm| !cm.supervisor)
    }

    /// Everyone in it (inactive and supervisors too), unless the role may not read it.
    async fn load(app: &App, who: &SignedIn) -> Result<Self, PageError> {
        if !Abilities::of(who.role).roster {
            return Ok(Roster::default());
        }
        let mut client = app.upstream.cases(who)?;
        let mut entries = Vec::new();
        let mut page_token = String::new();
        for _ in 0..MAX_PAGES {
            let request = cases::ListCaseManagersRequest {
                include_inactive: true,
                include_supervisors: true,
                page_size: PAGE_SIZE,
                page_token: page_token.clone(),
                ..Default::default()
            };
            let page = client.list_case_managers(request).await.or_page(who)?;
            entries.extend(page.case_managers);
            if page.next_page_token.is_empty() {
                break;
            }
            page_token = page.next_page_token;
        }
        Ok(Roster { entries })
    }
}

/// Partner organizations' names by id (directory data, not personal), for services' providers.
#[derive(Debug, Clone, Default)]
pub struct Organizations {
    names: HashMap<String, String>,
}

impl Organizations {
    /// The organization's name, else its id.
    pub fn name(&self, id: &str) -> String {
        self.names.get(id).cloned().unwrap_or_else(|| id.to_owned())
    }

    /// Every organization, by name.
    pub fn sorted(&self) -> Vec<(String, String)> {
        let mut all: Vec<(String, String)> = self.names.iter().map(|(id, name)| (id.clone(), name.clone())).collect();
        all.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
        all
    }

    async fn load(app: &App, who: &SignedIn) -> Result<Self, PageError> {
        if !Abilities::of(who.role).directory {
            return Ok(Organizations::default());
        }
        let mut client = app.upstream.routing(who)?;
        let mut names = HashMap::new();
        let mut page_token = String::new();
        for _ in 0..MAX_PAGES {
            let request = routing::ListOrganizationsRequest {
                page_size: PAGE_SIZE,
                page_token: page_token.clone(),
                ..Default::default()
            };
            let page = client.list_organizations(request).await.or_page(who)?;
            names.extend(page.organizations.into_iter().map(|o| (o.organization_id, o.name)));
            if page.next_page_token.is_empty() {
                break;
            }
            page_token = page.next_page_token;
        }
        Ok(Organizations { names })
    }
}

/// One option of a select, a radio button or a submit button.
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

/// Every option of a table, `selected` chosen.
fn choices<E: Copy>(table: &crate::domain::cases::labels::Table<E>, selected: &str) -> Vec<Choice> {
    table.iter().map(|(_, code, label)| Choice::new(*code, *label, *code == selected)).collect()
}

/// A case's `updated_at` as the forms carry it (microseconds, the exact value the service compares).
pub fn version_of(case: &cases::Case) -> String {
    crate::domain::queue::micros(&case.updated_at).map(|at| at.to_string()).unwrap_or_default()
}

/// The `expected_updated_at` a form carried, back as the timestamp the service compares (`None`
/// when the form carried none, or something that is not one).
pub fn expected_of(raw: &str) -> Option<prost_types::Timestamp> {
    raw.trim().parse::<i64>().ok().map(wf_proto::time::timestamp_from_micros)
}
