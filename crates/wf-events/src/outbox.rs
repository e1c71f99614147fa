//! The producer side of the transactional outbox.

use wf_db::{Backend, DbError, Tx};

use crate::Envelope;

/// Channel the relay LISTENs on (PostgreSQL); the notification is delivered on commit.
pub const NOTIFY_CHANNEL: &str = "wf_event_outbox";

/// Writes `envelope` in the caller's transaction, so the event exists exactly
/// when the change it announces commits.
pub async fn enqueue(tx: &mut Tx, backend: Backend, envelope: &Envelope) -> Result<(), DbError> {
    sqlx::query("INSERT INTO event_outbox (event_id, event_type, envelope, created_at) VALUES ($1, $2, $3, $4)")
        .bind(envelope.event_id.to_string())
        .bind(envelope.event_type.clone())
        .bind(envelope.encode())
        .bind(wf_db::now_micros())
        .execute(&mut **tx)
        .await?;
    if backend == Backend::Postgres {
        sqlx::query("SELECT pg_notify($1, '')").bind(NOTIFY_CHANNEL).execute(&mut **tx).await?;
    }
    Ok(())
}

/// Rows not yet confirmed by the broker: for health checks and tests.
pub async fn pending_count(db: &wf_db::Db) -> Result<i64, DbError> {
    let (count,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM event_outbox WHERE sent_at IS NULL").fetch_one(db.pool()).await?;
    Ok(count)
}
