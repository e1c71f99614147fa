//! Intake's tables. Personal details are only ever stored sealed.

use wf_db::{Db, DbError, Tx};

pub mod consent;
pub mod lifecycle;
pub mod mandated;
pub mod matches;
pub mod screenings;
pub mod vault;

/// A referral row as stored (personal part still sealed).
#[derive(Debug, Clone)]
pub struct StoredReferral {
    pub id: String,
    pub youth_id: String,
    /// The authenticated subject that submitted it.
    pub submitted_by: String,
    /// The organization the submitter's credentials named (partners, hotlines with one).
    pub submitted_by_partner: Option<String>,
    pub status: i32,
    pub is_minor: bool,
    pub coded: Vec<u8>,
    pub personal_sealed: Option<Vec<u8>>,
    pub case_id: Option<String>,
    pub closure_reason: Option<i32>,
}

pub struct NewReferral<'a> {
    pub id: &'a str,
    pub youth_id: &'a str,
    pub dedupe_key: &'a str,
    pub submitted_by: &'a str,
    /// The role the submitter acted in ("case_manager" for staff entering a referral on an
    /// organization's behalf).
    pub submitted_by_role: &'a str,
    pub submitted_by_partner: Option<&'a str>,
    pub source: i32,
    pub triage_tier: i32,
    pub site: i32,
    pub practice: bool,
    pub is_minor: bool,
    pub outside_program: bool,
    pub status: i32,
    pub coded: Vec<u8>,
    pub personal_sealed: Option<Vec<u8>>,
    pub personal_key_version: Option<i32>,
    pub received_at: i64,
    pub created_at: i64,
}

/// Inserts unless the dedupe key exists. Returns `false` for a duplicate; under
/// concurrency the losers wait for the winner's commit and then see `false`.
pub async fn insert_referral(tx: &mut Tx, referral: &NewReferral<'_>) -> Result<bool, DbError> {
    let result = sqlx::query(
        "INSERT INTO referral (id, youth_id, dedupe_key, submitted_by, submitted_by_partner, source, triage_tier, \
         site, practice, is_minor, outside_program, status, coded, personal_sealed, personal_key_version, \
         received_at, created_at, submitted_by_role) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) \
         ON CONFLICT (dedupe_key) DO NOTHING",
    )
    .bind(referral.id)
    .bind(referral.youth_id)
    .bind(referral.dedupe_key)
    .bind(referral.submitted_by)
    .bind(referral.submitted_by_partner)
    .bind(referral.source)
    .bind(referral.triage_tier)
    .bind(referral.site)
    .bind(i32::from(referral.practice))
    .bind(i32::from(referral.is_minor))
    .bind(i32::from(referral.outside_program))
    .bind(referral.status)
    .bind(referral.coded.clone())
    .bind(referral.personal_sealed.clone())
    .bind(referral.personal_key_version)
    .bind(referral.received_at)
    .bind(referral.created_at)
    .bind(referral.submitted_by_role)
    .execute(&mut **tx)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// The referral already stored under a dedupe key, and who submitted it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ExistingSubmission {
    pub id: String,
    pub youth_id: String,
    pub status: i32,
    pub submitted_by: String,
    pub submitted_by_partner: Option<String>,
}

/// The referral already stored under `dedupe_key`.
pub async fn find_by_dedupe_key(tx: &mut Tx, dedupe_key: &str) -> Result<Option<ExistingSubmission>, DbError> {
    Ok(sqlx::query_as(
        "SELECT id, youth_id, status, submitted_by, submitted_by_partner FROM referral WHERE dedupe_key = $1",
    )
    .bind(dedupe_key)
    .fetch_optional(&mut **tx)
    .await?)
}

type ReferralRow =
    (String, String, String, Option<String>, i32, i32, Vec<u8>, Option<Vec<u8>>, Option<String>, Option<i32>);

pub async fn get_referral(db: &Db, id: &str) -> Result<Option<StoredReferral>, DbError> {
    let row: Option<ReferralRow> = sqlx::query_as(
        "SELECT id, youth_id, submitted_by, submitted_by_partner, status, is_minor, coded, personal_sealed, \
         case_id, closure_reason FROM referral WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(db.pool())
    .await?;
    Ok(row.map(
        |(
            id,
            youth_id,
            submitted_by,
            submitted_by_partner,
            status,
            is_minor,
            coded,
            personal_sealed,
            case_id,
            closure_reason,
        )| {
            StoredReferral {
                id,
                youth_id,
                submitted_by,
                submitted_by_partner,
                status,
                is_minor: is_minor != 0,
                coded,
                personal_sealed,
                case_id,
                closure_reason,
            }
        },
    ))
}

/// (id, youth id, source, tier, site, status, practice 0/1, received at).
pub type ReferralSummaryRow = (String, String, i32, i32, i32, i32, i32, i64);

/// Referral summaries after `after_id` (ids sort by creation), newest last.
pub async fn list_referrals(
    db: &Db,
    partner: Option<&str>,
    include_practice: bool,
    after_id: &str,
    limit: i64,
) -> Result<Vec<ReferralSummaryRow>, DbError> {
    Ok(sqlx::query_as(
        "SELECT id, youth_id, source, triage_tier, site, status, practice, received_at FROM referral \
         WHERE id > $1 AND ($2 = 1 OR practice = 0) AND ($3 = '' OR submitted_by_partner = $3) \
         ORDER BY id LIMIT $4",
    )
    .bind(after_id)
    .bind(i32::from(include_practice))
    .bind(partner.unwrap_or(""))
    .bind(limit)
    .fetch_all(db.pool())
    .await?)
}

pub async fn record_status_change(
    tx: &mut Tx,
    referral_id: &str,
    event_id: &str,
    status: i32,
    at: i64,
    detail: &str,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO referral_status_change (referral_id, event_id, status, at, detail) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (referral_id, event_id) DO NOTHING",
    )
    .bind(referral_id)
    .bind(event_id)
    .bind(status)
    .bind(at)
    .bind(detail)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Moves the status forward only (events may arrive out of order); returns whether the referral exists.
/// While the referral is on hold the status to resume to moves instead, so a hold is never lost to an
/// event and resuming lands where the referral would be. Compare-and-set, so a concurrent staff step
/// (hold, close) is never overwritten.
pub async fn advance_status(
    tx: &mut Tx,
    referral_id: &str,
    status: i32,
    rank_of: fn(i32) -> i32,
) -> Result<bool, DbError> {
    let on_hold = wf_proto::intake::v1::ReferralStatus::OnHold as i32;
    for _ in 0..5 {
        let current: Option<(i32, Option<i32>)> =
            sqlx::query_as("SELECT status, status_before_hold FROM referral WHERE id = $1")
                .bind(referral_id)
                .fetch_optional(&mut **tx)
                .await?;
        let Some((current, before_hold)) = current else { return Ok(false) };
        let (column, from) =
            if current == on_hold { ("status_before_hold", before_hold.unwrap_or(0)) } else { ("status", current) };
        if rank_of(status) <= rank_of(from) {
            return Ok(true);
        }
        let updated = sqlx::query(&format!(
            "UPDATE referral SET {column} = $1 WHERE id = $2 AND status = $3 AND COALESCE(status_before_hold, 0) = $4"
        ))
        .bind(status)
        .bind(referral_id)
        .bind(current)
        .bind(before_hold.unwrap_or(0))
        .execute(&mut **tx)
        .await?;
        if updated.rows_affected() == 1 {
            return Ok(true);
        }
    }
    // Retried by the consumer (a transient error): a staff step kept winning the race.
    Err(DbError::Conflict)
}

pub async fn set_case(tx: &mut Tx, referral_id: &str, case_id: &str) -> Result<(), DbError> {
    sqlx::query("UPDATE referral SET case_id = $1 WHERE id = $2")
        .bind(case_id)
        .bind(referral_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Status history, oldest first: (status, at, event id, detail).
pub async fn history(db: &Db, referral_id: &str) -> Result<Vec<(i32, i64, String, String)>, DbError> {
    Ok(sqlx::query_as(
        "SELECT status, at, event_id, detail FROM referral_status_change WHERE referral_id = $1 ORDER BY at, event_id",
    )
    .bind(referral_id)
    .fetch_all(db.pool())
    .await?)
}
