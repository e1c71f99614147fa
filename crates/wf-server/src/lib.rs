//! The shape every Wayfinder service shares. A service is a [`Component`]: gRPC
//! services to mount, event subscriptions, and background workers (its outbox
//! relay and consumers). A [`Server`] hosts one component (a service in its own
//! process) or several (the all-in-one binary) behind one gRPC port with
//! `grpc.health.v1`, server reflection, JWT auth, trace propagation and the
//! dead-letter admin API, and shuts down in order: stop taking work, finish
//! what is in hand, then close.

pub mod access;
mod admin;
mod error;
pub mod gate;
pub mod limits;
pub mod refusals;
mod workers;

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tokio_util::sync::CancellationToken;
use tonic::service::RoutesBuilder;
use wf_auth::AuthGate;
use wf_events::{EventBus, Subscription};

pub use admin::AdminApi;
pub use error::{ApiError, ErrorCode, FieldViolation, ListedViolations, MAX_LISTED_VIOLATIONS, shown};
pub use gate::Mount;
pub use limits::MalformedRequestLayer;
pub use refusals::Refusals;
pub use wf_types::PageLimits;
/// The one pagination helper (it lives in wf-types, so pure domain code can page too).
pub use wf_types::pagination;
pub use workers::{Workers, pause};

/// One service, as mounted in a [`Server`].
#[async_trait::async_trait]
pub trait Component: Send + Sync + 'static {
    /// Short service name: "intake", "routing", "cases", "audit".
    fn name(&self) -> &'static str;
    /// Fully qualified gRPC service names, reported by the health service.
    fn grpc_service_names(&self) -> Vec<&'static str>;
    /// Mounts the component's gRPC services; each sits behind the gate, which reports refusals
    /// to [`Component::refusals`].
    fn mount(&self, routes: &mut Mount<'_>);
    /// Where this component's refused calls are recorded; the server runs its writer.
    fn refusals(&self) -> Refusals;
    /// The queues this component consumes from.
    fn subscriptions(&self) -> Vec<Subscription>;
    /// Runs background workers (relay, consumers) until `shutdown`, finishing work in hand.
    async fn run(self: Arc<Self>, shutdown: CancellationToken) -> anyhow::Result<()>;
}

/// Which queues a server declares before any worker starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topology {
    /// Only the hosted components' queues (the in-process bus, which cannot hold
    /// messages for consumers that are not running).
    Hosted,
    /// Every service's queues (RabbitMQ: durable queues exist before anything is published).
    Full,
}

pub struct Server {
    listener: TcpListener,
    components: Vec<Arc<dyn Component>>,
    bus: Arc<dyn EventBus>,
    auth: AuthGate,
    topology: Topology,
    subscription_defaults: SubscriptionDefaults,
}

/// Delivery settings applied to every declared subscription.
#[derive(Debug, Clone, Copy)]
pub struct SubscriptionDefaults {
    pub delivery_limit: u32,
    pub backoff: wf_events::Backoff,
}

impl SubscriptionDefaults {
    pub fn from_config(config: &wf_config::EventsConfig) -> Self {
        Self {
            delivery_limit: config.delivery_limit,
            backoff: wf_events::Backoff {
                initial: std::time::Duration::from_millis(config.retry_initial_ms),
                max: std::time::Duration::from_millis(config.retry_max_ms),
            },
        }
    }

    pub fn apply(&self, subscription: Subscription) -> Subscription {
        subscription.with_delivery_limit(self.delivery_limit).with_backoff(self.backoff)
    }
}

impl Server {
    /// Binds `addr` (port 0 picks a free port) without serving yet.
    pub async fn bind(
        addr: SocketAddr,
        components: Vec<Arc<dyn Component>>,
        bus: Arc<dyn EventBus>,
        auth: AuthGate,
        topology: Topology,
        subscription_defaults: SubscriptionDefaults,
    ) -> std::io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        Ok(Self { listener, components, bus, auth, topology, subscription_defaults })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    pub fn port(&self) -> u16 {
        self.local_addr().port()
    }

    /// Declares queues, starts workers, serves gRPC until `shutdown`, then stops in order.
    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let subscriptions = match self.topology {
            Topology::Hosted => self.components.iter().flat_map(|c| c.subscriptions()).collect(),
            Topology::Full => wf_events::topology::all(),
        };
        for subscription in subscriptions {
            self.bus.declare(&self.subscription_defaults.apply(subscription)).await?;
        }

        let workers_stop = CancellationToken::new();
        let mut workers = tokio::task::JoinSet::new();
        for component in &self.components {
            let refusals = component.refusals();
            let stop = workers_stop.clone();
            workers.spawn(async move { refusals.run(stop).await });
        }
        for component in &self.components {
            let component = component.clone();
            let stop = workers_stop.clone();
            workers.spawn(async move {
                let name = component.name();
                if let Err(err) = component.run(stop).await {
                    tracing::error!(service = name, error = %err, "service workers stopped with an error");
                }
            });
        }

        let (health, health_service) = tonic_health::server::health_reporter();
        let mut routes = RoutesBuilder::default();
        for component in &self.components {
            component.mount(&mut Mount::new(&mut routes, self.auth.clone().with_refusals(component.refusals().sink())));
            for name in component.grpc_service_names() {
                health.set_service_status(name, tonic_health::ServingStatus::Serving).await;
            }
        }
        let hosted: Vec<&'static str> = self.components.iter().map(|c| c.name()).collect();
        // The admin API's refusals are recorded by the first hosted service.
        let admin_auth = match self.components.first() {
            Some(first) => self.auth.clone().with_refusals(first.refusals().sink()),
            None => self.auth.clone(),
        };
        Mount::new(&mut routes, admin_auth).add(wf_proto::admin::v1::admin_service_server::AdminServiceServer::new(
            AdminApi::new(self.bus.clone(), hosted.clone()),
        ));
        routes.add_service(health_service);
        // Reflection in both versions: grpcurl before 1.9, Python's grpcio-reflection and many GUI
        // clients speak only v1alpha.
        let reflection = || {
            tonic_reflection::server::Builder::configure()
                .register_encoded_file_descriptor_set(wf_proto::FILE_DESCRIPTOR_SET)
                .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        };
        routes.add_service(reflection().build_v1()?);
        routes.add_service(reflection().build_v1alpha()?);

        let addr = self.local_addr();
        tracing::info!(%addr, services = ?hosted, "serving gRPC");
        let serve_stop = shutdown.clone();
        let health_on_stop = health.clone();
        let names: Vec<&'static str> = self.components.iter().flat_map(|c| c.grpc_service_names()).collect();
        let served = tonic::transport::Server::builder()
            .trace_fn(wf_telemetry::grpc_server_span)
            .layer(MalformedRequestLayer)
            .add_routes(routes.routes())
            .serve_with_incoming_shutdown(TcpListenerStream::new(self.listener), async move {
                serve_stop.cancelled().await;
                for name in names {
                    health_on_stop.set_service_status(name, tonic_health::ServingStatus::NotServing).await;
                }
            })
            .await;
        // Consumers stop taking work and finish what they hold; then we return.
        workers_stop.cancel();
        while workers.join_next().await.is_some() {}
        tracing::info!(%addr, "stopped");
        served.map_err(anyhow::Error::from)
    }
}

/// The answer of an RPC whose behaviour a later step of the project delivers.
pub fn later_step(rpc: &str) -> ApiError {
    ApiError::Unimplemented(format!("{rpc} arrives in a later step"))
}

/// A token cancelled on SIGINT or SIGTERM.
pub fn shutdown_on_signal() -> CancellationToken {
    let token = CancellationToken::new();
    let trigger = token.clone();
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(err) => {
                    tracing::warn!(error = %err, "cannot listen for SIGTERM");
                    let _ = ctrl_c.await;
                    trigger.cancel();
                    return;
                }
            };
            tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            }
        }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
        tracing::info!("shutdown requested");
        trigger.cancel();
    });
    token
}

/// What a service is built from: its own database, the shared bus, the configuration, and the
/// one clock every handler, consumer and worker of the service reads.
#[derive(Clone)]
pub struct ServiceContext {
    pub db: wf_db::Db,
    pub bus: Arc<dyn EventBus>,
    pub config: Arc<wf_config::Config>,
    pub clock: wf_types::SharedClock,
    /// The service's one refusal recorder, made at first use ([`ServiceContext::refusals`]).
    refusals: Arc<std::sync::OnceLock<Refusals>>,
}

impl ServiceContext {
    /// A context on the wall clock.
    pub fn new(db: wf_db::Db, bus: Arc<dyn EventBus>, config: Arc<wf_config::Config>) -> Self {
        Self { db, bus, config, clock: wf_types::SystemClock::shared(), refusals: Arc::default() }
    }

    /// The same context on `clock` (tests move it to pass deadlines).
    pub fn with_clock(mut self, clock: wf_types::SharedClock) -> Self {
        self.clock = clock;
        // a recorder made before read the old clock
        self.refusals = Arc::default();
        self
    }

    /// The recorder of `service`'s refused calls, writing to this context's outbox: the same
    /// recorder on every call (the server runs the writer of the one [`Component::refusals`] returns).
    pub fn refusals(&self, service: &'static str) -> Refusals {
        self.refusals.get_or_init(|| Refusals::new(service, self.db.clone(), self.clock.clone())).clone()
    }

    /// Options for this service's outbox relay, from the configuration.
    pub fn relay_options(&self) -> wf_events::RelayOptions {
        wf_events::RelayOptions {
            poll_interval: std::time::Duration::from_millis(self.config.events.relay_poll_ms),
            ..wf_events::RelayOptions::default()
        }
    }

    /// The subscription of `service` from the shared topology, with configured delivery settings.
    pub fn subscription(&self, service: &str) -> Subscription {
        let subscription =
            wf_events::topology::subscription(service).unwrap_or_else(|| Subscription::new(service, &[]));
        SubscriptionDefaults::from_config(&self.config.events).apply(subscription)
    }

    /// Applies `migrations` when the configuration asks for it (the all-in-one does).
    pub async fn migrate_if_configured(&self, migrations: &wf_db::MigrationSet) -> anyhow::Result<()> {
        if self.config.auto_migrate {
            self.db.migrate(migrations).await?;
        }
        Ok(())
    }
}
