//! Each referral's progress against its time limit (`routing_referral_limit`): one row per
//! referral, each event writing only its own columns, so they may arrive in any order. The row is
//! also the referral's lock: whatever makes or accepts an offer of the referral takes it first
//! ([`lock_referral`]) and reads the closure there, and the closure's write ([`record_closed`])
//! waits for it, so an offer is never made or accepted beside a closure it did not see.

use sqlx::Row;
use sqlx::any::AnyRow;
use wf_db::{Backend, DbError, Tx};
use wf_proto::common::v1::{Site, TriageTier};

use super::corrupt;
use crate::domain::time_limits::{LimitKind, TimeLimit};
use crate::domain::{site_code, site_from_code, tier_code, tier_from_code};

/// A referral whose limit fell due and has not been looked at since.
#[derive(Debug, Clone, PartialEq)]
pub struct DueLimit {
    pub referral_id: String,
    pub received_at: i64,
    pub triage_tier: TriageTier,
    pub site: Site,
    pub practice: bool,
    pub limit_kind: LimitKind,
    pub due_at: i64,
    pub first_contact_at: Option<i64>,
    pub closed_at: Option<i64>,
}

/// Records the receipt of a referral and the limit it starts under; a second receipt changes
/// nothing (the first one counts).
pub async fn record_received(
    tx: &mut Tx,
    referral_id: &str,
    received_at: i64,
    tier: TriageTier,
    site: Site,
    practice: bool,
    limit: TimeLimit,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO routing_referral_limit (referral_id, received_at, triage_tier, site, practice, limit_kind, due_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (referral_id) DO UPDATE SET \
         received_at = excluded.received_at, triage_tier = excluded.triage_tier, site = excluded.site, \
         practice = excluded.practice, limit_kind = excluded.limit_kind, due_at = excluded.due_at \
         WHERE routing_referral_limit.received_at IS NULL",
    )
    .bind(referral_id)
    .bind(received_at)
    .bind(tier_code(tier))
    .bind(site_code(site))
    .bind(i32::from(practice))
    .bind(limit.kind.code())
    .bind(wf_db::to_micros(limit.due))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// When the referral was received; `None` when routing has no receipt on record (it was
/// received before routing kept them).
pub async fn received_at_of(tx: &mut Tx, referral_id: &str) -> Result<Option<i64>, DbError> {
    let row: Option<(Option<i64>,)> =
        sqlx::query_as("SELECT received_at FROM routing_referral_limit WHERE referral_id = $1")
            .bind(referral_id)
            .fetch_optional(&mut **tx)
            .await?;
    Ok(row.and_then(|(at,)| at))
}

/// Puts the referral under the limit of its new tier and has the worker look at it again.
pub async fn retier(tx: &mut Tx, referral_id: &str, tier: TriageTier, limit: TimeLimit) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE routing_referral_limit SET triage_tier = $1, limit_kind = $2, due_at = $3, settled_at = NULL \
         WHERE referral_id = $4 AND received_at IS NOT NULL",
    )
    .bind(tier_code(tier))
    .bind(limit.kind.code())
    .bind(wf_db::to_micros(limit.due))
    .bind(referral_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Records a contact attempt that reached the youth at `at`; the earliest one is kept.
pub async fn record_contact(tx: &mut Tx, referral_id: &str, at: i64) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO routing_referral_limit (referral_id, first_contact_at) VALUES ($1, $2) \
         ON CONFLICT (referral_id) DO UPDATE SET first_contact_at = excluded.first_contact_at \
         WHERE routing_referral_limit.first_contact_at IS NULL \
         OR excluded.first_contact_at < routing_referral_limit.first_contact_at",
    )
    .bind(referral_id)
    .bind(at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Records that intake closed the referral at `at`; the earliest closure is kept. Waits for a
/// transaction holding the referral's lock ([`lock_referral`]) and holds it from then on.
pub async fn record_closed(tx: &mut Tx, referral_id: &str, at: i64) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO routing_referral_limit (referral_id, closed_at) VALUES ($1, $2) \
         ON CONFLICT (referral_id) DO UPDATE SET closed_at = excluded.closed_at \
         WHERE routing_referral_limit.closed_at IS NULL OR excluded.closed_at < routing_referral_limit.closed_at",
    )
    .bind(referral_id)
    .bind(at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Locks the referral's row for the rest of `tx` — creating it, empty, when routing has none yet,
/// so there is a row to lock — and returns when intake closed the referral, if it did. On PostgreSQL
/// `SELECT … FOR UPDATE` waits for a closure being written and then reads it; SQLite has one writer,
/// and the insert makes `tx` a write transaction before the read.
pub async fn lock_referral(tx: &mut Tx, backend: Backend, referral_id: &str) -> Result<Option<i64>, DbError> {
    sqlx::query("INSERT INTO routing_referral_limit (referral_id) VALUES ($1) ON CONFLICT (referral_id) DO NOTHING")
        .bind(referral_id)
        .execute(&mut **tx)
        .await?;
    let lock = if backend == Backend::Postgres { " FOR UPDATE" } else { "" };
    let (closed_at,): (Option<i64>,) =
        sqlx::query_as(&format!("SELECT closed_at FROM routing_referral_limit WHERE referral_id = $1{lock}"))
            .bind(referral_id)
            .fetch_one(&mut **tx)
            .await?;
    Ok(closed_at)
}

const DUE_COLUMNS: &str =
    "referral_id, received_at, triage_tier, site, practice, limit_kind, due_at, first_contact_at, closed_at";

fn due_from_row(row: &AnyRow) -> Result<DueLimit, DbError> {
    let tier: String = row.try_get("triage_tier")?;
    let site: String = row.try_get("site")?;
    let kind: String = row.try_get("limit_kind")?;
    Ok(DueLimit {
        referral_id: row.try_get("referral_id")?,
        received_at: row.try_get("received_at")?,
        triage_tier: tier_from_code(&tier).ok_or_else(|| corrupt("routing_referral_limit.triage_tier", &tier))?,
        site: site_from_code(&site).ok_or_else(|| corrupt("routing_referral_limit.site", &site))?,
        practice: row.try_get::<i64, _>("practice")? != 0,
        limit_kind: LimitKind::from_code(&kind).ok_or_else(|| corrupt("routing_referral_limit.limit_kind", &kind))?,
        due_at: row.try_get("due_at")?,
        first_contact_at: row.try_get("first_contact_at")?,
        closed_at: row.try_get("closed_at")?,
    })
}

/// Unsettled limits due before `now`, earliest first, unlocked: the worker then takes each one's
/// lock with [`lock_due_limit`], waiting for whoever holds it (an offer being made or expired, a
/// closure being written) rather than skipping the referral until its next pass.
pub async fn due_limits(tx: &mut Tx, now: i64, limit: i64) -> Result<Vec<DueLimit>, DbError> {
    let rows = sqlx::query(&format!(
        "SELECT {DUE_COLUMNS} FROM routing_referral_limit \
         WHERE settled_at IS NULL AND received_at IS NOT NULL AND due_at < $1 \
         ORDER BY due_at, referral_id LIMIT $2"
    ))
    .bind(now)
    .bind(limit)
    .fetch_all(&mut **tx)
    .await?;
    rows.iter().map(due_from_row).collect()
}

/// The referral's limit, locked for the rest of `tx` (the referral's lock, see [`lock_referral`]),
/// when it is still unsettled and due before `now` as of the lock; `None` when another routing
/// instance settled it, or a re-triage moved it, meanwhile. SQLite has one writer anyway.
pub async fn lock_due_limit(
    tx: &mut Tx,
    backend: Backend,
    referral_id: &str,
    now: i64,
) -> Result<Option<DueLimit>, DbError> {
    let lock = if backend == Backend::Postgres { " FOR UPDATE" } else { "" };
    let row = sqlx::query(&format!(
        "SELECT {DUE_COLUMNS} FROM routing_referral_limit \
         WHERE referral_id = $1 AND settled_at IS NULL AND received_at IS NOT NULL AND due_at < $2{lock}"
    ))
    .bind(referral_id)
    .bind(now)
    .fetch_optional(&mut **tx)
    .await?;
    row.as_ref().map(due_from_row).transpose()
}

/// Marks the referral's limit looked at, as of `at`.
pub async fn settle(tx: &mut Tx, referral_id: &str, at: i64) -> Result<(), DbError> {
    sqlx::query("UPDATE routing_referral_limit SET settled_at = $1 WHERE referral_id = $2")
        .bind(at)
        .bind(referral_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
