//! The closed list of purposes a read of a youth's records may give (DESIGN.md privacy rule 4).
//!
//! A purpose is a code, never free text: it is stored forever in an append-only audit log, so a
//! sentence typed there (a name, an address) could never be removed. Anything outside this list is
//! refused with a field violation that names the allowed codes.

use std::fmt;
use std::str::FromStr;

use crate::FieldViolation;

/// Why someone reads a youth's records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Purpose {
    /// Deciding urgency and needs of a new referral.
    Triage,
    /// Ordinary work on an assigned case.
    CaseManagement,
    /// Planning for the youth's immediate safety (safe contact, exploiter flags).
    SafetyPlanning,
    /// A partner providing the service it accepted, under a release.
    ServiceReferral,
    /// Coordinating care between providers, under a release.
    CaseCoordination,
    /// Legal representation of the youth, under a release.
    LegalRepresentation,
    /// Making or documenting a mandated child-abuse report.
    MandatedReporting,
    /// Reviewing a possible returning-youth match.
    ReturningYouthMatching,
    /// Reviewing a routing decision or re-routing a referral.
    RoutingReview,
    /// A supervisor reviewing a case manager's work.
    Supervision,
    /// The youth asked to see their own record or who saw it.
    SurvivorRequest,
    /// An auditor reviewing access.
    AuditReview,
    /// Producing a youth's disclosure report.
    DisclosureReport,
    /// A court order or subpoena.
    CourtOrder,
    /// Emergency ("break-glass") access by staff not on the case.
    EmergencyAccess,
    /// Correcting a record: opening the sealed part to merge a correction into it.
    RecordCorrection,
}

impl Purpose {
    /// Every purpose, in the order error messages list them.
    pub const ALL: [Purpose; 16] = [
        Purpose::Triage,
        Purpose::CaseManagement,
        Purpose::SafetyPlanning,
        Purpose::ServiceReferral,
        Purpose::CaseCoordination,
        Purpose::LegalRepresentation,
        Purpose::MandatedReporting,
        Purpose::ReturningYouthMatching,
        Purpose::RoutingReview,
        Purpose::Supervision,
        Purpose::SurvivorRequest,
        Purpose::AuditReview,
        Purpose::DisclosureReport,
        Purpose::CourtOrder,
        Purpose::EmergencyAccess,
        Purpose::RecordCorrection,
    ];

    pub const fn code(self) -> &'static str {
        match self {
            Purpose::Triage => "triage",
            Purpose::CaseManagement => "case_management",
            Purpose::SafetyPlanning => "safety_planning",
            Purpose::ServiceReferral => "service_referral",
            Purpose::CaseCoordination => "case_coordination",
            Purpose::LegalRepresentation => "legal_representation",
            Purpose::MandatedReporting => "mandated_reporting",
            Purpose::ReturningYouthMatching => "returning_youth_matching",
            Purpose::RoutingReview => "routing_review",
            Purpose::Supervision => "supervision",
            Purpose::SurvivorRequest => "survivor_request",
            Purpose::AuditReview => "audit_review",
            Purpose::DisclosureReport => "disclosure_report",
            Purpose::CourtOrder => "court_order",
            Purpose::EmergencyAccess => "emergency_access",
            Purpose::RecordCorrection => "record_correction",
        }
    }

    /// The allowed codes, comma-separated, for error messages.
    pub fn allowed() -> String {
        Purpose::ALL.iter().map(|p| p.code()).collect::<Vec<_>>().join(", ")
    }

    /// A required purpose from request field `field`; `None` (with a violation pushed) when it is
    /// empty or not on the list. The violation never repeats the value given.
    pub fn required(value: &str, field: &str, violations: &mut Vec<FieldViolation>) -> Option<Purpose> {
        if value.is_empty() {
            violations.push(FieldViolation::new(field, format!("is required: one of {}", Purpose::allowed())));
            return None;
        }
        Purpose::optional(value, field, violations)
    }

    /// An optional purpose: `None` without a violation when `value` is empty, `None` with one when
    /// it is not on the list.
    pub fn optional(value: &str, field: &str, violations: &mut Vec<FieldViolation>) -> Option<Purpose> {
        if value.is_empty() {
            return None;
        }
        match value.parse() {
            Ok(purpose) => Some(purpose),
            Err(UnknownPurpose) => {
                violations.push(FieldViolation::new(
                    field,
                    format!("is not a purpose code: use one of {}", Purpose::allowed()),
                ));
                None
            }
        }
    }
}

impl fmt::Display for Purpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A value that is not on the purpose list (the value itself is not kept: it may be free text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnknownPurpose;

impl fmt::Display for UnknownPurpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not a purpose code: use one of {}", Purpose::allowed())
    }
}

impl std::error::Error for UnknownPurpose {}

impl FromStr for Purpose {
    type Err = UnknownPurpose;

    /// Exact codes only: no trimming, no case folding.
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Purpose::ALL.into_iter().find(|p| p.code() == value).ok_or(UnknownPurpose)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_parses_back_to_its_purpose() {
        for purpose in Purpose::ALL {
            assert_eq!(purpose.code().parse::<Purpose>(), Ok(purpose));
        }
        let codes: std::collections::HashSet<_> = Purpose::ALL.iter().map(|p| p.code()).collect();
        assert_eq!(codes.len(), Purpose::ALL.len(), "codes are distinct");
    }

    #[test]
    fn free_text_is_refused_and_never_repeated() {
        let text = "looked up Jane Fictional because her aunt called";
        let mut violations = Vec::new();
        assert_eq!(Purpose::required(text, "purpose", &mut violations), None);
        assert_eq!(violations.len(), 1);
        assert_eq!(violations[0].field, "purpose");
        assert!(!violations[0].description.contains("Jane"), "{}", violations[0].description);
        assert!(violations[0].description.contains("case_management"));
        assert_eq!(" case_management".parse::<Purpose>(), Err(UnknownPurpose));
        assert_eq!("Case_Management".parse::<Purpose>(), Err(UnknownPurpose));
    }

    #[test]
    fn empty_is_missing_when_required_and_absent_when_optional() {
        let mut violations = Vec::new();
        assert_eq!(Purpose::optional("", "purpose", &mut violations), None);
        assert!(violations.is_empty());
        assert_eq!(Purpose::required("", "purpose", &mut violations), None);
        assert!(violations[0].description.starts_with("is required"));
        assert_eq!(Purpose::optional("supervision", "purpose", &mut violations), Some(Purpose::Supervision));
    }
}
