//! A queue of the test's own that keeps every envelope published to its bindings, and
//! [`eventually`], the one way a test waits for something asynchronous.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use wf_events::{Envelope, EventBus, EventHandler, HandleError, Subscription};

/// Polls `check` every 50 ms until it is true or `timeout` passes; returns the last result.
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

struct Keep(Arc<Mutex<Vec<Envelope>>>);

#[async_trait::async_trait]
impl EventHandler for Keep {
    async fn handle(&self, envelope: Envelope) -> Result<(), HandleError> {
        self.0.lock().expect("collector lock").push(envelope);
        Ok(())
    }
}

/// Consumes a queue named `queue` bound to `bindings` and keeps every envelope it receives.
pub struct Collector {
    seen: Arc<Mutex<Vec<Envelope>>>,
    shutdown: CancellationToken,
    task: Option<JoinHandle<()>>,
}

impl Collector {
    /// Declares the queue and starts consuming; events published from now on are kept.
    pub async fn start(bus: Arc<dyn EventBus>, queue: &str, bindings: &[&str]) -> Self {
        let subscription = Subscription::new(queue, bindings);
        bus.declare(&subscription).await.expect("declare the collector's queue");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let handler = Arc::new(Keep(seen.clone()));
        let shutdown = CancellationToken::new();
        let token = shutdown.clone();
        let task = tokio::spawn(async move {
            bus.consume(subscription, handler, token).await.expect("collector consumes");
        });
        Self { seen, shutdown, task: Some(task) }
    }

    /// Every envelope received so far, in arrival order.
    pub fn events(&self) -> Vec<Envelope> {
        self.seen.lock().expect("collector lock").clone()
    }

    /// The envelopes of one event type received so far.
    pub fn of_type(&self, event_type: &str) -> Vec<Envelope> {
        self.events().into_iter().filter(|e| e.event_type == event_type).collect()
    }

    /// Waits up to `timeout` for an envelope of `event_type`; panics naming what did arrive.
    pub async fn wait_for(&self, event_type: &str, timeout: Duration) -> Envelope {
        if eventually(timeout, || async { !self.of_type(event_type).is_empty() }).await {
            return self.of_type(event_type).remove(0);
        }
        let seen: Vec<String> = self.events().into_iter().map(|e| e.event_type).collect();
        panic!("no {event_type} within {timeout:?}; received: {seen:?}");
    }

    /// Stops consuming and returns everything received.
    pub async fn finish(mut self) -> Vec<Envelope> {
        self.shutdown.cancel();
        if let Some(task) = self.task.take() {
            task.await.expect("collector task");
        }
        self.events()
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}
