//! `gateway_sign_in_attempts`: the throttle's counters. [`lock`] holds a counter for the rest of the
//! caller's transaction (PostgreSQL: `FOR UPDATE`; SQLite: its one connection already serialises
//! writers), so parallel attempts are counted one after another.

use sqlx::{AnyConnection, Row};
use wf_db::{Backend, DbError, Tx};

use crate::domain::throttle::{Attempts, Scope};

fn count(value: i64) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

/// The counter of `(scope, key_hash)`, locked for the transaction (created empty if absent).
pub async fn lock(tx: &mut Tx, backend: Backend, scope: Scope, key_hash: &str, now: i64) -> Result<Attempts, DbError> {
    sqlx::query(
        "INSERT INTO gateway_sign_in_attempts (scope, key_hash, in_window, window_started_at, consecutive) \
         VALUES ($1, $2, 0, $3, 0) ON CONFLICT (scope, key_hash) DO NOTHING",
    )
    .bind(scope.as_str())
    .bind(key_hash.to_owned())
    .bind(now)
    .execute(&mut **tx)
    .await?;
    let lock = if backend == Backend::Postgres { " FOR UPDATE" } else { "" };
    let row = sqlx::query(&format!(
        "SELECT in_window, window_started_at, consecutive FROM gateway_sign_in_attempts \
         WHERE scope = $1 AND key_hash = $2{lock}"
    ))
    .bind(scope.as_str())
    .bind(key_hash.to_owned())
    .fetch_one(&mut **tx)
    .await?;
    Ok(Attempts {
        in_window: count(row.try_get("in_window")?),
        window_started: row.try_get("window_started_at")?,
        consecutive: count(row.try_get("consecutive")?),
    })
}

pub async fn put(tx: &mut Tx, scope: Scope, key_hash: &str, attempts: &Attempts) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE gateway_sign_in_attempts SET in_window = $1, window_started_at = $2, consecutive = $3 \
         WHERE scope = $4 AND key_hash = $5",
    )
    .bind(i64::from(attempts.in_window))
    .bind(attempts.window_started)
    .bind(i64::from(attempts.consecutive))
    .bind(scope.as_str())
    .bind(key_hash.to_owned())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn delete(conn: &mut AnyConnection, scope: Scope, key_hash: &str) -> Result<(), DbError> {
    sqlx::query("DELETE FROM gateway_sign_in_attempts WHERE scope = $1 AND key_hash = $2")
        .bind(scope.as_str())
        .bind(key_hash.to_owned())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Counters whose window started before `before`, for the sweeper to judge.
pub async fn started_before(conn: &mut AnyConnection, before: i64) -> Result<Vec<(Scope, String, Attempts)>, DbError> {
    let rows = sqlx::query(
        "SELECT scope, key_hash, in_window, window_started_at, consecutive FROM gateway_sign_in_attempts \
         WHERE window_started_at < $1",
    )
    .bind(before)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let scope = match row.try_get::<String, _>("scope")?.as_str() {
            "account" => Scope::Account,
            _ => Scope::Address,
        };
        out.push((
            scope,
            row.try_get("key_hash")?,
            Attempts {
                in_window: count(row.try_get("in_window")?),
                window_started: row.try_get("window_started_at")?,
                consecutive: count(row.try_get("consecutive")?),
            },
        ));
    }
    Ok(out)
}
