//! Recidivism events.

use sqlx::Row;
use wf_db::{Db, DbError, Tx};

use super::sql_limit;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecidivismRecord {
    pub recidivism_event_id: String,
    pub case_id: String,
    pub youth_id: String,
    pub kind: i32,
    pub evidence: i32,
    /// Year, month, day; month and day 0 when unknown.
    pub occurred_on: (i32, i32, i32),
    pub recorded_at: i64,
    pub recorded_by: String,
    pub evidence_id: String,
    pub charge_category: String,
    pub prostitution_related: i32,
    pub practice: bool,
}

pub async fn insert(tx: &mut Tx, record: &RecidivismRecord) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO recidivism_events (recidivism_event_id, case_id, youth_id, kind, evidence, occurred_year, \
         occurred_month, occurred_day, recorded_at, recorded_by, evidence_id, charge_category, prostitution_related, \
         practice) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(record.recidivism_event_id.clone())
    .bind(record.case_id.clone())
    .bind(record.youth_id.clone())
    .bind(i64::from(record.kind))
    .bind(i64::from(record.evidence))
    .bind(i64::from(record.occurred_on.0))
    .bind(i64::from(record.occurred_on.1))
    .bind(i64::from(record.occurred_on.2))
    .bind(record.recorded_at)
    .bind(record.recorded_by.clone())
    .bind(record.evidence_id.clone())
    .bind(record.charge_category.clone())
    .bind(i64::from(record.prostitution_related))
    .bind(i64::from(record.practice))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Events of a case or of a youth (across their cases), oldest record first.
pub async fn list(
    db: &Db,
    case_id: Option<&str>,
    youth_id: Option<&str>,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<RecidivismRecord>, DbError> {
    let rows = sqlx::query(
        "SELECT recidivism_event_id, case_id, youth_id, kind, evidence, occurred_year, occurred_month, occurred_day, \
         recorded_at, recorded_by, evidence_id, charge_category, prostitution_related, practice FROM recidivism_events \
         WHERE case_id = COALESCE($1, case_id) AND youth_id = COALESCE($2, youth_id) \
         AND recidivism_event_id > COALESCE($3, '') ORDER BY recidivism_event_id LIMIT $4",
    )
    .bind(case_id.map(str::to_owned))
    .bind(youth_id.map(str::to_owned))
    .bind(after.map(str::to_owned))
    .bind(sql_limit(limit))
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(recidivism_from_row).collect()
}

fn recidivism_from_row(row: &sqlx::any::AnyRow) -> Result<RecidivismRecord, DbError> {
    let int = |column: &str| -> Result<i32, DbError> {
        let value: i64 = row.try_get(column)?;
        Ok(i32::try_from(value).unwrap_or(0))
    };
    Ok(RecidivismRecord {
        recidivism_event_id: row.try_get("recidivism_event_id")?,
        case_id: row.try_get("case_id")?,
        youth_id: row.try_get("youth_id")?,
        kind: int("kind")?,
        evidence: int("evidence")?,
        occurred_on: (int("occurred_year")?, int("occurred_month")?, int("occurred_day")?),
        recorded_at: row.try_get("recorded_at")?,
        recorded_by: row.try_get("recorded_by")?,
        evidence_id: row.try_get("evidence_id")?,
        charge_category: row.try_get("charge_category")?,
        prostitution_related: int("prostitution_related")?,
        practice: int("practice")? != 0,
    })
}
