//! Trace context over gRPC metadata: a server span for tonic's `trace_fn` and a client interceptor.

use opentelemetry::propagation::Extractor;
use tonic::metadata::{MetadataMap, MetadataValue};

use crate::context::{TRACEPARENT, TRACESTATE, TraceContext};

/// Span for one incoming gRPC request, continuing the caller's trace when the request carries
/// `traceparent` / `tracestate` headers. For `Server::builder().trace_fn(grpc_server_span)`.
///
/// Only the method path is recorded; request bodies and other headers never are.
/// `otel.status_code` is left empty for the handler or a layer to fill in.
pub fn grpc_server_span(req: &http::Request<()>) -> tracing::Span {
    let span = tracing::info_span!(
        "grpc.request",
        otel.kind = "server",
        rpc.system = "grpc",
        rpc.method = req.uri().path(),
        otel.status_code = tracing::field::Empty,
    );
    TraceContext::from_extractor(&HeaderExtractor(req.headers())).attach_to(&span);
    span
}

/// Client interceptor that sends the current span's trace context with every request:
/// `Client::with_interceptor(channel, TracePropagationInterceptor)`.
#[derive(Clone, Debug, Default)]
pub struct TracePropagationInterceptor;

impl tonic::service::Interceptor for TracePropagationInterceptor {
    fn call(&mut self, mut request: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        inject_into_metadata(request.metadata_mut());
        Ok(request)
    }
}

/// Writes the current span's context into gRPC metadata (`traceparent`, `tracestate`).
/// Leaves `md` untouched when there is no current span context.
pub fn inject_into_metadata(md: &mut MetadataMap) {
    TraceContext::current().for_each_header(|key, value| {
        // Propagator output is ASCII; a value that is not is dropped rather than sent broken.
        if let Ok(value) = MetadataValue::try_from(value) {
            md.insert(key, value);
        }
    });
}

struct HeaderExtractor<'a>(&'a http::HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|value| value.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        [TRACEPARENT, TRACESTATE].into_iter().filter(|key| self.0.contains_key(*key)).collect()
    }
}
