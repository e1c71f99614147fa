//! Offers partners accepted: the only thing that lets a partner act on a case.

use sqlx::Row;
use wf_db::{DbError, Tx};

/// An accepted offer, as `offer.accepted` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcceptedOffer {
    pub offer_id: String,
    pub referral_id: String,
    pub partner_id: String,
    pub accepted_at: i64,
}

/// Stores the acceptance once; the same offer again changes nothing.
pub async fn insert_accepted(tx: &mut Tx, offer: &AcceptedOffer) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO accepted_offers (offer_id, referral_id, partner_id, accepted_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (offer_id) DO NOTHING",
    )
    .bind(offer.offer_id.clone())
    .bind(offer.referral_id.clone())
    .bind(offer.partner_id.clone())
    .bind(offer.accepted_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Whether `partner_id` holds an accepted offer for the case's current referral: the latest
/// referral the case absorbed (a returning youth's), else the one that opened it. An offer
/// accepted for an earlier episode's referral does not carry over to the next one.
pub async fn holds_accepted(tx: &mut Tx, case_id: &str, partner_id: &str) -> Result<bool, DbError> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS held FROM accepted_offers WHERE partner_id = $2 AND referral_id = COALESCE(\
           (SELECT referral_id FROM case_referrals WHERE case_id = $1 ORDER BY linked_at DESC, referral_id DESC LIMIT 1), \
           (SELECT referral_id FROM cases WHERE case_id = $1))",
    )
    .bind(case_id)
    .bind(partner_id)
    .fetch_one(&mut **tx)
    .await?;
    Ok(row.try_get::<i64, _>("held")? > 0)
}
