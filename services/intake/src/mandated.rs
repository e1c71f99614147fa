//! Mandated reports for minors: the 36-hour deadline and the overdue check.
//!
//! A minor's referral needs an initial report to the agency and then a written report within 36 hours of
//! the initial one (`written_report_due`, as the proto defines it). The check announces, once each:
//! `mandated_report.overdue` stage "initial" when a minor's referral has no report at all 36 hours after
//! receipt, and stage "written" when a report's written follow-up passed its due instant. The clock is a
//! parameter so tests can move it.

use chrono::{DateTime, Duration, Utc};
use wf_db::Db;
use wf_events::{Envelope, outbox};
use wf_proto::events::v1 as events;

use crate::SERVICE;
use crate::store::mandated as store;

/// Hours allowed for the written report (and for any report at all after receipt).
pub const WRITTEN_REPORT_HOURS: i64 = 36;

/// The written report's deadline for an initial report made at `reported_at` (micros).
pub fn written_report_due(reported_at: i64) -> i64 {
    reported_at + Duration::hours(WRITTEN_REPORT_HOURS).num_microseconds().unwrap_or(i64::MAX)
}

/// Emits `mandated_report.overdue` for every deadline passed at `now` and not yet announced; returns how
/// many it announced. Safe to run concurrently: each (referral, stage) is claimed in the same transaction
/// as its event.
pub async fn check_overdue(db: &Db, now: DateTime<Utc>) -> anyhow::Result<usize> {
    let now = wf_db::to_micros(now);
    let window = Duration::hours(WRITTEN_REPORT_HOURS).num_microseconds().unwrap_or(i64::MAX);
    let mut sent = 0;
    for overdue in store::overdue(db, now, now - window).await? {
        let mut tx = db.begin().await?;
        if store::mark_sent(&mut tx, &overdue.referral_id, &overdue.stage, now).await? {
            let event = events::MandatedReportOverdue {
                referral_id: overdue.referral_id.clone(),
                mandated_report_id: overdue.report_id.clone(),
                stage: overdue.stage.clone(),
                due: Some(wf_proto::time::timestamp_from_micros(overdue.due)),
                practice: overdue.practice != 0,
            };
            let envelope = Envelope::new(SERVICE, overdue.referral_id.as_str(), overdue.referral_id.as_str(), &event);
            outbox::enqueue(&mut tx, db.backend(), &envelope).await?;
            sent += 1;
            tracing::warn!(referral.id = %overdue.referral_id, stage = %overdue.stage, "mandated report overdue");
        }
        tx.commit().await?;
    }
    Ok(sent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_written_report_is_due_36_hours_after_the_initial_one() {
        let reported = wf_db::to_micros(DateTime::parse_from_rfc3339("2026-05-01T10:00:00Z").expect("t").to_utc());
        let due = wf_db::from_micros(written_report_due(reported));
        assert_eq!(due.to_rfc3339(), "2026-05-02T22:00:00+00:00");
    }
}
