//! The routing service: holds the partner directory (shaped like Open Referral
//! HSDS), routes each `referral.received` to the best eligible partner service
//! under a versioned policy, stores every decision with its explanation, and
//! announces `referral.routed` (or `referral.escalated` when nobody is eligible)
//! through the outbox. Holds no personal data.

pub mod api;
mod convert;
pub mod domain;
pub mod events;
pub mod store;

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use tokio_util::sync::CancellationToken;
use tonic::service::RoutesBuilder;
use wf_auth::AuthInterceptor;
use wf_db::MigrationSet;
use wf_events::{Relay, RelayHandle, Subscription};
use wf_proto::routing::v1::routing_service_server::RoutingServiceServer;
use wf_server::{Component, ServiceContext, Workers};

pub use api::RoutingApi;
pub use domain::Directory;
pub use events::{RoutingEventHandler, SERVICE};

/// The routing service, ready to mount and run.
pub struct Routing {
    ctx: ServiceContext,
    directory: Arc<Directory>,
}

/// Migrates (when configured) and loads the directory: `config.directory_file`, else the demo.
pub async fn build(ctx: ServiceContext) -> anyhow::Result<Arc<Routing>> {
    ctx.migrate_if_configured(&migrations()).await.context("routing migrations")?;
    let directory = match &ctx.config.directory_file {
        Some(path) => load_directory(path)?,
        None => Directory::demo().context("embedded demo directory")?,
    };
    tracing::info!(
        organizations = directory.organizations.len(),
        services = directory.services().count(),
        policy_version = domain::DEMO_POLICY.version,
        "partner directory loaded"
    );
    Ok(Arc::new(Routing { ctx, directory: Arc::new(directory) }))
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
    pub fn directory(&self) -> &Arc<Directory> {
        &self.directory
    }

    /// The gRPC API (unauthenticated: [`Component::mount`] puts it behind the interceptor).
    pub fn api(&self) -> RoutingApi {
        RoutingApi::new(self.ctx.db.clone(), self.directory.clone())
    }

    /// The handler of routing's queue; `relay` is woken after each commit with outbox rows.
    pub fn event_handler(&self, relay: RelayHandle) -> Arc<RoutingEventHandler> {
        Arc::new(RoutingEventHandler::new(self.ctx.db.clone(), self.directory.clone(), relay))
    }

    /// This service's outbox relay.
    pub fn relay(&self) -> Relay {
        Relay::new(SERVICE, self.ctx.db.clone(), self.ctx.bus.clone(), self.ctx.relay_options())
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
        Workers::new(relay, self.ctx.bus.clone()).consume(self.ctx.subscription(SERVICE), handler).run(shutdown).await
    }
}
