//! Appending one entry to the log, in one transaction.
//!
//! Deduplication uses the log itself rather than the shared inbox table: `audit_entry.event_id`
//! is UNIQUE and is checked after the head lock is taken, so two deliveries of one event cannot
//! both append (the second waits for the first to commit, then finds its entry). The entry is the
//! permanent record of receipt; an inbox row per event would only duplicate it forever, since
//! the log is never pruned.

use wf_db::{Db, DbError};
use wf_types::Clock;

use crate::domain::chain::{self, EntryContent};
use crate::store::entries;

/// What [`append`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Appended {
    /// A new entry at this sequence.
    New(u64),
    /// The event was already in the log at this sequence; nothing was written.
    Duplicate(u64),
}

/// Appends `content` as the next entry, in one transaction. `recorded_at` is read from `clock`
/// once the head is held (so the clock, not an instant, is passed in): it never runs backwards
/// along the chain on a steady clock.
pub async fn append(db: &Db, clock: &dyn Clock, mut content: EntryContent) -> Result<Appended, DbError> {
    let mut tx = db.begin().await?;
    let head = entries::lock_head(&mut tx, db.backend()).await?;
    if let Some((sequence, event_type, payload)) = entries::find_event(&mut tx, &content.event_id).await? {
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
    content.recorded_at_micros = clock.now_micros();
    let Some(entry) = chain::seal(&head, content) else {
        return Err(DbError::Config { message: "audit_head holds a hash that is not 32 bytes".to_owned() });
    };
    entries::append(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(Appended::New(entry.sequence))
}
