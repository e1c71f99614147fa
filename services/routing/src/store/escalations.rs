//! Escalations: referrals routing could not place, waiting for a person, and how each was resolved.

use sqlx::Row;
use sqlx::any::AnyRow;
use wf_db::{Db, DbError, Tx};
use wf_proto::common::v1::{Site, TriageTier};
use wf_proto::routing::v1::EscalationReason;

use super::corrupt;
use crate::domain::{site_code, site_from_code, tier_code, tier_from_code};

/// One stored escalation.
#[derive(Debug, Clone, PartialEq)]
pub struct EscalationRecord {
    pub escalation_id: String,
    pub referral_id: String,
    pub reason: EscalationReason,
    pub triage_tier: TriageTier,
    pub site: Site,
    pub escalated_at: i64,
    pub deadline: i64,
    pub decision_id: String,
    pub practice: bool,
}

fn escalation_reason_code(reason: EscalationReason) -> String {
    reason.as_str_name().trim_start_matches("ESCALATION_REASON_").to_lowercase()
}

pub async fn insert_escalation(tx: &mut Tx, record: &EscalationRecord) -> Result<(), DbError> {
    insert(tx, record, "").await.map(|_| ())
}

/// Inserts the escalation of a missed time limit unless the referral already has one for the
/// same reason (a unique index keeps one per referral and reason); `false` when it had.
pub async fn insert_time_limit_escalation(tx: &mut Tx, record: &EscalationRecord) -> Result<bool, DbError> {
    insert(tx, record, " ON CONFLICT DO NOTHING").await.map(|inserted| inserted == 1)
}

async fn insert(tx: &mut Tx, record: &EscalationRecord, on_conflict: &str) -> Result<u64, DbError> {
    let result = sqlx::query(&format!(
        "INSERT INTO routing_escalation (escalation_id, referral_id, reason, triage_tier, site, escalated_at, \
         deadline, decision_id, practice) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9){on_conflict}"
    ))
    .bind(&record.escalation_id)
    .bind(&record.referral_id)
    .bind(escalation_reason_code(record.reason))
    .bind(tier_code(record.triage_tier))
    .bind(site_code(record.site))
    .bind(record.escalated_at)
    .bind(record.deadline)
    .bind(&record.decision_id)
    .bind(i32::from(record.practice))
    .execute(&mut **tx)
    .await?;
    Ok(result.rows_affected())
}

/// An escalation with how it was resolved (`None`s while it is open).
#[derive(Debug, Clone, PartialEq)]
pub struct EscalationRow {
    pub record: EscalationRecord,
    pub resolved_at: Option<i64>,
    pub resolved_by: Option<String>,
    pub resolution: Option<String>,
}

/// Filters of [`list_escalations`]; `None` matches everything.
#[derive(Debug, Clone, Default)]
pub struct EscalationFilter {
    pub open_only: bool,
    pub site: Option<Site>,
    pub triage_tier: Option<TriageTier>,
}

const ESCALATION_COLUMNS: &str = "escalation_id, referral_id, reason, triage_tier, site, escalated_at, deadline, \
     decision_id, practice, resolved_at, resolved_by, resolution";

fn escalation_from_row(row: &AnyRow) -> Result<EscalationRow, DbError> {
    let reason: String = row.try_get("reason")?;
    let tier: String = row.try_get("triage_tier")?;
    let site: String = row.try_get("site")?;
    Ok(EscalationRow {
        record: EscalationRecord {
            escalation_id: row.try_get("escalation_id")?,
            referral_id: row.try_get("referral_id")?,
            reason: EscalationReason::from_str_name(&format!("ESCALATION_REASON_{}", reason.to_uppercase()))
                .ok_or_else(|| corrupt("routing_escalation.reason", &reason))?,
            triage_tier: tier_from_code(&tier).ok_or_else(|| corrupt("routing_escalation.triage_tier", &tier))?,
            site: site_from_code(&site).ok_or_else(|| corrupt("routing_escalation.site", &site))?,
            escalated_at: row.try_get("escalated_at")?,
            deadline: row.try_get("deadline")?,
            decision_id: row.try_get("decision_id")?,
            practice: row.try_get::<i64, _>("practice")? != 0,
        },
        resolved_at: row.try_get("resolved_at")?,
        resolved_by: row.try_get("resolved_by")?,
        resolution: row.try_get("resolution")?,
    })
}

/// Up to `limit` escalations matching `filter` with ids after `after_escalation_id`, oldest first.
pub async fn list_escalations(
    db: &Db,
    filter: &EscalationFilter,
    after_escalation_id: &str,
    limit: i64,
) -> Result<Vec<EscalationRow>, DbError> {
    let rows = sqlx::query(&format!(
        "SELECT {ESCALATION_COLUMNS} FROM routing_escalation WHERE escalation_id > $1 \
         AND ($2 = 0 OR resolved_at IS NULL) AND ($3 = '' OR site = $3) AND ($4 = '' OR triage_tier = $4) \
         ORDER BY escalation_id LIMIT $5"
    ))
    .bind(after_escalation_id)
    .bind(i32::from(filter.open_only))
    .bind(filter.site.map(site_code).unwrap_or_default())
    .bind(filter.triage_tier.map(tier_code).unwrap_or_default())
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(escalation_from_row).collect()
}

/// One escalation, read through the pool (`db.pool()`) or inside a transaction (`&mut **tx`).
pub async fn get_escalation<'e>(
    executor: impl sqlx::Executor<'e, Database = sqlx::Any>,
    escalation_id: &str,
) -> Result<Option<EscalationRow>, DbError> {
    let row = sqlx::query(&format!("SELECT {ESCALATION_COLUMNS} FROM routing_escalation WHERE escalation_id = $1"))
        .bind(escalation_id)
        .fetch_optional(executor)
        .await?;
    row.as_ref().map(escalation_from_row).transpose()
}

/// Escalations of a referral, oldest first.
pub async fn escalations_of(db: &Db, referral_id: &str) -> Result<Vec<EscalationRecord>, DbError> {
    let rows = sqlx::query(&format!(
        "SELECT {ESCALATION_COLUMNS} FROM routing_escalation WHERE referral_id = $1 ORDER BY escalation_id"
    ))
    .bind(referral_id)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(|row| escalation_from_row(row).map(|escalation| escalation.record)).collect()
}

/// Open escalations of a referral, oldest first.
pub async fn open_escalations_of(tx: &mut Tx, referral_id: &str) -> Result<Vec<EscalationRow>, DbError> {
    let rows = sqlx::query(&format!(
        "SELECT {ESCALATION_COLUMNS} FROM routing_escalation WHERE referral_id = $1 AND resolved_at IS NULL \
         ORDER BY escalation_id"
    ))
    .bind(referral_id)
    .fetch_all(&mut **tx)
    .await?;
    rows.iter().map(escalation_from_row).collect()
}

/// Moves an open escalation's deadline earlier and gives it the tier that asked for it; `false` when
/// it is resolved or its deadline is already that early (nothing changed). Never moves one later.
pub async fn raise_escalation(
    tx: &mut Tx,
    escalation_id: &str,
    tier: TriageTier,
    deadline: i64,
) -> Result<bool, DbError> {
    let result = sqlx::query(
        "UPDATE routing_escalation SET deadline = $1, triage_tier = $2 \
         WHERE escalation_id = $3 AND resolved_at IS NULL AND deadline > $1",
    )
    .bind(deadline)
    .bind(tier_code(tier))
    .bind(escalation_id)
    .execute(&mut **tx)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Marks an open escalation resolved; `false` when it was resolved already (nothing changed).
pub async fn resolve_escalation(
    tx: &mut Tx,
    escalation_id: &str,
    at: i64,
    by: &str,
    resolution: &str,
) -> Result<bool, DbError> {
    let result = sqlx::query(
        "UPDATE routing_escalation SET resolved_at = $1, resolved_by = $2, resolution = $3 \
         WHERE escalation_id = $4 AND resolved_at IS NULL",
    )
    .bind(at)
    .bind(by)
    .bind(resolution)
    .bind(escalation_id)
    .execute(&mut **tx)
    .await?;
    Ok(result.rows_affected() == 1)
}
