//! The consumer: every event on the bus becomes one entry of the log.
//!
//! Deduplication uses the log itself rather than the shared inbox table: `audit_entry.event_id`
//! is UNIQUE and is checked after the head lock is taken, so two deliveries of one event cannot
//! both append (the second waits for the first to commit, then finds its entry). The entry is the
//! permanent record of receipt; an inbox row per event would only duplicate it forever, since
//! the log is never pruned.

use wf_db::{Db, DbError};
use wf_events::{Envelope, EventHandler, HandleError};

use crate::domain::chain::{self, EntryContent};
use crate::domain::entry;
use crate::store;

/// Name of the consumer (and its queue).
pub const CONSUMER: &str = "audit";

/// What [`append`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Appended {
    /// A new entry at this sequence.
    New(u64),
    /// The event was already in the log at this sequence; nothing was written.
    Duplicate(u64),
}

/// Appends `content` as the next entry, in one transaction. `recorded_at` is stamped once the
/// head is held, so it never runs backwards along the chain on a steady clock.
pub async fn append(db: &Db, mut content: EntryContent) -> Result<Appended, DbError> {
    let mut tx = db.begin().await?;
    let head = store::lock_head(&mut tx, db.backend()).await?;
    if let Some((sequence, event_type, payload)) = store::find_event(&mut tx, &content.event_id).await? {
        tx.commit().await?;
        if event_type != content.event_type || payload != content.payload {
            tracing::warn!(
                event_id = %content.event_id,
                sequence,
                "an event id arrived again with different content; the first version stays in the log"
            );
        }
        return Ok(Appended::Duplicate(sequence));
    }
    content.recorded_at_micros = wf_db::now_micros();
    let Some(entry) = chain::seal(&head, content) else {
        return Err(DbError::Config { message: "audit_head holds a hash that is not 32 bytes".to_owned() });
    };
    store::append(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(Appended::New(entry.sequence))
}

/// Appends every delivered event.
#[derive(Debug, Clone)]
pub struct AuditEvents {
    db: Db,
}

impl AuditEvents {
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

#[async_trait::async_trait]
impl EventHandler for AuditEvents {
    async fn handle(&self, envelope: Envelope) -> Result<(), HandleError> {
        let content = entry::content_from(&envelope, 0).map_err(|err| {
            tracing::warn!(event_id = %envelope.event_id, event_type = %envelope.event_type, error = %err, "event refused by audit");
            HandleError::Permanent(err.to_string())
        })?;
        match append(&self.db, content).await? {
            Appended::New(sequence) => tracing::debug!(
                event_id = %envelope.event_id,
                event_type = %envelope.event_type,
                sequence,
                "audit entry appended"
            ),
            Appended::Duplicate(sequence) => tracing::debug!(
                event_id = %envelope.event_id,
                sequence,
                "redelivered event already in the audit log"
            ),
        }
        Ok(())
    }
}
