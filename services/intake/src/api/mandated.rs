//! Mandated reports: record the initial report and then its written follow-up; list them.

use chrono::Utc;
use tonic::{Request, Response, Status};
use wf_auth::{Operation, Principal};
use wf_events::{Envelope, outbox};
use wf_proto::events::v1 as events;
use wf_proto::intake::v1 as pb;
use wf_proto::time::timestamp_from_micros as timestamp;
use wf_server::{ApiError, FieldViolation};

use super::{DEFAULT_PAGE_SIZE, IntakeApi, MAX_PAGE_SIZE};
use crate::SERVICE;
use crate::mandated::written_report_due;
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

fn instant(field: &str, value: Option<&prost_types::Timestamp>, violations: &mut Vec<FieldViolation>) -> Option<i64> {
    let now = Utc::now();
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

fn reference_ok(reference: &str) -> bool {
    reference.len() <= 64 && reference.chars().all(|c| c.is_ascii_alphanumeric() || "-_/.".contains(c))
}

impl IntakeApi {
    pub(super) async fn rpc_record_mandated(
        &self,
        request: Request<pb::RecordMandatedReportRequest>,
    ) -> Result<Response<pb::RecordMandatedReportResponse>, Status> {
        let principal = wf_auth::principal(&request)?.clone();
        principal.authorize(Operation::ManageCases)?;
        Ok(Response::new(self.record_mandated(&principal, request.into_inner()).await?))
    }

    pub(super) async fn rpc_list_mandated(
        &self,
        request: Request<pb::ListMandatedReportsRequest>,
    ) -> Result<Response<pb::ListMandatedReportsResponse>, Status> {
        let principal = wf_auth::principal(&request)?.clone();
        principal.authorize(Operation::ManageCases)?;
        Ok(Response::new(self.list_mandated(request.into_inner()).await?))
    }

    async fn record_mandated(
        &self,
        principal: &Principal,
        request: pb::RecordMandatedReportRequest,
    ) -> Result<pb::RecordMandatedReportResponse, ApiError> {
        let Some(report) = request.report else {
            return Err(ApiError::InvalidArgument(vec![FieldViolation::new("report", "is required")]));
        };
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
            let reported_at = instant("report.reported_at", report.reported_at.as_ref(), &mut violations);
            let written_at = match &report.written_report_at {
                Some(t) => instant("report.written_report_at", Some(t), &mut violations),
                None => None,
            };
            let facts = if report.referral_id.is_empty() {
                None
            } else {
                store::referral_facts(&mut tx, &report.referral_id).await?
            };
            if !report.referral_id.is_empty() && facts.is_none() {
                violations
                    .push(FieldViolation::new("report.referral_id", format!("no referral {}", report.referral_id)));
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
            if !violations.is_empty() {
                return Err(ApiError::InvalidArgument(violations));
            }
            let (Some((_, practice, _)), Some(reported_at)) = (facts, reported_at) else {
                return Err(ApiError::internal(anyhow::anyhow!("validated report lost its facts")));
            };
            let row = ReportRow {
                id: format!("mr_{}", uuid::Uuid::now_v7().simple()),
                referral_id: report.referral_id.clone(),
                agency: report.agency,
                reported_at,
                written_report_at: written_at,
                written_report_due: written_report_due(reported_at),
                agency_reference: report.agency_reference.clone(),
                reporter_id: principal.subject.clone(),
                practice,
            };
            store::insert(&mut tx, &row).await?;
            row
        } else {
            // The written report for an existing one.
            let existing = store::get(&mut tx, &report.mandated_report_id)
                .await?
                .ok_or_else(|| ApiError::NotFound(format!("mandated report {}", report.mandated_report_id)))?;
            let written_at = instant("report.written_report_at", report.written_report_at.as_ref(), &mut violations);
            if let Some(written) = written_at
                && written < existing.reported_at
            {
                violations.push(FieldViolation::new("report.written_report_at", "is before the initial report"));
            }
            if existing.written_report_at.is_some() {
                violations
                    .push(FieldViolation::new("report.written_report_at", "the written report is already recorded"));
            }
            if !violations.is_empty() {
                return Err(ApiError::InvalidArgument(violations));
            }
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

    async fn list_mandated(
        &self,
        request: pb::ListMandatedReportsRequest,
    ) -> Result<pb::ListMandatedReportsResponse, ApiError> {
        let page_size = match request.page_size {
            0 => DEFAULT_PAGE_SIZE,
            n if (1..=MAX_PAGE_SIZE).contains(&n) => n,
            n => {
                return Err(ApiError::InvalidArgument(vec![FieldViolation::new(
                    "page_size",
                    format!("{n} is out of range; allowed 1 to {MAX_PAGE_SIZE}"),
                )]));
            }
        };
        let overdue_at = request.overdue_only.then(wf_db::now_micros);
        let rows =
            store::list(&self.db, &request.referral_id, overdue_at, &request.page_token, i64::from(page_size) + 1)
                .await?;
        let more = rows.len() > page_size as usize;
        let reports: Vec<pb::MandatedReport> = rows.iter().take(page_size as usize).map(to_proto).collect();
        let next_page_token =
            if more { reports.last().map(|r| r.mandated_report_id.clone()).unwrap_or_default() } else { String::new() };
        Ok(pb::ListMandatedReportsResponse { reports, next_page_token })
    }
}
