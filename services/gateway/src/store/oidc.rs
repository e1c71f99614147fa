//! `gateway_oidc_pending`: sign-ins started at the OpenID Connect provider.

use sqlx::AnyConnection;
use wf_db::{DbError, Tx};

/// One sign-in waiting for the provider's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    pub state_hash: String,
    pub binding_hash: String,
    pub nonce: String,
    pub verifier: String,
    pub created_at: i64,
}

pub async fn insert(tx: &mut Tx, pending: &Pending) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO gateway_oidc_pending (state_hash, binding_hash, nonce, verifier, created_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(pending.state_hash.clone())
    .bind(pending.binding_hash.clone())
    .bind(pending.nonce.clone())
    .bind(pending.verifier.clone())
    .bind(pending.created_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Takes the sign-in with `state_hash`: it is deleted in the same statement, so two callbacks
/// naming one state find it at most once between them.
pub async fn take(conn: &mut AnyConnection, state_hash: &str) -> Result<Option<Pending>, DbError> {
    let row: Option<(String, String, String, String, i64)> = sqlx::query_as(
        "DELETE FROM gateway_oidc_pending WHERE state_hash = $1 \
         RETURNING state_hash, binding_hash, nonce, verifier, created_at",
    )
    .bind(state_hash.to_owned())
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(|(state_hash, binding_hash, nonce, verifier, created_at)| Pending {
        state_hash,
        binding_hash,
        nonce,
        verifier,
        created_at,
    }))
}

/// Deletes the sign-ins started before `cutoff`; how many.
pub async fn sweep(conn: &mut AnyConnection, cutoff: i64) -> Result<u64, DbError> {
    let done =
        sqlx::query("DELETE FROM gateway_oidc_pending WHERE created_at < $1").bind(cutoff).execute(&mut *conn).await?;
    Ok(done.rows_affected())
}
