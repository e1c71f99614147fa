//! The in-process bus of the embedded mode: topic routing between services in one
//! process. `publish` returns once every bound subscriber has finished with the
//! message (handled, or dead-lettered after its attempts), which plays the part
//! of the broker's confirm: if the process dies first, the outbox row is still
//! unsent and is published again on restart, and the inbox absorbs the repeat.
//! Dead letters are kept in a database (a SQLite file in the data folder) so
//! they survive restarts and can be replayed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures::future::join_all;
use tokio::sync::{Semaphore, mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use wf_db::Db;

use crate::{BusError, DeadLetter, Envelope, EventBus, EventHandler, HandleError, PublishError, Subscription};

const QUEUE_CAPACITY: usize = 10_000;

struct Delivery {
    envelope: Envelope,
    done: oneshot::Sender<()>,
}

struct Queue {
    subscription: Subscription,
    sender: mpsc::Sender<Delivery>,
    receiver: Option<mpsc::Receiver<Delivery>>,
}

/// A cloneable handle; all clones share the same queues.
#[derive(Clone)]
pub struct InProcessBus {
    queues: Arc<Mutex<HashMap<String, Queue>>>,
    dead_letters: Db,
}

impl InProcessBus {
    /// `dead_letters` must have the wf-events migrations applied.
    pub fn new(dead_letters: Db) -> Self {
        Self { queues: Arc::default(), dead_letters }
    }

    fn senders_for(&self, routing_key: &str) -> Vec<mpsc::Sender<Delivery>> {
        let queues = self.queues.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        queues.values().filter(|q| q.subscription.matches(routing_key)).map(|q| q.sender.clone()).collect()
    }

    fn sender_of(&self, service: &str) -> Option<mpsc::Sender<Delivery>> {
        let queues = self.queues.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        queues.get(service).map(|q| q.sender.clone())
    }

    async fn store_dead_letter(&self, service: &str, envelope: &Envelope, reason: &str, attempts: u32) {
        let result = sqlx::query(
            "INSERT INTO event_dead_letter (service, event_id, envelope, reason, attempts, dead_lettered_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (service, event_id) DO UPDATE SET \
             reason = excluded.reason, attempts = excluded.attempts, dead_lettered_at = excluded.dead_lettered_at",
        )
        .bind(service)
        .bind(envelope.event_id.to_string())
        .bind(envelope.encode())
        .bind(reason)
        .bind(attempts as i64)
        .bind(wf_db::now_micros())
        .execute(self.dead_letters.pool())
        .await;
        if let Err(err) = result {
            // The publish still completes: the outbox row would otherwise retry forever.
            tracing::error!(service, event.id = %envelope.event_id, error = %err, "could not store dead letter");
        }
    }
}

async fn deliver(sender: mpsc::Sender<Delivery>, envelope: Envelope) -> Result<(), PublishError> {
    let (done, finished) = oneshot::channel();
    sender
        .send(Delivery { envelope, done })
        .await
        .map_err(|_| PublishError::Connection("in-process consumer stopped".into()))?;
    finished.await.map_err(|_| PublishError::Connection("in-process consumer stopped before finishing".into()))
}

#[async_trait::async_trait]
impl EventBus for InProcessBus {
    async fn publish(&self, envelope: &Envelope) -> Result<(), PublishError> {
        let senders = self.senders_for(envelope.routing_key());
        if senders.is_empty() {
            return Err(PublishError::Unroutable { routing_key: envelope.routing_key().to_owned() });
        }
        for outcome in join_all(senders.into_iter().map(|sender| deliver(sender, envelope.clone()))).await {
            outcome?;
        }
        Ok(())
    }

    async fn declare(&self, subscription: &Subscription) -> Result<(), BusError> {
        let mut queues = self.queues.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        match queues.get_mut(&subscription.service) {
            Some(queue) => queue.subscription = subscription.clone(),
            None => {
                let (sender, receiver) = mpsc::channel(QUEUE_CAPACITY);
                queues.insert(
                    subscription.service.clone(),
                    Queue { subscription: subscription.clone(), sender, receiver: Some(receiver) },
                );
            }
        }
        Ok(())
    }

    async fn consume(
        &self,
        subscription: Subscription,
        handler: Arc<dyn EventHandler>,
        shutdown: CancellationToken,
    ) -> Result<(), BusError> {
        self.declare(&subscription).await?;
        let mut receiver = {
            let mut queues = self.queues.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            let queue = queues
                .get_mut(&subscription.service)
                .ok_or_else(|| BusError::Topology(format!("no queue for service {}", subscription.service)))?;
            match queue.receiver.take() {
                Some(receiver) => receiver,
                // An earlier consumer stopped and closed the queue: start a fresh one.
                None if queue.sender.is_closed() => {
                    let (sender, receiver) = mpsc::channel(QUEUE_CAPACITY);
                    queue.sender = sender;
                    receiver
                }
                None => {
                    return Err(BusError::Topology(format!("{} already has a consumer", subscription.service)));
                }
            }
        };
        let permits = Arc::new(Semaphore::new(subscription.prefetch.max(1) as usize));
        let mut in_flight = tokio::task::JoinSet::new();
        loop {
            let delivery = tokio::select! {
                _ = shutdown.cancelled() => break,
                delivery = receiver.recv() => match delivery {
                    Some(delivery) => delivery,
                    None => break,
                },
            };
            let Ok(permit) = permits.clone().acquire_owned().await else { break };
            let bus = self.clone();
            let handler = handler.clone();
            let subscription = subscription.clone();
            in_flight.spawn(async move {
                handle_with_retries(&bus, &subscription, handler.as_ref(), delivery.envelope).await;
                let _ = delivery.done.send(());
                drop(permit);
            });
            while in_flight.try_join_next().is_some() {}
        }
        // Finish what we hold. Then close the queue: a publish waiting on a message nobody
        // will consume now fails (its outbox row stays unsent) instead of waiting forever,
        // and later publishes fail at once until a consumer starts again.
        while in_flight.join_next().await.is_some() {}
        receiver.close();
        while let Ok(undelivered) = receiver.try_recv() {
            drop(undelivered);
        }
        Ok(())
    }

    async fn list_dead_letters(&self, service: &str, limit: usize) -> Result<Vec<DeadLetter>, BusError> {
        let rows: Vec<(Vec<u8>, String, i64, i64)> = sqlx::query_as(
            "SELECT envelope, reason, attempts, dead_lettered_at FROM event_dead_letter \
             WHERE service = $1 ORDER BY id LIMIT $2",
        )
        .bind(service)
        .bind(limit as i64)
        .fetch_all(self.dead_letters.pool())
        .await
        .map_err(|err| BusError::DeadLetters(err.to_string()))?;
        rows.into_iter()
            .map(|(bytes, reason, attempts, at)| {
                Ok(DeadLetter {
                    service: service.to_owned(),
                    envelope: Envelope::decode(&bytes).map_err(|err| BusError::DeadLetters(err.to_string()))?,
                    reason,
                    attempts: attempts as u32,
                    dead_lettered_at: wf_db::from_micros(at),
                })
            })
            .collect()
    }

    async fn replay_dead_letters(&self, service: &str, event_ids: Option<&[String]>) -> Result<usize, BusError> {
        let sender =
            self.sender_of(service).ok_or_else(|| BusError::Topology(format!("no queue for service {service}")))?;
        let letters = self.list_dead_letters(service, usize::MAX >> 1).await?;
        let mut replayed = 0;
        for letter in letters {
            let event_id = letter.envelope.event_id.to_string();
            if event_ids.is_some_and(|ids| !ids.contains(&event_id)) {
                continue;
            }
            sqlx::query("DELETE FROM event_dead_letter WHERE service = $1 AND event_id = $2")
                .bind(service)
                .bind(&event_id)
                .execute(self.dead_letters.pool())
                .await
                .map_err(|err| BusError::DeadLetters(err.to_string()))?;
            deliver(sender.clone(), letter.envelope).await.map_err(|err| BusError::Connection(err.to_string()))?;
            replayed += 1;
        }
        Ok(replayed)
    }
}

async fn handle_with_retries(
    bus: &InProcessBus,
    subscription: &Subscription,
    handler: &dyn EventHandler,
    envelope: Envelope,
) {
    let span = tracing::info_span!(
        "event.consume",
        otel.kind = "consumer",
        messaging.system = "in-process",
        event.r#type = %envelope.event_type,
        event.id = %envelope.event_id,
        consumer = %subscription.service,
    );
    envelope.trace.attach_to(&span);
    async {
        let mut attempt = 1;
        loop {
            let error = match handler.handle(envelope.clone()).await {
                Ok(()) => return,
                Err(error) => error,
            };
            let exhausted = attempt >= subscription.delivery_limit;
            tracing::warn!(event.id = %envelope.event_id, event.r#type = %envelope.event_type, attempt, error = %error, "event handler failed");
            match error {
                HandleError::Permanent(reason) => {
                    bus.store_dead_letter(&subscription.service, &envelope, &format!("rejected: {reason}"), attempt).await;
                    return;
                }
                HandleError::Transient(reason) if exhausted => {
                    bus.store_dead_letter(&subscription.service, &envelope, &format!("delivery_limit: {reason}"), attempt)
                        .await;
                    return;
                }
                HandleError::Transient(_) => {
                    tokio::time::sleep(subscription.backoff.delay(attempt)).await;
                    attempt += 1;
                }
            }
        }
    }
    .instrument(span)
    .await;
}
