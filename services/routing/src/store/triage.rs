//! The latest `referral.triaged` tier of each referral, for later re-routes.

use wf_db::{DbError, Tx};
use wf_proto::common::v1::TriageTier;

use super::corrupt;
use crate::domain::{tier_code, tier_from_code};

/// Records the tier of a `referral.triaged`; `false` (nothing changed) when a triage at the same
/// time or later is already recorded, so a stale event delivered after a newer one has no effect.
pub async fn record_triage(
    tx: &mut Tx,
    referral_id: &str,
    tier: TriageTier,
    triaged_at: i64,
    source_event_id: &str,
) -> Result<bool, DbError> {
    let result = sqlx::query(
        "INSERT INTO routing_referral_triage (referral_id, triage_tier, triaged_at, source_event_id) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (referral_id) DO UPDATE SET triage_tier = excluded.triage_tier, \
         triaged_at = excluded.triaged_at, source_event_id = excluded.source_event_id \
         WHERE routing_referral_triage.triaged_at < excluded.triaged_at",
    )
    .bind(referral_id)
    .bind(tier_code(tier))
    .bind(triaged_at)
    .bind(source_event_id)
    .execute(&mut **tx)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// The tier of the referral's latest `referral.triaged`; `None` when it was never re-triaged.
pub async fn triaged_tier_of(tx: &mut Tx, referral_id: &str) -> Result<Option<TriageTier>, DbError> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT triage_tier FROM routing_referral_triage WHERE referral_id = $1")
            .bind(referral_id)
            .fetch_optional(&mut **tx)
            .await?;
    row.map(|(code,)| tier_from_code(&code).ok_or_else(|| corrupt("routing_referral_triage.triage_tier", &code)))
        .transpose()
}
