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

use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures::{FutureExt as _, StreamExt as _};
use lapin::message::{BasicGetMessage, Delivery};
use lapin::options::{
    BasicAckOptions, BasicCancelOptions, BasicConsumeOptions, BasicGetOptions, BasicNackOptions, BasicPublishOptions,
    BasicQosOptions, BasicRejectOptions, ConfirmSelectOptions, ExchangeDeclareOptions, QueueBindOptions,
    QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use lapin::{BasicProperties, Channel, Confirmation, Connection, ConnectionProperties, ExchangeKind};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::Instrument as _;

use crate::Envelope;
use crate::bus::{Backoff, BusError, DeadLetter, EventBus, EventHandler, HandleError, PublishError, Subscription};

/// Publishes in flight at once; each holds one confirm channel for its round trip.
const PUBLISH_CHANNELS: usize = 16;
/// Bound on an ack/nack/reject. lapin can leave the promise of a settle sent while its
/// connection is being torn down pending forever; unbounded, that task would keep `consume`
/// from ever returning on shutdown. An unsettled delivery is redelivered once its channel
/// closes, and the inbox turns the redelivery into a no-op.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(10);
const CONTENT_TYPE: &str = "application/x-protobuf";
/// Headers the broker adds when dead-lettering, removed on replay.
const DEATH_HEADERS: &[&str] = &[
    "x-death",
    "x-first-death-reason",
    "x-first-death-queue",
    "x-first-death-exchange",
    "x-last-death-reason",
    "x-last-death-queue",
    "x-last-death-exchange",
    "x-delivery-count",
];

/// Where the broker is and how the topology is named.
#[derive(Clone)]
pub struct RabbitConfig {
    /// `amqp://user:password@host:port/vhost`; holds credentials, never logged as is.
    pub url: String,
    /// The topic exchange events are published to.
    pub exchange: String,
    /// Prefix of queue names (`{prefix}.{service}`, `{prefix}.{service}.dlq`) and of the DLX (`{prefix}.dlx`).
    pub queue_prefix: String,
    /// How long a publish waits for the broker's confirm.
    pub confirm_timeout: Duration,
    /// Delay between reconnection attempts (by consecutive failures).
    pub reconnect_backoff: Backoff,
}

impl std::fmt::Debug for RabbitConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RabbitConfig")
            .field("url", &redact_url(&self.url))
            .field("exchange", &self.exchange)
            .field("queue_prefix", &self.queue_prefix)
            .field("confirm_timeout", &self.confirm_timeout)
            .field("reconnect_backoff", &self.reconnect_backoff)
            .finish()
    }
}

impl RabbitConfig {
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            exchange: "wayfinder.events".to_owned(),
            queue_prefix: "wayfinder".to_owned(),
            confirm_timeout: Duration::from_secs(10),
            reconnect_backoff: Backoff { initial: Duration::from_millis(500), max: Duration::from_secs(30) },
        }
    }

    pub fn with_prefix(mut self, exchange: impl Into<String>, queue_prefix: impl Into<String>) -> Self {
        self.exchange = exchange.into();
        self.queue_prefix = queue_prefix.into();
        self
    }

    /// The URL with any password replaced, safe for logs.
    pub fn display_url(&self) -> String {
        redact_url(&self.url)
    }

    /// The service's main queue, e.g. `wayfinder.routing`.
    pub fn queue_name(&self, service: &str) -> String {
        format!("{}.{service}", self.queue_prefix)
    }

    /// The service's dead-letter queue (and its routing key on the DLX), e.g. `wayfinder.routing.dlq`.
    pub fn dead_letter_queue_name(&self, service: &str) -> String {
        format!("{}.{service}.dlq", self.queue_prefix)
    }

    /// The dead-letter exchange, e.g. `wayfinder.dlx`.
    pub fn dead_letter_exchange(&self) -> String {
        format!("{}.dlx", self.queue_prefix)
    }
}

/// The broker's major version from its `connection.start` (lapin does not expose the server
/// properties). Plain `amqp://` only; `None` when it cannot be told.
async fn broker_major_version(url: &str) -> Option<u32> {
    use lapin::protocol::{AMQPClass, connection::AMQPMethod};
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    let uri: lapin::uri::AMQPUri = url.parse().ok()?;
    if uri.scheme != lapin::uri::AMQPScheme::AMQP {
        return None;
    }
    let probe = async {
        let mut stream =
            tokio::net::TcpStream::connect((uri.authority.host.as_str(), uri.authority.port)).await.ok()?;
        stream.write_all(b"AMQP\x00\x00\x09\x01").await.ok()?;
        let mut header = [0u8; 7];
        stream.read_exact(&mut header).await.ok()?;
        let size = usize::try_from(u32::from_be_bytes([header[3], header[4], header[5], header[6]])).ok()?;
        if header[0] != 1 || size > 1 << 20 {
            return None;
        }
        let mut payload = vec![0u8; size];
        stream.read_exact(&mut payload).await.ok()?;
        let (_, class) = lapin::protocol::parse_class(payload.as_slice()).ok()?;
        let AMQPClass::Connection(AMQPMethod::Start(start)) = class else {
            return None;
        };
        let version = start.server_properties.inner().get("version").and_then(as_string)?;
        version.split('.').next()?.parse().ok()
    };
    let version = tokio::time::timeout(Duration::from_secs(5), probe).await.ok().flatten();
    tracing::debug!(?version, "broker major version");
    version
}

fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_owned();
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => {
            let userinfo = &rest[..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{user}:***{}", &url[..scheme_end + 3], &rest[at..])
        }
        None => url.to_owned(),
    }
}

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
        let declared = async {
            let channel = conn.create_channel().await.map_err(connection_error)?;
            self.declare_exchanges(&channel).await?;
            close_channel(&channel).await;
            Ok::<_, BusError>(())
        }
        .await;
        if let Err(error) = declared {
            let _ = conn.close(200, "topology failed".into()).await;
            return Err(error);
        }
        Ok(conn)
    }

    async fn declare_exchanges(&self, channel: &Channel) -> Result<(), BusError> {
        let cfg = &self.inner.cfg;
        for name in [cfg.exchange.clone(), cfg.dead_letter_exchange()] {
            channel
                .exchange_declare(
                    short(&name).map_err(BusError::Topology)?,
                    ExchangeKind::Topic,
                    ExchangeDeclareOptions { durable: true, ..Default::default() },
                    FieldTable::default(),
                )
                .await
                .map_err(|err| BusError::Topology(format!("exchange {name}: {err}")))?;
        }
        Ok(())
    }

    /// Declares the subscription's queues and bindings on `channel` (must match deploy/rabbitmq/definitions.json).
    async fn declare_on(&self, channel: &Channel, subscription: &Subscription) -> Result<(), BusError> {
        let cfg = &self.inner.cfg;
        self.declare_exchanges(channel).await?;
        let queue = cfg.queue_name(&subscription.service);
        let dlq = cfg.dead_letter_queue_name(&subscription.service);
        let dlx = cfg.dead_letter_exchange();
        let topology = |what: &str, err: lapin::Error| BusError::Topology(format!("{what}: {err}"));

        let mut args = FieldTable::default();
        args.insert("x-queue-type".into(), long_str("quorum"));
        args.insert("x-delivery-limit".into(), AMQPValue::LongLongInt(i64::from(subscription.delivery_limit)));
        args.insert("x-dead-letter-exchange".into(), long_str(&dlx));
        args.insert("x-dead-letter-routing-key".into(), long_str(&dlq));
        args.insert("x-dead-letter-strategy".into(), long_str("at-least-once"));
        args.insert("x-overflow".into(), long_str("reject-publish"));
        args.insert("x-max-length".into(), AMQPValue::LongLongInt(1_000_000));
        let durable = QueueDeclareOptions { durable: true, ..Default::default() };
        channel
            .queue_declare(short(&queue).map_err(BusError::Topology)?, durable, args)
            .await
            .map_err(|err| topology(&format!("queue {queue}"), err))?;

        let mut dlq_args = FieldTable::default();
        dlq_args.insert("x-queue-type".into(), long_str("quorum"));
        if let Some(limit) = self.inner.dead_letter_queue_limit {
            dlq_args.insert("x-delivery-limit".into(), AMQPValue::LongLongInt(limit));
        }
        channel
            .queue_declare(short(&dlq).map_err(BusError::Topology)?, durable, dlq_args)
            .await
            .map_err(|err| topology(&format!("queue {dlq}"), err))?;
        channel
            .queue_bind(
                short(&dlq).map_err(BusError::Topology)?,
                short(&dlx).map_err(BusError::Topology)?,
                short(&dlq).map_err(BusError::Topology)?,
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await
            .map_err(|err| topology(&format!("binding {dlq}"), err))?;
        for pattern in &subscription.bindings {
            channel
                .queue_bind(
                    short(&queue).map_err(BusError::Topology)?,
                    short(&cfg.exchange).map_err(BusError::Topology)?,
                    short(pattern).map_err(BusError::Topology)?,
                    QueueBindOptions::default(),
                    FieldTable::default(),
                )
                .await
                .map_err(|err| topology(&format!("binding {queue} to {pattern}"), err))?;
        }
        Ok(())
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
        let channel = conn.create_channel().await.map_err(|err| PublishError::Connection(err.to_string()))?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await
            .map_err(|err| PublishError::Connection(err.to_string()))?;
        Ok(channel)
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

    /// One consumer connection's lifetime: declare, consume, hand deliveries to `tasks`.
    async fn consume_session(
        &self,
        subscription: &Subscription,
        handler: &Arc<dyn EventHandler>,
        shutdown: &CancellationToken,
        tasks: &mut JoinSet<()>,
        connected: &mut bool,
    ) -> Result<(), BusError> {
        let conn = Arc::new(self.open_connection(&format!("consumer-{}", subscription.service)).await?);
        let _registration = ConsumerRegistration::new(&self.inner, conn.clone());
        let channel = conn.create_channel().await.map_err(connection_error)?;
        self.declare_on(&channel, subscription).await?;
        channel.basic_qos(subscription.prefetch.max(1), BasicQosOptions::default()).await.map_err(connection_error)?;
        let queue = self.inner.cfg.queue_name(&subscription.service);
        let mut consumer = channel
            .basic_consume(
                short(&queue).map_err(BusError::Topology)?,
                "".into(),
                BasicConsumeOptions { no_ack: false, ..Default::default() },
                FieldTable::default(),
            )
            .await
            .map_err(connection_error)?;
        *connected = true;
        tracing::info!(queue = %queue, prefetch = subscription.prefetch, "consuming");
        let subscription = Arc::new(subscription.clone());

        loop {
            tokio::select! {
                biased;
                () = shutdown.cancelled() => {
                    if let Err(error) = channel.basic_cancel(consumer.tag(), BasicCancelOptions::default()).await {
                        tracing::debug!(%error, "cancelling consumer");
                    }
                    // Finish in-flight handlers (their acks need this channel open), then close.
                    while let Some(result) = tasks.join_next().await {
                        log_task_result(result);
                    }
                    close_channel(&channel).await;
                    let _ = conn.close(200, "shutdown".into()).await;
                    return Ok(());
                }
                Some(result) = tasks.join_next(), if !tasks.is_empty() => log_task_result(result),
                next = consumer.next() => match next {
                    Some(Ok(delivery)) => {
                        tasks.spawn(process_delivery(
                            delivery,
                            subscription.clone(),
                            handler.clone(),
                            shutdown.clone(),
                        ));
                    }
                    Some(Err(error)) => return Err(BusError::Connection(error.to_string())),
                    None => return Err(BusError::Connection(format!("consumer on {queue} was cancelled"))),
                },
            }
        }
    }
}

/// Keeps a consumer connection findable by [`RabbitBus::close`]; closes it when the session
/// ends, including when the consuming future is dropped.
struct ConsumerRegistration {
    inner: Arc<Inner>,
    id: u64,
}

impl ConsumerRegistration {
    fn new(inner: &Arc<Inner>, conn: Arc<Connection>) -> Self {
        let id = inner.next_consumer.fetch_add(1, Ordering::Relaxed);
        inner.consumers.lock().unwrap_or_else(|e| e.into_inner()).insert(id, conn);
        Self { inner: inner.clone(), id }
    }
}

impl Drop for ConsumerRegistration {
    fn drop(&mut self) {
        let conn = self.inner.consumers.lock().unwrap_or_else(|e| e.into_inner()).remove(&self.id);
        if let Some(conn) = conn
            && (conn.status().connected() || conn.status().connecting())
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            runtime.spawn(async move {
                let _ = conn.close(200, "consumer stopped".into()).await;
            });
        }
    }
}

fn log_task_result(result: Result<(), tokio::task::JoinError>) {
    if let Err(error) = result
        && error.is_panic()
    {
        tracing::error!(%error, "delivery task panicked");
    }
}

/// Handles one delivery and settles it: ack, reject (dead-letter) or nack (retry).
async fn process_delivery(
    delivery: Delivery,
    subscription: Arc<Subscription>,
    handler: Arc<dyn EventHandler>,
    shutdown: CancellationToken,
) {
    let previous_failures = delivery_count(&delivery.properties);
    let envelope = match Envelope::decode(&delivery.data) {
        Ok(envelope) => envelope,
        Err(error) => {
            let message_id = delivery.properties.message_id().as_ref().map(ShortString::as_str).unwrap_or("");
            tracing::warn!(
                consumer = %subscription.service,
                message_id,
                %error,
                "undecodable message, dead-lettering"
            );
            settle(&delivery, Settle::Reject, &subscription.service, message_id).await;
            return;
        }
    };
    let event_id = envelope.event_id.to_string();
    let event_type = envelope.event_type.clone();
    let span = tracing::info_span!(
        "event.consume",
        "event.type" = %event_type,
        "event.id" = %event_id,
        "messaging.system" = "rabbitmq",
        consumer = %subscription.service,
    );
    envelope.trace.attach_to(&span);
    let result = AssertUnwindSafe(handler.handle(envelope).instrument(span.clone()))
        .catch_unwind()
        .await
        .unwrap_or_else(|_| Err(HandleError::Transient("handler panicked".to_owned())));
    let outcome = match result {
        Ok(()) => Settle::Ack,
        Err(HandleError::Permanent(error)) => {
            span.in_scope(|| {
                tracing::warn!(event.id = %event_id, event.r#type = %event_type, %error, "permanent failure, dead-lettering");
            });
            Settle::Reject
        }
        Err(HandleError::Transient(error)) => {
            let attempt = previous_failures.saturating_add(1);
            if attempt >= subscription.delivery_limit {
                span.in_scope(|| {
                    tracing::warn!(
                        event.id = %event_id,
                        event.r#type = %event_type,
                        attempt,
                        %error,
                        "transient failure on the last attempt, dead-lettering"
                    );
                });
                Settle::Reject
            } else {
                let delay = subscription.backoff.delay(attempt);
                span.in_scope(|| {
                    tracing::warn!(
                        event.id = %event_id,
                        event.r#type = %event_type,
                        attempt,
                        retry_in = ?delay,
                        %error,
                        "transient failure, will retry"
                    );
                });
                tokio::select! {
                    () = tokio::time::sleep(delay) => {}
                    () = shutdown.cancelled() => {}
                }
                Settle::Requeue
            }
        }
    };
    settle(&delivery, outcome, &subscription.service, &event_id).instrument(span).await;
}

#[derive(Clone, Copy, Debug)]
enum Settle {
    Ack,
    Reject,
    Requeue,
}

async fn settle(delivery: &Delivery, outcome: Settle, consumer: &str, event_id: &str) {
    let settled = tokio::time::timeout(SETTLE_TIMEOUT, async {
        match outcome {
            Settle::Ack => delivery.ack(BasicAckOptions::default()).await,
            Settle::Reject => delivery.reject(BasicRejectOptions { requeue: false }).await,
            Settle::Requeue => delivery.nack(BasicNackOptions { multiple: false, requeue: true }).await,
        }
    })
    .await;
    let Ok(result) = settled else {
        tracing::warn!(
            consumer,
            event.id = event_id,
            ?outcome,
            timeout = ?SETTLE_TIMEOUT,
            "settling the delivery timed out; the broker will redeliver it if it was not settled"
        );
        return;
    };
    match result {
        Ok(true) => {}
        Ok(false) => tracing::warn!(
            consumer,
            event.id = event_id,
            ?outcome,
            "channel gone before the delivery was settled; the broker will redeliver it"
        ),
        Err(error) => tracing::warn!(
            consumer,
            event.id = event_id,
            ?outcome,
            %error,
            "settling the delivery failed; the broker will redeliver it"
        ),
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
        // Dropping this future (and so this set) aborts in-flight handlers without acking.
        let mut tasks = JoinSet::new();
        let mut failures = 0u32;
        while !shutdown.is_cancelled() {
            let mut connected = false;
            let result = self.consume_session(&subscription, &handler, &shutdown, &mut tasks, &mut connected).await;
            if connected {
                failures = 0;
            }
            match result {
                Ok(()) => break,
                Err(error) => {
                    failures = failures.saturating_add(1);
                    let delay = self.inner.cfg.reconnect_backoff.delay(failures);
                    tracing::warn!(
                        consumer = %subscription.service,
                        url = %self.inner.cfg.display_url(),
                        %error,
                        retry_in = ?delay,
                        "consumer lost the broker, reconnecting"
                    );
                    tokio::select! {
                        () = tokio::time::sleep(delay) => {}
                        () = shutdown.cancelled() => {}
                    }
                }
            }
        }
        // Handlers of lost connections may still be running: let them finish.
        while let Some(result) = tasks.join_next().await {
            log_task_result(result);
        }
        Ok(())
    }

    async fn list_dead_letters(&self, service: &str, limit: usize) -> Result<Vec<DeadLetter>, BusError> {
        let conn = self.connection().await?;
        let channel = conn.create_channel().await.map_err(connection_error)?;
        let dlq = self.inner.cfg.dead_letter_queue_name(service);
        let queue = short(&dlq).map_err(BusError::DeadLetters)?;
        let mut letters = Vec::new();
        let mut failure = None;
        while letters.len() < limit {
            match channel.basic_get(queue.clone(), BasicGetOptions { no_ack: false }).await {
                Ok(Some(message)) => letters.push(dead_letter(service, &message)),
                Ok(None) => break,
                Err(err) => {
                    failure = Some(BusError::DeadLetters(format!("reading {dlq}: {err}")));
                    break;
                }
            }
        }
        // Closing the channel without acking returns every message read to the queue.
        close_channel(&channel).await;
        match failure {
            Some(error) => Err(error),
            None => Ok(letters),
        }
    }

    async fn replay_dead_letters(&self, service: &str, event_ids: Option<&[String]>) -> Result<usize, BusError> {
        let cfg = &self.inner.cfg;
        let conn = self.connection().await?;
        let channel = conn.create_channel().await.map_err(connection_error)?;
        let result = async {
            channel.confirm_select(ConfirmSelectOptions::default()).await.map_err(dead_letter_error)?;
            let dlq = cfg.dead_letter_queue_name(service);
            let target = cfg.queue_name(service);
            let dlq_name = short(&dlq).map_err(BusError::DeadLetters)?;
            let target_name = short(&target).map_err(BusError::DeadLetters)?;
            let pending = channel
                .queue_declare(
                    dlq_name.clone(),
                    QueueDeclareOptions { passive: true, ..Default::default() },
                    FieldTable::default(),
                )
                .await
                .map_err(dead_letter_error)?
                .message_count();
            let mut replayed = 0usize;
            // Unselected letters stay unacked until the pass ends, so basic.get moves past them.
            let mut skipped = Vec::new();
            for _ in 0..pending {
                let Some(message) = channel
                    .basic_get(dlq_name.clone(), BasicGetOptions { no_ack: false })
                    .await
                    .map_err(dead_letter_error)?
                else {
                    break;
                };
                let event_id = message_event_id(&message.delivery);
                let selected = event_ids.is_none_or(|ids| ids.iter().any(|id| id == &event_id));
                if !selected {
                    skipped.push(message);
                    continue;
                }
                let properties = strip_death_headers(message.delivery.properties.clone());
                let confirmation = tokio::time::timeout(cfg.confirm_timeout, async {
                    channel
                        .basic_publish(
                            "".into(),
                            target_name.clone(),
                            BasicPublishOptions { mandatory: true, immediate: false },
                            &message.delivery.data,
                            properties,
                        )
                        .await?
                        .await
                })
                .await
                .map_err(|_| BusError::DeadLetters(format!("replay of {event_id} not confirmed in time")))?
                .map_err(dead_letter_error)?;
                check_confirmation(confirmation, &event_id, target.clone())
                    .map_err(|err| BusError::DeadLetters(format!("replay of {event_id}: {err}")))?;
                message.delivery.ack(BasicAckOptions::default()).await.map_err(dead_letter_error)?;
                tracing::info!(consumer = service, event.id = %event_id, "dead letter replayed");
                replayed += 1;
            }
            for message in skipped {
                let _ = message.delivery.nack(BasicNackOptions { multiple: false, requeue: true }).await;
            }
            Ok(replayed)
        }
        .await;
        // Anything read but not settled returns to the dead-letter queue with the channel.
        close_channel(&channel).await;
        result
    }
}

/// Maps a confirmation to the publish outcome; only an Ack without a returned message is "sent".
fn check_confirmation(confirmation: Confirmation, message_id: &str, routing_key: String) -> Result<(), PublishError> {
    match confirmation {
        Confirmation::Ack(None) => Ok(()),
        Confirmation::Ack(Some(returned)) => {
            let returned_id = returned.delivery.properties.message_id().as_ref().map(ShortString::as_str);
            if returned_id != Some(message_id) {
                tracing::warn!(message_id, ?returned_id, "returned message belongs to another publish");
            }
            Err(PublishError::Unroutable { routing_key })
        }
        Confirmation::Nack(_) => Err(PublishError::Nacked),
        Confirmation::NotRequested => Err(PublishError::Connection("channel is not in confirm mode".into())),
    }
}

fn envelope_properties(envelope: &Envelope) -> Result<BasicProperties, String> {
    let mut headers = FieldTable::default();
    if !envelope.trace.traceparent.is_empty() {
        headers.insert("traceparent".into(), long_str(&envelope.trace.traceparent));
    }
    if !envelope.trace.tracestate.is_empty() {
        headers.insert("tracestate".into(), long_str(&envelope.trace.tracestate));
    }
    headers.insert("producer".into(), long_str(&envelope.producer));
    headers.insert("schema_version".into(), AMQPValue::LongLongInt(i64::from(envelope.schema_version)));
    Ok(BasicProperties::default()
        .with_message_id(short(&envelope.event_id.to_string())?)
        .with_type(short(&envelope.event_type)?)
        .with_timestamp(envelope.occurred_at.timestamp().max(0) as u64)
        .with_content_type(CONTENT_TYPE.into())
        .with_delivery_mode(2)
        .with_headers(headers))
}

fn strip_death_headers(properties: BasicProperties) -> BasicProperties {
    match properties.headers().clone() {
        Some(headers) => {
            let kept: BTreeMap<ShortString, AMQPValue> = headers
                .inner()
                .iter()
                .filter(|(key, _)| !DEATH_HEADERS.contains(&key.as_str()))
                .map(|(key, value)| (key.clone(), value.clone()))
                .collect();
            properties.with_headers(FieldTable::from(kept))
        }
        None => properties,
    }
}

/// Failed deliveries before this one (`x-delivery-count`; absent on the first delivery).
fn delivery_count(properties: &BasicProperties) -> u32 {
    header(properties, "x-delivery-count").and_then(as_u64).map_or(0, |n| u32::try_from(n).unwrap_or(u32::MAX))
}

fn header<'a>(properties: &'a BasicProperties, key: &str) -> Option<&'a AMQPValue> {
    properties.headers().as_ref()?.inner().get(key)
}

fn as_u64(value: &AMQPValue) -> Option<u64> {
    match *value {
        AMQPValue::ShortShortInt(n) => u64::try_from(n).ok(),
        AMQPValue::ShortShortUInt(n) => Some(u64::from(n)),
        AMQPValue::ShortInt(n) => u64::try_from(n).ok(),
        AMQPValue::ShortUInt(n) => Some(u64::from(n)),
        AMQPValue::LongInt(n) => u64::try_from(n).ok(),
        AMQPValue::LongUInt(n) => Some(u64::from(n)),
        AMQPValue::LongLongInt(n) => u64::try_from(n).ok(),
        AMQPValue::Timestamp(n) => Some(n),
        _ => None,
    }
}

fn as_string(value: &AMQPValue) -> Option<String> {
    match value {
        AMQPValue::LongString(s) => Some(s.to_string()),
        AMQPValue::ShortString(s) => Some(s.as_str().to_owned()),
        _ => None,
    }
}

/// The event id of a message: its `message_id`, else the decoded envelope's.
fn message_event_id(delivery: &Delivery) -> String {
    match delivery.properties.message_id() {
        Some(id) => id.as_str().to_owned(),
        None => Envelope::decode(&delivery.data).map(|e| e.event_id.to_string()).unwrap_or_default(),
    }
}

fn dead_letter(service: &str, message: &BasicGetMessage) -> DeadLetter {
    let properties = &message.delivery.properties;
    // The first x-death entry is the most recent death.
    let death = match header(properties, "x-death") {
        Some(AMQPValue::FieldArray(array)) => array.as_slice().iter().find_map(|entry| match entry {
            AMQPValue::FieldTable(table) => Some(table.clone()),
            _ => None,
        }),
        _ => None,
    };
    let death_field = |key: &str| death.as_ref().and_then(|table| table.inner().get(key).cloned());
    let mut reason = header(properties, "x-first-death-reason")
        .and_then(as_string)
        .or_else(|| death_field("reason").as_ref().and_then(as_string))
        .unwrap_or_else(|| "unknown".to_owned());
    let attempts = Some(delivery_count(properties))
        .filter(|n| *n > 0)
        .or_else(|| death_field("count").as_ref().and_then(as_u64).and_then(|n| u32::try_from(n).ok()))
        .unwrap_or(1);
    let dead_lettered_at = death_field("time")
        .as_ref()
        .and_then(as_u64)
        .and_then(|secs| DateTime::from_timestamp(i64::try_from(secs).ok()?, 0))
        .unwrap_or_else(Utc::now);
    let envelope = match Envelope::decode(&message.delivery.data) {
        Ok(envelope) => envelope,
        Err(error) => {
            // Still listed, so staff can see it; replaying it would be rejected again.
            reason = format!("{reason}; {error}");
            let message_id = properties.message_id().as_ref().map(ShortString::as_str).unwrap_or("");
            Envelope {
                event_id: uuid::Uuid::parse_str(message_id).unwrap_or_default(),
                event_type: properties.kind().as_ref().map(|k| k.as_str().to_owned()).unwrap_or_default(),
                occurred_at: dead_lettered_at,
                aggregate_id: String::new(),
                producer: String::new(),
                schema_version: 0,
                trace: wf_telemetry::TraceContext::default(),
                correlation_id: String::new(),
                payload: Vec::new(),
            }
        }
    };
    DeadLetter { service: service.to_owned(), envelope, reason, attempts, dead_lettered_at }
}

fn short(value: &str) -> Result<ShortString, String> {
    ShortString::try_new(value).map_err(|err| format!("{value:.40}…: {err}"))
}

fn long_str(value: &str) -> AMQPValue {
    AMQPValue::LongString(LongString::from(value))
}

fn connection_error(err: lapin::Error) -> BusError {
    BusError::Connection(err.to_string())
}

fn dead_letter_error(err: lapin::Error) -> BusError {
    BusError::DeadLetters(err.to_string())
}

async fn close_channel(channel: &Channel) {
    if channel.status().connected()
        && let Err(error) = channel.close(200, "OK".into()).await
    {
        tracing::debug!(%error, "closing channel");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_redacted() {
        assert_eq!(redact_url("amqp://guest:secret@127.0.0.1:5672/%2f"), "amqp://guest:***@127.0.0.1:5672/%2f");
        assert_eq!(redact_url("amqp://127.0.0.1:5672/%2f"), "amqp://127.0.0.1:5672/%2f");
        let cfg = RabbitConfig::new("amqps://u:p%40ss@h/v");
        assert!(!format!("{cfg:?}").contains("p%40ss"));
    }

    #[test]
    fn names_follow_the_prefix() {
        let cfg = RabbitConfig::new("amqp://h").with_prefix("x.events", "x");
        assert_eq!(cfg.queue_name("routing"), "x.routing");
        assert_eq!(cfg.dead_letter_queue_name("routing"), "x.routing.dlq");
        assert_eq!(cfg.dead_letter_exchange(), "x.dlx");
    }

    #[test]
    fn death_headers_are_stripped() {
        let mut headers = FieldTable::default();
        headers.insert("x-death".into(), AMQPValue::FieldArray(Vec::new().into()));
        headers.insert("x-first-death-reason".into(), long_str("rejected"));
        headers.insert("traceparent".into(), long_str("00-abc"));
        let stripped = strip_death_headers(BasicProperties::default().with_headers(headers));
        let keys: Vec<&str> = stripped.headers().as_ref().unwrap().inner().keys().map(ShortString::as_str).collect();
        assert_eq!(keys, ["traceparent"]);
    }
}

/// Deletes the queues (main and dead-letter) of `services` and both exchanges of
/// `config`: for tearing down test or trial deployments. Messages in them are lost.
pub async fn delete_topology(config: &RabbitConfig, services: &[&str]) -> Result<(), BusError> {
    let connection = Connection::connect(&config.url, ConnectionProperties::default())
        .await
        .map_err(|err| BusError::Connection(err.to_string()))?;
    let channel = connection.create_channel().await.map_err(|err| BusError::Connection(err.to_string()))?;
    for service in services {
        for queue in [config.queue_name(service), config.dead_letter_queue_name(service)] {
            channel
                .queue_delete(queue.as_str().into(), lapin::options::QueueDeleteOptions::default())
                .await
                .map_err(|err| BusError::Topology(format!("deleting queue {queue}: {err}")))?;
        }
    }
    for exchange in [config.exchange.clone(), config.dead_letter_exchange()] {
        channel
            .exchange_delete(exchange.as_str().into(), lapin::options::ExchangeDeleteOptions::default())
            .await
            .map_err(|err| BusError::Topology(format!("deleting exchange {exchange}: {err}")))?;
    }
    let _ = connection.close(200, "OK".into()).await;
    Ok(())
}
