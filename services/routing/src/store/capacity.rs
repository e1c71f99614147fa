//! Open places per partner service (`routing_capacity`). Taking a place is a guarded UPDATE
//! (`… AND open_slots > 0`), so concurrent accepts never exceed capacity.

use std::collections::HashMap;

use wf_db::{Db, DbError, Tx};

use crate::domain::Directory;

/// Seeds open capacity from the directory for services not yet in the table; the table
/// wins for services it has (capacity changes after seeding are the database's).
pub async fn seed_capacity(db: &Db, directory: &Directory, now: i64) -> Result<(), DbError> {
    let mut tx = db.begin().await?;
    for service in directory.services() {
        sqlx::query(
            "INSERT INTO routing_capacity (partner_service_id, open_slots, maximum_slots, updated_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (partner_service_id) DO NOTHING",
        )
        .bind(&service.id)
        .bind(i64::from(service.open_capacity()))
        .bind(i64::from(service.maximum_capacity()))
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Open places per partner service, through the pool (`db.pool()`: what the API shows) or
/// inside a transaction (`&mut **tx`: what a decision sees).
pub async fn open_places<'e>(
    executor: impl sqlx::Executor<'e, Database = sqlx::Any>,
) -> Result<HashMap<String, u32>, DbError> {
    let rows: Vec<(String, i64)> =
        sqlx::query_as("SELECT partner_service_id, open_slots FROM routing_capacity").fetch_all(executor).await?;
    Ok(rows.into_iter().map(|(id, open)| (id, u32::try_from(open).unwrap_or(0))).collect())
}

pub async fn open_capacity_of(db: &Db, partner_service_id: &str) -> Result<Option<u32>, DbError> {
    let row: Option<(i64,)> = sqlx::query_as("SELECT open_slots FROM routing_capacity WHERE partner_service_id = $1")
        .bind(partner_service_id)
        .fetch_optional(db.pool())
        .await?;
    Ok(row.map(|(open,)| u32::try_from(open).unwrap_or(0)))
}

/// Takes one open place; `false` when none was left. The guard in the WHERE clause is
/// what keeps concurrent accepts within capacity: PostgreSQL re-checks it after waiting
/// for a concurrent update of the row.
pub async fn take_slot(tx: &mut Tx, partner_service_id: &str, now: i64) -> Result<bool, DbError> {
    let result = sqlx::query(
        "UPDATE routing_capacity SET open_slots = open_slots - 1, updated_at = $1 \
         WHERE partner_service_id = $2 AND open_slots > 0",
    )
    .bind(now)
    .bind(partner_service_id)
    .execute(&mut **tx)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Sets the open places and maximum of a service (the totals over its capacity units), in a
/// transaction (`&mut **tx`) or on its own (`db.pool()`).
pub async fn set_capacity<'e>(
    executor: impl sqlx::Executor<'e, Database = sqlx::Any>,
    partner_service_id: &str,
    open: u32,
    maximum: u32,
    now: i64,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO routing_capacity (partner_service_id, open_slots, maximum_slots, updated_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (partner_service_id) \
         DO UPDATE SET open_slots = $2, maximum_slots = $3, updated_at = $4",
    )
    .bind(partner_service_id)
    .bind(i64::from(open))
    .bind(i64::from(maximum))
    .bind(now)
    .execute(executor)
    .await?;
    Ok(())
}

/// A place given back when a referral's case closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnedPlace {
    pub offer_id: String,
    pub partner_service_id: String,
    /// `false` when the service was already at its maximum (a capacity update since the accept
    /// restored it), so nothing was added.
    pub added: bool,
}

/// Gives back the place each accepted offer of `referral_id` took, once per offer: the offer is
/// marked first with a guarded UPDATE (`capacity_returned_at IS NULL`), so a closure handled
/// twice, or two closures of the same referral's case, return one place. Open places never
/// exceed the service's maximum.
pub async fn return_places(tx: &mut Tx, referral_id: &str, now: i64) -> Result<Vec<ReturnedPlace>, DbError> {
    let held: Vec<(String, String)> = sqlx::query_as(
        "SELECT offer_id, partner_service_id FROM routing_offer \
         WHERE referral_id = $1 AND status = 'accepted' AND capacity_returned_at IS NULL ORDER BY offer_id",
    )
    .bind(referral_id)
    .fetch_all(&mut **tx)
    .await?;
    let mut returned = Vec::with_capacity(held.len());
    for (offer_id, partner_service_id) in held {
        let marked = sqlx::query(
            "UPDATE routing_offer SET capacity_returned_at = $1 \
             WHERE offer_id = $2 AND status = 'accepted' AND capacity_returned_at IS NULL",
        )
        .bind(now)
        .bind(&offer_id)
        .execute(&mut **tx)
        .await?;
        if marked.rows_affected() != 1 {
            continue;
        }
        let added = sqlx::query(
            "UPDATE routing_capacity SET open_slots = open_slots + 1, updated_at = $1 \
             WHERE partner_service_id = $2 AND open_slots < maximum_slots",
        )
        .bind(now)
        .bind(&partner_service_id)
        .execute(&mut **tx)
        .await?;
        returned.push(ReturnedPlace { offer_id, partner_service_id, added: added.rows_affected() == 1 });
    }
    Ok(returned)
}
