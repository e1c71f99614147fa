//! Consent release rows.

use wf_db::{Db, DbError, Tx};

/// A release as stored: the recorded protobuf plus the columns that decide whether it is active.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReleaseRow {
    pub id: String,
    pub referral_id: String,
    pub youth_id: String,
    pub recipient_organization_id: String,
    pub purpose: String,
    pub signed_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
    pub practice: i32,
    pub coded: Vec<u8>,
}

const COLUMNS: &str =
    "id, referral_id, youth_id, recipient_organization_id, purpose, signed_at, expires_at, revoked_at, practice, coded";

pub async fn insert(tx: &mut Tx, row: &ReleaseRow, created_at: i64) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO consent_release (id, referral_id, youth_id, recipient_organization_id, purpose, signed_at, \
         expires_at, revoked_at, practice, coded, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(&row.id)
    .bind(&row.referral_id)
    .bind(&row.youth_id)
    .bind(&row.recipient_organization_id)
    .bind(&row.purpose)
    .bind(row.signed_at)
    .bind(row.expires_at)
    .bind(row.revoked_at)
    .bind(row.practice)
    .bind(row.coded.clone())
    .bind(created_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn get(db: &Db, id: &str) -> Result<Option<ReleaseRow>, DbError> {
    Ok(sqlx::query_as(&format!("SELECT {COLUMNS} FROM consent_release WHERE id = $1"))
        .bind(id)
        .fetch_optional(db.pool())
        .await?)
}

/// Sets the revocation instant unless already revoked; returns whether this call revoked it.
pub async fn revoke(tx: &mut Tx, id: &str, at: i64, reason: &str) -> Result<bool, DbError> {
    let result = sqlx::query(
        "UPDATE consent_release SET revoked_at = $1, revoke_reason = $2 WHERE id = $3 AND revoked_at IS NULL",
    )
    .bind(at)
    .bind(reason)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(result.rows_affected() == 1)
}

pub struct ListFilter<'a> {
    pub referral_id: &'a str,
    pub youth_id: &'a str,
    pub recipient: &'a str,
    pub active_at: Option<i64>,
    pub after_id: &'a str,
    pub limit: i64,
}

pub async fn list(db: &Db, filter: &ListFilter<'_>) -> Result<Vec<ReleaseRow>, DbError> {
    let active = filter.active_at.unwrap_or(0);
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM consent_release \
         WHERE id > $1 AND ($2 = '' OR referral_id = $2) AND ($3 = '' OR youth_id = $3) \
         AND ($4 = '' OR recipient_organization_id = $4) \
         AND ($5 = 0 OR (signed_at <= $5 AND expires_at > $5 AND (revoked_at IS NULL OR revoked_at > $5))) \
         ORDER BY id LIMIT $6"
    ))
    .bind(filter.after_id)
    .bind(filter.referral_id)
    .bind(filter.youth_id)
    .bind(filter.recipient)
    .bind(active)
    .bind(filter.limit)
    .fetch_all(db.pool())
    .await?)
}

/// Every release of one referral to one partner (active or not; the caller decides with the rules).
pub async fn for_partner(db: &Db, referral_id: &str, partner: &str) -> Result<Vec<ReleaseRow>, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM consent_release WHERE referral_id = $1 AND recipient_organization_id = $2 ORDER BY id"
    ))
    .bind(referral_id)
    .bind(partner)
    .fetch_all(db.pool())
    .await?)
}
