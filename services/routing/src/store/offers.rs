//! Offers and open capacity: the tables behind the offer lifecycle. Every state
//! change is a guarded UPDATE (`… WHERE status = 'open'`, `… AND open_slots > 0`),
//! so concurrent accepts, declines and expiries each take effect at most once.

use sqlx::Row;
use sqlx::any::AnyRow;
use wf_db::{Db, DbError, Tx};
use wf_proto::common::v1::{Site, TriageTier};
use wf_proto::routing::v1::{DeclineReason, OfferStatus};

use super::corrupt;
use crate::domain::{OfferFacts, site_code, site_from_code, tier_code, tier_from_code};

/// One stored offer.
#[derive(Debug, Clone, PartialEq)]
pub struct OfferRecord {
    pub offer_id: String,
    pub decision_id: String,
    pub referral_id: String,
    pub attempt: i32,
    pub partner_id: String,
    pub partner_service_id: String,
    pub status: OfferStatus,
    pub triage_tier: TriageTier,
    pub site: Site,
    pub offered_at: i64,
    pub deadline: i64,
    pub responded_at: Option<i64>,
    pub responded_by: Option<String>,
    pub decline_reason: DeclineReason,
    pub decline_detail: String,
    pub practice: bool,
    /// The referral's coded facts the partner decides on, as of the decision that made the offer.
    pub facts: OfferFacts,
}

const OFFER_COLUMNS: &str = "offer_id, decision_id, referral_id, attempt, partner_id, partner_service_id, status, \
     triage_tier, site, offered_at, deadline, responded_at, responded_by, decline_reason, decline_detail, practice, \
     needs, preferred_language, is_minor, age_years";

/// Needs as stored: a JSON array of codes.
fn needs_to_json(needs: &[String]) -> String {
    serde_json::Value::from(needs.to_vec()).to_string()
}

/// Stored needs; `''` (offers made before offers carried facts, with none to copy) is none.
fn needs_from_json(text: &str) -> Result<Vec<String>, DbError> {
    if text.is_empty() {
        return Ok(Vec::new());
    }
    serde_json::from_str(text).map_err(|err| corrupt("routing_offer.needs", err))
}

pub fn status_code(status: OfferStatus) -> &'static str {
    match status {
        OfferStatus::Unspecified => "unspecified",
        OfferStatus::Pending => "open",
        OfferStatus::Accepted => "accepted",
        OfferStatus::Declined => "declined",
        OfferStatus::Expired => "expired",
        OfferStatus::Withdrawn => "withdrawn",
    }
}

fn status_from_code(code: &str) -> Option<OfferStatus> {
    [
        OfferStatus::Pending,
        OfferStatus::Accepted,
        OfferStatus::Declined,
        OfferStatus::Expired,
        OfferStatus::Withdrawn,
        OfferStatus::Unspecified,
    ]
    .into_iter()
    .find(|s| status_code(*s) == code)
}

/// Lower snake_case code of a decline reason ("no_capacity").
pub fn decline_code(reason: DeclineReason) -> String {
    reason.as_str_name().trim_start_matches("DECLINE_REASON_").to_lowercase()
}

fn decline_from_code(code: &str) -> DeclineReason {
    DeclineReason::from_str_name(&format!("DECLINE_REASON_{}", code.to_uppercase())).unwrap_or_default()
}

pub async fn insert_offer(tx: &mut Tx, offer: &OfferRecord) -> Result<(), DbError> {
    sqlx::query(&format!(
        "INSERT INTO routing_offer ({OFFER_COLUMNS}) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)"
    ))
    .bind(&offer.offer_id)
    .bind(&offer.decision_id)
    .bind(&offer.referral_id)
    .bind(offer.attempt)
    .bind(&offer.partner_id)
    .bind(&offer.partner_service_id)
    .bind(status_code(offer.status))
    .bind(tier_code(offer.triage_tier))
    .bind(site_code(offer.site))
    .bind(offer.offered_at)
    .bind(offer.deadline)
    .bind(offer.responded_at)
    .bind(offer.responded_by.clone())
    .bind((offer.decline_reason != DeclineReason::Unspecified).then(|| decline_code(offer.decline_reason)))
    .bind((!offer.decline_detail.is_empty()).then(|| offer.decline_detail.clone()))
    .bind(i32::from(offer.practice))
    .bind(needs_to_json(&offer.facts.needs))
    .bind(&offer.facts.preferred_language)
    .bind(i32::from(offer.facts.is_minor))
    .bind(offer.facts.age_years.and_then(|age| i32::try_from(age).ok()))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// One offer, read through the pool (`db.pool()`) or inside a transaction (`&mut **tx`).
pub async fn get_offer<'e>(
    executor: impl sqlx::Executor<'e, Database = sqlx::Any>,
    offer_id: &str,
) -> Result<Option<OfferRecord>, DbError> {
    let row = sqlx::query(&format!("SELECT {OFFER_COLUMNS} FROM routing_offer WHERE offer_id = $1"))
        .bind(offer_id)
        .fetch_optional(executor)
        .await?;
    row.as_ref().map(offer_from_row).transpose()
}

/// The referral an offer was made for; `None` for an unknown offer.
pub async fn referral_of(tx: &mut Tx, offer_id: &str) -> Result<Option<String>, DbError> {
    let row: Option<(String,)> = sqlx::query_as("SELECT referral_id FROM routing_offer WHERE offer_id = $1")
        .bind(offer_id)
        .fetch_optional(&mut **tx)
        .await?;
    Ok(row.map(|(id,)| id))
}

/// Filters of [`list_offers`]; empty strings and absent bounds match everything.
#[derive(Debug, Clone, Default)]
pub struct OfferFilter {
    pub partner_id: String,
    pub partner_service_id: String,
    pub referral_id: String,
    /// Status codes; empty = any.
    pub statuses: Vec<&'static str>,
    pub include_practice: bool,
    /// Inclusive lower bound of `offered_at` (micros).
    pub offered_from: Option<i64>,
    /// Exclusive upper bound of `offered_at` (micros).
    pub offered_until: Option<i64>,
}

/// Up to `limit` offers matching `filter` after `after_offer_id`, in id (= creation) order.
pub async fn list_offers(
    db: &Db,
    filter: &OfferFilter,
    after_offer_id: &str,
    limit: i64,
) -> Result<Vec<OfferRecord>, DbError> {
    let rows = sqlx::query(&format!(
        "SELECT {OFFER_COLUMNS} FROM routing_offer WHERE offer_id > $1 AND ($2 = '' OR partner_id = $2) \
         AND ($3 = '' OR partner_service_id = $3) AND ($4 = '' OR referral_id = $4) AND practice <= $5 \
         AND offered_at >= $7 AND offered_at < $8 ORDER BY offer_id LIMIT $6"
    ))
    .bind(after_offer_id)
    .bind(&filter.partner_id)
    .bind(&filter.partner_service_id)
    .bind(&filter.referral_id)
    .bind(i32::from(filter.include_practice))
    // Status filtering happens below: the list is short and SQL `IN` with a variable
    // arity does not fit one statement for both engines.
    .bind(if filter.statuses.is_empty() { limit } else { i64::MAX })
    .bind(filter.offered_from.unwrap_or(i64::MIN))
    .bind(filter.offered_until.unwrap_or(i64::MAX))
    .fetch_all(db.pool())
    .await?;
    let mut offers: Vec<OfferRecord> = rows.iter().map(offer_from_row).collect::<Result<_, _>>()?;
    if !filter.statuses.is_empty() {
        offers.retain(|o| filter.statuses.contains(&status_code(o.status)));
        offers.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    }
    Ok(offers)
}

/// Partner services this referral has been offered to, in any status.
pub async fn offered_services(tx: &mut Tx, referral_id: &str) -> Result<Vec<String>, DbError> {
    let rows: Vec<(String,)> =
        sqlx::query_as("SELECT partner_service_id FROM routing_offer WHERE referral_id = $1 ORDER BY attempt")
            .bind(referral_id)
            .fetch_all(&mut **tx)
            .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// Offers of a referral as (offer id, partner id, partner service id, status code), oldest first.
pub async fn offer_states_of(tx: &mut Tx, referral_id: &str) -> Result<Vec<(String, String, String, String)>, DbError> {
    let rows: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT offer_id, partner_id, partner_service_id, status FROM routing_offer WHERE referral_id = $1 \
         ORDER BY attempt, offer_id",
    )
    .bind(referral_id)
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows)
}

/// Marks an open offer answered; `false` when it was no longer open (someone else answered
/// first, or it expired), in which case nothing changed.
pub async fn close_offer(
    tx: &mut Tx,
    offer_id: &str,
    status: OfferStatus,
    at: i64,
    by: &str,
    decline: Option<(DeclineReason, &str)>,
) -> Result<bool, DbError> {
    let result = sqlx::query(
        "UPDATE routing_offer SET status = $1, responded_at = $2, responded_by = $3, decline_reason = $4, \
         decline_detail = $5 WHERE offer_id = $6 AND status = 'open'",
    )
    .bind(status_code(status))
    .bind(at)
    .bind(by)
    .bind(decline.map(|(reason, _)| decline_code(reason)))
    .bind(decline.map(|(_, detail)| detail.to_owned()).filter(|d| !d.is_empty()))
    .bind(offer_id)
    .execute(&mut **tx)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Open offers past their deadline, oldest deadline first, unlocked: the expiry takes the
/// referral's lock (`time_limits::lock_referral`) before the offer's, as every writer of a
/// referral's offers does, and its guarded [`close_offer`] lets only one instance expire an offer.
pub async fn due_offers(tx: &mut Tx, now: i64, limit: i64) -> Result<Vec<OfferRecord>, DbError> {
    let rows = sqlx::query(&format!(
        "SELECT {OFFER_COLUMNS} FROM routing_offer WHERE status = 'open' AND deadline < $1 \
         ORDER BY deadline, offer_id LIMIT $2"
    ))
    .bind(now)
    .bind(limit)
    .fetch_all(&mut **tx)
    .await?;
    rows.iter().map(offer_from_row).collect()
}

fn offer_from_row(row: &AnyRow) -> Result<OfferRecord, DbError> {
    let status: String = row.try_get("status")?;
    let tier: String = row.try_get("triage_tier")?;
    let site: String = row.try_get("site")?;
    let reason: Option<String> = row.try_get("decline_reason")?;
    let detail: Option<String> = row.try_get("decline_detail")?;
    let age: Option<i64> = row.try_get("age_years")?;
    Ok(OfferRecord {
        offer_id: row.try_get("offer_id")?,
        decision_id: row.try_get("decision_id")?,
        referral_id: row.try_get("referral_id")?,
        attempt: row.try_get("attempt")?,
        partner_id: row.try_get("partner_id")?,
        partner_service_id: row.try_get("partner_service_id")?,
        status: status_from_code(&status).ok_or_else(|| corrupt("routing_offer.status", &status))?,
        triage_tier: tier_from_code(&tier).ok_or_else(|| corrupt("routing_offer.triage_tier", &tier))?,
        site: site_from_code(&site).ok_or_else(|| corrupt("routing_offer.site", &site))?,
        offered_at: row.try_get("offered_at")?,
        deadline: row.try_get("deadline")?,
        responded_at: row.try_get("responded_at")?,
        responded_by: row.try_get("responded_by")?,
        decline_reason: reason.as_deref().map(decline_from_code).unwrap_or_default(),
        decline_detail: detail.unwrap_or_default(),
        practice: row.try_get::<i64, _>("practice")? != 0,
        facts: OfferFacts {
            needs: needs_from_json(&row.try_get::<String, _>("needs")?)?,
            preferred_language: row.try_get("preferred_language")?,
            is_minor: row.try_get::<i64, _>("is_minor")? != 0,
            age_years: age
                .map(|age| u32::try_from(age).map_err(|_| corrupt("routing_offer.age_years", age)))
                .transpose()?,
        },
    })
}

/// Open offers of `referral_id` (at most one: a referral is offered to one service at a time).
pub async fn open_offers_of(tx: &mut Tx, referral_id: &str) -> Result<Vec<OfferRecord>, DbError> {
    let rows = sqlx::query(&format!(
        "SELECT {OFFER_COLUMNS} FROM routing_offer WHERE referral_id = $1 AND status = 'open' ORDER BY offer_id"
    ))
    .bind(referral_id)
    .fetch_all(&mut **tx)
    .await?;
    rows.iter().map(offer_from_row).collect()
}

/// When the place of an accepted offer was given back; `None` while it is held (or for offers
/// that never took one).
pub async fn capacity_returned_at(db: &Db, offer_id: &str) -> Result<Option<i64>, DbError> {
    let row: Option<(Option<i64>,)> =
        sqlx::query_as("SELECT capacity_returned_at FROM routing_offer WHERE offer_id = $1")
            .bind(offer_id)
            .fetch_optional(db.pool())
            .await?;
    Ok(row.and_then(|(at,)| at))
}

/// Moves an open offer's deadline to `deadline` when that is earlier; `false` (nothing changed)
/// when the offer is no longer open or its deadline is already as early. Never moves it later.
pub async fn shorten_deadline(tx: &mut Tx, offer_id: &str, deadline: i64) -> Result<bool, DbError> {
    let result =
        sqlx::query("UPDATE routing_offer SET deadline = $1 WHERE offer_id = $2 AND status = 'open' AND deadline > $1")
            .bind(deadline)
            .bind(offer_id)
            .execute(&mut **tx)
            .await?;
    Ok(result.rows_affected() == 1)
}

/// When a partner first accepted an offer of `referral_id`; `None` while none has.
pub async fn first_accepted_at(tx: &mut Tx, referral_id: &str) -> Result<Option<i64>, DbError> {
    let row: (Option<i64>,) =
        sqlx::query_as("SELECT MIN(responded_at) FROM routing_offer WHERE referral_id = $1 AND status = 'accepted'")
            .bind(referral_id)
            .fetch_one(&mut **tx)
            .await?;
    Ok(row.0)
}
