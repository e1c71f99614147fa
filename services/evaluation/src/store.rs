//! Every SQL statement of the evaluation service. Writes from the consumer take the caller's
//! transaction; reads take the pool.

use std::collections::HashMap;

use sqlx::Row;
use wf_db::{Db, DbError, Tx};
use wf_events::Envelope;

use crate::domain::dataset::{StoredEvent, YouthRow};

/// Stores a consumed event for later folding. False when it was stored before.
pub async fn insert_event(tx: &mut Tx, envelope: &Envelope) -> Result<bool, DbError> {
    let result = sqlx::query(
        "INSERT INTO evaluation_event (event_id, event_type, occurred_at, recorded_at, payload) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (event_id) DO NOTHING",
    )
    .bind(envelope.event_id.to_string())
    .bind(envelope.event_type.clone())
    .bind(wf_db::to_micros(envelope.occurred_at))
    .bind(wf_db::now_micros())
    .bind(envelope.payload.clone())
    .execute(&mut **tx)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// A random study id (`stu_` + UUIDv4): never derived from identity, and not time-ordered.
pub fn new_study_id() -> String {
    format!("stu_{}", uuid::Uuid::new_v4().simple())
}

/// Gives `youth_id` a study id unless it has one.
pub async fn ensure_study_id(tx: &mut Tx, youth_id: &str) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO evaluation_study_id (youth_id, study_id, assigned_at) VALUES ($1, $2, $3) \
         ON CONFLICT (youth_id) DO NOTHING",
    )
    .bind(youth_id.to_owned())
    .bind(new_study_id())
    .bind(wf_db::now_micros())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn events(db: &Db) -> Result<Vec<StoredEvent>, DbError> {
    let rows = sqlx::query("SELECT seq, event_type, occurred_at, payload FROM evaluation_event ORDER BY seq")
        .fetch_all(db.pool())
        .await?;
    rows.into_iter()
        .map(|row| {
            Ok(StoredEvent {
                seq: row.try_get("seq")?,
                event_type: row.try_get("event_type")?,
                occurred_at: row.try_get("occurred_at")?,
                payload: row.try_get("payload")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(DbError::from)
}

pub async fn study_ids(db: &Db) -> Result<HashMap<String, String>, DbError> {
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT youth_id, study_id FROM evaluation_study_id").fetch_all(db.pool()).await?;
    Ok(rows.into_iter().collect())
}

/// Number of youth with a study id (the program data set is empty without any).
pub async fn program_youth(db: &Db) -> Result<i64, DbError> {
    let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM evaluation_study_id").fetch_one(db.pool()).await?;
    Ok(count)
}

/// Rows of a stored data set ("program" snapshot or "synthetic" cohort).
pub async fn rows(db: &Db, dataset: &str) -> Result<Vec<YouthRow>, DbError> {
    let rows: Vec<(String,)> =
        sqlx::query_as("SELECT row_json FROM evaluation_youth WHERE dataset = $1 ORDER BY study_id")
            .bind(dataset.to_owned())
            .fetch_all(db.pool())
            .await?;
    rows.into_iter()
        .map(|(json,)| {
            serde_json::from_str(&json)
                .map_err(|err| DbError::Config { message: format!("stored evaluation row does not decode: {err}") })
        })
        .collect()
}

/// The latest build of a data set.
#[derive(Debug, Clone, PartialEq)]
pub struct DatasetInfo {
    pub version: String,
    pub youth_count: i64,
}

pub async fn dataset_info(db: &Db, dataset: &str) -> Result<Option<DatasetInfo>, DbError> {
    let row: Option<(String, i64)> =
        sqlx::query_as("SELECT dataset_version, youth_count FROM evaluation_dataset WHERE dataset = $1")
            .bind(dataset.to_owned())
            .fetch_optional(db.pool())
            .await?;
    Ok(row.map(|(version, youth_count)| DatasetInfo { version, youth_count }))
}

/// Replaces the stored rows of `dataset` and records the build.
pub async fn replace_dataset(
    tx: &mut Tx,
    dataset: &str,
    rows: &[YouthRow],
    version: &str,
    event_count: i64,
    last_event_seq: i64,
) -> Result<(), DbError> {
    sqlx::query("DELETE FROM evaluation_youth WHERE dataset = $1").bind(dataset.to_owned()).execute(&mut **tx).await?;
    for row in rows {
        let json = serde_json::to_string(row)
            .map_err(|err| DbError::Config { message: format!("cannot encode an evaluation row: {err}") })?;
        sqlx::query("INSERT INTO evaluation_youth (dataset, study_id, row_json) VALUES ($1, $2, $3)")
            .bind(dataset.to_owned())
            .bind(row.study_id.clone())
            .bind(json)
            .execute(&mut **tx)
            .await?;
    }
    sqlx::query("DELETE FROM evaluation_dataset WHERE dataset = $1")
        .bind(dataset.to_owned())
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "INSERT INTO evaluation_dataset (dataset, dataset_version, youth_count, event_count, last_event_seq, built_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(dataset.to_owned())
    .bind(version.to_owned())
    .bind(i64::try_from(rows.len()).unwrap_or(i64::MAX))
    .bind(event_count)
    .bind(last_event_seq)
    .bind(wf_db::now_micros())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A stored report.
#[derive(Debug, Clone)]
pub struct ReportRecord {
    pub report_id: String,
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
        report_id: row.try_get("report_id")?,
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
    .bind(report.report_id.clone())
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

/// Reports newest first, without content; `before` is the (generated_at, report_id) of the last
/// report of the previous page. `kind` 0 lists every kind.
pub async fn list_reports(
    db: &Db,
    kind: i32,
    before: Option<(i64, String)>,
    limit: i64,
) -> Result<Vec<ReportRecord>, DbError> {
    let columns = REPORT_COLUMNS.replace(" content,", " scope AS content,");
    let (at, id) = before.unwrap_or((i64::MAX, String::new()));
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
