//! Every test shares the one subscriber and in-memory exporter installed by `init_for_tests`,
//! and tests run concurrently, so each selects exported spans by its own trace id.

use std::collections::HashMap;

use opentelemetry::trace::{SpanKind, TraceId};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SpanData};
use tonic::metadata::MetadataMap;
use tonic::service::Interceptor as _;
use wf_telemetry::{
    LogFormat, TelemetryConfig, TelemetryError, TraceContext, TracePropagationInterceptor, context_from_map,
    grpc_server_span, init, init_for_tests, inject_into_map, inject_into_metadata,
};

fn spans_of_trace(exporter: &InMemorySpanExporter, trace_id: &str) -> Vec<SpanData> {
    let trace_id = TraceId::from_hex(trace_id).expect("trace id is hex");
    exporter
        .get_finished_spans()
        .expect("exporter readable")
        .into_iter()
        .filter(|span| span.span_context.trace_id() == trace_id)
        .collect()
}

fn span_named<'a>(spans: &'a [SpanData], name: &str) -> &'a SpanData {
    spans.iter().find(|span| span.name == name).unwrap_or_else(|| panic!("no exported span named {name} in {spans:#?}"))
}

/// `00-<32 hex>-<16 hex>-01`
fn assert_sampled_traceparent(traceparent: &str) {
    let parts: Vec<&str> = traceparent.split('-').collect();
    let is_lower_hex = |s: &str| s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    assert_eq!(parts.len(), 4, "{traceparent}");
    assert_eq!(parts[0], "00", "{traceparent}");
    assert!(parts[1].len() == 32 && is_lower_hex(parts[1]), "{traceparent}");
    assert!(parts[2].len() == 16 && is_lower_hex(parts[2]), "{traceparent}");
    assert_eq!(parts[3], "01", "{traceparent}");
}

#[test]
fn current_context_carries_the_span_trace_id() {
    let exporter = init_for_tests();
    let parent = tracing::info_span!("intake.submit_referral");
    let context = parent.in_scope(TraceContext::current);
    drop(parent);

    assert_sampled_traceparent(&context.traceparent);
    let trace_id = context.trace_id().expect("trace id");
    let spans = spans_of_trace(&exporter, &trace_id);
    span_named(&spans, "intake.submit_referral");
}

#[test]
fn no_current_span_gives_an_empty_context() {
    init_for_tests();
    let context = TraceContext::current();
    assert_eq!(context, TraceContext::default());
    assert!(context.is_empty());
    assert_eq!(context.trace_id(), None);

    let mut map = HashMap::new();
    inject_into_map(&mut map);
    assert!(map.is_empty());
}

#[tokio::test]
async fn attached_context_continues_the_trace_in_another_service() {
    let exporter = init_for_tests();
    let parent = tracing::info_span!("intake.publish_referral");
    let carried = parent.in_scope(TraceContext::current);
    let parent_trace_id = carried.trace_id().expect("parent trace id");

    // As a consumer would: a new root span in another task, parented by the carried context.
    let child_trace_id = tokio::spawn(async move {
        let span = tracing::info_span!(parent: None, "routing.consume_referral");
        carried.attach_to(&span);
        span.in_scope(TraceContext::current).trace_id()
    })
    .await
    .expect("consumer task");
    drop(parent);

    assert_eq!(child_trace_id.as_deref(), Some(parent_trace_id.as_str()));
    let spans = spans_of_trace(&exporter, &parent_trace_id);
    let parent = span_named(&spans, "intake.publish_referral");
    let child = span_named(&spans, "routing.consume_referral");
    assert_eq!(child.parent_span_id, parent.span_context.span_id());
    assert!(child.parent_span_is_remote);
}

#[test]
fn attaching_an_empty_or_invalid_context_is_a_no_op() {
    let exporter = init_for_tests();
    let invalid = TraceContext {
        traceparent: "00-00000000000000000000000000000000-00f067aa0ba902b7-01".to_owned(),
        tracestate: String::new(),
    };
    for context in [TraceContext::default(), invalid] {
        let span = tracing::info_span!(parent: None, "audit.record");
        context.attach_to(&span);
        let own = span.in_scope(TraceContext::current);
        drop(span);
        let trace_id = own.trace_id().expect("span starts its own trace");
        let spans = spans_of_trace(&exporter, &trace_id);
        let span = span_named(&spans, "audit.record");
        assert_eq!(span.parent_span_id, opentelemetry::trace::SpanId::INVALID);
    }
}

#[test]
fn map_round_trip_keeps_the_context() {
    init_for_tests();
    let span = tracing::info_span!("cases.publish_event");
    let _entered = span.enter();

    let mut headers = HashMap::new();
    inject_into_map(&mut headers);
    assert_sampled_traceparent(&headers["traceparent"]);
    assert_eq!(context_from_map(&headers), TraceContext::current());

    let mut stored = HashMap::new();
    TraceContext::current().insert_into_map(&mut stored);
    assert_eq!(stored, headers);
}

#[test]
fn map_keeps_tracestate() {
    init_for_tests();
    let headers = HashMap::from([
        ("traceparent".to_owned(), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_owned()),
        ("tracestate".to_owned(), "vendor=opaque".to_owned()),
    ]);
    let context = context_from_map(&headers);
    assert_eq!(context.traceparent, headers["traceparent"]);
    assert_eq!(context.tracestate, "vendor=opaque");
    assert_eq!(context.trace_id().as_deref(), Some("4bf92f3577b34da6a3ce929d0e0e4736"));
}

#[test]
fn missing_or_malformed_headers_give_an_empty_context() {
    init_for_tests();
    assert!(context_from_map(&HashMap::new()).is_empty());
    let malformed = HashMap::from([("traceparent".to_owned(), "not-a-traceparent".to_owned())]);
    assert!(context_from_map(&malformed).is_empty());
}

#[test]
fn trace_id_requires_a_well_formed_traceparent() {
    let with = |traceparent: &str| TraceContext { traceparent: traceparent.to_owned(), tracestate: String::new() };
    assert_eq!(with("").trace_id(), None);
    assert_eq!(with("00-abc-00f067aa0ba902b7-01").trace_id(), None);
    assert_eq!(with("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01").trace_id(), None);
    assert_eq!(with("00-00000000000000000000000000000000-00f067aa0ba902b7-01").trace_id(), None);
}

#[test]
fn metadata_injection_yields_a_valid_traceparent() {
    init_for_tests();
    let span = tracing::info_span!("cases.call_routing");
    let _entered = span.enter();
    let expected = TraceContext::current();

    let mut metadata = MetadataMap::new();
    inject_into_metadata(&mut metadata);
    let traceparent = metadata.get("traceparent").expect("traceparent").to_str().unwrap();
    assert_sampled_traceparent(traceparent);
    assert_eq!(traceparent, expected.traceparent);

    let request = TracePropagationInterceptor.call(tonic::Request::new(())).expect("interceptor never rejects");
    assert_eq!(request.metadata().get("traceparent").unwrap().to_str().unwrap(), expected.traceparent);
}

#[test]
fn interceptor_without_a_span_adds_nothing() {
    init_for_tests();
    let request = TracePropagationInterceptor.call(tonic::Request::new(())).expect("interceptor never rejects");
    assert!(request.metadata().get("traceparent").is_none());
}

#[test]
fn grpc_server_span_continues_the_incoming_trace() {
    let exporter = init_for_tests();
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let request = http::Request::builder()
        .uri("http://intake/wayfinder.intake.v1.IntakeService/SubmitReferral")
        .header("traceparent", format!("00-{trace_id}-00f067aa0ba902b7-01"))
        .body(())
        .unwrap();

    let span = grpc_server_span(&request);
    let inside = span.in_scope(TraceContext::current);
    drop(span);

    assert_eq!(inside.trace_id().as_deref(), Some(trace_id));
    let spans = spans_of_trace(&exporter, trace_id);
    let server = span_named(&spans, "grpc.request");
    assert_eq!(server.parent_span_id.to_string(), "00f067aa0ba902b7");
    assert_eq!(server.span_kind, SpanKind::Server);
    let method = server.attributes.iter().find(|kv| kv.key.as_str() == "rpc.method").expect("rpc.method attribute");
    assert_eq!(method.value.as_str(), "/wayfinder.intake.v1.IntakeService/SubmitReferral");
}

#[test]
fn client_metadata_reaches_the_server_span() {
    init_for_tests();
    let client = tracing::info_span!("cases.call_audit");
    let (sent, request) = client.in_scope(|| {
        let request = TracePropagationInterceptor.call(tonic::Request::new(())).unwrap();
        (TraceContext::current(), request)
    });
    let mut http_request = http::Request::builder().uri("/wayfinder.audit.v1.AuditService/Record").body(()).unwrap();
    *http_request.headers_mut() = request.into_parts().0.into_headers();

    let server = grpc_server_span(&http_request);
    let received = server.in_scope(TraceContext::current);
    assert_eq!(received.trace_id(), sent.trace_id());
    assert_ne!(received.traceparent, sent.traceparent, "server span has its own id");
}

#[test]
fn grpc_server_span_without_headers_starts_a_trace() {
    init_for_tests();
    let request = http::Request::builder().uri("/wayfinder.routing.v1.RoutingService/Route").body(()).unwrap();
    let span = grpc_server_span(&request);
    assert!(span.in_scope(TraceContext::current).trace_id().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn second_init_is_reported_and_harmless() {
    let exporter = init_for_tests();
    let cfg = TelemetryConfig {
        service_name: "wf-telemetry-test".to_owned(),
        log_format: LogFormat::Json,
        log_filter: "info".to_owned(),
        otlp_endpoint: Some("http://127.0.0.1:4317".to_owned()),
    };
    let result = init(&cfg);
    assert!(matches!(result, Err(TelemetryError::AlreadyInitialized(_))), "{result:?}");

    // The test subscriber is still the one in force.
    let span = tracing::info_span!("still.captured");
    let trace_id = span.in_scope(TraceContext::current).trace_id().unwrap();
    drop(span);
    span_named(&spans_of_trace(&exporter, &trace_id), "still.captured");
}

#[test]
fn invalid_log_filter_is_rejected_before_installing_anything() {
    if std::env::var_os("RUST_LOG").is_some() {
        return; // RUST_LOG overrides the configured filter
    }
    let cfg = TelemetryConfig { log_filter: "info,wayfinder=loud".to_owned(), ..TelemetryConfig::default() };
    let result = init(&cfg);
    assert!(matches!(result, Err(TelemetryError::InvalidLogFilter { .. })), "{result:?}");
}

#[test]
fn otlp_export_outside_a_runtime_is_rejected() {
    if std::env::var_os("RUST_LOG").is_some() {
        return;
    }
    let cfg = TelemetryConfig { otlp_endpoint: Some("http://127.0.0.1:4317".to_owned()), ..TelemetryConfig::default() };
    let result = init(&cfg);
    assert!(matches!(result, Err(TelemetryError::NoTokioRuntime)), "{result:?}");
}

#[test]
fn config_deserializes_with_defaults() {
    let cfg: TelemetryConfig = serde_json::from_str(r#"{"log_format": "json"}"#).unwrap();
    assert_eq!(cfg, TelemetryConfig { log_format: LogFormat::Json, ..TelemetryConfig::default() });
    assert_eq!(cfg.service_name, "wayfinder");
    // Routine per-referral lines are debug in the services; the default shows info and up.
    assert_eq!(cfg.log_filter, wf_telemetry::DEFAULT_LOG_FILTER);
    assert_eq!(cfg.log_filter, "info");
    assert_eq!(cfg.otlp_endpoint, None);
}
