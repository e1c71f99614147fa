//! Every SQL statement of the evaluation service. Writes take the caller's transaction; reads take
//! the pool; instants come from the caller (the service's clock). The youth id → study id map is
//! read only to fold the data set: no RPC returns it.

mod reports;

use std::collections::HashMap;

use sqlx::Row;
use wf_db::{Db, DbError, Tx};
use wf_events::Envelope;

use crate::domain::dataset::{StoredEvent, YouthRow, new_study_id};

pub use reports::{ReportCursor, ReportRecord, insert_report, list_reports, report};

/// The stored data set of program data (a snapshot refolded by `RebuildDataset`).
pub const PROGRAM: &str = "program";
/// The stored synthetic demonstration cohort (never mixed with program data).
pub const SYNTHETIC: &str = "synthetic";

/// Stores a consumed event for later folding. False when it was stored before.
pub async fn insert_event(tx: &mut Tx, envelope: &Envelope, recorded_at: i64) -> Result<bool, DbError> {
    let result = sqlx::query(
        "INSERT INTO evaluation_event (event_id, event_type, occurred_at, recorded_at, payload) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (event_id) DO NOTHING",
    )
    .bind(envelope.event_id.to_string())
    .bind(envelope.event_type.clone())
    .bind(wf_db::to_micros(envelope.occurred_at))
    .bind(recorded_at)
    .bind(envelope.payload.clone())
    .execute(&mut **tx)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Gives `youth_id` a new random study id ([`new_study_id`]) unless it has one.
pub async fn ensure_study_id(tx: &mut Tx, youth_id: &str, assigned_at: i64) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO evaluation_study_id (youth_id, study_id, assigned_at) VALUES ($1, $2, $3) \
         ON CONFLICT (youth_id) DO NOTHING",
    )
    .bind(youth_id.to_owned())
    .bind(new_study_id())
    .bind(assigned_at)
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

/// Replaces the stored rows of `dataset` and records the build (at `built_at`).
pub async fn replace_dataset(
    tx: &mut Tx,
    dataset: &str,
    rows: &[YouthRow],
    version: &str,
    event_count: i64,
    last_event_seq: i64,
    built_at: i64,
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
    .bind(built_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
