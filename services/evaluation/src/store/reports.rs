//! Generated reports: stored whole, listed newest first without their content.

use std::fmt;
use std::str::FromStr;

use sqlx::Row;
use wf_db::{Db, DbError};
use wf_types::ReportId;

/// A stored report.
#[derive(Debug, Clone)]
pub struct ReportRecord {
    pub report_id: ReportId,
    pub kind: i32,
    pub format: i32,
    pub scope: Vec<u8>,
    pub generated_at: i64,
    pub generated_by: String,
    pub content_type: String,
    pub content: Vec<u8>,
    pub suppressed_cells: i32,
    pub dataset_version: String,
    pub synthetic: bool,
}

const REPORT_COLUMNS: &str = "report_id, kind, format, scope, generated_at, generated_by, content_type, content, \
     suppressed_cells, dataset_version, synthetic";

fn report_from(row: &sqlx::any::AnyRow) -> Result<ReportRecord, sqlx::Error> {
    Ok(ReportRecord {
        report_id: row
            .try_get::<String, _>("report_id")?
            .parse()
            .map_err(|err: wf_types::IdError| sqlx::Error::Decode(err.into()))?,
        kind: row.try_get::<i32, _>("kind")?,
        format: row.try_get::<i32, _>("format")?,
        scope: row.try_get("scope")?,
        generated_at: row.try_get("generated_at")?,
        generated_by: row.try_get("generated_by")?,
        content_type: row.try_get("content_type")?,
        content: row.try_get("content")?,
        suppressed_cells: row.try_get::<i32, _>("suppressed_cells")?,
        dataset_version: row.try_get("dataset_version")?,
        synthetic: row.try_get::<i32, _>("synthetic")? != 0,
    })
}

pub async fn insert_report(db: &Db, report: &ReportRecord) -> Result<(), DbError> {
    sqlx::query(&format!(
        "INSERT INTO evaluation_report ({REPORT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
    ))
    .bind(report.report_id.to_string())
    .bind(report.kind)
    .bind(report.format)
    .bind(report.scope.clone())
    .bind(report.generated_at)
    .bind(report.generated_by.clone())
    .bind(report.content_type.clone())
    .bind(report.content.clone())
    .bind(report.suppressed_cells)
    .bind(report.dataset_version.clone())
    .bind(i32::from(report.synthetic))
    .execute(db.pool())
    .await?;
    Ok(())
}

pub async fn report(db: &Db, report_id: &str) -> Result<Option<ReportRecord>, DbError> {
    let row = sqlx::query(&format!("SELECT {REPORT_COLUMNS} FROM evaluation_report WHERE report_id = $1"))
        .bind(report_id.to_owned())
        .fetch_optional(db.pool())
        .await?;
    row.as_ref().map(report_from).transpose().map_err(DbError::from)
}

/// Where a page of reports ends: the `generated_at` and id of its last report. As a page token,
/// `{generated_at}.{report_id}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportCursor {
    pub generated_at: i64,
    pub report_id: ReportId,
}

impl ReportCursor {
    pub fn after(record: &ReportRecord) -> Self {
        Self { generated_at: record.generated_at, report_id: record.report_id.clone() }
    }
}

impl fmt::Display for ReportCursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.generated_at, self.report_id)
    }
}

impl FromStr for ReportCursor {
    type Err = &'static str;

    fn from_str(token: &str) -> Result<Self, Self::Err> {
        const NOT_A_CURSOR: &str = "not a report page token";
        let (at, id) = token.split_once('.').ok_or(NOT_A_CURSOR)?;
        Ok(Self {
            generated_at: at.parse().map_err(|_| NOT_A_CURSOR)?,
            report_id: id.parse().map_err(|_| NOT_A_CURSOR)?,
        })
    }
}

/// Up to `limit` reports newest first, without content, after `after` (the last report of the
/// previous page). `kind` 0 lists every kind.
pub async fn list_reports(
    db: &Db,
    kind: i32,
    after: Option<&ReportCursor>,
    limit: i64,
) -> Result<Vec<ReportRecord>, DbError> {
    let columns = REPORT_COLUMNS.replace(" content,", " scope AS content,");
    let (at, id) = after.map_or((i64::MAX, String::new()), |c| (c.generated_at, c.report_id.to_string()));
    let rows = sqlx::query(&format!(
        "SELECT {columns} FROM evaluation_report \
         WHERE ($1 = 0 OR kind = $1) AND (generated_at < $2 OR (generated_at = $2 AND report_id < $3)) \
         ORDER BY generated_at DESC, report_id DESC LIMIT $4"
    ))
    .bind(kind)
    .bind(at)
    .bind(id)
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| {
            report_from(row).map(|mut r| {
                r.content = Vec::new();
                r
            })
        })
        .collect::<Result<_, _>>()
        .map_err(DbError::from)
}
