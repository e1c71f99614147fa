//! Recorded policy loads (`routing_policy`): each load's version, document and digest.

use sqlx::Row;
use wf_db::{Db, DbError, Tx};
use wf_types::PolicyId;

/// One recorded load.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyRecord {
    pub policy_id: String,
    pub version: String,
    pub sha256: String,
    pub loaded_at: i64,
    pub loaded_by: String,
}

fn record_from_row(row: &sqlx::any::AnyRow) -> Result<PolicyRecord, DbError> {
    Ok(PolicyRecord {
        policy_id: row.try_get("policy_id")?,
        version: row.try_get("version")?,
        sha256: row.try_get("sha256")?,
        loaded_at: row.try_get("loaded_at")?,
        loaded_by: row.try_get("loaded_by")?,
    })
}

/// The most recent recorded load (the policy in force).
pub async fn latest(db: &Db) -> Result<Option<PolicyRecord>, DbError> {
    let row = sqlx::query(
        "SELECT policy_id, version, sha256, loaded_at, loaded_by FROM routing_policy \
         ORDER BY loaded_at DESC, policy_id DESC LIMIT 1",
    )
    .fetch_optional(db.pool())
    .await?;
    row.as_ref().map(record_from_row).transpose()
}

/// The most recent load by `loaded_by`.
pub async fn latest_by(db: &Db, loaded_by: &str) -> Result<Option<PolicyRecord>, DbError> {
    let row = sqlx::query(
        "SELECT policy_id, version, sha256, loaded_at, loaded_by FROM routing_policy WHERE loaded_by = $1 \
         ORDER BY loaded_at DESC, policy_id DESC LIMIT 1",
    )
    .bind(loaded_by)
    .fetch_optional(db.pool())
    .await?;
    row.as_ref().map(record_from_row).transpose()
}

/// Every recorded load, newest first (without documents).
pub async fn all(db: &Db) -> Result<Vec<PolicyRecord>, DbError> {
    let rows = sqlx::query(
        "SELECT policy_id, version, sha256, loaded_at, loaded_by FROM routing_policy \
         ORDER BY loaded_at DESC, policy_id DESC",
    )
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(record_from_row).collect()
}

/// The most recent load of `version`, with its document.
pub async fn by_version(db: &Db, version: &str) -> Result<Option<(PolicyRecord, String)>, DbError> {
    let row = sqlx::query(
        "SELECT policy_id, version, sha256, loaded_at, loaded_by, document FROM routing_policy WHERE version = $1 \
         ORDER BY loaded_at DESC, policy_id DESC LIMIT 1",
    )
    .bind(version)
    .fetch_optional(db.pool())
    .await?;
    row.map(|row| Ok((record_from_row(&row)?, row.try_get("document")?))).transpose()
}

/// The document of a recorded load.
pub async fn document_of(db: &Db, policy_id: &str) -> Result<Option<String>, DbError> {
    let row: Option<(String,)> = sqlx::query_as("SELECT document FROM routing_policy WHERE policy_id = $1")
        .bind(policy_id)
        .fetch_optional(db.pool())
        .await?;
    Ok(row.map(|(document,)| document))
}

/// Stores a load under `policy_id`, in the caller's transaction.
pub async fn insert(
    tx: &mut Tx,
    policy_id: &PolicyId,
    version: &str,
    sha256: &str,
    document: &str,
    loaded_at: i64,
    loaded_by: &str,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO routing_policy (policy_id, version, sha256, document, loaded_at, loaded_by) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(policy_id.as_str())
    .bind(version)
    .bind(sha256)
    .bind(document)
    .bind(loaded_at)
    .bind(loaded_by)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
