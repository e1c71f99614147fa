//! Engagement writes and reads: readiness (on the case, with its history) and contact attempts.

use sqlx::Row;
use wf_db::{Db, DbError, Tx};

use super::sql_limit;

/// One contact attempt as stored: codes and ids only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactAttemptRecord {
    pub contact_attempt_id: String,
    pub case_id: String,
    pub referral_id: String,
    pub attempted_at: i64,
    /// `ContactChannel` number.
    pub channel: i32,
    pub engagement_approach: String,
    /// `ContactOutcome` number.
    pub outcome: i32,
    pub attempted_by: String,
    pub organization_id: String,
    pub first_contact: bool,
    pub recorded_at: i64,
    pub practice: bool,
}

/// Sets the case's readiness from `effective_at` and adds it to the history.
pub async fn set_readiness(
    tx: &mut Tx,
    case_id: &str,
    readiness_code: &str,
    effective_at: i64,
    recorded_by: &str,
    now: i64,
) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE cases SET readiness = $1, readiness_since = $2, updated_at = $3, updated_by = $4 WHERE case_id = $5",
    )
    .bind(readiness_code.to_owned())
    .bind(effective_at)
    .bind(now)
    .bind(recorded_by.to_owned())
    .bind(case_id.to_owned())
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "INSERT INTO case_readiness_history (case_id, readiness, effective_at, recorded_by, recorded_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(case_id.to_owned())
    .bind(readiness_code.to_owned())
    .bind(effective_at)
    .bind(recorded_by.to_owned())
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Readiness states of a case, oldest first: (code, effective_at).
pub async fn readiness_history(db: &Db, case_id: &str) -> Result<Vec<(String, i64)>, DbError> {
    let rows = sqlx::query("SELECT readiness, effective_at FROM case_readiness_history WHERE case_id = $1 ORDER BY id")
        .bind(case_id.to_owned())
        .fetch_all(db.pool())
        .await?;
    rows.iter().map(|row| Ok((row.try_get("readiness")?, row.try_get("effective_at")?))).collect()
}

/// Stores an attempt; a first contact also becomes the case's `first_contact_at`.
pub async fn insert_attempt(tx: &mut Tx, attempt: &ContactAttemptRecord) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO contact_attempts (contact_attempt_id, case_id, referral_id, attempted_at, channel, \
         engagement_approach, outcome, attempted_by, organization_id, first_contact, recorded_at, practice) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(attempt.contact_attempt_id.clone())
    .bind(attempt.case_id.clone())
    .bind(attempt.referral_id.clone())
    .bind(attempt.attempted_at)
    .bind(i64::from(attempt.channel))
    .bind(attempt.engagement_approach.clone())
    .bind(i64::from(attempt.outcome))
    .bind(attempt.attempted_by.clone())
    .bind(attempt.organization_id.clone())
    .bind(i64::from(attempt.first_contact))
    .bind(attempt.recorded_at)
    .bind(i64::from(attempt.practice))
    .execute(&mut **tx)
    .await?;
    if attempt.first_contact {
        sqlx::query("UPDATE cases SET first_contact_at = $1, updated_at = $2, updated_by = $3 WHERE case_id = $4")
            .bind(attempt.attempted_at)
            .bind(attempt.recorded_at)
            .bind(attempt.attempted_by.clone())
            .bind(attempt.case_id.clone())
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Attempts of a case in id (= recording) order, after `after`; only `organization`'s own when given
/// (a partner sees its own attempts, never staff's or another partner's).
pub async fn list_attempts(
    db: &Db,
    case_id: &str,
    organization: Option<&str>,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<ContactAttemptRecord>, DbError> {
    let rows = sqlx::query(
        "SELECT contact_attempt_id, case_id, referral_id, attempted_at, channel, engagement_approach, outcome, \
         attempted_by, organization_id, first_contact, recorded_at, practice FROM contact_attempts \
         WHERE case_id = $1 AND contact_attempt_id > $2 AND ($3 = '' OR organization_id = $3) \
         ORDER BY contact_attempt_id LIMIT $4",
    )
    .bind(case_id.to_owned())
    .bind(after.unwrap_or_default().to_owned())
    .bind(organization.unwrap_or_default().to_owned())
    .bind(sql_limit(limit))
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| {
            let int = |column: &str| -> Result<i64, DbError> { Ok(row.try_get::<i64, _>(column)?) };
            Ok(ContactAttemptRecord {
                contact_attempt_id: row.try_get("contact_attempt_id")?,
                case_id: row.try_get("case_id")?,
                referral_id: row.try_get("referral_id")?,
                attempted_at: row.try_get("attempted_at")?,
                channel: i32::try_from(int("channel")?).unwrap_or(0),
                engagement_approach: row.try_get("engagement_approach")?,
                outcome: i32::try_from(int("outcome")?).unwrap_or(0),
                attempted_by: row.try_get("attempted_by")?,
                organization_id: row.try_get("organization_id")?,
                first_contact: int("first_contact")? != 0,
                recorded_at: row.try_get("recorded_at")?,
                practice: int("practice")? != 0,
            })
        })
        .collect()
}
