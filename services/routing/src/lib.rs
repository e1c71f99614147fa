//! The routing service: holds the partner directory (shaped like Open Referral
//! HSDS), routes each `referral.received` to the best eligible partner service
//! under a versioned policy, stores every decision with its explanation, and
//! announces `referral.routed` (or `referral.escalated` when nobody is eligible)
//! through the outbox. Holds no personal data.

pub mod api;
mod api_directory;
mod api_escalations;
mod api_hsds;
mod api_offers;
mod api_policy;
pub mod clock;
mod convert;
pub mod directory_store;
pub mod directory_writer;
pub mod domain;
pub mod escalations;
pub mod events;
pub mod hsds;
pub mod live;
pub mod offer_store;
pub mod policy_load;
pub mod router;
pub mod simulate;
pub mod store;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio_util::sync::CancellationToken;
use tonic::service::RoutesBuilder;
use wf_auth::AuthInterceptor;
use wf_db::MigrationSet;
use wf_events::{Relay, RelayHandle, Subscription};
use wf_proto::routing::v1::routing_service_server::RoutingServiceServer;
use wf_server::{Component, ServiceContext, Workers};

pub use api::RoutingApi;
pub use clock::{Clock, ManualClock, SystemClock};
pub use domain::{Directory, Policy};
pub use events::{RoutingEventHandler, SERVICE};
pub use policy_load::LoadedPolicy;
pub use router::Router;

use directory_writer::DirectoryWriter;
use domain::directory_entry::DirectoryEntries;
use live::Live;
use policy_load::ActivePolicy;

/// The routing service, ready to mount and run.
pub struct Routing {
    ctx: ServiceContext,
    directory: Live<Directory>,
    /// The directory as managed (every field of the API records); `directory` is its projection.
    entries: Live<DirectoryEntries>,
    /// Serializes directory writes and refreshes across every writer of this instance.
    directory_lock: Arc<tokio::sync::Mutex<()>>,
    policy: ActivePolicy,
    clock: Arc<dyn Clock>,
    /// Built with the service so the API mounted before `run` wakes the relay `run` drives.
    relay: std::sync::Mutex<Option<Relay>>,
    relay_handle: RelayHandle,
}

/// How often the expiry worker looks for offers past their deadline.
pub const EXPIRY_INTERVAL: Duration = Duration::from_secs(15);

/// Migrates (when configured), loads the directory (`config.directory_file`, else the demo)
/// and the policy (`config.routing_policy_file`, else the demo), and records the policy load
/// when it differs from the last one recorded.
pub async fn build(ctx: ServiceContext) -> anyhow::Result<Arc<Routing>> {
    build_with_clock(ctx, Arc::new(SystemClock)).await
}

/// [`build`] with a given clock (tests move time by hand).
pub async fn build_with_clock(ctx: ServiceContext, clock: Arc<dyn Clock>) -> anyhow::Result<Arc<Routing>> {
    ctx.migrate_if_configured(&migrations()).await.context("routing migrations")?;
    let file_directory = match &ctx.config.directory_file {
        Some(path) => load_directory(path)?,
        None => Directory::demo().context("embedded demo directory")?,
    };
    let configured = match &ctx.config.routing_policy_file {
        Some(path) => policy_load::read_policy_file(path)?,
        None => LoadedPolicy::demo(),
    };
    let loaded = policy_load::activate_at_start(&ctx.db, &configured, clock.now())
        .await
        .context("recording the routing policy load")?;
    // The file seeds organizations and services not stored yet; stored rows win.
    directory_store::seed(&ctx.db, &DirectoryEntries::from_directory(&file_directory), wf_db::to_micros(clock.now()))
        .await
        .context("seeding the partner directory")?;
    let entries = directory_store::load(&ctx.db).await.context("loading the partner directory")?;
    let directory = entries.routing_view();
    offer_store::seed_capacity(&ctx.db, &directory, wf_db::to_micros(clock.now()))
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
        ctx,
        directory: Live::new(directory),
        entries: Live::new(entries),
        directory_lock: Arc::new(tokio::sync::Mutex::new(())),
        policy: ActivePolicy::new(loaded),
        clock,
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
        Router::new(self.ctx.db.clone(), self.directory.clone(), self.policy.policy(), self.clock.clone(), relay)
    }

    /// The directory's write side; `relay` is woken after each commit.
    pub fn directory_writer(&self, relay: RelayHandle) -> DirectoryWriter {
        DirectoryWriter::new(
            self.ctx.db.clone(),
            self.entries.clone(),
            self.directory.clone(),
            self.clock.clone(),
            relay,
            self.directory_lock.clone(),
        )
    }

    /// Reloads the directory and adopts the policy last recorded, so changes made through
    /// another instance reach this one.
    pub async fn refresh(&self) -> Result<(), wf_db::DbError> {
        self.directory_writer(self.relay_handle.clone()).refresh().await?;
        self.policy.refresh(&self.ctx.db).await
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

    /// Expires due offers (and refreshes the directory and the policy in force) every
    /// [`EXPIRY_INTERVAL`] until `shutdown`, starting with a pass at
    /// start-up so offers whose deadline passed while routing was stopped are handled first.
    pub async fn run_expiry(&self, shutdown: CancellationToken) {
        let router = self.router(self.relay_handle.clone());
        loop {
            match router.expire_due().await {
                Ok(0) => {}
                Ok(expired) => tracing::info!(expired, "expired offers re-routed"),
                Err(err) => tracing::warn!(error = %err, "offer expiry pass failed; retrying next interval"),
            }
            if let Err(err) = self.refresh().await {
                tracing::warn!(error = %err, "directory and policy refresh failed; retrying next interval");
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(EXPIRY_INTERVAL) => {}
            }
        }
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

    fn mount(&self, routes: &mut RoutesBuilder, auth: AuthInterceptor) {
        routes.add_service(RoutingServiceServer::with_interceptor(self.api(), auth));
    }

    fn subscriptions(&self) -> Vec<Subscription> {
        vec![self.ctx.subscription(SERVICE)]
    }

    async fn run(self: Arc<Self>, shutdown: CancellationToken) -> anyhow::Result<()> {
        let relay = self.relay();
        let handler = self.event_handler(relay.handle());
        // Its own token, so the worker also stops when the consumers fail.
        let stop_expiry = shutdown.child_token();
        let expiry = {
            let (routing, stop) = (self.clone(), stop_expiry.clone());
            tokio::spawn(async move { routing.run_expiry(stop).await })
        };
        let workers = Workers::new(relay, self.ctx.bus.clone())
            .consume(self.ctx.subscription(SERVICE), handler)
            .run(shutdown)
            .await;
        stop_expiry.cancel();
        expiry.await.context("offer expiry worker")?;
        workers
    }
}
