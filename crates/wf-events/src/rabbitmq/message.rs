//! AMQP message helpers: an envelope's properties, reading header values, and what a publisher confirm means.

use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use lapin::{BasicProperties, Confirmation};

use crate::Envelope;
use crate::bus::PublishError;

const CONTENT_TYPE: &str = "application/x-protobuf";

/// Maps a confirmation to the publish outcome; only an Ack without a returned message is "sent".
pub(super) fn check_confirmation(
    confirmation: Confirmation,
    message_id: &str,
    routing_key: String,
) -> Result<(), PublishError> {
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

pub(super) fn envelope_properties(envelope: &Envelope) -> Result<BasicProperties, String> {
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

/// Failed deliveries before this one (`x-delivery-count`; absent on the first delivery).
pub(super) fn delivery_count(properties: &BasicProperties) -> u32 {
    header(properties, "x-delivery-count").and_then(as_u64).map_or(0, |n| u32::try_from(n).unwrap_or(u32::MAX))
}

pub(super) fn header<'a>(properties: &'a BasicProperties, key: &str) -> Option<&'a AMQPValue> {
    properties.headers().as_ref()?.inner().get(key)
}

pub(super) fn as_u64(value: &AMQPValue) -> Option<u64> {
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

pub(super) fn as_string(value: &AMQPValue) -> Option<String> {
    match value {
        AMQPValue::LongString(s) => Some(s.to_string()),
        AMQPValue::ShortString(s) => Some(s.as_str().to_owned()),
        _ => None,
    }
}

pub(super) fn short(value: &str) -> Result<ShortString, String> {
    ShortString::try_new(value).map_err(|err| format!("{value:.40}…: {err}"))
}

pub(super) fn long_str(value: &str) -> AMQPValue {
    AMQPValue::LongString(LongString::from(value))
}
