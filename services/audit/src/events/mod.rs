//! The consumer: every event on the bus becomes one entry of the log ([`crate::app::append`],
//! which also deduplicates redeliveries).

use wf_db::Db;
use wf_events::{Envelope, EventHandler, HandleError};
use wf_types::SharedClock;

use crate::app::append::{Appended, append};
use crate::domain::entry;

/// Name of the consumer (and its queue).
pub const CONSUMER: &str = "audit";

/// Appends every delivered event.
#[derive(Debug, Clone)]
pub struct AuditEvents {
    db: Db,
    clock: SharedClock,
}

impl AuditEvents {
    pub fn new(db: Db, clock: SharedClock) -> Self {
        Self { db, clock }
    }
}

#[async_trait::async_trait]
impl EventHandler for AuditEvents {
    async fn handle(&self, envelope: Envelope) -> Result<(), HandleError> {
        let content = entry::content_from(&envelope, 0).map_err(|err| {
            tracing::warn!(event_id = %envelope.event_id, event_type = %envelope.event_type, error = %err, "event refused by audit");
            HandleError::Permanent(err.to_string())
        })?;
        match append(&self.db, self.clock.as_ref(), content).await? {
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
