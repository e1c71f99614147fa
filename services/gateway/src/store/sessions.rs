//! `gateway_sessions`.

use sqlx::{AnyConnection, Row};
use wf_db::{DbError, Tx};
use wf_types::{AccountId, SessionId};

use super::corrupt;

/// A session as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    pub id: SessionId,
    pub token_hash: String,
    /// `None` before sign-in.
    pub account_id: Option<AccountId>,
    pub csrf_token: String,
    pub sign_in_method: Option<String>,
    pub created_at: i64,
    pub last_seen_at: i64,
}

pub async fn insert(tx: &mut Tx, session: &SessionRow) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO gateway_sessions (session_id, token_hash, account_id, csrf_token, sign_in_method, created_at, \
         last_seen_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(session.id.to_string())
    .bind(session.token_hash.clone())
    .bind(session.account_id.as_ref().map(ToString::to_string))
    .bind(session.csrf_token.clone())
    .bind(session.sign_in_method.clone())
    .bind(session.created_at)
    .bind(session.last_seen_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn by_token_hash(conn: &mut AnyConnection, token_hash: &str) -> Result<Option<SessionRow>, DbError> {
    let Some(row) = sqlx::query(
        "SELECT session_id, token_hash, account_id, csrf_token, sign_in_method, created_at, last_seen_at \
         FROM gateway_sessions WHERE token_hash = $1",
    )
    .bind(token_hash.to_owned())
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    let id: String = row.try_get("session_id")?;
    let account: Option<String> = row.try_get("account_id")?;
    Ok(Some(SessionRow {
        id: id.parse().map_err(|_| corrupt("gateway_sessions.session_id", &id))?,
        token_hash: row.try_get("token_hash")?,
        account_id: account.map(|a| a.parse().map_err(|_| corrupt("gateway_sessions.account_id", &a))).transpose()?,
        csrf_token: row.try_get("csrf_token")?,
        sign_in_method: row.try_get("sign_in_method")?,
        created_at: row.try_get("created_at")?,
        last_seen_at: row.try_get("last_seen_at")?,
    }))
}

pub async fn touch(conn: &mut AnyConnection, id: &SessionId, now: i64) -> Result<(), DbError> {
    sqlx::query("UPDATE gateway_sessions SET last_seen_at = $1 WHERE session_id = $2 AND last_seen_at < $1")
        .bind(now)
        .bind(id.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn delete(conn: &mut AnyConnection, id: &SessionId) -> Result<(), DbError> {
    sqlx::query("DELETE FROM gateway_sessions WHERE session_id = $1").bind(id.to_string()).execute(&mut *conn).await?;
    Ok(())
}

/// Ends every session of `account`, but `keep` when given; returns how many ended.
pub async fn delete_for_account(tx: &mut Tx, account: &AccountId, keep: Option<&SessionId>) -> Result<u64, DbError> {
    let done = sqlx::query("DELETE FROM gateway_sessions WHERE account_id = $1 AND session_id <> $2")
        .bind(account.to_string())
        .bind(keep.map(ToString::to_string).unwrap_or_default())
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected())
}

/// Removes sessions last seen before `idle_before` or created before `created_before`.
pub async fn sweep(conn: &mut AnyConnection, idle_before: i64, created_before: i64) -> Result<u64, DbError> {
    let done = sqlx::query("DELETE FROM gateway_sessions WHERE last_seen_at <= $1 OR created_at <= $2")
        .bind(idle_before)
        .bind(created_before)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected())
}
