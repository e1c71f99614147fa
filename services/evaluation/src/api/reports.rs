//! GenerateReport, GetReport, ListReports.

use prost::Message;
use tonic::{Request, Response, Status};
use wf_auth::Operation;
use wf_proto::common::v1::ReportFormat;
use wf_proto::evaluation::v1 as pb;
use wf_proto::time::timestamp_from_micros as timestamp;
use wf_server::ApiError;
use wf_server::pagination::{PageLimits, page_token};
use wf_types::{FieldViolation, ReportId};

use super::{EvaluationApi, validate_scope};
use crate::app::reports::{self, NewReport};
use crate::domain::catalog;
use crate::store::{ReportCursor, ReportRecord};

/// ListReports: 0 asks for 20; above 100 is refused.
const PAGE: PageLimits = PageLimits::new(20, 100);

pub(super) async fn generate(
    api: &EvaluationApi,
    request: Request<pb::GenerateReportRequest>,
) -> Result<Response<pb::GenerateReportResponse>, Status> {
    let principal = wf_auth::principal(&request)?;
    principal.authorize(Operation::RunEvaluation)?;
    let generated_by = principal.subject.clone();
    let request = request.into_inner();
    let now = api.clock.now_micros();
    let mut violations = Vec::new();
    let kind = report_kind(request.kind, &mut violations);
    let format = report_format(request.format, &mut violations);
    let groupings = kind.map(catalog::report_groupings);
    let grouped = kind.zip(groupings.as_deref()).map(|(kind, groupings)| (kind.as_str_name(), groupings));
    let scope = validate_scope(request.scope.as_ref(), now, grouped).map_err(|v| violations.extend(v)).ok();
    // Each check that gives None has named its field.
    let (Some(kind), Some(format), Some(scope)) = (kind, format, scope) else {
        return Err(ApiError::InvalidArgument(violations).into());
    };
    let new = NewReport {
        kind,
        format,
        scope,
        encoded_scope: request.scope.unwrap_or_default().encode_to_vec(),
        generated_by,
    };
    let record = reports::generate(&api.db, new, now)
        .await?
        .ok_or_else(|| wf_server::later_step(&format!("GenerateReport {}", kind.as_str_name())))?;
    Ok(Response::new(pb::GenerateReportResponse { report: Some(record_to_proto(record)) }))
}

pub(super) async fn get(
    api: &EvaluationApi,
    request: Request<pb::GetReportRequest>,
) -> Result<Response<pb::GetReportResponse>, Status> {
    wf_auth::principal(&request)?.authorize(Operation::RunEvaluation)?;
    let report_id = request.into_inner().report_id;
    // Only the prefix is checked: any other `rpt_…` is simply not found.
    if !report_id.starts_with(ReportId::PREFIX) {
        return Err(ApiError::invalid(
            "report_id",
            format!("{report_id:?} is not a report id; report ids start with \"{}\"", ReportId::PREFIX),
        )
        .into());
    }
    let record = reports::get(&api.db, &report_id).await?;
    Ok(Response::new(pb::GetReportResponse { report: Some(record_to_proto(record)) }))
}

pub(super) async fn list(
    api: &EvaluationApi,
    request: Request<pb::ListReportsRequest>,
) -> Result<Response<pb::ListReportsResponse>, Status> {
    wf_auth::principal(&request)?.authorize(Operation::RunEvaluation)?;
    let request = request.into_inner();
    let mut violations = Vec::new();
    if pb::ReportKind::try_from(request.kind).is_err() {
        violations.push(FieldViolation::new("kind", format!("{} is not a report kind", request.kind)));
    }
    let size = PAGE.size_within(request.page_size, &mut violations);
    let after = page_token::<ReportCursor>(&request.page_token, &mut violations);
    ApiError::check(violations)?;
    let (records, next_page_token) = reports::page(&api.db, request.kind, after.as_ref(), size).await?;
    Ok(Response::new(pb::ListReportsResponse {
        reports: records.into_iter().map(record_to_proto).collect(),
        next_page_token,
    }))
}

/// The report kind asked for; None (and the field named) for none or an unknown one.
fn report_kind(raw: i32, violations: &mut Vec<FieldViolation>) -> Option<pb::ReportKind> {
    match pb::ReportKind::try_from(raw) {
        Ok(pb::ReportKind::Unspecified) | Err(_) => {
            violations.push(FieldViolation::new(
                "kind",
                format!(
                    "{raw} is not a report kind; allowed: REPORT_KIND_BASELINE, REPORT_KIND_OUTCOME, \
                     REPORT_KIND_DATA_COMPLETENESS, REPORT_KIND_OPERATIONS, REPORT_KIND_HMIS_AGGREGATE"
                ),
            ));
            None
        }
        Ok(kind) => Some(kind),
    }
}

/// The format asked for; None (and the field named) for none or an unknown one.
fn report_format(raw: i32, violations: &mut Vec<FieldViolation>) -> Option<ReportFormat> {
    match ReportFormat::try_from(raw) {
        Ok(ReportFormat::Unspecified) | Err(_) => {
            violations.push(FieldViolation::new(
                "format",
                format!(
                    "{raw} is not a report format; allowed: REPORT_FORMAT_HTML, REPORT_FORMAT_CSV, REPORT_FORMAT_JSON"
                ),
            ));
            None
        }
        Ok(format) => Some(format),
    }
}

fn record_to_proto(record: ReportRecord) -> pb::Report {
    pb::Report {
        report_id: record.report_id.to_string(),
        kind: record.kind,
        format: record.format,
        scope: pb::Scope::decode(record.scope.as_slice()).ok(),
        generated_at: Some(timestamp(record.generated_at)),
        generated_by: record.generated_by,
        content_type: record.content_type,
        content: record.content,
        suppressed_cells: record.suppressed_cells,
        dataset_version: record.dataset_version,
        synthetic: record.synthetic,
    }
}
