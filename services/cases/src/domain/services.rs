//! The coded vocabulary of service plans and interventions, and the checks on what is recorded.

use chrono::NaiveDate;
use wf_proto::common::v1 as common;

/// Service type codes (data-driven in the program; this is the pilot's list).
pub use wf_types::codes::SERVICE_TYPES;

/// Long-term outcome domains (DOMAIN.md "Outcomes"), the domains a plan goal serves.
pub const OUTCOME_DOMAINS: &[&str] = &[
    "housing_stability",
    "education",
    "employment_income",
    "wellbeing",
    "safety_connection",
    "legal_status",
    "engagement",
];

/// Most units one record may carry (a year of nights, a long course of hours): a typo guard.
pub const MAX_UNITS: f64 = 10_000.0;

pub fn is_service_type(code: &str) -> bool {
    SERVICE_TYPES.contains(&code)
}

pub fn is_outcome_domain(code: &str) -> bool {
    OUTCOME_DOMAINS.contains(&code)
}

/// Units must be a positive, finite number no larger than [`MAX_UNITS`].
pub fn check_units(units: f64) -> Result<(), String> {
    if units.is_finite() && units > 0.0 && units <= MAX_UNITS {
        Ok(())
    } else {
        Err(format!("must be more than 0 and at most {MAX_UNITS}"))
    }
}

/// A complete calendar date.
pub fn full_date(date: Option<&common::Date>) -> Result<NaiveDate, String> {
    let date = date.ok_or("is required: year, month and day")?;
    let (Ok(month), Ok(day)) = (u32::try_from(date.month), u32::try_from(date.day)) else {
        return Err("is not a calendar date".into());
    };
    NaiveDate::from_ymd_opt(date.year, month, day).ok_or_else(|| "is not a calendar date".to_owned())
}

pub fn to_proto_date(date: NaiveDate) -> common::Date {
    use chrono::Datelike;
    common::Date { year: date.year(), month: date.month() as i32, day: date.day() as i32 }
}

/// A short code: lowercase letters, digits and '_', starting with a letter.
pub fn is_code(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 64
        && value.starts_with(|c: char| c.is_ascii_lowercase())
        && value.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// How long after recording an intervention its recorder may still withdraw it: an undo right
/// after a slip, never a later correction of the record.
pub const UNDO_WINDOW_MINUTES: i64 = 30;

const MINUTE_MICROS: i64 = 60_000_000;

/// Why an intervention cannot be withdrawn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WithdrawRefused {
    AlreadyWithdrawn,
    /// Someone else recorded it.
    NotTheRecorder,
    /// Recorded longer ago than [`UNDO_WINDOW_MINUTES`].
    TooLate,
}

impl std::fmt::Display for WithdrawRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WithdrawRefused::AlreadyWithdrawn => write!(f, "the intervention was already withdrawn"),
            WithdrawRefused::NotTheRecorder => {
                write!(f, "only the person who recorded the intervention may withdraw it; add a case note instead")
            }
            WithdrawRefused::TooLate => write!(
                f,
                "an intervention is withdrawn only within {UNDO_WINDOW_MINUTES} minutes of recording it; it stays on \
                 the record: add a case note saying what really happened"
            ),
        }
    }
}

/// Whether `actor` may withdraw, at `now`, an intervention `recorded_by` recorded at `recorded_at`
/// (withdrawn already when `withdrawn_at` is set).
pub fn check_withdrawal(
    recorded_by: &str,
    recorded_at: i64,
    withdrawn_at: Option<i64>,
    actor: &str,
    now: i64,
) -> Result<(), WithdrawRefused> {
    if withdrawn_at.is_some() {
        return Err(WithdrawRefused::AlreadyWithdrawn);
    }
    if recorded_by != actor {
        return Err(WithdrawRefused::NotTheRecorder);
    }
    if now.saturating_sub(recorded_at) > UNDO_WINDOW_MINUTES * MINUTE_MICROS {
        return Err(WithdrawRefused::TooLate);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_are_positive_finite_and_bounded() {
        assert!(check_units(1.5).is_ok());
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY, MAX_UNITS + 1.0] {
            assert!(check_units(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn dates_must_be_complete_and_real() {
        let date = |year, month, day| common::Date { year, month, day };
        assert_eq!(full_date(Some(&date(2026, 2, 28))).unwrap().to_string(), "2026-02-28");
        assert!(full_date(Some(&date(2026, 2, 30))).is_err());
        assert!(full_date(Some(&date(2026, 2, 0))).is_err());
        assert!(full_date(None).is_err());
        assert_eq!(to_proto_date(full_date(Some(&date(2026, 1, 2))).unwrap()), date(2026, 1, 2));
    }

    #[test]
    fn vocabularies_are_codes() {
        assert!(SERVICE_TYPES.iter().chain(OUTCOME_DOMAINS).all(|code| is_code(code)));
        assert!(is_service_type("mental_health") && !is_service_type("Mental Health"));
        assert!(is_outcome_domain("legal_status") && !is_outcome_domain("recidivism"));
    }

    #[test]
    fn only_the_recorder_withdraws_and_only_right_after() {
        let minute = 60_000_000;
        let at = 1_000 * minute;
        assert_eq!(check_withdrawal("usr_a", at, None, "usr_a", at + 30 * minute), Ok(()));
        assert_eq!(check_withdrawal("usr_a", at, None, "usr_a", at), Ok(()));
        assert_eq!(check_withdrawal("usr_a", at, None, "usr_a", at + 30 * minute + 1), Err(WithdrawRefused::TooLate));
        assert_eq!(check_withdrawal("usr_a", at, None, "usr_b", at + minute), Err(WithdrawRefused::NotTheRecorder));
        assert_eq!(
            check_withdrawal("usr_a", at, Some(at + minute), "usr_a", at + 2 * minute),
            Err(WithdrawRefused::AlreadyWithdrawn)
        );
        assert!(WithdrawRefused::TooLate.to_string().contains("30 minutes"));
    }
}
