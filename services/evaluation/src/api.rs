//! `wayfinder.evaluation.v1.EvaluationService`: aggregate analyses and reports for the program
//! manager and evaluators (`RunEvaluation`); rebuilding the data set and seeding the synthetic cohort
//! are the program manager's (`ManageEvaluation`). No RPC returns a row, a study id or a youth id.

mod scope;

use prost::Message;
use tonic::{Request, Response, Status};
use wf_auth::Operation;
use wf_db::Db;
use wf_proto::common::v1::ReportFormat;
use wf_proto::evaluation::v1 as pb;
use wf_proto::evaluation::v1::evaluation_service_server::EvaluationService;
use wf_server::{ApiError, FieldViolation};

use crate::analyses::{self, ScopeSpec};
use crate::domain::analysis::completeness;
use crate::domain::synthetic;
use crate::report::{self, ReportMeta};
use crate::store::{self, ReportRecord};

pub use scope::validate_scope;

#[derive(Debug, Clone)]
pub struct EvaluationApi {
    db: Db,
}

impl EvaluationApi {
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

use wf_proto::time::timestamp_from_micros as timestamp;

fn report_kind_code(kind: pb::ReportKind) -> &'static str {
    match kind {
        pb::ReportKind::Baseline => "baseline",
        pb::ReportKind::Outcome => "outcome",
        pb::ReportKind::DataCompleteness => "data_completeness",
        pb::ReportKind::Operations => "operations",
        pb::ReportKind::HmisAggregate => "hmis_aggregate",
        pb::ReportKind::Unspecified => "unspecified",
    }
}

fn scope_words(scope: &ScopeSpec) -> Vec<String> {
    let micros = |m: i64| {
        chrono::DateTime::from_timestamp_micros(m)
            .map_or_else(|| m.to_string(), |t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
    };
    let mut words = vec![if scope.sites.is_empty() {
        "sites: all".to_owned()
    } else {
        format!("sites: {}", scope.sites.join(", "))
    }];
    match scope.referred {
        (None, None) => words.push("referred: all time".into()),
        (from, to) => words.push(format!(
            "referred: {} to {}",
            from.map_or_else(|| "the start".into(), micros),
            to.map_or_else(|| "now".into(), micros)
        )),
    }
    words.push(format!("as of {}", micros(scope.as_of)));
    if let Some(group) = &scope.group_by {
        words.push(format!("grouped by {group}"));
    }
    words
}

fn record_to_proto(record: ReportRecord) -> pb::Report {
    pb::Report {
        report_id: record.report_id,
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

#[tonic::async_trait]
impl EvaluationService for EvaluationApi {
    async fn generate_report(
        &self,
        request: Request<pb::GenerateReportRequest>,
    ) -> Result<Response<pb::GenerateReportResponse>, Status> {
        let principal = wf_auth::principal(&request)?;
        principal.authorize(Operation::RunEvaluation)?;
        let generated_by = principal.subject.clone();
        let request = request.into_inner();
        let now = wf_db::now_micros();
        let mut violations = Vec::new();
        let kind = match pb::ReportKind::try_from(request.kind) {
            Ok(pb::ReportKind::Unspecified) | Err(_) => {
                violations.push(FieldViolation::new(
                    "kind",
                    format!(
                        "{} is not a report kind; allowed: REPORT_KIND_BASELINE, REPORT_KIND_OUTCOME, \
                         REPORT_KIND_DATA_COMPLETENESS, REPORT_KIND_OPERATIONS",
                        request.kind
                    ),
                ));
                None
            }
            Ok(kind) => Some(kind),
        };
        let format = match ReportFormat::try_from(request.format) {
            Ok(ReportFormat::Unspecified) | Err(_) => {
                violations.push(FieldViolation::new(
                    "format",
                    format!(
                        "{} is not a report format; allowed: REPORT_FORMAT_HTML, REPORT_FORMAT_CSV, REPORT_FORMAT_JSON",
                        request.format
                    ),
                ));
                None
            }
            Ok(format) => Some(format),
        };
        let scope = validate_scope(request.scope.as_ref(), now).map_err(|v| {
            violations.extend(v);
        });
        let (Some(kind), Some(format), Ok(scope)) = (kind, format, scope) else {
            return Err(ApiError::InvalidArgument(violations).into());
        };
        if !violations.is_empty() {
            return Err(ApiError::InvalidArgument(violations).into());
        }
        let mut selected = analyses::select(&self.db, &scope).await?;
        let group_by = scope.group_by.clone();
        let built = selected
            .off_workers(move |rows, operations| analyses::report(kind, rows, operations, group_by.as_deref()))
            .await?;
        let Some((title, output)) = built else {
            return Err(wf_server::later_step(&format!("GenerateReport {}", kind.as_str_name())));
        };
        let report_id = format!("rpt_{}", uuid::Uuid::now_v7().simple());
        let meta = ReportMeta {
            report_id: report_id.clone(),
            kind: report_kind_code(kind).to_owned(),
            title,
            generated_at: chrono::DateTime::from_timestamp_micros(now)
                .map_or_else(String::new, |t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            dataset_version: selected.version.clone(),
            synthetic: selected.synthetic,
            scope: scope_words(&scope),
        };
        let (content_type, content) = match format {
            ReportFormat::Html => ("text/html; charset=utf-8", report::html(&meta, &output)),
            ReportFormat::Csv => ("text/csv; charset=utf-8", report::csv(&meta, &output)),
            _ => ("application/json", report::json(&meta, &output)),
        };
        let suppressed: usize = output.tables.iter().map(|t| t.suppressed_cells()).sum();
        let record = ReportRecord {
            report_id,
            kind: kind as i32,
            format: format as i32,
            scope: request.scope.unwrap_or_default().encode_to_vec(),
            generated_at: now,
            generated_by,
            content_type: content_type.to_owned(),
            content,
            suppressed_cells: i32::try_from(suppressed).unwrap_or(i32::MAX),
            dataset_version: selected.version,
            synthetic: selected.synthetic,
        };
        store::insert_report(&self.db, &record).await.map_err(ApiError::from)?;
        tracing::info!(
            report.id = %record.report_id,
            report.kind = meta.kind,
            suppressed_cells = record.suppressed_cells,
            synthetic = record.synthetic,
            "report generated"
        );
        Ok(Response::new(pb::GenerateReportResponse { report: Some(record_to_proto(record)) }))
    }

    async fn get_report(
        &self,
        request: Request<pb::GetReportRequest>,
    ) -> Result<Response<pb::GetReportResponse>, Status> {
        wf_auth::principal(&request)?.authorize(Operation::RunEvaluation)?;
        let report_id = request.into_inner().report_id;
        if !report_id.starts_with("rpt_") {
            return Err(ApiError::InvalidArgument(vec![FieldViolation::new(
                "report_id",
                format!("{report_id:?} is not a report id; report ids start with \"rpt_\""),
            )])
            .into());
        }
        let record = store::report(&self.db, &report_id)
            .await
            .map_err(ApiError::from)?
            .ok_or_else(|| ApiError::NotFound(format!("report {report_id}")))?;
        Ok(Response::new(pb::GetReportResponse { report: Some(record_to_proto(record)) }))
    }

    async fn list_reports(
        &self,
        request: Request<pb::ListReportsRequest>,
    ) -> Result<Response<pb::ListReportsResponse>, Status> {
        wf_auth::principal(&request)?.authorize(Operation::RunEvaluation)?;
        let request = request.into_inner();
        let mut violations = Vec::new();
        if pb::ReportKind::try_from(request.kind).is_err() {
            violations.push(FieldViolation::new("kind", format!("{} is not a report kind", request.kind)));
        }
        if !(0..=100).contains(&request.page_size) {
            violations.push(FieldViolation::new(
                "page_size",
                format!("{} is out of range; allowed: 1 to 100 (0 = 20)", request.page_size),
            ));
        }
        let before = match request.page_token.as_str() {
            "" => None,
            token => match token.split_once('.').and_then(|(at, id)| Some((at.parse::<i64>().ok()?, id.to_owned()))) {
                Some(cursor) => Some(cursor),
                None => {
                    violations.push(FieldViolation::new("page_token", "is not a token this service returned"));
                    None
                }
            },
        };
        if !violations.is_empty() {
            return Err(ApiError::InvalidArgument(violations).into());
        }
        let limit = if request.page_size == 0 { 20 } else { i64::from(request.page_size) };
        let records = store::list_reports(&self.db, request.kind, before, limit).await.map_err(ApiError::from)?;
        let next_page_token = match records.last() {
            Some(last) if records.len() as i64 == limit => format!("{}.{}", last.generated_at, last.report_id),
            _ => String::new(),
        };
        Ok(Response::new(pb::ListReportsResponse {
            reports: records.into_iter().map(record_to_proto).collect(),
            next_page_token,
        }))
    }

    async fn get_data_completeness(
        &self,
        request: Request<pb::GetDataCompletenessRequest>,
    ) -> Result<Response<pb::GetDataCompletenessResponse>, Status> {
        wf_auth::principal(&request)?.authorize(Operation::RunEvaluation)?;
        let scope =
            validate_scope(request.get_ref().scope.as_ref(), wf_db::now_micros()).map_err(ApiError::InvalidArgument)?;
        let selected = analyses::select(&self.db, &scope).await?;
        let c = completeness::completeness(&selected.rows, scope.group_by.as_deref());
        // −1 stands for a count of 1 to 10 (suppressed).
        let count = |value: Option<u64>| value.map_or(-1, |v| i64::try_from(v).unwrap_or(i64::MAX));
        Ok(Response::new(pb::GetDataCompletenessResponse {
            fields: c
                .fields
                .iter()
                .map(|line| pb::FieldCompleteness {
                    field: line.field.clone(),
                    group: line.group.clone().into_iter().collect(),
                    required: line.required as i64,
                    answered: line.answered as i64,
                    refused_or_unknown: line.refused_or_unknown as i64,
                    missing: line.missing as i64,
                    suppressed: line.suppressed,
                })
                .collect(),
            overdue_assessments: count(c.overdue_assessments),
            overdue_follow_ups: count(c.overdue_follow_ups),
            incomplete_cases: count(c.incomplete_cases),
            total_cases: count(c.total_cases),
        }))
    }

    async fn run_analysis(
        &self,
        request: Request<pb::RunAnalysisRequest>,
    ) -> Result<Response<pb::RunAnalysisResponse>, Status> {
        wf_auth::principal(&request)?.authorize(Operation::RunEvaluation)?;
        let request = request.into_inner();
        let now = wf_db::now_micros();
        let mut violations = Vec::new();
        let kind = match pb::AnalysisKind::try_from(request.kind) {
            Ok(pb::AnalysisKind::Unspecified) | Err(_) => {
                violations.push(FieldViolation::new(
                    "kind",
                    format!(
                        "{} is not an analysis kind; allowed: ANALYSIS_KIND_RECIDIVISM_SURVIVAL, \
                         ANALYSIS_KIND_RECIDIVISM_COMPETING_RISKS, ANALYSIS_KIND_INTERVENTION_COMBINATIONS, \
                         ANALYSIS_KIND_FOLLOW_UP_RETENTION, ANALYSIS_KIND_ENROLLMENT_PROGRESS, \
                         ANALYSIS_KIND_ENGAGEMENT_BY_APPROACH, ANALYSIS_KIND_MISSING_EPISODES, \
                         ANALYSIS_KIND_LONG_TERM_DOMAINS, ANALYSIS_KIND_DEADLINE_COMPLIANCE, \
                         ANALYSIS_KIND_PARTNER_RESPONSIVENESS",
                        request.kind
                    ),
                ));
                None
            }
            Ok(kind) => Some(kind),
        };
        let scope = validate_scope(request.scope.as_ref(), now).map_err(|v| violations.extend(v));
        let (Some(kind), Ok(scope)) = (kind, scope) else {
            return Err(ApiError::InvalidArgument(violations).into());
        };
        if !violations.is_empty() {
            return Err(ApiError::InvalidArgument(violations).into());
        }
        let mut selected = analyses::select(&self.db, &scope).await?;
        let group_by = scope.group_by.clone();
        let built = selected
            .off_workers(move |rows, operations| analyses::analysis(kind, rows, operations, group_by.as_deref()))
            .await?;
        let Some(output) = built else {
            return Err(wf_server::later_step(&format!("RunAnalysis {}", kind.as_str_name())));
        };
        Ok(Response::new(pb::RunAnalysisResponse {
            kind: kind as i32,
            scope: request.scope,
            tables: output.tables.iter().map(|t| t.to_proto()).collect(),
            computed_at: Some(timestamp(now)),
            dataset_version: selected.version,
            synthetic: selected.synthetic,
        }))
    }

    async fn rebuild_dataset(
        &self,
        request: Request<pb::RebuildDatasetRequest>,
    ) -> Result<Response<pb::RebuildDatasetResponse>, Status> {
        wf_auth::principal(&request)?.authorize(Operation::ManageEvaluation)?;
        let (dataset_version, youth_count) = analyses::rebuild(&self.db).await?;
        Ok(Response::new(pb::RebuildDatasetResponse { dataset_version, youth_count }))
    }

    async fn seed_synthetic_cohort(
        &self,
        request: Request<pb::SeedSyntheticCohortRequest>,
    ) -> Result<Response<pb::SeedSyntheticCohortResponse>, Status> {
        wf_auth::principal(&request)?.authorize(Operation::ManageEvaluation)?;
        let request = request.into_inner();
        if !(synthetic::MIN_SIZE..=synthetic::MAX_SIZE).contains(&request.size) {
            return Err(ApiError::InvalidArgument(vec![FieldViolation::new(
                "size",
                format!(
                    "{} is out of range; allowed: {} to {}",
                    request.size,
                    synthetic::MIN_SIZE,
                    synthetic::MAX_SIZE
                ),
            )])
            .into());
        }
        let (dataset_version, youth_count) =
            analyses::seed_synthetic(&self.db, request.size as usize, request.seed).await?;
        Ok(Response::new(pb::SeedSyntheticCohortResponse { dataset_version, youth_count }))
    }
}
