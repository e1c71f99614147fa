//! Mandated reports for minors: the 36-hour deadline.
//!
//! A minor's referral needs an initial report to the agency and then a written report within 36 hours of
//! the initial one (`written_report_due`, as the proto defines it); a minor's referral with no report at
//! all is overdue 36 hours after receipt. The overdue check that announces them is `app::mandated`.

use chrono::Duration;

/// Hours allowed for the written report (and for any report at all after receipt).
pub const WRITTEN_REPORT_HOURS: i64 = 36;

/// The window of [`WRITTEN_REPORT_HOURS`], in microseconds.
pub fn window_micros() -> i64 {
    Duration::hours(WRITTEN_REPORT_HOURS).num_microseconds().unwrap_or(i64::MAX)
}

/// The written report's deadline for an initial report made at `reported_at` (micros).
pub fn written_report_due(reported_at: i64) -> i64 {
    reported_at + window_micros()
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;

    use super::*;

    #[test]
    fn the_written_report_is_due_36_hours_after_the_initial_one() {
        let reported = wf_db::to_micros(DateTime::parse_from_rfc3339("2026-05-01T10:00:00Z").expect("t").to_utc());
        let due = wf_db::from_micros(written_report_due(reported));
        assert_eq!(due.to_rfc3339(), "2026-05-02T22:00:00+00:00");
    }
}
