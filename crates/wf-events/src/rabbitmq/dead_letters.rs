//! Dead letters: listing a service's dead-letter queue and replaying from it.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use lapin::BasicProperties;
use lapin::message::{BasicGetMessage, Delivery};
use lapin::options::{
    BasicAckOptions, BasicGetOptions, BasicNackOptions, BasicPublishOptions, ConfirmSelectOptions, QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable, ShortString};

use super::message::{as_string, as_u64, check_confirmation, delivery_count, header, short};
use super::{RabbitBus, close_channel, connection_error};
use crate::Envelope;
use crate::bus::{BusError, DeadLetter};

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

impl RabbitBus {
    /// Up to `limit` dead letters of `service`, left in the queue.
    pub(super) async fn peek_dead_letters(&self, service: &str, limit: usize) -> Result<Vec<DeadLetter>, BusError> {
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

    /// Republishes the selected dead letters of `service` to its queue, acking each once confirmed.
    pub(super) async fn republish_dead_letters(
        &self,
        service: &str,
        event_ids: Option<&[String]>,
    ) -> Result<usize, BusError> {
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

fn dead_letter_error(err: lapin::Error) -> BusError {
    BusError::DeadLetters(err.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rabbitmq::message::long_str;

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
