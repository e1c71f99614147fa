//! The outbox relay: publishes unsent rows with publisher confirms and marks
//! them sent only after an Ack. Rows are claimed by status
//! (`sent_at IS NULL … FOR UPDATE SKIP LOCKED` on PostgreSQL), never by an id
//! cursor, so a row whose transaction commits late is never skipped. Several
//! relays may run against one PostgreSQL database; SQLite has one per file.

use std::sync::Arc;
use std::time::Duration;

use futures::future::join_all;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use wf_db::{Backend, Db, DbError};

use crate::outbox::NOTIFY_CHANNEL;
use crate::{Backoff, Envelope, EventBus, PublishError};

#[derive(Debug, Clone)]
pub struct RelayOptions {
    /// Rows claimed and published per round.
    pub batch_size: i64,
    /// Safety-net poll when no notification arrives.
    pub poll_interval: Duration,
    /// Wait after a failed round (database or broker down), doubling to the max.
    pub error_backoff: Backoff,
}

impl Default for RelayOptions {
    fn default() -> Self {
        Self {
            batch_size: 200,
            poll_interval: Duration::from_millis(500),
            error_backoff: Backoff { initial: Duration::from_millis(100), max: Duration::from_secs(5) },
        }
    }
}

/// Wakes the relay right after a commit that wrote outbox rows.
#[derive(Clone, Debug, Default)]
pub struct RelayHandle {
    wake: Arc<Notify>,
}

impl RelayHandle {
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

pub struct Relay {
    db: Db,
    bus: Arc<dyn EventBus>,
    options: RelayOptions,
    handle: RelayHandle,
    producer: String,
}

/// Outcome of one round.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RoundReport {
    pub claimed: usize,
    pub sent: usize,
}

impl Relay {
    pub fn new(producer: &str, db: Db, bus: Arc<dyn EventBus>, options: RelayOptions) -> Self {
        Self { db, bus, options, handle: RelayHandle::default(), producer: producer.to_owned() }
    }

    pub fn handle(&self) -> RelayHandle {
        self.handle.clone()
    }

    /// Runs until `shutdown`; the batch in flight is finished first.
    pub async fn run(self, shutdown: CancellationToken) {
        if self.db.backend() == Backend::Postgres {
            tokio::spawn(listen_for_notifications(self.db.url().to_owned(), self.handle.clone(), shutdown.clone()));
        }
        let mut failures = 0u32;
        loop {
            if shutdown.is_cancelled() {
                break;
            }
            match self.round().await {
                Ok(report) if report.sent < report.claimed => {
                    // Some publishes failed (broker down or refusing): back off rather than
                    // claim the same rows again at once, doubling while it lasts.
                    failures = failures.saturating_add(1);
                    sleep_or_shutdown(self.options.error_backoff.delay(failures), &shutdown).await;
                    continue;
                }
                Ok(report) => {
                    failures = 0;
                    if report.claimed as i64 >= self.options.batch_size {
                        continue; // more waiting: go again at once
                    }
                }
                Err(err) => {
                    failures = failures.saturating_add(1);
                    let delay = self.options.error_backoff.delay(failures);
                    tracing::warn!(producer = %self.producer, error = %err, retry_in_ms = delay.as_millis() as u64, "outbox relay round failed");
                    sleep_or_shutdown(delay, &shutdown).await;
                    continue;
                }
            }
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = self.handle.wake.notified() => {}
                _ = tokio::time::sleep(self.options.poll_interval) => {}
            }
        }
        tracing::debug!(producer = %self.producer, "outbox relay stopped");
    }

    /// Claims one batch, publishes it, marks what was confirmed.
    pub async fn round(&self) -> Result<RoundReport, DbError> {
        match self.db.backend() {
            Backend::Postgres => self.round_postgres().await,
            Backend::Sqlite => self.round_sqlite().await,
        }
    }

    async fn round_postgres(&self) -> Result<RoundReport, DbError> {
        let mut tx = self.db.begin().await?;
        let rows: Vec<(i64, Vec<u8>)> = sqlx::query_as(
            "SELECT id, envelope FROM event_outbox WHERE sent_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
        )
        .bind(self.options.batch_size)
        .fetch_all(&mut *tx)
        .await?;
        let outcomes = self.publish_all(&rows).await;
        let report = RoundReport { claimed: rows.len(), sent: outcomes.iter().filter(|o| o.is_ok()).count() };
        for ((id, _), outcome) in rows.iter().zip(outcomes) {
            mark(&mut tx, *id, outcome).await?;
        }
        tx.commit().await?;
        Ok(report)
    }

    // One relay per SQLite file and a one-connection pool: no lock is held while publishing.
    async fn round_sqlite(&self) -> Result<RoundReport, DbError> {
        let rows: Vec<(i64, Vec<u8>)> =
            sqlx::query_as("SELECT id, envelope FROM event_outbox WHERE sent_at IS NULL ORDER BY id LIMIT $1")
                .bind(self.options.batch_size)
                .fetch_all(self.db.pool())
                .await?;
        if rows.is_empty() {
            return Ok(RoundReport::default());
        }
        let outcomes = self.publish_all(&rows).await;
        let report = RoundReport { claimed: rows.len(), sent: outcomes.iter().filter(|o| o.is_ok()).count() };
        let mut tx = self.db.begin().await?;
        for ((id, _), outcome) in rows.iter().zip(outcomes) {
            mark(&mut tx, *id, outcome).await?;
        }
        tx.commit().await?;
        Ok(report)
    }

    async fn publish_all(&self, rows: &[(i64, Vec<u8>)]) -> Vec<Result<(), String>> {
        join_all(rows.iter().map(|(id, bytes)| async move {
            let envelope = Envelope::decode(bytes).map_err(|err| {
                tracing::error!(outbox_id = id, error = %err, "outbox row holds an undecodable envelope");
                err.to_string()
            })?;
            let span = tracing::info_span!(
                "event.publish",
                otel.kind = "producer",
                messaging.system = "wayfinder",
                event.r#type = %envelope.event_type,
                event.id = %envelope.event_id,
                producer = %self.producer,
            );
            envelope.trace.attach_to(&span);
            self.bus
                .publish(&envelope)
                .instrument(span)
                .await
                .map_err(|err: PublishError| {
                    tracing::warn!(event.id = %envelope.event_id, event.r#type = %envelope.event_type, error = %err, "publish not confirmed, will retry");
                    err.to_string()
                })
        }))
        .await
    }
}

async fn mark(tx: &mut wf_db::Tx, id: i64, outcome: Result<(), String>) -> Result<(), DbError> {
    match outcome {
        Ok(()) => {
            sqlx::query("UPDATE event_outbox SET sent_at = $1, attempts = attempts + 1 WHERE id = $2")
                .bind(wf_db::now_micros())
                .bind(id)
                .execute(&mut **tx)
                .await?;
        }
        Err(error) => {
            sqlx::query("UPDATE event_outbox SET attempts = attempts + 1, last_error = $1 WHERE id = $2")
                .bind(error)
                .bind(id)
                .execute(&mut **tx)
                .await?;
        }
    }
    Ok(())
}

async fn sleep_or_shutdown(delay: Duration, shutdown: &CancellationToken) {
    tokio::select! {
        _ = shutdown.cancelled() => {}
        _ = tokio::time::sleep(delay) => {}
    }
}

/// LISTEN on the outbox channel and wake the relay per notification; reconnects
/// after database restarts (the poll timer covers the gap).
async fn listen_for_notifications(url: String, handle: RelayHandle, shutdown: CancellationToken) {
    let backoff = Backoff { initial: Duration::from_millis(200), max: Duration::from_secs(5) };
    let mut failures = 0u32;
    while !shutdown.is_cancelled() {
        let listener = async {
            let mut listener = sqlx::postgres::PgListener::connect(&url).await?;
            listener.listen(NOTIFY_CHANNEL).await?;
            Ok::<_, sqlx::Error>(listener)
        }
        .await;
        let mut listener = match listener {
            Ok(listener) => {
                failures = 0;
                handle.wake();
                listener
            }
            Err(err) => {
                failures = failures.saturating_add(1);
                tracing::debug!(error = %err, "outbox listener cannot connect yet");
                sleep_or_shutdown(backoff.delay(failures), &shutdown).await;
                continue;
            }
        };
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                notification = listener.try_recv() => match notification {
                    Ok(Some(_)) => handle.wake(),
                    Ok(None) => { handle.wake(); } // connection was lost and re-established
                    Err(err) => {
                        tracing::debug!(error = %err, "outbox listener lost its connection");
                        break;
                    }
                }
            }
        }
    }
}
