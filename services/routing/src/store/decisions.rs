//! Decisions, each with its candidates (as JSON text) and the facts it was made on.

use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;
use wf_db::{Db, DbError, Tx};
use wf_proto::common::v1::{Site, TriageTier};
use wf_proto::routing::v1::DecisionOutcome;

use super::corrupt;
use crate::domain::{Candidate, ReferralFacts, site_code, site_from_code, tier_code, tier_from_code};

/// One stored routing decision.
#[derive(Debug, Clone, PartialEq)]
pub struct DecisionRecord {
    pub decision_id: String,
    pub referral_id: String,
    pub attempt: i32,
    pub policy_version: String,
    pub decided_at: i64,
    pub triage_tier: TriageTier,
    pub site: Site,
    pub outcome: DecisionOutcome,
    pub partner_id: Option<String>,
    pub partner_service_id: Option<String>,
    pub deadline: i64,
    /// Coded trigger, e.g. "referral_received".
    pub reason: String,
    pub explanation: String,
    pub candidates: Vec<Candidate>,
    pub practice: bool,
    /// The event that caused the decision.
    pub source_event_id: String,
    /// The facts the decision was made on; `None` for decisions stored before facts were kept.
    pub facts: Option<ReferralFacts>,
    /// The offer made on the decision, as read back (the offer row names its decision, so an
    /// insert ignores this); `None` when it made none.
    pub offer_id: Option<String>,
}

/// [`ReferralFacts`] as stored: enums as codes.
#[derive(Serialize, Deserialize)]
struct FactsJson {
    referral_id: String,
    site: String,
    triage_tier: String,
    needs: Vec<String>,
    preferred_language: String,
    is_minor: bool,
    age_years: Option<u32>,
    outside_youth_program: bool,
    practice: bool,
    #[serde(default)]
    already_offered: Vec<String>,
}

fn facts_to_json(facts: &ReferralFacts) -> String {
    let json = FactsJson {
        referral_id: facts.referral_id.clone(),
        site: site_code(facts.site).to_owned(),
        triage_tier: tier_code(facts.triage_tier).to_owned(),
        needs: facts.needs.clone(),
        preferred_language: facts.preferred_language.clone(),
        is_minor: facts.is_minor,
        age_years: facts.age_years,
        outside_youth_program: facts.outside_youth_program,
        practice: facts.practice,
        already_offered: facts.already_offered.clone(),
    };
    serde_json::to_string(&json).expect("facts serialize")
}

fn facts_from_json(text: &str) -> Result<Option<ReferralFacts>, DbError> {
    if text.is_empty() {
        return Ok(None);
    }
    let json: FactsJson = serde_json::from_str(text).map_err(|err| corrupt("routing_decision.facts", err))?;
    Ok(Some(ReferralFacts {
        referral_id: json.referral_id,
        site: site_from_code(&json.site).ok_or_else(|| corrupt("routing_decision.facts.site", &json.site))?,
        triage_tier: tier_from_code(&json.triage_tier)
            .ok_or_else(|| corrupt("routing_decision.facts.triage_tier", &json.triage_tier))?,
        needs: json.needs,
        preferred_language: json.preferred_language,
        is_minor: json.is_minor,
        age_years: json.age_years,
        outside_youth_program: json.outside_youth_program,
        practice: json.practice,
        already_offered: json.already_offered,
    }))
}

/// Filters of [`list_decisions`]; empty strings and absent bounds match everything.
#[derive(Debug, Clone, Default)]
pub struct DecisionFilter {
    pub referral_id: String,
    pub policy_version: String,
    /// Inclusive lower bound of `decided_at` (micros).
    pub decided_from: Option<i64>,
    /// Exclusive upper bound of `decided_at` (micros).
    pub decided_until: Option<i64>,
}

const DECISION_COLUMNS: &str = "decision_id, referral_id, attempt, policy_version, decided_at, triage_tier, site, \
     outcome, partner_id, partner_service_id, deadline, reason, explanation, candidates, practice, source_event_id, facts";

/// The offer made on each decision read, as column `offer_id` (one offer per decision at most).
const OFFER_OF_DECISION: &str = "(SELECT o.offer_id FROM routing_offer o \
     WHERE o.decision_id = routing_decision.decision_id ORDER BY o.offer_id LIMIT 1) AS offer_id";

fn outcome_code(outcome: DecisionOutcome) -> &'static str {
    match outcome {
        DecisionOutcome::Unspecified => "unspecified",
        DecisionOutcome::Offered => "offered",
        DecisionOutcome::NoMatch => "no_match",
        DecisionOutcome::Exhausted => "exhausted",
    }
}

fn outcome_from_code(code: &str) -> Option<DecisionOutcome> {
    match code {
        "unspecified" => Some(DecisionOutcome::Unspecified),
        "offered" => Some(DecisionOutcome::Offered),
        "no_match" => Some(DecisionOutcome::NoMatch),
        "exhausted" => Some(DecisionOutcome::Exhausted),
        _ => None,
    }
}

pub async fn insert_decision(tx: &mut Tx, record: &DecisionRecord) -> Result<(), DbError> {
    let candidates =
        serde_json::to_string(&record.candidates).map_err(|err| DbError::Other(sqlx::Error::Encode(Box::new(err))))?;
    sqlx::query(&format!(
        "INSERT INTO routing_decision ({DECISION_COLUMNS}) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"
    ))
    .bind(&record.decision_id)
    .bind(&record.referral_id)
    .bind(record.attempt)
    .bind(&record.policy_version)
    .bind(record.decided_at)
    .bind(tier_code(record.triage_tier))
    .bind(site_code(record.site))
    .bind(outcome_code(record.outcome))
    .bind(record.partner_id.clone())
    .bind(record.partner_service_id.clone())
    .bind(record.deadline)
    .bind(&record.reason)
    .bind(&record.explanation)
    .bind(candidates)
    .bind(i32::from(record.practice))
    .bind(&record.source_event_id)
    .bind(record.facts.as_ref().map(facts_to_json).unwrap_or_default())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Whether the referral already has a decision for `attempt` (a second `referral.received`
/// for one referral, under a different event id, must not route it twice).
pub async fn decision_exists(tx: &mut Tx, referral_id: &str, attempt: i32) -> Result<bool, DbError> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT decision_id FROM routing_decision WHERE referral_id = $1 AND attempt = $2")
            .bind(referral_id)
            .bind(attempt)
            .fetch_optional(&mut **tx)
            .await?;
    Ok(row.is_some())
}

pub async fn get_decision(db: &Db, decision_id: &str) -> Result<Option<DecisionRecord>, DbError> {
    let row = sqlx::query(&format!(
        "SELECT {DECISION_COLUMNS}, {OFFER_OF_DECISION} FROM routing_decision WHERE decision_id = $1"
    ))
    .bind(decision_id)
    .fetch_optional(db.pool())
    .await?;
    row.as_ref().map(decision_from_row).transpose()
}

/// Up to `limit` decisions matching `filter` with ids after `after_decision_id`, in id
/// (= creation) order.
pub async fn list_decisions(
    db: &Db,
    filter: &DecisionFilter,
    after_decision_id: &str,
    limit: i64,
) -> Result<Vec<DecisionRecord>, DbError> {
    let rows = sqlx::query(&format!(
        "SELECT {DECISION_COLUMNS}, {OFFER_OF_DECISION} FROM routing_decision \
         WHERE decision_id > $1 AND ($2 = '' OR referral_id = $2) AND ($3 = '' OR policy_version = $3) \
         AND decided_at >= $4 AND decided_at < $5 ORDER BY decision_id LIMIT $6"
    ))
    .bind(after_decision_id)
    .bind(&filter.referral_id)
    .bind(&filter.policy_version)
    .bind(filter.decided_from.unwrap_or(i64::MIN))
    .bind(filter.decided_until.unwrap_or(i64::MAX))
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(decision_from_row).collect()
}

/// The latest decision of a referral (highest attempt), read inside a transaction.
pub async fn latest_decision_of(tx: &mut Tx, referral_id: &str) -> Result<Option<DecisionRecord>, DbError> {
    let row = sqlx::query(&format!(
        "SELECT {DECISION_COLUMNS}, {OFFER_OF_DECISION} FROM routing_decision WHERE referral_id = $1 \
         ORDER BY attempt DESC LIMIT 1"
    ))
    .bind(referral_id)
    .fetch_optional(&mut **tx)
    .await?;
    row.as_ref().map(decision_from_row).transpose()
}

fn decision_from_row(row: &AnyRow) -> Result<DecisionRecord, DbError> {
    let tier: String = row.try_get("triage_tier")?;
    let site: String = row.try_get("site")?;
    let outcome: String = row.try_get("outcome")?;
    let candidates: String = row.try_get("candidates")?;
    Ok(DecisionRecord {
        decision_id: row.try_get("decision_id")?,
        referral_id: row.try_get("referral_id")?,
        attempt: row.try_get("attempt")?,
        policy_version: row.try_get("policy_version")?,
        decided_at: row.try_get("decided_at")?,
        triage_tier: tier_from_code(&tier).ok_or_else(|| corrupt("routing_decision.triage_tier", &tier))?,
        site: site_from_code(&site).ok_or_else(|| corrupt("routing_decision.site", &site))?,
        outcome: outcome_from_code(&outcome).ok_or_else(|| corrupt("routing_decision.outcome", &outcome))?,
        partner_id: row.try_get("partner_id")?,
        partner_service_id: row.try_get("partner_service_id")?,
        deadline: row.try_get("deadline")?,
        reason: row.try_get("reason")?,
        explanation: row.try_get("explanation")?,
        candidates: serde_json::from_str(&candidates).map_err(|err| corrupt("routing_decision.candidates", err))?,
        practice: row.try_get::<i64, _>("practice")? != 0,
        source_event_id: row.try_get("source_event_id")?,
        facts: facts_from_json(&row.try_get::<String, _>("facts")?)?,
        offer_id: row.try_get("offer_id")?,
    })
}

/// Facts of first decisions made at or after `since` (micros), oldest first, and how many
/// such decisions were stored without facts (before facts were kept).
pub async fn first_decision_facts_since(db: &Db, since: i64) -> Result<(Vec<ReferralFacts>, usize), DbError> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT facts FROM routing_decision WHERE attempt = 1 AND decided_at >= $1 ORDER BY decided_at, decision_id",
    )
    .bind(since)
    .fetch_all(db.pool())
    .await?;
    let mut facts = Vec::new();
    let mut without = 0;
    for (text,) in rows {
        match facts_from_json(&text)? {
            Some(f) => facts.push(f),
            None => without += 1,
        }
    }
    Ok((facts, without))
}
