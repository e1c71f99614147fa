//! Interventions delivered and service plan goals.

use sqlx::Row;
use wf_db::{Db, DbError, Tx};

use super::sql_limit;

/// An intervention as stored (dates as ISO text).
#[derive(Debug, Clone, PartialEq)]
pub struct InterventionRecord {
    pub intervention_id: String,
    pub case_id: String,
    pub referral_id: String,
    pub service_type: String,
    pub delivered_on: String,
    pub units: f64,
    pub unit_type: i32,
    pub provider_id: String,
    pub partner_service_id: String,
    pub engagement_approach: String,
    pub recorded_by: String,
    pub recorded_at: i64,
    pub goal_id: String,
    pub practice: bool,
    /// When its recorder withdrew it (`WithdrawIntervention`); `None` while it stands.
    pub withdrawn_at: Option<i64>,
}

/// A plan goal as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoalRecord {
    pub goal_id: String,
    pub case_id: String,
    pub domain: String,
    pub planned_service_types: Vec<String>,
    pub status: i32,
    pub target_date: Option<String>,
    pub description: String,
    pub created_at: i64,
    pub updated_at: i64,
}

pub async fn insert_intervention(tx: &mut Tx, record: &InterventionRecord) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO interventions (intervention_id, case_id, referral_id, service_type, delivered_on, units, \
         unit_type, provider_id, partner_service_id, engagement_approach, recorded_by, recorded_at, goal_id, practice) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(record.intervention_id.clone())
    .bind(record.case_id.clone())
    .bind(record.referral_id.clone())
    .bind(record.service_type.clone())
    .bind(record.delivered_on.clone())
    .bind(record.units)
    .bind(i64::from(record.unit_type))
    .bind(record.provider_id.clone())
    .bind(record.partner_service_id.clone())
    .bind(record.engagement_approach.clone())
    .bind(record.recorded_by.clone())
    .bind(record.recorded_at)
    .bind(record.goal_id.clone())
    .bind(i64::from(record.practice))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Up to `limit` interventions of a case with ids after `after`, in id (= creation) order.
pub async fn list_interventions(
    db: &Db,
    case_id: &str,
    provider_id: Option<&str>,
    service_type: Option<&str>,
    delivered: (Option<String>, Option<String>),
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<InterventionRecord>, DbError> {
    // Unused filters compare a column with itself, so the statement text stays fixed.
    let rows = sqlx::query(&format!(
        "SELECT {INTERVENTION_COLUMNS} FROM interventions \
         WHERE case_id = $1 AND withdrawn_at IS NULL AND provider_id = COALESCE($2, provider_id) \
         AND service_type = COALESCE($3, service_type) AND intervention_id > COALESCE($4, '') \
         AND delivered_on >= COALESCE($5, delivered_on) AND delivered_on < COALESCE($6, '9999-99-99') \
         ORDER BY intervention_id LIMIT $7"
    ))
    .bind(case_id)
    .bind(provider_id.map(str::to_owned))
    .bind(service_type.map(str::to_owned))
    .bind(after.map(str::to_owned))
    // ISO dates compare in calendar order as text; the range is half-open [from, until).
    .bind(delivered.0)
    .bind(delivered.1)
    .bind(sql_limit(limit))
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(intervention_from_row).collect()
}

const INTERVENTION_COLUMNS: &str = "intervention_id, case_id, referral_id, service_type, delivered_on, units, \
     unit_type, provider_id, partner_service_id, engagement_approach, recorded_by, recorded_at, goal_id, practice, \
     withdrawn_at";

fn intervention_from_row(row: &sqlx::any::AnyRow) -> Result<InterventionRecord, DbError> {
    let unit_type: i64 = row.try_get("unit_type")?;
    let practice: i64 = row.try_get("practice")?;
    Ok(InterventionRecord {
        intervention_id: row.try_get("intervention_id")?,
        case_id: row.try_get("case_id")?,
        referral_id: row.try_get("referral_id")?,
        service_type: row.try_get("service_type")?,
        delivered_on: row.try_get("delivered_on")?,
        units: row.try_get("units")?,
        unit_type: i32::try_from(unit_type).unwrap_or(0),
        provider_id: row.try_get("provider_id")?,
        partner_service_id: row.try_get("partner_service_id")?,
        engagement_approach: row.try_get("engagement_approach")?,
        recorded_by: row.try_get("recorded_by")?,
        recorded_at: row.try_get("recorded_at")?,
        goal_id: row.try_get("goal_id")?,
        practice: practice != 0,
        withdrawn_at: row.try_get("withdrawn_at")?,
    })
}

/// The intervention (withdrawn or not), read and locked inside a transaction (`FOR UPDATE` on
/// PostgreSQL; SQLite has one writer at a time).
pub async fn lock_intervention_in(
    tx: &mut Tx,
    backend: wf_db::Backend,
    intervention_id: &str,
) -> Result<Option<InterventionRecord>, DbError> {
    let lock = if backend == wf_db::Backend::Postgres { " FOR UPDATE" } else { "" };
    let row =
        sqlx::query(&format!("SELECT {INTERVENTION_COLUMNS} FROM interventions WHERE intervention_id = $1{lock}"))
            .bind(intervention_id.to_owned())
            .fetch_optional(&mut **tx)
            .await?;
    row.as_ref().map(intervention_from_row).transpose()
}

/// Marks the intervention withdrawn at `at` by `by`; `false` when it already was.
pub async fn withdraw_intervention(tx: &mut Tx, intervention_id: &str, at: i64, by: &str) -> Result<bool, DbError> {
    let updated = sqlx::query(
        "UPDATE interventions SET withdrawn_at = $1, withdrawn_by = $2 WHERE intervention_id = $3 AND withdrawn_at IS NULL",
    )
    .bind(at)
    .bind(by.to_owned())
    .bind(intervention_id.to_owned())
    .execute(&mut **tx)
    .await?;
    Ok(updated.rows_affected() == 1)
}

/// The goal, read inside a transaction (to update it).
pub async fn goal_in(tx: &mut Tx, goal_id: &str) -> Result<Option<GoalRecord>, DbError> {
    let row = sqlx::query(&format!("SELECT {GOAL_COLUMNS} FROM service_plan_goals WHERE goal_id = $1"))
        .bind(goal_id)
        .fetch_optional(&mut **tx)
        .await?;
    row.as_ref().map(goal_from_row).transpose()
}

/// Inserts the goal in its case's current episode, or replaces everything but its case, episode
/// and creation instant.
pub async fn upsert_goal(tx: &mut Tx, goal: &GoalRecord) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO service_plan_goals (goal_id, case_id, domain, planned_service_types, status, target_date, \
         description, created_at, updated_at, episode) SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, \
         COALESCE(MAX(episode), 0) FROM case_referrals WHERE case_id = $2 \
         ON CONFLICT (goal_id) DO UPDATE SET domain = excluded.domain, \
         planned_service_types = excluded.planned_service_types, status = excluded.status, \
         target_date = excluded.target_date, description = excluded.description, updated_at = excluded.updated_at",
    )
    .bind(goal.goal_id.clone())
    .bind(goal.case_id.clone())
    .bind(goal.domain.clone())
    .bind(goal.planned_service_types.join(","))
    .bind(i64::from(goal.status))
    .bind(goal.target_date.clone())
    .bind(goal.description.clone())
    .bind(goal.created_at)
    .bind(goal.updated_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Whether `goal_id` is a goal of the case's current episode.
pub async fn is_current_goal(tx: &mut Tx, case_id: &str, goal_id: &str) -> Result<bool, DbError> {
    let row = sqlx::query(&format!(
        "SELECT goal_id FROM service_plan_goals WHERE goal_id = $1 AND case_id = $2 AND {IN_CURRENT_EPISODE}"
    ))
    .bind(goal_id.to_owned())
    .bind(case_id.to_owned())
    .fetch_optional(&mut **tx)
    .await?;
    Ok(row.is_some())
}

const GOAL_COLUMNS: &str =
    "goal_id, case_id, domain, planned_service_types, status, target_date, description, created_at, updated_at";

/// The goals of a case's current episode, as a condition on a `service_plan_goals` row.
const IN_CURRENT_EPISODE: &str = "service_plan_goals.episode = (SELECT COALESCE(MAX(cr.episode), 0) \
     FROM case_referrals cr WHERE cr.case_id = service_plan_goals.case_id)";

/// Which goals of a case [`list_goals`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Goals {
    /// Every episode's (staff).
    All,
    /// Only the case's current episode's (a partner serving it).
    CurrentEpisode,
}

/// Up to `limit` goals of a case with ids after `after`, in id order.
pub async fn list_goals(
    db: &Db,
    case_id: &str,
    goals: Goals,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<GoalRecord>, DbError> {
    let episode = match goals {
        Goals::All => String::new(),
        Goals::CurrentEpisode => format!(" AND {IN_CURRENT_EPISODE}"),
    };
    let rows = sqlx::query(&format!(
        "SELECT {GOAL_COLUMNS} FROM service_plan_goals WHERE case_id = $1 AND goal_id > COALESCE($2, ''){episode} \
         ORDER BY goal_id LIMIT $3"
    ))
    .bind(case_id)
    .bind(after.map(str::to_owned))
    .bind(sql_limit(limit))
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(goal_from_row).collect()
}

fn goal_from_row(row: &sqlx::any::AnyRow) -> Result<GoalRecord, DbError> {
    let planned: String = row.try_get("planned_service_types")?;
    let status: i64 = row.try_get("status")?;
    Ok(GoalRecord {
        goal_id: row.try_get("goal_id")?,
        case_id: row.try_get("case_id")?,
        domain: row.try_get("domain")?,
        planned_service_types: planned.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
        status: i32::try_from(status).unwrap_or(0),
        target_date: row.try_get("target_date")?,
        description: row.try_get("description")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}
