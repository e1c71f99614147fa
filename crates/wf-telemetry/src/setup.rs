//! Installing the process-wide subscriber, propagator and tracer provider.

use std::io::IsTerminal as _;
use std::sync::OnceLock;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{InMemorySpanExporter, Sampler, SdkTracerProvider};
use serde::Deserialize;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer as _};

/// Instrumentation scope of the tracer behind the `tracing` bridge.
const TRACER_SCOPE: &str = "wayfinder";

/// The default log filter: `info`. The services log the routine line of each referral, offer or
/// case at debug, so what shows by default is the system's own life (start, stop, policy and
/// directory changes, checkpoints) and the warnings that need a person (an emergent referral
/// escalated, no case manager free, a mandated report overdue). `RUST_LOG=debug` (or
/// `telemetry.log_filter = "debug"`) shows the routine lines too.
pub const DEFAULT_LOG_FILTER: &str = "info";

/// How the process logs and where it sends spans.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(default)]
pub struct TelemetryConfig {
    /// Becomes the `service.name` resource attribute of exported spans.
    pub service_name: String,
    pub log_format: LogFormat,
    /// `EnvFilter` directives, e.g. `info,wayfinder=debug` (default [`DEFAULT_LOG_FILTER`]). A
    /// non-empty `RUST_LOG` wins over this.
    pub log_filter: String,
    /// OTLP gRPC collector, e.g. `http://127.0.0.1:4317`. `None` exports no spans.
    pub otlp_endpoint: Option<String>,
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        Self {
            service_name: "wayfinder".to_owned(),
            log_format: LogFormat::default(),
            log_filter: DEFAULT_LOG_FILTER.to_owned(),
            otlp_endpoint: None,
        }
    }
}

/// Log line format on stderr.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable, one line per event ([`crate::OneLine`]), coloured only on a terminal.
    #[default]
    Pretty,
    /// One JSON object per line; for log collectors.
    Json,
}

#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error("invalid log filter {filter:?}")]
    InvalidLogFilter {
        filter: String,
        #[source]
        source: tracing_subscriber::filter::ParseError,
    },
    #[error("otlp export needs a running tokio runtime")]
    NoTokioRuntime,
    #[error("could not build the otlp span exporter")]
    OtlpExporter(#[from] opentelemetry_otlp::ExporterBuildError),
    /// A global subscriber is already installed (an earlier `init` or `init_for_tests`). The
    /// earlier installation stays in force, so callers that may initialise twice can ignore this.
    #[error("telemetry is already initialised")]
    AlreadyInitialized(#[source] tracing_subscriber::util::TryInitError),
}

/// Keeps span export alive; dropping it flushes pending spans and shuts the tracer provider down.
///
/// Hold it in `main` until the servers have stopped. With OTLP export, drop it while the tokio
/// runtime is still running (and not from the only thread of a current-thread runtime), because
/// the final export travels over a tonic channel driven by that runtime.
#[must_use = "dropping the guard shuts down span export"]
#[derive(Debug)]
pub struct TelemetryGuard {
    tracer_provider: Option<SdkTracerProvider>,
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Some(provider) = self.tracer_provider.take() {
            // Nowhere left to report a failure: the subscriber may already be gone.
            let _ = provider.shutdown();
        }
    }
}

/// Installs the W3C trace-context propagator, and a global subscriber logging to stderr that also
/// exports spans over OTLP gRPC (batched) when `cfg.otlp_endpoint` is set.
///
/// Call it once, early in `main`, inside the tokio runtime when OTLP export is configured.
/// A second call (or a call after [`init_for_tests`]) changes nothing except re-installing the
/// same propagator and returns [`TelemetryError::AlreadyInitialized`], which callers may ignore.
pub fn init(cfg: &TelemetryConfig) -> Result<TelemetryGuard, TelemetryError> {
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());

    let filter = log_filter(cfg)?;
    let tracer_provider = match cfg.otlp_endpoint.as_deref() {
        Some(endpoint) => Some(otlp_tracer_provider(&cfg.service_name, endpoint)?),
        None => None,
    };

    let fmt_layer = match cfg.log_format {
        LogFormat::Pretty => tracing_subscriber::fmt::layer()
            .event_format(crate::OneLine)
            .with_ansi(std::io::stderr().is_terminal())
            .with_writer(std::io::stderr)
            .boxed(),
        LogFormat::Json => {
            tracing_subscriber::fmt::layer().json().with_ansi(false).with_writer(std::io::stderr).boxed()
        }
    };
    let otel_layer = tracer_provider.as_ref().map(|provider| {
        tracing_opentelemetry::layer().with_tracer(provider.tracer(TRACER_SCOPE)).with_filter(not_the_exporter_itself())
    });

    let installed = tracing_subscriber::registry().with(filter).with(fmt_layer).with(otel_layer).try_init();
    if let Err(error) = installed {
        if let Some(provider) = tracer_provider {
            let _ = provider.shutdown();
        }
        return Err(TelemetryError::AlreadyInitialized(error));
    }

    if let Some(provider) = &tracer_provider {
        // For libraries that use the OpenTelemetry API directly rather than `tracing`.
        opentelemetry::global::set_tracer_provider(provider.clone());
    }
    Ok(TelemetryGuard { tracer_provider })
}

/// Spans from the crates that carry the OTLP export would otherwise be exported in turn and
/// feed the exporter forever once the log filter admits their debug output.
fn not_the_exporter_itself() -> Targets {
    ["h2", "hyper", "hyper_util", "tonic", "tower", "opentelemetry", "opentelemetry_sdk", "opentelemetry_otlp"]
        .into_iter()
        .fold(Targets::new().with_default(LevelFilter::TRACE), |targets, target| {
            targets.with_target(target, LevelFilter::OFF)
        })
}

fn log_filter(cfg: &TelemetryConfig) -> Result<EnvFilter, TelemetryError> {
    let directives = std::env::var(EnvFilter::DEFAULT_ENV)
        .ok()
        .filter(|value| !value.trim().is_empty())
        .unwrap_or_else(|| cfg.log_filter.clone());
    EnvFilter::try_new(&directives).map_err(|source| TelemetryError::InvalidLogFilter { filter: directives, source })
}

fn otlp_tracer_provider(service_name: &str, endpoint: &str) -> Result<SdkTracerProvider, TelemetryError> {
    // The tonic channel spawns its worker onto the current runtime; without one it would panic.
    tokio::runtime::Handle::try_current().map_err(|_| TelemetryError::NoTokioRuntime)?;
    let exporter = opentelemetry_otlp::SpanExporter::builder().with_tonic().with_endpoint(endpoint).build()?;
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(Resource::builder().with_service_name(service_name.to_owned()).build())
        .build())
}

struct TestTelemetry {
    exporter: InMemorySpanExporter,
    // Owned here so the provider lives as long as the process.
    _tracer_provider: SdkTracerProvider,
}

static TEST_TELEMETRY: OnceLock<TestTelemetry> = OnceLock::new();

/// Installs, once per process, a subscriber whose spans are exported synchronously (simple span
/// processor, always-on sampler) into an in-memory exporter, plus the W3C propagator; returns a
/// handle to that exporter.
///
/// Every test in a binary shares the one exporter, so assert on spans selected by trace id rather
/// than on counts, and do not `reset()` it. Log lines go to the test writer, filtered by
/// `RUST_LOG` (default `warn`); spans of every level reach the exporter. If another global
/// subscriber was installed first, logging and span capture stay with that one.
pub fn init_for_tests() -> InMemorySpanExporter {
    let telemetry = TEST_TELEMETRY.get_or_init(|| {
        opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
        let exporter = InMemorySpanExporter::default();
        let tracer_provider = SdkTracerProvider::builder()
            .with_sampler(Sampler::AlwaysOn)
            .with_simple_exporter(exporter.clone())
            .with_resource(Resource::builder().with_service_name("wayfinder-test").build())
            .build();
        let log_filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
        let _ = tracing_subscriber::registry()
            .with(tracing_subscriber::fmt::layer().with_test_writer().with_filter(log_filter))
            .with(tracing_opentelemetry::layer().with_tracer(tracer_provider.tracer(TRACER_SCOPE)))
            .try_init();
        opentelemetry::global::set_tracer_provider(tracer_provider.clone());
        TestTelemetry { exporter, _tracer_provider: tracer_provider }
    });
    telemetry.exporter.clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    // The only test in this binary that installs the real subscriber.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn init_installs_once_and_the_guard_shuts_down_promptly() {
        let cfg = TelemetryConfig {
            service_name: "wf-telemetry-unit".to_owned(),
            log_format: LogFormat::Json,
            log_filter: "warn".to_owned(),
            // Nothing listens here: export fails, shutdown must still return.
            otlp_endpoint: Some("http://127.0.0.1:9".to_owned()),
        };
        let guard = init(&cfg).expect("first init installs");
        tracing::warn_span!("unit.span").in_scope(|| {
            assert!(!crate::TraceContext::current().is_empty());
        });
        assert!(matches!(init(&cfg), Err(TelemetryError::AlreadyInitialized(_))));

        let started = std::time::Instant::now();
        drop(guard);
        assert!(started.elapsed() < std::time::Duration::from_secs(15));
    }
}
