//! Follow-ups: which are scheduled when (at enrollment: baseline and assessment; at exit: the exit
//! follow-up and the 6, 12 and 24-month ones), the window in which each is recorded, and what a
//! recorded follow-up must hold. Lost to follow-up is its own status with no answers, so it can
//! never be read as "no recidivism" (DOMAIN.md: attrition is censoring).

use chrono::{Days, Months, NaiveDate};
use wf_proto::cases::v1::{CaseClosureReason, FollowUpKind, FollowUpStatus};

use super::lifecycle::ASSESSMENT_DUE_DAYS;

/// Months after exit of each post-exit follow-up.
pub const AFTER_EXIT: [(FollowUpKind, u32); 3] =
    [(FollowUpKind::Month6, 6), (FollowUpKind::Month12, 12), (FollowUpKind::Month24, 24)];

/// Days after the due date at which an unrecorded follow-up becomes overdue; the window in which
/// an answer counts is [due date, due date + this) for the baseline and the post-exit follow-ups.
pub const OVERDUE_AFTER_DAYS: u64 = 30;

/// Days before and after the exit in which the exit follow-up is recorded: the exit interview
/// often happens while services end (stage `follow_up`), before `CloseCase` records the exit.
pub const EXIT_WINDOW_DAYS: u64 = 30;

const DAY_MICROS: i64 = 86_400_000_000;

/// The calendar dates of a follow-up: it may be recorded from `opens_on`, is due on `due_on`, and
/// is overdue from `closes_on` (the window is [opens_on, closes_on)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub opens_on: NaiveDate,
    pub due_on: NaiveDate,
    pub closes_on: NaiveDate,
}

impl Window {
    /// The instant the window opens (`follow_up.due` is announced then).
    pub fn opens_at(&self) -> i64 {
        start_of(self.opens_on)
    }

    /// The instant of the due date (data completeness counts an unrecorded follow-up from it).
    pub fn due_at(&self) -> i64 {
        start_of(self.due_on)
    }

    /// The instant the window closes (`follow_up.overdue` when nothing was recorded).
    pub fn closes_at(&self) -> i64 {
        start_of(self.closes_on)
    }
}

fn plus_days(date: NaiveDate, days: u64) -> NaiveDate {
    date.checked_add_days(Days::new(days)).unwrap_or(NaiveDate::MAX)
}

fn minus_days(date: NaiveDate, days: u64) -> NaiveDate {
    date.checked_sub_days(Days::new(days)).unwrap_or(NaiveDate::MIN)
}

/// The follow-ups of an enrollment on `enrolled_on`: the baseline, due at enrollment (window of 30
/// days), and the assessment, due 90 days after enrollment (DESIGN.md "assessment within 90 days
/// of enrollment"; recordable from the enrollment through the due date).
pub fn at_enrollment(enrolled_on: NaiveDate) -> Vec<(FollowUpKind, Window)> {
    let assessment_due = plus_days(enrolled_on, ASSESSMENT_DUE_DAYS.unsigned_abs());
    vec![
        (
            FollowUpKind::Baseline,
            Window {
                opens_on: enrolled_on,
                due_on: enrolled_on,
                closes_on: plus_days(enrolled_on, OVERDUE_AFTER_DAYS),
            },
        ),
        (
            FollowUpKind::Assessment,
            Window { opens_on: enrolled_on, due_on: assessment_due, closes_on: plus_days(assessment_due, 1) },
        ),
    ]
}

/// The follow-ups of an exit on `exit_date` closed for `reason`: the exit follow-up (due on the
/// exit date, recordable 30 days either side of it) and the 6, 12 and 24-month ones (each due on
/// its date, window of 30 days). None after a death, and none for a case merged into another
/// (that is not an exit).
pub fn at_exit(exit_date: NaiveDate, reason: CaseClosureReason) -> Vec<(FollowUpKind, Window)> {
    if matches!(reason, CaseClosureReason::Deceased | CaseClosureReason::Merged) {
        return Vec::new();
    }
    let mut follow_ups = vec![(
        FollowUpKind::Exit,
        Window {
            opens_on: minus_days(exit_date, EXIT_WINDOW_DAYS),
            due_on: exit_date,
            closes_on: plus_days(exit_date, EXIT_WINDOW_DAYS),
        },
    )];
    follow_ups.extend(schedule(exit_date).into_iter().map(|(kind, due_on)| {
        (kind, Window { opens_on: due_on, due_on, closes_on: plus_days(due_on, OVERDUE_AFTER_DAYS) })
    }));
    follow_ups
}

/// The post-exit follow-ups of an exit on `exit_date`: kind and due date.
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

/// A follow-up recorded before its window opened: FAILED_PRECONDITION, saying when it opens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotOpenYet {
    pub kind: FollowUpKind,
    pub opens_on: NaiveDate,
}

impl std::fmt::Display for NotOpenYet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the {} follow-up's window opens on {}; completed_at is before it: record the follow-up once its window \
             has opened",
            kind_code(self.kind),
            self.opens_on
        )
    }
}

/// A follow-up is recorded (completed, lost to follow-up or refused) at or after the instant its
/// window opens: a 6-month follow-up answered on the day of exit says nothing about month six.
pub fn check_recorded_in_window(kind: FollowUpKind, window: &Window, recorded_at: i64) -> Result<(), NotOpenYet> {
    if recorded_at < window.opens_at() { Err(NotOpenYet { kind, opens_on: window.opens_on }) } else { Ok(()) }
}

/// A kind's code in messages and field codes (`baseline`, `month_6`, …).
pub fn kind_code(kind: FollowUpKind) -> &'static str {
    match kind {
        FollowUpKind::Unspecified => "unspecified",
        FollowUpKind::Baseline => "baseline",
        FollowUpKind::Assessment => "assessment",
        FollowUpKind::Exit => "exit",
        FollowUpKind::Month6 => "month_6",
        FollowUpKind::Month12 => "month_12",
        FollowUpKind::Month24 => "month_24",
    }
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
    fn enrollment_schedules_the_baseline_and_the_assessment() {
        let scheduled = at_enrollment(date(2026, 3, 10));
        assert_eq!(
            scheduled,
            [
                (
                    FollowUpKind::Baseline,
                    Window { opens_on: date(2026, 3, 10), due_on: date(2026, 3, 10), closes_on: date(2026, 4, 9) }
                ),
                (
                    FollowUpKind::Assessment,
                    Window { opens_on: date(2026, 3, 10), due_on: date(2026, 6, 8), closes_on: date(2026, 6, 9) }
                ),
            ]
        );
    }

    #[test]
    fn an_exit_schedules_the_exit_follow_up_and_the_post_exit_ones() {
        let scheduled = at_exit(date(2026, 1, 15), CaseClosureReason::GoalsMet);
        let kinds: Vec<FollowUpKind> = scheduled.iter().map(|(kind, _)| *kind).collect();
        assert_eq!(kinds, [FollowUpKind::Exit, FollowUpKind::Month6, FollowUpKind::Month12, FollowUpKind::Month24]);
        assert_eq!(
            scheduled[0].1,
            Window { opens_on: date(2025, 12, 16), due_on: date(2026, 1, 15), closes_on: date(2026, 2, 14) }
        );
        assert_eq!(
            scheduled[1].1,
            Window { opens_on: date(2026, 7, 15), due_on: date(2026, 7, 15), closes_on: date(2026, 8, 14) }
        );
        assert!(at_exit(date(2026, 1, 15), CaseClosureReason::Deceased).is_empty());
        assert!(at_exit(date(2026, 1, 15), CaseClosureReason::Merged).is_empty());
    }

    /// The pilot's finding: a 6-month follow-up was accepted on the day of exit.
    #[test]
    fn a_follow_up_is_not_recorded_before_its_window_opens() {
        let (kind, six_months) = at_exit(date(2026, 1, 15), CaseClosureReason::GoalsMet)[1];
        let refused = check_recorded_in_window(kind, &six_months, start_of(date(2026, 1, 15))).unwrap_err();
        assert_eq!(refused, NotOpenYet { kind: FollowUpKind::Month6, opens_on: date(2026, 7, 15) });
        assert!(refused.to_string().starts_with("the month_6 follow-up's window opens on 2026-07-15;"), "{refused}");
        assert!(check_recorded_in_window(kind, &six_months, six_months.opens_at() - 1).is_err());
        assert_eq!(check_recorded_in_window(kind, &six_months, six_months.opens_at()), Ok(()));
        // Late is allowed (it is overdue, not refused); the exit follow-up opens before the exit.
        assert_eq!(check_recorded_in_window(kind, &six_months, six_months.closes_at() + 1), Ok(()));
        let (exit, window) = at_exit(date(2026, 1, 15), CaseClosureReason::GoalsMet)[0];
        assert_eq!(check_recorded_in_window(exit, &window, start_of(date(2026, 1, 2))), Ok(()));
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
