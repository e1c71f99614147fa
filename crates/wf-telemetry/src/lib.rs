//! Tracing and OpenTelemetry for every Wayfinder process, and the trace context that crosses each hop.
//!
//! One referral is one distributed trace: the context travels in gRPC metadata (the
//! [`TracePropagationInterceptor`] on clients, [`grpc_server_span`] on servers) and in AMQP message
//! headers ([`inject_into_map`] / [`context_from_map`], or a stored [`TraceContext`] for the outbox).
//! Only the W3C `traceparent` and `tracestate` values are carried.
//!
//! Rule for every crate: logs, traces and metrics never contain names, dates of birth, contact
//! details or free-text notes. Record identifiers, codes and counts as structured fields instead.
//! Nothing in this crate records a request or message payload; the gRPC server span holds only
//! the method path.

mod context;
mod grpc;
mod line;
mod setup;

pub use context::{TraceContext, context_from_map, inject_into_map};
pub use grpc::{TracePropagationInterceptor, grpc_server_span, inject_into_metadata};
pub use line::OneLine;
pub use setup::{DEFAULT_LOG_FILTER, LogFormat, TelemetryConfig, TelemetryError, TelemetryGuard, init, init_for_tests};
