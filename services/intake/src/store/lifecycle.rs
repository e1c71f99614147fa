//! Staff changes to a stored referral: triage, hold, closure, corrections, and the practice purge.
//! Every function takes the caller's transaction; the referral row is locked first
//! ([`lock_referral`]) so concurrent changes of one referral apply one after the other.

use wf_db::{Backend, Db, DbError, Tx};

/// A referral row locked for a change (personal part still sealed).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LockedReferral {
    pub id: String,
    pub youth_id: String,
    pub submitted_by: String,
    pub submitted_by_partner: Option<String>,
    pub status: i32,
    pub status_before_hold: Option<i32>,
    pub practice: i32,
    pub coded: Vec<u8>,
    pub personal_sealed: Option<Vec<u8>>,
    pub received_at: i64,
    /// When an offer was first accepted.
    pub matched_at: Option<i64>,
    /// The hand-off's code, once the referral left intake's hands (`domain::submitter`).
    pub handed_off_by: Option<String>,
}

/// Reads and locks a referral (`FOR UPDATE` on PostgreSQL; SQLite has one writer at a time).
pub async fn lock_referral(tx: &mut Tx, backend: Backend, id: &str) -> Result<Option<LockedReferral>, DbError> {
    let lock = if backend == Backend::Postgres { " FOR UPDATE" } else { "" };
    Ok(sqlx::query_as(&format!(
        "SELECT id, youth_id, submitted_by, submitted_by_partner, status, status_before_hold, practice, coded, \
         personal_sealed, received_at, matched_at, handed_off_by FROM referral WHERE id = $1{lock}"
    ))
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?)
}

/// Sets the status; `before_hold` is what a hold saves (and `None` clears it).
pub async fn set_status(tx: &mut Tx, id: &str, status: i32, before_hold: Option<i32>) -> Result<(), DbError> {
    sqlx::query("UPDATE referral SET status = $1, status_before_hold = $2 WHERE id = $3")
        .bind(status)
        .bind(before_hold)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Records the triage tier (column and coded record) and, the first time, when staff triaged it.
pub async fn set_triage(tx: &mut Tx, id: &str, status: i32, tier: i32, coded: Vec<u8>, at: i64) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE referral SET status = $1, triage_tier = $2, coded = $3, triaged_at = COALESCE(triaged_at, $4) \
         WHERE id = $5",
    )
    .bind(status)
    .bind(tier)
    .bind(coded)
    .bind(at)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A staff closure: final (a closure by the referral's case is `store::progress`'s, and a reopened
/// case takes that back).
pub async fn close(tx: &mut Tx, id: &str, reason: i32, at: i64, duplicate_of: Option<&str>) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE referral SET status = $1, status_before_hold = NULL, closure_reason = $2, closed_at = $3, \
         duplicate_of_referral_id = $4, staff_closed = 1 WHERE id = $5",
    )
    .bind(wf_proto::intake::v1::ReferralStatus::Closed as i32)
    .bind(reason)
    .bind(at)
    .bind(duplicate_of)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// (submitted by, submitted by partner) of a referral, to check a referral named as the original of a duplicate.
pub async fn referral_submitter(tx: &mut Tx, id: &str) -> Result<Option<(String, Option<String>)>, DbError> {
    Ok(sqlx::query_as("SELECT submitted_by, submitted_by_partner FROM referral WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?)
}

/// A corrected referral: coded record, the columns derived from it, and the re-sealed personal part.
pub struct Corrected {
    pub source: i32,
    pub site: i32,
    pub is_minor: bool,
    pub outside_program: bool,
    pub received_at: i64,
    pub coded: Vec<u8>,
    pub personal_sealed: Option<Vec<u8>>,
    pub personal_key_version: Option<i32>,
}

pub async fn save_corrected(tx: &mut Tx, id: &str, corrected: &Corrected) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE referral SET source = $1, site = $2, is_minor = $3, outside_program = $4, received_at = $5, \
         coded = $6, personal_sealed = $7, personal_key_version = $8 WHERE id = $9",
    )
    .bind(corrected.source)
    .bind(corrected.site)
    .bind(i32::from(corrected.is_minor))
    .bind(i32::from(corrected.outside_program))
    .bind(corrected.received_at)
    .bind(corrected.coded.clone())
    .bind(corrected.personal_sealed.clone())
    .bind(corrected.personal_key_version)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Forgets a referral's identity hashes so the background matcher processes it again (its
/// identity changed). Possible matches already found stay for staff to decide.
pub async fn rematch(tx: &mut Tx, id: &str) -> Result<(), DbError> {
    sqlx::query("DELETE FROM referral_match_key WHERE referral_id = $1").bind(id).execute(&mut **tx).await?;
    sqlx::query("DELETE FROM referral_match_state WHERE referral_id = $1").bind(id).execute(&mut **tx).await?;
    Ok(())
}

/// Practice referrals received before `cutoff`, oldest first, locked (PostgreSQL) so that nothing
/// (the returning-youth matcher, a staff step) adds rows about them while they are deleted.
pub async fn practice_before(tx: &mut Tx, backend: Backend, cutoff: i64, limit: i64) -> Result<Vec<String>, DbError> {
    let lock = if backend == Backend::Postgres { " FOR UPDATE" } else { "" };
    let rows: Vec<(String,)> = sqlx::query_as(&format!(
        "SELECT id FROM referral WHERE practice = 1 AND received_at < $1 ORDER BY id LIMIT $2{lock}"
    ))
    .bind(cutoff)
    .bind(limit)
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

pub async fn count_practice_before(db: &Db, cutoff: i64) -> Result<i64, DbError> {
    let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM referral WHERE practice = 1 AND received_at < $1")
        .bind(cutoff)
        .fetch_one(db.pool())
        .await?;
    Ok(count)
}

/// Deletes a referral with everything intake holds about it: personal part, screenings, releases,
/// mandated reports, identity hashes, possible matches (either side), escalations, accepted offers
/// and status history.
pub async fn delete_referral(tx: &mut Tx, id: &str) -> Result<(), DbError> {
    for statement in [
        "DELETE FROM screening WHERE referral_id = $1",
        "DELETE FROM consent_release WHERE referral_id = $1",
        "DELETE FROM mandated_report_overdue WHERE referral_id = $1",
        "DELETE FROM mandated_report WHERE referral_id = $1",
        "DELETE FROM referral_match_key WHERE referral_id = $1",
        "DELETE FROM referral_match_state WHERE referral_id = $1",
        "DELETE FROM possible_match WHERE referral_id = $1 OR candidate_referral_id = $1",
        "DELETE FROM referral_escalation WHERE referral_id = $1",
        "DELETE FROM referral_accepted_offer WHERE referral_id = $1",
        "DELETE FROM referral_status_change WHERE referral_id = $1",
        "DELETE FROM referral WHERE id = $1",
    ] {
        sqlx::query(statement).bind(id).execute(&mut **tx).await?;
    }
    Ok(())
}
