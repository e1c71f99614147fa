use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// What a caller is, as far as authorization cares. Serialized in snake_case (`case_manager`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Hotline staff: submit referrals and follow their status.
    Hotline,
    /// A partner agency's client (adapter or staff), always tied to one `partner_id`.
    Partner,
    CaseManager,
    Supervisor,
    ProgramManager,
    /// An evaluator or funder: de-identified baseline and outcome reports from the evaluation service,
    /// never person-level data (DESIGN.md).
    Evaluator,
    /// Reads and verifies the audit log, nothing else.
    Auditor,
    /// Operates the system; no access to personal details or the audit log by default.
    Admin,
    /// Another Wayfinder service.
    Service,
}

impl Role {
    /// Every role, in the order of the authorization table.
    pub const ALL: [Role; 9] = [
        Role::Hotline,
        Role::Partner,
        Role::CaseManager,
        Role::Supervisor,
        Role::ProgramManager,
        Role::Evaluator,
        Role::Auditor,
        Role::Admin,
        Role::Service,
    ];

    /// The snake_case name used in tokens, configuration and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Hotline => "hotline",
            Role::Partner => "partner",
            Role::CaseManager => "case_manager",
            Role::Supervisor => "supervisor",
            Role::ProgramManager => "program_manager",
            Role::Evaluator => "evaluator",
            Role::Auditor => "auditor",
            Role::Admin => "admin",
            Role::Service => "service",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A role name that is not one of [`Role::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown role {0:?}; expected one of: hotline, partner, case_manager, supervisor, program_manager, evaluator, auditor, admin, service"
)]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL.into_iter().find(|role| role.as_str() == s).ok_or_else(|| UnknownRole(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_display_fromstr_and_serde() {
        for role in Role::ALL {
            assert_eq!(role.to_string().parse::<Role>().unwrap(), role);
            let json = serde_json::to_string(&role).unwrap();
            assert_eq!(json, format!("\"{role}\""));
            assert_eq!(serde_json::from_str::<Role>(&json).unwrap(), role);
        }
    }

    #[test]
    fn unknown_role_lists_allowed_values() {
        let err = "root".parse::<Role>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown role \"root\"; expected one of: hotline, partner, case_manager, supervisor, \
             program_manager, evaluator, auditor, admin, service"
        );
        // the list in the message is exactly Role::ALL
        let listed = err.to_string().split_once(": ").unwrap().1.to_owned();
        assert_eq!(listed, Role::ALL.map(Role::as_str).join(", "));
        assert!("Admin".parse::<Role>().is_err());
    }
}
