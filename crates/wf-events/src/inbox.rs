//! The consumer side: the event id is recorded in the same transaction as the
//! effect, so a redelivered event has no second effect.

use wf_db::{DbError, Tx};

use crate::Envelope;

/// Records `envelope` as processed by `consumer`. Returns `false` when it was
/// already recorded: the caller must then skip the effect (and still commit/ack).
pub async fn record(tx: &mut Tx, consumer: &str, envelope: &Envelope) -> Result<bool, DbError> {
    let result = sqlx::query(
        "INSERT INTO event_inbox (consumer, event_id, event_type, received_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (consumer, event_id) DO NOTHING",
    )
    .bind(consumer)
    .bind(envelope.event_id.to_string())
    .bind(envelope.event_type.clone())
    .bind(wf_db::now_micros())
    .execute(&mut **tx)
    .await?;
    Ok(result.rows_affected() == 1)
}
