//! The `EventBus` contract shared by the RabbitMQ and in-process buses.
//!
//! Delivery is at-least-once: `publish` returns `Ok` only once the message is
//! safely with the broker (a publisher Ack; for the in-process bus, once every
//! subscriber has finished with it), and a handler's effect must be idempotent
//! through the inbox.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;

use crate::Envelope;

/// Why a publish did not reach the broker. In every case the event counts as not sent.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("broker refused the message (nack)")]
    Nacked,
    #[error("no queue is bound for routing key {routing_key}")]
    Unroutable { routing_key: String },
    #[error("publish not confirmed within {0:?}")]
    Timeout(Duration),
    #[error("broker connection: {0}")]
    Connection(String),
}

/// Errors of consuming and of dead-letter administration.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("broker connection: {0}")]
    Connection(String),
    #[error("topology: {0}")]
    Topology(String),
    #[error("dead-letter store: {0}")]
    DeadLetters(String),
}

/// What a handler reports back for one delivery.
#[derive(Debug, thiserror::Error)]
pub enum HandleError {
    /// May succeed later (database down, conflict): retried with backoff up to the delivery limit.
    #[error("transient: {0}")]
    Transient(String),
    /// Will never succeed (undecodable payload, violated invariant): dead-lettered at once.
    #[error("permanent: {0}")]
    Permanent(String),
}

impl From<wf_db::DbError> for HandleError {
    fn from(err: wf_db::DbError) -> Self {
        // A unique violation in a consumer is a lost race with a concurrent delivery of
        // the same work: retrying finds the winner's row (or inbox entry) and skips.
        if err.is_transient() || matches!(err, wf_db::DbError::UniqueViolation { .. }) {
            HandleError::Transient(err.to_string())
        } else {
            HandleError::Permanent(err.to_string())
        }
    }
}

impl From<sqlx::Error> for HandleError {
    fn from(err: sqlx::Error) -> Self {
        wf_db::DbError::from(err).into()
    }
}

/// A consumer's business logic. Implementations record the event id in their inbox
/// and apply the effect in one transaction, then return.
#[async_trait::async_trait]
pub trait EventHandler: Send + Sync + 'static {
    async fn handle(&self, envelope: Envelope) -> Result<(), HandleError>;
}

/// Exponential backoff between attempts of one delivery.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub initial: Duration,
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self { initial: Duration::from_millis(200), max: Duration::from_secs(10) }
    }
}

impl Backoff {
    /// Delay before retry number `attempt` (1-based): initial · 2^(attempt-1), capped.
    pub fn delay(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1).min(16));
        self.initial.saturating_mul(factor).min(self.max)
    }
}

/// One consuming service's queue: its name, what it binds, how hard it retries.
#[derive(Debug, Clone)]
pub struct Subscription {
    /// The consuming service, e.g. "routing"; names its queue and dead-letter queue.
    pub service: String,
    /// Topic patterns bound to the queue, e.g. `["referral.received"]` or `["#"]`.
    pub bindings: Vec<String>,
    /// Deliveries before a message is dead-lettered (RabbitMQ `x-delivery-limit`).
    pub delivery_limit: u32,
    /// Messages handled concurrently.
    pub prefetch: u16,
    pub backoff: Backoff,
}

impl Subscription {
    pub fn new(service: impl Into<String>, bindings: &[&str]) -> Self {
        Self {
            service: service.into(),
            bindings: bindings.iter().map(|b| (*b).to_owned()).collect(),
            delivery_limit: 5,
            prefetch: 16,
            backoff: Backoff::default(),
        }
    }

    pub fn with_delivery_limit(mut self, limit: u32) -> Self {
        self.delivery_limit = limit.max(1);
        self
    }

    pub fn with_backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// Whether `routing_key` matches any binding (AMQP topic rules: `*` one word, `#` zero or more).
    pub fn matches(&self, routing_key: &str) -> bool {
        self.bindings.iter().any(|pattern| topic_matches(pattern, routing_key))
    }
}

/// AMQP topic matching over dot-separated words.
pub fn topic_matches(pattern: &str, routing_key: &str) -> bool {
    fn go(pattern: &[&str], key: &[&str]) -> bool {
        match (pattern.first(), key.first()) {
            (None, None) => true,
            (Some(&"#"), _) => go(&pattern[1..], key) || (!key.is_empty() && go(pattern, &key[1..])),
            (Some(&"*"), Some(_)) => go(&pattern[1..], &key[1..]),
            (Some(word), Some(k)) if word == k => go(&pattern[1..], &key[1..]),
            _ => false,
        }
    }
    let pattern: Vec<&str> = pattern.split('.').collect();
    let key: Vec<&str> = routing_key.split('.').collect();
    go(&pattern, &key)
}

/// A message that exhausted its attempts (or failed permanently), kept for staff to inspect and replay.
#[derive(Debug, Clone)]
pub struct DeadLetter {
    pub service: String,
    pub envelope: Envelope,
    /// The last handler error, or the broker's reason (e.g. "delivery_limit").
    pub reason: String,
    pub attempts: u32,
    pub dead_lettered_at: DateTime<Utc>,
}

/// Publish, consume, and administer dead letters.
#[async_trait::async_trait]
pub trait EventBus: Send + Sync + 'static {
    /// Returns `Ok` only when the message is durably accepted (publisher Ack).
    async fn publish(&self, envelope: &Envelope) -> Result<(), PublishError>;

    /// Declares the subscription's queue, dead-letter queue and bindings (idempotent).
    async fn declare(&self, subscription: &Subscription) -> Result<(), BusError>;

    /// Consumes until `shutdown` is cancelled, reconnecting after broker failures.
    /// Each message is acked only after `handler` returned `Ok` (after its commit).
    async fn consume(
        &self,
        subscription: Subscription,
        handler: Arc<dyn EventHandler>,
        shutdown: CancellationToken,
    ) -> Result<(), BusError>;

    /// Up to `limit` dead letters of `service`, oldest first, without removing them.
    async fn list_dead_letters(&self, service: &str, limit: usize) -> Result<Vec<DeadLetter>, BusError>;

    /// Sends dead letters of `service` back to that service's queue only; `event_ids`
    /// `None` replays all. Returns how many were replayed.
    async fn replay_dead_letters(&self, service: &str, event_ids: Option<&[String]>) -> Result<usize, BusError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_patterns_follow_amqp_rules() {
        assert!(topic_matches("#", "referral.received"));
        assert!(topic_matches("referral.*", "referral.received"));
        assert!(!topic_matches("referral.*", "referral.received.late"));
        assert!(topic_matches("referral.#", "referral"));
        assert!(topic_matches("referral.#", "referral.received.late"));
        assert!(topic_matches("*.received", "referral.received"));
        assert!(!topic_matches("case.assigned", "referral.routed"));
        assert!(topic_matches("a.#.z", "a.b.c.z"));
    }

    #[test]
    fn backoff_doubles_and_caps() {
        let backoff = Backoff { initial: Duration::from_millis(100), max: Duration::from_millis(500) };
        assert_eq!(backoff.delay(1), Duration::from_millis(100));
        assert_eq!(backoff.delay(2), Duration::from_millis(200));
        assert_eq!(backoff.delay(3), Duration::from_millis(400));
        assert_eq!(backoff.delay(4), Duration::from_millis(500));
        assert_eq!(backoff.delay(100), Duration::from_millis(500));
    }
}
