//! The one envelope every event travels in (DESIGN.md "Events").

use chrono::{DateTime, Utc};
use prost::Message;
use uuid::Uuid;
use wf_proto::events::v1::EventEnvelope;
use wf_telemetry::TraceContext;

/// A payload message with its event type (also the routing key).
pub trait EventPayload: Message + Default {
    const TYPE: &'static str;
    const SCHEMA_VERSION: u32 = 1;
}

/// An event: metadata plus the protobuf-encoded payload. Carries coded fields
/// only, never names, dates of birth, contact details or free text.
#[derive(Clone, PartialEq)]
pub struct Envelope {
    pub event_id: Uuid,
    pub event_type: String,
    pub occurred_at: DateTime<Utc>,
    pub aggregate_id: String,
    pub producer: String,
    pub schema_version: u32,
    pub trace: TraceContext,
    /// The referral this event belongs to, or empty.
    pub correlation_id: String,
    pub payload: Vec<u8>,
}

// Debug shows metadata only; payloads are for handlers, not logs.
impl std::fmt::Debug for Envelope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Envelope")
            .field("event_id", &self.event_id)
            .field("event_type", &self.event_type)
            .field("aggregate_id", &self.aggregate_id)
            .field("producer", &self.producer)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EnvelopeError {
    #[error("envelope is not a valid EventEnvelope: {0}")]
    Decode(#[from] prost::DecodeError),
    #[error("envelope field {field} is invalid: {reason}")]
    Field { field: &'static str, reason: String },
    #[error("payload of {event_type} is not a valid {expected}: {source}")]
    Payload { event_type: String, expected: &'static str, source: prost::DecodeError },
    #[error("event {actual} is not a {expected}")]
    WrongType { expected: &'static str, actual: String },
}

impl Envelope {
    /// A new event for `payload`, stamped now with a UUIDv7 and the current trace context.
    pub fn new<P: EventPayload>(
        producer: &str,
        aggregate_id: impl Into<String>,
        correlation_id: impl Into<String>,
        payload: &P,
    ) -> Self {
        Self {
            event_id: Uuid::now_v7(),
            event_type: P::TYPE.to_owned(),
            occurred_at: Utc::now(),
            aggregate_id: aggregate_id.into(),
            producer: producer.to_owned(),
            schema_version: P::SCHEMA_VERSION,
            trace: TraceContext::current(),
            correlation_id: correlation_id.into(),
            payload: payload.encode_to_vec(),
        }
    }

    /// Decodes the payload, checking that the event type matches.
    pub fn payload_as<P: EventPayload>(&self) -> Result<P, EnvelopeError> {
        if self.event_type != P::TYPE {
            return Err(EnvelopeError::WrongType { expected: P::TYPE, actual: self.event_type.clone() });
        }
        P::decode(self.payload.as_slice()).map_err(|source| EnvelopeError::Payload {
            event_type: self.event_type.clone(),
            expected: P::TYPE,
            source,
        })
    }

    pub fn to_proto(&self) -> EventEnvelope {
        EventEnvelope {
            event_id: self.event_id.to_string(),
            r#type: self.event_type.clone(),
            occurred_at: Some(prost_types::Timestamp {
                seconds: self.occurred_at.timestamp(),
                nanos: self.occurred_at.timestamp_subsec_nanos() as i32,
            }),
            aggregate_id: self.aggregate_id.clone(),
            producer: self.producer.clone(),
            schema_version: self.schema_version,
            traceparent: self.trace.traceparent.clone(),
            tracestate: self.trace.tracestate.clone(),
            correlation_id: self.correlation_id.clone(),
            payload: self.payload.clone(),
        }
    }

    pub fn from_proto(proto: EventEnvelope) -> Result<Self, EnvelopeError> {
        let event_id = Uuid::parse_str(&proto.event_id)
            .map_err(|err| EnvelopeError::Field { field: "event_id", reason: err.to_string() })?;
        if proto.r#type.is_empty() {
            return Err(EnvelopeError::Field { field: "type", reason: "must not be empty".into() });
        }
        let occurred_at = proto
            .occurred_at
            .and_then(|ts| DateTime::from_timestamp(ts.seconds, ts.nanos.max(0) as u32))
            .ok_or(EnvelopeError::Field { field: "occurred_at", reason: "missing or out of range".into() })?;
        Ok(Self {
            event_id,
            event_type: proto.r#type,
            occurred_at,
            aggregate_id: proto.aggregate_id,
            producer: proto.producer,
            schema_version: proto.schema_version,
            trace: TraceContext { traceparent: proto.traceparent, tracestate: proto.tracestate },
            correlation_id: proto.correlation_id,
            payload: proto.payload,
        })
    }

    pub fn encode(&self) -> Vec<u8> {
        self.to_proto().encode_to_vec()
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, EnvelopeError> {
        Self::from_proto(EventEnvelope::decode(bytes)?)
    }

    /// The routing key on the topic exchange: the event type.
    pub fn routing_key(&self) -> &str {
        &self.event_type
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_decode_round_trip() {
        let envelope = Envelope {
            event_id: Uuid::now_v7(),
            event_type: "referral.received".into(),
            occurred_at: Utc::now(),
            aggregate_id: "ref_0192f1c4d5e67a8b9c0d1e2f3a4b5c6d".into(),
            producer: "intake".into(),
            schema_version: 1,
            trace: TraceContext {
                traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".into(),
                tracestate: String::new(),
            },
            correlation_id: "ref_0192f1c4d5e67a8b9c0d1e2f3a4b5c6d".into(),
            payload: vec![1, 2, 3],
        };
        let decoded = Envelope::decode(&envelope.encode()).unwrap();
        assert_eq!(decoded, envelope);
    }

    #[test]
    fn bad_event_id_names_the_field() {
        let proto = EventEnvelope { event_id: "nope".into(), r#type: "x".into(), ..Default::default() };
        let err = Envelope::from_proto(proto).unwrap_err();
        assert!(err.to_string().starts_with("envelope field event_id is invalid"), "{err}");
    }
}
