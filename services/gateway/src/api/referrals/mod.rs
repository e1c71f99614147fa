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

use wf_auth::{Operation, Role, is_allowed};
use wf_types::ReferralId;

use super::PageError;
pub use super::staff::{Choice, Directory, Roster};
use super::staff::{PAGE_SIZE, every_page, may_call, method};
use crate::app::SignedIn;
use crate::domain::queue::time;

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
    /// The staff case page (`ReadCase`, staff side).
    pub cases: bool,
}

impl Abilities {
    pub fn of(role: Role) -> Self {
        Abilities {
            act: is_allowed(role, Operation::ManageCases),
            reveal: role != Role::Partner && is_allowed(role, Operation::ReadPersonalDetails),
            routing: is_allowed(role, Operation::ReadRoutingDecision),
            roster: may_call(role, method::LIST_CASE_MANAGERS),
            cases: crate::domain::cases::reads_cases(role),
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
