//! Lifecycle writes: the case's stage and facts, the stage history, missing episodes.

use sqlx::Row;
use wf_db::{DbError, Tx};
use wf_proto::cases::v1::CaseStage;

use crate::domain::{self, lifecycle::MissingEpisode};
use crate::store::LifecycleFacts;

/// One move of a case, as recorded in `case_stage_history`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageMove {
    pub case_id: String,
    pub from: CaseStage,
    pub to: CaseStage,
    pub effective_at: i64,
    pub reason: String,
    pub recorded_by: String,
    pub recorded_at: i64,
}

/// A missing episode; `ended_at` is empty while the youth is still missing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingEpisodeRecord {
    pub started_at: i64,
    pub ended_at: Option<i64>,
}

/// Moves the case to `step.to` with `facts`, records the move, and opens or ends a missing
/// episode. `false` when the case was no longer in `step.from` (a concurrent move won).
pub async fn apply(tx: &mut Tx, step: &StageMove, facts: &LifecycleFacts) -> Result<bool, DbError> {
    let updated = sqlx::query(
        "UPDATE cases SET stage = $1, enrolled_at = $2, assessment_due = $3, assessed_at = $4, exited_at = $5, \
         closed_at = $6, closure_reason = $7, exit_living_situation = $8, reopen_count = $9, updated_at = $10, \
         updated_by = $13 WHERE case_id = $11 AND stage = $12",
    )
    .bind(domain::stage_code(step.to))
    .bind(facts.enrolled_at)
    .bind(facts.assessment_due)
    .bind(facts.assessed_at)
    .bind(facts.exited_at)
    .bind(facts.closed_at)
    .bind(i64::from(facts.closure_reason))
    .bind(i64::from(facts.exit_living_situation))
    .bind(i64::from(facts.reopen_count))
    .bind(step.recorded_at)
    .bind(step.case_id.clone())
    .bind(domain::stage_code(step.from))
    .bind(step.recorded_by.clone())
    .execute(&mut **tx)
    .await?;
    if updated.rows_affected() != 1 {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO case_stage_history (case_id, from_stage, to_stage, effective_at, reason, recorded_by, recorded_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(step.case_id.clone())
    .bind(domain::stage_code(step.from))
    .bind(domain::stage_code(step.to))
    .bind(step.effective_at)
    .bind(step.reason.clone())
    .bind(step.recorded_by.clone())
    .bind(step.recorded_at)
    .execute(&mut **tx)
    .await?;
    match domain::lifecycle::missing_episode(step.from, step.to) {
        MissingEpisode::Starts => {
            sqlx::query("INSERT INTO case_missing_episodes (case_id, started_at) VALUES ($1, $2)")
                .bind(step.case_id.clone())
                .bind(step.effective_at)
                .execute(&mut **tx)
                .await?;
        }
        MissingEpisode::Ends => {
            sqlx::query("UPDATE case_missing_episodes SET ended_at = $1 WHERE case_id = $2 AND ended_at IS NULL")
                .bind(step.effective_at)
                .bind(step.case_id.clone())
                .execute(&mut **tx)
                .await?;
        }
        MissingEpisode::Unchanged => {}
    }
    Ok(true)
}

/// Missing episodes of a case, oldest first.
pub async fn missing_episodes(db: &wf_db::Db, case_id: &str) -> Result<Vec<MissingEpisodeRecord>, DbError> {
    let rows = sqlx::query("SELECT started_at, ended_at FROM case_missing_episodes WHERE case_id = $1 ORDER BY id")
        .bind(case_id)
        .fetch_all(db.pool())
        .await?;
    rows.iter()
        .map(|row| {
            Ok(MissingEpisodeRecord { started_at: row.try_get("started_at")?, ended_at: row.try_get("ended_at")? })
        })
        .collect()
}

/// Up to `limit` moves of a case, oldest first, each with its row number; only those after row
/// `after` (the last row number of the previous page) when given.
pub async fn history_page(
    db: &wf_db::Db,
    case_id: &str,
    after: Option<i64>,
    limit: usize,
) -> Result<Vec<(i64, StageMove)>, DbError> {
    let rows = sqlx::query(
        "SELECT id, case_id, from_stage, to_stage, effective_at, reason, recorded_by, recorded_at \
         FROM case_stage_history WHERE case_id = $1 AND id > $2 ORDER BY id LIMIT $3",
    )
    .bind(case_id)
    .bind(after.unwrap_or(0))
    .bind(super::sql_limit(limit))
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(|row| Ok((row.try_get("id")?, stage_move(row)?))).collect()
}

/// The moves of a case, oldest first.
pub async fn history(db: &wf_db::Db, case_id: &str) -> Result<Vec<StageMove>, DbError> {
    let rows = sqlx::query(
        "SELECT case_id, from_stage, to_stage, effective_at, reason, recorded_by, recorded_at \
         FROM case_stage_history WHERE case_id = $1 ORDER BY id",
    )
    .bind(case_id)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(stage_move).collect()
}

fn stage_move(row: &sqlx::any::AnyRow) -> Result<StageMove, DbError> {
    let stage = |column: &str| -> Result<CaseStage, DbError> {
        let code: String = row.try_get(column)?;
        domain::stage_from_code(&code).ok_or_else(|| super::corrupt(column, &code))
    };
    Ok(StageMove {
        case_id: row.try_get("case_id")?,
        from: stage("from_stage")?,
        to: stage("to_stage")?,
        effective_at: row.try_get("effective_at")?,
        reason: row.try_get("reason")?,
        recorded_by: row.try_get("recorded_by")?,
        recorded_at: row.try_get("recorded_at")?,
    })
}
