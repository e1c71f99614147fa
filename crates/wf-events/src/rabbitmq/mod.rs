//! The RabbitMQ [`EventBus`] (lapin 4, tokio runtime).
//!
//! Reliability choices (SECURITY.md "Delivery"):
//!
//! - **Publisher confirms.** Every publish goes out on a channel in confirm mode and
//!   `publish` returns `Ok` only on a broker Ack. A Nack, a timeout or a connection
//!   error all mean "not sent": the outbox row stays unsent and the relay retries.
//! - **`mandatory` + returns.** A message no queue is bound for is returned by the broker
//!   *and then acked*; an Ack carrying a returned message is reported as
//!   [`PublishError::Unroutable`], never as sent. lapin attaches a returned message to
//!   whichever confirmation of the channel completes next, not to the publish it belongs
//!   to, so a channel shared by concurrent publishes could report another message's
//!   return (and one lost message as sent). Each publish therefore has a confirm channel
//!   to itself for its round trip: a small pool of channels on one connection, taken one
//!   publish at a time, so many publishes are still in flight at once.
//! - **Quorum queues with a delivery limit.** Each consuming service has a durable quorum
//!   queue with `x-delivery-limit`. A transient handler failure is retried with backoff
//!   (`basic.nack` with requeue); on the subscription's last attempt the consumer rejects
//!   the message itself, and the broker's limit backs this up (redeliveries after crashes).
//! - **At-least-once dead-lettering.** `x-dead-letter-strategy=at-least-once` with
//!   `x-overflow=reject-publish` and `x-max-length`: the broker keeps a message until the
//!   dead-letter queue has confirmed it, instead of dropping it over the limit. A full queue
//!   nacks publishes (the relay retries) rather than discarding old messages.
//! - **Ack after commit.** A delivery is acked only after the handler returned `Ok`, i.e.
//!   after the handler's transaction (inbox row + effect) committed. A crash between commit
//!   and ack causes a redelivery, which the inbox turns into a no-op.
//! - **Reconnect.** The publishing connection is re-opened lazily on the next publish,
//!   gated by the reconnect backoff (while it waits, publishes fail fast with
//!   [`PublishError::Connection`]); a consumer reconnects in its loop with the same backoff.
//!   Unacked deliveries of a lost connection are redelivered by the broker.
//!
//! Dead letters are read with `basic.get` without acking (listing returns them to the
//! queue by closing the channel); replay republishes to the default exchange with the
//! service's queue as routing key, waits for the confirm, and only then acks the dead letter.

mod config;
mod consume;
mod dead_letters;
mod message;
mod topology;

pub use config::RabbitConfig;
pub use topology::delete_topology;

use std::collections::BTreeMap;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use lapin::options::{BasicPublishOptions, ConfirmSelectOptions};
use lapin::types::LongString;
use lapin::{Channel, Connection, ConnectionProperties};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use self::config::broker_major_version;
use self::message::{check_confirmation, envelope_properties, short};
use crate::Envelope;
use crate::bus::{BusError, DeadLetter, EventBus, EventHandler, PublishError, Subscription};

/// Publishes in flight at once; each holds one confirm channel for its round trip.
const PUBLISH_CHANNELS: usize = 16;

/// The publishing connection and when it may next be re-opened.
struct ConnSlot {
    conn: Option<Arc<Connection>>,
    failures: u32,
    retry_at: Option<Instant>,
    last_error: String,
}

struct Inner {
    cfg: RabbitConfig,
    conn: tokio::sync::Mutex<ConnSlot>,
    /// Idle confirm channels; a publish takes one for its whole round trip.
    idle: Mutex<Vec<Channel>>,
    permits: Semaphore,
    /// Open consumer connections, so [`RabbitBus::close`] can close them.
    consumers: Mutex<BTreeMap<u64, Arc<Connection>>>,
    next_consumer: AtomicU64,
    /// `x-delivery-limit` of dead-letter queues: -1 (unlimited) on RabbitMQ 4, absent before.
    dead_letter_queue_limit: Option<i64>,
}

/// The [`EventBus`] over RabbitMQ. Cheap to clone; clones share connections.
#[derive(Clone)]
pub struct RabbitBus {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for RabbitBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RabbitBus").field("config", &self.inner.cfg).finish_non_exhaustive()
    }
}

impl RabbitBus {
    /// Opens the publishing connection and declares both exchanges.
    pub async fn connect(cfg: RabbitConfig) -> Result<Self, BusError> {
        // RabbitMQ 4 reads x-delivery-limit=-1 as "unlimited" (and defaults to 20, which
        // would drop a dead letter after 20 listings); RabbitMQ 3 accepts -1 but then drops a
        // message on its first return, so listing a dead-letter queue would destroy it.
        let dead_letter_queue_limit = match broker_major_version(&cfg.url).await {
            Some(major) if major < 4 => None,
            _ => Some(-1),
        };
        let bus = Self {
            inner: Arc::new(Inner {
                cfg,
                conn: tokio::sync::Mutex::new(ConnSlot {
                    conn: None,
                    failures: 0,
                    retry_at: None,
                    last_error: String::new(),
                }),
                idle: Mutex::new(Vec::new()),
                permits: Semaphore::new(PUBLISH_CHANNELS),
                consumers: Mutex::new(BTreeMap::new()),
                next_consumer: AtomicU64::new(0),
                dead_letter_queue_limit,
            }),
        };
        bus.connection().await?;
        Ok(bus)
    }

    pub fn config(&self) -> &RabbitConfig {
        &self.inner.cfg
    }

    /// Closes the publishing connection and every consumer connection. Unacked deliveries
    /// return to their queues; consumers still running reconnect.
    pub async fn close(&self) {
        let publishing = self.inner.conn.lock().await.conn.take();
        self.inner.idle.lock().unwrap_or_else(|e| e.into_inner()).clear();
        let consumers: Vec<Arc<Connection>> =
            std::mem::take(&mut *self.inner.consumers.lock().unwrap_or_else(|e| e.into_inner()))
                .into_values()
                .collect();
        for conn in publishing.into_iter().chain(consumers) {
            if let Err(error) = conn.close(200, "closed by client".into()).await {
                tracing::debug!(%error, "closing broker connection");
            }
        }
    }

    /// The publishing connection, re-opened if it was lost (at most once per backoff step).
    async fn connection(&self) -> Result<Arc<Connection>, BusError> {
        let mut slot = self.inner.conn.lock().await;
        if let Some(conn) = &slot.conn {
            if conn.status().connected() {
                return Ok(conn.clone());
            }
            slot.conn = None;
            self.inner.idle.lock().unwrap_or_else(|e| e.into_inner()).clear();
        }
        if let Some(retry_at) = slot.retry_at {
            let now = Instant::now();
            if now < retry_at {
                return Err(BusError::Connection(format!(
                    "broker unavailable ({}), next attempt in {:?}",
                    slot.last_error,
                    retry_at - now
                )));
            }
        }
        match self.open_connection("publisher").await {
            Ok(conn) => {
                if slot.failures > 0 {
                    tracing::info!(url = %self.inner.cfg.display_url(), "reconnected to the broker");
                }
                slot.failures = 0;
                slot.retry_at = None;
                slot.last_error.clear();
                let conn = Arc::new(conn);
                slot.conn = Some(conn.clone());
                Ok(conn)
            }
            Err(error) => {
                slot.failures = slot.failures.saturating_add(1);
                let delay = self.inner.cfg.reconnect_backoff.delay(slot.failures);
                slot.retry_at = Some(Instant::now() + delay);
                slot.last_error = error.to_string();
                tracing::warn!(
                    url = %self.inner.cfg.display_url(),
                    %error,
                    retry_in = ?delay,
                    "cannot connect to the broker"
                );
                Err(error)
            }
        }
    }

    /// A new connection with both exchanges declared.
    async fn open_connection(&self, role: &str) -> Result<Connection, BusError> {
        let cfg = &self.inner.cfg;
        let properties =
            ConnectionProperties::default().with_connection_name(LongString::from(format!("wayfinder-{role}")));
        let conn = tokio::time::timeout(cfg.confirm_timeout, Connection::connect(&cfg.url, properties))
            .await
            .map_err(|_| BusError::Connection(format!("connect timed out after {:?}", cfg.confirm_timeout)))?
            .map_err(|err| BusError::Connection(err.to_string()))?;
        let declared = tokio::time::timeout(cfg.confirm_timeout, async {
            let channel = conn.create_channel().await.map_err(connection_error)?;
            self.declare_exchanges(&channel).await?;
            close_channel(&channel).await;
            Ok::<_, BusError>(())
        })
        .await
        .unwrap_or_else(|_| Err(BusError::Connection(format!("declaring timed out after {:?}", cfg.confirm_timeout))));
        if let Err(error) = declared {
            let _ = tokio::time::timeout(Duration::from_secs(5), conn.close(200, "topology failed".into())).await;
            return Err(error);
        }
        Ok(conn)
    }

    /// An idle confirm channel, or a new one.
    async fn take_channel(&self) -> Result<Channel, PublishError> {
        loop {
            let candidate = self.inner.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
            match candidate {
                Some(channel) if channel.status().connected() => return Ok(channel),
                Some(_) => continue,
                None => break,
            }
        }
        let conn = self.connection().await.map_err(|err| PublishError::Connection(err.to_string()))?;
        // After a broker reset lapin can report a dead connection as connected and leave
        // the channel's promises pending forever: bound them, and drop that connection.
        let timeout = self.inner.cfg.confirm_timeout;
        let opened = tokio::time::timeout(timeout, async {
            let channel = conn.create_channel().await?;
            channel.confirm_select(ConfirmSelectOptions::default()).await?;
            Ok::<_, lapin::Error>(channel)
        })
        .await;
        match opened {
            Ok(Ok(channel)) => Ok(channel),
            Ok(Err(err)) => {
                self.forget_connection(&conn).await;
                Err(PublishError::Connection(err.to_string()))
            }
            Err(_) => {
                self.forget_connection(&conn).await;
                Err(PublishError::Timeout(timeout))
            }
        }
    }

    /// Stops using `conn` for publishing (the next publish opens a new connection).
    async fn forget_connection(&self, conn: &Arc<Connection>) {
        let mut slot = self.inner.conn.lock().await;
        if slot.conn.as_ref().is_some_and(|current| Arc::ptr_eq(current, conn)) {
            slot.conn = None;
            self.inner.idle.lock().unwrap_or_else(|e| e.into_inner()).clear();
        }
        drop(slot);
        let conn = conn.clone();
        tokio::spawn(async move {
            let _ = tokio::time::timeout(Duration::from_secs(5), conn.close(200, "abandoned".into())).await;
        });
    }

    fn return_channel(&self, channel: Channel) {
        if channel.status().connected() {
            self.inner.idle.lock().unwrap_or_else(|e| e.into_inner()).push(channel);
        }
    }

    async fn publish_on(&self, channel: &Channel, envelope: &Envelope) -> Result<(), PublishError> {
        let cfg = &self.inner.cfg;
        let routing_key = envelope.routing_key().to_owned();
        let properties = envelope_properties(envelope).map_err(PublishError::Connection)?;
        let exchange = short(&cfg.exchange).map_err(PublishError::Connection)?;
        let key = short(&routing_key).map_err(|_| PublishError::Unroutable { routing_key: routing_key.clone() })?;
        let body = envelope.encode();
        let confirmation = tokio::time::timeout(cfg.confirm_timeout, async {
            channel
                .basic_publish(
                    exchange,
                    key,
                    BasicPublishOptions { mandatory: true, immediate: false },
                    &body,
                    properties,
                )
                .await?
                .await
        })
        .await
        .map_err(|_| PublishError::Timeout(cfg.confirm_timeout))?
        .map_err(|err| PublishError::Connection(err.to_string()))?;
        check_confirmation(confirmation, &envelope.event_id.to_string(), routing_key)
    }
}

#[async_trait::async_trait]
impl EventBus for RabbitBus {
    async fn publish(&self, envelope: &Envelope) -> Result<(), PublishError> {
        let _permit = self.inner.permits.acquire().await.map_err(|_| PublishError::Connection("bus closed".into()))?;
        let channel = self.take_channel().await?;
        let result = self.publish_on(&channel, envelope).await;
        match &result {
            Ok(()) | Err(PublishError::Nacked | PublishError::Unroutable { .. }) => self.return_channel(channel),
            // A late confirm would land on the next publish of this channel: never reuse it.
            Err(PublishError::Timeout(_) | PublishError::Connection(_)) => {
                tokio::spawn(async move { close_channel(&channel).await });
            }
        }
        if let Err(error) = &result {
            tracing::warn!(
                event.id = %envelope.event_id,
                event.r#type = %envelope.event_type,
                %error,
                "publish not confirmed"
            );
        }
        result
    }

    async fn declare(&self, subscription: &Subscription) -> Result<(), BusError> {
        let conn = self.connection().await?;
        let channel = conn.create_channel().await.map_err(connection_error)?;
        let result = self.declare_on(&channel, subscription).await;
        close_channel(&channel).await;
        result
    }

    async fn consume(
        &self,
        subscription: Subscription,
        handler: Arc<dyn EventHandler>,
        shutdown: CancellationToken,
    ) -> Result<(), BusError> {
        self.consume_with_reconnect(subscription, handler, shutdown).await
    }

    async fn list_dead_letters(&self, service: &str, limit: usize) -> Result<Vec<DeadLetter>, BusError> {
        self.peek_dead_letters(service, limit).await
    }

    async fn replay_dead_letters(&self, service: &str, event_ids: Option<&[String]>) -> Result<usize, BusError> {
        self.republish_dead_letters(service, event_ids).await
    }
}

fn connection_error(err: lapin::Error) -> BusError {
    BusError::Connection(err.to_string())
}

async fn close_channel(channel: &Channel) {
    if channel.status().connected()
        && let Err(error) = channel.close(200, "OK".into()).await
    {
        tracing::debug!(%error, "closing channel");
    }
}
