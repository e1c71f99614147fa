//! The routing service: holds the partner directory (shaped like Open Referral
//! HSDS), routes each `referral.received` to the best eligible partner service
//! under a versioned policy, stores every decision with its explanation, and
//! announces `referral.routed` (or `referral.escalated` when nobody is eligible)
//! through the outbox. Holds no personal data.
//!
//! `api/` handles the gRPC calls, `app/` holds the use cases (each owning its transaction),
//! `domain/` the pure rules (decisions, directory, policy, HSDS, simulation), `store/` every SQL
//! statement, `events/` the consumer of routing's queue and `workers/` the offer-expiry and
//! time-limit loops (a missed emergent contact or match deadline is escalated once).

pub mod api;
pub mod app;
pub mod domain;
pub mod events;
pub mod store;
pub mod workers;

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use tokio_util::sync::CancellationToken;
use wf_db::MigrationSet;
use wf_events::{Relay, RelayHandle, Subscription};
use wf_proto::routing::v1::routing_service_server::RoutingServiceServer;
use wf_server::{Component, ServiceContext, Workers};

pub use api::RoutingApi;
pub use app::directory::DirectoryWriter;
pub use app::offers::OfferError;
pub use app::policy::{LoadedPolicy, read_policy_file};
pub use app::route::Router;
pub use app::simulate::report_from_store;
pub use domain::simulate::parse_since;
pub use domain::{DEMO_POLICY_DOCUMENT, Directory, Policy};
pub use events::RoutingEventHandler;
pub use workers::offer_expiry::INTERVAL as EXPIRY_INTERVAL;

use app::live::Live;
use app::policy::ActivePolicy;
use domain::directory::DirectoryEntries;

/// The consumer (inbox) and producer name of this service.
pub const SERVICE: &str = "routing";

/// The routing service, ready to mount and run.
pub struct Routing {
    ctx: ServiceContext,
    refusals: wf_server::Refusals,
    directory: Live<Directory>,
    /// The directory as managed (every field of the API records); `directory` is its projection.
    entries: Live<DirectoryEntries>,
    /// Serializes directory writes and refreshes across every writer of this instance.
    directory_lock: Arc<tokio::sync::Mutex<()>>,
    policy: ActivePolicy,
    /// Built with the service so the API mounted before `run` wakes the relay `run` drives.
    relay: std::sync::Mutex<Option<Relay>>,
    relay_handle: RelayHandle,
}

/// Migrates (when configured), loads the directory (`config.directory_file`, else the demo)
/// and the policy (`config.routing_policy_file`, else the demo), and records the policy load
/// when it differs from the last one recorded.
/// Time is `ctx.clock` throughout (tests move it by hand).
pub async fn build(ctx: ServiceContext) -> anyhow::Result<Arc<Routing>> {
    ctx.migrate_if_configured(&migrations()).await.context("routing migrations")?;
    let file_directory = match &ctx.config.directory_file {
        Some(path) => load_directory(path)?,
        None => Directory::demo().context("embedded demo directory")?,
    };
    let configured = match &ctx.config.routing_policy_file {
        Some(path) => read_policy_file(path)?,
        None => LoadedPolicy::demo(),
    };
    let clock = ctx.clock.clone();
    let loaded = app::policy::activate_at_start(&ctx.db, &configured, clock.now())
        .await
        .context("recording the routing policy load")?;
    // The file seeds organizations and services not stored yet; stored rows win.
    store::directory::seed(&ctx.db, &DirectoryEntries::from_directory(&file_directory), clock.now_micros())
        .await
        .context("seeding the partner directory")?;
    let entries = store::directory::load(&ctx.db).await.context("loading the partner directory")?;
    let directory = entries.routing_view();
    store::capacity::seed_capacity(&ctx.db, &directory, clock.now_micros())
        .await
        .context("seeding partner capacity")?;
    tracing::info!(
        organizations = directory.organizations.len(),
        services = directory.services().count(),
        policy_version = %loaded.policy.version,
        "partner directory loaded"
    );
    let relay = Relay::new(SERVICE, ctx.db.clone(), ctx.bus.clone(), ctx.relay_options());
    let relay_handle = relay.handle();
    Ok(Arc::new(Routing {
        refusals: ctx.refusals(SERVICE),
        ctx,
        directory: Live::new(directory),
        entries: Live::new(entries),
        directory_lock: Arc::new(tokio::sync::Mutex::new(())),
        policy: ActivePolicy::new(loaded),
        relay: std::sync::Mutex::new(Some(relay)),
        relay_handle,
    }))
}

/// Reads and validates a directory file.
pub fn load_directory(path: &Path) -> anyhow::Result<Directory> {
    let document =
        std::fs::read_to_string(path).with_context(|| format!("cannot read directory file {}", path.display()))?;
    Directory::from_toml(&document).with_context(|| format!("directory file {}", path.display()))
}

/// The outbox/inbox migrations plus routing's own (versions ≥ 100).
pub fn migrations() -> MigrationSet {
    static POSTGRES: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");
    static SQLITE: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
    let (events_postgres, events_sqlite) = wf_events::migrations();
    MigrationSet::new().with(events_postgres, events_sqlite).with(&POSTGRES, &SQLITE)
}

impl Routing {
    /// The directory the decisions read now.
    pub fn directory(&self) -> Arc<Directory> {
        self.directory.current()
    }

    /// The policy in force now.
    pub fn policy(&self) -> Arc<Policy> {
        self.policy.policy().current()
    }

    /// The decision and offer writer; `relay` is woken after each commit with outbox rows.
    pub fn router(&self, relay: RelayHandle) -> Router {
        Router::new(self.ctx.db.clone(), self.directory.clone(), self.policy.policy(), self.ctx.clock.clone(), relay)
    }

    /// The directory's write side; `relay` is woken after each commit.
    pub fn directory_writer(&self, relay: RelayHandle) -> DirectoryWriter {
        DirectoryWriter::new(
            self.ctx.db.clone(),
            self.entries.clone(),
            self.directory.clone(),
            self.ctx.clock.clone(),
            relay,
            self.directory_lock.clone(),
        )
    }

    /// The gRPC API (unauthenticated: [`Component::mount`] puts it behind the interceptor).
    pub fn api(&self) -> RoutingApi {
        self.api_with(self.relay_handle.clone())
    }

    /// [`Routing::api`] waking a given relay after its writes.
    pub fn api_with(&self, relay: RelayHandle) -> RoutingApi {
        RoutingApi::new(
            self.ctx.db.clone(),
            self.router(relay.clone()),
            self.directory_writer(relay),
            self.policy.clone(),
            self.refusals.clone(),
        )
    }

    /// The handler of routing's queue; `relay` is woken after each commit with outbox rows.
    pub fn event_handler(&self, relay: RelayHandle) -> Arc<RoutingEventHandler> {
        Arc::new(RoutingEventHandler::new(self.router(relay)))
    }

    /// This service's outbox relay: the first call gets the one the API wakes; later calls a new one.
    pub fn relay(&self) -> Relay {
        self.relay
            .lock()
            .expect("relay lock")
            .take()
            .unwrap_or_else(|| Relay::new(SERVICE, self.ctx.db.clone(), self.ctx.bus.clone(), self.ctx.relay_options()))
    }

    /// The offer-expiry worker ([`workers::offer_expiry::run`]) until `shutdown`.
    pub async fn run_expiry(&self, shutdown: CancellationToken) {
        let relay = self.relay_handle.clone();
        let writer = self.directory_writer(relay.clone());
        workers::offer_expiry::run(self.router(relay), writer, self.policy.clone(), shutdown).await;
    }

    /// The time-limit worker ([`workers::time_limits::run`]) until `shutdown`.
    pub async fn run_time_limits(&self, shutdown: CancellationToken) {
        workers::time_limits::run(self.router(self.relay_handle.clone()), shutdown).await;
    }
}

#[async_trait::async_trait]
impl Component for Routing {
    fn name(&self) -> &'static str {
        SERVICE
    }

    fn grpc_service_names(&self) -> Vec<&'static str> {
        vec![wf_proto::routing::v1::routing_service_server::SERVICE_NAME]
    }

    fn mount(&self, routes: &mut wf_server::Mount<'_>) {
        routes.add(RoutingServiceServer::new(self.api()));
    }

    fn refusals(&self) -> wf_server::Refusals {
        self.refusals.clone()
    }

    fn subscriptions(&self) -> Vec<Subscription> {
        vec![self.ctx.subscription(SERVICE)]
    }

    async fn run(self: Arc<Self>, shutdown: CancellationToken) -> anyhow::Result<()> {
        let relay = self.relay();
        let handler = self.event_handler(relay.handle());
        // Their own token, so the timer workers also stop when the consumers fail.
        let stop_timers = shutdown.child_token();
        let expiry = {
            let (routing, stop) = (self.clone(), stop_timers.clone());
            tokio::spawn(async move { routing.run_expiry(stop).await })
        };
        let time_limits = {
            let (routing, stop) = (self.clone(), stop_timers.clone());
            tokio::spawn(async move { routing.run_time_limits(stop).await })
        };
        let workers = Workers::new(relay, self.ctx.bus.clone())
            .consume(self.ctx.subscription(SERVICE), handler)
            .run(shutdown)
            .await;
        stop_timers.cancel();
        expiry.await.context("offer expiry worker")?;
        time_limits.await.context("time limit worker")?;
        workers
    }
}
