//! The authorization table per RPC: which [`Operation`]s let a role call each gRPC method.
//!
//! The server's [`crate::AuthGate`] consults it before any handler runs: a role none of a
//! method's operations allows is refused with `PERMISSION_DENIED`, and a method missing from the
//! table is refused for everyone (fail closed), so an RPC added later cannot be reached until it has
//! a row. Which records a caller may touch inside an allowed method (a partner's own referrals,
//! a hotline's own submissions) is the owning service's rule, answered `NOT_FOUND`.

use crate::{Operation, Role, is_allowed};

use Operation::*;

/// One gRPC method and the operations that let a role call it (any one suffices).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RpcRule {
    /// The HTTP/2 path: `/package.Service/Method`.
    pub method: &'static str,
    pub operations: &'static [Operation],
}

impl RpcRule {
    /// May `role` call this method at all?
    pub fn allows(&self, role: Role) -> bool {
        self.operations.iter().any(|op| is_allowed(role, *op))
    }
}

macro_rules! rules {
    ($($service:literal { $($method:literal => [$($op:ident),+ $(,)?]),* $(,)? })*) => {
        /// Every gRPC method Wayfinder serves behind authentication.
        pub const RPCS: &[RpcRule] = &[
            $($(RpcRule { method: concat!("/", $service, "/", $method), operations: &[$($op),+] },)*)*
        ];
    };
}

rules! {
    "wayfinder.intake.v1.IntakeService" {
        "SubmitReferral" => [SubmitReferral],
        "GetReferral" => [ReadReferral, ReadReferralStatus],
        "ListReferrals" => [ListReferrals],
        "UpdateReferral" => [ManageCases],
        "TriageReferral" => [ManageCases],
        "SetReferralHold" => [ManageCases],
        "CloseReferral" => [ManageCases],
        "PurgePracticeReferrals" => [ManageCases],
        "CreateConsentRelease" => [ManageCases],
        "GetConsentRelease" => [ManageCases],
        "ListConsentReleases" => [ManageCases],
        "RevokeConsentRelease" => [ManageCases],
        "RecordScreening" => [ManageCases],
        "ListScreenings" => [ReadReferral],
        "RecordMandatedReport" => [ManageCases],
        "ListMandatedReports" => [ManageCases],
        "ListPossibleMatches" => [ManageCases],
        "ConfirmPossibleMatch" => [ManageCases],
        "RejectPossibleMatch" => [ManageCases],
        "GetReleasedDetails" => [ReadPersonalDetails],
    }
    "wayfinder.routing.v1.RoutingService" {
        "CreateOrganization" => [ManageDirectory],
        "UpdateOrganization" => [ManageDirectory],
        "GetOrganization" => [ReadRoutingDecision, ManageDirectory],
        "ListOrganizations" => [ReadRoutingDecision, ManageDirectory],
        "CreatePartnerService" => [ManageDirectory],
        "UpdatePartnerService" => [ManageDirectory],
        "GetPartnerService" => [ReadRoutingDecision, ManageDirectory],
        "ListPartnerServices" => [ReadRoutingDecision, ManageDirectory],
        "UpdateCapacity" => [UpdateCapacity],
        "ImportHsds" => [ManageDirectory],
        "ExportHsds" => [ManageDirectory],
        "GetDecision" => [ReadRoutingDecision],
        "ListDecisions" => [ReadRoutingDecision],
        "RerouteReferral" => [ManageDirectory],
        "GetOffer" => [RespondToOffer, ReadRoutingDecision],
        "ListOffers" => [RespondToOffer, ReadRoutingDecision],
        "AcceptOffer" => [RespondToOffer],
        "DeclineOffer" => [RespondToOffer],
        "ListEscalations" => [ReadRoutingDecision, ManageDirectory],
        "ResolveEscalation" => [ManageDirectory],
        "LoadPolicy" => [ManageDirectory],
        "GetPolicy" => [ReadRoutingDecision, ManageDirectory],
        "ListPolicies" => [ReadRoutingDecision, ManageDirectory],
    }
    "wayfinder.cases.v1.CaseService" {
        "GetCase" => [ReadCase],
        "ListCases" => [ReadCase],
        // Staff names and caps: never a partner's (a partner reads cases, not the roster).
        "ListCaseManagers" => [ManageCases, ManageRoster],
        "UpsertCaseManager" => [ManageRoster],
        "SetOnCall" => [ManageRoster],
        "ReassignCase" => [AssignCases],
        // A case manager takes a case nobody holds, for themselves (cases checks whose roster entry).
        "ClaimCase" => [ManageCases],
        "TransitionStage" => [ManageCases],
        "SetReadiness" => [ManageCases],
        "CloseCase" => [ManageCases],
        "ReopenCase" => [ManageCases],
        // A case's history is staff's (a partner reads only the case as it serves it now).
        "ListStageChanges" => [ManageCases],
        "RecordContactAttempt" => [RecordIntervention],
        "ListContactAttempts" => [RecordIntervention],
        "UpsertGoal" => [ManageCases],
        "ListGoals" => [ReadCase],
        "RecordIntervention" => [RecordIntervention],
        "ListInterventions" => [ReadCase],
        // Whoever records interventions undoes their own, right after (cases checks whose it is).
        "WithdrawIntervention" => [RecordIntervention],
        // Outcome answers and recidivism events are staff's and the evaluation's, not a partner's.
        "ListFollowUps" => [ManageCases],
        "RecordFollowUp" => [ManageCases],
        "RecordRecidivismEvent" => [ManageCases],
        "ListRecidivismEvents" => [ManageCases],
        "AddCaseNote" => [ManageCases],
        "ListCaseNotes" => [ReadCaseNotes],
    }
    "wayfinder.audit.v1.AuditService" {
        "ListEntries" => [ReadAudit],
        "GetEntry" => [ReadAudit],
        "VerifyChain" => [VerifyAudit],
        "GetCheckpoint" => [ReadAudit],
        "ListCheckpoints" => [ReadAudit],
        "GetInclusionProof" => [ReadAudit],
        "GetConsistencyProof" => [ReadAudit],
        "DisclosureReport" => [ReadAudit],
        "ListRecordViews" => [ManageCases],
        "ExportRange" => [ReadAudit],
    }
    "wayfinder.evaluation.v1.EvaluationService" {
        "GenerateReport" => [RunEvaluation],
        "GetReport" => [RunEvaluation],
        "ListReports" => [RunEvaluation],
        "GetDataCompleteness" => [RunEvaluation],
        "RunAnalysis" => [RunEvaluation],
        "RebuildDataset" => [ManageEvaluation],
        "SeedSyntheticCohort" => [ManageEvaluation],
    }
    "wayfinder.admin.v1.AdminService" {
        "ListDeadLetters" => [ManageDeadLetters],
        "ReplayDeadLetters" => [ManageDeadLetters],
    }
}

/// The rule of `method` (an HTTP/2 path), if the table has one. Asked on every request: a map built
/// once from [`RPCS`].
pub fn rule(method: &str) -> Option<&'static RpcRule> {
    static BY_METHOD: std::sync::OnceLock<std::collections::HashMap<&'static str, &'static RpcRule>> =
        std::sync::OnceLock::new();
    BY_METHOD.get_or_init(|| RPCS.iter().map(|rule| (rule.method, rule)).collect()).get(method).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_method_has_one_row() {
        let mut seen = std::collections::HashSet::new();
        for rule in RPCS {
            assert!(seen.insert(rule.method), "{} twice", rule.method);
            assert!(rule.method.starts_with("/wayfinder."), "{}", rule.method);
        }
        assert_eq!(RPCS.len(), 87);
    }

    #[test]
    fn a_hotline_reaches_only_submission_and_status() {
        let reachable: Vec<&str> = RPCS.iter().filter(|r| r.allows(Role::Hotline)).map(|r| r.method).collect();
        assert_eq!(
            reachable,
            ["/wayfinder.intake.v1.IntakeService/SubmitReferral", "/wayfinder.intake.v1.IntakeService/GetReferral"]
        );
    }

    /// A partner reads the cases it serves (the case, goals, its own interventions and contact
    /// attempts), never their notes, follow-ups, recidivism events or the roster.
    #[test]
    fn a_partner_reads_cases_but_never_notes_outcomes_or_the_roster() {
        let cases = |method: &str| rule(&format!("/wayfinder.cases.v1.CaseService/{method}")).expect(method);
        for method in ["GetCase", "ListCases", "ListGoals", "ListInterventions", "ListContactAttempts"] {
            assert!(cases(method).allows(Role::Partner), "{method}");
        }
        for method in [
            "ListCaseNotes",
            "ListFollowUps",
            "ListRecidivismEvents",
            "ListCaseManagers",
            "AddCaseNote",
            "ListStageChanges",
        ] {
            assert!(!cases(method).allows(Role::Partner), "{method}");
        }
        for role in [Role::CaseManager, Role::Supervisor] {
            assert!(cases("ListCaseNotes").allows(role), "{role}");
        }
        assert!(!cases("ListCaseNotes").allows(Role::Service));
        // A partner undoes a service it has just recorded, as staff do theirs.
        assert!(cases("WithdrawIntervention").allows(Role::Partner));
    }

    #[test]
    fn unknown_methods_have_no_rule() {
        assert!(rule("/wayfinder.intake.v1.IntakeService/DropAllTables").is_none());
        assert!(rule("/wayfinder.intake.v1.IntakeService/GetReferral").is_some());
    }
}
