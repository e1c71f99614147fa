//! What the bus tests share: envelopes, a counting handler, a consumer task. Databases, broker
//! prefixes, collectors and waiting come from wf-testkit.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;
use wf_db::MigrationSet;
use wf_events::{Backoff, BusError, Envelope, EventBus, EventHandler, HandleError, RabbitBus, Subscription};
use wf_telemetry::TraceContext;

/// The wf-events tables (outbox, inbox, the in-process bus's dead letters).
pub fn events_migrations() -> MigrationSet {
    let (pg, sqlite) = wf_events::migrations();
    MigrationSet::new().with(pg, sqlite)
}

pub fn fast_backoff() -> Backoff {
    Backoff { initial: Duration::from_millis(20), max: Duration::from_millis(100) }
}

pub fn envelope(event_type: &str) -> Envelope {
    let event_id = Uuid::now_v7();
    Envelope {
        event_id,
        event_type: event_type.to_owned(),
        occurred_at: Utc::now(),
        aggregate_id: format!("agg_{}", event_id.simple()),
        producer: "it".to_owned(),
        schema_version: 1,
        trace: TraceContext {
            traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".to_owned(),
            tracestate: String::new(),
        },
        correlation_id: String::new(),
        payload: vec![8, 1],
    }
}

/// A running consumer.
pub struct Running {
    pub shutdown: CancellationToken,
    pub task: JoinHandle<Result<(), BusError>>,
}

impl Running {
    pub async fn stop(self) {
        self.shutdown.cancel();
        let result = tokio::time::timeout(Duration::from_secs(20), self.task)
            .await
            .expect("consumer stops after shutdown")
            .expect("consumer task");
        result.expect("consume returns Ok on shutdown");
    }
}

pub fn spawn_consumer(bus: &RabbitBus, subscription: Subscription, handler: Arc<dyn EventHandler>) -> Running {
    let shutdown = CancellationToken::new();
    let bus = bus.clone();
    let token = shutdown.clone();
    let task = tokio::spawn(async move { bus.consume(subscription, handler, token).await });
    Running { shutdown, task }
}

/// Counts calls per event id; fails (transient or permanent) while told to.
#[derive(Default)]
pub struct CountingHandler {
    pub calls: Mutex<HashMap<Uuid, u32>>,
    pub fail_transient: std::sync::atomic::AtomicBool,
    pub fail_permanent: std::sync::atomic::AtomicBool,
}

impl CountingHandler {
    pub fn calls_of(&self, id: Uuid) -> u32 {
        self.calls.lock().unwrap().get(&id).copied().unwrap_or(0)
    }

    pub fn distinct(&self) -> usize {
        self.calls.lock().unwrap().len()
    }
}

#[async_trait::async_trait]
impl EventHandler for CountingHandler {
    async fn handle(&self, envelope: Envelope) -> Result<(), HandleError> {
        *self.calls.lock().unwrap().entry(envelope.event_id).or_default() += 1;
        if self.fail_permanent.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(HandleError::Permanent("invariant violated".into()));
        }
        if self.fail_transient.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(HandleError::Transient("database unavailable".into()));
        }
        Ok(())
    }
}
