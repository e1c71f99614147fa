//! The cases domain as plain data: the roster, the assignment rule, and the codes cases are
//! stored under. Nothing here touches the database or the bus.

mod assignment;
pub mod completeness;
pub mod concurrency;
pub mod continuity;
pub mod engagement;
pub mod follow_up;
pub mod lifecycle;
pub mod reassign;
pub mod recidivism;
pub mod roster;
pub mod roster_edit;
pub mod services;

pub use assignment::{AssignedTo, Assignment, CaseFacts, Caseloads, Unassignable, choose_case_manager};
pub use roster::{CaseManager, Period, Roster, RosterError, Supervisor};

use wf_proto::common::v1 as common;

/// A site a case manager serves and a case belongs to. `Countywide` on a case manager means
/// "serves every site"; on a referral it means "not tied to one pilot site".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Site {
    SouthLosAngeles,
    SanFernandoValley,
    Countywide,
}

impl Site {
    pub const ALL: [Site; 3] = [Site::SouthLosAngeles, Site::SanFernandoValley, Site::Countywide];

    /// The code used in the roster file and in storage.
    pub fn code(self) -> &'static str {
        match self {
            Site::SouthLosAngeles => "south_los_angeles",
            Site::SanFernandoValley => "san_fernando_valley",
            Site::Countywide => "countywide",
        }
    }

    pub fn from_code(code: &str) -> Option<Site> {
        Site::ALL.into_iter().find(|site| site.code() == code)
    }

    /// `None` for `SITE_UNSPECIFIED`.
    pub fn from_proto(site: common::Site) -> Option<Site> {
        match site {
            common::Site::Unspecified => None,
            common::Site::SouthLosAngeles => Some(Site::SouthLosAngeles),
            common::Site::SanFernandoValley => Some(Site::SanFernandoValley),
            common::Site::Countywide => Some(Site::Countywide),
        }
    }

    pub fn to_proto(self) -> common::Site {
        match self {
            Site::SouthLosAngeles => common::Site::SouthLosAngeles,
            Site::SanFernandoValley => common::Site::SanFernandoValley,
            Site::Countywide => common::Site::Countywide,
        }
    }
}

/// Whether a case has an owner. Separate from the stage: a case is in engagement from the moment
/// it opens, whether or not a case manager has been found for it yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseStatus {
    Assigned,
    /// Nobody eligible had room: the case waits in the supervisors' queue.
    AwaitingAssignment,
}

impl CaseStatus {
    pub fn code(self) -> &'static str {
        match self {
            CaseStatus::Assigned => "assigned",
            CaseStatus::AwaitingAssignment => "awaiting_assignment",
        }
    }

    pub fn from_code(code: &str) -> Option<CaseStatus> {
        [CaseStatus::Assigned, CaseStatus::AwaitingAssignment].into_iter().find(|status| status.code() == code)
    }
}

/// The storage code of a stage (the lifecycle's stage code, [`wf_proto::lifecycle::stage_code`]).
pub use wf_proto::lifecycle::{stage_code, stage_from_code};

/// The storage code of a triage tier.
pub fn triage_tier_code(tier: common::TriageTier) -> &'static str {
    match tier {
        common::TriageTier::Unspecified => "unspecified",
        common::TriageTier::Emergent => "emergent",
        common::TriageTier::Urgent => "urgent",
        common::TriageTier::Routine => "routine",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wf_proto::cases::v1::CaseStage;

    #[test]
    fn codes_round_trip() {
        for site in Site::ALL {
            assert_eq!(Site::from_code(site.code()), Some(site));
            assert_eq!(Site::from_proto(site.to_proto()), Some(site));
        }
        for stage in lifecycle::STAGES {
            assert_eq!(stage_from_code(stage_code(stage)), Some(stage));
        }
        assert_eq!(stage_from_code(stage_code(CaseStage::Unspecified)), None);
        for status in [CaseStatus::Assigned, CaseStatus::AwaitingAssignment] {
            assert_eq!(CaseStatus::from_code(status.code()), Some(status));
        }
        assert_eq!(Site::from_code("SOUTH_LOS_ANGELES"), None);
    }
}
