//! Engagement (DOMAIN.md): contact attempts until the youth is ready, and readiness with the
//! date each state began. Youth who are not yet ready stay in engagement with further attempts
//! rather than being closed, so readiness is a record beside the stage, not a stage move.

use wf_proto::cases::v1::CaseStage;
use wf_proto::common::v1::{ContactOutcome, Readiness};

use super::{lifecycle, stage_code};

const READINESS_CODES: [(Readiness, &str); 4] = [
    (Readiness::NotYetReady, "not_yet_ready"),
    (Readiness::ReadyToEngage, "ready_to_engage"),
    (Readiness::Enrolled, "enrolled"),
    (Readiness::DeclinedServices, "declined_services"),
];

/// Storage code of a readiness state (`None` for UNSPECIFIED, which is never stored).
pub fn readiness_code(readiness: Readiness) -> Option<&'static str> {
    READINESS_CODES.iter().find(|(r, _)| *r == readiness).map(|(_, code)| *code)
}

pub fn readiness_from_code(code: &str) -> Option<Readiness> {
    READINESS_CODES.iter().find(|(_, c)| *c == code).map(|(readiness, _)| *readiness)
}

/// A case's readiness now: the state and the instant it began.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CurrentReadiness {
    pub readiness: Readiness,
    pub since: i64,
}

/// What a `SetReadiness` does to the case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadinessChange {
    /// A new state from `effective_at`.
    Changed,
    /// The case is already in that state: nothing to record (a repeated request).
    Unchanged,
}

/// Why a readiness change is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadinessRefused {
    /// Closed cases record nothing new until reopened.
    CaseClosed { stage: CaseStage },
    /// The history is kept in order: a state cannot begin before the current one did.
    BeforeCurrent { since: i64 },
}

impl std::fmt::Display for ReadinessRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadinessRefused::CaseClosed { stage } => {
                write!(f, "case is in stage {}; reopen it (ReopenCase) before recording readiness", stage_code(*stage))
            }
            ReadinessRefused::BeforeCurrent { since } => {
                write!(f, "is before the current readiness began ({}); readiness is recorded in order", rfc3339(*since))
            }
        }
    }
}

/// Checks a readiness change on a case in `stage` whose readiness is `current`.
pub fn check_readiness(
    stage: CaseStage,
    current: Option<CurrentReadiness>,
    new: Readiness,
    effective_at: i64,
) -> Result<ReadinessChange, ReadinessRefused> {
    if lifecycle::is_closed(stage) {
        return Err(ReadinessRefused::CaseClosed { stage });
    }
    match current {
        Some(current) if current.readiness == new => Ok(ReadinessChange::Unchanged),
        Some(current) if effective_at < current.since => Err(ReadinessRefused::BeforeCurrent { since: current.since }),
        _ => Ok(ReadinessChange::Changed),
    }
}

/// Contact attempts are recorded on open cases only.
pub fn check_contact_attempt(stage: CaseStage) -> Result<(), String> {
    if lifecycle::is_closed(stage) {
        Err(format!("case is in stage {}; reopen it (ReopenCase) before recording contact attempts", stage_code(stage)))
    } else {
        Ok(())
    }
}

/// Whether an attempt is the case's first contact: the earliest attempt that reached the youth
/// (a back-dated attempt can come before the one recorded so far).
pub fn is_first_contact(outcome: ContactOutcome, attempted_at: i64, first_contact_at: Option<i64>) -> bool {
    outcome == ContactOutcome::Reached && first_contact_at.is_none_or(|first| attempted_at < first)
}

/// The engagement approach in use for the youth (`Case.engagement_approach`): the latest contact
/// attempt's that names one, else the one the case's latest referral names (empty: neither does).
pub fn approach_in_use(latest_attempt_approach: Option<&str>, referral_approach: &str) -> String {
    latest_attempt_approach.filter(|approach| !approach.is_empty()).unwrap_or(referral_approach).to_owned()
}

fn rfc3339(micros: i64) -> String {
    chrono::DateTime::from_timestamp_micros(micros).map_or_else(|| micros.to_string(), |at| at.to_rfc3339())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readiness_codes_round_trip_and_unspecified_is_never_stored() {
        for (readiness, code) in READINESS_CODES {
            assert_eq!(readiness_code(readiness), Some(code));
            assert_eq!(readiness_from_code(code), Some(readiness));
        }
        assert_eq!(readiness_code(Readiness::Unspecified), None);
    }

    #[test]
    fn readiness_is_recorded_in_order_on_open_cases() {
        let current = Some(CurrentReadiness { readiness: Readiness::NotYetReady, since: 100 });
        assert_eq!(
            check_readiness(CaseStage::Engagement, current, Readiness::ReadyToEngage, 150),
            Ok(ReadinessChange::Changed)
        );
        assert_eq!(
            check_readiness(CaseStage::Engagement, current, Readiness::NotYetReady, 50),
            Ok(ReadinessChange::Unchanged),
            "a repeated request changes nothing"
        );
        assert_eq!(
            check_readiness(CaseStage::Engagement, current, Readiness::ReadyToEngage, 99),
            Err(ReadinessRefused::BeforeCurrent { since: 100 })
        );
        assert_eq!(check_readiness(CaseStage::Active, None, Readiness::Enrolled, 0), Ok(ReadinessChange::Changed));
        let refused = check_readiness(CaseStage::Closed, None, Readiness::DeclinedServices, 0).unwrap_err();
        assert_eq!(refused.to_string(), "case is in stage closed; reopen it (ReopenCase) before recording readiness");
    }

    #[test]
    fn the_approach_in_use_is_the_latest_attempt_s_then_the_referral_s() {
        assert_eq!(approach_in_use(Some("street_outreach"), "survivor_mentor"), "street_outreach");
        assert_eq!(approach_in_use(None, "survivor_mentor"), "survivor_mentor");
        assert_eq!(approach_in_use(Some(""), "survivor_mentor"), "survivor_mentor");
        assert_eq!(approach_in_use(None, ""), "");
    }

    #[test]
    fn the_first_contact_is_the_earliest_attempt_that_reached_the_youth() {
        assert!(is_first_contact(ContactOutcome::Reached, 10, None));
        assert!(!is_first_contact(ContactOutcome::NotReached, 10, None));
        assert!(!is_first_contact(ContactOutcome::UnsafeToContact, 10, None));
        assert!(!is_first_contact(ContactOutcome::Reached, 20, Some(10)));
        assert!(is_first_contact(ContactOutcome::Reached, 5, Some(10)), "back-dated");
        assert!(check_contact_attempt(CaseStage::Missing).is_ok());
        assert!(check_contact_attempt(CaseStage::PostExitFollowUp).unwrap_err().contains("post_exit_follow_up"));
    }
}
