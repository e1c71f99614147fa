//! The follow-up worker: announces `follow_up.due` when a follow-up's due date arrives and
//! `follow_up.overdue` when its window closes unrecorded, by the service's clock.
//!
//! Each announcement is claimed (a flag on the row) in the same transaction as its outbox event,
//! so a sweep repeated after a crash, a restart, or on another replica never announces twice, and
//! one missed while the service was down is made by the first sweep after it starts.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use wf_db::{Db, DbError};
use wf_events::{Envelope, RelayHandle, outbox};
use wf_proto::events::v1 as events;

use crate::SERVICE;
use crate::clock::Clock;
use crate::domain::services::to_proto_date;
use crate::store::follow_ups::{self, Announcement};

/// Most announcements of one kind per sweep; the next sweep continues.
const BATCH: i64 = 200;

/// What one sweep announced.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepReport {
    pub due: usize,
    pub overdue: usize,
}

#[derive(Clone)]
pub struct FollowUpWorker {
    db: Db,
    clock: Arc<dyn Clock>,
    relay: RelayHandle,
    interval: Duration,
}

impl FollowUpWorker {
    pub fn new(db: Db, clock: Arc<dyn Clock>, relay: RelayHandle, interval: Duration) -> Self {
        Self { db, clock, relay, interval }
    }

    /// Sweeps every `interval` until `shutdown`. A failed sweep is logged and retried next tick.
    pub async fn run(self, shutdown: CancellationToken) {
        loop {
            match self.sweep().await {
                Ok(report) if report != SweepReport::default() => {
                    tracing::info!(due = report.due, overdue = report.overdue, "follow-ups announced");
                }
                Ok(_) => {}
                Err(err) => tracing::warn!(error = %err, "follow-up sweep failed; retrying next tick"),
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(self.interval) => {}
            }
        }
    }

    /// Announces everything owed at the clock's now. Due before overdue, so a follow-up whose
    /// whole window passed while the service was down is announced due, then overdue.
    pub async fn sweep(&self) -> Result<SweepReport, DbError> {
        let now = self.clock.now_micros();
        let mut report = SweepReport::default();
        for announcement in [Announcement::Due, Announcement::Overdue] {
            for id in follow_ups::owed(&self.db, announcement, now, BATCH).await? {
                if self.announce(&id, announcement).await? {
                    match announcement {
                        Announcement::Due => report.due += 1,
                        Announcement::Overdue => report.overdue += 1,
                    }
                }
            }
        }
        if report != SweepReport::default() {
            self.relay.wake();
        }
        Ok(report)
    }

    async fn announce(&self, follow_up_id: &str, announcement: Announcement) -> Result<bool, DbError> {
        let mut tx = self.db.begin().await?;
        if !follow_ups::claim(&mut tx, follow_up_id, announcement).await? {
            tx.rollback().await?;
            return Ok(false);
        }
        let Some(record) = follow_ups::get_in(&mut tx, follow_up_id).await? else {
            tx.rollback().await?;
            return Ok(false);
        };
        let case_manager_id = record.case_manager_id.clone().unwrap_or_default();
        let envelope = match announcement {
            Announcement::Due => Envelope::new(
                SERVICE,
                record.case_id.clone(),
                record.case_id.clone(),
                &events::FollowUpDue {
                    follow_up_id: record.follow_up_id.clone(),
                    case_id: record.case_id.clone(),
                    kind: record.kind as i32,
                    due_on: Some(to_proto_date(record.due_on)),
                    case_manager_id,
                    practice: record.practice,
                },
            ),
            Announcement::Overdue => Envelope::new(
                SERVICE,
                record.case_id.clone(),
                record.case_id.clone(),
                &events::FollowUpOverdue {
                    follow_up_id: record.follow_up_id.clone(),
                    case_id: record.case_id.clone(),
                    kind: record.kind as i32,
                    due_on: Some(to_proto_date(record.due_on)),
                    case_manager_id,
                    practice: record.practice,
                },
            ),
        };
        outbox::enqueue(&mut tx, self.db.backend(), &envelope).await?;
        tx.commit().await?;
        Ok(true)
    }
}
