//! The W3C trace context as plain strings, so it can be stored (outbox rows) and carried in any
//! header map.

use std::collections::HashMap;

use opentelemetry::propagation::{Extractor, Injector};
use opentelemetry::trace::TraceContextExt as _;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

pub(crate) const TRACEPARENT: &str = "traceparent";
pub(crate) const TRACESTATE: &str = "tracestate";

/// The `traceparent` and `tracestate` of one span; empty strings when there is none.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TraceContext {
    pub traceparent: String,
    pub tracestate: String,
}

impl TraceContext {
    /// The context of the current `tracing` span, serialised by the global propagator.
    pub fn current() -> Self {
        Self::from_otel_context(&tracing::Span::current().context())
    }

    /// True when there is no `traceparent` to continue.
    pub fn is_empty(&self) -> bool {
        self.traceparent.is_empty()
    }

    /// Makes the carried context the OpenTelemetry parent of `span`, continuing the trace in
    /// another service. Call it before the span is first entered; a no-op when the context is
    /// empty or invalid, or when `span` is disabled.
    pub fn attach_to(&self, span: &tracing::Span) {
        let Some(parent) = self.to_otel_context() else {
            return;
        };
        if let Err(error) = span.set_parent(parent) {
            tracing::debug!(%error, "trace context not attached");
        }
    }

    /// The 32 lowercase hex digit trace id from `traceparent`, if it is well formed.
    pub fn trace_id(&self) -> Option<String> {
        let mut parts = self.traceparent.split('-');
        let (_version, trace_id) = (parts.next()?, parts.next()?);
        let is_valid = trace_id.len() == 32
            && trace_id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
            && trace_id.bytes().any(|b| b != b'0');
        is_valid.then(|| trace_id.to_owned())
    }

    /// Writes the non-empty fields under `traceparent` / `tracestate`, e.g. into AMQP headers when
    /// publishing a message whose context was stored earlier.
    pub fn insert_into_map(&self, map: &mut HashMap<String, String>) {
        self.for_each_header(|key, value| {
            map.insert(key.to_owned(), value.to_owned());
        });
    }

    pub(crate) fn for_each_header(&self, mut write: impl FnMut(&'static str, &str)) {
        if self.traceparent.is_empty() {
            return;
        }
        write(TRACEPARENT, &self.traceparent);
        if !self.tracestate.is_empty() {
            write(TRACESTATE, &self.tracestate);
        }
    }

    pub(crate) fn from_extractor(carrier: &dyn Extractor) -> Self {
        let cx = opentelemetry::global::get_text_map_propagator(|propagator| propagator.extract(carrier));
        Self::from_otel_context(&cx)
    }

    fn from_otel_context(cx: &opentelemetry::Context) -> Self {
        if !cx.span().span_context().is_valid() {
            return Self::default();
        }
        let mut carrier = Carrier::default();
        opentelemetry::global::get_text_map_propagator(|propagator| {
            propagator.inject_context(cx, &mut carrier);
        });
        carrier.0
    }

    fn to_otel_context(&self) -> Option<opentelemetry::Context> {
        if self.is_empty() {
            return None;
        }
        let cx =
            opentelemetry::global::get_text_map_propagator(|propagator| propagator.extract(&Carrier(self.clone())));
        cx.span().span_context().is_valid().then_some(cx)
    }
}

/// Adapts [`TraceContext`] to the propagator, which speaks in header names.
#[derive(Default)]
struct Carrier(TraceContext);

impl Injector for Carrier {
    fn set(&mut self, key: &str, value: String) {
        if key.eq_ignore_ascii_case(TRACEPARENT) {
            self.0.traceparent = value;
        } else if key.eq_ignore_ascii_case(TRACESTATE) {
            self.0.tracestate = value;
        }
    }
}

impl Extractor for Carrier {
    fn get(&self, key: &str) -> Option<&str> {
        let value = if key.eq_ignore_ascii_case(TRACEPARENT) {
            &self.0.traceparent
        } else if key.eq_ignore_ascii_case(TRACESTATE) {
            &self.0.tracestate
        } else {
            return None;
        };
        (!value.is_empty()).then_some(value.as_str())
    }

    fn keys(&self) -> Vec<&str> {
        vec![TRACEPARENT, TRACESTATE]
    }
}

/// Writes the current span's context into message headers (`traceparent`, `tracestate`).
/// Leaves `map` untouched when there is no current span context.
pub fn inject_into_map(map: &mut HashMap<String, String>) {
    TraceContext::current().insert_into_map(map);
}

/// Reads a trace context from message headers; empty when absent or malformed.
/// Header names are matched in lowercase, as [`inject_into_map`] writes them.
pub fn context_from_map(map: &HashMap<String, String>) -> TraceContext {
    TraceContext::from_extractor(map)
}
