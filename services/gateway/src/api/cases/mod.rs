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

use wf_auth::{Operation, Role, is_allowed};
use wf_proto::cases::v1 as cases;
use wf_types::{CaseId, Purpose};

use super::PageError;
pub use super::staff::{Choice, Directory, Roster};
use super::staff::{MAX_PAGES, PAGE_SIZE, may_call};
use crate::app::SignedIn;

/// The gRPC methods whose table rows decide what the page offers.
mod method {
    pub use crate::api::staff::method::{LIST_CASE_MANAGERS, LIST_ORGANIZATIONS};
    pub const LIST_CASE_NOTES: &str = "/wayfinder.cases.v1.CaseService/ListCaseNotes";
    pub const WITHDRAW_INTERVENTION: &str = "/wayfinder.cases.v1.CaseService/WithdrawIntervention";
    pub const LIST_RECORD_VIEWS: &str = "/wayfinder.audit.v1.AuditService/ListRecordViews";
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
    /// Who read the case, from the audit log (`ListRecordViews`).
    pub views: bool,
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
            views: may_call(role, method::LIST_RECORD_VIEWS),
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
