//! Screening rows: coded only (the Screening protobuf and the columns lookups need).

use wf_db::{Db, DbError, Tx};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ScreeningRow {
    pub id: String,
    pub referral_id: String,
    pub tool: i32,
    pub result: i32,
    pub screened_at: Option<i64>,
    pub screener_organization_id: String,
    pub recorded_by: String,
    pub practice: i32,
    pub coded: Vec<u8>,
    /// 1 when it came with the referral's submission, 0 when recorded later (RecordScreening).
    pub submitted_with_referral: i32,
}

impl ScreeningRow {
    /// The row of `screening` (its id already set) of `referral_id`, recorded by `recorded_by`, with
    /// the referral's submission (`with_referral`) or later.
    pub fn submitted(
        referral_id: &str,
        screening: &wf_proto::intake::v1::Screening,
        recorded_by: &str,
        practice: bool,
        with_referral: bool,
    ) -> Self {
        use prost::Message;
        ScreeningRow {
            id: screening.screening_id.clone(),
            referral_id: referral_id.to_owned(),
            tool: screening.tool,
            result: screening.result,
            screened_at: screening.screened_at.as_ref().and_then(wf_proto::time::datetime).map(wf_db::to_micros),
            screener_organization_id: screening.screener_organization_id.clone(),
            recorded_by: recorded_by.to_owned(),
            practice: i32::from(practice),
            coded: screening.encode_to_vec(),
            submitted_with_referral: i32::from(with_referral),
        }
    }
}

pub async fn insert(tx: &mut Tx, row: &ScreeningRow, created_at: i64) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO screening (id, referral_id, tool, result, screened_at, screener_organization_id, recorded_by, \
         practice, coded, created_at, submitted_with_referral) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(&row.id)
    .bind(&row.referral_id)
    .bind(row.tool)
    .bind(row.result)
    .bind(row.screened_at)
    .bind(&row.screener_organization_id)
    .bind(&row.recorded_by)
    .bind(row.practice)
    .bind(row.coded.clone())
    .bind(created_at)
    .bind(row.submitted_with_referral)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Screenings of one referral and/or one youth (empty filters match all), ordered by id (recording
/// order). With `partner` given, only what that partner submitted: screenings that came with the
/// submission of a referral its organization submitted, and `youth_id` matches the youth id the
/// submission was answered with (never the youth a referral was linked to later, which would tell
/// the partner which of its referrals are the same youth).
pub async fn list(
    db: &Db,
    referral_id: &str,
    youth_id: &str,
    partner: Option<&str>,
    after_id: &str,
    limit: i64,
) -> Result<Vec<ScreeningRow>, DbError> {
    let scope = match partner {
        Some(_) => {
            "r.submitted_by_partner = $4 AND s.submitted_with_referral = 1 \
             AND ($3 = '' OR r.submitted_youth_id = $3)"
        }
        None => "($3 = '' OR r.youth_id = $3) AND $4 = ''",
    };
    Ok(sqlx::query_as(&format!(
        "SELECT s.id, s.referral_id, s.tool, s.result, s.screened_at, s.screener_organization_id, s.recorded_by, \
         s.practice, s.coded, s.submitted_with_referral FROM screening s JOIN referral r ON r.id = s.referral_id \
         WHERE s.id > $1 AND ($2 = '' OR s.referral_id = $2) AND {scope} ORDER BY s.id LIMIT $5"
    ))
    .bind(after_id)
    .bind(referral_id)
    .bind(youth_id)
    .bind(partner.unwrap_or(""))
    .bind(limit)
    .fetch_all(db.pool())
    .await?)
}

/// The ids of the screenings that came with the referral's submission.
pub async fn submitted_ids(db: &Db, referral_id: &str) -> Result<Vec<String>, DbError> {
    let rows: Vec<(String,)> =
        sqlx::query_as("SELECT id FROM screening WHERE referral_id = $1 AND submitted_with_referral = 1 ORDER BY id")
            .bind(referral_id)
            .fetch_all(db.pool())
            .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}
