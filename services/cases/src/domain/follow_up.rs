//! Post-exit follow-ups: when they fall due and when they are overdue, and what a recorded
//! follow-up must hold. Lost to follow-up is its own status with no answers, so it can never be
//! read as "no recidivism" (DOMAIN.md: attrition is censoring).

use chrono::{Months, NaiveDate};
use wf_proto::cases::v1::{FollowUpKind, FollowUpStatus};

/// Months after exit of each post-exit follow-up.
pub const AFTER_EXIT: [(FollowUpKind, u32); 3] =
    [(FollowUpKind::Month6, 6), (FollowUpKind::Month12, 12), (FollowUpKind::Month24, 24)];

/// Days after the due date at which an unrecorded follow-up becomes overdue; the window in which
/// an answer counts is [due date, due date + this).
pub const OVERDUE_AFTER_DAYS: u64 = 30;

const DAY_MICROS: i64 = 86_400_000_000;

/// The follow-ups of an exit on `exit_date`: kind and due date.
pub fn schedule(exit_date: NaiveDate) -> Vec<(FollowUpKind, NaiveDate)> {
    AFTER_EXIT
        .iter()
        .map(|(kind, months)| {
            // Adding months clamps to the month's end (31 Aug + 6 months = 28/29 Feb).
            let due = exit_date.checked_add_months(Months::new(*months)).unwrap_or(NaiveDate::MAX);
            (*kind, due)
        })
        .collect()
}

/// Midnight UTC of `date`, in microseconds.
pub fn start_of(date: NaiveDate) -> i64 {
    date.and_hms_opt(0, 0, 0).map_or(i64::MAX, |at| at.and_utc().timestamp_micros())
}

/// The instant a follow-up due on `due_on` becomes due.
pub fn due_at(due_on: NaiveDate) -> i64 {
    start_of(due_on)
}

/// The instant a follow-up due on `due_on` becomes overdue if nothing was recorded.
pub fn overdue_at(due_on: NaiveDate) -> i64 {
    start_of(due_on).saturating_add(OVERDUE_AFTER_DAYS as i64 * DAY_MICROS)
}

/// The date of an instant (UTC).
pub fn date_of(micros: i64) -> NaiveDate {
    chrono::DateTime::from_timestamp_micros(micros).map_or(NaiveDate::MIN, |at| at.date_naive())
}

/// Storage code of a status.
pub fn status_code(status: FollowUpStatus) -> &'static str {
    match status {
        FollowUpStatus::Unspecified => "unspecified",
        FollowUpStatus::Scheduled => "scheduled",
        FollowUpStatus::Due => "due",
        FollowUpStatus::Overdue => "overdue",
        FollowUpStatus::Completed => "completed",
        FollowUpStatus::LostToFollowUp => "lost_to_follow_up",
        FollowUpStatus::Refused => "refused",
        FollowUpStatus::Cancelled => "cancelled",
    }
}

pub fn status_from_code(code: &str) -> Option<FollowUpStatus> {
    [
        FollowUpStatus::Scheduled,
        FollowUpStatus::Due,
        FollowUpStatus::Overdue,
        FollowUpStatus::Completed,
        FollowUpStatus::LostToFollowUp,
        FollowUpStatus::Refused,
        FollowUpStatus::Cancelled,
    ]
    .into_iter()
    .find(|status| status_code(*status) == code)
}

/// Whether a follow-up in `status` still waits for a record.
pub fn is_open(status: FollowUpStatus) -> bool {
    matches!(status, FollowUpStatus::Scheduled | FollowUpStatus::Due | FollowUpStatus::Overdue)
}

/// Checks a record: completed follow-ups carry answers; lost-to-follow-up and refused carry none,
/// so an unreached youth is never counted as answering "no".
pub fn check_record(status: FollowUpStatus, has_outcomes: bool) -> Result<(), String> {
    match (status, has_outcomes) {
        (FollowUpStatus::Completed, true) => Ok(()),
        (FollowUpStatus::Completed, false) => Err("outcomes are required when status is COMPLETED".into()),
        (FollowUpStatus::LostToFollowUp | FollowUpStatus::Refused, false) => Ok(()),
        (FollowUpStatus::LostToFollowUp | FollowUpStatus::Refused, true) => {
            Err("outcomes must be empty when the youth could not be reached or refused".into())
        }
        _ => Err(
            "status must be FOLLOW_UP_STATUS_COMPLETED, FOLLOW_UP_STATUS_LOST_TO_FOLLOW_UP or FOLLOW_UP_STATUS_REFUSED"
                .into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn follow_ups_fall_at_six_twelve_and_twenty_four_months() {
        let due: Vec<NaiveDate> = schedule(date(2026, 1, 15)).into_iter().map(|(_, d)| d).collect();
        assert_eq!(due, [date(2026, 7, 15), date(2027, 1, 15), date(2028, 1, 15)]);
        assert_eq!(schedule(date(2025, 8, 31))[0].1, date(2026, 2, 28), "clamped to the month's end");
    }

    #[test]
    fn overdue_thirty_days_after_due() {
        let due_on = date(2026, 7, 15);
        assert_eq!(overdue_at(due_on) - due_at(due_on), 30 * DAY_MICROS);
        assert_eq!(date_of(due_at(due_on)), due_on);
    }

    #[test]
    fn lost_to_follow_up_carries_no_answers() {
        assert!(check_record(FollowUpStatus::Completed, true).is_ok());
        assert!(check_record(FollowUpStatus::Completed, false).is_err());
        assert!(check_record(FollowUpStatus::LostToFollowUp, false).is_ok());
        assert!(check_record(FollowUpStatus::LostToFollowUp, true).is_err());
        assert!(check_record(FollowUpStatus::Due, false).is_err());
        for status in [
            FollowUpStatus::Scheduled,
            FollowUpStatus::Completed,
            FollowUpStatus::LostToFollowUp,
            FollowUpStatus::Cancelled,
        ] {
            assert_eq!(status_from_code(status_code(status)), Some(status));
        }
    }
}
