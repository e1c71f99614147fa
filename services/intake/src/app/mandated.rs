//! Mandated reports: record the initial report and then its written follow-up; list them.

use chrono::{DateTime, Utc};
use wf_auth::Principal;
use wf_db::Db;
use wf_events::{Envelope, outbox};
use wf_proto::events::v1 as events;
use wf_proto::intake::v1 as pb;
use wf_proto::time::timestamp_from_micros as timestamp;
use wf_server::pagination::{next_page, page_token};
use wf_server::{ApiError, FieldViolation};
use wf_types::MandatedReportId;

use super::{App, PAGE_LIMITS};
use crate::SERVICE;
use crate::domain::mandated::{self, written_report_due};
use crate::store::mandated::{self as store, ReportRow};

fn to_proto(row: &ReportRow) -> pb::MandatedReport {
    pb::MandatedReport {
        mandated_report_id: row.id.clone(),
        referral_id: row.referral_id.clone(),
        agency: row.agency,
        reported_at: Some(timestamp(row.reported_at)),
        written_report_at: row.written_report_at.map(timestamp),
        agency_reference: row.agency_reference.clone(),
        reporter_id: row.reporter_id.clone(),
        written_report_due: Some(timestamp(row.written_report_due)),
    }
}

fn instant(
    field: &str,
    value: Option<&prost_types::Timestamp>,
    now: DateTime<Utc>,
    violations: &mut Vec<FieldViolation>,
) -> Option<i64> {
    match value.map(wf_proto::time::datetime) {
        None => {
            violations.push(FieldViolation::new(field, "is required"));
            None
        }
        Some(None) => {
            violations.push(FieldViolation::new(field, "is not a valid instant"));
            None
        }
        Some(Some(at)) if at > now + chrono::Duration::minutes(5) => {
            violations.push(FieldViolation::new(field, "is in the future; record a report after it was made"));
            None
        }
        Some(Some(at)) => Some(wf_db::to_micros(at)),
    }
}

/// The field path a mandated-report read records.
pub(crate) const MANDATED_REPORTS_FIELD: &str = "referral.mandated_reports";

fn reference_ok(reference: &str) -> bool {
    reference.len() <= 64 && reference.chars().all(|c| c.is_ascii_alphanumeric() || "-_/.".contains(c))
}

impl App {
    pub(crate) async fn record_mandated(
        &self,
        principal: &Principal,
        request: pb::RecordMandatedReportRequest,
    ) -> Result<pb::RecordMandatedReportResponse, ApiError> {
        let Some(report) = request.report else {
            return Err(ApiError::invalid("report", "is required"));
        };
        let now = self.clock.now();
        let mut violations = Vec::new();
        if !reference_ok(&report.agency_reference) {
            violations
                .push(FieldViolation::new("report.agency_reference", "allowed up to 64 letters, digits and - _ / ."));
        }
        let mut tx = self.db.begin().await?;
        let row = if report.mandated_report_id.is_empty() {
            // A new initial report.
            if report.referral_id.is_empty() {
                violations.push(FieldViolation::new("report.referral_id", "is required for a new report"));
            }
            if matches!(
                pb::MandatedReportAgency::try_from(report.agency),
                Err(_) | Ok(pb::MandatedReportAgency::Unspecified)
            ) {
                violations
                    .push(FieldViolation::new("report.agency", "allowed CHILD_WELFARE, LAW_ENFORCEMENT, PROBATION"));
            }
            let reported_at = instant("report.reported_at", report.reported_at.as_ref(), now, &mut violations);
            let written_at = match &report.written_report_at {
                Some(t) => instant("report.written_report_at", Some(t), now, &mut violations),
                None => None,
            };
            let facts = if report.referral_id.is_empty() {
                None
            } else {
                store::referral_facts(&mut tx, &report.referral_id).await?
            };
            if !report.referral_id.is_empty() && facts.is_none() {
                violations.push(FieldViolation::new("report.referral_id", "names no referral"));
            }
            if let Some((is_minor, ..)) = facts
                && is_minor == 0
            {
                violations
                    .push(FieldViolation::new("report.referral_id", "mandated reports are recorded for minors only"));
            }
            if let (Some(reported), Some(written)) = (reported_at, written_at)
                && written < reported
            {
                violations.push(FieldViolation::new("report.written_report_at", "is before reported_at"));
            }
            ApiError::check(violations)?;
            let (Some((_, practice, _)), Some(reported_at)) = (facts, reported_at) else {
                return Err(ApiError::internal(anyhow::anyhow!("validated report lost its facts")));
            };
            let row = ReportRow {
                id: MandatedReportId::generate().to_string(),
                referral_id: report.referral_id.clone(),
                agency: report.agency,
                reported_at,
                written_report_at: written_at,
                written_report_due: written_report_due(reported_at),
                agency_reference: report.agency_reference.clone(),
                reporter_id: principal.subject.clone(),
                practice,
            };
            store::insert(&mut tx, &row, self.clock.now_micros()).await?;
            row
        } else {
            // The written report for an existing one.
            let existing = store::get(&mut tx, &report.mandated_report_id)
                .await?
                .ok_or_else(|| super::not_found("mandated report", &report.mandated_report_id))?;
            let written_at =
                instant("report.written_report_at", report.written_report_at.as_ref(), now, &mut violations);
            if let Some(written) = written_at
                && written < existing.reported_at
            {
                violations.push(FieldViolation::new("report.written_report_at", "is before the initial report"));
            }
            if existing.written_report_at.is_some() {
                violations
                    .push(FieldViolation::new("report.written_report_at", "the written report is already recorded"));
            }
            ApiError::check(violations)?;
            let Some(written_at) = written_at else {
                return Err(ApiError::internal(anyhow::anyhow!("validated report lost its instant")));
            };
            store::record_written(&mut tx, &existing.id, written_at, &report.agency_reference).await?;
            store::get(&mut tx, &existing.id).await?.unwrap_or(existing)
        };
        let event = events::MandatedReportRecorded {
            mandated_report_id: row.id.clone(),
            referral_id: row.referral_id.clone(),
            agency: row.agency,
            reported_at: Some(timestamp(row.reported_at)),
            written_report_at: row.written_report_at.map(timestamp),
            written_report_due: Some(timestamp(row.written_report_due)),
            practice: row.practice != 0,
        };
        outbox::enqueue(
            &mut tx,
            self.db.backend(),
            &Envelope::new(SERVICE, row.id.as_str(), row.referral_id.as_str(), &event),
        )
        .await?;
        tx.commit().await?;
        self.relay.wake();
        Ok(pb::RecordMandatedReportResponse { mandated_report_id: row.id.clone(), report: Some(to_proto(&row)) })
    }

    /// Mandated reports (staff). Each referral whose reports are returned is a coded read: one
    /// `record.accessed` event per referral, committed before the answer.
    pub(crate) async fn list_mandated(
        &self,
        principal: &Principal,
        request: pb::ListMandatedReportsRequest,
    ) -> Result<pb::ListMandatedReportsResponse, ApiError> {
        let mut violations = Vec::new();
        let page_size = PAGE_LIMITS.size_within(request.page_size, &mut violations);
        page_token::<MandatedReportId>(&request.page_token, &mut violations);
        ApiError::check(violations)?;
        let overdue_at = request.overdue_only.then(|| self.clock.now_micros());
        let mut rows =
            store::list(&self.db, &request.referral_id, overdue_at, &request.page_token, page_size as i64 + 1).await?;
        let next_page_token = next_page(&mut rows, page_size, |row| row.id.clone());
        let accesses = super::distinct(rows.iter().map(|row| row.referral_id.as_str()))
            .map(|referral_id| {
                self.access_envelope(principal, referral_id, "", vec![MANDATED_REPORTS_FIELD.to_owned()], "")
            })
            .collect();
        self.commit_accesses(accesses).await?;
        let reports = rows.iter().map(to_proto).collect();
        Ok(pb::ListMandatedReportsResponse { reports, next_page_token })
    }
}

/// Emits `mandated_report.overdue` for every deadline passed at `now` and not yet announced; returns how
/// many it announced: stage "initial" when a minor's referral has no report at all 36 hours after
/// receipt, stage "written" when a report's written follow-up passed its due instant. Safe to run
/// concurrently: each (referral, stage) is claimed in the same transaction as its event. The clock is a
/// parameter: the mandated-report worker passes the service's clock, tests may pass any instant.
pub async fn check_overdue(db: &Db, now: DateTime<Utc>) -> anyhow::Result<usize> {
    let now = wf_db::to_micros(now);
    let mut sent = 0;
    for overdue in store::overdue(db, now, now - mandated::window_micros()).await? {
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
