//! Mandated reports and the overdue notices already sent.

use wf_db::{Db, DbError, Tx};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReportRow {
    pub id: String,
    pub referral_id: String,
    pub agency: i32,
    pub reported_at: i64,
    pub written_report_at: Option<i64>,
    pub written_report_due: i64,
    pub agency_reference: String,
    pub reporter_id: String,
    pub practice: i32,
}

const COLUMNS: &str = "id, referral_id, agency, reported_at, written_report_at, written_report_due, agency_reference, \
                       reporter_id, practice";

pub async fn insert(tx: &mut Tx, row: &ReportRow, created_at: i64) -> Result<(), DbError> {
    sqlx::query(&format!(
        "INSERT INTO mandated_report ({COLUMNS}, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
    ))
    .bind(&row.id)
    .bind(&row.referral_id)
    .bind(row.agency)
    .bind(row.reported_at)
    .bind(row.written_report_at)
    .bind(row.written_report_due)
    .bind(&row.agency_reference)
    .bind(&row.reporter_id)
    .bind(row.practice)
    .bind(created_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn get(tx: &mut Tx, id: &str) -> Result<Option<ReportRow>, DbError> {
    Ok(sqlx::query_as(&format!("SELECT {COLUMNS} FROM mandated_report WHERE id = $1"))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?)
}

/// Records the written report (and the agency reference when given); returns the updated row.
pub async fn record_written(tx: &mut Tx, id: &str, at: i64, agency_reference: &str) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE mandated_report SET written_report_at = $1, \
         agency_reference = CASE WHEN $2 = '' THEN agency_reference ELSE $2 END WHERE id = $3",
    )
    .bind(at)
    .bind(agency_reference)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn list(
    db: &Db,
    referral_id: &str,
    overdue_at: Option<i64>,
    after_id: &str,
    limit: i64,
) -> Result<Vec<ReportRow>, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM mandated_report WHERE id > $1 AND ($2 = '' OR referral_id = $2) \
         AND ($3 = 0 OR (written_report_at IS NULL AND written_report_due < $3)) ORDER BY id LIMIT $4"
    ))
    .bind(after_id)
    .bind(referral_id)
    .bind(overdue_at.unwrap_or(0))
    .bind(limit)
    .fetch_all(db.pool())
    .await?)
}

/// A minor's referral whose mandated report is overdue at the instant given.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Overdue {
    pub referral_id: String,
    /// Empty when no initial report exists.
    pub report_id: String,
    pub stage: String,
    pub due: i64,
    pub practice: i32,
}

/// Minors' referrals received before `received_before` with no report at all, and reports whose written
/// report was due before `now` and is missing; minus notices already sent.
pub async fn overdue(db: &Db, now: i64, received_before: i64) -> Result<Vec<Overdue>, DbError> {
    Ok(sqlx::query_as(
        "SELECT r.id AS referral_id, '' AS report_id, 'initial' AS stage, r.received_at + $3 AS due, r.practice \
         FROM referral r WHERE r.is_minor = 1 AND r.received_at < $2 \
         AND NOT EXISTS (SELECT 1 FROM mandated_report m WHERE m.referral_id = r.id) \
         AND NOT EXISTS (SELECT 1 FROM mandated_report_overdue o WHERE o.referral_id = r.id AND o.stage = 'initial') \
         UNION ALL \
         SELECT m.referral_id, m.id AS report_id, 'written' AS stage, m.written_report_due AS due, m.practice \
         FROM mandated_report m WHERE m.written_report_at IS NULL AND m.written_report_due < $1 \
         AND NOT EXISTS (SELECT 1 FROM mandated_report_overdue o WHERE o.referral_id = m.referral_id AND o.stage = 'written') \
         ORDER BY referral_id",
    )
    .bind(now)
    .bind(received_before)
    .bind(now - received_before)
    .fetch_all(db.pool())
    .await?)
}

/// Notes a notice as sent; `false` when it already was (so it is announced once).
pub async fn mark_sent(tx: &mut Tx, referral_id: &str, stage: &str, at: i64) -> Result<bool, DbError> {
    let result = sqlx::query(
        "INSERT INTO mandated_report_overdue (referral_id, stage, sent_at) VALUES ($1, $2, $3) \
         ON CONFLICT (referral_id, stage) DO NOTHING",
    )
    .bind(referral_id)
    .bind(stage)
    .bind(at)
    .execute(&mut **tx)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// (is minor 0/1, practice 0/1, received at) of a referral.
pub async fn referral_facts(tx: &mut Tx, referral_id: &str) -> Result<Option<(i32, i32, i64)>, DbError> {
    Ok(sqlx::query_as("SELECT is_minor, practice, received_at FROM referral WHERE id = $1")
        .bind(referral_id)
        .fetch_optional(&mut **tx)
        .await?)
}
