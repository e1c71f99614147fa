use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use lapin::options::{ExchangeDeleteOptions, QueueDeclareOptions, QueueDeleteOptions};
use lapin::types::FieldTable;
use lapin::{Connection, ConnectionProperties};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;
use wf_events::{
    Backoff, BusError, Envelope, EventBus, EventHandler, HandleError, RabbitBus, RabbitConfig, Subscription,
};
use wf_telemetry::TraceContext;

pub fn amqp_url() -> String {
    std::env::var("WF_TEST_AMQP_URL").unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".to_owned())
}

pub fn database_url() -> String {
    std::env::var("WF_TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// A fresh exchange and queue prefix for one test.
pub fn test_config() -> RabbitConfig {
    let prefix = format!("t{}", Uuid::new_v4().simple());
    let mut cfg = RabbitConfig::new(amqp_url()).with_prefix(format!("{prefix}.events"), prefix);
    cfg.confirm_timeout = Duration::from_secs(5);
    cfg.reconnect_backoff = Backoff { initial: Duration::from_millis(100), max: Duration::from_secs(1) };
    cfg
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

/// Deletes the test's queues and exchanges.
pub async fn cleanup(cfg: &RabbitConfig, services: &[&str]) {
    let conn = Connection::connect(&cfg.url, ConnectionProperties::default()).await.expect("connect for cleanup");
    let channel = conn.create_channel().await.expect("channel");
    for service in services {
        for queue in [cfg.queue_name(service), cfg.dead_letter_queue_name(service)] {
            channel.queue_delete(queue.as_str().into(), QueueDeleteOptions::default()).await.expect("queue delete");
        }
    }
    for exchange in [cfg.exchange.clone(), cfg.dead_letter_exchange()] {
        channel
            .exchange_delete(exchange.as_str().into(), ExchangeDeleteOptions::default())
            .await
            .expect("exchange delete");
    }
    let _ = conn.close(200, "OK".into()).await;
}

/// Ready messages in `queue` (unacked ones are not counted).
pub async fn ready_count(cfg: &RabbitConfig, queue: &str) -> u32 {
    let conn = Connection::connect(&cfg.url, ConnectionProperties::default()).await.expect("connect");
    let channel = conn.create_channel().await.expect("channel");
    let count = channel
        .queue_declare(queue.into(), QueueDeclareOptions { passive: true, ..Default::default() }, FieldTable::default())
        .await
        .expect("passive declare")
        .message_count();
    let _ = conn.close(200, "OK".into()).await;
    count
}

/// Polls `check` until it is true or `timeout` passes; returns the last result.
pub async fn eventually<F, Fut>(timeout: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if check().await {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
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
