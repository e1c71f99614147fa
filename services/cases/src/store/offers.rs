//! Offers partners accepted: the only thing that lets a partner act on a case.

use sqlx::Row;
use wf_db::{DbError, Tx};

use super::serving_referral;

/// An accepted offer, as `offer.accepted` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcceptedOffer {
    pub offer_id: String,
    pub referral_id: String,
    pub partner_id: String,
    /// The service the offer was for ("svc_..."), empty when the event named none.
    pub partner_service_id: String,
    pub accepted_at: i64,
}

/// Stores the acceptance once; the same offer again changes nothing.
pub async fn insert_accepted(tx: &mut Tx, offer: &AcceptedOffer) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO accepted_offers (offer_id, referral_id, partner_id, partner_service_id, accepted_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (offer_id) DO NOTHING",
    )
    .bind(offer.offer_id.clone())
    .bind(offer.referral_id.clone())
    .bind(offer.partner_id.clone())
    .bind(offer.partner_service_id.clone())
    .bind(offer.accepted_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Whether `partner_id` serves the case: the case is open and the partner holds an accepted offer
/// for a referral of its current episode (the referral that opened it, or that last reopened it,
/// or one that joined it since). An offer accepted for an earlier episode's referral does not carry
/// over to the next one, and none reaches a closed case.
pub async fn holds_accepted(tx: &mut Tx, case_id: &str, partner_id: &str) -> Result<bool, DbError> {
    Ok(latest_accepted_referral(tx, case_id, partner_id).await?.is_some())
}

/// The latest referral of the open case's current episode that `partner_id` accepted an offer for.
pub async fn latest_accepted_referral(tx: &mut Tx, case_id: &str, partner_id: &str) -> Result<Option<String>, DbError> {
    let row = sqlx::query(&format!(
        "SELECT cr.referral_id FROM case_referrals cr JOIN accepted_offers a ON a.referral_id = cr.referral_id \
         WHERE cr.case_id = $1 AND a.partner_id = $2 AND {} \
         ORDER BY cr.linked_at DESC, cr.referral_id DESC LIMIT 1",
        serving_referral()
    ))
    .bind(case_id.to_owned())
    .bind(partner_id.to_owned())
    .fetch_optional(&mut **tx)
    .await?;
    Ok(row.map(|row| row.try_get("referral_id")).transpose()?)
}

/// The organizations offers for `partner_service_id` were accepted by: what cases knows of whose
/// service it is (routing keeps the directory). Empty when no accepted offer named it.
pub async fn organizations_of_service(tx: &mut Tx, partner_service_id: &str) -> Result<Vec<String>, DbError> {
    let rows = sqlx::query(
        "SELECT DISTINCT partner_id FROM accepted_offers WHERE partner_service_id = $1 ORDER BY partner_id",
    )
    .bind(partner_service_id.to_owned())
    .fetch_all(&mut **tx)
    .await?;
    rows.iter().map(|row| Ok(row.try_get("partner_id")?)).collect()
}

/// For each of `case_ids`, the referrals of the case's current episode `partner_id` accepted an
/// offer for, oldest first, while the case is open (what a partner's view of the case names; cases
/// with none are left out).
pub async fn accepted_in_current_episode(
    db: &wf_db::Db,
    case_ids: &[&str],
    partner_id: &str,
) -> Result<std::collections::HashMap<String, Vec<String>>, DbError> {
    let mut accepted: std::collections::HashMap<String, Vec<String>> = std::collections::HashMap::new();
    for chunk in case_ids.chunks(200) {
        let list: Vec<String> = (2..chunk.len() + 2).map(|n| format!("${n}")).collect();
        let sql = format!(
            "SELECT DISTINCT cr.case_id, cr.referral_id, cr.linked_at FROM case_referrals cr \
             JOIN accepted_offers a ON a.referral_id = cr.referral_id \
             WHERE a.partner_id = $1 AND cr.case_id IN ({}) AND {} \
             ORDER BY cr.case_id, cr.linked_at, cr.referral_id",
            list.join(", "),
            serving_referral()
        );
        let mut query = sqlx::query(&sql).bind(partner_id.to_owned());
        for id in chunk {
            query = query.bind((*id).to_owned());
        }
        for row in query.fetch_all(db.pool()).await? {
            accepted.entry(row.try_get("case_id")?).or_default().push(row.try_get("referral_id")?);
        }
    }
    Ok(accepted)
}

/// Whether an offer `partner_id` accepted named the service `partner_service_id`: the only way
/// cases knows a service is that organization's.
pub async fn accepted_for_service(tx: &mut Tx, partner_service_id: &str, partner_id: &str) -> Result<bool, DbError> {
    let row =
        sqlx::query("SELECT offer_id FROM accepted_offers WHERE partner_service_id = $1 AND partner_id = $2 LIMIT 1")
            .bind(partner_service_id.to_owned())
            .bind(partner_id.to_owned())
            .fetch_optional(&mut **tx)
            .await?;
    Ok(row.is_some())
}

/// Whether `referral_id` is a referral of the open case's current episode that `partner_id`
/// accepted an offer for.
pub async fn accepted_referral_of(
    tx: &mut Tx,
    case_id: &str,
    partner_id: &str,
    referral_id: &str,
) -> Result<bool, DbError> {
    let row = sqlx::query(&format!(
        "SELECT cr.referral_id FROM case_referrals cr JOIN accepted_offers a ON a.referral_id = cr.referral_id \
         WHERE cr.case_id = $1 AND a.partner_id = $2 AND cr.referral_id = $3 AND {} LIMIT 1",
        serving_referral()
    ))
    .bind(case_id.to_owned())
    .bind(partner_id.to_owned())
    .bind(referral_id.to_owned())
    .fetch_optional(&mut **tx)
    .await?;
    Ok(row.is_some())
}
