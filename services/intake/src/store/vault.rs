//! The sealed personal parts as the key tools see them: which key version seals each, and the
//! re-sealing of a batch.

use wf_db::{Db, DbError, Tx};

/// How many sealed values name each key version.
pub async fn key_usage(db: &Db) -> Result<Vec<(i32, i64)>, DbError> {
    Ok(sqlx::query_as(
        "SELECT personal_key_version, COUNT(*) FROM referral WHERE personal_sealed IS NOT NULL \
         GROUP BY personal_key_version ORDER BY personal_key_version",
    )
    .fetch_all(db.pool())
    .await?)
}

/// How many sealed values are under a key other than `version`.
pub async fn count_not_under(db: &Db, version: i32) -> Result<u64, DbError> {
    let (count,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM referral WHERE personal_sealed IS NOT NULL AND personal_key_version <> $1",
    )
    .bind(version)
    .fetch_one(db.pool())
    .await?;
    Ok(u64::try_from(count).unwrap_or(0))
}

/// Up to `limit` (referral id, sealed value) not under key `version`, by id.
pub async fn sealed_not_under(tx: &mut Tx, version: i32, limit: i64) -> Result<Vec<(String, Vec<u8>)>, DbError> {
    Ok(sqlx::query_as(
        "SELECT id, personal_sealed FROM referral WHERE personal_sealed IS NOT NULL \
         AND personal_key_version <> $1 ORDER BY id LIMIT $2",
    )
    .bind(version)
    .bind(limit)
    .fetch_all(&mut **tx)
    .await?)
}

/// Replaces a referral's sealed value with one under key `version`.
pub async fn set_sealed(tx: &mut Tx, id: &str, sealed: &[u8], version: i32) -> Result<(), DbError> {
    sqlx::query("UPDATE referral SET personal_sealed = $1, personal_key_version = $2 WHERE id = $3")
        .bind(sealed)
        .bind(version)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
