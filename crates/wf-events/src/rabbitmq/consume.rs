//! Consuming a subscription: the reconnecting consumer loop, one task per delivery, and settling it.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use futures::{FutureExt as _, StreamExt as _};
use lapin::Connection;
use lapin::message::Delivery;
use lapin::options::{
    BasicAckOptions, BasicCancelOptions, BasicConsumeOptions, BasicNackOptions, BasicQosOptions, BasicRejectOptions,
};
use lapin::types::{FieldTable, ShortString};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::Instrument as _;

use super::message::{delivery_count, short};
use super::{Inner, RabbitBus, close_channel, connection_error};
use crate::Envelope;
use crate::bus::{BusError, EventHandler, HandleError, Subscription};

/// Bound on an ack/nack/reject. lapin can leave the promise of a settle sent while its
/// connection is being torn down pending forever; unbounded, that task would keep `consume`
/// from ever returning on shutdown. An unsettled delivery is redelivered once its channel
/// closes, and the inbox turns the redelivery into a no-op.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(10);

impl RabbitBus {
    /// Consumes `subscription` until `shutdown`, reconnecting with backoff when the broker is lost.
    pub(super) async fn consume_with_reconnect(
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
