//! Generating a report (compute, render, store) and reading stored ones.

use wf_db::Db;
use wf_proto::common::v1::ReportFormat;
use wf_proto::evaluation::v1::ReportKind;
use wf_server::ApiError;
use wf_server::pagination::next_page;
use wf_types::ReportId;

use super::dataset;
use crate::domain::catalog;
use crate::domain::report::{self, ReportMeta};
use crate::domain::scope::{ScopeSpec, rfc3339};
use crate::store::{self, ReportCursor, ReportRecord};

/// A report a caller asked for.
#[derive(Debug, Clone)]
pub struct NewReport {
    pub kind: ReportKind,
    pub format: ReportFormat,
    pub scope: ScopeSpec,
    /// The request's scope as sent (stored with the report, returned with it).
    pub encoded_scope: Vec<u8>,
    pub generated_by: String,
}

/// Computes, renders and stores the report, generated at `now`; None for a kind not built yet.
pub async fn generate(db: &Db, new: NewReport, now: i64) -> Result<Option<ReportRecord>, ApiError> {
    let NewReport { kind, format, scope, encoded_scope, generated_by } = new;
    let group_by = scope.group_by.clone();
    let computed = dataset::compute(db, &scope, move |rows, operations| {
        catalog::report(kind, rows, operations, group_by.as_deref())
    })
    .await?;
    let Some(dataset::Computed { value: (title, output), version, synthetic }) = computed.transpose() else {
        return Ok(None);
    };
    let report_id = ReportId::generate();
    let meta = ReportMeta {
        report_id: report_id.to_string(),
        kind: catalog::report_kind_code(kind).to_owned(),
        title,
        generated_at: rfc3339(now),
        dataset_version: version.clone(),
        synthetic,
        cohort: report::cohort(synthetic).to_owned(),
        scope: scope.words(),
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
        scope: encoded_scope,
        generated_at: now,
        generated_by,
        content_type: content_type.to_owned(),
        content,
        suppressed_cells: i32::try_from(suppressed).unwrap_or(i32::MAX),
        dataset_version: version,
        synthetic,
    };
    store::insert_report(db, &record).await?;
    tracing::info!(
        report.id = %record.report_id,
        report.kind = meta.kind,
        suppressed_cells = record.suppressed_cells,
        synthetic = record.synthetic,
        "report generated"
    );
    Ok(Some(record))
}

/// A stored report, content included.
pub async fn get(db: &Db, report_id: &str) -> Result<ReportRecord, ApiError> {
    store::report(db, report_id).await?.ok_or_else(|| ApiError::NotFound(format!("report {report_id}")))
}

/// One page of stored reports of `kind` (0: every kind), newest first and without content: at
/// most `size` after `after`, and the token of the next page (empty on the last page).
pub async fn page(
    db: &Db,
    kind: i32,
    after: Option<&ReportCursor>,
    size: usize,
) -> Result<(Vec<ReportRecord>, String), ApiError> {
    // One more than asked for tells whether another page follows.
    let mut records = store::list_reports(db, kind, after, i64::try_from(size + 1).unwrap_or(i64::MAX)).await?;
    let next_page_token = next_page(&mut records, size, |last| ReportCursor::after(last).to_string());
    Ok((records, next_page_token))
}
