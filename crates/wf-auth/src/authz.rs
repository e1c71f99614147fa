//! The one authorization table.
//!
//! [`is_allowed`] answers whether a role may perform an operation at all. Which records it may touch
//! (a partner only sees referrals it submitted or was offered, and of those only what a release covers)
//! is decided by the service that owns the records, and a record outside that scope answers *not found*.

use std::fmt;

use crate::{Principal, Role};

/// Everything a caller can ask Wayfinder to do, at the granularity authorization cares about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    SubmitReferral,
    /// The status of a referral (and its history), nothing of its coded record.
    ReadReferralStatus,
    /// A referral's coded record: facts, screenings, youth and case ids.
    ReadReferral,
    ListReferrals,
    ReadPersonalDetails,
    ManageDirectory,
    /// A partner's own capacity (directory managers: any service's).
    UpdateCapacity,
    ReadRoutingDecision,
    RespondToOffer,
    ManageCases,
    /// Case managers' caps, leave and on-call duty.
    ManageRoster,
    /// Handing a case to another case manager.
    AssignCases,
    /// A case record: staff any case; a partner only a case it serves (holds an accepted offer
    /// for), and of it the case, its plan goals and its own interventions and contact attempts.
    ReadCase,
    /// Case notes: staff only (a partner serving the case never reads them).
    ReadCaseNotes,
    RecordIntervention,
    ReadAudit,
    VerifyAudit,
    RunReports,
    ManageKeys,
    ManageDeadLetters,
    /// The evaluation's reports, analyses and data completeness (aggregate, de-identified).
    RunEvaluation,
    /// Changes to the evaluation's data: rebuilding the analytic data set, seeding the synthetic cohort.
    ManageEvaluation,
}

impl Operation {
    /// Every operation, in the order of the authorization table.
    pub const ALL: [Operation; 22] = [
        Operation::SubmitReferral,
        Operation::ReadReferralStatus,
        Operation::ReadReferral,
        Operation::ListReferrals,
        Operation::ReadPersonalDetails,
        Operation::ManageDirectory,
        Operation::UpdateCapacity,
        Operation::ReadRoutingDecision,
        Operation::RespondToOffer,
        Operation::ManageCases,
        Operation::ManageRoster,
        Operation::AssignCases,
        Operation::ReadCase,
        Operation::ReadCaseNotes,
        Operation::RecordIntervention,
        Operation::ReadAudit,
        Operation::VerifyAudit,
        Operation::RunReports,
        Operation::ManageKeys,
        Operation::ManageDeadLetters,
        Operation::RunEvaluation,
        Operation::ManageEvaluation,
    ];

    /// A phrase that completes "role X may not …".
    pub fn describe(self) -> &'static str {
        match self {
            Operation::SubmitReferral => "submit referrals",
            Operation::ReadReferralStatus => "read the status of referrals",
            Operation::ReadReferral => "read referrals",
            Operation::ListReferrals => "list referrals",
            Operation::ReadPersonalDetails => "read personal details",
            Operation::ManageDirectory => "manage the service directory",
            Operation::UpdateCapacity => "update partner capacity",
            Operation::ReadRoutingDecision => "read routing decisions",
            Operation::RespondToOffer => "respond to offers",
            Operation::ManageCases => "manage cases",
            Operation::ManageRoster => "manage the roster",
            Operation::AssignCases => "reassign cases",
            Operation::ReadCase => "read cases",
            Operation::ReadCaseNotes => "read case notes",
            Operation::RecordIntervention => "record interventions",
            Operation::ReadAudit => "read the audit log",
            Operation::VerifyAudit => "verify the audit log",
            Operation::RunReports => "run reports",
            Operation::ManageKeys => "manage keys",
            Operation::ManageDeadLetters => "manage dead letters",
            Operation::RunEvaluation => "run the evaluation",
            Operation::ManageEvaluation => "manage the evaluation data set",
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// May `role` perform `op`? One row per operation, listing every role allowed; anything not listed is
/// denied. Adding an [`Operation`] does not compile until it has a row here.
pub fn is_allowed(role: Role, op: Operation) -> bool {
    use Role::*;
    match op {
        Operation::SubmitReferral => {
            matches!(role, Hotline | Partner | CaseManager | Supervisor | Service)
        }
        // Hotlines follow the status of what they submitted (DESIGN.md privacy rule 2), nothing more.
        Operation::ReadReferralStatus => {
            matches!(role, Hotline | Partner | CaseManager | Supervisor | ProgramManager | Service)
        }
        // Partners see what they submitted or were offered. Program managers see referrals without
        // personal details (below).
        Operation::ReadReferral => matches!(role, Partner | CaseManager | Supervisor | ProgramManager | Service),
        Operation::ListReferrals => matches!(role, Partner | CaseManager | Supervisor | ProgramManager | Service),
        // Partners only under an active written release naming them (checked by the owning service).
        // Admins, auditors and program managers never by default.
        Operation::ReadPersonalDetails => {
            matches!(role, Partner | CaseManager | Supervisor | Service)
        }
        Operation::ManageDirectory => matches!(role, ProgramManager | Admin),
        // A partner its own services' capacity (scoped by routing); directory managers any.
        Operation::UpdateCapacity => matches!(role, Partner | ProgramManager | Admin),
        Operation::ReadRoutingDecision => {
            matches!(role, CaseManager | Supervisor | ProgramManager | Service)
        }
        // Offers go to partner agencies and only they answer them (expiry is routing's own worker).
        Operation::RespondToOffer => matches!(role, Partner),
        Operation::ManageCases => matches!(role, CaseManager | Supervisor | Service),
        // Supervisors and the program manager keep the roster; case managers read it only.
        Operation::ManageRoster => matches!(role, Supervisor | ProgramManager | Service),
        // Case managers move their own cases through the lifecycle; handing a case to someone else is
        // the supervisors' decision (and a service's, acting for them).
        Operation::AssignCases => matches!(role, Supervisor | Service),
        // A partner reads the case it serves (scoped by cases: an accepted offer for it), never
        // other cases; DESIGN.md privacy rule 2.
        Operation::ReadCase => matches!(role, Partner | CaseManager | Supervisor | Service),
        // Notes are staff's: never a partner's, and no Wayfinder service reads them.
        Operation::ReadCaseNotes => matches!(role, CaseManager | Supervisor),
        Operation::RecordIntervention => {
            matches!(role, Partner | CaseManager | Supervisor | Service)
        }
        // The audit log names who read which young person's record: auditors only, not admins.
        Operation::ReadAudit => matches!(role, Auditor),
        // Verifying reveals only whether the chain is intact; services run it periodically.
        Operation::VerifyAudit => matches!(role, Auditor | Service),
        // Reports are aggregate with small counts suppressed.
        Operation::RunReports => matches!(role, Supervisor | ProgramManager | Admin),
        Operation::ManageKeys => matches!(role, Admin),
        Operation::ManageDeadLetters => matches!(role, Admin),
        // The program manager oversees the evaluation (DESIGN.md); evaluators and funders get its
        // de-identified reports and analyses and nothing else.
        Operation::RunEvaluation => matches!(role, ProgramManager | Evaluator),
        // Rebuilding the data set and seeding the synthetic cohort change state: program manager only.
        Operation::ManageEvaluation => matches!(role, ProgramManager),
    }
}

impl Principal {
    /// `Ok` when this principal's role may perform `op`, else `PERMISSION_DENIED`
    /// ("role hotline may not read the audit log").
    ///
    /// Only for role-level refusals; a record outside the caller's scope must answer `NOT_FOUND`.
    #[allow(clippy::result_large_err)] // tonic::Status is what every handler returns anyway
    pub fn authorize(&self, op: Operation) -> Result<(), tonic::Status> {
        if is_allowed(self.role, op) {
            Ok(())
        } else {
            tracing::debug!(role = %self.role, operation = ?op, "permission denied");
            Err(tonic::Status::permission_denied(format!("role {} may not {}", self.role, op)))
        }
    }

    /// `Ok` when this principal's role may perform at least one of `ops` (an RPC several kinds of
    /// caller reach, each through its own operation), else `PERMISSION_DENIED` naming them all.
    #[allow(clippy::result_large_err)]
    pub fn authorize_any(&self, ops: &[Operation]) -> Result<(), tonic::Status> {
        if ops.iter().any(|op| is_allowed(self.role, *op)) {
            return Ok(());
        }
        tracing::debug!(role = %self.role, operations = ?ops, "permission denied");
        let names: Vec<&str> = ops.iter().map(|op| op.describe()).collect();
        Err(tonic::Status::permission_denied(format!("role {} may not {}", self.role, names.join(" or "))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TokenKind;

    /// The table again, written out as a grid, so a change to `is_allowed` must be made twice.
    /// Columns: hotline, partner, case_manager, supervisor, program_manager, evaluator, auditor, admin,
    /// service.
    const EXPECTED: &str = "
        SubmitReferral       x x x x . . . . x
        ReadReferralStatus   x x x x x . . . x
        ReadReferral         . x x x x . . . x
        ListReferrals        . x x x x . . . x
        ReadPersonalDetails  . x x x . . . . x
        ManageDirectory      . . . . x . . x .
        UpdateCapacity       . x . . x . . x .
        ReadRoutingDecision  . . x x x . . . x
        RespondToOffer       . x . . . . . . .
        ManageCases          . . x x . . . . x
        ManageRoster         . . . x x . . . x
        AssignCases          . . . x . . . . x
        ReadCase             . x x x . . . . x
        ReadCaseNotes        . . x x . . . . .
        RecordIntervention   . x x x . . . . x
        ReadAudit            . . . . . . x . .
        VerifyAudit          . . . . . . x . x
        RunReports           . . . x x . . x .
        ManageKeys           . . . . . . . x .
        ManageDeadLetters    . . . . . . . x .
        RunEvaluation        . . . . x x . . .
        ManageEvaluation     . . . . x . . . .
    ";

    #[test]
    fn table_matches_the_written_grid() {
        let rows: Vec<&str> = EXPECTED.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
        assert_eq!(rows.len(), Operation::ALL.len());
        for (row, op) in rows.iter().zip(Operation::ALL) {
            let mut cells = row.split_whitespace();
            assert_eq!(cells.next(), Some(format!("{op:?}").as_str()));
            let cells: Vec<&str> = cells.collect();
            assert_eq!(cells.len(), Role::ALL.len(), "row {op:?}");
            for (cell, role) in cells.iter().zip(Role::ALL) {
                assert_eq!(is_allowed(role, op), *cell == "x", "{role} / {op:?}");
            }
        }
    }

    #[test]
    fn authorize_any_allows_one_of_several_and_names_them_all() {
        let principal = |role| Principal {
            subject: "test".into(),
            role,
            partner_id: None,
            kind: TokenKind::User,
            token_id: "t".into(),
        };
        let ops = [Operation::ReadCase, Operation::RecordIntervention];
        assert!(principal(Role::CaseManager).authorize_any(&ops).is_ok());
        assert!(principal(Role::Partner).authorize_any(&ops).is_ok());
        let refused = principal(Role::Auditor).authorize_any(&ops).unwrap_err();
        assert_eq!(refused.code(), tonic::Code::PermissionDenied);
        assert_eq!(
            refused.message(),
            format!("role auditor may not {} or {}", Operation::ReadCase, Operation::RecordIntervention)
        );
    }

    #[test]
    fn spot_checks() {
        assert!(!is_allowed(Role::Auditor, Operation::SubmitReferral));
        assert!(!is_allowed(Role::Hotline, Operation::ReadAudit));
        assert!(!is_allowed(Role::Admin, Operation::ReadPersonalDetails));
        assert!(!is_allowed(Role::Admin, Operation::ReadAudit));
        assert!(!is_allowed(Role::Service, Operation::ReadAudit));
        assert!(is_allowed(Role::Auditor, Operation::ReadAudit));
        assert!(is_allowed(Role::Hotline, Operation::SubmitReferral));
        assert!(is_allowed(Role::Partner, Operation::RespondToOffer));
    }

    #[test]
    fn auditor_reads_audit_only() {
        for op in Operation::ALL {
            assert_eq!(
                is_allowed(Role::Auditor, op),
                matches!(op, Operation::ReadAudit | Operation::VerifyAudit),
                "{op:?}"
            );
        }
    }

    #[test]
    fn evaluator_runs_the_evaluation_only() {
        for op in Operation::ALL {
            assert_eq!(is_allowed(Role::Evaluator, op), op == Operation::RunEvaluation, "{op:?}");
        }
    }

    #[test]
    fn authorize_maps_to_permission_denied_with_role_and_operation() {
        let principal = Principal {
            subject: "usr_1".into(),
            role: Role::Hotline,
            partner_id: None,
            kind: TokenKind::User,
            token_id: "jti".into(),
        };
        assert!(principal.authorize(Operation::SubmitReferral).is_ok());
        let status = principal.authorize(Operation::ReadAudit).unwrap_err();
        assert_eq!(status.code(), tonic::Code::PermissionDenied);
        assert_eq!(status.message(), "role hotline may not read the audit log");
    }
}
