//! Keyed identity hashes and possible matches.

use wf_db::{Db, DbError, Tx};

/// Referrals the matcher has not processed yet, oldest first.
pub async fn unmatched(db: &Db, limit: i64) -> Result<Vec<String>, DbError> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT r.id FROM referral r LEFT JOIN referral_match_state s ON s.referral_id = r.id \
         WHERE s.referral_id IS NULL ORDER BY r.id LIMIT $1",
    )
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// Marks a referral processed; `false` when another matcher got there first.
pub async fn claim(tx: &mut Tx, referral_id: &str, at: i64) -> Result<bool, DbError> {
    let result = sqlx::query(
        "INSERT INTO referral_match_state (referral_id, matched_at) VALUES ($1, $2) ON CONFLICT (referral_id) DO NOTHING",
    )
    .bind(referral_id)
    .bind(at)
    .execute(&mut **tx)
    .await?;
    Ok(result.rows_affected() == 1)
}

pub async fn insert_key(tx: &mut Tx, referral_id: &str, kind: &str, hash: &str, practice: bool) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO referral_match_key (referral_id, kind, hash, practice) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (referral_id, kind, hash) DO NOTHING",
    )
    .bind(referral_id)
    .bind(kind)
    .bind(hash)
    .bind(i32::from(practice))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A candidate: (referral id, youth id, sealed details, received at).
pub type Candidate = (String, String, Option<Vec<u8>>, i64);

/// Earlier referrals sharing any of `hashes` (same practice flag).
pub async fn candidates(
    tx: &mut Tx,
    referral_id: &str,
    hashes: &[String],
    practice: bool,
) -> Result<Vec<Candidate>, DbError> {
    let mut found = Vec::new();
    // One query per hash keeps the SQL identical on both engines (no array binds on SQLite).
    for hash in hashes {
        let rows: Vec<Candidate> = sqlx::query_as(
            "SELECT r.id, r.youth_id, r.personal_sealed, r.received_at FROM referral_match_key k JOIN referral r ON r.id = k.referral_id \
             WHERE k.hash = $1 AND k.practice = $2 AND k.referral_id <> $3",
        )
        .bind(hash)
        .bind(i32::from(practice))
        .bind(referral_id)
        .fetch_all(&mut **tx)
        .await?;
        for row in rows {
            if !found.iter().any(|c: &Candidate| c.0 == row.0) {
                found.push(row);
            }
        }
    }
    Ok(found)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MatchRow {
    pub id: String,
    pub referral_id: String,
    pub candidate_youth_id: String,
    pub candidate_referral_id: String,
    pub matched_on: String,
    pub score: f64,
    pub status: i32,
    pub practice: i32,
    pub found_at: i64,
    pub decided_at: Option<i64>,
    pub decided_by: Option<String>,
}

const COLUMNS: &str = "id, referral_id, candidate_youth_id, candidate_referral_id, matched_on, score, status, practice, \
                       found_at, decided_at, decided_by";

/// Inserts unless the pair is already known; returns whether it was inserted.
pub async fn insert_match(tx: &mut Tx, row: &MatchRow) -> Result<bool, DbError> {
    let result = sqlx::query(&format!(
        "INSERT INTO possible_match ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
         ON CONFLICT (referral_id, candidate_youth_id) DO NOTHING"
    ))
    .bind(&row.id)
    .bind(&row.referral_id)
    .bind(&row.candidate_youth_id)
    .bind(&row.candidate_referral_id)
    .bind(&row.matched_on)
    .bind(row.score)
    .bind(row.status)
    .bind(row.practice)
    .bind(row.found_at)
    .bind(row.decided_at)
    .bind(row.decided_by.as_deref())
    .execute(&mut **tx)
    .await?;
    Ok(result.rows_affected() == 1)
}

pub async fn get(tx: &mut Tx, id: &str) -> Result<Option<MatchRow>, DbError> {
    Ok(sqlx::query_as(&format!("SELECT {COLUMNS} FROM possible_match WHERE id = $1"))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?)
}

pub async fn list(
    db: &Db,
    status: i32,
    referral_id: &str,
    after_id: &str,
    limit: i64,
) -> Result<Vec<MatchRow>, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM possible_match WHERE id > $1 AND ($2 = 0 OR status = $2) \
         AND ($3 = '' OR referral_id = $3) ORDER BY id LIMIT $4"
    ))
    .bind(after_id)
    .bind(status)
    .bind(referral_id)
    .bind(limit)
    .fetch_all(db.pool())
    .await?)
}

/// Decides a pending match; `false` when it was already decided.
pub async fn decide(tx: &mut Tx, id: &str, status: i32, at: i64, by: &str) -> Result<bool, DbError> {
    let result = sqlx::query(
        "UPDATE possible_match SET status = $1, decided_at = $2, decided_by = $3 WHERE id = $4 AND status = $5",
    )
    .bind(status)
    .bind(at)
    .bind(by)
    .bind(id)
    .bind(wf_proto::intake::v1::PossibleMatchStatus::Pending as i32)
    .execute(&mut **tx)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Gives a referral the youth id of the earlier youth (a confirmed link).
pub async fn set_youth(tx: &mut Tx, referral_id: &str, youth_id: &str) -> Result<(), DbError> {
    sqlx::query("UPDATE referral SET youth_id = $1 WHERE id = $2")
        .bind(youth_id)
        .bind(referral_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// (youth id, practice 0/1, received at) of a referral, inside a transaction.
pub async fn referral_facts(
    tx: &mut Tx,
    referral_id: &str,
) -> Result<Option<(String, i32, i64, Option<Vec<u8>>)>, DbError> {
    Ok(sqlx::query_as("SELECT youth_id, practice, received_at, personal_sealed FROM referral WHERE id = $1")
        .bind(referral_id)
        .fetch_optional(&mut **tx)
        .await?)
}
